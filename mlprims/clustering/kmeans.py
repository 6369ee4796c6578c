"""Lloyd's k-means with the semantics of ``sklearn.cluster.KMeans(algorithm="lloyd")``.

One step (scikit-learn's ``lloyd_iter_chunked_dense``): assign each point to its nearest
centre (lowest index on ties), sum the weighted points of each cluster, relocate every empty
cluster to one of the points farthest from their centres (``_relocate_empty_clusters_dense``),
and divide by the cluster weights (``_average_centers``: a cluster still empty, when every point
sits on its centre, is put on the centre of the heaviest cluster). The loop
(``_kmeans_single_lloyd``) stops when the labels stop changing ("strict convergence") or when
the squared centre shift ``sum |c' - c|^2`` is at most ``tol * mean(var(x, axis=0))``
(``_tolerance``); after a stop on the shift or on `max_iter` the labels are recomputed for the
final centres. The inertia is
``sum_i w_i |x_i - c_{label_i}|^2``.

Distances use the matmul form in row chunks (:mod:`._distances`), so memory is
``O(chunk * (k + d))``; the iteration is the backend's ``while_loop``, so the whole fit
compiles under ``jax.jit``; on a Dask array each step is one pass over its blocks.

The cluster sums are the backend's ``segment_sum`` where it has a ``fast_scatter`` (NumPy's
sort and ``np.add.reduceat``, torch's ``index_add_``: about 2x and 4x faster than the one-hot
matmul there), and a matmul with the one-hot labels elsewhere (XLA's CPU scatter-add was several
times slower than its matmul; on Dask it keeps each step blockwise). Figures:
``benchmarks/RESULTS.md`` ("Design measurements", and the ``bench_kmeans`` section).

Distances are computed on centred data, as scikit-learn's ``KMeans.fit`` (``X -= X_mean``):
``|x|^2 - 2 x.c + |c|^2`` loses the digits that tell the centres apart when the points sit far
from the origin (float32 points near 1e4 carry |c|^2 ~ 1e8, with a rounding of ~8: clusters 1
apart were mixed up). :func:`kmeans` subtracts the data's mean (unweighted, as scikit-learn)
and adds it back to the centres; :func:`kmeans_step` and :func:`kmeans_predict`, given
centres and no pass to spare, subtract the mean of the centres (a translation: the labels are
the same, the rounding is that of the spread of the data, not of its offset).

scikit-learn computes the relocation's distances only when a cluster is empty and skips the
final E-step after strict convergence; here both are always computed (no Python branch on
array values: the same code runs under ``jax.jit``), a select keeps the right result.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from .. import backends, random
from .._array import Array, Namespace, check_in_range, check_int, index_dtype
from ._checks import check_centers, check_data, check_key, check_sample_weight
from ._distances import assign, augmented_centers, chunk_rows, chunks, sq_distances
from .plusplus import greedy_plusplus

__all__ = ["KMeansResult", "kmeans", "kmeans_predict", "kmeans_step"]


class KMeansResult(NamedTuple):
    """What :func:`kmeans` returns.

    Attributes
    ----------
    centers : array of shape (n_clusters, n_features)
        The final centres (``KMeans.cluster_centers_``).
    labels : integer array of shape (n_samples,)
        The index of each point's centre (``KMeans.labels_``).
    inertia : 0-d array
        ``sum_i w_i |x_i - centers[labels_i]|^2`` (``KMeans.inertia_``).
    n_iter : 0-d integer array
        The number of Lloyd steps run (``KMeans.n_iter_``).
    """

    centers: Array
    labels: Array
    inertia: Array
    n_iter: Array


def kmeans(
    x: Array,
    n_clusters: int,
    /,
    *,
    init: str | Array = "k-means++",
    n_init: int = 1,
    max_iter: int = 300,
    tol: float = 1e-4,
    key: Array | None = None,
    sample_weight: Array | None = None,
    chunk_size: int | None = None,
) -> KMeansResult:
    r"""Lloyd's k-means: ``sklearn.cluster.KMeans(algorithm="lloyd")`` as a function.

    Minimises the inertia ``sum_i w_i min_j |x_i - c_j|^2`` by alternating assignment and
    weighted means (Lloyd 1982), with scikit-learn's stopping rule, empty-cluster relocation
    and final relabelling (see the module docstring). Given the same initial centres, labels
    and ``n_iter`` equal scikit-learn's, centres and inertia agree to rounding.

    Parameters
    ----------
    x : floating array of shape (n_samples, n_features)
        The data, on any backend, or a :mod:`dask.array` chunked by rows.
    n_clusters : int
        In ``[1, n_samples]``.
    init : {"k-means++", "random"} or array of shape (n_clusters, n_features)
        ``"k-means++"``: :func:`kmeans_plusplus`; ``"random"``: `n_clusters` distinct points
        drawn with probability proportional to their weight (Gumbel top-k); an array: the
        initial centres (then `n_init` is ignored: one run, as scikit-learn).
    n_init : int
        Runs with different seeds (run ``i`` uses ``fold_in(key, i)``); the one of lowest
        inertia is returned (the first among equals).
    max_iter : int
        The most Lloyd steps per run, >= 1.
    tol : float
        >= 0; relative to the mean per-feature variance of `x`, compared with the squared
        shift of the centres. 0 stops only when the labels stop changing (or at `max_iter`).
    key : array of shape (2,), uint32, optional
        An :mod:`mlprims.random` key; required by the random inits (on Dask: a NumPy key).
    sample_weight : floating array of shape (n_samples,), optional
        Non-negative weights; default all ones.
    chunk_size : int, optional
        Rows per distance block; default: blocks of about 4 MiB (they stay in the CPU's
        cache), 64 MiB under JAX. Ignored on Dask, whose own blocks are used.

    Returns
    -------
    KMeansResult
        ``(centers, labels, inertia, n_iter)``.

    Raises
    ------
    ValueError
        For a bad `n_clusters`, `init`, `sample_weight` or a missing `key`; for NaN or
        infinity in `x` or a negative weight when the arrays are eager (under ``jax.jit``
        values are unknown: NaN then propagates into the centres and inertia).
    TypeError
        For a non-floating `x` or arguments of the wrong type.

    See Also
    --------
    kmeans_plusplus : The default initialisation.
    kmeans_step : One Lloyd step, for writing the loop by hand.
    kmeans_predict : The nearest centre of new points.

    Notes
    -----
    .. math:: \min_{c} \sum_i w_i \min_j \lVert x_i - c_j \rVert^2 \quad\text{(the inertia)}.

    Memory beyond `x` is ``O(n_samples + chunk_size * (n_clusters + n_features))``. Under
    ``jax.jit`` the chunks are unrolled (their count is static). Every step computes the
    relocation (a top-k over the distances), which scikit-learn skips when no cluster is
    empty: no Python branch on array values. On Dask the loop is a Python loop whose state is
    persisted on the workers each step; only the (k, d) centres and a few scalars come back to
    the client.

    References
    ----------
    - Lloyd 1982, "Least squares quantization in PCM", https://doi.org/10.1109/TIT.1982.1056489
    - https://scikit-learn.org/stable/modules/generated/sklearn.cluster.KMeans.html

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> x = np.array([[0.0, 0.0], [0.0, 1.0], [10.0, 0.0], [10.0, 1.0]])
    >>> result = mlprims.kmeans(x, 2, init=x[[0, 2]])
    >>> result.centers.tolist(), result.labels.tolist(), float(result.inertia)
    ([[0.0, 0.5], [10.0, 0.5]], [0, 0, 1, 1], 1.0)
    """
    n_clusters = check_int(n_clusters, "n_clusters", minimum=1)
    xp = check_data(x, n_clusters)
    n_init = check_int(n_init, "n_init", minimum=1)
    max_iter = check_int(max_iter, "max_iter", minimum=1)
    tol = check_in_range(tol, "tol", 0.0, closed=(True, False))
    if chunk_size is not None:
        chunk_size = check_int(chunk_size, "chunk_size", minimum=1)
    weights = check_sample_weight(sample_weight, x, xp=xp)
    if isinstance(init, str):
        if init not in ("k-means++", "random"):
            msg = f"`init` must be 'k-means++', 'random' or an array of centres; got {init!r}"
            raise ValueError(msg)
        check_key(key, x, xp=xp)
        starts = [(init, random.fold_in(key, i)) for i in range(n_init)]
    else:
        starts = [(check_centers(init, x, n_clusters, name="init", xp=xp), None)]
    shift = xp.mean(x, axis=0)  # scikit-learn's X_mean: see the module docstring
    starts = [(s if isinstance(s, str) else s - shift, run_key) for s, run_key in starts]
    centred = x - shift
    fit = _Fit(centred, weights, n_clusters, rows=chunk_rows(x, n_clusters, chunk_size), xp=xp)
    scaled_tol = fit.scaled_tol(tol)
    best: KMeansResult | None = None
    for start, run_key in starts:
        result = fit.lloyd(fit.initial(start, run_key), max_iter=max_iter, tol=scaled_tol)
        best = result if best is None else _lower_inertia(best, result, xp=xp)
    assert best is not None
    return best._replace(centers=best.centers + shift)


def kmeans_step(
    x: Array, centers: Array, /, *, sample_weight: Array | None = None
) -> tuple[Array, Array, Array]:
    """One Lloyd step, as scikit-learn runs it: assign, sum, relocate empty clusters, average.

    Parameters
    ----------
    x : floating array of shape (n_samples, n_features)
    centers : floating array of shape (n_clusters, n_features)
        The current centres.
    sample_weight : floating array of shape (n_samples,), optional
        Non-negative weights; default all ones.

    Returns
    -------
    new_centers : array of shape (n_clusters, n_features)
        The weighted means of the clusters (an empty cluster takes the point farthest from its
        centre, the next empty one the second farthest, ...; when every point sits on its
        centre nothing moves, and an empty cluster takes the centre of the heaviest one).
    labels : integer array of shape (n_samples,)
        The nearest of `centers` to each point.
    inertia : 0-d array
        ``sum_i w_i |x_i - centers[labels_i]|^2``, for the *given* centres: along a sequence
        of steps it never increases.

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> x = np.array([[0.0], [1.0], [4.0]])
    >>> centers, labels, inertia = mlprims.kmeans_step(x, np.array([[0.0], [3.0]]))
    >>> centers.tolist(), labels.tolist(), float(inertia)
    ([[0.5], [4.0]], [0, 0, 1], 2.0)
    """
    xp = check_data(x, None)
    centers = check_centers(centers, x, None, name="centers", xp=xp)
    weights = check_sample_weight(sample_weight, x, xp=xp)
    shift = xp.mean(centers, axis=0)  # a translation, for the precision: see the module
    k = int(centers.shape[0])
    fit = _Fit(x - shift, weights, k, rows=chunk_rows(x, k, None), xp=xp)
    new_centers, labels, _ = fit.step(centers - shift)
    return new_centers + shift, labels, fit.inertia(centers - shift, labels)


def kmeans_predict(x: Array, centers: Array, /) -> Array:
    """The index of the nearest centre for each point (lowest index on ties): ``KMeans.predict``.

    Parameters
    ----------
    x : floating array of shape (n_samples, n_features)
    centers : floating array of shape (n_clusters, n_features)

    Returns
    -------
    integer array of shape (n_samples,)

    Notes
    -----
    The distances are computed after subtracting the mean of `centers` from the points and
    the centres: the same labels, but exact to the spread of the data rather than to its
    offset (scikit-learn's ``predict`` uses the raw data and mislabels float32 points near
    1e4 that are 1 apart).

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> mlprims.kmeans_predict(np.array([[0.2], [2.9]]), np.array([[0.0], [3.0]])).tolist()
    [0, 1]
    """
    xp = check_data(x, None)
    centers = check_centers(centers, x, None, name="centers", xp=xp)
    shift = xp.mean(centers, axis=0)  # a translation, for the precision: see the module
    k = int(centers.shape[0])
    fit = _Fit(x - shift, None, k, rows=chunk_rows(x, k, None), xp=xp)
    return fit.assign_all(centers - shift)


def _lower_inertia(best: KMeansResult, other: KMeansResult, *, xp: Namespace) -> KMeansResult:
    """`other` where its inertia is strictly lower than `best`'s, else `best` (no branching)."""
    better = other.inertia < best.inertia
    return KMeansResult(
        xp.where(better, other.centers, best.centers),
        xp.where(better, other.labels, best.labels),
        xp.where(better, other.inertia, best.inertia),
        xp.where(better, other.n_iter, best.n_iter),
    )


class _Fit:
    """The data of one fit and the passes over it (each a loop over row chunks)."""

    def __init__(
        self, x: Array, weights: Array | None, n_clusters: int, *, rows: int, xp: Namespace
    ) -> None:
        self.x, self.weights, self.k, self.rows, self.xp = x, weights, n_clusters, rows, xp
        self.backend = backends.of(x)
        self.n = int(x.shape[0])
        # Cluster sums: a scatter-add where it is one fast kernel (NumPy's sort-and-reduceat,
        # torch's index_add_), a matmul with the one-hot labels where the scatter is slow (XLA
        # on CPU) or where the step must stay blockwise (Dask). See the module docstring.
        self.scatter = self.backend.fast_scatter

    def scaled_tol(self, tol: float) -> Array | float:
        """scikit-learn's ``_tolerance``: ``tol * mean(var(x, axis=0))``, 0 when `tol` is 0."""
        if tol == 0:
            return 0.0
        return self.xp.mean(self.xp.var(self.x, axis=0)) * tol

    def initial(self, start: Any, key: Array | None) -> Array:
        """The initial centres: an array as given, or drawn with `key`."""
        if not isinstance(start, str):
            return start
        xp, x, k = self.xp, self.x, self.k
        assert self.weights is not None and key is not None
        if start == "k-means++":
            n_trials = 2 + int(math.log(k))
            centers, _ = greedy_plusplus(x, self.weights, k, key, n_trials, xp=xp, n_samples=self.n)
            return centers
        # "random": k distinct points, P(i) proportional to w_i (Gumbel top-k: sampling without
        # replacement, as NumPy's choice(n, k, replace=False, p=w / sum(w))).
        noise = random.gumbel(
            key, (self.n,), dtype="float64" if x.dtype == xp.float64 else "float32"
        )
        w = self.weights
        positive = w > 0
        log_w = xp.where(positive, xp.log(xp.where(positive, w, xp.ones_like(w))), -xp.inf)
        scores = log_w + xp.astype(noise, x.dtype)
        _, indices = self.backend.top_k(scores, k)
        return xp.take(x, indices, axis=0)

    def assign_all(self, centers: Array) -> Array:
        """The label of every point for `centers`, chunk by chunk."""
        xp = self.xp
        augmented = augmented_centers(centers, xp=xp)
        parts = [
            assign(self.x[start:stop, ...], augmented, xp=xp)
            for start, stop in chunks(self.n, self.rows)
        ]
        return parts[0] if len(parts) == 1 else xp.concat(parts)

    def step(self, centers: Array) -> tuple[Array, Array, Array]:
        """One Lloyd step: new centres, labels for `centers`, squared centre shift."""
        xp, k = self.xp, self.k
        clusters = xp.arange(k, dtype=index_dtype(xp))
        assert self.weights is not None
        augmented = augmented_centers(centers, xp=xp)
        sums = counts = None
        labels_parts = []
        for start, stop in chunks(self.n, self.rows):
            x, w = self.x[start:stop, ...], self.weights[start:stop]
            labels = assign(x, augmented, xp=xp)
            if self.scatter:
                chunk_sums = self.backend.segment_sum(x * w[:, None], labels, k)
                chunk_counts = self.backend.segment_sum(w, labels, k)
            else:  # the one-hot block (k, rows) is the size of the distance block
                one_hot = xp.astype(clusters[:, None] == labels[None, :], x.dtype)
                chunk_sums = one_hot @ (x * w[:, None])
                chunk_counts = one_hot @ w
            sums = chunk_sums if sums is None else sums + chunk_sums
            counts = chunk_counts if counts is None else counts + chunk_counts
            labels_parts.append(labels)
        assert sums is not None and counts is not None
        labels = labels_parts[0] if len(labels_parts) == 1 else xp.concat(labels_parts)
        sums, counts = self.relocate(centers, labels, sums, counts)
        filled = counts > 0
        means = sums * (1.0 / xp.where(filled, counts, xp.ones_like(counts)))[:, None]
        heaviest = xp.take(means, xp.argmax(counts)[None], axis=0)  # (1, d); first on ties
        new_centers = xp.where(filled[:, None], means, heaviest)
        shift = new_centers - centers
        return new_centers, labels, xp.sum(shift * shift)

    def relocate(
        self, centers: Array, labels: Array, sums: Array, counts: Array
    ) -> tuple[Array, Array]:
        """``_relocate_empty_clusters_dense``: the r-th empty cluster (in index order) takes
        the r-th farthest point from its centre; that point's weighted value moves out of its
        old cluster. Nothing moves when every point sits on its centre."""
        xp, k = self.xp, self.k
        assert self.weights is not None
        empty = counts == 0
        distances = self.sq_distances(centers, labels)
        _, farthest = self.backend.top_k(distances, k)  # farthest first, lower index on ties
        rank = xp.cumulative_sum(xp.astype(empty, index_dtype(xp))) - 1
        point = xp.take(farthest, xp.maximum(rank, xp.zeros_like(rank)))  # (k,)
        moves = empty & (xp.max(distances) > 0)
        weight = xp.where(moves, xp.take(self.weights, point), xp.zeros_like(counts))
        moved = xp.take(self.x, point, axis=0) * weight[:, None]  # (k, d), 0 where no move
        source = xp.where(moves, xp.take(labels, point), xp.full_like(point, k))  # k: dropped
        segment_sum = self.backend.segment_sum
        sums = xp.where(moves[:, None], moved, sums) - segment_sum(moved, source, k)
        counts = xp.where(moves, weight, counts) - segment_sum(weight, source, k)
        return sums, counts

    def lloyd(self, centers: Array, *, max_iter: int, tol: Array | float) -> KMeansResult:
        """``_kmeans_single_lloyd``: steps until strict convergence, the tolerance or
        `max_iter`, then the final labels and inertia."""
        xp = self.xp
        no_labels = xp.full_like(self.x[:, 0], -1, dtype=index_dtype(xp))
        zero = xp.asarray(0, dtype=index_dtype(xp))
        false = xp.asarray(False)

        def cond(state: tuple[Array, ...]) -> Array:
            n_iter, _, _, _, stop = state
            return (n_iter < max_iter) & ~stop

        def body(state: tuple[Array, ...]) -> tuple[Array, ...]:
            n_iter, centers, previous, _, _ = state
            new_centers, labels, shift = self.step(centers)
            strict = xp.all(labels == previous)
            return n_iter + 1, new_centers, labels, strict, strict | (shift <= tol)

        state = (zero, centers, no_labels, false, false)
        n_iter, centers, labels, strict, _ = self.backend.while_loop(cond, body, state)
        final_labels = self.assign_all(centers)  # scikit-learn reruns the E-step unless strict
        labels = xp.where(strict, labels, final_labels)
        return KMeansResult(centers, labels, self.inertia(centers, labels), n_iter)

    def sq_distances(self, centers: Array, labels: Array) -> Array:
        """``|x_i - centers[labels_i]|^2`` of every point, chunk by chunk."""
        xp = self.xp
        parts = [
            sq_distances(self.x[start:stop, ...], centers, labels[start:stop], xp=xp)
            for start, stop in chunks(self.n, self.rows)
        ]
        return parts[0] if len(parts) == 1 else xp.concat(parts)

    def inertia(self, centers: Array, labels: Array) -> Array:
        """``_inertia_dense``: ``sum_i w_i |x_i - centers[labels_i]|^2``."""
        assert self.weights is not None
        return self.xp.sum(self.weights * self.sq_distances(centers, labels))
