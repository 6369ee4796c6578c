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

from typing import NamedTuple

from .. import random
from .._array import Array, Namespace, check_in_range, check_int
from ._checks import check_centers, check_data, check_key, check_sample_weight
from ._distances import chunk_rows
from ._lloyd import LloydFit

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
    fit = LloydFit(centred, weights, n_clusters, rows=chunk_rows(x, n_clusters, chunk_size), xp=xp)
    scaled_tol = fit.scaled_tol(tol)
    best: KMeansResult | None = None
    for start, run_key in starts:
        result = KMeansResult(
            *fit.lloyd(fit.initial(start, run_key), max_iter=max_iter, tol=scaled_tol)
        )
        best = result if best is None else _lower_inertia(best, result, xp=xp)
    assert best is not None
    return best._replace(centers=best.centers + shift)


def kmeans_step(
    x: Array, centers: Array, /, *, sample_weight: Array | None = None
) -> tuple[Array, Array, Array]:
    r"""One Lloyd step, as scikit-learn runs it: assign, sum, relocate empty clusters, average.

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

    Notes
    -----
    The assignment and the update of Lloyd's algorithm:

    .. math::

        \ell_i = \operatorname*{arg\,min}_j \lVert x_i - c_j \rVert^2, \qquad
        c'_j = \frac{\sum_{i : \ell_i = j} w_i x_i}{\sum_{i : \ell_i = j} w_i}

    (scikit-learn's ``lloyd_iter_chunked_dense``, with its relocation of empty clusters).

    References
    ----------
    - Lloyd 1982, "Least squares quantization in PCM", https://doi.org/10.1109/TIT.1982.1056489
    - https://scikit-learn.org/stable/modules/generated/sklearn.cluster.KMeans.html

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
    fit = LloydFit(x - shift, weights, k, rows=chunk_rows(x, k, None), xp=xp)
    new_centers, labels, _ = fit.step(centers - shift)
    return new_centers + shift, labels, fit.inertia(centers - shift, labels)


def kmeans_predict(x: Array, centers: Array, /) -> Array:
    r"""The index of the nearest centre for each point (lowest index on ties): ``KMeans.predict``.

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

    .. math:: \ell_i = \operatorname*{arg\,min}_j \lVert x_i - c_j \rVert^2

    References
    ----------
    - https://scikit-learn.org/stable/modules/generated/sklearn.cluster.KMeans.html#sklearn.cluster.KMeans.predict

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
    fit = LloydFit(x - shift, None, k, rows=chunk_rows(x, k, None), xp=xp)
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
