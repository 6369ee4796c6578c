"""kmeans, kmeans_step, kmeans_predict (mlprims/clustering/kmeans.py).

Reference: ``sklearn.cluster.KMeans(algorithm="lloyd", init=<the same centres>, n_init=1)`` in
float64, and the loop oracles of mlprims.testing.oracles.clustering."""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import mlprims
from mlprims import kmeans, kmeans_plusplus, kmeans_predict, kmeans_step, random
from mlprims.testing import assert_close
from mlprims.testing.oracles.clustering import kmeans_reference

sklearn_cluster = pytest.importorskip("sklearn.cluster")
lloyd_module = importlib.import_module("mlprims.clustering._lloyd")  # where the chunked passes live

K = 6


def _data(kind: str, n: int = 240, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "uniform":
        return rng.uniform(size=(n, 4))
    means = rng.uniform(-10, 10, size=(5, 3))
    x = means[rng.integers(0, 5, size=n)] + rng.normal(size=(n, 3))
    if kind == "anisotropic":
        x = x @ np.array([[0.6, -0.6, 0.1], [-0.4, 0.8, 0.0], [0.0, 0.3, 1.5]])
    return x


def _init(x: np.ndarray, *, unused: bool, seed: int = 1) -> np.ndarray:
    init = x[np.random.default_rng(seed).choice(len(x), K, replace=False)].copy()
    if unused:
        init[2] = 1e3  # attracts no point: scikit-learn relocates it to the farthest point
    return init


def _sklearn(x: np.ndarray, init: np.ndarray, **options: Any) -> Any:
    weight = options.pop("sample_weight", None)
    model = sklearn_cluster.KMeans(K, init=init, n_init=1, algorithm="lloyd", **options)
    return model.fit(x, sample_weight=weight)


def _assert_same_as_sklearn(result: Any, model: Any) -> None:
    centers, labels, inertia, n_iter = result
    np.testing.assert_array_equal(labels, model.labels_)
    assert int(n_iter) == model.n_iter_
    assert_close(centers, model.cluster_centers_, rtol=1e-6, atol=1e-9)
    assert_close(inertia, model.inertia_, rtol=1e-6, atol=0)


class TestSameAsScikitLearn:
    @pytest.mark.parametrize("kind", ["blobs", "anisotropic", "uniform"])
    @pytest.mark.parametrize("tol", [0.0, 1e-4])
    @pytest.mark.parametrize("weighted", [False, True])
    @pytest.mark.parametrize("unused", [False, True])
    def test_numpy_float64(self, kind: str, tol: float, weighted: bool, unused: bool) -> None:
        x = _data(kind)
        init = _init(x, unused=unused)
        weight = np.random.default_rng(2).uniform(0.1, 3.0, len(x)) if weighted else None
        model = _sklearn(x, init, tol=tol, sample_weight=weight)
        _assert_same_as_sklearn(kmeans(x, K, init=init, tol=tol, sample_weight=weight), model)
        # The loop oracle agrees too (it is what `mlprims check` compares every backend with).
        _assert_same_as_sklearn(kmeans_reference(x, init, tol=tol, sample_weight=weight), model)

    def test_every_backend(self, xb: Any) -> None:
        """Weights, an unused initial centre, chunks of 50 rows, the default tol, which stops
        this run on the centre shift (so the final relabelling runs; the same-key test below
        ends by strict convergence)."""
        x = _data("blobs", seed=11)
        init = _init(x, unused=True)
        weight = np.random.default_rng(4).uniform(0.1, 3.0, len(x))
        model = _sklearn(x, init, sample_weight=weight)
        result = kmeans(
            xb.asarray(x), K, init=xb.asarray(init), sample_weight=xb.asarray(weight), chunk_size=50
        )
        _assert_same_as_sklearn(xb.to_numpy(result), model)
        labels = kmeans_predict(xb.asarray(x), xb.asarray(model.cluster_centers_))
        np.testing.assert_array_equal(xb.to_numpy(labels), model.predict(x))

    @pytest.mark.parametrize("max_iter", [1, 2])
    def test_stopped_by_max_iter(self, max_iter: int) -> None:
        x = _data("anisotropic")
        init = _init(x, unused=True)
        model = _sklearn(x, init, max_iter=max_iter)
        _assert_same_as_sklearn(kmeans(x, K, init=init, max_iter=max_iter), model)

    def test_one_step(self) -> None:
        x = _data("uniform")
        init = _init(x, unused=True)
        model = _sklearn(x, init, max_iter=1)
        centers, labels, inertia = kmeans_step(x, init)
        assert_close(centers, model.cluster_centers_, rtol=1e-12)
        np.testing.assert_array_equal(labels, kmeans_predict(x, init))
        assert_close(inertia, ((x - init[labels]) ** 2).sum(), rtol=1e-12)

    @pytest.mark.filterwarnings("ignore:Number of distinct clusters")  # scikit-learn
    def test_more_clusters_than_distinct_points(self, xb: Any) -> None:
        """Every point on its centre: nothing is relocated, and a cluster left empty goes to
        the heaviest cluster's centre (scikit-learn's ``_average_centers``)."""
        x = np.repeat([[0.0, 1.0], [4.0, 2.0]], [2, 3], axis=0)
        init = np.array([[0.0, 1.0], [4.0, 2.0], [9.0, 9.0]])
        model = sklearn_cluster.KMeans(3, init=init, n_init=1, algorithm="lloyd").fit(x)
        result = xb.to_numpy(kmeans(xb.asarray(x), 3, init=xb.asarray(init)))
        _assert_same_as_sklearn(result, model)
        _assert_same_as_sklearn(kmeans_reference(x, init), model)
        np.testing.assert_array_equal(result[0][2], [4.0, 2.0])

    @pytest.mark.filterwarnings("ignore:Number of distinct clusters")  # scikit-learn
    def test_empty_cluster_below_the_heaviest_takes_its_mean(self) -> None:
        """Where scikit-learn 1.9 differs: it copies the heaviest centre inside the loop that
        divides the sums, so an empty cluster of lower index gets the undivided sum."""
        x = np.array([[0.0], [0.0], [4.0], [4.0], [4.0]])
        init = np.array([[9.0], [0.0], [4.0]])
        centers, _, _ = kmeans_step(x, init)
        np.testing.assert_array_equal(centers, [[4.0], [0.0], [4.0]])
        model = sklearn_cluster.KMeans(3, init=init, n_init=1, max_iter=1).fit(x)
        assert model.cluster_centers_[0, 0] == pytest.approx(7.2)  # 2.4 + (3 * 1.6): centred x


def _shifted(shift: float, seed: int = 0) -> np.ndarray:
    """Four clusters 1 apart (std 0.15), 40 points each, moved by `shift`, in float32."""
    rng = np.random.default_rng(seed)
    corners = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    x = corners[np.repeat(np.arange(4), 40)] + 0.15 * rng.standard_normal((160, 2))
    return (x + shift).astype(np.float32)


class TestFarFromTheOrigin:
    """Float32 data far from the origin: |c|^2 ~ shift^2 swamps 2 x.c unless the data are
    centred first, as scikit-learn does (at 1e4, 124 of 160 labels differed, 300 steps)."""

    @pytest.mark.parametrize("shift", [1e2, 1e4, 1e6])
    def test_labels_and_steps_equal_scikit_learns(self, xb: Any, shift: float) -> None:
        x = _shifted(shift)
        init = x[[0, 40, 80, 120]].copy()
        model = sklearn_cluster.KMeans(4, init=init, n_init=1, tol=0.0, algorithm="lloyd")
        model.fit(x)
        result = xb.to_numpy(kmeans(xb.asarray(x), 4, init=xb.asarray(init), tol=0.0))
        np.testing.assert_array_equal(result.labels, model.labels_)
        assert int(result.n_iter) == model.n_iter_
        assert_close(result.centers, model.cluster_centers_, scale=10)
        assert result.centers.dtype == np.float32

    @pytest.mark.parametrize("shift", [1e4, 1e6])
    def test_predict_and_step_label_as_in_float64(self, xb: Any, shift: float) -> None:
        x = _shifted(shift)
        centers = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]) + shift
        centers = centers.astype(np.float32)
        exact = kmeans_predict(x.astype(np.float64), centers.astype(np.float64))
        got = kmeans_predict(xb.asarray(x), xb.asarray(centers))
        np.testing.assert_array_equal(xb.to_numpy(got), exact)
        _, labels, _ = kmeans_step(xb.asarray(x), xb.asarray(centers))
        np.testing.assert_array_equal(xb.to_numpy(labels), exact)

    def test_kmeans_plusplus_returns_the_points_themselves(self) -> None:
        x = _shifted(1e4)
        centers, indices = kmeans_plusplus(x, 4, key=random.key(0))
        np.testing.assert_array_equal(centers, x[indices])
        assert len(set(np.asarray(indices).tolist())) == 4


class TestRandomInit:
    def test_same_key_same_result_on_every_backend(self, xb: Any) -> None:
        """The random init and the n_init loop with fold_in; k-means++ draws are compared
        across backends in test_plusplus.py."""
        x = _data("blobs", seed=5)
        expected = kmeans(x, K, key=random.key(7), init="random", n_init=2)
        key = random.key(7, backend=xb.backend)
        got = xb.to_numpy(kmeans(xb.asarray(x), K, key=key, init="random", n_init=2))
        np.testing.assert_array_equal(got.labels, expected.labels)
        assert int(got.n_iter) == int(expected.n_iter)
        assert_close(got.centers, expected.centers, rtol=1e-12)

    def test_n_init_keeps_the_lowest_inertia_of_runs_seeded_by_fold_in(self) -> None:
        x = _data("uniform", n=120)
        key = random.key(3)
        runs = [
            kmeans(x, K, init=kmeans_plusplus(x, K, key=random.fold_in(key, i))[0])
            for i in range(4)
        ]
        best = min(range(4), key=lambda i: float(runs[i].inertia))
        assert len({round(float(r.inertia), 9) for r in runs}) > 1  # the runs differ
        result = kmeans(x, K, key=key, n_init=4)
        np.testing.assert_array_equal(result.labels, runs[best].labels)
        assert float(result.inertia) == float(runs[best].inertia)

    def test_random_init_picks_distinct_points_of_positive_weight(self) -> None:
        x = np.arange(20.0)[:, None]
        weight = np.where(np.arange(20) % 2 == 0, 1.0, 0.0)
        for seed in range(10):
            result = kmeans(x, 10, init="random", key=random.key(seed), sample_weight=weight)
            assert float(result.inertia) == 0.0  # each even point is its own centre


class TestMemory:
    def test_distances_are_computed_in_chunks_of_at_most_chunk_size_rows(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        rows: list[int] = []
        real = lloyd_module.assign

        def spy(x: Any, *args: Any, **kwargs: Any) -> Any:
            rows.append(x.shape[0])
            return real(x, *args, **kwargs)

        monkeypatch.setattr(lloyd_module, "assign", spy)
        x = _data("blobs")
        chunked = kmeans(x, K, init=_init(x, unused=False), chunk_size=64)
        assert max(rows) == 64 and sum(rows) % len(x) == 0
        whole = kmeans(x, K, init=_init(x, unused=False))
        np.testing.assert_array_equal(chunked.labels, whole.labels)
        assert_close(chunked.centers, whole.centers, rtol=1e-12)

    def test_default_chunk_is_about_4_mib_eagerly_and_64_mib_under_jax(self) -> None:
        from mlprims.clustering._distances import chunk_rows

        x = np.zeros((10**6, 64), dtype=np.float32)  # only shapes are read
        rows = chunk_rows(x, 256, None)
        assert 3.9 * 2**20 <= rows * (256 + 64) * 4 <= 4 * 2**20
        jax = pytest.importorskip("jax")  # under CI a failure, not a skip
        rows = chunk_rows(jax.numpy.zeros((10**6, 64), dtype="float32"), 256, None)
        assert 63.9 * 2**20 <= rows * (256 + 64) * 4 <= 64 * 2**20


@given(
    x=hnp.arrays(
        np.float64, st.tuples(st.integers(4, 30), st.integers(1, 3)), elements=st.floats(-5, 5)
    ),
    k=st.integers(1, 4),
    seed=st.integers(0, 2**16),
)
def test_inertia_never_increases_across_steps(x: np.ndarray, k: int, seed: int) -> None:
    centers = x[np.random.default_rng(seed).choice(len(x), min(k, len(x)), replace=False)]
    weight = np.random.default_rng(seed).uniform(0.0, 2.0, len(x))
    previous = np.inf
    for _ in range(4):
        centers, _, inertia = kmeans_step(x, centers, sample_weight=weight)
        assert float(inertia) <= previous * (1 + 1e-12) + 1e-12
        previous = float(inertia)


class TestBadInputs:
    X = np.arange(12.0).reshape(6, 2)

    @pytest.mark.parametrize("n_clusters", [0, 7])
    def test_n_clusters_out_of_range(self, n_clusters: int) -> None:
        with pytest.raises(ValueError, match="`n_clusters`"):
            kmeans(self.X, n_clusters, key=random.key(0))

    @pytest.mark.eager_only(reason="finiteness is checked on eager arrays only")
    @pytest.mark.parametrize("bad", [np.nan, np.inf])
    def test_non_finite_x(self, xb: Any, bad: float) -> None:
        x = self.X.copy()
        x[2, 1] = bad
        with pytest.raises(ValueError, match="`x` must be finite"):
            kmeans(xb.asarray(x), 2, key=random.key(0, backend=xb.backend))

    def test_init_of_the_wrong_shape(self) -> None:
        with pytest.raises(ValueError, match=r"`init` must have shape .* \(2, 2\)"):
            kmeans(self.X, 2, init=np.zeros((3, 2)))
        with pytest.raises(ValueError, match="`init` must be 'k-means\\+\\+'"):
            kmeans(self.X, 2, init="kmeans++", key=random.key(0))

    @pytest.mark.eager_only(reason="weights are checked for sign on eager arrays only")
    def test_sample_weight(self, xb: Any) -> None:
        x = xb.asarray(self.X)
        with pytest.raises(ValueError, match="`sample_weight` must be finite and >= 0"):
            kmeans(x, 2, init=x[:2, :], sample_weight=xb.asarray(-np.ones(6)))
        with pytest.raises(ValueError, match=r"`sample_weight` must have shape \(n_samples,\)"):
            kmeans(x, 2, init=x[:2, :], sample_weight=xb.asarray(np.ones(5)))

    def test_non_floating_x(self) -> None:
        with pytest.raises(TypeError, match="`x` must have a real floating dtype"):
            kmeans(np.arange(12).reshape(6, 2), 2, key=random.key(0))
        with pytest.raises(ValueError, match="`x` must be 2-d"):
            kmeans(np.arange(12.0), 2, key=random.key(0))

    def test_random_init_needs_a_key(self) -> None:
        with pytest.raises(ValueError, match="`key` is required"):
            kmeans(self.X, 2)

    @pytest.mark.parametrize(
        ("option", "error"),
        [({"tol": -1.0}, ValueError), ({"max_iter": 0}, ValueError), ({"n_init": 1.5}, TypeError)],
    )
    def test_options(self, option: dict[str, Any], error: type) -> None:
        with pytest.raises(error, match=f"`{next(iter(option))}`"):
            kmeans(self.X, 2, init=self.X[:2], **option)


def test_exported() -> None:
    assert mlprims.KMeansResult._fields == ("centers", "labels", "inertia", "n_iter")
