"""ROC AUC and group AUC, as one sort each: the Mann-Whitney statistic with ties counting 1/2.

Shape legend: N rows (samples), each with a binary label, a score and, for :func:`group_auc`, an
integer group id (a user, a query).

The AUC is the probability that a positive row scores above a negative one, a tied pair
counting 1/2. Both functions sort once (O(N log N)) and count, for each positive row, the
negatives below it and those tied with it from a cumulative sum over the sorted rows, where a
tie block's ends are found by ``searchsorted`` on sorted keys: no loop over pairs or groups, no
shape that depends on the values, so both run under ``jax.jit``.
"""

from __future__ import annotations

from array_api_compat import device as device_of

from .. import backends
from .._array import (
    Array,
    Namespace,
    check_dtype,
    check_floating,
    concrete_any,
    index_dtype,
    namespace,
    shape_str,
)
from . import _checks

__all__ = ["group_auc", "roc_auc"]


def roc_auc(y_true: Array, y_score: Array, /, *, sample_weight: Array | None = None) -> Array:
    r"""Area under the ROC curve of binary labels; matches ``sklearn.metrics.roc_auc_score``.

    Parameters
    ----------
    y_true : array (N,)
        Binary labels, two distinct values (bool, integer or floating); the greater one is the
        positive class (1 of 0/1 and of -1/1, True of bool), as in scikit-learn.
    y_score : array (N,), real (integer or floating)
        Scores, higher meaning more likely positive. Ties are allowed.
    sample_weight : array (N,), real floating, optional
        Non-negative weight of each row; every row weighs 1 if None.

    Returns
    -------
    array, 0-d
        The AUC in [0, 1], in the floating dtype of `y_score` and `sample_weight` (promoted;
        the default floating dtype when both are integer).

    Raises
    ------
    ValueError
        Shapes that are not (N,) alike, N = 0. On eager arrays also: one class only (the AUC
        is undefined), a third label value, NaN scores, negative or non-finite weights.
    TypeError
        An argument that is not an array of the framework of `y_true`, or of the wrong kind.

    Notes
    -----
    With weights :math:`w`, positives :math:`P` and negatives :math:`Q`:

    .. math::

        \mathrm{AUC} = \frac{\sum_{i \in P} \sum_{j \in Q} w_i w_j \left(
        [s_i > s_j] + \tfrac12 [s_i = s_j]\right)}{\sum_{i \in P} w_i \sum_{j \in Q} w_j}

    the Mann-Whitney U statistic over the pairs, equal to the trapezoidal area under
    scikit-learn's ``roc_curve`` (a tie block of scores is one diagonal step of the curve:
    half of its pairs count). The rows are sorted by score once; for each positive row the
    weight of the negatives below its tie block and inside it are differences of one
    cumulative sum, at the block's ends found by ``searchsorted``.

    One class only: scikit-learn 1.9 warns (``UndefinedMetricWarning``) and returns NaN,
    earlier releases raised a ValueError; here an eager call raises a ValueError and a call
    under ``jax.jit`` returns NaN (0 / 0), as do NaN scores there. Positives (or negatives)
    of total weight zero give NaN, as in scikit-learn. Infinite scores rank as the largest
    and smallest (scikit-learn refuses them).

    References
    ----------
    - https://scikit-learn.org/stable/modules/generated/sklearn.metrics.roc_auc_score.html

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> float(mlprims.roc_auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8])))
    0.75
    >>> # one tied (positive, negative) pair counts 1/2: (1 + 1 + 1 + 0.5) / 4
    >>> float(mlprims.roc_auc(np.array([0, 1, 0, 1]), np.array([0.5, 0.5, 0.2, 0.9])))
    0.875
    """
    xp = namespace(y_true, y_score, sample_weight, names=("y_true", "y_score", "sample_weight"))
    n = _checks.check_vector(y_true, "y_true", None, xp=xp)
    _checks.check_vector(y_score, "y_score", n, xp=xp)
    check_dtype(y_score, "y_score", _checks.REAL[1:], xp=xp)
    dtype = _checks.float_dtype(y_score, sample_weight, xp=xp)
    positive = _checks.positive_labels(y_true, xp=xp)  # (N,) bool
    if concrete_any(xp.all(positive) | xp.all(~positive), xp=xp):
        msg = (
            "`y_true` must hold both classes: the ROC AUC is not defined with one class only "
            f"(scikit-learn returns NaN); got {n} rows of one label"
        )
        raise ValueError(msg)
    nan = _checks.check_no_nan(y_score, xp=xp)
    w = _weights(sample_weight, n, dtype, device_of(y_score), xp=xp)
    zero = xp.zeros((), dtype=dtype, device=device_of(w))
    w_pos = xp.where(positive, w, zero)  # (N,)
    w_neg = w - w_pos

    order = xp.argsort(y_score, stable=True)  # ascending scores
    s = xp.take(y_score, order)
    w_pos, w_neg = xp.take(w_pos, order), xp.take(w_neg, order)
    below = xp.cumulative_sum(w_neg, include_initial=True)  # (N + 1,) negatives before row i
    start = xp.searchsorted(s, s, side="left")  # (N,) each row's tie block is [start, stop)
    stop = xp.searchsorted(s, s, side="right")
    under, tied = xp.take(below, start), xp.take(below, stop) - xp.take(below, start)
    pairs = xp.sum(w_pos * (under + 0.5 * tied))
    total = xp.sum(w_pos) * xp.sum(w_neg)
    defined = (total > 0) & ~nan
    return xp.where(defined, pairs / xp.where(defined, total, 1.0), xp.nan)


def group_auc(y_true: Array, y_score: Array, groups: Array, /) -> Array:
    r"""Group AUC (GAUC): each group's ROC AUC, weighted by the group's number of rows.

    Parameters
    ----------
    y_true : array (N,)
        Binary labels, two distinct values (bool, integer or floating); the greater one is the
        positive class, as in :func:`roc_auc`.
    y_score : array (N,), real (integer or floating)
        Scores; ties count 1/2 within a group.
    groups : array (N,), integer
        The group of each row (a user, a query): any integer ids, in any order.

    Returns
    -------
    array, 0-d
        GAUC in [0, 1], in the floating dtype of `y_score` (the default floating dtype when it
        is integer).

    Raises
    ------
    ValueError
        Shapes that are not (N,) alike, N = 0. On eager arrays also: no group holds both
        classes (nothing to average), a third label value, NaN scores.
    TypeError
        An argument that is not an array of the framework of `y_true`, or of the wrong kind.

    Notes
    -----
    .. math::

        \mathrm{GAUC} = \frac{\sum_{g \in G} n_g \mathrm{AUC}_g}{\sum_{g \in G} n_g}

    over the groups :math:`G` that hold both classes (a group of one class has no AUC and is
    skipped), :math:`n_g` the rows of group :math:`g` and :math:`\mathrm{AUC}_g` the
    :func:`roc_auc` of its rows (Zhu et al. 2017, "Optimized Cost per Click in Taobao Display
    Advertising", weighted by impressions; ``sum(n_g * roc_auc_score(y_g, s_g)) / sum(n_g)``
    with scikit-learn).

    The rows are sorted by (group, score) with two stable argsorts; the flags where the group
    or the score changes number the groups and the tie blocks (a cumulative sum), and each
    positive row counts the negatives of its group below its tie block and inside it, in
    integers (exact). The per-group sums are the backend's ``segment_sum`` over N segments.
    When no group holds both classes an eager call raises a ValueError and a call under
    ``jax.jit`` returns NaN (0 / 0), as do NaN scores there.

    References
    ----------
    - Zhu et al. 2017, "Optimized Cost per Click in Taobao Display Advertising",
      https://arxiv.org/abs/1703.02091

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> y = np.array([0, 1, 1, 1, 0, 1])
    >>> s = np.array([0.1, 0.4, 0.3, 0.2, 0.6, 0.9])
    >>> g = np.array([7, 7, 7, 3, 3, 5])  # AUC 1 over 3 rows, 0 over 2; group 5 skipped
    >>> float(mlprims.group_auc(y, s, g))
    0.6
    """
    xp = namespace(y_true, y_score, groups, names=("y_true", "y_score", "groups"))
    n = _checks.check_vector(y_true, "y_true", None, xp=xp)
    _checks.check_vector(y_score, "y_score", n, xp=xp)
    check_dtype(y_score, "y_score", _checks.REAL[1:], xp=xp)
    check_dtype(groups, "groups", "integral", xp=xp, why=" (group ids)")
    if tuple(groups.shape) != (n,):
        msg = (
            f"`groups` must have shape (N,) = ({n},), one id per row, got {shape_str(groups.shape)}"
        )
        raise ValueError(msg)
    dtype = _checks.float_dtype(y_score, xp=xp)
    positive = _checks.positive_labels(y_true, xp=xp)
    nan = _checks.check_no_nan(y_score, xp=xp)

    by_score = xp.argsort(y_score, stable=True)
    order = xp.take(by_score, xp.argsort(xp.take(groups, by_score), stable=True))
    g, s = xp.take(groups, order), xp.take(y_score, order)  # (N,) by group, then score
    pos = xp.astype(xp.take(positive, order), index_dtype(xp))
    neg = 1 - pos
    group_id = _run_ids(g != xp.roll(g, 1), xp=xp)  # (N,) 0, 0, 1, ...: the sorted groups
    block_id = _run_ids((g != xp.roll(g, 1)) | (s != xp.roll(s, 1)), xp=xp)  # tie blocks
    below = xp.cumulative_sum(neg, include_initial=True)  # (N + 1,)
    group_start = xp.take(below, xp.searchsorted(group_id, group_id, side="left"))
    block_start = xp.take(below, xp.searchsorted(block_id, block_id, side="left"))
    block_stop = xp.take(below, xp.searchsorted(block_id, block_id, side="right"))
    # twice the pairs a positive row wins: 2 per negative below its block, 1 per tied one
    twice = pos * (2 * (block_start - group_start) + (block_stop - block_start))  # (N,) ints
    sums = backends.of(y_score).segment_sum(
        xp.astype(xp.stack([twice, pos, neg], axis=1), dtype), group_id, n
    )  # (N, 3): per sorted group, zero past the last
    twice_won, n_pos, n_neg = sums[:, 0], sums[:, 1], sums[:, 2]
    both = (n_pos > 0) & (n_neg > 0)  # (N,) the groups that have an AUC
    auc = twice_won / (2.0 * xp.where(both, n_pos * n_neg, 1.0))
    zero = xp.zeros((), dtype=dtype, device=device_of(sums))
    size = xp.where(both, n_pos + n_neg, zero)
    counted = xp.sum(size)
    if concrete_any(counted == 0, xp=xp):
        msg = (
            "`y_true` must hold both classes in at least one group: GAUC skips the groups of "
            "one class, and no group is left"
        )
        raise ValueError(msg)
    defined = (counted > 0) & ~nan
    return xp.where(defined, xp.sum(size * auc) / xp.where(defined, counted, 1.0), xp.nan)


def _run_ids(starts: Array, *, xp: Namespace) -> Array:
    """0, 0, 1, 1, 1, 2, ...: the run each sorted row is in, from flags of where runs start
    (the first row always starts one, whatever ``roll`` wrapped around into position 0)."""
    first = xp.arange(starts.shape[0], device=device_of(starts)) == 0
    return xp.cumulative_sum(xp.astype(starts | first, index_dtype(xp))) - 1


def _weights(
    sample_weight: Array | None, n: int, dtype: object, device: object, *, xp: Namespace
) -> Array:
    """`sample_weight` checked (eager: >= 0 and finite) and cast, or ones."""
    if sample_weight is None:
        return xp.ones((n,), dtype=dtype, device=device)
    check_floating(sample_weight, "sample_weight", xp=xp)
    if tuple(sample_weight.shape) != (n,):
        msg = (
            f"`sample_weight` must have shape (N,) = ({n},), one weight per row, got "
            f"{shape_str(sample_weight.shape)}"
        )
        raise ValueError(msg)
    if concrete_any(~(sample_weight >= 0) | ~xp.isfinite(sample_weight), xp=xp):
        msg = "`sample_weight` must hold finite weights >= 0"
        raise ValueError(msg)
    return xp.astype(sample_weight, dtype)
