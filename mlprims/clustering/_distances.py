"""Squared Euclidean distances by the matmul form, in row chunks of bounded size.

The hand-written ``((x[:, None] - c) ** 2).sum(-1)`` allocates ``n * k * d`` floats. Here the
nearest centre is ``argmin_j |c_j|^2 - 2 x . c_j`` (``|x|^2`` is the same for every j, so it is
left out, as in scikit-learn's ``_update_chunk_dense``), one ``(rows, k)`` block at a time, and
the distance to the chosen centre is then computed exactly as ``sum((x - c_label)^2)``
(scikit-learn's ``_inertia_dense``): extra memory ``O(rows * (k + d))``, never ``O(n * k * d)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .. import backends
from .._array import Array, Namespace

__all__ = [
    "CHUNK_BYTES",
    "assign",
    "augmented_centers",
    "chunk_rows",
    "chunks",
    "sq_distances",
    "sq_distances_to",
]

#: The default size of one chunk's ``(rows, k + d)`` block. On the eager backends a block that
#: stays in the CPU's cache: with 4 MiB blocks a NumPy fit step is 1.8x faster than with 64 MiB
#: ones (n=100,000, d=64, k=256, float32: the argmin and the cluster sums read the block while it
#: is still cached). Where the backend ``fuses`` (JAX) the chunks are unrolled into the traced
#: program, so fewer, larger blocks: 64 MiB.
CHUNK_BYTES = {"eager": 4 * 2**20, "fused": 64 * 2**20}


def chunk_rows(x: Array, n_clusters: int, chunk_size: int | None) -> int:
    """Rows per chunk: `chunk_size`, or as many as keep a ``(rows, k + d)`` block near
    :data:`CHUNK_BYTES`.

    An array of a ``blocked`` backend (Dask) is one chunk here: the backend already splits it
    into its own blocks, and each block's distances are computed on the worker that holds it.
    """
    n = int(x.shape[0])
    backend = backends.of(x)
    if backend.blocked:
        return max(n, 1)
    if chunk_size is None:
        itemsize = int(x.dtype.itemsize) if hasattr(x.dtype, "itemsize") else 8
        block = CHUNK_BYTES["fused" if backend.fuses else "eager"]
        chunk_size = block // (itemsize * (n_clusters + int(x.shape[1])))
    return max(1, min(chunk_size, n))


def chunks(n: int, rows: int) -> Iterator[tuple[int, int]]:
    """``(start, stop)`` of each chunk of `rows` rows (the last may be shorter)."""
    for start in range(0, n, rows):
        yield start, min(start + rows, n)


def augmented_centers(centers: Array, *, xp: Namespace) -> Array:
    """``[-2 c, |c|^2]``, shape (k, d + 1): with a column of ones appended to `x`, one matmul
    gives the scores ``|c|^2 - 2 x . c`` (no pass over the (rows, k) block to add ``|c|^2``;
    scaling by -2 is exact)."""
    centers_sq = xp.sum(centers * centers, axis=1)
    return xp.concat([-2.0 * centers, centers_sq[:, None]], axis=1)


def assign(x: Array, augmented: Array, *, xp: Namespace) -> Array:
    """The nearest centre of each row of `x`, lowest index on ties: ``(rows,)`` labels.

    Parameters
    ----------
    x : array of shape (rows, d)
    augmented : array of shape (k, d + 1)
        :func:`augmented_centers` of the centres.
    """
    ones = xp.ones_like(x[:, :1])  # chunked as `x`'s rows on Dask
    scores = xp.concat([x, ones], axis=1) @ xp.matrix_transpose(augmented)  # (rows, k)
    return xp.argmin(scores, axis=1)


def sq_distances(x: Array, centers: Array, labels: Array, *, xp: Namespace) -> Array:
    """``sum((x - centers[labels]) ** 2, axis=1)``, computed exactly (no cancellation)."""
    diff = x - xp.take(centers, labels, axis=0)
    return xp.sum(diff * diff, axis=1)


def sq_distances_to(points: Array, x: Array, x_sq: Array, *, xp: Namespace) -> Array:
    """``max(|p|^2 - 2 p . x + |x|^2, 0)`` for each point of `points` and row of `x`: (m, n).

    scikit-learn's ``_euclidean_distances(points, x, Y_norm_squared=x_sq, squared=True)``,
    in its order of operations; used by k-means++ with a few candidate points at a time.
    """
    points_sq = xp.sum(points * points, axis=1)
    distances = -2.0 * (points @ xp.matrix_transpose(x)) + points_sq[:, None]
    distances = distances + x_sq[None, :]
    return xp.maximum(distances, xp.zeros_like(distances))


def split_rows(x: Array, rows: int) -> list[Any]:
    """`x` as a list of row chunks (static slices: views on NumPy and torch)."""
    return [x[start:stop, ...] for start, stop in chunks(int(x.shape[0]), rows)]
