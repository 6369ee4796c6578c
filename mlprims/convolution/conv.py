"""conv2d and conv1d: cross-correlation over 1 or 2 spatial dimensions, torch's semantics.

Two algorithms, both a few matmuls. Shift-and-matmul: for every kernel tap (a, b) the strided
view of the padded input that the tap sees, ``x[:, :, a*d : ... : s, b*d : ... : s]`` (shape
(N, C, oH, oW)), is multiplied by that tap's (C_out, C_in) weight matrix, one matmul per group,
and the kH*kW products are summed. im2col: the same kH*kW views stacked into one
(C_in*kH*kW, oH*oW) matrix ("columns"), one matmul.

Eager backends (NumPy, torch, array_api_strict) use im2col over the batch in chunks whose
columns hold about :data:`BATCH_CHUNK_BYTES` (16 MiB; each chunk is padded on its own): one
matmul with a long inner dimension (C_in*kH*kW) instead of kH*kW short ones and kH*kW - 1
full-size additions, on a copy that stays bounded and in cache (on a ResNet layer, 1.7x
``F.conv2d`` against 2.7x for shift-and-matmul and 4.7x for the whole batch at once). Where the
backend ``fuses`` (JAX) the batch stays whole and shift-and-matmul is used: XLA fuses each
tap's slice into its matmul, where the stacked copy would only cost and a batch loop would only
unroll into the traced program. The measurements behind these choices are in
``benchmarks/RESULTS.md`` ("Design measurements"); the current figures in its
``bench_convolution`` section.
"""

from __future__ import annotations

from typing import Any

from .. import backends
from .._array import Array, check_choice, check_int, floating_namespace, namespace, shape_str
from ._geometry import as_tuple, output_size, padding_pairs, zero_pad

__all__ = ["conv1d", "conv2d"]

#: im2col on the eager backends, shift-and-matmul where the backend ``fuses`` (JAX).
IM2COL_WHEN_EAGER = True

#: Eager backends convolve the batch in chunks of about this many bytes of im2col columns.
BATCH_CHUNK_BYTES = 16 * 2**20


def conv_channels_first(
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
    og = o // groups
    positions = 1
    for size in out_sizes:
        positions *= size
    w = xp.reshape(weight, (groups, og, cg, -1))  # taps flattened, row-major
    taps: list[tuple[int, ...]] = [()]
    for k in kernel:
        taps = [(*t, i) for t in taps for i in range(k)]
    fuses = backends.of(x).fuses  # XLA: shift-and-matmul on the whole batch (module docstring)
    im2col = IM2COL_WHEN_EAGER and not fuses
    b = None if bias is None else xp.reshape(bias, (1, o) + (1,) * nd)

    def convolve(x: Array) -> Array:  # (M, C, *spatial) -> (M, O, *out)
        m = x.shape[0]
        xpad = zero_pad(x, pads, xp=xp)

        def window(tap: tuple[int, ...]) -> Array:  # what one tap sees: (M, C, *out), a view
            index = [slice(None), slice(None)]
            for i, s, d, size in zip(tap, stride_t, dilation_t, out_sizes, strict=True):
                index.append(slice(i * d, i * d + (size - 1) * s + 1, s))
            return xpad[tuple(index)]

        if im2col:  # one matmul over (Cg * taps) instead of one per tap
            stacked = xp.stack([window(t) for t in taps], axis=2)  # (M, C, taps, *out): one copy
            columns = xp.reshape(stacked, (m, groups, cg * len(taps), positions))
            out = xp.matmul(xp.reshape(w, (groups, og, -1)), columns)  # (M, G, Og, P)
        else:
            out = None
            for t, tap in enumerate(taps):
                piece = xp.reshape(window(tap), (m, groups, cg, positions))  # a copy of the view
                term = xp.matmul(w[:, :, :, t], piece)  # (G, Og, Cg) @ (M, G, Cg, P)
                out = term if out is None else out + term
        out = xp.reshape(out, (m, o, *out_sizes))
        return out if b is None else out + b  # added while the chunk is in cache

    if fuses:  # XLA fuses the taps; a batch loop would only unroll
        return convolve(x)
    # Eager: chunks of the batch whose columns (im2col) or slices stay in cache.
    rows = _batch_rows(c * positions * (len(taps) if im2col else 1), x.dtype)
    if rows >= n:
        return convolve(x)
    return xp.concat([convolve(x[i : min(i + rows, n), ...]) for i in range(0, n, rows)])


def _batch_rows(per_sample: int, dtype: Any) -> int:
    """Samples per batch chunk: as many as keep `per_sample` elements each within
    :data:`BATCH_CHUNK_BYTES` (at least one)."""
    itemsize = int(dtype.itemsize) if hasattr(dtype, "itemsize") else 8
    return max(1, BATCH_CHUNK_BYTES // max(per_sample * itemsize, 1))


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
    with dimension numbers ("NHWC", "HWIO", "NHWC") for ``"NHWC"``. im2col in batch chunks on
    eager backends, shift-and-matmul (one matmul per kernel tap) under JAX: see the module
    docstring for the measurements.

    References
    ----------
    - https://pytorch.org/docs/stable/generated/torch.nn.functional.conv2d.html
    - https://jax.readthedocs.io/en/latest/_autosummary/jax.lax.conv_general_dilated.html

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
    out = conv_channels_first(
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

    References
    ----------
    - https://pytorch.org/docs/stable/generated/torch.nn.functional.conv1d.html
    - https://jax.readthedocs.io/en/latest/_autosummary/jax.lax.conv_general_dilated.html

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
    out = conv_channels_first(
        x, weight, bias, stride=stride, padding=padding, dilation=dilation, groups=groups, xp=xp
    )
    if data_format == "NLC":
        out = xp.permute_dims(out, (0, 2, 1))
    return out
