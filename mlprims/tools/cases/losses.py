"""Check cases for mlprims.losses, against the float64 oracles of
:mod:`mlprims.testing.oracles.losses` (shared with the tests)."""

from __future__ import annotations

import numpy as np

from ...losses import (
    binary_cross_entropy_with_logits,
    clip_loss,
    cross_entropy,
    dpo_loss,
    info_nce_loss,
    kl_div,
    sigmoid_focal_loss,
)
from ...testing import Case
from ...testing.oracles.losses import (
    binary_cross_entropy_with_logits_reference,
    clip_loss_reference,
    cross_entropy_reference,
    dpo_loss_reference,
    info_nce_loss_reference,
    kl_div_reference,
    sigmoid_focal_loss_reference,
)

__all__ = ["CASES"]

#: The check cases of this family, in table order.
CASES: list[Case] = []

N, C = 8, 5


def _inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    target = rng.integers(0, C, size=N)
    target[1] = -100  # ignored
    return {
        "logits": rng.normal(scale=3.0, size=(N, C)),
        "target": target,
        "weight": rng.uniform(0.5, 2.0, size=C),
    }


CASES.append(
    Case(
        name="cross_entropy(class)",
        make_inputs=lambda rng: {k: v for k, v in _inputs(rng).items() if k != "weight"},
        run=lambda logits, target: cross_entropy(logits, target),
        reference=cross_entropy_reference,
    )
)
CASES.append(
    Case(
        name="cross_entropy(weighted)",
        make_inputs=_inputs,
        run=lambda logits, target, weight: cross_entropy(logits, target, weight=weight),
        reference=lambda logits, target, weight: cross_entropy_reference(
            logits, target, weight=weight
        ),
    )
)
CASES.append(
    Case(
        name="cross_entropy(smoothed)",
        make_inputs=_inputs,
        run=lambda logits, target, weight: cross_entropy(
            logits, target, weight=weight, label_smoothing=0.1
        ),
        reference=lambda logits, target, weight: cross_entropy_reference(
            logits, target, weight=weight, label_smoothing=0.1
        ),
    )
)


def _prob_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {
        "logits": rng.normal(scale=3.0, size=(2, 4, C)),
        "target": rng.dirichlet(np.ones(C), size=(2, 4)),
    }


CASES.append(
    Case(
        name="cross_entropy(prob)",
        make_inputs=_prob_inputs,
        run=lambda logits, target: cross_entropy(logits, target, reduction="none"),
        reference=lambda logits, target: cross_entropy_reference(logits, target, reduction="none"),
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


CASES.append(
    Case(
        name="binary_cross_entropy_with_logits",
        make_inputs=_bce_inputs,
        run=lambda logits, target, weight, pos_weight: binary_cross_entropy_with_logits(
            logits, target, weight=weight, pos_weight=pos_weight
        ),
        reference=lambda logits, target, weight, pos_weight: (
            binary_cross_entropy_with_logits_reference(
                logits, target, weight=weight, pos_weight=pos_weight
            )
        ),
    )
)


def _focal_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """RetinaNet's layout: (anchors, classes) logits, mostly negative targets."""
    logits = rng.normal(scale=3.0, size=(N, C))
    return {"inputs": logits, "targets": (rng.random((N, C)) < 0.3).astype(np.float64)}


for _alpha, _gamma, _reduction in ((0.25, 2.0, "none"), (-1.0, 0.5, "mean")):
    CASES.append(
        Case(
            name=f"sigmoid_focal_loss(alpha={_alpha},gamma={_gamma},{_reduction})",
            make_inputs=_focal_inputs,
            run=lambda inputs, targets, a=_alpha, g=_gamma, r=_reduction: sigmoid_focal_loss(
                inputs, targets, alpha=a, gamma=g, reduction=r
            ),
            reference=lambda inputs, targets, a=_alpha, g=_gamma, r=_reduction: (
                sigmoid_focal_loss_reference(inputs, targets, alpha=a, gamma=g, reduction=r)
            ),
        )
    )


def _kl_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """log_softmax inputs, target probabilities with a zero in each row."""
    logits = rng.normal(scale=2.0, size=(N, C))
    target = rng.dirichlet(np.ones(C), size=N)
    target[:, 0] = 0.0
    target /= target.sum(axis=1, keepdims=True)
    return {
        "input": logits - np.log(np.exp(logits).sum(axis=1, keepdims=True)),
        "target": target,
    }


for _reduction in ("batchmean", "none"):
    CASES.append(
        Case(
            name=f"kl_div({_reduction})",
            make_inputs=_kl_inputs,
            run=lambda input, target, r=_reduction: kl_div(input, target, reduction=r),
            reference=lambda input, target, r=_reduction: kl_div_reference(
                input, target, reduction=r
            ),
        )
    )


def _kl_log_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """_kl_inputs with the target in log-probabilities (-inf for the zeros)."""
    arrays = _kl_inputs(rng)
    q = arrays["target"]
    arrays["target"] = np.where(q > 0, np.log(np.where(q > 0, q, 1.0)), -np.inf)
    return arrays


CASES.append(
    Case(
        name="kl_div(log_target)",
        make_inputs=_kl_log_inputs,
        run=lambda input, target: kl_div(input, target, reduction="sum", log_target=True),
        reference=lambda input, target: kl_div_reference(
            input, target, reduction="sum", log_target=True
        ),
    )
)


def _embeddings(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {"a": rng.normal(size=(N, 16)), "b": rng.normal(size=(N, 16))}


CASES.append(
    Case(
        name="clip_loss",
        make_inputs=lambda rng: {"logits_per_text": rng.normal(scale=5.0, size=(N, N))},
        run=lambda logits_per_text: clip_loss(logits_per_text),
        reference=clip_loss_reference,
    )
)
for _symmetric in (True, False):
    CASES.append(
        Case(
            name="info_nce_loss" if _symmetric else "info_nce_loss(one-way)",
            make_inputs=_embeddings,
            run=lambda a, b, sym=_symmetric: info_nce_loss(a, b, symmetric=sym),
            reference=lambda a, b, sym=_symmetric: info_nce_loss_reference(a, b, symmetric=sym),
        )
    )


def _logps(rng: np.random.Generator) -> dict[str, np.ndarray]:
    names = ("pi_c", "pi_r", "ref_c", "ref_r")
    return {name: -rng.uniform(5.0, 60.0, size=N) for name in names}


for _loss_type, _eps in (("sigmoid", 0.0), ("sigmoid", 0.2), ("ipo", 0.0), ("hinge", 0.0)):
    CASES.append(
        Case(
            name=f"dpo_loss({_loss_type}{', smoothed' if _eps else ''})",
            make_inputs=_logps,
            run=lambda pi_c, pi_r, ref_c, ref_r, t=_loss_type, e=_eps: dpo_loss(
                pi_c, pi_r, ref_c, ref_r, beta=0.1, label_smoothing=e, loss_type=t
            ),
            reference=lambda pi_c, pi_r, ref_c, ref_r, t=_loss_type, e=_eps: dpo_loss_reference(
                pi_c, pi_r, ref_c, ref_r, beta=0.1, label_smoothing=e, loss_type=t
            ),
        )
    )
