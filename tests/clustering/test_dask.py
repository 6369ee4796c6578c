"""kmeans on a Dask array spread over a two-process local cluster (backends/dask.py).

One module-scoped ``distributed.LocalCluster`` (two worker processes, one thread each), closed
by its context manager even when a test fails. The fitted answer must equal the in-memory one:
the same labels and ``n_iter``, centres and inertia to rounding (the per-block sums are added
in another order)."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import mlprims
from mlprims import kmeans, kmeans_predict, random
from mlprims.testing import assert_close

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def _blobs(n: int = 2000) -> np.ndarray:
    rng = np.random.default_rng(0)
    means = rng.uniform(-8, 8, size=(6, 4))
    return means[rng.integers(0, 6, size=n)] + rng.normal(size=(n, 4))


def test_fit_on_two_workers_equals_the_in_memory_fit(client: Any) -> None:
    x = _blobs()
    chunked = da.from_array(x, chunks=(250, -1)).persist()
    distributed.wait(chunked)
    holders = {w for workers in client.who_has(chunked).values() for w in workers}
    assert len(holders) == 2  # the rows really are spread over both workers

    key = random.key(5)  # a NumPy key: the draws are made on the client
    expected = kmeans(x, 6, key=key, tol=0.0)
    result = kmeans(chunked, 6, key=key, tol=0.0)
    assert isinstance(result.labels, da.Array)  # the labels stay on the cluster
    assert len(result.labels.chunks[0]) == 8
    np.testing.assert_array_equal(result.labels.compute(), expected.labels)
    assert int(result.n_iter) == int(expected.n_iter)
    assert_close(result.centers.compute(), expected.centers, rtol=1e-12, atol=1e-12)
    assert_close(float(result.inertia), float(expected.inertia), rtol=1e-12)

    labels = kmeans_predict(chunked, expected.centers)
    np.testing.assert_array_equal(labels.compute(), expected.labels)


def test_relocation_of_an_unused_centre(client: Any) -> None:
    x = _blobs(600)
    init = x[:6].copy()
    init[3] = 1e3
    expected = kmeans(x, 6, init=init, sample_weight=np.linspace(0.5, 2.0, 600))
    chunked = da.from_array(x, chunks=(150, -1))
    weight = da.from_array(np.linspace(0.5, 2.0, 600), chunks=150)
    result = kmeans(chunked, 6, init=init, sample_weight=weight)
    np.testing.assert_array_equal(result.labels.compute(), expected.labels)
    assert int(result.n_iter) == int(expected.n_iter)
    assert_close(result.centers.compute(), expected.centers, rtol=1e-12, atol=1e-12)


def test_float32_data_far_from_the_origin(client: Any) -> None:
    """Centred like the in-memory fit (the mean is one more pass over the blocks)."""
    rng = np.random.default_rng(0)
    corners = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    x = corners[np.repeat(np.arange(4), 40)] + 0.15 * rng.standard_normal((160, 2))
    x = (x + 1e4).astype(np.float32)
    init = x[[0, 40, 80, 120]]
    expected = kmeans(x, 4, init=init, tol=0.0)
    result = kmeans(da.from_array(x, chunks=(40, -1)), 4, init=init, tol=0.0)
    np.testing.assert_array_equal(result.labels.compute(), expected.labels)
    assert int(result.n_iter) == int(expected.n_iter) == 3  # as scikit-learn (test_kmeans)
    assert_close(result.centers.compute(), expected.centers)


def test_the_backend_is_found_from_dask_arrays_and_keeps_the_protocol() -> None:
    backend = mlprims.backends.of(da.zeros((4, 2), chunks=2))
    assert backend is mlprims.backends.get("dask")
    assert isinstance(backend, mlprims.backends.Backend)
    assert "dask" not in mlprims.backends.NAMES  # not run by `mlprims check` and `xb`
    for name in ("while_loop", "fori_loop", "top_k", "segment_sum", "asarray", "jit"):
        expected = list(inspect.signature(getattr(mlprims.backends.Backend, name)).parameters)
        assert list(inspect.signature(getattr(backend, name)).parameters) == expected[1:]
    values, indices = backend.top_k(da.from_array(np.array([1.0, 3.0, 3.0, -0.0, 2.0]), 2), 3)
    assert values.compute().tolist() == [3.0, 3.0, 2.0]
    assert indices.compute().tolist() == [1, 2, 4]
    ids = da.from_array(np.array([0, 2, 2, 5]), chunks=2)  # 5 is out of range: dropped
    sums = backend.segment_sum(da.ones((4, 2), chunks=2), ids, 3)
    assert sums.compute().tolist() == [[1.0, 1.0], [0.0, 0.0], [2.0, 2.0]]
