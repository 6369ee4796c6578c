"""k-means++ seeding: scikit-learn's greedy variant, with mlprims.random's portable draws.

Arthur & Vassilvitskii, "k-means++: The Advantages of Careful Seeding" (SODA 2007), greedy as in
``sklearn.cluster._kmeans._kmeans_plusplus``: the first centre is a point drawn with
probability proportional to its weight; each next one is the best of ``n_local_trials``
candidates (default ``2 + floor(ln k)``) drawn with probability proportional to
``w_i * D(x_i)^2`` (the squared distance to the nearest centre so far), the best being the one
that leaves the smallest potential ``sum_i w_i * min(D(x_i)^2, |x_i - candidate|^2)``.
"""

from __future__ import annotations

import math
from typing import Any

from .. import backends, random
from .._array import Array, Namespace, check_int, index_dtype
from ._checks import check_data, check_key, check_sample_weight
from ._distances import sq_distances_to

__all__ = ["kmeans_plusplus"]


def kmeans_plusplus(
    x: Array,
    n_clusters: int,
    /,
    *,
    key: Array,
    n_local_trials: int | None = None,
    sample_weight: Array | None = None,
) -> tuple[Array, Array]:
    """Initial centres by greedy k-means++ (scikit-learn's ``kmeans_plusplus``).

    Draw ``c_0 = x_i`` with probability ``w_i / sum(w)``; then for ``c = 1 .. k-1`` draw
    ``n_local_trials`` candidates with probability ``w_i D_i^2 / sum(w D^2)`` (``D_i`` the
    distance from ``x_i`` to its nearest centre so far) and keep the candidate that minimises
    the new potential ``sum_i w_i min(D_i^2, |x_i - candidate|^2)``.

    Parameters
    ----------
    x : floating array of shape (n_samples, n_features)
        The data; finite (checked on eager arrays).
    n_clusters : int
        The number of centres, in ``[1, n_samples]``.
    key : array of shape (2,), uint32
        An :mod:`mlprims.random` key of the backend of `x`. The first centre is drawn with
        ``fold_in(key, 0)``, the candidates for centre ``c`` with ``fold_in(key, c)``.
    n_local_trials : int, optional
        Candidates per centre after the first; default ``2 + floor(ln(n_clusters))``.
    sample_weight : floating array of shape (n_samples,), optional
        Non-negative weights; default all ones.

    Returns
    -------
    centers : array of shape (n_clusters, n_features), dtype of `x`
        Rows of `x`.
    indices : integer array of shape (n_clusters,)
        ``centers[j] == x[indices[j]]``.

    Notes
    -----
    The draws are inverse-CDF lookups of :func:`mlprims.random.uniform` numbers in the
    cumulative sums, as NumPy's ``choice`` and scikit-learn's ``searchsorted`` do, so the same
    key picks the same points on every backend (up to cumulative sums that differ in their last
    bit). scikit-learn's own random numbers come from NumPy's ``RandomState``, so its picks
    differ; the algorithm is the same. The loop over centres is the backend's ``fori_loop``
    (``lax.fori_loop`` under ``jax.jit``); memory is ``O(n_samples * n_local_trials)``.

    References
    ----------
    - https://scikit-learn.org/stable/modules/generated/sklearn.cluster.kmeans_plusplus.html

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> x = np.array([[0.0, 0.0], [0.1, 0.0], [10.0, 10.0], [10.1, 10.0]])
    >>> centers, indices = mlprims.kmeans_plusplus(x, 2, key=mlprims.random.key(0))
    >>> sorted(int(i) // 2 for i in indices)   # one centre in each group
    [0, 1]
    """
    n_clusters = check_int(n_clusters, "n_clusters", minimum=1)
    xp = check_data(x, n_clusters)
    n_samples = int(x.shape[0])
    if n_local_trials is None:
        n_local_trials = 2 + int(math.log(n_clusters))
    n_local_trials = check_int(n_local_trials, "n_local_trials", minimum=1)
    weights = check_sample_weight(sample_weight, x, xp=xp)
    check_key(key, x, xp=xp)
    # Distances on centred data (see mlprims.clustering.kmeans); the centres are the points.
    centred = x - xp.mean(x, axis=0)
    _, indices = greedy_plusplus(
        centred, weights, n_clusters, key, n_local_trials, xp=xp, n_samples=n_samples
    )
    return xp.take(x, indices, axis=0), indices


def _count_below(cumulative: Array, values: Array, *, inclusive: bool, xp: Namespace) -> Array:
    """``searchsorted(cumulative, values, side="right" if inclusive else "left")``, clipped to
    ``n - 1``: the number of entries below (or equal to) each value, as a reduction (Dask
    reduces it chunk by chunk; a searchsorted would need the whole array in one place)."""
    below = (
        cumulative[None, :] <= values[:, None]
        if inclusive
        else (cumulative[None, :] < values[:, None])
    )
    counts = xp.sum(xp.astype(below, index_dtype(xp)), axis=1)
    n = int(cumulative.shape[0])
    return xp.minimum(counts, xp.full_like(counts, n - 1))


def greedy_plusplus(
    x: Array,
    weights: Array,
    n_clusters: int,
    key: Array,
    n_local_trials: int,
    *,
    xp: Namespace,
    n_samples: int,
) -> tuple[Array, Array]:
    """The centres and their indices, for checked arguments (:func:`kmeans` calls it on data
    it has centred already)."""
    backend = backends.of(x)
    x_sq = xp.sum(x * x, axis=1)
    dtype = x.dtype
    # The first centre: NumPy's choice(n, p=w / sum(w)) is searchsorted(cdf, u, side="right").
    u = random.uniform(random.fold_in(key, 0), (1,), dtype=_uniform_dtype(dtype, xp))
    u = xp.astype(u, dtype) * xp.sum(weights)
    first = _count_below(xp.cumulative_sum(weights), u, inclusive=True, xp=xp)  # (1,)
    first_point = xp.take(x, first, axis=0)  # (1, d)
    closest = sq_distances_to(first_point, x, x_sq, xp=xp)[0, :]  # (n,)
    potential = xp.sum(closest * weights)

    row = xp.arange(n_clusters, dtype=index_dtype(xp))
    centers = xp.where(
        row[:, None] == 0, first_point, xp.zeros((n_clusters, x.shape[1]), dtype=dtype)
    )
    indices = xp.where(row == 0, first, xp.zeros_like(row))

    def body(c: Any, state: tuple[Array, Array, Array, Array]) -> tuple[Array, Array, Array, Array]:
        centers, indices, closest, potential = state
        step_key = random.fold_in(key, c)  # c: a Python int, or a traced 0-d array (JAX)
        u = random.uniform(step_key, (n_local_trials,), dtype=_uniform_dtype(dtype, xp))
        targets = xp.astype(u, dtype) * potential
        candidates = _count_below(
            xp.cumulative_sum(weights * closest), targets, inclusive=False, xp=xp
        )
        distances = sq_distances_to(xp.take(x, candidates, axis=0), x, x_sq, xp=xp)  # (t, n)
        distances = xp.minimum(distances, closest[None, :])
        potentials = xp.sum(distances * weights[None, :], axis=1)  # (t,)
        best = xp.argmin(potentials)  # the first of equal potentials, as np.argmin
        best_one = xp.reshape(best, (1,))
        closest = xp.take(distances, best_one, axis=0)[0, :]
        potential = xp.take(potentials, best_one)[0]
        chosen = xp.take(candidates, best_one)  # (1,)
        is_c = row == c
        centers = xp.where(is_c[:, None], xp.take(x, chosen, axis=0), centers)
        indices = xp.where(is_c, chosen, indices)
        return centers, indices, closest, potential

    centers, indices, _, _ = backend.fori_loop(
        1, n_clusters, body, (centers, indices, closest, potential)
    )
    return centers, indices


def _uniform_dtype(dtype: Any, xp: Namespace) -> str:
    """The dtype to draw uniforms in: float64 for float64 data, else float32."""
    return "float64" if dtype == xp.float64 else "float32"
