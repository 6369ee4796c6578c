"""``mlprims check``: run every check case on every installed backend.

Each case of :data:`mlprims.tools.cases.CASES` is run in each of its dtypes on each target (the
installed backends, and JAX once more under ``jax.jit`` as ``jax_jit``), compared with its
float64 NumPy reference by :func:`mlprims.testing.compare` (the tests' comparison), and
reported as one :class:`Row`. `report` pivots the rows into a table people read: one line per
primitive and dtype, one column per target, each cell the error as a fraction of the tolerance.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from .. import backends
from ..testing import Case, compare, leaves, to_numpy
from ._options import choose
from ._report import Cell
from .cases import CASES

__all__ = ["Row", "dtypes_of", "family", "plan", "report", "rows_as_dicts", "run_checks", "targets"]

JIT_SUFFIX = "_jit"
# The spelling of the tests' MLPRIMS_BACKENDS (numpy, array_api_strict, torch, jax, jax_jit).
JIT_TARGET = "jax" + JIT_SUFFIX
# A cell between this fraction of its tolerance and 1 is shown as close to failing.
WARN_RATIO = 0.5


@dataclass(frozen=True)
class Row:
    """One case on one target in one dtype: its verdict and where it was furthest off.

    `ratio` is the largest error / tolerance over the elements (at most 1 passes, inf for a
    crash or an exact output that differs); `max_error` and `tolerance` are those of that
    element; `error` says what went wrong (empty when it passed).
    """

    backend: str
    primitive: str
    dtype: str
    max_error: float
    tolerance: float
    passed: bool
    error: str = ""
    ratio: float = 0.0


def targets() -> list[str]:
    """What `check` can run on: the installed backends, and ``jax_jit`` right after ``jax``."""
    names: list[str] = []
    for name in backends.available():
        names += [name, JIT_TARGET] if name == "jax" else [name]
    return names


@contextlib.contextmanager
def _precision(backend: str, dtype: str) -> Iterator[None]:
    """JAX computes in 32 bits unless ``jax_enable_x64`` is on: turn it on for float64 cases."""
    if backend == "jax" and dtype == "float64":
        import jax

        with jax.enable_x64(True):
            yield
    else:
        yield


def _floating(inputs: Mapping[str, np.ndarray]) -> bool:
    return any(np.issubdtype(v.dtype, np.floating) for v in inputs.values())


def dtypes_of(case: Case, *, seed: int = 0) -> tuple[str, ...]:
    """The dtypes `case` runs in, as the table labels them.

    A case runs in each of its ``dtypes``, unless neither its inputs nor its outputs hold a
    floating array (random bits, keys, permutations): then there is nothing to cast, it runs
    once, labelled by the dtype its reference returns (``uint32`` for bits), or ``exact`` if
    its outputs differ in dtype.
    """
    inputs = case.inputs(seed)
    if _floating(inputs):
        return case.dtypes
    outputs = {np.asarray(leaf).dtype for leaf in leaves(_reference(case)(**inputs))}
    if any(np.issubdtype(d, np.inexact) for d in outputs):
        return case.dtypes  # e.g. uniform floats drawn from a key
    return (outputs.pop().name,) if len(outputs) == 1 else ("exact",)


def run_case(case: Case, target: str, dtype: str, *, seed: int = 0) -> Row:
    """Run one case on one target in one dtype and compare it with the float64 reference.

    `dtype` is what floating inputs are cast to; a case without floating inputs takes the label
    from :func:`dtypes_of` here and casts nothing.
    """
    name = target.removesuffix(JIT_SUFFIX)
    cast = {
        k: v.astype(dtype) if np.issubdtype(v.dtype, np.floating) else v
        for k, v in case.inputs(seed).items()
    }
    exact = {
        k: v.astype(np.float64) if np.issubdtype(v.dtype, np.floating) else v
        for k, v in cast.items()
    }
    expected = _reference(case)(**exact)
    try:
        backend = backends.get(name)
        with _precision(name, dtype):
            arrays = {k: backend.asarray(v) for k, v in cast.items()}
            run = backend.jit(case.run) if target.endswith(JIT_SUFFIX) else case.run
            actual = to_numpy(run(**arrays))
    except Exception as exc:
        crash = f"{type(exc).__name__}: {exc}"
        return Row(target, case.name, dtype, math.inf, 0.0, False, crash, math.inf)
    # `dtype` chooses the tolerance: a label that is not floating (uint32, exact) is exact
    verdict = compare(actual, expected, dtype, scale=case.scale)
    return Row(
        target,
        case.name,
        dtype,
        verdict.error,
        verdict.allowed,
        verdict.passed,
        verdict.message,
        verdict.ratio,
    )


def _reference(case: Case) -> Callable[..., Any]:
    if case.reference is None:
        msg = f"the check case {case.name!r} has no reference to compare with"
        raise ValueError(msg)
    return case.reference


def family(case_name: str) -> str:
    """What ``--primitives`` may also name: ``gelu`` selects ``gelu`` and ``gelu(tanh)``."""
    return case_name.split("(")[0]


def _groups(case_name: str) -> set[str]:
    """Every name selecting a case: itself, its family, its module (``random``) if dotted."""
    return {case_name, family(case_name), case_name.split(".")[0]}


def plan(
    backend_names: Sequence[str] | None = None,
    primitives: Sequence[str] | None = None,
    dtypes: Sequence[str] | None = None,
) -> list[tuple[Case, str, str]]:
    """The (case, target, dtype) runs selected by the three filters (None: no filter).

    Raises
    ------
    ValueError
        If a filter is empty or names something unknown (the message lists the choices), or
        if the filters together select nothing.
    """
    chosen_targets = choose("--backends", backend_names, targets())
    registered = {case.name: case for case in CASES}
    families = list(dict.fromkeys(family(n) for n in registered))
    groups = sorted(set().union(*map(_groups, registered)))
    wanted = set(choose("--primitives", primitives, families, also=groups))
    selected = [c for n, c in registered.items() if _groups(n) & wanted]
    labels = {case.name: dtypes_of(case) for case in registered.values()}
    every_dtype = list(dict.fromkeys(d for ds in labels.values() for d in ds))
    wanted_dtypes = set(choose("--dtypes", dtypes, every_dtype))
    runs = [
        (case, target, dtype)
        for case in selected
        for dtype in labels[case.name]
        if dtype in wanted_dtypes
        for target in chosen_targets
        if case.jit or not target.endswith(JIT_SUFFIX)
    ]
    if not runs:
        msg = "no check case runs in the dtypes chosen for the primitives chosen"
        raise ValueError(msg)
    return runs


def run_checks(
    backend_names: Sequence[str] | None = None,
    primitives: Sequence[str] | None = None,
    dtypes: Sequence[str] | None = None,
    *,
    progress: Callable[[str], None] | None = None,
) -> list[Row]:
    """Run what :func:`plan` selects; `progress` is told what runs next, before each run."""
    rows = []
    for case, target, dtype in plan(backend_names, primitives, dtypes):
        if progress is not None:
            progress(f"{case.name} {dtype} on {target}")
        rows.append(run_case(case, target, dtype))
    return rows


def _ratio_text(ratio: float) -> str:
    if ratio == 0.0:
        return "0"
    if ratio < 0.01:
        return "<0.01"
    return f"{ratio:.2f}" if ratio < 10 else f"{ratio:.3g}"


def _cell(row: Row | None) -> Cell:
    if row is None:
        return Cell("-", "muted")
    if not row.passed:
        finite = math.isfinite(row.ratio)
        return Cell(f"FAIL {_ratio_text(row.ratio)}" if finite else "FAIL", "fail")
    return Cell(_ratio_text(row.ratio), "warn" if row.ratio > WARN_RATIO else "ok")


def _failure(row: Row) -> str:
    where = f"{row.primitive} {row.dtype} on {row.backend}"
    if math.isfinite(row.ratio):
        return f"  {where}: {row.error} ({_ratio_text(row.ratio)} x)"
    return f"  {where}: {row.error}"


def report(
    rows: Sequence[Row], *, failed_only: bool = False
) -> tuple[list[str], list[list[str | Cell]], list[str]]:
    """The pivot table of `rows`: columns, one row per primitive and dtype, failure notes.

    Columns are ``primitive``, ``dtype`` and the targets in `rows` (in :func:`targets` order);
    a cell is the row's error/tolerance, ``FAIL`` beyond 1, ``-`` where the case did not run.
    With `failed_only`, only the lines with a failure are kept.
    """
    order = {t: i for i, t in enumerate(targets())}
    columns = sorted({r.backend for r in rows}, key=lambda t: order.get(t, len(order)))
    grid: dict[tuple[str, str], dict[str, Row]] = {}
    for r in rows:
        grid.setdefault((r.primitive, r.dtype), {})[r.backend] = r
    table: list[list[str | Cell]] = [
        [primitive, dtype, *(_cell(by_target.get(t)) for t in columns)]
        for (primitive, dtype), by_target in grid.items()
        if not failed_only or not all(r.passed for r in by_target.values())
    ]
    failures = [_failure(r) for r in rows if not r.passed]
    notes = ["failures:", *failures] if failures else []
    return ["primitive", "dtype", *columns], table, notes


def rows_as_dicts(rows: Sequence[Row]) -> list[dict[str, Any]]:
    """The rows for JSON: strict (an infinite error or ratio, as from a crash, becomes None)."""

    def finite(x: float) -> float | None:
        return x if math.isfinite(x) else None

    return [
        {
            **asdict(r),
            "max_error": finite(r.max_error),
            "tolerance": finite(r.tolerance),
            "ratio": finite(r.ratio),
        }
        for r in rows
    ]
