"""Float64 references for :mod:`mlprims.retrieval`, written independently of the primitive:
every distance of a query, one database vector at a time (``sum((q - x)^2)``, not the matmul
expansion), sorted by (distance, index) in Python. Shared by ``tests/`` and ``mlprims check``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["knn_search_reference"]


def _unit(rows: np.ndarray) -> np.ndarray:
    """Rows over their L2 norm; a zero row stays zero (faiss' ``normalize_L2``)."""
    norms = np.sqrt(np.sum(rows * rows, axis=1, keepdims=True))
    return rows / np.where(norms > 0, norms, 1.0)


def knn_search_reference(
    queries, database, k, *, metric="l2", chunk_size=None
) -> tuple[np.ndarray, np.ndarray]:
    """Brute force: ``(distances, indices)`` (Q, k), float64 and int64. L2: squared distances,
    smallest first; "ip" / "cosine": inner products of the (normalised) vectors, largest first;
    equal distances lower index first. `chunk_size` changes nothing here (it is accepted so
    that the reference is called as the primitive is)."""
    q = np.asarray(queries, dtype=np.float64)
    x = np.asarray(database, dtype=np.float64)
    if metric == "cosine":
        q, x = _unit(q), _unit(x)
    distances = np.zeros((len(q), k))
    indices = np.zeros((len(q), k), dtype=np.int64)
    for i, query in enumerate(q):
        if metric == "l2":
            scores = [float(np.sum((query - row) ** 2)) for row in x]
            order = sorted(range(len(x)), key=lambda j: (scores[j], j))
        else:
            scores = [float(np.dot(query, row)) for row in x]
            order = sorted(range(len(x)), key=lambda j: (-scores[j], j))
        indices[i] = order[:k]
        distances[i] = [scores[j] for j in order[:k]]
    return distances, indices
