"""Preference losses: DPO (direct preference optimisation) and its IPO and hinge variants, as
TRL's ``DPOTrainer.dpo_loss`` computes them from sequence log-probabilities.

Shape legend: ``B`` preference pairs (any shape ``...`` works, the same for the four inputs).
"""

from __future__ import annotations

from .._array import (
    Array,
    check_array,
    check_choice,
    check_floating,
    check_in_range,
    namespace,
    shape_str,
    statistics_dtype,
)
from ..activations import relu
from ._common import log_sigmoid

__all__: list[str] = ["dpo_loss"]

_LOSS_TYPES = ("sigmoid", "ipo", "hinge")
_NAMES = (
    "policy_chosen_logps",
    "policy_rejected_logps",
    "reference_chosen_logps",
    "reference_rejected_logps",
)


def dpo_loss(
    policy_chosen_logps: Array,
    policy_rejected_logps: Array,
    reference_chosen_logps: Array,
    reference_rejected_logps: Array,
    /,
    *,
    beta: float = 0.1,
    label_smoothing: float = 0.0,
    loss_type: str = "sigmoid",
) -> tuple[Array, Array, Array]:
    r"""The DPO loss of each preference pair and the implicit rewards of its two responses.

    Matches TRL's ``DPOTrainer.dpo_loss``.

    Parameters
    ----------
    policy_chosen_logps, policy_rejected_logps : array (B,), real floating
        ``log pi(y_w | x)`` and ``log pi(y_l | x)``: the log-probability of the chosen and the
        rejected response under the trained policy (summed over the response's tokens).
    reference_chosen_logps, reference_rejected_logps : array (B,), real floating
        The same under the frozen reference model. The four have one shape.
    beta : float > 0
        The inverse temperature of the implicit reward (TRL's default 0.1); for "ipo" the
        regularisation ``tau`` of the IPO paper.
    label_smoothing : float in [0, 0.5]
        cDPO's probability that a label is flipped (Mitchell 2023); "sigmoid" only.
    loss_type : {"sigmoid", "ipo", "hinge"}

    Returns
    -------
    losses : array (B,)
        The loss of each pair (TRL's trainer takes their mean).
    chosen_rewards, rejected_rewards : array (B,)
        ``beta (log pi - log pi_ref)`` of the chosen and the rejected responses. TRL returns
        them detached (``.detach()``); here they are plain values, differentiable on torch
        and JAX: stop their gradient before adding them to a loss.

    All three in the promoted dtype of the inputs.

    Notes
    -----
    With ``h = (log pi(y_w) - log pi(y_l)) - (log pi_ref(y_w) - log pi_ref(y_l))``, the
    policy's log-ratio minus the reference's, and ``eps`` = `label_smoothing`:

    * "sigmoid" (DPO, Rafailov et al. 2023, Eq. 7; cDPO):
      ``-(1 - eps) log sigmoid(beta h) - eps log sigmoid(-beta h)``;
    * "ipo" (Azar et al. 2023, Eq. 17): ``(h - 1 / (2 beta))^2``;
    * "hinge" (RSO, Liu et al. 2023): ``max(0, 1 - beta h)``.

    "sigmoid", with :math:`\pi` the policy and :math:`\pi_\mathrm{ref}` the reference:

    .. math:: \ell = -\log \sigma\left(\beta \left(
              \log \frac{\pi(y_w \mid x)}{\pi_\mathrm{ref}(y_w \mid x)}
              - \log \frac{\pi(y_l \mid x)}{\pi_\mathrm{ref}(y_l \mid x)}\right)\right).

    ``log sigmoid`` is computed stably (finite for ``beta h`` of +-1000). TRL ignores
    `label_smoothing` with "ipo" and "hinge" (with a warning); here it is a ValueError.

    References
    ----------
    - Rafailov et al. 2023, "Direct Preference Optimization", https://arxiv.org/abs/2305.18290
    - https://huggingface.co/docs/trl/dpo_trainer

    Examples
    --------
    >>> import numpy as np
    >>> losses, chosen, rejected = dpo_loss(
    ...     np.array([-1.0]), np.array([-3.0]), np.array([-2.0]), np.array([-2.0]), beta=0.5)
    >>> losses.round(4).tolist(), chosen.tolist(), rejected.tolist()
    ([0.3133], [0.5], [-0.5])
    """
    arrays = (
        policy_chosen_logps,
        policy_rejected_logps,
        reference_chosen_logps,
        reference_rejected_logps,
    )
    for name, a in zip(_NAMES, arrays, strict=True):
        check_array(a, name)
    xp = namespace(*arrays, names=_NAMES)
    for name, a in zip(_NAMES, arrays, strict=True):
        check_floating(a, name, xp=xp)
        if tuple(a.shape) != tuple(policy_chosen_logps.shape):
            msg = (
                f"`{name}` must have the shape of `policy_chosen_logps`, "
                f"{shape_str(policy_chosen_logps.shape)}, got {shape_str(a.shape)}"
            )
            raise ValueError(msg)
    beta = check_in_range(beta, "beta", 0.0, closed=(False, False))
    eps = check_in_range(label_smoothing, "label_smoothing", 0.0, 0.5)
    loss_type = check_choice(loss_type, "loss_type", _LOSS_TYPES)
    if eps > 0 and loss_type != "sigmoid":
        msg = (
            f"`label_smoothing` applies to loss_type='sigmoid' only, got {eps} with "
            f"loss_type={loss_type!r}"
        )
        raise ValueError(msg)

    dtype = xp.result_type(*(a.dtype for a in arrays))
    work = statistics_dtype(dtype, xp=xp)
    pi_c, pi_r, ref_c, ref_r = (xp.astype(a, work) for a in arrays)
    logits = (pi_c - pi_r) - (ref_c - ref_r)  # (B,) policy log-ratio minus the reference's
    if loss_type == "sigmoid":
        losses = -log_sigmoid(beta * logits, xp=xp)
        if eps > 0:
            losses = (1.0 - eps) * losses - eps * log_sigmoid(-beta * logits, xp=xp)
    elif loss_type == "ipo":
        losses = (logits - 1.0 / (2.0 * beta)) ** 2
    else:
        losses = relu(1.0 - beta * logits)
    chosen_rewards = beta * (pi_c - ref_c)
    rejected_rewards = beta * (pi_r - ref_r)
    return (
        xp.astype(losses, dtype),
        xp.astype(chosen_rewards, dtype),
        xp.astype(rejected_rewards, dtype),
    )
