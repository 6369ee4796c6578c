"""conv_transpose2d: the transposed (fractionally strided) convolution, torch's semantics.

Written as an ordinary convolution: the input is spread out by inserting ``stride - 1`` zeros
between its pixels, padded by ``dilation * (kernel - 1) - padding`` (cropped where that is
negative; ``output_padding`` more at the bottom/right), and convolved at stride 1 with the
kernel flipped and its in/out channels swapped within each group. That is exactly the adjoint
of :func:`mlprims.conv2d` (the gradient of conv2d with respect to its input).
"""

from __future__ import annotations

from typing import Any

from .._array import Array, check_int, floating_namespace, namespace, shape_str
from ._geometry import as_tuple, zero_pad
from .conv import conv_channels_first

__all__ = ["conv_transpose2d"]


def _spread(x: Array, axis: int, stride: int, *, xp: Any) -> Array:
    """`x` with ``stride - 1`` zeros inserted between neighbours along `axis`."""
    if stride == 1:
        return x
    size = x.shape[axis]
    zeros = xp.zeros_like(x)
    stacked = xp.stack([x] + [zeros] * (stride - 1), axis=axis + 1)
    shape = list(x.shape)
    shape[axis] = size * stride
    spread = xp.reshape(stacked, tuple(shape))
    index = [slice(None)] * x.ndim
    index[axis] = slice(0, (size - 1) * stride + 1)
    return spread[tuple(index)]


def _crop_or_pad(x: Array, axis: int, lo: int, hi: int, *, xp: Any) -> Array:
    """`x` padded by `lo`/`hi` zeros along `axis`, or cropped where they are negative."""
    index = [slice(None)] * x.ndim
    index[axis] = slice(max(-lo, 0), x.shape[axis] - max(-hi, 0))
    x = x[tuple(index)]
    pads = [(0, 0)] * (x.ndim - 2)
    pads[axis - 2] = (max(lo, 0), max(hi, 0))
    return zero_pad(x, tuple(pads), xp=xp)


def conv_transpose2d(
    x: Array,
    weight: Array,
    bias: Array | None = None,
    /,
    *,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    groups: int = 1,
    dilation: Any = 1,
) -> Array:
    r"""2-D transposed convolution: the upsampling layer and the gradient of :func:`conv2d`.

    Every input pixel scatters its value times the kernel into the output:

    .. math::
        y_{n,o,\,i s_h + a d_h - p_h,\, j s_w + b d_w - p_w} \mathrel{+}=
            x_{n,c,i,j}\, w_{c,o',a,b}

    for the input channels `c` of the group of output channel ``o = group * C_out/groups + o'``,
    plus `bias`. For ``bias=None`` it is the adjoint of :func:`conv2d` with the same stride,
    padding, dilation and groups: ``<conv2d(x, w), y> = <x, conv_transpose2d(y, w)>``.

    Parameters
    ----------
    x : array
        (N, C_in, H, W), floating.
    weight : array
        (C_in, C_out / groups, kH, kW) (torch's layout, the one of the conv2d it transposes).
    bias : array, optional
        (C_out,).
    stride : int or pair of int
        The stride of the conv2d being transposed (>= 1).
    padding : int or pair of int
        The padding of the conv2d being transposed (>= 0): removed from each border.
    output_padding : int or pair of int
        Extra rows/columns at the bottom/right (< stride or < dilation), choosing among the
        input sizes a strided conv2d maps to the same output size.
    groups : int
        Number of independent channel groups.
    dilation : int or pair of int
        The dilation of the conv2d being transposed (>= 1).

    Returns
    -------
    array
        (N, C_out, oH, oW) with
        ``oH = (H - 1) * stride - 2 * padding + dilation * (kH - 1) + output_padding + 1``.

    Notes
    -----
    Equals ``torch.nn.functional.conv_transpose2d``. Computed as a stride-1 :func:`conv2d` of
    the zero-spread, padded input with the flipped kernel.

    References
    ----------
    - https://pytorch.org/docs/stable/generated/torch.nn.functional.conv_transpose2d.html

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> y = mlprims.conv_transpose2d(np.ones((1, 1, 2, 2)), np.ones((1, 1, 2, 2)), stride=2)
    >>> y.shape
    (1, 1, 4, 4)
    """
    xp = floating_namespace(x)
    namespace(x, weight, bias, names=("x", "weight", "bias"))
    for a, name in ((x, "x"), (weight, "weight")):
        if a.ndim != 4:
            msg = f"`{name}` must have 4 dimensions, got shape {shape_str(a.shape)}"
            raise ValueError(msg)
    groups = check_int(groups, "groups", minimum=1)
    stride_t = as_tuple(stride, "stride", 2, minimum=1)
    padding_t = as_tuple(padding, "padding", 2, minimum=0)
    dilation_t = as_tuple(dilation, "dilation", 2, minimum=1)
    extra = as_tuple(output_padding, "output_padding", 2, minimum=0)
    c = x.shape[1]
    if weight.shape[0] != c:
        msg = (
            f"`weight` must have {c} rows (the input channels), got weight of shape "
            f"{shape_str(weight.shape)}"
        )
        raise ValueError(msg)
    if c % groups:
        msg = f"`groups`: the input channels ({c}) must be divisible by groups ({groups})"
        raise ValueError(msg)
    for e, s, d in zip(extra, stride_t, dilation_t, strict=True):
        if e >= max(s, d):
            msg = (
                f"`output_padding` must be smaller than stride or dilation, got {extra} with "
                f"stride {stride_t} and dilation {dilation_t}"
            )
            raise ValueError(msg)
    og, kernel = weight.shape[1], tuple(weight.shape[2:])
    for axis in (2, 3):
        i = axis - 2
        x = _spread(x, axis, stride_t[i], xp=xp)
        edge = dilation_t[i] * (kernel[i] - 1) - padding_t[i]
        x = _crop_or_pad(x, axis, edge, edge + extra[i], xp=xp)
        if x.shape[axis] < dilation_t[i] * (kernel[i] - 1) + 1:
            msg = f"`padding` {padding_t} leaves no output for input of shape {shape_str(x.shape)}"
            raise ValueError(msg)
    w = xp.reshape(weight, (groups, c // groups, og, *kernel))
    w = xp.permute_dims(w, (0, 2, 1, 3, 4))
    w = xp.flip(xp.reshape(w, (groups * og, c // groups, *kernel)), axis=(2, 3))
    return conv_channels_first(
        x, w, bias, stride=1, padding=0, dilation=dilation_t, groups=groups, xp=xp
    )
