"""A linear layer whose weight is stored as int8, one scale per output channel.

Weight-only quantization: the activations stay floating, the weight (D_in, D_out) is kept as
integers ``q`` with a scale per output column, ``w = q * scale``. Shape legend: ``...`` leading
axes of the input, D_in and D_out the widths of the layer (``y = x @ w + b``).
"""

from __future__ import annotations

from .._array import Array, check_broadcasts_to, check_dtype, namespace, shape_str
from .._layers import linear

__all__ = ["quantized_linear"]


def quantized_linear(
    x: Array, q_weight: Array, scale: Array, bias: Array | None = None, /
) -> Array:
    r"""A linear layer with an integer weight and one scale per output channel.

    Equals dequantizing the weight, then the float layer: ``x @ (q_weight * scale) + bias``,
    i.e. ``x @ mlprims.dequantize(q_weight, scale, 0, axis=1) + bias`` (symmetric weights,
    e.g. from ``choose_qparams(w, symmetric=True, axis=1)`` and :func:`~mlprims.quantize`).

    Parameters
    ----------
    x : array, shape (..., D_in)
        Real floating activations.
    q_weight : integer array, shape (D_in, D_out)
        The quantized weight, e.g. int8 (int4 values stored in int8 alike); torch's
        ``nn.Linear.weight`` is its transpose.
    scale : array, shape (D_out,) or ()
        Real floating: the scale of each output column (or one for all).
    bias : array of shape (D_out,), or None
        Real floating.

    Returns
    -------
    array, shape (..., D_out)
        In the dtype of `x`.

    Raises
    ------
    ValueError
        Shapes that do not fit.
    TypeError
        `x`, `scale` or `bias` not floating, `q_weight` not integer, arrays of two frameworks.

    Notes
    -----
    .. math::

        y_j = \sum_i x_i \, W_{ij} + b_j, \qquad W_{ij} = q_{ij}\, s_j,

    ``y = x @ W + b`` with ``W = q_weight * scale`` formed in the dtype of `x`: the weight is
    dequantized first, then one matmul, so the result equals the float layer on the
    dequantized weight (torch's ``F.linear(x, (q * scale).T, b)``) to rounding.

    References
    ----------
    - Jacob et al. 2018, "Quantization and Training of Neural Networks for Efficient
      Integer-Arithmetic-Only Inference", https://arxiv.org/abs/1712.05877
    - https://pytorch.org/docs/stable/generated/torch.quantize_per_channel.html

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> q = np.array([[1, -2], [3, 4]], dtype=np.int8)
    >>> mlprims.quantized_linear(np.array([[1.0, 1.0]]), q, np.array([0.5, 0.25])).tolist()
    [[2.0, 0.5]]
    """
    xp = namespace(x, q_weight, scale, bias, names=("x", "q_weight", "scale", "bias"))
    check_dtype(x, "x", "real floating", xp=xp)
    check_dtype(q_weight, "q_weight", "integral", xp=xp)
    check_dtype(scale, "scale", "real floating", xp=xp)
    if q_weight.ndim != 2:
        msg = f"`q_weight` must have shape (D_in, D_out), got {shape_str(q_weight.shape)}"
        raise ValueError(msg)
    d_in, d_out = q_weight.shape
    if x.ndim < 1 or x.shape[-1] != d_in:
        msg = (
            f"`x` must have shape (..., D_in) with D_in = q_weight.shape[0] = {d_in}, got "
            f"{shape_str(x.shape)} (q_weight is (D_in, D_out): torch's nn.Linear.weight.T)"
        )
        raise ValueError(msg)
    if scale.ndim > 1:
        msg = f"`scale` must have shape (D_out,) = ({d_out},) or (), got {shape_str(scale.shape)}"
        raise ValueError(msg)
    check_broadcasts_to(scale.shape, (d_out,), "scale", target_name="(D_out,)")
    if bias is not None:
        check_dtype(bias, "bias", "real floating", xp=xp)
        if tuple(bias.shape) != (d_out,):
            msg = f"`bias` must have shape (D_out,) = ({d_out},), got {shape_str(bias.shape)}"
            raise ValueError(msg)
        bias = xp.astype(bias, x.dtype, copy=False)
    weight = xp.astype(q_weight, x.dtype) * xp.astype(scale, x.dtype, copy=False)  # (D_in, D_out)
    return linear(x, weight, bias)
