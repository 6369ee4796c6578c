"""Float64 NumPy references for mlprims.clustering, written as scikit-learn's Cython reads.

Point by point and cluster by cluster (no chunking, no matmul form): the Lloyd step of
``sklearn/cluster/_k_means_lloyd.pyx`` (``lloyd_iter_chunked_dense``), the relocation of
``_k_means_common.pyx`` (``_relocate_empty_clusters_dense``) and the loop of
``sklearn/cluster/_kmeans.py`` (``_kmeans_single_lloyd``, ``_tolerance``).
"""

from __future__ import annotations

import numpy as np

__all__ = ["kmeans_predict_reference", "kmeans_reference", "kmeans_step_reference"]


def kmeans_predict_reference(x: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """The nearest centre of each row (the first on ties), by explicit squared distances."""
    x, centers = np.asarray(x, np.float64), np.asarray(centers, np.float64)
    distances = ((x[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2)
    return np.argmin(distances, axis=1)


def kmeans_step_reference(
    x: np.ndarray, centers: np.ndarray, sample_weight: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.float64]:
    """One Lloyd step: (new centres, labels, inertia of the given centres)."""
    x, centers = np.asarray(x, np.float64), np.asarray(centers, np.float64)
    n, k = x.shape[0], centers.shape[0]
    w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, np.float64)
    labels = kmeans_predict_reference(x, centers)
    sums = np.zeros_like(centers)
    weights = np.zeros(k)
    for i in range(n):
        sums[labels[i]] += x[i] * w[i]
        weights[labels[i]] += w[i]
    distances = ((x - centers[labels]) ** 2).sum(axis=1)
    empty = np.flatnonzero(weights == 0)
    if empty.size and distances.max() > 0:
        farthest = np.argsort(-distances, kind="stable")[: empty.size]
        for new, far in zip(empty, farthest, strict=True):
            old = labels[far]
            sums[old] -= x[far] * w[far]
            sums[new] = x[far] * w[far]
            weights[new] = w[far]
            weights[old] -= w[far]
    # _average_centers: an empty cluster goes to the heaviest one's centre (scikit-learn 1.9
    # copies that centre in the same loop, so one of lower index gets its *unscaled* sum; we
    # take the mean, what its comment says it means to do).
    heaviest = int(np.argmax(weights))
    new_centers = sums.copy()
    for j in range(k):
        if weights[j] > 0:
            new_centers[j] = sums[j] * (1.0 / weights[j])
    for j in range(k):
        if weights[j] == 0:
            new_centers[j] = new_centers[heaviest]
    return new_centers, labels, np.float64((w * distances).sum())


def kmeans_reference(
    x: np.ndarray,
    init: np.ndarray,
    *,
    max_iter: int = 300,
    tol: float = 1e-4,
    sample_weight: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.float64, int]:
    """``_kmeans_single_lloyd``: (centres, labels, inertia, n_iter) from initial centres."""
    x = np.asarray(x, np.float64)
    w = np.ones(x.shape[0]) if sample_weight is None else np.asarray(sample_weight, np.float64)
    scaled_tol = 0.0 if tol == 0 else float(np.mean(np.var(x, axis=0)) * tol)
    centers = np.asarray(init, np.float64)
    previous = np.full(x.shape[0], -1)
    strict = False
    for i in range(max_iter):  # noqa: B007 (i is the iteration count after the loop)
        new_centers, labels, _ = kmeans_step_reference(x, centers, w)
        shift = ((new_centers - centers) ** 2).sum()
        centers = new_centers
        if np.array_equal(labels, previous):
            strict = True
            break
        if shift <= scaled_tol:
            break
        previous = labels
    if not strict:
        labels = kmeans_predict_reference(x, centers)
    inertia = np.float64((w * ((x - centers[labels]) ** 2).sum(axis=1)).sum())
    return centers, labels, inertia, i + 1
