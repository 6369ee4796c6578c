"""Benchmark: mlprims.knn_search (exact k-NN, k = 10) against faiss' IndexFlatL2.

    python benchmarks/bench_retrieval.py            # 1,000 queries, 200,000 x 128 database
    python benchmarks/bench_retrieval.py --quick    # 100 queries, 5,000 x 32

Ours scores the database in chunks of 8388 rows (2**23 scores, one matmul each: ``2 q.x -
|x|^2``), keeps the K best blocks of each chunk by their maxima and merges their scores into
the running top k with ``backend.top_k``; faiss' ``IndexFlatL2.search`` does the same matmul
by BLAS blocks and keeps its top k in a heap (OpenMP threads). Both float32, Gaussian vectors
(no ties); the neighbours are checked to be the same when each case is built. Timing, memory
and RESULTS.md: benchmarks/harness.py.

- NumPy (target: at most 2x faiss), with peak memory: ours holds one (8388, 1000) chunk of
  scores, 32 MB, beside the 100 MB database;
- torch eager, and JAX under ``jax.jit`` (the chunk loop unrolled: 24 chunks), against the
  same faiss index, for reference across frameworks.

About 1.5 minutes on 2 cores with ``--repeat 3``.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from harness import Pair, main

K = 10


def _sizes(quick: bool) -> tuple[int, int, int]:
    """Q queries, N database vectors, dimension D."""
    return (100, 5_000, 32) if quick else (1_000, 200_000, 128)


def _vectors(quick: bool) -> tuple[Any, Any]:
    import numpy as np

    q, n, d = _sizes(quick)
    rng = np.random.default_rng(0)
    return (
        rng.standard_normal((q, d), dtype=np.float32),
        rng.standard_normal((n, d), dtype=np.float32),
    )


def _faiss(queries: Any, database: Any) -> Any:
    """faiss' exact L2 index on `database`, and its search of `queries` as a function."""
    import faiss

    index = faiss.IndexFlatL2(database.shape[1])
    index.add(database)
    return partial(index.search, queries, K)


def _check(name: str, ours: Any, theirs: Any) -> None:
    import numpy as np

    (distances, indices), (want_distances, want_indices) = ours, theirs
    if not np.array_equal(np.asarray(indices), want_indices):
        raise AssertionError(f"{name}: ours and faiss find different neighbours")
    if not np.allclose(np.asarray(distances), want_distances, rtol=1e-4, atol=1e-3):
        raise AssertionError(f"{name}: ours and faiss differ in the distances")


def on_numpy(quick: bool):
    from mlprims import knn_search

    queries, database = _vectors(quick)
    native = _faiss(queries, database)

    def ours():
        return knn_search(queries, database, K)

    _check("numpy", ours(), native())
    return ours, native


def on_torch(quick: bool):
    import torch

    from mlprims import knn_search

    queries, database = _vectors(quick)
    native = _faiss(queries, database)
    tq, tx = torch.from_numpy(queries), torch.from_numpy(database)

    def ours():
        return knn_search(tq, tx, K)

    _check("torch", ours(), native())
    return ours, native


def on_jax(quick: bool):
    import jax

    from mlprims import knn_search

    queries, database = _vectors(quick)
    native = _faiss(queries, database)
    jq, jx = jax.numpy.asarray(queries), jax.numpy.asarray(database)
    search = jax.jit(lambda q, x: knn_search(q, x, K))

    def ours():
        return jax.block_until_ready(search(jq, jx))

    _check("jax.jit", ours(), native())
    return ours, native


def cases(args) -> list[Pair]:
    q, n, d = _sizes(args.quick)
    size = f"{q:,} queries, {n:,} x {d}, k={K}"
    return [
        Pair(f"knn_search {size}, numpy vs faiss IndexFlatL2", partial(on_numpy, args.quick),
             target=2.0, memory=True),
        Pair(f"knn_search {size}, torch eager vs faiss IndexFlatL2",
             partial(on_torch, args.quick)),
        Pair(f"knn_search {size}, jax.jit vs faiss IndexFlatL2", partial(on_jax, args.quick)),
    ]  # fmt: skip


if __name__ == "__main__":
    main(__file__, __doc__, cases)
