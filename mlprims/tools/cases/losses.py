"""Check cases for mlprims.losses: each against a float64 NumPy loop written here."""

from __future__ import annotations

import numpy as np

from ...losses import binary_cross_entropy_with_logits, cross_entropy
from ..registry import Case, register

__all__: list[str] = []

N, C = 8, 5


def _log_softmax(z: np.ndarray) -> np.ndarray:
    wide = z.astype(np.longdouble)
    return (wide - np.log(np.exp(wide).sum(axis=-1, keepdims=True))).astype(np.float64)


def _inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    target = rng.integers(0, C, size=N)
    target[1] = -100  # ignored
    return {
        "logits": rng.normal(scale=3.0, size=(N, C)),
        "target": target,
        "weight": rng.uniform(0.5, 2.0, size=C),
    }


def _class_reference(logits, target, weight=None, eps=0.0):
    """torch's mean cross-entropy, one element at a time (ignored ones skipped)."""
    logp = _log_softmax(logits)
    w = np.ones(C) if weight is None else weight
    total, denominator = 0.0, 0.0
    for i, t in enumerate(target):
        if t == -100:
            continue
        total += (1 - eps) * -w[t] * logp[i, t] + eps / C * -np.sum(w * logp[i])
        denominator += w[t]
    return total / denominator


register(
    Case(
        name="cross_entropy(class)",
        make_inputs=lambda rng: {k: v for k, v in _inputs(rng).items() if k != "weight"},
        run=lambda logits, target: cross_entropy(logits, target),
        reference=lambda logits, target: _class_reference(logits, target),
    )
)
register(
    Case(
        name="cross_entropy(weighted)",
        make_inputs=_inputs,
        run=lambda logits, target, weight: cross_entropy(logits, target, weight=weight),
        reference=_class_reference,
    )
)
register(
    Case(
        name="cross_entropy(smoothed)",
        make_inputs=_inputs,
        run=lambda logits, target, weight: cross_entropy(
            logits, target, weight=weight, label_smoothing=0.1
        ),
        reference=lambda logits, target, weight: _class_reference(logits, target, weight, 0.1),
    )
)


def _prob_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {
        "logits": rng.normal(scale=3.0, size=(2, 4, C)),
        "target": rng.dirichlet(np.ones(C), size=(2, 4)),
    }


register(
    Case(
        name="cross_entropy(prob)",
        make_inputs=_prob_inputs,
        run=lambda logits, target: cross_entropy(logits, target, reduction="none"),
        reference=lambda logits, target: -np.sum(target * _log_softmax(logits), axis=-1),
    )
)


def _bce_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    logits = rng.normal(scale=4.0, size=(N, C))
    logits[0, :2] = [1000.0, -1000.0]
    return {
        "logits": logits,
        "target": rng.uniform(size=(N, C)),
        "weight": rng.uniform(0.5, 2.0, size=(N, 1)),
        "pos_weight": rng.uniform(0.5, 3.0, size=C),
    }


def _bce_reference(logits, target, weight, pos_weight):
    # -log sigmoid(x) = logaddexp(0, -x); -log(1 - sigmoid(x)) = logaddexp(0, x)
    loss = pos_weight * target * np.logaddexp(0.0, -logits)
    loss = loss + (1.0 - target) * np.logaddexp(0.0, logits)
    return np.mean(weight * loss)


register(
    Case(
        name="binary_cross_entropy_with_logits",
        make_inputs=_bce_inputs,
        run=lambda logits, target, weight, pos_weight: binary_cross_entropy_with_logits(
            logits, target, weight=weight, pos_weight=pos_weight
        ),
        reference=_bce_reference,
    )
)
