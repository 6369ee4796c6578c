"""One k-means fit's data and its passes over it (assign, Lloyd step, relocation, the loop),
each a loop over row chunks: the engine behind :mod:`.kmeans`, whose module docstring gives
the scikit-learn functions each method matches and the measurements behind its choices.
"""

from __future__ import annotations

import math
from typing import Any

from .. import backends, random
from .._array import Array, Namespace, index_dtype
from ._distances import assign, augmented_centers, chunks, sq_distances
from .plusplus import greedy_plusplus

__all__ = ["LloydFit"]


class LloydFit:
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

    def lloyd(
        self, centers: Array, *, max_iter: int, tol: Array | float
    ) -> tuple[Array, Array, Array, Array]:
        """``_kmeans_single_lloyd``: steps until strict convergence, the tolerance or
        `max_iter`, then the final labels and inertia; returns (centres, labels, inertia,
        n_iter)."""
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
        return centers, labels, self.inertia(centers, labels), n_iter

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
