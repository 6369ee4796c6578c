"""Check cases for mlprims.recommendation, against the float64 oracles of
:mod:`mlprims.testing.oracles.recommendation` (shared with the tests)."""

from __future__ import annotations

import numpy as np

from ...recommendation import embedding_bag, fm_interaction
from ...testing import Case
from ...testing.oracles.recommendation import embedding_bag_reference, fm_interaction_reference

__all__ = ["CASES"]

#: The check cases of this family, in table order.
CASES: list[Case] = []

E, D, PAD = 10, 4, 3


def _bags(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """12 indices in 5 bags, one empty; the padding row among them; per-sample weights."""
    indices = rng.integers(0, E, 12)
    indices[[1, 7]] = PAD
    return {
        "indices": indices,
        "weight": rng.normal(size=(E, D)),
        "offsets": np.array([0, 3, 3, 6, 10]),
        "per_sample_weights": rng.uniform(-1.0, 2.0, 12),
    }


CASES.append(
    Case(
        name="fm_interaction",
        make_inputs=lambda rng: {"v": rng.normal(size=(3, 8, 5))},
        run=lambda v: fm_interaction(v),
        reference=fm_interaction_reference,
    )
)
CASES.append(
    Case(
        name="embedding_bag(sum, offsets)",
        make_inputs=_bags,
        run=lambda indices, weight, offsets, per_sample_weights: embedding_bag(
            indices,
            weight,
            offsets,
            mode="sum",
            per_sample_weights=per_sample_weights,
            padding_idx=PAD,
        ),
        reference=lambda indices, weight, offsets, per_sample_weights: embedding_bag_reference(
            indices,
            weight,
            offsets,
            mode="sum",
            per_sample_weights=per_sample_weights,
            padding_idx=PAD,
        ),
    )
)
for _mode in ("mean", "max"):
    CASES.append(
        Case(
            name=f"embedding_bag({_mode}, offsets)",
            make_inputs=lambda rng: {k: v for k, v in _bags(rng).items() if k[0] != "p"},
            run=lambda indices, weight, offsets, m=_mode: embedding_bag(
                indices, weight, offsets, mode=m, padding_idx=PAD
            ),
            reference=lambda indices, weight, offsets, m=_mode: embedding_bag_reference(
                indices, weight, offsets, mode=m, padding_idx=PAD
            ),
        )
    )
    CASES.append(
        Case(
            name=f"embedding_bag({_mode}, 2-d)",
            make_inputs=lambda rng: {
                "indices": rng.integers(0, E, (4, 3)),
                "weight": rng.normal(size=(E, D)),
            },
            run=lambda indices, weight, m=_mode: embedding_bag(indices, weight, mode=m),
            reference=lambda indices, weight, m=_mode: embedding_bag_reference(
                indices, weight, mode=m
            ),
        )
    )
