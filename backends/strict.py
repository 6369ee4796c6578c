"""The array_api_strict backend: nothing but the standard, to prove no framework detail leaks in.

Everything here is the generic version that every other backend could fall back on:
Python loops, a stable argsort for top-k and a one-hot matmul for segment sums.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import array_api_strict as xp
import numpy as np

from mlprims._special import erf as portable_erf
from mlprims._special import sigmoid as portable_sigmoid

from ._common import (
    check_segment_sum,
    check_top_k,
    fori_loop_python,
    segment_sum_one_hot,
    top_k_by_sorting,
    while_loop_python,
)

__all__ = [
    "asarray",
    "blocked",
    "erf",
    "fast_scatter",
    "fori_loop",
    "fuses",
    "jit",
    "name",
    "segment_sum",
    "sigmoid",
    "stop_gradient",
    "to_numpy",
    "top_k",
    "uint32_arithmetic",
    "while_loop",
    "xp",
]

name = "array_api_strict"

# Capabilities (the Backend protocol): what primitives ask instead of the name.
fuses = False
fast_scatter = False  # its segment_sum is the generic one-hot sum
uint32_arithmetic = True
blocked = False


def asarray(obj: Any, /, dtype: Any = None, device: Any = None) -> Any:
    """``array_api_strict.asarray``; `dtype` may be a name (``"float32"``)."""
    if isinstance(dtype, str):
        dtype = getattr(xp, dtype)
    if isinstance(obj, np.ndarray) and dtype is None:
        dtype = getattr(xp, obj.dtype.name, None)  # keep NumPy's dtype (strict would guess)
    return xp.asarray(obj, dtype=dtype, device=device)


def to_numpy(x: Any, /) -> np.ndarray:
    """``np.asarray(x)``: array_api_strict supports the buffer protocol on the CPU device."""
    return np.asarray(x)


def jit(
    fn: Callable[..., Any], /, static_argnames: Sequence[str] = (), *, compile: bool = False
) -> Callable[..., Any]:
    """array_api_strict runs eagerly: nothing to compile."""
    return fn


fori_loop = fori_loop_python
while_loop = while_loop_python


def top_k(x: Any, k: int, /) -> tuple[Any, Any]:
    """The k largest values along the last axis (stable descending argsort: lower index first)."""
    k = check_top_k(x, k)
    return top_k_by_sorting(x, k, xp=xp)


def segment_sum(data: Any, segment_ids: Any, num_segments: int, /) -> Any:
    """Segment sum as a one-hot matmul (O(num_segments * N) work; ids out of range are dropped).

    A non-finite value in `data` turns other segments' sums into NaN here (0 * inf).
    """
    num_segments = check_segment_sum(data, segment_ids, num_segments)
    return segment_sum_one_hot(data, segment_ids, num_segments, xp=xp)


def stop_gradient(x: Any, /) -> Any:
    """`x` itself: array_api_strict has no autodiff."""
    return x


def erf(x: Any, /) -> Any:
    """mlprims' portable erf (Cody's rational approximations): the standard has no erf."""
    return portable_erf(x)


def sigmoid(x: Any, /) -> Any:
    """The logistic function as ``0.5 * tanh(0.5 * x) + 0.5``: the standard has none."""
    return portable_sigmoid(x)
