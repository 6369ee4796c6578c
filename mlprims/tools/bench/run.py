"""What ``mlprims bench`` times, and the timing of each (case, backend, mode) as one row.

:func:`plan` turns the options into runs: each case on each chosen backend that has a native op
for it, in each chosen mode. "eager" calls both sides as they are; "compiled" wraps both in the
backend's compiler (``backend.jit(fn, compile=True)``: ``jax.jit`` on JAX, ``torch.compile`` on
torch, only with ``torch_compile`` since each compilation takes seconds to a minute). NumPy has
no compiler: it runs eager only. :func:`run` times each run with :func:`.timing.time_pair`.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ... import backends
from ...testing import Case
from .._options import choose
from .cases import by_name, size
from .natives import NATIVES, Native
from .timing import Timing, time_pair

__all__ = ["MODES", "NOT_RUN", "Plan", "Row", "installed", "pair", "plan", "rows_as_dicts", "run"]

MODES = ("eager", "compiled")
#: How the error of a row that was not run (a module missing) starts: not a failure.
NOT_RUN = "not run: "


def installed() -> list[str]:
    """The installed backends that have native ops to compare with (numpy, torch, jax)."""
    return [name for name in backends.available() if name in NATIVES]


@dataclass(frozen=True)
class Plan:
    """One pair to time: a case on a backend in a mode, against the backend's native op."""

    case: Case
    backend: str
    mode: str
    native: Native

    def missing(self) -> list[str]:
        """The modules the native op needs that are not installed."""
        return [name for name in self.native.needs if importlib.util.find_spec(name) is None]


@dataclass(frozen=True)
class Row:
    """The timings of one pair; `error` says why there are none (a module missing, a crash)."""

    case: str
    backend: str
    mode: str
    native_op: str
    size: str
    ours: Timing | None = None
    native: Timing | None = None
    error: str = ""

    @property
    def ratio(self) -> float | None:
        """ours / native of the medians: below 1, ours is faster."""
        if self.ours is None or self.native is None:
            return None
        return self.ours.median / self.native.median


def _compiles(backend: str, torch_compile: bool) -> bool:
    return backend == "jax" or (backend == "torch" and torch_compile)


def plan(
    backend_names: Sequence[str] | None = None,
    primitives: Sequence[str] | None = None,
    modes: Sequence[str] | None = None,
    *,
    torch_compile: bool = False,
    quick: bool = False,
) -> list[Plan]:
    """The pairs selected by the three filters (None: all), in table order, at the default
    size of the cases (or the ``--quick`` one).

    Raises
    ------
    ValueError
        If a filter is empty or names something unknown (the message lists the choices), or
        if the filters together select nothing.
    """
    chosen = choose("--backends", backend_names, installed())
    sized = by_name(quick=quick)
    cases = choose("--primitives", primitives, list(sized))
    wanted_modes = choose("--modes", modes, MODES)
    runs = [
        Plan(sized[name], backend, mode, NATIVES[backend][name])
        for name in cases
        for backend in chosen
        if name in NATIVES[backend]
        for mode in wanted_modes
        if mode == "eager" or _compiles(backend, torch_compile)
    ]
    if not runs:
        msg = (
            f"nothing to time: no native op for {', '.join(cases)} on {', '.join(chosen)} in "
            f"the mode {', '.join(wanted_modes)} (numpy has no compiled mode; torch's needs "
            "--torch-compile)"
        )
        raise ValueError(msg)
    return runs


def pair(one: Plan) -> tuple[Callable[[], Any], Callable[[], Any]]:
    """Our side and the native side as functions of no argument, inputs built and bound."""
    backend = backends.get(one.backend)
    arrays = {k: backend.asarray(v) for k, v in one.case.inputs().items()}
    native_arrays = one.native.prepare(arrays) if one.native.prepare else arrays
    ours, native = one.case.run, one.native.make()
    if one.mode == "compiled":
        ours, native = backend.jit(ours, compile=True), backend.jit(native, compile=True)
    return (lambda: ours(**arrays)), (lambda: native(**native_arrays))


def run(
    plans: Sequence[Plan],
    *,
    repeat: int = 7,
    min_block: float = 0.05,
    progress: Callable[[str], None] | None = None,
) -> list[Row]:
    """Time each pair of `plans`; `progress` is told what runs next, before each pair.

    Parameters
    ----------
    plans : sequence of Plan
        From :func:`plan` (which chose the size of the inputs).
    repeat, min_block
        Rounds per pair, and seconds per timed block at least (see :func:`.timing.time_pair`).
    progress : callable, optional
        ``progress(text)``, e.g. a step of :func:`mlprims.tools._report.progress`.

    Returns
    -------
    list of Row
        One per plan; a pair that raised has no timings and the error instead.
    """
    rows = []
    for one in plans:
        label = f"{one.case.name} on {one.backend} {one.mode}"
        if progress is not None:
            progress(label)
        shapes = size(one.case.inputs())
        row = Row(one.case.name, one.backend, one.mode, one.native.name, shapes)
        missing = one.missing()
        if missing:
            rows.append(_replace_error(row, f"{NOT_RUN}needs {', '.join(missing)}"))
            continue
        try:
            ours, native = pair(one)
            timings = time_pair(ours, native, repeat=repeat, min_block=min_block)
        except Exception as exc:  # one crash must not lose the other rows
            rows.append(_replace_error(row, f"{type(exc).__name__}: {exc}".splitlines()[0]))
            continue
        rows.append(Row(*_fields(row), ours=timings[0], native=timings[1]))
    return rows


def _fields(row: Row) -> tuple[str, str, str, str, str]:
    return row.case, row.backend, row.mode, row.native_op, row.size


def _replace_error(row: Row, error: str) -> Row:
    return Row(*_fields(row), error=error)


def rows_as_dicts(rows: Sequence[Row]) -> list[dict[str, Any]]:
    """The rows for JSON: seconds per call (median, best, first call) and the ratio.

    Each dict holds ``case``, ``backend``, ``mode``, ``native_op``, ``size``, ``ours`` and
    ``native`` (median seconds per call), ``ratio`` (ours / native), ``ours_best``,
    ``native_best``, ``ours_first``, ``native_first`` and ``error`` (``""`` when it ran); the
    numbers are None for a row that did not run.
    """

    def seconds(timing: Timing | None, field: str) -> float | None:
        value = None if timing is None else getattr(timing, field)
        return value if value is not None and math.isfinite(value) else None

    return [
        {
            "case": r.case,
            "backend": r.backend,
            "mode": r.mode,
            "native_op": r.native_op,
            "size": r.size,
            "ours": seconds(r.ours, "median"),
            "native": seconds(r.native, "median"),
            "ratio": r.ratio,
            "ours_best": seconds(r.ours, "best"),
            "native_best": seconds(r.native, "best"),
            "ours_first": seconds(r.ours, "first"),
            "native_first": seconds(r.native, "first"),
            "error": r.error,
        }
        for r in rows
    ]
