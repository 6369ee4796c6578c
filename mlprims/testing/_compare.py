"""The one comparison of results with references: for the tests, ``mlprims check`` and ``grade``.

A result is close to its reference when, element by element,

    |actual - expected| <= rtol * |expected| + atol * (1 + max|expected|)

with (rtol, atol) from :data:`TOLERANCES` for the dtype the result was computed in, times a
`scale`. The rtol term is NumPy's and ``torch.testing``'s relative tolerance; the atol term is
relative to the output's magnitude, because the rounding error of a sum, a matmul or a
normalisation is that of its largest terms, not of the element it lands in (a convolution
output near 0 is a difference of large products). NaN equals NaN and an infinity equals the
same infinity; integer and boolean references must match exactly.

:func:`compare` returns a :class:`Comparison` (the verdict ``check`` and ``grade`` report);
:func:`assert_close` raises its message (the tests). :func:`to_numpy` turns any result, a
pytree of arrays of any backend, into NumPy.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "FLOAT_DTYPES",
    "TOLERANCES",
    "Comparison",
    "assert_close",
    "compare",
    "leaves",
    "to_numpy",
    "tolerance",
]

FLOAT_DTYPES = ("float32", "float64")

#: (rtol, atol) per dtype for results of a few dozen flops per element.
TOLERANCES = {
    "float16": (2e-3, 2e-3),
    "bfloat16": (1.6e-2, 1.6e-2),
    "float32": (2e-5, 2e-6),
    "float64": (1e-10, 1e-12),
}


def tolerance(dtype: Any, *, scale: float = 1.0) -> dict[str, float]:
    """``rtol``/``atol`` for results computed in `dtype`, times `scale` (both 0 when `dtype`
    is not floating: such results must be exact)."""
    name = dtype if isinstance(dtype, str) else np.dtype(dtype).name
    rtol, atol = TOLERANCES.get(name, (0.0, 0.0))
    return {"rtol": rtol * scale, "atol": atol * scale}


def to_numpy(tree: Any) -> Any:
    """NumPy copies of the arrays of any backend in `tree` (tuples, NamedTuples, lists, dicts).

    The structure is kept (a NamedTuple stays one, e.g. a ``KMeansResult``); Python numbers,
    strings and None stay as they are.
    """
    if isinstance(tree, tuple) and hasattr(tree, "_fields"):
        return type(tree)(*(to_numpy(t) for t in tree))
    if isinstance(tree, (tuple, list)):
        return type(tree)(to_numpy(t) for t in tree)
    if isinstance(tree, Mapping):
        return {k: to_numpy(v) for k, v in tree.items()}
    if tree is None or isinstance(tree, (str, bool, int, float, complex)):
        return tree
    if isinstance(tree, (np.ndarray, np.generic)):
        return np.array(tree)
    from .. import backends  # the backends import the primitives' layer: not at import time

    return np.asarray(backends.of(tree).to_numpy(tree))


def leaves(tree: Any) -> list[Any]:
    """The arrays of `tree` in order (a mapping's in the order of its sorted keys)."""
    if isinstance(tree, (tuple, list)):
        return [leaf for t in tree for leaf in leaves(t)]
    if isinstance(tree, Mapping):
        return [leaf for k in sorted(tree) for leaf in leaves(tree[k])]
    return [tree]


@dataclass(frozen=True)
class Comparison:
    """The verdict of :func:`compare`.

    Attributes
    ----------
    passed : bool
    ratio : float
        The largest ``|actual - expected| / allowed`` over the elements: at most 1 passes; 0
        when equal; inf for a NaN, an infinity, a shape or an exact value that differs.
    error : float
        ``|actual - expected|`` where the ratio is largest (inf where it is inf).
    allowed : float
        The tolerance there.
    message : str
        What differs, in one line (``""`` when it passed).
    """

    passed: bool
    ratio: float
    error: float
    allowed: float
    message: str = ""


_EQUAL = Comparison(True, 0.0, 0.0, 0.0)


def compare(
    actual: Any,
    expected: Any,
    dtype: Any = None,
    *,
    scale: float = 1.0,
    rtol: float | None = None,
    atol: float | None = None,
) -> Comparison:
    """Compare `actual` with `expected`, arrays or pytrees of arrays, by the rule above.

    Parameters
    ----------
    actual, expected : array or pytree of arrays
        Of any backend; the same structure, and the same shapes leaf by leaf.
    dtype : dtype or str, optional
        What `actual` was computed in; it chooses the tolerance (default: `actual`'s dtype, leaf
        by leaf). Integer and boolean references are compared exactly whatever `dtype` says.
    scale : float
        Multiplies both tolerances.
    rtol, atol : float, optional
        Replace the tolerances of `dtype` (and `scale`).

    Returns
    -------
    Comparison
        Of the leaf that is furthest off; its message names the leaf when there are several.
    """
    if isinstance(actual, (tuple, list, Mapping)):
        got, want = leaves(to_numpy(actual)), leaves(to_numpy(expected))
    else:  # one array: `expected` may be a nested list of numbers
        got, want = [to_numpy(actual)], [to_numpy(expected)]
    got, want = [np.asarray(x) for x in got], [np.asarray(x) for x in want]
    if len(got) != len(want):
        return _differ(f"{len(got)} outputs, expected {len(want)}")
    worst = _EQUAL
    for i, (a, e) in enumerate(zip(got, want, strict=True)):
        options = tolerance(dtype if dtype is not None else a.dtype, scale=scale)
        options.update({k: v for k, v in (("rtol", rtol), ("atol", atol)) if v is not None})
        one = _compare_array(a, e, **options)
        if one.ratio > worst.ratio:
            label = f"output {i}: " if len(want) > 1 else ""
            worst = Comparison(one.passed, one.ratio, one.error, one.allowed, label + one.message)
    return worst


def _differ(message: str) -> Comparison:
    return Comparison(False, math.inf, math.inf, 0.0, message)


def _compare_array(a: np.ndarray, e: np.ndarray, *, rtol: float, atol: float) -> Comparison:
    if a.shape != e.shape:
        return _differ(f"shape {a.shape}, expected {e.shape}")
    if e.size == 0:
        return _EQUAL
    if e.dtype.kind in "biu":
        if np.array_equal(a, e):
            return _EQUAL
        return _differ(f"values differ from the reference in {_count(a != e, e.size)}")
    a64, e64 = a.astype(np.float64), e.astype(np.float64)
    nan = np.isnan(a64) & ~np.isnan(e64)
    if np.any(nan):
        return _differ(f"NaN where the reference is finite in {_count(nan, e.size)}")
    same = (a64 == e64) | (np.isnan(a64) & np.isnan(e64))
    if np.any(~same & ~np.isfinite(e64)) or np.any(~same & ~np.isfinite(a64)):
        return _differ("an infinity or NaN where the reference has another value")
    finite = e64[np.isfinite(e64)]
    magnitude = float(np.max(np.abs(finite))) if finite.size else 0.0
    with np.errstate(invalid="ignore"):  # inf - inf where both are the same infinity
        diff = np.where(same, 0.0, np.abs(a64 - e64))
    allowed = rtol * np.where(same, 0.0, np.abs(e64)) + atol * (1.0 + magnitude)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.where(diff == 0.0, 0.0, diff / allowed)
    where = np.unravel_index(int(np.argmax(ratios)), ratios.shape)
    ratio, error, limit = float(ratios[where]), float(diff[where]), float(allowed[where])
    if ratio <= 1.0:
        return Comparison(True, ratio, error, limit)
    at = f" at index {tuple(int(i) for i in where)}" if e.ndim else ""
    values = f": got {float(a[where]):.7g}, expected {float(e[where]):.7g}"
    message = f"max error {error:.3g} > tolerance {limit:.2g}{at}{values}"
    return Comparison(False, ratio, error, limit, message)


def _count(mismatched: np.ndarray, size: int) -> str:
    return f"{int(np.count_nonzero(mismatched))} of {size} elements"


def assert_close(
    actual: Any, expected: Any, dtype: Any = None, *, scale: float = 1.0, **tolerances: float
) -> None:
    """Assert that :func:`compare` passes: shapes equal, values within the tolerance of `dtype`.

    `dtype` defaults to the dtype of `actual`; ``rtol=``/``atol=`` replace its tolerances.

    Raises
    ------
    AssertionError
        With the comparison's message (the largest error, the tolerance and where).
    """
    verdict = compare(actual, expected, dtype, scale=scale, **tolerances)
    if not verdict.passed:
        raise AssertionError(verdict.message)
