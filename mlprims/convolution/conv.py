"""conv2d and conv1d: cross-correlation over 1 or 2 spatial dimensions, torch's semantics.

Algorithm: shift-and-matmul, or im2col where the channels are few and the backend eager.
For every kernel tap (a, b) the strided slice of the padded input that the tap sees,
``x[:, :, a*d : ... : s, b*d : ... : s]`` (shape (N, C, oH, oW)), is multiplied by that tap's
(C_out, C_in) weight matrix with one matmul per group, and the kH*kW products are summed.
im2col stacks the same kH*kW slices into one (C_in*kH*kW, oH*oW) matrix for one matmul. Measured
on N=8, C=64, 56x56, 3x3, padding 1, float32, on 2 shared CPU cores (short runs: median of 3
calls after one warm-up; peak = the process's peak resident memory, imports included):

==========  ======================  ======================
backend     shift-and-matmul        im2col
==========  ======================  ======================
NumPy       25 ms, peak 84 MiB      17 ms, peak 122 MiB
torch       14 ms, peak 324 MiB     22 ms, peak 318 MiB
jax.jit     34 ms, peak 327 MiB     43 ms, peak 406 MiB
==========  ======================  ======================

im2col materialises a copy of the input kH*kW times larger (9x here, 58 MB for a 6.4 MB
input); shift-and-matmul keeps one slice and the running sum alive, and its memory does not
grow with the kernel. With few channels per group each tap's matmul is tiny (an outer product
for one channel), and eager backends pay a kernel launch per tap: medians of 5 calls, 2 threads,
ms, shift-and-matmul / im2col (F.conv2d for scale):

=========================  ===============  ===============  ================  ========
N, C_in -> C_out, HxW, k   NumPy            torch            jax.jit           F.conv2d
=========================  ===============  ===============  ================  ========
64, 1 -> 10, 28x28, 5x5    18.9 / 1.5       24.6 / 1.3       1.3 / 3.3         0.6
64, 10 -> 20, 12x12, 5x5   3.1 / 2.1        12.1 / 2.7       1.6 / 4.3         0.7
32, 32 -> 32, 28x28, 3x3   9.3 / 9.8        24.5 / 17.1      24.7 / 36.3       2.6
16, 64 -> 64, 56x56, 3x3   51.0 / 69.3      66.1 / 78.0      134.1 / 134.2     24.0
=========================  ===============  ===============  ================  ========

im2col stacks the taps' strided views directly (one copy; reshaping each view first copied
it twice): the CNN's first layer on torch 1.44 -> 1.05 ms (F.conv2d 0.49 ms).

So im2col up to 32 channels per group, except on JAX (XLA fuses the taps' slices into their
matmuls, and the stacked copy only costs), and shift-and-matmul above.

Eager shift-and-matmul goes over the batch in chunks of about 4 MiB of padded input, so that a
chunk's slices, products and running sum stay in the CPU's cache while its taps are summed:
N=32, C=64 -> 64, 56x56, 3x3, padding 1, float32, torch 2 threads, medians of 7 interleaved
calls: whole batch 189 ms, chunks of 2 MiB 124 ms, 4 MiB 110 ms, 8 MiB 120 ms (F.conv2d 41 ms);
NumPy 256 -> 160 ms. Under JAX the batch stays whole (XLA fuses the taps; a loop would only
unroll).
"""

from __future__ import annotations

from typing import Any

from array_api_compat import is_jax_namespace

from .._array import Array, check_choice, check_int, floating_namespace, namespace, shape_str
from ._geometry import as_tuple, output_size, padding_pairs, zero_pad

__all__ = ["conv1d", "conv2d"]

#: Up to this many input channels per group, eager backends use im2col (module docstring).
IM2COL_MAX_CHANNELS = 32

#: Eager backends convolve the batch in chunks of about this much padded input (module docstring).
BATCH_CHUNK_BYTES = 4 * 2**20


def _conv_channels_first(
    x: Array,
    weight: Array,
    bias: Array | None,
    *,
    stride: Any,
    padding: Any,
    dilation: Any,
    groups: Any,
    xp: Any,
) -> Array:
    """Convolution of (N, C, *spatial) input with (O, C / groups, *kernel) weight."""
    nd = x.ndim - 2
    n, c = x.shape[0], x.shape[1]
    o, cg = weight.shape[0], weight.shape[1]
    groups = check_int(groups, "groups", minimum=1)
    stride_t = as_tuple(stride, "stride", nd, minimum=1)
    dilation_t = as_tuple(dilation, "dilation", nd, minimum=1)
    if c % groups:
        msg = f"`groups`: the input channels ({c}) must be divisible by groups ({groups})"
        raise ValueError(msg)
    if o % groups:
        msg = f"`groups`: the output channels ({o}) must be divisible by groups ({groups})"
        raise ValueError(msg)
    if cg * groups != c:
        msg = (
            f"`weight` must have {c // groups} input channels per group (input channels {c}, "
            f"groups {groups}), got weight of shape {shape_str(weight.shape)}"
        )
        raise ValueError(msg)
    if bias is not None and tuple(bias.shape) != (o,):
        msg = f"`bias` must have shape ({o},), got {shape_str(bias.shape)}"
        raise ValueError(msg)
    spatial = tuple(x.shape[2:])
    kernel = tuple(weight.shape[2:])
    pads = padding_pairs(
        padding, "padding", spatial=spatial, kernel=kernel, stride=stride_t, dilation=dilation_t
    )
    out_sizes = tuple(
        output_size(size, k, stride=s, pad=p, dilation=d)
        for size, k, s, d, p in zip(spatial, kernel, stride_t, dilation_t, pads, strict=True)
    )
    xpad = zero_pad(x, pads, xp=xp)
    og = o // groups
    positions = 1
    for size in out_sizes:
        positions *= size
    w = xp.reshape(weight, (groups, og, cg, -1))  # taps flattened, row-major
    taps: list[tuple[int, ...]] = [()]
    for k in kernel:
        taps = [(*t, i) for t in taps for i in range(k)]
    im2col = cg <= IM2COL_MAX_CHANNELS and not is_jax_namespace(xp)

    def convolve(xpad: Array) -> Array:  # (M, C, *padded) -> (M, G, Og, P)
        m = xpad.shape[0]

        def window(tap: tuple[int, ...]) -> Array:  # what one tap sees: (M, C, *out), a view
            index = [slice(None), slice(None)]
            for i, s, d, size in zip(tap, stride_t, dilation_t, out_sizes, strict=True):
                index.append(slice(i * d, i * d + (size - 1) * s + 1, s))
            return xpad[tuple(index)]

        def piece(tap: tuple[int, ...]) -> Array:  # (M, G, Cg, P): a copy of the window
            return xp.reshape(window(tap), (m, groups, cg, positions))

        if im2col:  # few channels per group: one matmul over (Cg * taps), not taps tiny ones
            stacked = xp.stack([window(t) for t in taps], axis=2)  # (M, C, taps, *out): one copy
            columns = xp.reshape(stacked, (m, groups, -1, positions))
            return xp.matmul(xp.reshape(w, (groups, og, -1)), columns)
        out = None
        for t, tap in enumerate(taps):
            term = xp.matmul(w[:, :, :, t], piece(tap))  # (G, Og, Cg) @ (M, G, Cg, P)
            out = term if out is None else out + term
        return out

    if im2col or is_jax_namespace(xp):  # XLA fuses the taps; a batch loop would only unroll
        out = convolve(xpad)
    else:
        rows = _batch_rows(xpad)
        parts = [convolve(xpad[i : min(i + rows, n), ...]) for i in range(0, n, rows)]
        out = parts[0] if len(parts) == 1 else xp.concat(parts)
    out = xp.reshape(out, (n, o, *out_sizes))
    if bias is not None:
        out = out + xp.reshape(bias, (1, o) + (1,) * nd)
    return out


def _batch_rows(xpad: Array) -> int:
    """Samples per batch chunk: as many as keep their padded input within
    :data:`BATCH_CHUNK_BYTES` (at least one)."""
    sample = int(xpad.dtype.itemsize) if hasattr(xpad.dtype, "itemsize") else 8
    for size in xpad.shape[1:]:
        sample *= int(size)
    return max(1, BATCH_CHUNK_BYTES // max(sample, 1))


def _check(x: Array, weight: Array, bias: Array | None, ndim: int) -> Any:
    xp = floating_namespace(x)
    namespace(x, weight, bias, names=("x", "weight", "bias"))
    if x.ndim != ndim + 2:
        msg = f"`x` must have {ndim + 2} dimensions, got shape {shape_str(x.shape)}"
        raise ValueError(msg)
    if weight.ndim != ndim + 2:
        msg = f"`weight` must have {ndim + 2} dimensions, got shape {shape_str(weight.shape)}"
        raise ValueError(msg)
    return xp


def conv2d(
    x: Array,
    weight: Array,
    bias: Array | None = None,
    /,
    *,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
    data_format: str = "NCHW",
) -> Array:
    r"""2-D convolution (cross-correlation) with stride, padding, dilation and groups.

    .. math::
        y_{n,o,i,j} = b_o + \sum_{c \in g(o)} \sum_{a,b}
            w_{o,c,a,b}\, \tilde x_{n,c,\,i s_h + a d_h,\, j s_w + b d_w}

    where :math:`\tilde x` is `x` zero-padded and :math:`g(o)` the input channels of the group
    of output channel `o`.

    Parameters
    ----------
    x : array
        Input, (N, C_in, H, W) for ``"NCHW"`` or (N, H, W, C_in) for ``"NHWC"``; floating.
    weight : array
        (C_out, C_in / groups, kH, kW) for ``"NCHW"``, (kH, kW, C_in / groups, C_out) (HWIO)
        for ``"NHWC"``.
    bias : array, optional
        (C_out,), added to every output position.
    stride : int or pair of int
        Step between windows (>= 1).
    padding : int, pair, ((top, bottom), (left, right)), "valid" or "same"
        Zero padding. ``"same"`` gives output size ``ceil(size / stride)`` for any stride, the
        odd extra pixel at the bottom/right as in ``jax.lax`` "SAME" (torch refuses "same"
        with stride > 1; at stride 1 both agree).
    dilation : int or pair of int
        Step between the taps of a window (>= 1).
    groups : int
        Input and output channels are split into `groups` independent convolutions.
    data_format : {"NCHW", "NHWC"}
        Layout of `x`, `weight` and the output.

    Returns
    -------
    array
        (N, C_out, oH, oW) (or (N, oH, oW, C_out)), with
        ``oH = floor((H + top + bottom - dilation * (kH - 1) - 1) / stride) + 1``.

    Notes
    -----
    Equals ``torch.nn.functional.conv2d`` for ``"NCHW"`` and ``jax.lax.conv_general_dilated``
    with dimension numbers ("NHWC", "HWIO", "NHWC") for ``"NHWC"``. Shift-and-matmul: one
    matmul per kernel tap (see the module docstring for why not im2col).

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> x = np.ones((1, 1, 3, 3))
    >>> mlprims.conv2d(x, np.ones((1, 1, 2, 2)), padding=0)[0, 0].tolist()
    [[4.0, 4.0], [4.0, 4.0]]
    """
    check_choice(data_format, "data_format", ("NCHW", "NHWC"))
    xp = _check(x, weight, bias, 2)
    if data_format == "NHWC":
        x = xp.permute_dims(x, (0, 3, 1, 2))
        weight = xp.permute_dims(weight, (3, 2, 0, 1))
    out = _conv_channels_first(
        x, weight, bias, stride=stride, padding=padding, dilation=dilation, groups=groups, xp=xp
    )
    if data_format == "NHWC":
        out = xp.permute_dims(out, (0, 2, 3, 1))
    return out


def conv1d(
    x: Array,
    weight: Array,
    bias: Array | None = None,
    /,
    *,
    stride: int = 1,
    padding: Any = 0,
    dilation: int = 1,
    groups: int = 1,
    data_format: str = "NCL",
) -> Array:
    r"""1-D convolution (cross-correlation): :func:`conv2d` along one axis.

    .. math::
        y_{n,o,i} = b_o + \sum_{c \in g(o)} \sum_{a} w_{o,c,a}\, \tilde x_{n,c,\,i s + a d}

    Parameters
    ----------
    x : array
        (N, C_in, L) for ``"NCL"``, (N, L, C_in) for ``"NLC"``; floating.
    weight : array
        (C_out, C_in / groups, k) for ``"NCL"``, (k, C_in / groups, C_out) for ``"NLC"``.
    bias : array, optional
        (C_out,).
    stride : int
        Step between windows (>= 1).
    padding : int, ``(p,)``, ``(left, right)``, ``((left, right),)``, "valid" or "same"
        Zero padding: an int or torch's ``(p,)`` pads both ends alike; a pair ``(left,
        right)`` (jax's ``[(lo, hi)]`` without the list) or ``((left, right),)`` pads each
        end by its own amount; "valid" and "same" as in :func:`conv2d`.
    dilation : int
        Step between the taps of a window (>= 1).
    groups : int
        Number of independent channel groups.
    data_format : {"NCL", "NLC"}
        Layout of `x`, `weight` and the output.

    Returns
    -------
    array
        (N, C_out, oL) (or (N, oL, C_out)).

    Notes
    -----
    Equals ``torch.nn.functional.conv1d`` for ``"NCL"`` and ``jax.lax.conv_general_dilated``
    with dimension numbers ("NWC", "WIO", "NWC") for ``"NLC"``.

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> mlprims.conv1d(np.ones((1, 1, 4)), np.ones((1, 1, 3)), padding=1)[0, 0].tolist()
    [2.0, 3.0, 3.0, 2.0]
    """
    check_choice(data_format, "data_format", ("NCL", "NLC"))
    xp = _check(x, weight, bias, 1)
    if isinstance(padding, (tuple, list)) and len(padding) == 2:
        if not any(isinstance(p, (tuple, list)) for p in padding):
            padding = (tuple(padding),)  # (left, right): the one dimension's (low, high) pair
    if data_format == "NLC":
        x = xp.permute_dims(x, (0, 2, 1))
        weight = xp.permute_dims(weight, (2, 1, 0))
    out = _conv_channels_first(
        x, weight, bias, stride=stride, padding=padding, dilation=dilation, groups=groups, xp=xp
    )
    if data_format == "NLC":
        out = xp.permute_dims(out, (0, 2, 1))
    return out
