"""Embedding bags: the sum, mean or max of the embedding rows of each bag of indices.

Shape legend: E rows of the table ``weight`` (E, D), D the embedding width; B bags. Bags come
either as a (B, L) array of indices (B bags of L each) or as N indices (N,) cut into B bags by
``offsets`` (B,), bag b holding ``indices[offsets[b]:offsets[b + 1]]`` (the last one running to
N), as torch's ``F.embedding_bag`` takes them.

The (B, L) layout reduces over its axis 1. The (N,) layout gives each index its bag id with
``searchsorted`` on the offsets and sums the rows of each bag with the backend's
``segment_sum``, a scatter-add on NumPy, torch and JAX alike: under ``jax.jit`` on a CPU it is
about 100 times faster than the one-hot matmul that a backend without ``fast_scatter`` prefers
for few segments (512 bags of 8192 rows, D = 64), since the bags are many here. The max of the
(N,) layout is a segmented prefix scan (Hillis and Steele 1986) that carries, for each of the
D columns, the position of the first largest value of the bag so far: log2(N) steps of static
shape, so it runs under ``jax.jit``, and the result is gathered from `weight` at those
positions, so that the gradient reaches the first largest row only, as in torch.
"""

from __future__ import annotations

from typing import Any

from array_api_compat import device as device_of

from .. import backends
from .._array import (
    Array,
    Namespace,
    check_choice,
    check_dtype,
    check_floating,
    check_int,
    concrete_any,
    index_dtype,
    namespace,
    shape_str,
    statistics_dtype,
)

__all__ = ["embedding_bag"]

MODES = ("sum", "mean", "max")


def embedding_bag(
    indices: Array,
    weight: Array,
    offsets: Array | None = None,
    /,
    *,
    mode: str = "mean",
    per_sample_weights: Array | None = None,
    padding_idx: int | None = None,
) -> Array:
    r"""The sum, mean or max of the rows of `weight` in each bag; matches ``F.embedding_bag``.

    Parameters
    ----------
    indices : array (B, L) or (N,), integer
        Rows of `weight`, in [0, E): B bags of L indices each, or N indices cut into bags by
        `offsets`.
    weight : array (E, D), real floating
        The embedding table.
    offsets : array (B,), integer, optional
        With 1-d `indices` only (and then required): where each bag starts, ``offsets[0] ==
        0``, non-decreasing, at most N; equal offsets make empty bags.
    mode : {"mean", "sum", "max"}
        How the rows of a bag are reduced.
    per_sample_weights : array of the shape of `indices`, real floating, optional
        With ``mode="sum"`` only: each row is multiplied by its weight before the sum.
    padding_idx : int, optional
        An index in [-E, E) (negative counts from E) whose rows are left out of every bag:
        out of the sum, the mean's count and the max, and so out of the gradient.

    Returns
    -------
    array (B, D)
        In the dtype of `weight`; an empty bag (or one of padding only) gives zeros.

    Raises
    ------
    ValueError
        Shapes that do not fit, `offsets` given with 2-d `indices` or missing with 1-d,
        `per_sample_weights` with a mode other than "sum", an unknown `mode`, `padding_idx`
        outside [-E, E). On eager arrays also: an index outside [0, E), `offsets` that do not
        start at 0, decrease, or pass N.
    TypeError
        Arrays of another framework or of the wrong kind, `padding_idx` not an int.

    Notes
    -----
    ``sum``: :math:`\sum_{i \in b} s_i W_{x_i}` (:math:`s_i` the per-sample weight, 1 if
    none); ``mean``: the sum over the count of the bag's indices; ``max``: the largest value
    of each column among the bag's rows. Indices equal to `padding_idx` are left out of all
    three. ``max`` passes the gradient of each column to the first row of the bag (in bag
    order) that holds the column's largest value, as torch does (not split among ties).
    Sums and means of float16 and bfloat16 tables accumulate in float32. Under ``jax.jit``
    indices and offsets are not checked: JAX's ``take`` fills an out-of-range row with NaN,
    and an index before ``offsets[0]`` belongs to no bag.

    References
    ----------
    - https://pytorch.org/docs/stable/generated/torch.nn.functional.embedding_bag.html

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> weight = np.array([[1.0, 0.0], [0.0, 2.0], [3.0, 4.0]])
    >>> indices, offsets = np.array([0, 2, 1, 1]), np.array([0, 2, 2])  # bags [0, 2], [], [1, 1]
    >>> mlprims.embedding_bag(indices, weight, offsets, mode="sum").tolist()
    [[4.0, 4.0], [0.0, 0.0], [0.0, 4.0]]
    >>> mlprims.embedding_bag(np.array([[0, 2], [1, 0]]), weight, mode="max").tolist()
    [[3.0, 4.0], [1.0, 2.0]]
    """
    xp = namespace(
        indices, weight, offsets, per_sample_weights,
        names=("indices", "weight", "offsets", "per_sample_weights"),
    )  # fmt: skip
    check_dtype(indices, "indices", "integral", xp=xp)
    check_floating(weight, "weight", xp=xp)
    if weight.ndim != 2:
        msg = f"`weight` must have shape (E, D), the embedding table, got {shape_str(weight.shape)}"
        raise ValueError(msg)
    check_choice(mode, "mode", MODES)
    n_rows = int(weight.shape[0])
    padding = _check_padding_idx(padding_idx, n_rows)
    scale = _check_per_sample_weights(per_sample_weights, indices, mode, xp=xp)
    _check_bags(indices, offsets, xp=xp)
    if concrete_any((indices < 0) | (indices >= n_rows), xp=xp):
        msg = f"`indices` must be rows of `weight`, in [0, E) = [0, {n_rows})"
        raise ValueError(msg)
    keep = None if padding is None else indices != padding  # rows that count
    if indices.ndim == 2:
        return _fixed_bags(indices, weight, keep, scale, mode, xp=xp)
    return _cut_bags(indices, weight, offsets, keep, scale, mode, xp=xp)


def _fixed_bags(
    indices: Array, weight: Array, keep: Array | None, scale: Array | None, mode: str,
    *, xp: Namespace,
) -> Array:  # fmt: skip
    """B bags of L indices each (B, L): a reduction over axis 1."""
    b, length = indices.shape
    d = weight.shape[1]
    if length == 0:
        return xp.zeros((b, d), dtype=weight.dtype, device=device_of(weight))
    rows = xp.reshape(xp.take(weight, xp.reshape(indices, (-1,)), axis=0), (b, length, d))
    if keep is None:
        keep = xp.ones((b, length), dtype=xp.bool, device=device_of(weight))
    count = xp.sum(xp.astype(keep, xp.int32), axis=1)[:, None]  # (B, 1)
    if mode == "max":
        ranked = xp.where(keep[..., None], backends.of(weight).stop_gradient(rows), -xp.inf)
        first = xp.argmax(ranked, axis=1)[:, None, :]  # (B, 1, D): the first largest
        out = xp.take_along_axis(rows, first, axis=1)[:, 0, :]  # (B, D)
        return xp.where(count > 0, out, xp.zeros_like(out))
    x = xp.astype(rows, statistics_dtype(weight.dtype, xp=xp), copy=False)
    if scale is not None:
        x = x * xp.astype(scale, x.dtype)[..., None]
    total = xp.sum(xp.where(keep[..., None], x, xp.zeros_like(x)), axis=1)  # (B, D)
    return _finish(total, count, mode, weight.dtype, xp=xp)


def _cut_bags(
    indices: Array, weight: Array, offsets: Any, keep: Array | None, scale: Array | None,
    mode: str, *, xp: Namespace,
) -> Array:  # fmt: skip
    """N indices (N,) cut into B bags at `offsets` (B,): segment sums, or a segmented scan."""
    n, b, d = indices.shape[0], offsets.shape[0], weight.shape[1]
    device = device_of(weight)
    if n == 0 or b == 0:
        return xp.zeros((b, d), dtype=weight.dtype, device=device)
    positions = xp.arange(n, dtype=offsets.dtype, device=device)
    bag = xp.searchsorted(offsets, positions, side="right") - 1  # (N,) the bag of each index
    rows = xp.take(weight, indices, axis=0)  # (N, D)
    backend = backends.of(weight)
    ends = xp.concat([offsets[1:], xp.asarray([n], dtype=offsets.dtype, device=device)])
    if keep is None:  # every index counts: a bag's size is where the next one starts
        count = xp.astype(ends - offsets, xp.float32)[:, None]  # (B, 1)
    else:
        count = backend.segment_sum(xp.astype(keep, xp.float32), bag, b)[:, None]  # (B, 1)
    if mode == "max":
        ranked = backend.stop_gradient(rows)
        if keep is not None:
            ranked = xp.where(keep[:, None], ranked, -xp.inf)
        first = _first_max_positions(ranked, bag, xp=xp)  # (N, D) within each bag so far
        last = xp.clip(ends - 1, 0, n - 1)  # (B,) each bag's last position (an empty bag's: any)
        at = xp.take(first, last, axis=0)  # (B, D) positions in [0, N)
        columns = xp.arange(d, dtype=index_dtype(xp), device=device)
        picked = xp.astype(xp.take(indices, xp.reshape(at, (-1,))), columns.dtype)  # (B D,) rows
        flat = picked * d + xp.tile(columns, (b,))
        out = xp.reshape(xp.take(xp.reshape(weight, (-1,)), flat), (b, d))
        return xp.where(count > 0, out, xp.zeros_like(out))
    x = xp.astype(rows, statistics_dtype(weight.dtype, xp=xp), copy=False)
    if scale is not None:
        x = x * xp.astype(scale, x.dtype)[:, None]
    if keep is not None:
        x = xp.where(keep[:, None], x, xp.zeros_like(x))
    total = backend.segment_sum(x, bag, b)  # (B, D)
    return _finish(total, count, mode, weight.dtype, xp=xp)


def _first_max_positions(values: Array, bag: Array, *, xp: Namespace) -> Array:
    """For each row i and column, the position of the first largest value among the rows of
    i's bag up to i: a segmented inclusive scan by doubling (rows of one bag are contiguous).

    After the step of stride s each row holds the answer over its last 2 s rows of its bag;
    an earlier row of the bag wins ties, so the first largest row is kept.
    """
    n, d = values.shape
    device = device_of(values)
    at = xp.broadcast_to(xp.arange(n, device=device)[:, None], (n, d))  # (N, D)
    stride = 1
    while stride < n:
        earlier_bag = xp.concat(
            [xp.full((stride,), -1, dtype=bag.dtype, device=device), bag[:-stride]]
        )
        padding = xp.full((stride, d), -xp.inf, dtype=values.dtype, device=device)
        earlier = xp.concat([padding, values[:-stride, :]])  # row i - stride's answer
        earlier_at = xp.concat(
            [xp.zeros((stride, d), dtype=at.dtype, device=device), at[:-stride, :]]
        )
        take = (earlier_bag == bag)[:, None] & (earlier >= values)  # (N, D)
        values = xp.where(take, earlier, values)
        at = xp.where(take, earlier_at, at)
        stride *= 2
    return at


def _finish(total: Array, count: Array, mode: str, dtype: Any, *, xp: Namespace) -> Array:
    """The sum, or the mean over `count` rows (an empty bag's sum is 0 already), as `dtype`."""
    if mode == "mean":
        count = xp.astype(count, total.dtype)
        total = total / xp.where(count > 0, count, xp.ones_like(count))
    return xp.astype(total, dtype, copy=False)


def _check_padding_idx(padding_idx: Any, n_rows: int) -> int | None:
    """`padding_idx` in [0, E) (a negative one counted from E), or None."""
    if padding_idx is None:
        return None
    index = check_int(padding_idx, "padding_idx")
    if not -n_rows <= index < n_rows:
        msg = f"`padding_idx` must be in [-E, E) = [{-n_rows}, {n_rows}) or None, got {index}"
        raise ValueError(msg)
    return index % n_rows


def _check_per_sample_weights(
    per_sample_weights: Array | None, indices: Array, mode: str, *, xp: Namespace
) -> Array | None:
    if per_sample_weights is None:
        return None
    if mode != "sum":
        msg = (
            "`per_sample_weights` is only supported with mode='sum' (as in torch), got "
            f"mode={mode!r}"
        )
        raise ValueError(msg)
    check_floating(per_sample_weights, "per_sample_weights", xp=xp)
    if tuple(per_sample_weights.shape) != tuple(indices.shape):
        msg = (
            "`per_sample_weights` must have the shape of `indices` "
            f"{shape_str(indices.shape)}, got {shape_str(per_sample_weights.shape)}"
        )
        raise ValueError(msg)
    return per_sample_weights


def _check_bags(indices: Array, offsets: Array | None, *, xp: Namespace) -> None:
    """(B, L) indices without offsets, or (N,) indices with valid offsets (B,)."""
    if indices.ndim == 2:
        if offsets is not None:
            msg = (
                "`offsets` must be None when `indices` is 2-d (B, L): each row is a bag; got "
                f"offsets of shape {shape_str(offsets.shape)}"
            )
            raise ValueError(msg)
        return
    if indices.ndim != 1:
        msg = (
            f"`indices` must have shape (B, L) or (N,) with offsets, got {shape_str(indices.shape)}"
        )
        raise ValueError(msg)
    if offsets is None:
        msg = "`offsets` (B,) is required when `indices` is 1-d (N,): where each bag starts"
        raise ValueError(msg)
    check_dtype(offsets, "offsets", "integral", xp=xp)
    if offsets.ndim != 1:
        msg = f"`offsets` must have shape (B,), got {shape_str(offsets.shape)}"
        raise ValueError(msg)
    n = indices.shape[0]
    if offsets.shape[0] == 0:
        return
    bad = (offsets[0] != 0) | (offsets[-1] > n)
    if offsets.shape[0] > 1:
        bad = bad | xp.any(offsets[1:] < offsets[:-1])
    if concrete_any(bad, xp=xp):
        msg = (
            f"`offsets` must start at 0, never decrease and end at most at N = {n}, got "
            f"{[int(o) for o in offsets[:8]]}{' ...' if offsets.shape[0] > 8 else ''}"
        )
        raise ValueError(msg)
