"""Benchmark: one Lloyd iteration of mlprims.kmeans against scikit-learn's KMeans.

    python benchmarks/bench_kmeans.py            # n=100k points, d=64, k=256 (issue 12)
    python benchmarks/bench_kmeans.py --quick    # n=10k, d=16, k=32: proves the script runs

Each case times ``kmeans(x, k, init=centers, max_iter=1)`` against
``KMeans(k, init=centers, n_init=1, max_iter=1, algorithm="lloyd").fit(x)`` (float32): the same
work on both sides, one assignment and update step, then the final relabelling and the
inertia, so a call costs about one iteration and a half. Ours runs on NumPy (eager), PyTorch
(eager), JAX (under ``jax.jit``) and a Dask array split in 8 row blocks over a local cluster of
two worker processes (one thread each, started once; the data persisted on the workers before
timing). scikit-learn uses its OpenMP threads. Peak memory is measured for the NumPy case,
where the hand-written broadcast ``x[:, None] - centers`` would need n * k * d floats.

Target (issue 12): NumPy eager within 1.5x of scikit-learn per iteration; the others reported.
"""

from __future__ import annotations

import atexit
from functools import partial
from typing import Any

from harness import Pair, main

_CLUSTER: list[Any] = []  # the Dask cluster and client, started once per process


def _data(n: int, d: int, k: int) -> tuple[Any, Any]:
    import numpy as np

    rng = np.random.default_rng(0)
    means = rng.uniform(-5, 5, size=(k, d))
    x = (means[rng.integers(0, k, size=n)] + rng.standard_normal((n, d))).astype(np.float32)
    return x, x[rng.choice(n, k, replace=False)].copy()


def _sklearn(x: Any, centers: Any) -> Any:
    import warnings

    from sklearn.cluster import KMeans

    model = KMeans(len(centers), init=centers, n_init=1, max_iter=1, algorithm="lloyd")

    def fit() -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "did not converge": one iteration is the point
            return model.fit(x).cluster_centers_

    return fit


def numpy_case(n: int, d: int, k: int):
    from mlprims import kmeans

    x, centers = _data(n, d, k)
    return (lambda: kmeans(x, k, init=centers, max_iter=1).centers), _sklearn(x, centers)


def torch_case(n: int, d: int, k: int):
    import torch

    from mlprims import kmeans

    x, centers = _data(n, d, k)
    tx, tc = torch.asarray(x), torch.asarray(centers)
    return (lambda: kmeans(tx, k, init=tc, max_iter=1).centers), _sklearn(x, centers)


def jax_case(n: int, d: int, k: int):
    import jax

    from mlprims import kmeans

    x, centers = _data(n, d, k)
    fit = jax.jit(lambda x, c: kmeans(x, k, init=c, max_iter=1).centers)
    jx, jc = jax.numpy.asarray(x), jax.numpy.asarray(centers)
    return (lambda: fit(jx, jc)), _sklearn(x, centers)


def dask_case(n: int, d: int, k: int):
    import dask.array as da
    from distributed import Client, LocalCluster, wait

    from mlprims import kmeans

    if not _CLUSTER:
        cluster = LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        )
        client = Client(cluster)
        _CLUSTER.extend([cluster, client])
        atexit.register(cluster.close)  # after the client (atexit runs in reverse order)
        atexit.register(client.close)
    x, centers = _data(n, d, k)
    chunked = da.from_array(x, chunks=(-(-n // 8), -1)).persist()
    wait(chunked)

    def ours() -> Any:
        return kmeans(chunked, k, init=centers, max_iter=1).centers.compute()

    return ours, _sklearn(x, centers)


def cases(args) -> list[Pair]:
    n, d, k = (10_000, 16, 32) if args.quick else (100_000, 64, 256)
    size = f"n={n}, d={d}, k={k}"
    return [
        Pair(f"kmeans 1 iteration {size}, numpy eager vs scikit-learn",
             partial(numpy_case, n, d, k), target=1.5, memory=True),
        Pair(f"kmeans 1 iteration {size}, torch eager vs scikit-learn",
             partial(torch_case, n, d, k)),
        Pair(f"kmeans 1 iteration {size}, jax.jit vs scikit-learn",
             partial(jax_case, n, d, k)),
        Pair(f"kmeans 1 iteration {size}, Dask 2 workers vs scikit-learn",
             partial(dask_case, n, d, k)),
    ]  # fmt: skip


if __name__ == "__main__":
    main(__file__, __doc__, cases)
