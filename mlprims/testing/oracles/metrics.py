"""Float64 NumPy oracles for :mod:`mlprims.metrics`, written independently of the primitives
(which sort once and count with cumulative sums): the AUC over every (positive, negative) pair,
GAUC group by group, NDCG as the mean DCG over every order of the tied items (all L! orders
filtered, so small L only), recall@k from a stable sort. Shared by ``tests/`` and
``mlprims check``.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

__all__ = [
    "group_auc_reference",
    "ndcg_at_k_reference",
    "recall_at_k_reference",
    "roc_auc_reference",
]


def roc_auc_reference(y_true, y_score, *, sample_weight=None):
    """The weighted share of (positive, negative) pairs ranked right, a tie counting 1/2.

    The positive class is the greater label; NaN when either class has no weight.
    """
    y_true, s = np.asarray(y_true), np.asarray(y_score, dtype=np.float64)
    w = np.ones(len(s)) if sample_weight is None else np.asarray(sample_weight, np.float64)
    positive = y_true == y_true.max()
    won = tied = 0.0
    for i in np.flatnonzero(positive):
        for j in np.flatnonzero(~positive):
            won += w[i] * w[j] * (s[i] > s[j])
            tied += w[i] * w[j] * (s[i] == s[j])
    total = w[positive].sum() * w[~positive].sum()
    return np.float64((won + 0.5 * tied) / total) if total > 0 else np.float64(np.nan)


def group_auc_reference(y_true, y_score, groups):
    """``sum(n_g AUC_g) / sum(n_g)`` over the groups holding both classes (NaN if none)."""
    y_true, groups = np.asarray(y_true), np.asarray(groups)
    positive = y_true == y_true.max()
    total = count = 0.0
    for g in np.unique(groups):
        rows = groups == g
        if positive[rows].all() or not positive[rows].any():
            continue  # one class: no AUC
        total += rows.sum() * roc_auc_reference(positive[rows], np.asarray(y_score)[rows])
        count += rows.sum()
    return np.float64(total / count) if count else np.float64(np.nan)


def _dcg(gains, k):
    return sum(g / math.log2(r + 2) for r, g in enumerate(gains[:k]))


def ndcg_at_k_reference(y_true, y_score, *, k, reduction="mean"):
    """NDCG@k per row: the mean DCG over every order of the items that the scores allow
    (tied items in any order), over the DCG of the gains sorted; 0 without a relevant item."""
    y_true, y_score = np.asarray(y_true, np.float64), np.asarray(y_score, np.float64)
    out = []
    for gains, scores in zip(y_true, y_score, strict=True):
        ideal = _dcg(sorted(gains, reverse=True), k)
        orders = [
            p
            for p in itertools.permutations(range(len(gains)))
            if all(scores[p[i]] >= scores[p[i + 1]] for i in range(len(p) - 1))
        ]  # the rankings the scores allow: every order of each tie
        dcg = np.mean([_dcg([gains[i] for i in p], k) for p in orders])
        out.append(dcg / ideal if ideal > 0 else 0.0)
    out = np.array(out)
    return np.float64(out.mean()) if reduction == "mean" else out


def recall_at_k_reference(y_true, y_score, *, k):
    """Relevant items (> 0) among the first k of a stable descending sort (the lower index
    first among ties) over the relevant items, averaged over the rows that have one."""
    recalls = []
    for relevance, scores in zip(np.asarray(y_true), np.asarray(y_score), strict=True):
        relevant = relevance > 0
        if relevant.any():
            top = sorted(range(len(scores)), key=lambda i: -float(scores[i]))[:k]  # stable
            recalls.append(relevant[top].sum() / relevant.sum())
    return np.float64(np.mean(recalls)) if recalls else np.float64(np.nan)
