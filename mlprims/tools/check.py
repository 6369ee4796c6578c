"""``mlprims check``: run every registered primitive on every installed backend.

Each case is run in each of its dtypes on each backend (and on JAX once more under
``jax.jit``), compared with its float64 NumPy reference, and reported as one row:
backend, primitive, dtype, max absolute error, tolerance, pass.
"""

from __future__ import annotations

import contextlib
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from .. import backends
from .registry import Case, cases

__all__ = ["Row", "run_checks", "targets"]

JIT_SUFFIX = "-jit"


@dataclass(frozen=True)
class Row:
    backend: str
    primitive: str
    dtype: str
    max_error: float
    tolerance: float
    passed: bool
    error: str = ""


def targets() -> list[str]:
    """What `check` can run on: the installed backends, plus ``jax-jit`` when JAX is installed."""
    names = backends.available()
    return [*names, "jax" + JIT_SUFFIX] if "jax" in names else names


@contextlib.contextmanager
def _precision(backend: str, dtype: str) -> Iterator[None]:
    """JAX computes in 32 bits unless ``jax_enable_x64`` is on: turn it on for float64 cases."""
    if backend == "jax" and dtype == "float64":
        import jax

        with jax.enable_x64(True):
            yield
    else:
        yield


def _to_numpy(backend: Any, tree: Any) -> Any:
    if isinstance(tree, (tuple, list)):
        return (
            type(tree)(_to_numpy(backend, t) for t in tree)
            if not hasattr(tree, "_fields")
            else [_to_numpy(backend, t) for t in tree]
        )
    if isinstance(tree, dict):
        return {k: _to_numpy(backend, v) for k, v in tree.items()}
    return backend.to_numpy(tree)


def _leaves(tree: Any) -> list[Any]:
    if isinstance(tree, (tuple, list)):
        return [leaf for t in tree for leaf in _leaves(t)]
    if isinstance(tree, dict):
        return [leaf for k in sorted(tree) for leaf in _leaves(tree[k])]
    return [tree]


def _compare(actual: Any, expected: Any, atol: float) -> tuple[float, float, str]:
    """Max absolute error over all outputs, the tolerance, and a problem description if any."""
    got, want = _leaves(actual), _leaves(expected)
    if len(got) != len(want):
        return float("inf"), 0.0, f"{len(got)} outputs, expected {len(want)}"
    error, scale = 0.0, 0.0
    for a, e in zip(got, want, strict=True):
        a, e = np.asarray(a), np.asarray(e)
        if a.shape != e.shape:
            return float("inf"), 0.0, f"shape {a.shape}, expected {e.shape}"
        if a.size == 0:
            continue
        if not np.issubdtype(e.dtype, np.inexact):  # indices, bits: must be exact
            error = max(error, float(np.max(a != e)) * float("inf") if np.any(a != e) else 0.0)
            continue
        a64, e64 = a.astype(np.float64), e.astype(np.float64)
        both_nan = np.isnan(a64) & np.isnan(e64)
        same_inf = np.isinf(e64) & (a64 == e64)
        diff = np.where(both_nan | same_inf, 0.0, np.abs(a64 - e64))
        error = max(error, float(np.nan_to_num(np.max(diff), nan=np.inf)))
        finite = e64[np.isfinite(e64)]
        scale = max(scale, float(np.max(np.abs(finite))) if finite.size else 0.0)
    return error, atol * (1.0 + scale), ""


def run_case(case: Case, target: str, dtype: str, *, seed: int = 0) -> Row:
    """Run one case on one backend in one dtype and compare it with the float64 reference."""
    name = target.removesuffix(JIT_SUFFIX)
    rng = np.random.default_rng([seed, zlib.crc32(case.name.encode())])
    inputs = dict(case.make_inputs(rng))
    cast = {
        k: v.astype(dtype) if np.issubdtype(v.dtype, np.floating) else v for k, v in inputs.items()
    }
    exact = {
        k: v.astype(np.float64) if np.issubdtype(v.dtype, np.floating) else v
        for k, v in cast.items()
    }
    expected = case.reference(**exact)
    try:
        backend = backends.get(name)
        with _precision(name, dtype):
            arrays = {k: backend.asarray(v) for k, v in cast.items()}
            run = backend.jit(case.run) if target.endswith(JIT_SUFFIX) else case.run
            actual = _to_numpy(backend, run(**arrays))
    except Exception as exc:
        return Row(
            target, case.name, dtype, float("inf"), 0.0, False, f"{type(exc).__name__}: {exc}"
        )
    error, tolerance, problem = _compare(actual, expected, case.atol[dtype])
    return Row(
        target, case.name, dtype, error, tolerance, not problem and error <= tolerance, problem
    )


def run_checks(
    backend_names: Sequence[str] | None = None, primitives: Sequence[str] | None = None
) -> list[Row]:
    """Every selected case on every selected backend; `primitives` match case names or prefixes."""
    chosen = list(targets() if backend_names is None else backend_names)
    unknown = sorted(set(chosen) - set(targets()))
    if unknown:
        msg = (
            f"backends not available here: {', '.join(unknown)}; available: {', '.join(targets())}"
        )
        raise ValueError(msg)
    registered = cases()
    if primitives is not None:
        wanted = set(primitives)
        registered = {
            n: c for n, c in registered.items() if n in wanted or n.split("(")[0] in wanted
        }
        if not registered:
            msg = f"no check case matches {', '.join(sorted(wanted))}"
            raise ValueError(msg)
    rows: list[Row] = []
    for case in registered.values():
        for target in chosen:
            if target.endswith(JIT_SUFFIX) and not case.jit:
                continue
            rows.extend(run_case(case, target, dtype) for dtype in case.dtypes)
    return rows


def rows_as_dicts(rows: Sequence[Row]) -> list[dict[str, Any]]:
    return [asdict(r) for r in rows]
