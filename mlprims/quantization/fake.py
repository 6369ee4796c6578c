"""Fake quantization: quantize and dequantize in one step, with the straight-through gradient.

Quantization-aware training runs the float model on values rounded to the integer grid; the
rounding's derivative is zero almost everywhere, so the gradient is passed straight through
where the value was inside the range (Bengio et al. 2013; Jacob et al. 2018), as torch's
``fake_quantize_per_tensor_affine`` / ``fake_quantize_per_channel_affine`` do. Shape legend:
`x` of any shape; C = x.shape[axis] channels, each with its own scale and zero point.
"""

from __future__ import annotations

from typing import Any

from .. import backends
from .._array import Array, check_dtype, namespace, statistics_dtype
from ._common import qparams_like, qrange

__all__ = ["fake_quantize"]


def fake_quantize(
    x: Array,
    scale: Any,
    zero_point: Any,
    /,
    *,
    dtype: str = "int8",
    axis: int | None = None,
) -> Array:
    r"""Quantize then dequantize, with the straight-through gradient of quantization-aware training.

    Matches ``torch.fake_quantize_per_tensor_affine(x, scale, zero_point, qmin, qmax)``
    (`axis` None) and ``torch.fake_quantize_per_channel_affine(x, scale, zero_point, axis,
    qmin, qmax)``, in value and in gradient.

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
        The shape and dtype of `x`: values on the grid ``(q - zero_point) * scale``.

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
    ``q = round(x * (1 / scale)) + zero_point`` (round half to even),
    ``y = (clip(q, qmin, qmax) - zero_point) * scale``, and ``dy/dx = 1`` where
    ``qmin <= q <= qmax``, 0 elsewhere; `scale` and `zero_point` get no gradient (torch
    refuses to differentiate them). The zero point is added *after* rounding, as torch's
    fake-quantize kernels do; :func:`~mlprims.quantize` (torch's ``quantize_per_*``) adds it
    before, so at a tie ``x / scale = k + 1/2`` with an odd zero point the two differ by one
    step. Computed in the dtype of `x` (float32 for float16/bfloat16, cast back); torch
    computes float64 input in float32.

    .. math:: y = s \left(\operatorname{clip}\left(\lfloor x / s \rceil + z,\,
              q_\mathrm{min},\, q_\mathrm{max}\right) - z\right), \qquad
              \frac{\partial y}{\partial x} = [q_\mathrm{min} \le q \le q_\mathrm{max}].

    The gradient is written ``stop_gradient(y) + where(inside, x - stop_gradient(x), 0)``
    with the backend's ``stop_gradient``: the value is `y`, the derivative that of
    ``where(inside, x, 0)``, under torch autograd and ``jax.grad`` alike.

    References
    ----------
    - https://pytorch.org/docs/stable/generated/torch.fake_quantize_per_tensor_affine.html
    - https://pytorch.org/docs/stable/generated/torch.fake_quantize_per_channel_affine.html

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> x = np.array([-1.0, 0.25, 0.75, 100.0])
    >>> mlprims.fake_quantize(x, 0.5, 1).tolist()  # (clip(round(2x) + 1) - 1) / 2
    [-1.0, 0.0, 1.0, 63.0]
    """
    xp = namespace(x, names=("x",))
    check_dtype(x, "x", "real floating", xp=xp)
    qmin, qmax = qrange(dtype)
    compute = statistics_dtype(x.dtype, xp=xp)
    s, z = qparams_like(x, scale, zero_point, axis, xp=xp, dtype=compute)
    q = xp.round(xp.astype(x, compute, copy=False) * (1.0 / s)) + z  # round, then zero point
    inside = (q >= qmin) & (q <= qmax)  # where the gradient passes
    y = xp.astype((xp.clip(q, qmin, qmax) - z) * s, x.dtype, copy=False)
    stop_gradient = backends.of(x).stop_gradient
    return stop_gradient(y) + xp.where(inside, x - stop_gradient(x), xp.zeros_like(x))
