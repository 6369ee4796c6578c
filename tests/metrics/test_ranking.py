"""ndcg_at_k and recall_at_k (mlprims/metrics/ranking.py).

References: the float64 NumPy oracles of mlprims.testing.oracles.metrics (NDCG as the mean DCG
over every order of the tied items, recall from a stable sort), and scikit-learn's ndcg_score,
on scores drawn from a few values so that many of them tie."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from mlprims import ndcg_at_k, recall_at_k
from mlprims.testing import assert_close
from mlprims.testing.oracles.metrics import ndcg_at_k_reference, recall_at_k_reference

NO_EAGER_JAX = pytest.mark.backends(exclude=("jax",), reason="jax_jit runs the same code")


def _ranked(seed: int, b: int = 5, length: int = 6, levels: int = 3) -> tuple[np.ndarray, ...]:
    """Gains 0 to 3 (a row without a relevant item), scores on a grid (many ties)."""
    rng = np.random.default_rng(seed)
    gains = rng.integers(0, 4, (b, length))
    gains[1] = 0
    return gains, rng.integers(0, levels, (b, length)) / (levels - 1)


def _sklearn_ndcg(y_true: np.ndarray, y_score: np.ndarray, k: int) -> float:
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    return float(sklearn_metrics.ndcg_score(y_true, y_score, k=k))


class TestNdcgAtK:
    @NO_EAGER_JAX
    def test_agreement_per_row(self, xb) -> None:
        gains, scores = _ranked(0)
        got = ndcg_at_k(xb.asarray(gains), xb.asarray(scores), k=3, reduction="none")
        assert xb.to_numpy(got).shape == (5,)
        assert_close(xb.to_numpy(got), ndcg_at_k_reference(gains, scores, k=3, reduction="none"))

    @pytest.mark.parametrize("k", [1, 2, 4, 6, 9])
    def test_equals_sklearn(self, k: int) -> None:
        for seed in range(3):
            gains, scores = _ranked(seed, b=4, length=7, levels=2 + seed)
            got = float(ndcg_at_k(gains, scores, k=k))
            assert got == pytest.approx(_sklearn_ndcg(gains, scores, k), abs=1e-12)

    @given(
        hnp.arrays(np.float64, (3, 5), elements=st.sampled_from([0.0, 0.5, 1.0, 2.5])),
        hnp.arrays(np.int64, (3, 5), elements=st.integers(0, 2)),
        st.integers(1, 6),
    )
    def test_equals_sklearn_on_drawn_ties(self, gains, scores, k: int) -> None:
        got = ndcg_at_k(gains, scores, k=k, reduction="none")
        sklearn_metrics = pytest.importorskip("sklearn.metrics")
        want = [
            float(sklearn_metrics.ndcg_score(g[None], s[None], k=k))
            for g, s in zip(gains, scores, strict=True)
        ]
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)

    def test_the_brute_force_oracle_equals_sklearn(self) -> None:
        gains, scores = _ranked(5, b=3, length=6, levels=2)
        assert ndcg_at_k_reference(gains, scores, k=4) == pytest.approx(
            _sklearn_ndcg(gains, scores, 4), abs=1e-12
        )

    def test_ties_averaged_and_empty_rows(self) -> None:
        gains = np.array([[3, 0, 0], [0, 0, 0]])
        tied = float(ndcg_at_k(gains, np.ones((2, 3)), k=1, reduction="none")[0])
        assert tied == pytest.approx(1 / 3)  # the mean gain 1 at rank 1, over IDCG 3
        assert ndcg_at_k(gains, np.ones((2, 3)), k=3, reduction="none")[1] == 0.0
        perfect = ndcg_at_k(np.array([[1, 2, 3]]), np.array([[0.1, 0.2, 0.3]]), k=2)
        assert float(perfect) == 1.0

    def test_dtypes_and_bool_gains(self) -> None:
        gains, scores = _ranked(1)
        assert ndcg_at_k(gains, scores.astype(np.float32), k=2).dtype == np.float32
        assert ndcg_at_k(gains > 0, scores, k=2) == pytest.approx(
            _sklearn_ndcg((gains > 0).astype(int), scores, 2), abs=1e-12
        )


class TestRecallAtK:
    @NO_EAGER_JAX
    def test_agreement(self, xb) -> None:
        gains, scores = _ranked(2)
        got = recall_at_k(xb.asarray(gains), xb.asarray(scores), k=2)
        assert_close(xb.to_numpy(got), recall_at_k_reference(gains, scores, k=2))

    @pytest.mark.parametrize("k", [1, 3, 6, 10])
    def test_equals_the_oracle_on_ties(self, k: int) -> None:
        for seed in range(3):
            gains, scores = _ranked(seed, levels=2 + seed)
            got = float(recall_at_k(gains, scores, k=k))
            assert got == pytest.approx(recall_at_k_reference(gains, scores, k=k), abs=1e-12)

    def test_ties_lower_index_first_and_rows_without_relevant_items_skipped(self) -> None:
        y_true = np.array([[0, 1, 1, 0], [0, 0, 0, 0], [1, 0, 0, 0]])
        y_score = np.array([[0.5, 0.5, 0.5, 0.5], [0.1, 0.2, 0.3, 0.4], [0.2, 0.1, 0.3, 0.4]])
        # row 0: top 2 of four ties = items 0, 1 (1 of 2 relevant); row 1 skipped; row 2: 0
        assert float(recall_at_k(y_true, y_score, k=2)) == 0.25
        assert float(recall_at_k(y_true, y_score, k=4)) == 1.0

    def test_no_relevant_item_is_an_error_eagerly(self) -> None:
        with pytest.raises(ValueError, match="a relevant item"):
            recall_at_k(np.zeros((2, 3)), np.ones((2, 3)), k=1)

    @pytest.mark.backends("jax_jit", reason="what only a traced call returns")
    def test_no_relevant_item_is_nan_under_jit(self, xb) -> None:
        got = recall_at_k(xb.asarray(np.zeros((2, 3))), xb.asarray(np.ones((2, 3))), k=1)
        assert np.isnan(xb.to_numpy(got))


# --- bad input ---------------------------------------------------------------------------

G, S = np.array([[1, 0, 2]]), np.array([[0.1, 0.2, 0.3]])

BAD = {
    "y_true 1-d": (
        lambda f: f(G[0], S[0], k=1),
        ValueError,
        "`y_true` must have shape (B, L): B rows of L items, got (3)",
    ),
    "shapes differ": (
        lambda f: f(G, S[:, :2], k=1),
        ValueError,
        "`y_score` must have the shape of `y_true` (B, L) = (1, 3), got (1, 2)",
    ),
    "one item": (lambda f: f(G[:, :1], S[:, :1], k=1), ValueError, "L >= 2 items per row"),
    "k 0": (lambda f: f(G, S, k=0), ValueError, "`k` must be >= 1, got 0"),
    "k a float": (lambda f: f(G, S, k=2.0), TypeError, "`k` must be an int, got float"),
    "NaN score": (
        lambda f: f(G, np.array([[0.1, np.nan, 0.3]]), k=1),
        ValueError,
        "`y_score` must hold no NaN, got 1",
    ),
    "bool scores": (lambda f: f(G, S > 0, k=1), TypeError, "`y_score` must have an integer or"),
}


@pytest.mark.parametrize("function", [ndcg_at_k, recall_at_k], ids=["ndcg", "recall"])
@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_names_the_argument(function, case: str) -> None:
    call, error, words = BAD[case]
    with pytest.raises(error) as raised:
        call(function)
    assert words in str(raised.value)


def test_ndcg_bad_gains_and_reduction() -> None:
    with pytest.raises(ValueError, match="`y_true` must hold gains >= 0"):
        ndcg_at_k(np.array([[1, -1]]), np.array([[0.1, 0.2]]), k=1)
    with pytest.raises(ValueError, match="`reduction` must be one of 'mean', 'none'; got 'sum'"):
        ndcg_at_k(G, S, k=1, reduction="sum")
