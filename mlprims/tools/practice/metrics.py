"""Properties of roc_auc (distinct scores, tied scores counting 1/2, sample weights) and
ndcg_at_k (the log2 discount, the cut at k, tied scores averaged, rows without a relevant item).

Labels and gains are integer arrays; scores are drawn distinct where a property is not about
ties, and from a grid of three values where it is. The metrics' dtype is not graded
(scikit-learn returns a Python float): only their values.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import mlprims

from ._spec import Call, Property, Spec, composite, hnp, st

__all__ = ["SPECS"]

TIES = (
    "a (positive, negative) pair with equal scores counts 1/2, neither 0 nor 1: AUC = "
    "P(s+ > s-) + 0.5 P(s+ == s-) over the pairs (the ROC curve's diagonal step over a tie)"
)


def _scores(draw: Any, n: int, *, ties: bool) -> np.ndarray:
    """`n` float64 scores: distinct (float32-exact), or from {0, 0.5, 1} with ties."""
    if ties:
        return np.array(draw(st.lists(st.sampled_from([0.0, 0.5, 1.0]), min_size=n, max_size=n)))
    values = st.floats(-5, 5, width=32, allow_nan=False, allow_infinity=False)
    return np.array(draw(st.lists(values, min_size=n, max_size=n, unique=True)), dtype=np.float64)


@composite
def _labelled(draw: Any, *, ties: bool = False, weights: bool = False) -> Call:
    """Binary labels 0/1 with both classes present, scores, and maybe weights in [0.1, 2]."""
    n = draw(st.integers(2, 8))
    y = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n).filter(lambda v: 0 < sum(v) < n))
    kwargs: dict[str, Any] = {}
    if weights:
        elements = st.floats(0.125, 2.0, width=32)
        kwargs["sample_weight"] = draw(hnp.arrays(np.float64, (n,), elements=elements))
    return Call((np.array(y, dtype=np.int64), _scores(draw, n, ties=ties)), kwargs)


def _tied_example() -> Call:
    """One tied pair among four: 0.875, where ties counted 0 give 0.75 and counted 1 give 1."""
    return Call((np.array([0, 1, 0, 1]), np.array([0.5, 0.5, 0.25, 0.875])))


ROC_AUC = Spec(
    name="roc_auc",
    function=mlprims.roc_auc,
    parameters=("y_true", "y_score", "sample_weight"),
    returns="float or 0-d array: the AUC in [0, 1].",
    parameter_docs={
        "y_true": "y_true : array (N,), integer\n    Binary labels: 1 positive, 0 negative; both "
        "classes are present.",
    },
    notes="The Mann-Whitney statistic over every (positive i, negative j) pair::\n\n"
    "    AUC = sum_ij w_i w_j ([s_i > s_j] + 0.5 [s_i == s_j]) / (sum_i w_i * sum_j w_j)\n\n"
    "with w = 1 when `sample_weight` is None: the area under the ROC curve, as\n"
    "sklearn.metrics.roc_auc_score. A sort by score and a cumulative count of the negatives\n"
    "does it in O(N log N); the O(N^2) pairs are fine here.",
    properties=(
        Property(
            "binary labels, distinct scores",
            _labelled(),
            "AUC = the share of (positive, negative) pairs in which the positive scores higher",
        ),
        Property(
            "tied scores count 1/2",
            _labelled(ties=True),
            TIES,
            examples=(_tied_example(),),
        ),
        Property(
            "sample weights",
            _labelled(ties=True, weights=True),
            "a pair (i, j) counts w_i * w_j, and the total is sum(w of positives) * sum(w of "
            "negatives)",
        ),
    ),
)


# --- ndcg_at_k ------------------------------------------------------------------------------

DISCOUNT = (
    "DCG = sum over ranks r = 1, 2, ... of gain_r / log2(r + 1): the discount is logarithmic "
    "(1, 0.63, 0.5, 0.43, ...), not 1 / r; NDCG = DCG / IDCG, IDCG the DCG of the gains sorted"
)


@composite
def _ranked(draw: Any, *, cut: bool = False, ties: bool = False, empty: bool = False) -> Call:
    """(B, L) integer gains 0 to 3 with a relevant item per row (unless `empty`), scores."""
    b, length = draw(st.integers(1, 3)), draw(st.integers(2, 6))
    gains = draw(hnp.arrays(np.int64, (b, length), elements=st.integers(0, 3)))
    gains[:, 0] = np.maximum(gains[:, 0], 1)  # a relevant item in each row
    if empty:  # at least one row without a relevant item, one with
        gains[draw(st.integers(0, b - 1))] = 0
        if b == 1:
            gains = np.concatenate([gains, [np.arange(length) % 4]])
            b = 2
    scores = np.stack([_scores(draw, length, ties=ties) for _ in range(b)])
    k = draw(st.integers(1, length - 1)) if cut else length
    return Call((gains, scores), {"k": k})


def _linear_example() -> Call:
    """Gains ranked 3, 0, 1, 2: 0.916 with log2, 0.885 with 1 / r."""
    return Call((np.array([[3, 2, 0, 1]]), np.array([[0.875, 0.25, 0.5, 0.375]])), {"k": 4})


NDCG_AT_K = Spec(
    name="ndcg_at_k",
    function=mlprims.ndcg_at_k,
    parameters=("y_true", "y_score", "k"),
    returns="float or 0-d array: the mean NDCG@k over the rows, in [0, 1].",
    parameter_docs={
        "y_true": "y_true : array (B, L), integer\n    The gain (relevance) of each item, >= 0.",
    },
    notes="Per row, with the items ranked by descending score (rank r = 1, 2, ...)::\n\n"
    "    DCG@k  = sum_{r <= k} gain_r / log2(r + 1)\n"
    "    NDCG@k = DCG@k / IDCG@k     (IDCG@k: the DCG@k of the gains sorted, the best order)\n\n"
    "Items with equal scores have no order: each gets the mean gain of its tie over the ranks\n"
    "the tie spans (the mean DCG over every order of the ties). A row whose IDCG is 0 (no\n"
    "relevant item) scores 0. The result is the mean over the rows, as\n"
    "sklearn.metrics.ndcg_score(y_true, y_score, k=k).",
    properties=(
        Property(
            "distinct scores, every rank (k = L)",
            _ranked(),
            DISCOUNT,
            examples=(_linear_example(),),
        ),
        Property(
            "only the top k count (k < L)",
            _ranked(cut=True),
            "DCG@k and IDCG@k both stop at rank k: the ranks after k have discount 0",
        ),
        Property(
            "tied scores share their mean gain",
            _ranked(ties=True, cut=True),
            "items with equal scores are in no order: each gets the mean gain of its tie, times "
            "the discounts of the ranks the tie spans (averaged over every order of the tie)",
        ),
        Property(
            "a row without a relevant item scores 0",
            _ranked(empty=True),
            "IDCG = 0: the row's NDCG is 0, not NaN, and it still counts in the mean",
        ),
    ),
)

SPECS = [ROC_AUC, NDCG_AT_K]
