"""Pooling over 2 spatial dimensions with torch's semantics: max, average and adaptive pools.

Fixed windows loop over the kernel taps: each tap is one strided slice of the padded input
(shape (N, C, oH, oW)), folded into a running maximum or sum, so only one slice and the
result are alive at a time. Adaptive windows differ in size, so they are separable: a pass
along W (one ``take`` per tap of the widest window) then the same along H.

Max pooling scans the taps in row-major order and keeps a value when it is greater than the
running maximum or NaN, exactly torch's rule: the first maximum wins a tie (its index, its
gradient) and any NaN in the window propagates.
"""

from __future__ import annotations

from typing import Any

from array_api_compat import device as device_of

from .._array import Array, check_bool, check_int, floating_namespace, index_dtype, shape_str
from ._geometry import as_tuple, output_size, zero_pad

__all__ = ["adaptive_avg_pool2d", "adaptive_max_pool2d", "avg_pool2d", "max_pool2d"]


def _batched(x: Array, xp: Any) -> tuple[Array, bool]:
    """`x` as (N, C, H, W), and whether it arrived unbatched (C, H, W)."""
    if x.ndim not in (3, 4):
        msg = f"`x` must have 3 (C, H, W) or 4 (N, C, H, W) dimensions, got {shape_str(x.shape)}"
        raise ValueError(msg)
    if x.ndim == 3:
        return xp.expand_dims(x, axis=0), True
    return x, False


def _window_geometry(
    x: Array, kernel_size: Any, stride: Any, padding: Any, dilation: Any, ceil_mode: Any
) -> tuple[tuple[int, ...], ...]:
    """Per dimension: kernel, stride, padding, dilation and output size (torch's checks)."""
    kernel = as_tuple(kernel_size, "kernel_size", 2, minimum=1)
    strides = kernel if stride is None else as_tuple(stride, "stride", 2, minimum=1)
    pads = as_tuple(padding, "padding", 2, minimum=0)
    dilations = as_tuple(dilation, "dilation", 2, minimum=1)
    ceil_mode = check_bool(ceil_mode, "ceil_mode")
    for k, p in zip(kernel, pads, strict=True):
        if p > k // 2:
            msg = f"`padding` must be at most half the kernel size ({k} // 2 = {k // 2}), got {p}"
            raise ValueError(msg)
    outs = tuple(
        output_size(
            size, k, stride=s, pad=(p, p), dilation=d, ceil_mode=ceil_mode, name="kernel_size"
        )
        for size, k, s, p, d in zip(x.shape[-2:], kernel, strides, pads, dilations, strict=True)
    )
    return kernel, strides, pads, dilations, outs


def _padded(
    x: Array, kernel: Any, strides: Any, pads: Any, dilations: Any, outs: Any, xp: Any, value: float
) -> Array:
    """`x` padded by `pads`, and on the high side far enough for every (ceil_mode) window."""
    pairs = []
    for size, k, s, p, d, o in zip(
        x.shape[-2:], kernel, strides, pads, dilations, outs, strict=True
    ):
        extra = max(0, (o - 1) * s + (k - 1) * d + 1 - (size + 2 * p))
        pairs.append((p, p + extra))
    return zero_pad(x, tuple(pairs), xp=xp, value=value)


def _tap(xpad: Array, a: int, b: int, strides: Any, dilations: Any, outs: Any) -> Array:
    """The (N, C, oH, oW) slice that kernel tap (a, b) sees."""
    (sh, sw), (dh, dw), (oh, ow) = strides, dilations, outs
    return xpad[
        ..., a * dh : a * dh + (oh - 1) * sh + 1 : sh, b * dw : b * dw + (ow - 1) * sw + 1 : sw
    ]


def max_pool2d(
    x: Array,
    kernel_size: Any,
    /,
    *,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Array | tuple[Array, Array]:
    """Maximum over each (dilated) window of the last two axes.

    Parameters
    ----------
    x : array
        Real floating input, (N, C, H, W) or unbatched (C, H, W).
    kernel_size : int or (int, int)
        Window size (kH, kW).
    stride : int or (int, int), optional
        Step between windows; ``None`` (default) means `kernel_size`.
    padding : int or (int, int), optional
        Implicit ``-inf`` padding on both sides, at most half the kernel size. Default 0.
    dilation : int or (int, int), optional
        Spacing between window taps. Default 1.
    ceil_mode : bool, optional
        Round the output size up instead of down; a window that would start in the right
        (bottom) padding is dropped, as torch does. Default False.
    return_indices : bool, optional
        Also return the position of each maximum as a flat index ``h * W + w`` into the
        unpadded input plane. Default False.

    Returns
    -------
    array or (array, array)
        (N, C, oH, oW) (or (C, oH, oW)) maxima, with
        ``oH = floor((H + 2 p - d (k - 1) - 1) / s) + 1`` (ceil with `ceil_mode`); with
        `return_indices` also the integer indices of the same shape.

    Notes
    -----
    ``out[n, c, i, j] = max_{a, b} x_pad[n, c, i s_H + a d_H, j s_W + b d_W]``. A NaN in a
    window makes its output NaN (index: the last NaN); ties pick the first maximum in
    row-major order. Matches ``torch.nn.functional.max_pool2d``.

    Examples
    --------
    >>> import numpy as np
    >>> from mlprims import max_pool2d
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> max_pool2d(x, 2)[0, 0]
    array([[ 5.,  7.],
           [13., 15.]])
    """
    xp = floating_namespace(x)
    return_indices = check_bool(return_indices, "return_indices")
    x4, unbatched = _batched(x, xp)
    kernel, strides, pads, dilations, outs = _window_geometry(
        x4, kernel_size, stride, padding, dilation, ceil_mode
    )
    width = x4.shape[-1]
    xpad = _padded(x4, kernel, strides, pads, dilations, outs, xp, float("-inf"))
    idt = index_dtype(xp)
    starts = [[i * s - p for i in range(o)] for o, s, p in zip(outs, strides, pads, strict=True)]
    # torch's index before any tap is taken: the first tap of the window inside the input
    inside = [
        [r + d * (-(-max(-r, 0) // d)) for r in dim]
        for dim, d in zip(starts, dilations, strict=True)
    ]
    rows = xp.asarray(starts[0], dtype=idt, device=device_of(x))
    cols = xp.asarray(starts[1], dtype=idt, device=device_of(x))
    index = (
        xp.asarray(inside[0], dtype=idt, device=device_of(x))[:, None] * width
        + xp.asarray(inside[1], dtype=idt, device=device_of(x))[None, :]
    )
    best = None
    for a in range(kernel[0]):
        for b in range(kernel[1]):
            value = _tap(xpad, a, b, strides, dilations, outs)
            if best is None:
                best = xp.full(value.shape, float("-inf"), dtype=x.dtype, device=device_of(x))
                index = xp.broadcast_to(index, value.shape)
            take = (value > best) | xp.isnan(value)
            best = xp.where(take, value, best)
            if return_indices:
                here = (rows[:, None] + a * dilations[0]) * width + (
                    cols[None, :] + b * dilations[1]
                )
                index = xp.where(take, here, index)
    assert best is not None
    if unbatched:
        best, index = best[0, ...], index[0, ...]
    return (best, index) if return_indices else best


def _window_counts(size: int, k: int, s: int, p: int, o: int, *, include_pad: bool) -> list[int]:
    """Per output position along one dimension: how many taps torch's avg_pool2d divides by,
    the window clipped to the padded input (`include_pad`) or to the input itself."""
    counts = []
    for i in range(o):
        start = i * s - p
        end = min(start + k, size + p)
        if not include_pad:
            start, end = max(start, 0), min(end, size)
        counts.append(end - start)
    return counts


def avg_pool2d(
    x: Array,
    kernel_size: Any,
    /,
    *,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Array:
    """Mean over each window of the last two axes.

    Parameters
    ----------
    x : array
        Real floating input, (N, C, H, W) or unbatched (C, H, W).
    kernel_size : int or (int, int)
        Window size (kH, kW).
    stride : int or (int, int), optional
        Step between windows; ``None`` (default) means `kernel_size`.
    padding : int or (int, int), optional
        Implicit zero padding on both sides, at most half the kernel size. Default 0.
    ceil_mode : bool, optional
        Round the output size up; a window that would start in the right (bottom) padding is
        dropped, as torch does. Default False.
    count_include_pad : bool, optional
        Divide by the window size clipped to the padded input (True, default) or by the number
        of input elements in the window (False).
    divisor_override : int, optional
        Divide every window sum by this positive int instead.

    Returns
    -------
    array
        (N, C, oH, oW) (or (C, oH, oW)) means, ``oH = floor((H + 2 p - k) / s) + 1`` (ceil
        with `ceil_mode`).

    Notes
    -----
    ``out[n, c, i, j] = sum_{a, b} x_pad[n, c, i s_H + a, j s_W + b] / divisor[i, j]``.
    Matches ``torch.nn.functional.avg_pool2d``.

    Examples
    --------
    >>> import numpy as np
    >>> from mlprims import avg_pool2d
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> avg_pool2d(x, 2)[0, 0]
    array([[ 2.5,  4.5],
           [10.5, 12.5]])
    """
    xp = floating_namespace(x)
    count_include_pad = check_bool(count_include_pad, "count_include_pad")
    if divisor_override is not None:
        divisor_override = check_int(divisor_override, "divisor_override", minimum=1)
    x4, unbatched = _batched(x, xp)
    kernel, strides, pads, dilations, outs = _window_geometry(
        x4, kernel_size, stride, padding, 1, ceil_mode
    )
    xpad = _padded(x4, kernel, strides, pads, dilations, outs, xp, 0.0)
    total = None
    for a in range(kernel[0]):
        for b in range(kernel[1]):
            value = _tap(xpad, a, b, strides, dilations, outs)
            total = value if total is None else total + value
    assert total is not None
    if divisor_override is not None:
        out = total / float(divisor_override)
    else:
        rows, cols = (
            _window_counts(size, k, s, p, o, include_pad=count_include_pad)
            for size, k, s, p, o in zip(x4.shape[-2:], kernel, strides, pads, outs, strict=True)
        )
        divisor = xp.asarray(
            [[float(r * c) for c in cols] for r in rows], dtype=x.dtype, device=device_of(x)
        )
        out = total / divisor
    return out[0, ...] if unbatched else out


def _adaptive_sizes(x: Array, output_size: Any) -> tuple[int, int]:
    """`output_size` (an int, or a pair whose None entries keep the input size) as two ints."""
    if isinstance(output_size, (tuple, list)):
        if len(output_size) != 2:
            msg = f"`output_size` must be an int or 2 ints (or None), got {output_size!r}"
            raise ValueError(msg)
        sizes = tuple(
            x.shape[-2 + i] if s is None else check_int(s, "output_size", minimum=1)
            for i, s in enumerate(output_size)
        )
        return sizes[0], sizes[1]
    size = check_int(output_size, "output_size", minimum=1)
    return size, size


def _adaptive_taps(size: int, out: int) -> tuple[list[list[int]], list[list[bool]]]:
    """For each tap t of the widest adaptive window: the input index every output position
    reads (clipped to its window) and whether that tap lies inside the window. Window i is
    ``[floor(i size / out), ceil((i + 1) size / out))``."""
    windows = [(i * size // out, -(-(i + 1) * size // out)) for i in range(out)]
    widest = max(end - start for start, end in windows)
    index = [[min(start + t, end - 1) for start, end in windows] for t in range(widest)]
    valid = [[start + t < end for start, end in windows] for t in range(widest)]
    return index, valid


def _adaptive_max_axis(
    x: Array, index: Array | None, out: int, axis: int, xp: Any, *, width: int = 0
) -> tuple[Array, Array]:
    """Adaptive max along `axis` (-1 or -2): the maxima and, per output, the position along
    `axis` (torch's rule: first maximum, last NaN). `index` (positions along the other axis,
    same shape as `x`) is carried along with the winner when given, making the positions
    flat indices ``h * width + w``."""
    taps, _ = _adaptive_taps(x.shape[axis], out)
    idt = index_dtype(xp)
    best = None
    where_at = None
    for row in taps:
        at = xp.asarray(row, dtype=idt, device=device_of(x))
        value = xp.take(x, at, axis=axis)
        shape = [1] * x.ndim
        shape[axis] = out
        position = xp.reshape(at, tuple(shape))
        if index is not None:
            position = position * width + xp.take(index, at, axis=axis)
        if best is None:
            best, where_at = value, xp.broadcast_to(position, value.shape)
            continue
        take = (value > best) | xp.isnan(value)
        best = xp.where(take, value, best)
        where_at = xp.where(take, position, where_at)
    assert best is not None and where_at is not None
    return best, where_at


def adaptive_max_pool2d(
    x: Array, output_size: Any, /, *, return_indices: bool = False
) -> Array | tuple[Array, Array]:
    """Maximum over `output_size` windows that tile the last two axes.

    Parameters
    ----------
    x : array
        Real floating input, (N, C, H, W) or unbatched (C, H, W).
    output_size : int or (int or None, int or None)
        (oH, oW); ``None`` keeps that input size.
    return_indices : bool, optional
        Also return each maximum's flat index ``h * W + w`` into the input plane.

    Returns
    -------
    array or (array, array)
        (N, C, oH, oW) (or (C, oH, oW)) maxima, and with `return_indices` their indices.

    Notes
    -----
    Window i along an axis of size H covers ``[floor(i H / oH), ceil((i + 1) H / oH))``;
    NaN propagates and ties pick the first maximum in row-major order. Matches
    ``torch.nn.functional.adaptive_max_pool2d``.

    Examples
    --------
    >>> import numpy as np
    >>> from mlprims import adaptive_max_pool2d
    >>> x = np.arange(9.0).reshape(1, 3, 3)
    >>> adaptive_max_pool2d(x, 2)[0]
    array([[4., 5.],
           [7., 8.]])
    """
    xp = floating_namespace(x)
    return_indices = check_bool(return_indices, "return_indices")
    x4, unbatched = _batched(x, xp)
    out_h, out_w = _adaptive_sizes(x4, output_size)
    along_w, col = _adaptive_max_axis(x4, None, out_w, -1, xp)
    best, index = _adaptive_max_axis(along_w, col, out_h, -2, xp, width=x4.shape[-1])
    if unbatched:
        best, index = best[0, ...], index[0, ...]
    return (best, index) if return_indices else best


def _adaptive_mean_axis(x: Array, out: int, axis: int, xp: Any) -> Array:
    """Adaptive mean along `axis` (-1 or -2)."""
    taps, valid = _adaptive_taps(x.shape[axis], out)
    shape = [1] * x.ndim
    shape[axis] = out
    total = None
    for row, inside in zip(taps, valid, strict=True):
        value = xp.take(x, xp.asarray(row, dtype=index_dtype(xp), device=device_of(x)), axis=axis)
        if not all(inside):
            mask = xp.reshape(xp.asarray(inside, device=device_of(x)), tuple(shape))
            value = xp.where(mask, value, xp.zeros_like(value))
        total = value if total is None else total + value
    counts = [sum(column) for column in zip(*valid, strict=True)]
    divisor = xp.reshape(xp.asarray(counts, dtype=x.dtype, device=device_of(x)), tuple(shape))
    return total / divisor


def adaptive_avg_pool2d(x: Array, output_size: Any, /) -> Array:
    """Mean over `output_size` windows that tile the last two axes.

    Parameters
    ----------
    x : array
        Real floating input, (N, C, H, W) or unbatched (C, H, W).
    output_size : int or (int or None, int or None)
        (oH, oW); ``None`` keeps that input size.

    Returns
    -------
    array
        (N, C, oH, oW) (or (C, oH, oW)) means.

    Notes
    -----
    Window i along an axis of size H covers ``[floor(i H / oH), ceil((i + 1) H / oH))``, the
    output its mean. Matches ``torch.nn.functional.adaptive_avg_pool2d``.

    Examples
    --------
    >>> import numpy as np
    >>> from mlprims import adaptive_avg_pool2d
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> adaptive_avg_pool2d(x, 1)[0, 0]
    array([[7.5]])
    """
    xp = floating_namespace(x)
    x4, unbatched = _batched(x, xp)
    out_h, out_w = _adaptive_sizes(x4, output_size)
    out = _adaptive_mean_axis(_adaptive_mean_axis(x4, out_w, -1, xp), out_h, -2, xp)
    return out[0, ...] if unbatched else out
