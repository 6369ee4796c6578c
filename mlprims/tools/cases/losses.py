"""Check cases for mlprims.losses, against the float64 oracles of
:mod:`mlprims.testing.oracles.losses` (shared with the tests)."""

from __future__ import annotations

import numpy as np

from ...losses import binary_cross_entropy_with_logits, cross_entropy
from ...testing import Case
from ...testing.oracles.losses import (
    binary_cross_entropy_with_logits_reference,
    cross_entropy_reference,
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
