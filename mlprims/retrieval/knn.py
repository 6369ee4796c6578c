"""Exact k-nearest-neighbour search, as faiss' flat indexes: L2, inner product, cosine.

Shape legend: Q queries and N database vectors of dimension D; K neighbours; C rows of the
database per chunk; B columns per block of a chunk.

The database is visited in chunks of C rows, so memory stays O(Q C + Q K) whatever N is; the
number of chunks is static (N and C are shapes and a Python int), so the loop unrolls under
``jax.jit``. Each chunk is one matmul of scores, larger is nearer: for L2 ``2 x.q - |x|^2``,
the rows extended by ``-|x|^2`` times ``2 q`` extended by ones (so the matmul subtracts, one
pass over the scores less), ``|q|^2`` added to the K survivors only: faiss'
``exhaustive_L2sqr_blas`` expands ``|q|^2 - 2 q.x + |x|^2`` the same way. Then a selection
keeps the running top K:

1. a block-max prefilter: the chunk's (C, Q) scores are cut into blocks of B rows and only
   the K blocks with the largest maxima are kept (the K best scores of the chunk all lie in
   them: a block outside them is beaten by K block maxima, each a score at least as good and
   of lower index when equal), so the selection sees ``K B + C / B`` columns instead of C,
   with ``B = sqrt(C / K)``: without it, ``top_k`` over every score took 6 times as long as
   the matmuls on NumPy (1000 queries, 200,000 x 128); with it, less than they do;
2. ``backend.top_k`` of the running K followed by those candidates, in increasing database
   index: ``top_k`` takes the lower position first among equal scores, and positions follow
   the database order, so equal distances come out lower index first (as faiss'
   ``IndexFlatL2``; its ``IndexFlatIP`` breaks ties by its heap's history).
"""

from __future__ import annotations

import math
from typing import Any

from .. import backends
from .._array import (
    Array,
    check_choice,
    check_floating,
    check_int,
    index_dtype,
    namespace,
    shape_str,
)

__all__ = ["knn_search"]

METRICS = ("l2", "ip", "cosine")

#: Scores per chunk by default, Q C = 2**23 (32 MB in float32: C = 8388 rows for 1000 queries),
#: and never fewer than 1024 rows: each chunk costs two selections whatever its size, and on
#: NumPy chunks of 2048 rows took 1.7 times as long as chunks of 16384 (bench_retrieval.py).
DEFAULT_SCORES = 2**23
MIN_CHUNK = 1024


def _check(queries: Any, database: Any, k: Any, metric: Any, chunk_size: Any) -> tuple[Any, int]:
    """The namespace and the chunk size (at least `k`), after checking every argument."""
    xp = namespace(queries, database, names=("queries", "database"))
    check_floating(queries, "queries", xp=xp)
    check_floating(database, "database", xp=xp)
    check_choice(metric, "metric", METRICS)
    for name, a, wanted in (("queries", queries, "(Q, D)"), ("database", database, "(N, D)")):
        if a.ndim != 2:
            msg = f"`{name}` must have shape {wanted}, got {shape_str(a.shape)}"
            raise ValueError(msg)
    if queries.shape[1] != database.shape[1]:
        msg = (
            f"`queries` and `database` must have the same dimension D, got queries "
            f"{shape_str(queries.shape)} and database {shape_str(database.shape)}"
        )
        raise ValueError(msg)
    n = database.shape[0]
    if n == 0:
        msg = f"`database` is empty, shape {shape_str(database.shape)}: there is nothing to find"
        raise ValueError(msg)
    k = check_int(k, "k", minimum=1)
    if k > n:
        msg = f"`k` must be at most the number of database vectors N = {n}, got {k}"
        raise ValueError(msg)
    if chunk_size is None:
        chunk = max(MIN_CHUNK, DEFAULT_SCORES // max(queries.shape[0], 1))
    else:
        chunk = check_int(chunk_size, "chunk_size", minimum=1)
    return xp, max(chunk, k)


def _normalized(x: Array, *, xp: Any) -> Array:
    """Rows divided by their L2 norm; a zero row stays zero (faiss' ``normalize_L2``)."""
    norm = xp.sqrt(xp.sum(x * x, axis=1, keepdims=True))
    return x / xp.where(norm > 0, norm, xp.ones_like(norm))


def _candidates(
    scores: Array, start: int, k: int, *, xp: Any, backend: backends.Backend
) -> tuple[Array, Array]:
    """The scores of a chunk that can hold its top `k` (step 1 of the module docstring), from
    its (C, Q) `scores` (database rows first: a block's maximum is then an elementwise
    maximum of B rows, 5x faster on NumPy than a maximum along a short last axis), and their
    database indices; both (Q, M), in increasing index."""
    c, q = scores.shape
    itype = index_dtype(xp)
    b = max(1, math.isqrt(c // k))  # K B + C / B candidates is least at B = sqrt(C / K)
    n_blocks = c // b
    if n_blocks <= k + 1:  # keeping k blocks would not shrink the chunk
        columns = xp.arange(start, start + c, dtype=itype)
        return xp.matrix_transpose(scores), xp.broadcast_to(columns[None, :], (q, c))
    head = n_blocks * b  # whole blocks; the last c - head rows stay candidates as they are
    maxima = xp.max(xp.reshape(scores[:head, :], (n_blocks, b, q)), axis=1)  # (C // B, Q)
    _, best = backend.top_k(xp.matrix_transpose(maxima), k)  # (Q, K), by decreasing maximum
    best = xp.sort(xp.astype(best, itype), axis=1)  # by index: candidates in database order
    offsets = xp.arange(b, dtype=itype)
    kept = xp.reshape(best[:, :, None] * b + offsets[None, None, :], (q, k * b))  # (Q, K B)
    values = xp.take_along_axis(scores, xp.matrix_transpose(kept), axis=0)  # (K B, Q)
    rest = xp.arange(start + head, start + c, dtype=itype)  # (C - head,)
    return (
        xp.matrix_transpose(xp.concat((values, scores[head:, :]), axis=0)),
        xp.concat((kept + start, xp.broadcast_to(rest[None, :], (q, c - head))), axis=1),
    )


def knn_search(
    queries: Array,
    database: Array,
    /,
    k: int,
    *,
    metric: str = "l2",
    chunk_size: int | None = None,
) -> tuple[Array, Array]:
    """The `k` nearest database vectors of every query, exactly, as faiss' flat indexes.

    Parameters
    ----------
    queries : array, shape (Q, D)
        Real floating query vectors.
    database : array, shape (N, D)
        Real floating vectors to search, N >= 1, of the same framework.
    k : int
        Neighbours per query, in [1, N].
    metric : {"l2", "ip", "cosine"}
        ``"l2"``: squared Euclidean distance, nearest (smallest) first (``IndexFlatL2``);
        ``"ip"``: inner product, largest first (``IndexFlatIP``); ``"cosine"``: the inner
        product of the L2-normalised vectors (a zero vector stays zero), largest first.
    chunk_size : int, optional
        Database rows scored at a time, never fewer than `k`: memory is O(Q chunk_size + Q k)
        whatever N. Default: ``max(1024, 2**23 // Q)``, a (chunk, Q) block of 2**23 scores
        (32 MB in float32). The chunks unroll under ``jax.jit`` (their count is static).

    Returns
    -------
    distances : array, shape (Q, k)
        Squared L2 distances (ascending), or inner products / cosine similarities
        (descending), in the common dtype of the inputs.
    indices : integer array, shape (Q, k)
        Rows of `database`; among equal distances the lower index comes first.

    Raises
    ------
    ValueError
        If an input is not 2-d, the dimensions D differ, the database is empty, `k` is not in
        [1, N], `chunk_size` is below 1 or `metric` is unknown.
    TypeError
        If an input is not a real floating array (or the two are of different frameworks), or
        `k` or `chunk_size` is not an int.

    Notes
    -----
    L2: ``d(q, x) = |q|^2 - 2 q.x + |x|^2``, one matmul per chunk and clamped at 0 (rounding
    can make it slightly negative), as faiss' ``exhaustive_L2sqr_blas``: exact up to that
    rounding, which for vectors far from the origin is the cancellation faiss has too. The
    ranking uses ``2 q.x - |x|^2`` (``|q|^2`` is the same for the whole row) and ``|q|^2`` is
    added to the k survivors only. NaN inputs are not checked (their rank is unspecified).
    Matches ``faiss.IndexFlatL2`` / ``IndexFlatIP`` (``index.add(database);
    index.search(queries, k)``), cosine as ``faiss.normalize_L2`` on both then
    ``IndexFlatIP``. Equal distances go lower index first, in what is kept and in its
    order, as ``IndexFlatL2``'s max-heap does; ``IndexFlatIP``'s min-heap breaks ties by its
    history instead (of the scores [-1, -1, 0] and k = 2 it returns indices 2 and 1, here
    2 and 0), so with ties at the k-th score the two differ.

    References
    ----------
    - https://github.com/facebookresearch/faiss/wiki

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> database = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0], [1.0, 0.0]])
    >>> distances, indices = mlprims.knn_search(np.array([[1.0, 0.5]]), database, 3)
    >>> distances.tolist(), indices.tolist()
    ([[0.25, 0.25, 1.25]], [[1, 3, 0]])
    >>> mlprims.knn_search(np.array([[1.0, 1.0]]), database, 2, metric="ip")[1].tolist()
    [[2, 1]]
    """
    xp, chunk = _check(queries, database, k, metric, chunk_size)
    backend = backends.of(queries)
    dtype = xp.result_type(queries.dtype, database.dtype)
    q, x = xp.astype(queries, dtype, copy=False), xp.astype(database, dtype, copy=False)
    if metric == "cosine":
        q, x = _normalized(q, xp=xp), _normalized(x, xp=xp)
    n = x.shape[0]
    right = xp.matrix_transpose(2 * q if metric == "l2" else q)  # (D, Q); 2 q is exact
    if metric == "l2":  # a row of ones: the matmul subtracts |x|^2 itself (one pass less)
        right = xp.concat((right, xp.ones_like(right[:1, :])), axis=0)  # (D + 1, Q)

    def chunk_top_k(start: int, best: tuple[Array, Array] | None) -> tuple[Array, Array]:
        """The top k of the chunk at row `start` merged with the running `best` (Q, k)."""
        rows = x[start : min(start + chunk, n), :]  # (C, D)
        if metric == "l2":
            rows = xp.concat((rows, -xp.sum(rows * rows, axis=1, keepdims=True)), axis=1)
        scores = rows @ right  # (C, Q), larger is nearer: 2 x.q - |x|^2 for L2
        values, indices = _candidates(scores, start, k, xp=xp, backend=backend)
        if best is not None:  # the running best first: they have the lower indices
            values = xp.concat((best[0], values), axis=1)
            indices = xp.concat((best[1], indices), axis=1)
        values, positions = backend.top_k(values, k)
        return values, xp.take_along_axis(indices, xp.astype(positions, indices.dtype), axis=1)

    values, indices = chunk_top_k(0, None)  # the first chunk holds at least k rows
    for start in range(chunk, n, chunk):
        values, indices = chunk_top_k(start, (values, indices))
    if metric == "l2":
        values = xp.clip(xp.sum(q * q, axis=1, keepdims=True) - values, min=0.0)
    return values, indices
