"""``mlprims grade --primitive roc_auc / ndcg_at_k``: correct learner files in NumPy and torch and
scikit-learn's own roc_auc_score and ndcg_score pass every property; the classic mistakes (AUC
ignoring ties, NDCG with a linear discount) fail the property that names them.

Graded in this process through the command line with a few hypothesis examples per property
(tests/tools/test_practice.py tests the grader itself; the template of every spec too).
"""

from __future__ import annotations

import pytest

NUMPY_AUC = """\
import numpy as np


def roc_auc(y_true, y_score, /, *, sample_weight=None):
    w = np.ones(len(y_score)) if sample_weight is None else sample_weight
    pos = y_true == 1
    sp, sn, wp, wn = y_score[pos], y_score[~pos], w[pos], w[~pos]
    won = (sp[:, None] > sn[None, :]) + 0.5 * (sp[:, None] == sn[None, :])
    return np.sum(wp[:, None] * wn[None, :] * won) / (wp.sum() * wn.sum())
"""

#: The O(N log N) way: midranks (the mean rank of each tie) of the scores, weighted.
TORCH_AUC = """\
import torch


def roc_auc(y_true, y_score, /, *, sample_weight=None):
    w = torch.ones_like(y_score) if sample_weight is None else sample_weight.to(y_score.dtype)
    pos = (y_true == 1).to(y_score.dtype)
    wp, wn = w * pos, w * (1 - pos)
    order = torch.argsort(y_score)
    s, wp, wn = y_score[order], wp[order], wn[order]
    below = torch.cat([torch.zeros(1, dtype=s.dtype), torch.cumsum(wn, 0)])
    start = torch.searchsorted(s, s, right=False)
    stop = torch.searchsorted(s, s, right=True)
    won = below[start] + 0.5 * (below[stop] - below[start])
    return (wp * won).sum() / (wp.sum() * wn.sum())
"""

SKLEARN_AUC = """\
from sklearn.metrics import roc_auc_score


def roc_auc(y_true, y_score, /, *, sample_weight=None):
    return roc_auc_score(y_true, y_score, sample_weight=sample_weight)
"""

NUMPY_NDCG = """\
import numpy as np


def ndcg_at_k(y_true, y_score, /, *, k):
    length = y_true.shape[1]
    discount = 1 / np.log2(np.arange(length) + 2)
    discount[k:] = 0
    out = []
    for gains, scores in zip(y_true, y_score):
        order = np.argsort(-scores, kind="stable")
        dcg, start = 0.0, 0
        while start < length:  # one tie of equal scores at a time
            stop = start
            while stop < length and scores[order[stop]] == scores[order[start]]:
                stop += 1
            dcg += gains[order[start:stop]].mean() * discount[start:stop].sum()
            start = stop
        ideal = np.sort(gains)[::-1] @ discount
        out.append(dcg / ideal if ideal > 0 else 0.0)
    return np.mean(out)
"""

SKLEARN_NDCG = """\
from sklearn.metrics import ndcg_score


def ndcg_at_k(y_true, y_score, /, *, k):
    return ndcg_score(y_true, y_score, k=k)
"""

TIES = "tied scores count 1/2"
DISCOUNT = "distinct scores, every rank (k = L)"
TIED_GAINS = "tied scores share their mean gain"
EMPTY = "a row without a relevant item scores 0"

#: A mistake: the correct file, one edit, the primitive, the property that must catch it, words
#: of its hint.
WRONG = {
    "auc-ties-count-0": (
        NUMPY_AUC,
        " + 0.5 * (sp[:, None] == sn[None, :])",
        "",
        "roc_auc",
        TIES,
        "neither 0 nor 1",
    ),
    "auc-ties-count-1": (
        NUMPY_AUC,
        "(sp[:, None] > sn[None, :]) + 0.5 * (sp[:, None] == sn[None, :])",
        "(sp[:, None] >= sn[None, :])",
        "roc_auc",
        TIES,
        "neither 0 nor 1",
    ),
    "auc-ordinal-ranks": (  # ties broken by position: each tied pair counts 0 or 1
        TORCH_AUC,
        "below[start] + 0.5 * (below[stop] - below[start])",
        "below[torch.arange(len(s))]",
        "roc_auc",
        TIES,
        "neither 0 nor 1",
    ),
    "ndcg-linear-discount": (
        NUMPY_NDCG,
        "1 / np.log2(np.arange(length) + 2)",
        "1 / (np.arange(length) + 1.0)",
        "ndcg_at_k",
        DISCOUNT,
        "not 1 / r",
    ),
    "ndcg-ties-ignored": (  # the stable order of the ties taken as the ranking
        NUMPY_NDCG,
        "while stop < length and scores[order[stop]] == scores[order[start]]:",
        "while stop < start + 1:",
        "ndcg_at_k",
        TIED_GAINS,
        "mean gain of its tie",
    ),
    "ndcg-empty-row-nan": (
        NUMPY_NDCG,
        "dcg / ideal if ideal > 0 else 0.0",
        "dcg / ideal if ideal > 0 else np.nan",
        "ndcg_at_k",
        EMPTY,
        "not NaN",
    ),
}


@pytest.mark.parametrize(
    ("source", "primitive"),
    [
        (NUMPY_AUC, "roc_auc"),
        (TORCH_AUC, "roc_auc"),
        (SKLEARN_AUC, "roc_auc"),
        (NUMPY_NDCG, "ndcg_at_k"),
        (SKLEARN_NDCG, "ndcg_at_k"),
    ],
    ids=["numpy-auc", "torch-auc", "sklearn-auc", "numpy-ndcg", "sklearn-ndcg"],
)
def test_a_correct_file_passes_every_property(grader, source: str, primitive: str) -> None:
    if source is TORCH_AUC:
        pytest.importorskip("torch")
    if source in (SKLEARN_AUC, SKLEARN_NDCG):
        pytest.importorskip("sklearn")
    grader.passes_every_property(source, primitive)


@pytest.mark.parametrize("wrong", list(WRONG))
def test_a_classic_mistake_fails_the_property_that_names_it(grader, wrong: str) -> None:
    source, old, new, primitive, caught_by, hint = WRONG[wrong]
    if source is TORCH_AUC:
        pytest.importorskip("torch")
    assert old in source, "the mistake must be an edit of the correct file"
    grader.catches(source.replace(old, new, 1), primitive, caught_by, hint)


def test_ties_ignored_fail_nothing_else(grader) -> None:
    """Counting ties as 0 is right wherever no score ties: only the ties' properties fail."""
    source, old, new, *_ = WRONG["auc-ties-count-0"]
    _, out = grader.run(source.replace(old, new, 1), "roc_auc", "--no-shrink")
    assert [p for p, v in grader.verdicts(out).items() if v == "FAILED"] == [TIES, "sample weights"]
