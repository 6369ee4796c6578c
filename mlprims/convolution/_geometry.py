"""Window geometry shared by convolution and pooling: kernel, stride, dilation and padding
arguments parsed into per-dimension tuples, and the output size.

All of it looks at Python values and shapes only, so it runs unchanged under ``jax.jit``.
"""

from __future__ import annotations

from typing import Any

from array_api_compat import device as device_of

from .._array import check_int, shape_str

__all__ = ["as_tuple", "batched_nchw", "output_size", "padding_pairs", "zero_pad"]


def as_tuple(value: Any, name: str, ndim: int, *, minimum: int = 0) -> tuple[int, ...]:
    """`value` (an int, or a sequence of `ndim` ints) as a tuple of `ndim` ints >= `minimum`."""
    if isinstance(value, (tuple, list)):
        if len(value) != ndim:
            msg = f"`{name}` must be an int or {ndim} ints, got {value!r}"
            raise ValueError(msg)
        return tuple(check_int(v, name, minimum=minimum) for v in value)
    return (check_int(value, name, minimum=minimum),) * ndim


def batched_nchw(x: Any, xp: Any) -> tuple[Any, bool]:
    """`x` as (N, C, H, W), and whether it arrived unbatched (C, H, W)."""
    if x.ndim not in (3, 4):
        msg = f"`x` must have 3 (C, H, W) or 4 (N, C, H, W) dimensions, got {shape_str(x.shape)}"
        raise ValueError(msg)
    if x.ndim == 3:
        return xp.expand_dims(x, axis=0), True
    return x, False


def padding_pairs(
    padding: Any,
    name: str,
    *,
    spatial: tuple[int, ...],
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
) -> tuple[tuple[int, int], ...]:
    """`padding` as one (low, high) pair per spatial dimension.

    Accepts an int, one int per dimension, one (low, high) pair per dimension, ``"valid"`` (no
    padding) or ``"same"``: output size ``ceil(size / stride)``, the total padding split with
    the odd extra pixel at the high end (bottom/right), as ``jax.lax`` "SAME" does.
    """
    ndim = len(spatial)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * ndim
        if padding == "same":
            pairs = []
            for size, k, s, d in zip(spatial, kernel, stride, dilation, strict=True):
                out = -(-size // s)
                total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
                pairs.append((total // 2, total - total // 2))
            return tuple(pairs)
        msg = f"`{name}` must be an int, pairs, 'valid' or 'same', got {padding!r}"
        raise ValueError(msg)
    if isinstance(padding, (tuple, list)) and any(isinstance(p, (tuple, list)) for p in padding):
        if len(padding) != ndim or not all(
            isinstance(p, (tuple, list)) and len(p) == 2 for p in padding
        ):
            msg = f"`{name}` must hold {ndim} (low, high) pairs, got {padding!r}"
            raise ValueError(msg)
        return tuple(
            (check_int(lo, name, minimum=0), check_int(hi, name, minimum=0)) for lo, hi in padding
        )
    return tuple((p, p) for p in as_tuple(padding, name, ndim, minimum=0))


def output_size(
    size: int,
    kernel: int,
    *,
    stride: int,
    pad: tuple[int, int],
    dilation: int,
    ceil_mode: bool = False,
    name: str = "weight",
) -> int:
    """The number of window positions along one dimension (torch's formula).

    ``floor((size + low + high - dilation * (kernel - 1) - 1) / stride) + 1``; with
    `ceil_mode` the division rounds up, but a last window that would start in the high padding
    is dropped (torch's pooling rule). A window larger than the padded input is a ValueError
    naming `name`.
    """
    span = dilation * (kernel - 1) + 1
    padded = size + pad[0] + pad[1]
    if span > padded:
        msg = (
            f"`{name}`: the window (size {kernel}, dilation {dilation}, span {span}) is larger "
            f"than the padded input ({size} + {pad[0]} + {pad[1]} = {padded})"
        )
        raise ValueError(msg)
    if ceil_mode:
        out = -(-(padded - span) // stride) + 1
        if (out - 1) * stride >= size + pad[0]:
            out -= 1
        return out
    return (padded - span) // stride + 1


def zero_pad(x: Any, pads: tuple[tuple[int, int], ...], *, xp: Any, value: float = 0.0) -> Any:
    """`x` with its trailing ``len(pads)`` axes padded by (low, high) constant `value` slabs
    (concatenation: the array API has no pad). Never writes into `x`."""
    first = x.ndim - len(pads)
    for i, (lo, hi) in enumerate(pads):
        axis = first + i
        parts = []
        for width in (lo, hi):
            shape = list(x.shape)
            shape[axis] = width
            parts.append(xp.full(tuple(shape), value, dtype=x.dtype, device=device_of(x)))
        if lo or hi:
            x = xp.concat([parts[0], x, parts[1]], axis=axis)
    return x
