"""k-means on four backends, one code: NumPy, PyTorch, JAX (under jax.jit) and a Dask cluster.

    python examples/kmeans_backends.py [--quick] [OUTPUT_DIR]   (default ./kmeans-figures)

Clusters one 2-D dataset (Gaussian blobs of different spreads and shapes) with
``mlprims.kmeans`` and the same key on each backend, prints what each run found, and draws the
four clusterings side by side in ``kmeans_backends.png``: the same clusters four times. The
Dask run starts a local cluster of two workers and splits the points between them by rows;
pointing ``Client`` at ``"tcp://scheduler:8786"`` would run the same code on a real cluster.
"""

from __future__ import annotations

import argparse
import importlib.util
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

import mlprims

K = 5


def dataset(n: int) -> np.ndarray:
    """`n` points in five blobs: round, stretched and tilted, of different sizes."""
    rng = np.random.default_rng(0)
    means = np.array([[0.0, 0.0], [6.0, 1.0], [2.0, 7.0], [-5.0, 5.0], [-4.0, -4.0]])
    shapes = [np.eye(2), [[2.0, 0.0], [0.0, 0.4]], [[0.5, 0.4], [0.0, 1.2]], 0.6 * np.eye(2)]
    shapes.append([[1.0, 0.8], [-0.3, 0.6]])
    which = rng.integers(0, K, size=n)
    noise = rng.standard_normal((n, 2))
    points = [means[j] + noise[i] @ np.asarray(shapes[j]) for i, j in enumerate(which)]
    return np.asarray(points, dtype=np.float32)


def run_numpy(x: np.ndarray) -> mlprims.KMeansResult:
    return mlprims.kmeans(x, K, key=mlprims.random.key(0))


def run_torch(x: np.ndarray) -> mlprims.KMeansResult:
    import torch

    return mlprims.kmeans(torch.asarray(x), K, key=mlprims.random.key(0, backend="torch"))


def run_jax(x: np.ndarray) -> mlprims.KMeansResult:
    import jax

    fit = jax.jit(lambda x, key: mlprims.kmeans(x, K, key=key))  # the whole fit, compiled
    return fit(jax.numpy.asarray(x), mlprims.random.key(0, backend="jax"))


def run_dask(x: np.ndarray, *, processes: bool) -> mlprims.KMeansResult:
    import dask.array as da
    from distributed import Client, LocalCluster

    # Worker processes talk over TCP on this machine; in-process workers (--quick) need no host.
    network = {"host": "127.0.0.1"} if processes else {}
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=processes,
            dashboard_address=None,
            **network,
        ) as cluster,
        Client(cluster),
    ):
        chunked = da.from_array(x, chunks=(len(x) // 4, -1))  # four row blocks, two per worker
        result = mlprims.kmeans(chunked, K, key=mlprims.random.key(0))  # a NumPy key
        return mlprims.KMeansResult(*(np.asarray(part.compute()) for part in result))


def as_numpy(result: mlprims.KMeansResult) -> mlprims.KMeansResult:
    return mlprims.KMeansResult(*(np.asarray(part) for part in result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer points, an in-process cluster")
    parser.add_argument("output", nargs="?", default="kmeans-figures", type=Path)
    args = parser.parse_args()
    args.output.mkdir(parents=True, exist_ok=True)
    x = dataset(600 if args.quick else 5000)

    runs: list[tuple[str, Callable[[np.ndarray], Any], str]] = [
        ("NumPy", run_numpy, "numpy"),
        ("PyTorch", run_torch, "torch"),
        ("JAX, jax.jit", run_jax, "jax"),
        ("Dask, 2 workers", lambda x: run_dask(x, processes=not args.quick), "distributed"),
    ]
    results = {}
    for title, run, package in runs:
        if importlib.util.find_spec(package) is None:
            print(f"{title}: skipped ({package} is not installed)")
            continue
        start = time.perf_counter()
        result = as_numpy(run(x))
        seconds = time.perf_counter() - start
        results[title] = result
        same = (result.labels == results["NumPy"].labels).mean() if "NumPy" in results else 1.0
        print(
            f"{title}: inertia {float(result.inertia):.1f} after {int(result.n_iter)} steps "
            f"in {seconds:.2f} s; labels equal to NumPy's for {100 * same:.1f}% of the points"
        )

    fig, axes = plt.subplots(1, len(results), figsize=(4.2 * len(results), 4.2), squeeze=False)
    for ax, (title, result) in zip(axes[0], results.items(), strict=True):
        ax.scatter(x[:, 0], x[:, 1], c=result.labels, cmap="tab10", s=4, vmin=0, vmax=9)
        ax.scatter(*result.centers.T, c="black", marker="x", s=80, linewidths=2)
        ax.set(title=f"{title}\ninertia {float(result.inertia):.1f}", xticks=[], yticks=[])
    fig.suptitle(f"mlprims.kmeans(x, {K}, key=random.key(0)): one code, four backends", y=1.04)
    out = args.output / "kmeans_backends.png"
    fig.savefig(out, dpi=100, bbox_inches="tight")
    plt.close(fig)
    print(f"{out}: the same {K} clusters (colours) and centres (crosses) on every backend.")


if __name__ == "__main__":
    main()
