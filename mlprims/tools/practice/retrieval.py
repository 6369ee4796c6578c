"""Properties of knn_search: squared L2 distances nearest first, inner products largest first,
equal distances lower index first, and chunks merged without changing the result.

Vectors have small whole-number coordinates: every distance is an exact integer in float32
too, so a learner's order (and its ties) can be compared exactly with the float64 reference;
cosine similarities are not exact, so their property compares the distances only.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import mlprims

from ._spec import Call, Property, Spec, composite, dtypes, hnp, st

__all__ = ["SPECS"]

SQUARED = "distances are squared Euclidean, |q - x|^2 (no square root), smallest first"
TIES = (
    "among equal distances the lower database index comes first: a stable sort of the "
    "distances (np.argsort(d, kind='stable'), torch.sort(stable=True)); reversing an ascending "
    "sort (argsort(scores)[::-1]) puts the higher index first"
)
CHUNKS = (
    "chunk_size changes the memory, never the result: merge each chunk's top k with the running "
    "top k, the running ones first (their indices are lower, so they win the ties)"
)


@composite
def _vectors(draw: Any, *, metric: str = "l2", ties: bool = False, chunked: bool = False) -> Call:
    dtype = draw(dtypes())
    q, n, d = draw(st.integers(1, 3)), draw(st.integers(1, 10)), draw(st.integers(1, 3))
    low = -1 if ties else -3  # coordinates in {-1, 0, 1}: many equal distances
    values = st.integers(low, -low)
    queries = draw(hnp.arrays(np.float64, (q, d), elements=values))
    database = draw(hnp.arrays(np.float64, (n, d), elements=values))
    if ties:  # and one exact copy, of a row before it
        i = draw(st.integers(0, n - 1))
        database[i] = database[draw(st.integers(0, i))]
    if metric == "any":
        metric = draw(st.sampled_from(["l2", "ip"]))
    kwargs: dict[str, Any] = {} if metric == "l2" else {"metric": metric}
    if chunked:
        kwargs["chunk_size"] = draw(st.integers(1, max(1, n - 1)))
    k = draw(st.integers(1, n))
    return Call((queries.astype(dtype), database.astype(dtype), k), kwargs, dtype)


def _call(queries: list[list[float]], database: list[list[float]], k: int, **kwargs: Any) -> Call:
    return Call((np.array(queries), np.array(database), k), kwargs, "float64")


#: Distances 4 and 1: a square root gives 2 and 1.
FAR = _call([[0.0, 0.0]], [[2.0, 0.0], [0.0, 1.0], [3.0, 3.0]], 2)
#: Four equal distances (and inner products), k = 2: indices 0 and 1, never 3 and 2.
TIED = _call([[1.0, 0.0]], [[0.0, 1.0]] * 4, 2)
TIED_IP = _call([[1.0, 0.0]], [[0.0, 1.0]] * 4, 2, metric="ip")
#: Chunks of 2 rows of the same vector: the first chunk's indices 0 and 1 must stay.
TIED_CHUNKS = _call([[0.0]], [[1.0]] * 4, 2, chunk_size=2)


def _outputs(result: Any) -> dict[str, Any]:
    distances, indices = result
    return {"distances": distances, "indices": indices}


KNN_SEARCH = Spec(
    name="knn_search",
    function=mlprims.knn_search,
    parameters=("queries", "database", "k", "metric", "chunk_size"),
    outputs=_outputs,
    returns="(distances, indices): two arrays (Q, k); distances in the dtype of the inputs,\n"
    "indices integers (rows of `database`).",
    notes="For each query, the k database rows nearest to it (faiss' IndexFlatL2 and\n"
    "IndexFlatIP):\n\n"
    "    l2:     d = |q - x|^2, smallest first (squared: no square root)\n"
    "    ip:     s = q . x, largest first (the distances are the inner products)\n"
    "    cosine: ip on the rows divided by their L2 norm (a zero row stays zero)\n\n"
    "Equal distances: the lower index first. With `chunk_size`, score the database that many\n"
    "rows at a time and keep the top k of (the running top k, then the chunk); None: one chunk.",
    properties=(
        Property(
            "squared L2, nearest first",
            _vectors(),
            SQUARED,
            compare=("distances",),  # the indices: the next property, ties included
            examples=(FAR,),
        ),
        Property(
            "equal distances: the lower index first",
            _vectors(ties=True, metric="any"),
            TIES,
            examples=(TIED, TIED_IP),
        ),
        Property(
            "inner product (metric='ip')",
            _vectors(metric="ip"),
            "ip: the largest inner product q . x first, the inner products as the distances",
        ),
        Property(
            "cosine similarity (metric='cosine')",
            _vectors(metric="cosine"),
            "cosine: divide queries and database rows by their L2 norm (a zero row stays zero), "
            "then the inner product, largest first",
            compare=("distances",),
        ),
        Property(
            "database in chunks (chunk_size)",
            _vectors(ties=True, chunked=True),
            CHUNKS,
            examples=(TIED_CHUNKS,),
        ),
    ),
)

SPECS = [KNN_SEARCH]
