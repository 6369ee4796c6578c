"""Float64 NumPy oracles for :mod:`mlprims.losses`, written independently of the primitives:
torch's cross-entropy as a loop over the elements of the batch (ignored ones skipped), on a
long-double log-softmax, and the binary cross-entropy through ``logaddexp``; torchvision's
focal loss line by line (its ``p_t``, ``alpha_t`` and negative-alpha switch); F.kl_div term by
term with ``math.log``; CLIP's loss and InfoNCE row by row (``logsumexp`` minus the diagonal);
TRL's DPO formulas through ``logaddexp``. Shared by ``tests/`` and ``mlprims check``.
"""

from __future__ import annotations

import math

import numpy as np

from .activations import log_softmax_reference

__all__ = [
    "binary_cross_entropy_with_logits_reference",
    "clip_loss_reference",
    "cross_entropy_reference",
    "dpo_loss_reference",
    "info_nce_loss_reference",
    "kl_div_reference",
    "sigmoid_focal_loss_reference",
]


def cross_entropy_reference(
    logits,
    target,
    *,
    weight=None,
    ignore_index=-100,
    reduction="mean",
    label_smoothing=0.0,
    axis=-1,
):
    """torch's cross_entropy, one element of the batch at a time; matches ``cross_entropy``.

    Integer `target`: class indices (`ignore_index` skipped, the weighted mean divides by the
    weights of the targets); floating `target`: class probabilities.
    """
    z = np.moveaxis(np.asarray(logits, dtype=np.float64), axis, -1)
    n_classes = z.shape[-1]
    logp = log_softmax_reference(z).reshape(-1, n_classes)
    w = np.ones(n_classes) if weight is None else np.asarray(weight, dtype=np.float64)
    eps = label_smoothing
    target = np.asarray(target)
    if np.issubdtype(target.dtype, np.integer):
        losses, denominator = [], 0.0
        for i, c in enumerate(target.reshape(-1)):
            if c == ignore_index:
                losses.append(0.0)
                continue
            nll = -w[c] * logp[i, c]
            smooth = -np.sum(w * logp[i])
            losses.append((1 - eps) * nll + eps / n_classes * smooth)
            denominator += w[c]
        mean = np.sum(losses) / denominator if denominator else np.nan
    else:
        q = np.moveaxis(np.asarray(target, dtype=np.float64), axis, -1).reshape(-1, n_classes)
        q = (1 - eps) * q + eps / n_classes
        losses = [-np.sum(w * q[i] * logp[i]) for i in range(len(q))]
        mean = np.sum(losses) / len(losses) if losses else np.nan
    if reduction == "none":
        return np.array(losses).reshape(z.shape[:-1])
    return np.sum(losses) if reduction == "sum" else mean


def binary_cross_entropy_with_logits_reference(
    logits, target, *, weight=None, pos_weight=None, reduction="mean"
):
    """``w [p y logaddexp(0, -x) + (1 - y) logaddexp(0, x)]``; matches torch's BCE with logits."""
    x, y = np.asarray(logits, dtype=np.float64), np.asarray(target, dtype=np.float64)
    p = 1.0 if pos_weight is None else np.asarray(pos_weight, dtype=np.float64)
    w = 1.0 if weight is None else np.asarray(weight, dtype=np.float64)
    loss = w * (p * y * np.logaddexp(0.0, -x) + (1 - y) * np.logaddexp(0.0, x))
    loss = np.broadcast_to(loss, x.shape)
    return {"none": loss, "sum": loss.sum(), "mean": loss.mean()}[reduction]


def sigmoid_focal_loss_reference(inputs, targets, *, alpha=0.25, gamma=2.0, reduction="none"):
    """torchvision's ``sigmoid_focal_loss`` line by line, in float64: ``p = sigmoid(x)`` (as
    ``(1 + tanh(x / 2)) / 2``, which never overflows), the BCE by ``logaddexp``,
    ``p_t = p y + (1 - p) (1 - y)``, ``loss = ce (1 - p_t)^gamma``, times
    ``alpha_t = alpha y + (1 - alpha) (1 - y)`` when ``alpha >= 0``."""
    x, y = np.asarray(inputs, dtype=np.float64), np.asarray(targets, dtype=np.float64)
    p = (1.0 + np.tanh(x / 2.0)) / 2.0
    ce_loss = y * np.logaddexp(0.0, -x) + (1 - y) * np.logaddexp(0.0, x)
    p_t = p * y + (1 - p) * (1 - y)
    loss = ce_loss * ((1 - p_t) ** gamma)
    if alpha >= 0:
        alpha_t = alpha * y + (1 - alpha) * (1 - y)
        loss = alpha_t * loss
    return {"none": loss, "sum": loss.sum(), "mean": loss.mean()}[reduction]


def kl_div_reference(input, target, *, reduction="mean", log_target=False):
    """torch's F.kl_div one term at a time: ``q (log q - log p)``, 0 where ``q = 0``.

    ``log p`` = `input`; ``q`` = `target`, or ``exp(target)`` with `log_target`. A zero
    ``q`` contributes 0 even where ``log p = -inf`` (torch: NaN there).
    """
    log_p, t = np.broadcast_arrays(
        np.asarray(input, dtype=np.float64), np.asarray(target, dtype=np.float64)
    )
    terms = np.zeros(log_p.shape)
    for i in np.ndindex(log_p.shape):
        if log_target:
            log_q = float(t[i])
            q = 0.0 if log_q == -math.inf else math.exp(log_q)
        else:
            q = float(t[i])
            log_q = math.log(q) if q > 0 else 0.0
        terms[i] = 0.0 if q == 0 else q * (log_q - float(log_p[i]))
    if reduction == "none":
        return terms
    if reduction == "sum":
        return terms.sum()
    if reduction == "batchmean":
        count = np.shape(input)[0] if np.ndim(input) else 1  # a 0-d input: not divided
    else:
        count = terms.size
    return terms.sum() / count if count else math.nan


def _mean_cross_entropy_to_diagonal(logits):
    """``mean_i logsumexp(L[i]) - L[i, i]`` over the rows of a square matrix."""
    rows = [np.logaddexp.reduce(row) - row[i] for i, row in enumerate(logits)]
    return float(np.mean(rows))


def clip_loss_reference(logits_per_text):
    """transformers' CLIP loss: the rows' and the columns' mean cross-entropy against the
    diagonal, averaged."""
    logits = np.asarray(logits_per_text, dtype=np.float64)
    return (_mean_cross_entropy_to_diagonal(logits) + _mean_cross_entropy_to_diagonal(logits.T)) / 2


def info_nce_loss_reference(a, b, *, temperature=0.07, symmetric=True):
    """Cosine similarities of the rows (each divided by ``max(||row||, 1e-12)``) over the
    temperature, the diagonal as the labels: CLIP's loss, or the rows' direction only."""
    a, b = (np.asarray(x, dtype=np.float64) for x in (a, b))
    a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    logits = a @ b.T / temperature
    if symmetric:
        return clip_loss_reference(logits)
    return _mean_cross_entropy_to_diagonal(logits)


def dpo_loss_reference(
    policy_chosen_logps,
    policy_rejected_logps,
    reference_chosen_logps,
    reference_rejected_logps,
    *,
    beta=0.1,
    label_smoothing=0.0,
    loss_type="sigmoid",
):
    """TRL's ``DPOTrainer.dpo_loss`` (trl/trainer/dpo_trainer.py), transcribed:
    (losses, chosen_rewards, rejected_rewards), ``-log sigmoid(z) = logaddexp(0, -z)``."""
    pi_c, pi_r, ref_c, ref_r = (
        np.asarray(x, dtype=np.float64)
        for x in (
            policy_chosen_logps,
            policy_rejected_logps,
            reference_chosen_logps,
            reference_rejected_logps,
        )
    )
    logits = (pi_c - pi_r) - (ref_c - ref_r)  # pi_logratios - ref_logratios
    if loss_type == "sigmoid":
        losses = (1 - label_smoothing) * np.logaddexp(0.0, -beta * logits)
        losses = losses + label_smoothing * np.logaddexp(0.0, beta * logits)
    elif loss_type == "hinge":
        losses = np.maximum(1 - beta * logits, 0.0)
    elif loss_type == "ipo":
        losses = (logits - 1 / (2 * beta)) ** 2
    else:
        raise ValueError(loss_type)
    return losses, beta * (pi_c - ref_c), beta * (pi_r - ref_r)
