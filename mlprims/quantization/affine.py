"""Affine integer quantization as torch: parameters from min/max, quantize, dequantize.

``q = clip(round(x / scale + zero_point), quant_min, quant_max)`` and ``x ~ (q - zero_point)
* scale``, per tensor or per channel along ``axis`` (torch's ``ch_axis``). Shape legend: `x`
of any shape; C = x.shape[axis] channels, each with its own scale and zero point.

Integer dtypes are named by strings: "int8" [-128, 127], "uint8" [0, 255], "int4" [-8, 7],
"uint4" [0, 15]; 4-bit values are stored one a byte in int8 / uint8 arrays.
"""

from __future__ import annotations

import numbers
from typing import Any, NamedTuple, cast

from .._array import (
    Array,
    check_axis,
    check_bool,
    check_dtype,
    check_same_framework,
    floating_namespace,
    index_dtype,
    namespace,
    resolve_dtype,
    shape_str,
    statistics_dtype,
)
from ._common import qparams_like, qrange, storage_dtype, wide_dtype

__all__ = ["QuantParams", "choose_qparams", "dequantize", "quantize"]

#: torch.ao's observers floor the scale at float32's machine epsilon (their default ``eps``).
EPS = 2.0**-23
#: The zero point of symmetric quantization: 0 for signed types; torch's quint8 default 128,
#: and for a custom range such as 0..15 the rounded-down midpoint (quant_min + quant_max) // 2.
SYMMETRIC_ZERO_POINT = {"int8": 0, "int4": 0, "uint8": 128, "uint4": 7}


class QuantParams(NamedTuple):
    """What :func:`choose_qparams` returns: the scale and zero point of affine quantization.

    Attributes
    ----------
    scale : array, shape () or (C,)
        Positive, in the floating dtype of the input (float32 for float16/bfloat16 input).
    zero_point : array, shape () or (C,)
        Integers in [quant_min, quant_max], the default integer dtype (int64).
    """

    scale: Array
    zero_point: Array


def choose_qparams(
    x: Array, /, *, dtype: str = "int8", symmetric: bool = False, axis: int | None = None
) -> QuantParams:
    r"""The scale and zero point that map the range of `x` onto an integer type, as torch.ao.

    Matches ``MinMaxObserver`` (per tensor) and ``PerChannelMinMaxObserver`` (per channel,
    ``ch_axis=axis``) ``calculate_qparams()`` after observing `x`, with
    ``qscheme=per_*_affine`` or ``per_*_symmetric`` (`symmetric`).

    Parameters
    ----------
    x : array
        Real floating, not empty.
    dtype : {"int8", "uint8", "int4", "uint4"}
        The integer type: [quant_min, quant_max] = [-128, 127], [0, 255], [-8, 7], [0, 15].
    symmetric : bool
        A range symmetric about 0, zero point fixed (0 for signed types, 128 for uint8, 7 for
        uint4); otherwise [min, max] of `x` (widened to include 0) is mapped onto the range.
    axis : int, optional
        The channel axis that keeps its own scale and zero point; None: one for the tensor.

    Returns
    -------
    QuantParams
        ``(scale, zero_point)``, each of shape () per tensor or (C,) along `axis` (torch
        returns shape (1,) per tensor).

    Raises
    ------
    ValueError
        An unknown `dtype`, an `axis` outside the dimensions of `x`, an empty `x`.
    TypeError
        `x` not a real floating array, `symmetric` not a bool.

    Notes
    -----
    With ``min_neg = min(min(x), 0)``, ``max_pos = max(max(x), 0)`` (over all axes but
    `axis`) and ``eps = 2**-23`` (float32's machine epsilon, torch's default):

    - affine: ``scale = max((max_pos - min_neg) / (quant_max - quant_min), eps)``,
      ``zero_point = clip(quant_min - round(min_neg / scale), quant_min, quant_max)``;
    - symmetric: ``scale = max(max(-min_neg, max_pos) / ((quant_max - quant_min) / 2), eps)``
      and the fixed zero point (torch.ao's ``_calculate_qparams``).

    With :math:`m_-` = ``min_neg``, :math:`M_+` = ``max_pos``, affine:

    .. math::

        s = \max\left(\frac{M_+ - m_-}{q_\mathrm{max} - q_\mathrm{min}}, \epsilon\right), \qquad
        z = \operatorname{clip}\left(q_\mathrm{min} - \left\lfloor m_- / s \right\rceil,\,
            q_\mathrm{min},\, q_\mathrm{max}\right),

    symmetric:

    .. math::

        s = \max\left(\frac{\max(-m_-, M_+)}{(q_\mathrm{max} - q_\mathrm{min}) / 2},
            \epsilon\right), \qquad z \text{ fixed}.

    ``round`` is half to even. The arithmetic is in the dtype of `x` (float32 for
    float16/bfloat16 input), so float32 input gives torch's values exactly; torch's observers
    cast float64 input to float32 first, mlprims keeps float64.

    References
    ----------
    - https://pytorch.org/docs/stable/generated/torch.ao.quantization.observer.MinMaxObserver.html
    -
      https://pytorch.org/docs/stable/generated/torch.ao.quantization.observer.PerChannelMinMaxObserver.html

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> scale, zero_point = mlprims.choose_qparams(np.array([-1.0, 0.5, 3.0]), dtype="uint8")
    >>> round(float(scale) * 255, 12), int(zero_point)  # 4 / 255, and -1 maps to 0
    (4.0, 64)
    >>> mlprims.choose_qparams(np.array([-1.0, 0.5, 3.0]), symmetric=True).zero_point.item()
    0
    """
    xp = floating_namespace(x)
    qmin, qmax = qrange(dtype)
    check_bool(symmetric, "symmetric")
    if x.ndim == 0 and axis is not None:
        msg = f"`axis` needs an `x` with at least one dimension, got shape {shape_str(x.shape)}"
        raise ValueError(msg)
    ax = None if axis is None else check_axis(axis, x.ndim)
    if 0 in x.shape:
        msg = f"`x` must not be empty, got shape {shape_str(x.shape)}"
        raise ValueError(msg)
    v = xp.astype(x, statistics_dtype(x.dtype, xp=xp), copy=False)
    others = tuple(i for i in range(x.ndim) if i != ax) if ax is not None else None
    if others == ():  # a 1-d x with one value a channel
        lo = hi = v
    else:
        lo, hi = xp.min(v, axis=others), xp.max(v, axis=others)  # () or (C,)
    min_neg, max_pos = xp.minimum(lo, 0.0), xp.maximum(hi, 0.0)  # the range includes 0
    if symmetric:
        scale = xp.clip(xp.maximum(-min_neg, max_pos) / ((qmax - qmin) / 2), min=EPS)
        zero_point = xp.full(scale.shape, SYMMETRIC_ZERO_POINT[dtype], dtype=index_dtype(xp))
    else:
        scale = xp.clip((max_pos - min_neg) / float(qmax - qmin), min=EPS)
        zero_point = xp.clip(qmin - xp.round(min_neg / scale), qmin, qmax)
        zero_point = xp.astype(zero_point, index_dtype(xp))
    return QuantParams(scale, zero_point)


def quantize(
    x: Array,
    scale: Any,
    zero_point: Any,
    /,
    *,
    dtype: str = "int8",
    axis: int | None = None,
) -> Array:
    r"""Affine quantization to integers: ``clip(round(x / scale + zero_point), qmin, qmax)``.

    Matches ``torch.quantize_per_tensor(x, scale, zero_point, qdtype).int_repr()`` (`axis`
    None) and ``torch.quantize_per_channel(x, scale, zero_point, axis, qdtype).int_repr()``.

    Parameters
    ----------
    x : array
        Real floating.
    scale : float or array
        Positive: a number, or an array of shape () or (1,) per tensor, (C,) along `axis`.
    zero_point : int or integer array
        An int or an array of the shape of `scale`.
    dtype : {"int8", "uint8", "int4", "uint4"}
        The integer type: [qmin, qmax] = [-128, 127], [0, 255], [-8, 7], [0, 15].
    axis : int, optional
        The channel axis that keeps its own scale and zero point (torch's ``axis``).

    Returns
    -------
    array
        The shape of `x`; int8 for "int8" and "int4", uint8 for "uint8" and "uint4".

    Raises
    ------
    ValueError
        An unknown `dtype`, a bad `axis`, `scale` or `zero_point` of the wrong shape, a
        Python `scale` that is not positive and finite.
    TypeError
        `x` or `scale` not floating, `zero_point` not an int or integer array, an array of
        another framework.

    Notes
    -----
    .. math:: q = \operatorname{clip}\left(\left\lfloor x / s + z \right\rceil,\,
              q_\mathrm{min},\, q_\mathrm{max}\right),

    that is ``q = clip(round(x * (1 / scale) + zero_point), qmin, qmax)``, round half to even, as
    torch's CPU kernel (fbgemm's ``Quantize``) computes it: it multiplies by ``1 / scale``
    (in the dtype of `x`; float32 for float16/bfloat16) rather than dividing, and adds the
    zero point *before* rounding, so a tie ``x / scale = k + 1/2`` rounds to the even one of
    ``zero_point + k`` and ``zero_point + k + 1``; with an odd zero point that is not
    ``round(x / scale) + zero_point``, which :func:`~mlprims.fake_quantize` (torch's
    ``fake_quantize_*``) computes. The sum ``x * (1 / scale) + zero_point`` is rounded once,
    as the fused multiply-add of ``torch.quantize_per_tensor`` (measured; for float32 input
    the product is formed exactly in float64, so the result does not depend on whether a
    compiler fuses: XLA's default CPU flags do). ``torch.quantize_per_channel`` rounds the
    product to float32 first: where that rounding lands on a half-integer (e.g. the most
    negative value of symmetric uint8, ``-127.5 + 128``) the two torch functions differ by
    one step, and this function gives ``quantize_per_tensor``'s answer for both. Without
    float64 (JAX without x64) the sum is rounded as the framework rounds it. NaN gives an
    unspecified value.

    References
    ----------
    - Jacob et al. 2018, https://arxiv.org/abs/1712.05877
    - https://pytorch.org/docs/stable/generated/torch.quantize_per_tensor.html
    - https://pytorch.org/docs/stable/generated/torch.quantize_per_channel.html

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> x = np.array([-1.0, 0.25, 0.75, 100.0])
    >>> mlprims.quantize(x, 0.5, 1).tolist()  # 1 + (-2, 0.5, 1.5, 200) rounded, clipped
    [-1, 2, 2, 127]
    >>> q = mlprims.quantize(x, 0.5, 1, dtype="uint4")
    >>> q.tolist(), mlprims.dequantize(q, 0.5, 1).tolist()
    ([0, 2, 2, 15], [-0.5, 0.5, 0.5, 7.0])
    """
    xp = namespace(x, names=("x",))
    check_dtype(x, "x", "real floating", xp=xp)
    qmin, qmax = qrange(dtype)
    compute = statistics_dtype(x.dtype, xp=xp)
    s, z = qparams_like(x, scale, zero_point, axis, xp=xp, dtype=compute)
    inverse, v = 1.0 / s, xp.astype(x, compute, copy=False)
    wide = wide_dtype(compute, xp=xp)
    # x * inverse + z rounded once (a fused multiply-add), the product exact in float64:
    # whether a compiler fuses the two operations or not, the value is the same
    t = xp.astype(v, wide) * xp.astype(inverse, wide) + z
    q = xp.clip(xp.round(xp.astype(t, compute)), qmin, qmax)  # the zero point before rounding
    return xp.astype(q, storage_dtype(dtype, xp=xp))


def dequantize(q: Array, scale: Any, zero_point: Any, /, *, axis: int | None = None) -> Array:
    r"""Integers back to real values: ``(q - zero_point) * scale``.

    Matches ``.dequantize()`` of torch's quantized tensors (``quantize_per_tensor`` with
    `axis` None, ``quantize_per_channel`` otherwise).

    Parameters
    ----------
    q : integer array
        E.g. from :func:`quantize`.
    scale : float or array
        Positive: a number, or an array of shape () or (1,) per tensor, (C,) along `axis`.
    zero_point : int or integer array
        An int or an array of the shape of `scale`.
    axis : int, optional
        The channel axis of `scale` and `zero_point`.

    Returns
    -------
    array
        The shape of `q`, in the dtype of `scale` when it has one (an array, a NumPy
        scalar), float32 for a Python number (torch's dequantized tensors are float32).

    Raises
    ------
    ValueError
        A bad `axis`, `scale` or `zero_point` of the wrong shape.
    TypeError
        `q` not an integer array, `scale` not floating, `zero_point` not integer.

    Notes
    -----
    .. math::

        x = (q - z)\,s

    (:math:`z, s` of the channel along `axis` when given), that is
    ``x = (q - zero_point) * scale``, the subtraction exact, one rounding in the product.

    References
    ----------
    - https://pytorch.org/docs/stable/generated/torch.dequantize.html

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> mlprims.dequantize(np.array([0, 2, 127], dtype=np.int8), 0.5, 1).tolist()
    [-0.5, 0.5, 63.0]
    """
    xp = namespace(q, names=("q",))
    check_dtype(q, "q", "integral", xp=xp)
    out = xp.float32  # torch's dequantized tensors; else the dtype of `scale`
    if not isinstance(scale, numbers.Number):
        check_same_framework(scale, "scale", xp=xp, like="q")
        check_dtype(scale, "scale", "real floating", xp=xp)
        out = scale.dtype
    elif getattr(getattr(scale, "dtype", None), "kind", "") == "f":  # a NumPy float scalar
        out = resolve_dtype(cast(Any, scale).dtype.name, xp=xp)
    s, z = qparams_like(q, scale, zero_point, axis, xp=xp, dtype=out, like="q")
    return (xp.astype(q, out) - z) * s
