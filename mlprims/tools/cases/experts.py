"""Check cases for mlprims.experts (Mixtral's mixture of experts), against the float64 oracles of
:mod:`mlprims.testing.oracles.experts` (shared with the tests)."""

from __future__ import annotations

import math

import numpy as np

from ...experts import load_balancing_loss, moe
from ...testing import Case
from ...testing.oracles.experts import load_balancing_loss_reference, moe_reference

__all__ = ["CASES"]

#: The check cases of this family, in table order.
CASES: list[Case] = []

D, F, E = 8, 12, 4


def _layer(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Tokens (2, 5, D) and a layer whose router spreads them over the experts."""
    return {
        "x": rng.normal(size=(2, 5, D)),
        "w_router": rng.normal(size=(D, E)),  # logits of order 3: clear top-k choices
        "w_gate": rng.normal(size=(E, D, F)) / math.sqrt(D),
        "w_up": rng.normal(size=(E, D, F)) / math.sqrt(D),
        "w_down": rng.normal(size=(E, F, D)) / math.sqrt(F),
    }


def _logits(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Three layers' router logits for 2 sequences of 6 tokens, and a padding mask."""
    mask = np.ones((2, 6), dtype=np.int64)
    mask[1, 4:] = 0
    return {**{f"l{i}": rng.normal(size=(12, E)) * 2.0 for i in range(3)}, "mask": mask}


for _k in (2, 1):
    CASES.append(
        Case(
            name="moe" if _k == 2 else "moe(top_k=1)",
            make_inputs=_layer,
            run=lambda x, k=_k, **w: moe(w, x, top_k=k),
            reference=lambda x, k=_k, **w: moe_reference(
                x, w["w_router"], w["w_gate"], w["w_up"], w["w_down"], top_k=k
            ),
        )
    )
CASES.append(
    Case(
        name="load_balancing_loss",
        make_inputs=_logits,
        run=lambda l0, l1, l2, mask: load_balancing_loss([l0, l1, l2], num_experts=E, top_k=2),
        reference=lambda l0, l1, l2, mask: load_balancing_loss_reference(
            [l0, l1, l2], num_experts=E, top_k=2
        ),
    )
)
CASES.append(
    Case(
        name="load_balancing_loss(mask)",
        make_inputs=_logits,
        run=lambda l0, l1, l2, mask: load_balancing_loss(
            [l0, l1, l2], num_experts=E, top_k=2, attention_mask=mask
        ),
        reference=lambda l0, l1, l2, mask: load_balancing_loss_reference(
            [l0, l1, l2], num_experts=E, top_k=2, attention_mask=mask
        ),
    )
)
