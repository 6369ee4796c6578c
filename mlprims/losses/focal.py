"""The focal loss of RetinaNet: binary cross-entropy on logits, scaled down where the model is
already right, as torchvision's ``sigmoid_focal_loss``.

Shape legend: ``...`` any shape (``N, C`` for one logit per class and anchor); the loss is
elementwise, then reduced.

Computed from the stable binary cross-entropy (``log_sigmoid``: no overflow for logits of
+-1000) and from ``1 - p_t`` written as ``sigmoid(x) (1 - y) + sigmoid(-x) y``, which keeps
its relative precision where ``p_t`` is close to 1 (``1 - sigmoid(30)`` is 0 in float32,
``sigmoid(-30)`` is 9.4e-14).
"""

from __future__ import annotations

from .._array import (
    Array,
    check_choice,
    check_floating,
    check_in_range,
    namespace,
    shape_str,
    statistics_dtype,
)
from ..activations import sigmoid
from ._common import REDUCTIONS, log_sigmoid, reduce

__all__: list[str] = ["sigmoid_focal_loss"]


def sigmoid_focal_loss(
    inputs: Array,
    targets: Array,
    /,
    *,
    alpha: float = 0.25,
    gamma: float = 2.0,
    reduction: str = "none",
) -> Array:
    r"""The focal loss (Lin et al., RetinaNet) of logits `inputs` against binary `targets`.

    Parameters
    ----------
    inputs : array (...), real floating
        Logits: ``sigmoid(inputs)`` is the predicted probability of the positive class.
    targets : array (...), real floating, the shape of `inputs`
        1 for the positive class, 0 for the negative (soft labels in [0, 1] are allowed).
    alpha : float
        The weight of the positive class, ``1 - alpha`` that of the negative one; a
        negative `alpha` weighs nothing (torchvision's rule). Default 0.25.
    gamma : float
        The focusing exponent, >= 0; 0 gives the (alpha-weighted) cross-entropy. Default 2.
    reduction : {"none", "mean", "sum"}
        ``"none"`` (the default, as torchvision) returns the per-element losses.

    Returns
    -------
    array: (...) for "none", else a scalar (0-d); dtype of `inputs`.

    Raises
    ------
    ValueError
        If the shapes differ, `alpha` is not finite, `gamma` is negative or not finite, or
        `reduction` is unknown.
    TypeError
        If an input is not real floating, or `alpha` / `gamma` is not a number.

    Notes
    -----
    With ``p = sigmoid(x)`` and ``p_t = p y + (1 - p) (1 - y)``::

        FL = alpha_t (1 - p_t)^gamma BCE(x, y),   alpha_t = alpha y + (1 - alpha) (1 - y)

    (``alpha_t = 1`` when ``alpha < 0``), ``BCE(x, y) = (1 - y) x - log_sigmoid(x)``:

    .. math:: \mathrm{FL}(p_t) = -\alpha_t (1 - p_t)^\gamma \log p_t.

    Matches ``torchvision.ops.sigmoid_focal_loss`` (its formula, the default ``reduction``
    "none" and the negative-alpha switch); computed in float32 for 16-bit inputs.

    References
    ----------
    - Lin et al. 2017, "Focal Loss for Dense Object Detection", https://arxiv.org/abs/1708.02002
    - https://pytorch.org/vision/stable/generated/torchvision.ops.sigmoid_focal_loss.html

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> x, y = np.array([2.0, -1.0, 0.0]), np.array([1.0, 0.0, 1.0])
    >>> mlprims.sigmoid_focal_loss(x, y).round(5).tolist()
    [0.00045, 0.01699, 0.04332]
    >>> float(mlprims.sigmoid_focal_loss(x, y, alpha=-1.0, gamma=0.0, reduction="sum").round(5))
    1.13334
    """
    xp = namespace(inputs, targets, names=("inputs", "targets"))
    check_floating(inputs, "inputs", xp=xp)
    check_floating(targets, "targets", xp=xp)
    if tuple(targets.shape) != tuple(inputs.shape):
        msg = (
            f"`targets` must have the shape of `inputs`, {shape_str(inputs.shape)}, "
            f"got {shape_str(targets.shape)}"
        )
        raise ValueError(msg)
    alpha = check_in_range(alpha, "alpha", closed=(False, False))  # any finite number
    gamma = check_in_range(gamma, "gamma", 0.0, closed=(True, False))
    reduction = check_choice(reduction, "reduction", REDUCTIONS)

    work = statistics_dtype(inputs.dtype, xp=xp)
    x, y = xp.astype(inputs, work), xp.astype(targets, work)
    cross_entropy = (1.0 - y) * x - log_sigmoid(x, xp=xp)  # BCE with logits, stably
    one_minus_p_t = sigmoid(x) * (1.0 - y) + sigmoid(-x) * y  # = 1 - p_t, to full precision
    loss = cross_entropy * one_minus_p_t**gamma
    if alpha >= 0:
        loss = (alpha * y + (1.0 - alpha) * (1.0 - y)) * loss
    return xp.astype(reduce(loss, reduction, xp=xp), inputs.dtype)
