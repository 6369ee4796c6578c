"""Gated linear units: the SwiGLU feed-forward block of LLaMA.

Shape legend: ``D`` input features, ``H`` hidden features, ``O`` output features.
"""

from __future__ import annotations

from .._array import Array, Namespace, check_same_framework, floating_namespace, shape_str
from .elementwise import silu

__all__: list[str] = ["swiglu"]


def swiglu(x: Array, w_gate: Array, w_up: Array, w_down: Array | None = None, /) -> Array:
    r"""The SwiGLU feed-forward block ``(silu(x @ w_gate) * (x @ w_up)) @ w_down``.

    Shazeer, "GLU Variants Improve Transformer" (2020), as in LLaMA's MLP.

    Parameters
    ----------
    x : array (..., D), real floating
    w_gate, w_up : arrays (D, H), dtype of `x`
        The gate and up projections, in the JAX/Flax ``(in, out)`` layout: a PyTorch
        ``nn.Linear(D, H).weight`` is ``(H, D)``, pass its transpose.
    w_down : array (H, O), dtype of `x`, optional
        The down projection; without it the hidden activations (..., H) are returned.

    Returns
    -------
    array (..., O), or (..., H) without `w_down`; dtype of `x`.

    Notes
    -----
    .. math::

        y = \bigl(\operatorname{silu}(x W_\text{gate}) \odot x W_\text{up}\bigr) W_\text{down},
        \qquad \operatorname{silu}(z) = z\,\sigma(z)

    without the final :math:`W_\text{down}` when `w_down` is None.

    References
    ----------
    - Shazeer 2020, "GLU Variants Improve Transformer", https://arxiv.org/abs/2002.05202

    Examples
    --------
    >>> import numpy as np
    >>> x, w = np.ones((2, 3)), np.full((3, 4), 0.5)
    >>> swiglu(x, w, w, np.ones((4, 1))).round(3)
    array([[7.358],
           [7.358]])
    """
    xp = floating_namespace(x, "x")
    for name, w in (("w_gate", w_gate), ("w_up", w_up), ("w_down", w_down)):
        if w is not None:
            _check_weight_dtype(w, name, x, xp=xp)
    if x.ndim == 0:
        msg = "`x` must have shape (..., D), got a 0-d array"
        raise ValueError(msg)
    d = x.shape[-1]
    if w_gate.ndim != 2 or w_gate.shape[0] != d:
        msg = (
            f"`w_gate` must have shape (D, H) with D = {d} (the last axis of `x`), "
            f"got {shape_str(w_gate.shape)}"
        )
        raise ValueError(msg)
    if tuple(w_up.shape) != tuple(w_gate.shape):
        msg = (
            f"`w_up` must have the shape of `w_gate`, (D, H) = {shape_str(w_gate.shape)}, "
            f"got {shape_str(w_up.shape)}"
        )
        raise ValueError(msg)
    hidden = silu(x @ w_gate) * (x @ w_up)  # (..., H)
    if w_down is None:
        return hidden
    h = w_gate.shape[1]
    if w_down.ndim != 2 or w_down.shape[0] != h:
        msg = (
            f"`w_down` must have shape (H, O) with H = {h} (the last axis of `w_gate`), "
            f"got {shape_str(w_down.shape)}"
        )
        raise ValueError(msg)
    return hidden @ w_down  # (..., O)


def _check_weight_dtype(w: Array, name: str, x: Array, *, xp: Namespace) -> None:
    check_same_framework(w, name, xp=xp)
    if w.dtype != x.dtype:
        msg = f"`{name}` must have the dtype of `x` ({x.dtype}), got {w.dtype}"
        raise TypeError(msg)
