"""Top-k ranking metrics of B queries with L candidate items each: NDCG@k and recall@k.

Shape legend: B rows (queries, users), L items per row; ``y_true`` (B, L) holds each item's
relevance (a gain, 0 for irrelevant), ``y_score`` (B, L) the model's scores.

NDCG averages the gains of tied scores as scikit-learn does (McSherry and Najork 2008): one
stable sort of each row, the tie blocks numbered by a cumulative sum over the flattened rows
(so that they never cross a row) and their ends found by ``searchsorted``; every shape is
static, so it runs under ``jax.jit``. Recall takes the backend's ``top_k``, whose tie rule
(the lower index first) is the same on every backend.
"""

from __future__ import annotations

import math

from array_api_compat import device as device_of

from .. import backends
from .._array import Array, check_choice, concrete_any, index_dtype, namespace
from . import _checks

__all__ = ["ndcg_at_k", "recall_at_k"]

REDUCTIONS = ("mean", "none")


def ndcg_at_k(y_true: Array, y_score: Array, /, *, k: int, reduction: str = "mean") -> Array:
    r"""Normalised discounted cumulative gain of the top `k` (NDCG@k), ties averaged.

    Matches ``sklearn.metrics.ndcg_score(y_true, y_score, k=k)`` (and its per-row values
    with ``reduction="none"``).

    Parameters
    ----------
    y_true : array (B, L), real (bool, integer or floating)
        The relevance (gain) of each item, >= 0; L >= 2 items per row, as in scikit-learn.
    y_score : array (B, L), real (integer or floating)
        Scores that rank the items of each row, highest first; ties are averaged.
    k : int
        Only the first `k` ranks count (>= 1; a `k` above L counts them all).
    reduction : {"mean", "none"}
        ``"mean"``: the mean over the rows (scikit-learn's value); ``"none"``: one per row.

    Returns
    -------
    array
        0-d for ``"mean"``, (B,) for ``"none"``; in [0, 1], in the floating dtype of the
        inputs (promoted; the default floating dtype when both are integer).

    Raises
    ------
    ValueError
        Shapes that are not one (B, L) with L >= 2, `k` < 1, an unknown `reduction`. On
        eager arrays also: a negative gain, NaN scores.
    TypeError
        Arrays of another framework or of the wrong kind, `k` not an int.

    Notes
    -----
    With the discount :math:`d_r = 1 / \log_2(r + 1)` of rank :math:`r = 1, \dots, L`
    (0 past rank `k`) and the gains :math:`g` of a row in the order of its scores,

    .. math::

        \mathrm{DCG@k} = \sum_{r=1}^{L} d_r \, g_{(r)}, \qquad
        \mathrm{NDCG@k} = \mathrm{DCG@k} / \mathrm{IDCG@k}

    where IDCG@k is the DCG of the row sorted by its gains (the best order). Items with
    equal scores share the mean of their gains over the ranks they tie for (scikit-learn's
    ``ignore_ties=False``: the mean over every order of the ties, McSherry and Najork 2008,
    "Computing Information Retrieval Performance Measures Efficiently in the Presence of Tied
    Scores"). A row without a relevant item (IDCG = 0) scores 0, as in scikit-learn. Under
    ``jax.jit`` gains are not checked, and NaN scores give NaN.

    References
    ----------
    - https://scikit-learn.org/stable/modules/generated/sklearn.metrics.ndcg_score.html

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> y_true = np.array([[3, 2, 0, 1]])
    >>> y_score = np.array([[0.9, 0.2, 0.5, 0.4]])  # ranks the gains 3, 0, 1, 2
    >>> round(float(mlprims.ndcg_at_k(y_true, y_score, k=4)), 6)
    0.915893
    >>> mlprims.ndcg_at_k(y_true, np.ones((1, 4)), k=1).tolist()  # all tied: mean gain 1.5
    0.5
    """
    xp = namespace(y_true, y_score, names=("y_true", "y_score"))
    b, length = _checks.check_matrix_pair(y_true, y_score, xp=xp)
    k = _checks.check_k(k, length)
    check_choice(reduction, "reduction", REDUCTIONS)
    if not xp.isdtype(y_true.dtype, "bool") and concrete_any(y_true < 0, xp=xp):
        msg = "`y_true` must hold gains >= 0 (scikit-learn's ndcg_score refuses negative ones)"
        raise ValueError(msg)
    nan = _checks.check_no_nan(y_score, xp=xp)
    dtype = _checks.float_dtype(y_true, y_score, xp=xp)
    device = device_of(y_score)
    gains = xp.astype(y_true, dtype)

    ranks = xp.arange(length, dtype=dtype, device=device)  # 0-based: rank r + 1
    discount = xp.where(ranks < k, 1.0 / (xp.log(ranks + 2.0) / math.log(2.0)), 0.0)  # (L,)
    reached = xp.cumulative_sum(discount, include_initial=True)  # (L + 1,) before each rank
    order = xp.argsort(y_score, axis=-1, descending=True, stable=True)  # (B, L)
    s = xp.take_along_axis(y_score, order, axis=-1)
    ranked = xp.take_along_axis(gains, order, axis=-1)
    # tie blocks numbered over the flattened rows; a row's first item always starts one
    starts = xp.concat(
        [xp.ones((b, 1), dtype=xp.bool, device=device), s[:, 1:] != s[:, :-1]], axis=1
    )
    block = xp.cumulative_sum(xp.reshape(xp.astype(starts, index_dtype(xp)), (-1,)))  # (B L,)
    row_start = xp.repeat(xp.arange(b, dtype=block.dtype, device=device) * length, length)
    first = xp.searchsorted(block, block, side="left") - row_start  # (B L,) rank of its block
    stop = xp.searchsorted(block, block, side="right") - row_start  # one past the block's last
    # each item of a tie block gets the block's mean discount (the gains' mean, times the sum)
    share = (xp.take(reached, stop) - xp.take(reached, first)) / xp.astype(stop - first, dtype)
    share = xp.reshape(share, (b, length))
    dcg = xp.sum(ranked * share, axis=-1)  # (B,)
    ideal = xp.sum(xp.sort(gains, axis=-1, descending=True) * discount, axis=-1)  # (B,)
    relevant = ideal > 0
    ndcg = xp.where(relevant, dcg / xp.where(relevant, ideal, 1.0), 0.0)
    ndcg = xp.where(nan, xp.nan, ndcg)
    return xp.mean(ndcg) if reduction == "mean" else ndcg


def recall_at_k(y_true: Array, y_score: Array, /, *, k: int) -> Array:
    r"""Recall of the top `k`: the share of each row's relevant items ranked in its first `k`.

    Parameters
    ----------
    y_true : array (B, L), real (bool, integer or floating)
        Relevance of each item: an item is relevant when ``y_true > 0``.
    y_score : array (B, L), real (integer or floating)
        Scores that rank the items of each row, highest first.
    k : int
        The number of items retrieved per row (>= 1; a `k` above L retrieves them all).

    Returns
    -------
    array, 0-d
        The mean over the rows that hold a relevant item, in [0, 1], in the floating dtype of
        the inputs (promoted; the default floating dtype when both are integer).

    Raises
    ------
    ValueError
        Shapes that are not one (B, L) with L >= 2, `k` < 1. On eager arrays also: no row
        holds a relevant item, NaN scores.
    TypeError
        Arrays of another framework or of the wrong kind, `k` not an int.

    Notes
    -----
    ``recall@k = |relevant items among the top k| / |relevant items|`` per row, averaged
    over the rows with at least one relevant item (a row without one has no recall and is
    skipped, as ``torchmetrics``' ``RetrievalRecall(empty_target_action="skip")``). The top
    k is the backend's ``top_k`` of `y_score`: among equal scores the lower index is
    retrieved first, on every backend (so a tie across the k-th rank is broken by position,
    not averaged). When no row has a relevant item an eager call raises a ValueError and a
    call under ``jax.jit`` returns NaN (0 / 0), as do NaN scores there.

    .. math::

        \text{recall@}k = \frac{1}{|B^+|} \sum_{b \in B^+}
            \frac{|\{\text{relevant}\} \cap \operatorname{top}_k(s_b)|}{|\{\text{relevant}\}|}

    with :math:`B^+` the rows holding a relevant item.

    References
    ----------
    - https://lightning.ai/docs/torchmetrics/stable/retrieval/recall.html
    - Manning, Raghavan and Schütze, *Introduction to Information Retrieval*, ch. 8,
      https://nlp.stanford.edu/IR-book/html/htmledition/evaluation-of-ranked-retrieval-results-1.html

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> y_true = np.array([[1, 0, 1, 0], [0, 0, 0, 0], [0, 1, 0, 0]])
    >>> y_score = np.array([[0.9, 0.8, 0.1, 0.7], [0.1, 0.2, 0.3, 0.4], [0.5, 0.5, 0.5, 0.1]])
    >>> float(mlprims.recall_at_k(y_true, y_score, k=2))  # (1/2 + 1) / 2, the 2nd row skipped
    0.75
    """
    xp = namespace(y_true, y_score, names=("y_true", "y_score"))
    _checks.check_matrix_pair(y_true, y_score, xp=xp)
    k = _checks.check_k(k, y_true.shape[1])
    nan = _checks.check_no_nan(y_score, xp=xp)
    dtype = _checks.float_dtype(y_true, y_score, xp=xp)
    relevant = y_true if xp.isdtype(y_true.dtype, "bool") else y_true > 0
    relevant = xp.astype(relevant, dtype)  # (B, L)
    _, top = backends.of(y_score).top_k(y_score, k)  # (B, k), the lower index first on ties
    hits = xp.sum(xp.take_along_axis(relevant, top, axis=-1), axis=-1)  # (B,)
    wanted = xp.sum(relevant, axis=-1)
    counted = wanted > 0
    rows = xp.sum(xp.astype(counted, dtype))
    if concrete_any(rows == 0, xp=xp):
        msg = "`y_true` must hold a relevant item (> 0) in at least one row: recall is undefined"
        raise ValueError(msg)
    recall = xp.where(counted, hits / xp.where(counted, wanted, 1.0), 0.0)
    defined = (rows > 0) & ~nan
    return xp.where(defined, xp.sum(recall) / xp.where(defined, rows, 1.0), xp.nan)
