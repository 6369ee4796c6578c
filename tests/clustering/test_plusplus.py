"""kmeans_plusplus (mlprims/clustering/plusplus.py): scikit-learn's greedy k-means++.

scikit-learn draws from NumPy's RandomState, so its picks cannot be compared one by one; the
tests check the distribution of the draws (chi-square over many keys, which are deterministic,
so the tests cannot flake), the greedy choice, and that a key picks the same points on every
backend."""

from __future__ import annotations

import importlib
import math
from typing import Any

import numpy as np
import pytest

from mlprims import kmeans_plusplus, random

plusplus_module = importlib.import_module("mlprims.clustering.plusplus")

#: chi-square quantiles at p = 0.999 (the test fails for a wrong distribution, and by the
#: fixed keys never by chance).
CHI2_999 = {1: 10.83, 7: 24.32}


def _chi2(counts: np.ndarray, expected: np.ndarray) -> float:
    return float(((counts - expected) ** 2 / expected).sum())


def test_first_centre_is_drawn_uniformly() -> None:
    x = np.arange(16.0).reshape(8, 2)
    draws = 640
    firsts = [int(kmeans_plusplus(x, 1, key=random.key(seed))[1][0]) for seed in range(draws)]
    counts = np.bincount(firsts, minlength=8)
    assert _chi2(counts, np.full(8, draws / 8)) < CHI2_999[7], counts


def test_first_centre_follows_the_weights() -> None:
    x = np.arange(8.0)[:, None]
    weight = np.array([0.0, 1.0, 3.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    firsts = [
        int(kmeans_plusplus(x, 1, key=random.key(seed), sample_weight=weight)[1][0])
        for seed in range(200)
    ]
    counts = np.bincount(firsts, minlength=8)
    assert counts[[0, 3, 4, 5, 6, 7]].sum() == 0  # zero weight: never drawn
    assert _chi2(counts[1:3], np.array([50.0, 150.0])) < CHI2_999[1], counts


def test_next_centres_favour_far_points_by_squared_distance() -> None:
    """Points at 0 (many), 1 and 3: after a first centre at 0, one candidate (n_local_trials=1)
    is 3 with probability 9/10 and 1 with 1/10."""
    x = np.array([0.0] * 30 + [1.0, 3.0])[:, None]
    seconds = []
    for seed in range(400):
        _, indices = kmeans_plusplus(x, 2, key=random.key(seed), n_local_trials=1)
        if indices[0] < 30:
            seconds.append(int(indices[1]))
    counts = np.array([seconds.count(30), seconds.count(31)])
    assert counts.sum() == len(seconds) > 300
    assert _chi2(counts, counts.sum() * np.array([0.1, 0.9])) < CHI2_999[1], counts


def test_greedy_choice_of_the_best_candidate() -> None:
    """With many local trials the second centre is the point that lowers the potential most
    (3 of the points 0, 1, 3 after 0), nearly whatever the draws."""
    x = np.array([0.0] * 30 + [1.0, 3.0])[:, None]
    for seed in range(20):
        _, indices = kmeans_plusplus(x, 2, key=random.key(seed), n_local_trials=30)
        if indices[0] < 30:
            assert int(indices[1]) == 31


def test_default_local_trials_are_two_plus_log_k(monkeypatch: pytest.MonkeyPatch) -> None:
    shapes: list[tuple[int, ...]] = []
    real = random.uniform

    def spy(key: Any, shape: Any = (), **kwargs: Any) -> Any:
        shapes.append(tuple(shape))
        return real(key, shape, **kwargs)

    monkeypatch.setattr(plusplus_module.random, "uniform", spy)
    x = np.random.default_rng(0).normal(size=(50, 2))
    kmeans_plusplus(x, 9, key=random.key(0))
    assert shapes == [(1,)] + [(2 + int(math.log(9)),)] * 8


def test_same_key_same_points_on_every_backend(xb: Any) -> None:
    x = np.random.default_rng(1).normal(size=(60, 3))
    weight = np.random.default_rng(2).uniform(0.5, 2.0, 60)
    _, indices = kmeans_plusplus(x, 5, key=random.key(11), sample_weight=weight)
    got_centers, got_indices = xb.to_numpy(
        kmeans_plusplus(
            xb.asarray(x),
            5,
            key=random.key(11, backend=xb.backend),
            sample_weight=xb.asarray(weight),
        )
    )
    np.testing.assert_array_equal(got_indices, indices)
    np.testing.assert_array_equal(got_centers, x[indices])
    assert len(set(indices.tolist())) == 5


def test_bad_inputs() -> None:
    x = np.zeros((4, 2))
    with pytest.raises(ValueError, match="`n_local_trials` must be >= 1"):
        kmeans_plusplus(x, 2, key=random.key(0), n_local_trials=0)
    with pytest.raises(ValueError, match="`n_clusters` must be <= n_samples"):
        kmeans_plusplus(x, 5, key=random.key(0))
    with pytest.raises(ValueError, match="`key` is required"):
        kmeans_plusplus(x, 2, key=None)
