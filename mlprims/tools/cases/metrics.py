"""Check cases for mlprims.metrics, against the float64 oracles of
:mod:`mlprims.testing.oracles.metrics` (shared with the tests). Scores are drawn on a coarse grid
so that many of them tie: the ties are where AUC and NDCG implementations differ."""

from __future__ import annotations

import numpy as np

from ...metrics import group_auc, ndcg_at_k, recall_at_k, roc_auc
from ...testing import Case
from ...testing.oracles.metrics import (
    group_auc_reference,
    ndcg_at_k_reference,
    recall_at_k_reference,
    roc_auc_reference,
)

__all__ = ["CASES"]

#: The check cases of this family, in table order.
CASES: list[Case] = []

N, B, L, K = 40, 4, 6, 3


def _labelled(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """N rows: both classes, scores in quarters (many ties), weights, 6 groups."""
    y = rng.integers(0, 2, N)
    y[:2] = [0, 1]
    return {
        "y_true": y,
        "y_score": rng.integers(0, 5, N) / 4.0,
        "sample_weight": rng.uniform(0.1, 2.0, N),
        "groups": rng.integers(0, 6, N),
    }


def _ranked(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """B rows of L items: gains 0 to 3, scores in thirds (ties), a row without a relevant item."""
    gains = rng.integers(0, 4, (B, L))
    gains[-1] = 0
    return {"y_true": gains, "y_score": rng.integers(0, 4, (B, L)) / 3.0}


CASES.append(
    Case(
        name="roc_auc",
        make_inputs=lambda rng: {k: _labelled(rng)[k] for k in ("y_true", "y_score")},
        run=lambda y_true, y_score: roc_auc(y_true, y_score),
        reference=lambda y_true, y_score: roc_auc_reference(y_true, y_score),
    )
)
CASES.append(
    Case(
        name="roc_auc(weighted)",
        make_inputs=lambda rng: {k: v for k, v in _labelled(rng).items() if k != "groups"},
        run=lambda y_true, y_score, sample_weight: roc_auc(
            y_true, y_score, sample_weight=sample_weight
        ),
        reference=lambda y_true, y_score, sample_weight: roc_auc_reference(
            y_true, y_score, sample_weight=sample_weight
        ),
    )
)
CASES.append(
    Case(
        name="group_auc",
        make_inputs=lambda rng: {k: v for k, v in _labelled(rng).items() if k != "sample_weight"},
        run=lambda y_true, y_score, groups: group_auc(y_true, y_score, groups),
        reference=group_auc_reference,
    )
)
for _reduction in ("mean", "none"):
    CASES.append(
        Case(
            name="ndcg_at_k" if _reduction == "mean" else "ndcg_at_k(none)",
            make_inputs=_ranked,
            run=lambda y_true, y_score, r=_reduction: ndcg_at_k(y_true, y_score, k=K, reduction=r),
            reference=lambda y_true, y_score, r=_reduction: ndcg_at_k_reference(
                y_true, y_score, k=K, reduction=r
            ),
        )
    )
CASES.append(
    Case(
        name="recall_at_k",
        make_inputs=_ranked,
        run=lambda y_true, y_score: recall_at_k(y_true, y_score, k=K),
        reference=lambda y_true, y_score: recall_at_k_reference(y_true, y_score, k=K),
    )
)
