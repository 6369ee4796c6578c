"""Pieces the backend modules share: argument checks, Python loops, the exact top-k tie rule."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

__all__ = [
    "check_segment_sum",
    "check_top_k",
    "fori_loop_python",
    "one_zero",
    "segment_sum_one_hot",
    "top_k_by_sorting",
    "top_k_from_threshold",
    "while_loop_python",
]

Array = Any


def fori_loop_python(lower: int, upper: int, body: Callable[[Any, Any], Any], init: Any) -> Any:
    """``fori_loop`` as a Python loop: ``for i in range(lower, upper): val = body(i, val)``."""
    value = init
    for i in range(lower, upper):
        value = body(i, value)
    return value


def while_loop_python(cond: Callable[[Any], Any], body: Callable[[Any], Any], init: Any) -> Any:
    """``while_loop`` as a plain Python loop: ``while cond(val): val = body(val)``."""
    value = init
    while bool(cond(value)):
        value = body(value)
    return value


def _index(value: Any, name: str) -> int:
    """`value` as a Python int (``operator.index``: NumPy integers too; not a bool)."""
    if not isinstance(value, bool):
        try:
            return operator.index(value)
        except TypeError:
            pass
    msg = f"`{name}` must be an int, got {type(value).__name__}"
    raise TypeError(msg)


def check_top_k(x: Array, k: int) -> int:
    """Validate the arguments of ``top_k`` (shapes and static values only); `k` as an int."""
    k = _index(k, "k")
    if x.ndim == 0:
        msg = "`x` must have at least one axis for top_k, got a 0-d array"
        raise ValueError(msg)
    n = x.shape[-1]
    if not 1 <= k <= n:
        msg = f"`k` must be in [1, {n}] (the length of the last axis of `x`), got {k}"
        raise ValueError(msg)
    return k


def check_segment_sum(data: Array, segment_ids: Array, num_segments: int) -> int:
    """Validate the arguments of ``segment_sum`` (shapes and static values only);
    `num_segments` as an int."""
    num_segments = _index(num_segments, "num_segments")
    if num_segments < 0:
        msg = f"`num_segments` must be >= 0, got {num_segments}"
        raise ValueError(msg)
    if data.ndim < 1 or segment_ids.ndim != 1 or segment_ids.shape[0] != data.shape[0]:
        msg = (
            "`segment_ids` must be 1-d with one id per row of `data`; got segment_ids of shape "
            f"{tuple(segment_ids.shape)} for data of shape {tuple(data.shape)}"
        )
        raise ValueError(msg)
    return num_segments


def one_zero(x: Array, *, xp: Any) -> Array:
    """`x` with every -0.0 made 0.0, the key top-k ranks by: -0.0 and 0.0 are one value.

    Comparisons already say ``-0.0 == 0.0``, but a sort by bit pattern (``jax.lax.top_k``'s
    total order, radix sorts on GPUs) puts -0.0 below 0.0, which changes the tie order.
    ``x + 0.0`` would do the same eagerly, but XLA folds it away under ``jax.jit``.
    """
    return xp.where(x == 0, xp.zeros_like(x), x)


def top_k_by_sorting(x: Array, k: int, *, xp: Any) -> tuple[Array, Array]:
    """The generic top-k: a stable descending argsort keeps the lower index first among ties."""
    indices = xp.argsort(one_zero(x, xp=xp), axis=-1, descending=True, stable=True)[..., :k]
    return xp.take_along_axis(x, indices, axis=-1), indices


def top_k_from_threshold(x: Array, kth: Array, k: int, *, xp: Any) -> tuple[Array, Array]:
    """Exact top-k of an eager array, given `kth`, the k-th largest value of each row (..., 1).

    A framework's fast selection (``torch.topk``, ``np.partition``) finds `kth` quickly, but
    which of several *equal* values it returns is unspecified (``torch.topk`` picks them
    arbitrarily). So we take every element above the threshold, then the lowest-index elements
    equal to it, and sort those k: ties are broken the same way on every backend. NaN ranks
    above every number, as in ``torch.topk`` and ``jax.lax.top_k``.
    """
    is_nan = x != x
    kth_is_nan = kth != kth  # then the k largest are all NaN: take the first k NaNs
    above = xp.where(kth_is_nan, False, is_nan | (x > kth))
    tied = xp.where(kth_is_nan, is_nan, x == kth)
    still_needed = k - xp.sum(xp.astype(above, xp.int64), axis=-1, keepdims=True)
    tie_rank = xp.cumulative_sum(xp.astype(tied, xp.int64), axis=-1)  # 1, 2, ... along a row
    chosen = above | (tied & (tie_rank <= still_needed))  # exactly k per row
    # Row-major nonzero lists each row's chosen columns in increasing order.
    indices = xp.reshape(xp.nonzero(chosen)[-1], (*x.shape[:-1], k))
    values = xp.take_along_axis(x, indices, axis=-1)
    # NaN sorts first in a descending sort; the stable sort keeps lower indices first.
    order = xp.argsort(one_zero(values, xp=xp), axis=-1, descending=True, stable=True)
    return xp.take_along_axis(values, order, axis=-1), xp.take_along_axis(indices, order, axis=-1)


def segment_sum_one_hot(data: Array, segment_ids: Array, num_segments: int, *, xp: Any) -> Array:
    """The generic segment sum: ``one_hot(ids).T @ data``; ids outside the range add nothing."""
    segments = xp.arange(num_segments, dtype=segment_ids.dtype)
    one_hot = xp.astype(segments[:, None] == segment_ids[None, :], data.dtype)  # (S, N)
    flat = xp.reshape(data, (data.shape[0], -1))  # (N, F)
    return xp.reshape(one_hot @ flat, (num_segments, *data.shape[1:]))
