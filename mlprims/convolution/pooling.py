"""Pooling over fixed windows of 2 spatial dimensions with torch's semantics: max and average.

The pools loop over the kernel taps: each tap is one strided slice of the padded input
(shape (N, C, oH, oW)), folded into a running maximum or sum, so only one slice and the
result are alive at a time.

Max pooling scans the taps in row-major order and keeps a value when it is greater than the
running maximum or NaN, exactly torch's rule: the first maximum wins a tie (its index, its
gradient) and any NaN in the window propagates.
"""

from __future__ import annotations

from typing import Any

from array_api_compat import device as device_of

from .._array import Array, check_bool, check_int, floating_namespace, index_dtype
from ._geometry import as_tuple, batched_nchw, output_size, zero_pad

__all__ = ["avg_pool2d", "max_pool2d"]


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
    r"""Maximum over each (dilated) window of the last two axes.

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
    ``out[n, c, i, j] = max_{a, b} x_pad[n, c, i s_H + a d_H, j s_W + b d_W]``:

    .. math::

        y_{ncij} = \max_{0 \le a < k_H,\ 0 \le b < k_W}
            x^{\text{pad}}_{n,c,\,i s_H + a d_H,\,j s_W + b d_W}

    A NaN in a window makes its output NaN (index: the last NaN); ties pick the first maximum
    in row-major order. Matches ``torch.nn.functional.max_pool2d``.

    References
    ----------
    - https://pytorch.org/docs/stable/generated/torch.nn.functional.max_pool2d.html

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
    x4, unbatched = batched_nchw(x, xp)
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
    r"""Mean over each window of the last two axes.

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
    ``out[n, c, i, j] = sum_{a, b} x_pad[n, c, i s_H + a, j s_W + b] / divisor[i, j]``:

    .. math::

        y_{ncij} = \frac{1}{D_{ij}} \sum_{a=0}^{k_H - 1} \sum_{b=0}^{k_W - 1}
            x^{\text{pad}}_{n,c,\,i s_H + a,\,j s_W + b}

    with :math:`D_{ij}` the window clipped to the padded input, to the input itself
    (``count_include_pad=False``) or `divisor_override`. Matches
    ``torch.nn.functional.avg_pool2d``.

    References
    ----------
    - https://pytorch.org/docs/stable/generated/torch.nn.functional.avg_pool2d.html

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
    x4, unbatched = batched_nchw(x, xp)
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
