"""Float64 NumPy oracles for :mod:`mlprims.losses`, written independently of the primitives:
torch's cross-entropy as a loop over the elements of the batch (ignored ones skipped), on a
long-double log-softmax, and the binary cross-entropy through ``logaddexp``. Shared by
``tests/`` and ``mlprims check``.
"""

from __future__ import annotations

import numpy as np

from .activations import log_softmax_reference

__all__ = ["binary_cross_entropy_with_logits_reference", "cross_entropy_reference"]


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
