"""roc_auc and group_auc (mlprims/metrics/auc.py).

References: the float64 NumPy oracles of mlprims.testing.oracles.metrics (every pair of a positive
and a negative row, counted one by one), and scikit-learn's roc_auc_score (group by group for
GAUC), on scores drawn from a few values so that many of them tie."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlprims import group_auc, roc_auc
from mlprims.testing import assert_close
from mlprims.testing.oracles.metrics import group_auc_reference, roc_auc_reference

#: Eager JAX runs the code jax_jit compiles, one compilation per operation (seconds a test).
NO_EAGER_JAX = pytest.mark.backends(exclude=("jax",), reason="jax_jit runs the same code")


def _rows(seed: int, n: int = 30, levels: int = 5) -> dict[str, np.ndarray]:
    """Labels with both classes, scores on a grid of `levels` values (many ties), weights,
    groups with arbitrary ids (negative, large, unsorted), one group of one class."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    y[:2] = [0, 1]
    groups = rng.choice(np.array([-7, 0, 3, 12, 10**9]), n)
    groups[-3:] = 99  # a group of one class: skipped
    y[-3:] = 1
    return {
        "y_true": y,
        "y_score": rng.integers(0, levels, n) / (levels - 1),
        "sample_weight": rng.uniform(0.0, 2.0, n),
        "groups": groups,
    }


def _sklearn_auc(y, s, w=None) -> float:
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    return float(sklearn_metrics.roc_auc_score(y, s, sample_weight=w))


class TestRocAuc:
    @NO_EAGER_JAX
    def test_agreement_with_ties_and_weights(self, xb) -> None:
        rows = _rows(0)
        args = (xb.asarray(rows["y_true"]), xb.asarray(rows["y_score"]))
        got = roc_auc(*args, sample_weight=xb.asarray(rows["sample_weight"]))
        want = roc_auc_reference(
            rows["y_true"], rows["y_score"], sample_weight=rows["sample_weight"]
        )
        assert xb.to_numpy(got).shape == ()
        assert_close(xb.to_numpy(got), want)

    @pytest.mark.parametrize("seed", range(6))
    def test_equals_sklearn(self, seed: int) -> None:
        rows = _rows(seed, n=20 + 7 * seed, levels=2 + seed)
        y, s, w = rows["y_true"], rows["y_score"], rows["sample_weight"]
        assert float(roc_auc(y, s)) == pytest.approx(_sklearn_auc(y, s), abs=1e-12)
        assert float(roc_auc(y, s, sample_weight=w)) == pytest.approx(
            _sklearn_auc(y, s, w), abs=1e-12
        )

    @given(
        st.lists(st.tuples(st.booleans(), st.integers(0, 3), st.integers(0, 3)), min_size=2).filter(
            lambda rows: 0 < sum(r[0] for r in rows) < len(rows)
        )
    )
    def test_equals_sklearn_on_drawn_ties(self, rows: list[tuple[bool, int, int]]) -> None:
        y, s, w = (np.array(column) for column in zip(*rows, strict=True))
        w = w / 2.0 + 0.25
        assert float(roc_auc(y, s, sample_weight=w)) == pytest.approx(
            _sklearn_auc(y, s, w), abs=1e-12
        )

    @pytest.mark.parametrize(
        "labels", [(0, 1), (-1, 1), (1, 2), (False, True), (0.0, 1.0)], ids=str
    )
    def test_the_greater_label_is_positive_as_in_sklearn(self, labels: tuple[Any, Any]) -> None:
        rows = _rows(1)
        y = np.where(rows["y_true"] == 1, labels[1], labels[0])
        assert float(roc_auc(y, rows["y_score"])) == pytest.approx(
            _sklearn_auc(y, rows["y_score"]), abs=1e-12
        )

    def test_ties_count_one_half(self) -> None:
        """All scores equal: every pair ties, AUC 1/2; one tied pair of four: 3.5 / 4."""
        assert float(roc_auc(np.array([0, 1, 1, 0]), np.zeros(4))) == 0.5
        y, s = np.array([0, 1, 0, 1]), np.array([0.5, 0.5, 0.2, 0.9])
        assert float(roc_auc(y, s)) == 0.875

    def test_dtypes(self) -> None:
        y, s = np.array([0, 1, 1]), np.array([0.1, 0.3, 0.2], dtype=np.float32)
        assert roc_auc(y, s).dtype == np.float32
        assert roc_auc(y, s, sample_weight=np.ones(3)).dtype == np.float64
        assert roc_auc(y, np.array([1, 3, 2])).dtype == np.float64  # integer scores
        torch = pytest.importorskip("torch")
        assert roc_auc(torch.tensor([0, 1]), torch.tensor([1, 2])).dtype == torch.float32

    def test_zero_weight_of_a_class_is_nan_as_in_sklearn(self) -> None:
        y, s = np.array([0, 1, 1]), np.array([0.1, 0.3, 0.2])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert np.isnan(_sklearn_auc(y, s, np.array([1.0, 0.0, 0.0])))
        assert np.isnan(float(roc_auc(y, s, sample_weight=np.array([1.0, 0.0, 0.0]))))

    def test_one_class_is_an_error_eagerly(self) -> None:
        """scikit-learn 1.9 warns and returns NaN (earlier releases raised): we raise."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert np.isnan(_sklearn_auc(np.ones(3), np.arange(3.0)))
        with pytest.raises(ValueError, match="must hold both classes"):
            roc_auc(np.ones(3, dtype=int), np.arange(3.0))

    @pytest.mark.backends("jax_jit", reason="what only a traced call returns")
    def test_one_class_gives_nan_under_jit(self, xb) -> None:
        got = roc_auc(xb.asarray(np.ones(3, dtype=int)), xb.asarray(np.arange(3.0)))
        assert np.isnan(xb.to_numpy(got))


class TestGroupAuc:
    @NO_EAGER_JAX
    def test_agreement(self, xb) -> None:
        rows = _rows(2)
        y, s, g = rows["y_true"], rows["y_score"], rows["groups"]
        got = group_auc(xb.asarray(y), xb.asarray(s), xb.asarray(g))
        assert xb.to_numpy(got).shape == ()
        assert_close(xb.to_numpy(got), group_auc_reference(y, s, g))

    @pytest.mark.parametrize("seed", range(4))
    def test_equals_sklearn_group_by_group(self, seed: int) -> None:
        rows = _rows(seed, n=25 + 10 * seed, levels=2 + seed)
        y, s, g = rows["y_true"], rows["y_score"], rows["groups"]
        total = count = 0.0
        for group in np.unique(g):
            mine = g == group
            if 0 < y[mine].sum() < mine.sum():
                total += mine.sum() * _sklearn_auc(y[mine], s[mine])
                count += mine.sum()
        assert float(group_auc(y, s, g)) == pytest.approx(total / count, abs=1e-12)

    def test_one_group_is_roc_auc_and_row_order_does_not_matter(self) -> None:
        rows = _rows(3)
        y, s = rows["y_true"], rows["y_score"]
        assert float(group_auc(y, s, np.zeros(len(y), dtype=int))) == pytest.approx(
            float(roc_auc(y, s)), abs=1e-12
        )
        order = np.random.default_rng(0).permutation(len(y))
        assert float(group_auc(y[order], s[order], rows["groups"][order])) == pytest.approx(
            float(group_auc(y, s, rows["groups"])), abs=1e-12
        )

    def test_groups_of_one_class_are_skipped(self) -> None:
        y = np.array([0, 1, 1, 1, 0, 1])
        s = np.array([0.1, 0.4, 0.3, 0.2, 0.6, 0.9])
        assert float(group_auc(y, s, np.array([7, 7, 7, 3, 3, 5]))) == pytest.approx(0.6)

    def test_none_left_is_an_error_eagerly(self) -> None:
        with pytest.raises(ValueError, match="no group is left"):
            group_auc(np.array([0, 0, 1, 1]), np.arange(4.0), np.array([0, 0, 1, 1]))

    @pytest.mark.backends("jax_jit", reason="what only a traced call returns")
    def test_none_left_is_nan_under_jit(self, xb) -> None:
        args = (np.array([0, 0, 1, 1]), np.arange(4.0), np.array([0, 0, 1, 1]))
        assert np.isnan(xb.to_numpy(group_auc(*(xb.asarray(a) for a in args))))


# --- bad input ---------------------------------------------------------------------------

Y, S = np.array([0, 1, 1, 0]), np.array([0.1, 0.2, 0.3, 0.4])

BAD = {
    "y_score of another length": (
        lambda: roc_auc(Y, S[:3]),
        ValueError,
        "`y_score` must have shape (N,) = (4,), one per row of `y_true`, got (3)",
    ),
    "y_true 2-d": (lambda: roc_auc(Y[None], S), ValueError, "`y_true` must have shape (N,), got"),
    "no rows": (
        lambda: roc_auc(Y[:0], S[:0]),
        ValueError,
        "`y_true` must have at least one row, got (0)",
    ),
    "three labels": (
        lambda: roc_auc(np.array([0, 1, 2, 1]), S),
        ValueError,
        "`y_true` must hold binary labels (two values), got a third one between 0 and 2: 1 at",
    ),
    "NaN score": (
        lambda: roc_auc(Y, np.array([0.1, np.nan, 0.3, 0.4])),
        ValueError,
        "`y_score` must hold no NaN, got 1",
    ),
    "bool scores": (
        lambda: roc_auc(Y, Y > 0),
        TypeError,
        "`y_score` must have an integer or a real floating dtype, got bool",
    ),
    "a list": (lambda: roc_auc([0, 1], S), TypeError, "`y_true` must be an array"),
    "negative weight": (
        lambda: roc_auc(Y, S, sample_weight=np.array([1.0, -1.0, 1.0, 1.0])),
        ValueError,
        "`sample_weight` must hold finite weights >= 0",
    ),
    "integer weights": (
        lambda: roc_auc(Y, S, sample_weight=np.ones(4, dtype=int)),
        TypeError,
        "`sample_weight` must have a real floating dtype, got int64",
    ),
    "weights of another length": (
        lambda: roc_auc(Y, S, sample_weight=np.ones(3)),
        ValueError,
        "`sample_weight` must have shape (N,) = (4,), one weight per row, got (3)",
    ),
    "float groups": (
        lambda: group_auc(Y, S, np.zeros(4)),
        TypeError,
        "`groups` must have an integer dtype (group ids), got float64",
    ),
    "groups of another length": (
        lambda: group_auc(Y, S, np.zeros(5, dtype=int)),
        ValueError,
        "`groups` must have shape (N,) = (4,), one id per row, got (5)",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_names_the_argument(case: str) -> None:
    call, error, words = BAD[case]
    with pytest.raises(error) as raised:
        call()
    assert words in str(raised.value)


def test_sample_weight_is_keyword_only() -> None:
    with pytest.raises(TypeError):
        roc_auc(Y, S, np.ones(4))  # type: ignore[misc]
