"""cross_entropy and binary_cross_entropy_with_logits (mlprims/losses/classification.py):
float64 NumPy agreement, torch references, invariants, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from mlprims import binary_cross_entropy_with_logits, cross_entropy
from mlprims.testing import FLOAT_DTYPES, assert_close
from mlprims.testing.oracles.losses import (
    binary_cross_entropy_with_logits_reference,
    cross_entropy_reference,
)
from mlprims.testing.strategies import float_arrays

N, C = 8, 5
REDUCTIONS = ("none", "mean", "sum")

# ---------------------------------------------------------------- inputs


def _class_inputs(dtype: str, shape=(N, C), seed: int = 0):
    rng = np.random.default_rng(seed)
    logits = (rng.normal(size=shape) * 3.0).astype(dtype)
    target = rng.integers(0, shape[-1], size=shape[:-1])
    target.flat[1] = -100  # one ignored element
    weight = rng.uniform(0.5, 2.0, size=shape[-1]).astype(dtype)
    return logits, target, weight


def _probabilities(shape, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.dirichlet(np.ones(shape[-1]), size=shape[:-1])


def _torch_ce(logits, target, axis=-1, weight=None, **kw):
    """torch.nn.functional.cross_entropy with our class axis moved to torch's dim 1."""
    torch = pytest.importorskip("torch")
    F = pytest.importorskip("torch.nn.functional")

    x = torch.from_numpy(np.moveaxis(logits, axis, 1) if logits.ndim > 1 else logits)
    if np.issubdtype(target.dtype, np.floating) and target.ndim > 1:
        target = np.moveaxis(target, axis, 1)
    w = None if weight is None else torch.from_numpy(weight)
    return F.cross_entropy(x, torch.from_numpy(np.array(target, order="C")), weight=w, **kw)


# ---------------------------------------------------------------- cross_entropy


class TestCrossEntropyClassIndices:
    @pytest.mark.parametrize("dtype", FLOAT_DTYPES)
    @pytest.mark.parametrize("reduction", REDUCTIONS)
    @pytest.mark.parametrize(("weighted", "eps"), [(False, 0.0), (True, 0.0), (True, 0.1)])
    def test_agrees_with_float64_reference(self, xb, dtype, reduction, weighted, eps) -> None:
        logits, target, weight = _class_inputs(dtype)
        w = weight if weighted else None
        out = xb.run(
            cross_entropy,
            xb.asarray(logits),
            xb.asarray(target),
            weight=None if w is None else xb.asarray(w),
            reduction=reduction,
            label_smoothing=eps,
        )
        got = xb.to_numpy(out)
        assert got.dtype == np.dtype(dtype)
        expected = cross_entropy_reference(
            logits, target, weight=w, reduction=reduction, label_smoothing=eps
        )
        assert_close(got, expected, dtype, scale=4.0)

    @pytest.mark.parametrize("reduction", REDUCTIONS)
    @pytest.mark.parametrize(("weighted", "eps"), [(False, 0.0), (False, 0.2), (True, 0.3)])
    def test_matches_torch_with_k_dims_and_axis_1(self, xb, reduction, weighted, eps) -> None:
        # torch layout (N, C, d1, d2) -> axis=1; ignore_index inside [0, C) as well
        logits, target, weight = _class_inputs("float64", shape=(3, 4, 2, C), seed=2)
        logits = np.moveaxis(logits, -1, 1)  # (N, C, d1, d2)
        target[target == -100] = 2
        w = weight if weighted else None
        got = xb.to_numpy(
            xb.run(
                cross_entropy,
                xb.asarray(logits),
                xb.asarray(target),
                weight=None if w is None else xb.asarray(w),
                ignore_index=2,
                reduction=reduction,
                label_smoothing=eps,
                axis=1,
            )
        )
        expected = _torch_ce(
            logits, target, axis=1, weight=w, ignore_index=2, reduction=reduction,
            label_smoothing=eps,
        )  # fmt: skip
        assert_close(got, expected.numpy(), "float64")

    def test_class_axis_can_be_anywhere(self, xb) -> None:
        logits, target, _ = _class_inputs("float32", shape=(3, 4, C), seed=3)
        last = xb.run(cross_entropy, xb.asarray(logits), xb.asarray(target), reduction="none")
        moved = np.moveaxis(logits, -1, 0)  # (C, 3, 4)
        first = xb.run(
            cross_entropy, xb.asarray(moved), xb.asarray(target), reduction="none", axis=0
        )
        assert_close(xb.to_numpy(first), xb.to_numpy(last))
        assert_close(
            xb.to_numpy(last), _torch_ce(logits, target, reduction="none").numpy(), scale=4.0
        )

    def test_single_sample_1d_logits(self, xb) -> None:
        logits = np.array([1.0, 2.0, 0.5])
        got = xb.run(cross_entropy, xb.asarray(logits), xb.asarray(np.array(1)))
        assert_close(xb.to_numpy(got), _torch_ce(logits, np.array(1)).numpy())

    def test_all_ignored_mean_is_nan_like_torch(self, xb) -> None:
        logits, _, weight = _class_inputs("float64")
        target = xb.asarray(np.full(N, -100))
        for reduction, expected in [("mean", np.nan), ("sum", 0.0), ("none", np.zeros(N))]:
            got = xb.run(
                cross_entropy, xb.asarray(logits), target, reduction=reduction,
                weight=xb.asarray(weight), label_smoothing=0.1,
            )  # fmt: skip
            np.testing.assert_array_equal(xb.to_numpy(got), expected)
        assert np.isnan(_torch_ce(logits, np.full(N, -100)).item())

    def test_out_of_range_targets(self, xb) -> None:
        logits, target, _ = _class_inputs("float64")
        target[3] = C  # one past the last class
        if xb.is_jit:  # values cannot be read under jit: that element's loss is NaN
            got = xb.to_numpy(
                xb.run(cross_entropy, xb.asarray(logits), xb.asarray(target), reduction="none")
            )
            assert np.isnan(got[3]) and np.isfinite(np.delete(got, 3)).all()
            return
        with pytest.raises(ValueError, match=r"`target` must hold class indices in \[0, C\)"):
            cross_entropy(xb.asarray(logits), xb.asarray(target))
        target[3] = -1
        with pytest.raises(ValueError, match=r"e\.g\. -1 at flat position 3"):
            cross_entropy(xb.asarray(logits), xb.asarray(target), reduction="none")

    def test_large_and_masked_logits_are_stable(self, xb) -> None:
        logits = np.array([[1000.0, -1000.0, 0.0], [0.0, -np.inf, 0.0], [-1000.0, 0.0, 1000.0]])
        target = np.array([0, 2, 0])
        got = xb.to_numpy(
            xb.run(cross_entropy, xb.asarray(logits), xb.asarray(target), reduction="none")
        )
        np.testing.assert_allclose(got, [0.0, np.log(2.0), 2000.0], rtol=1e-12)

    def test_half_precision(self, xb_half) -> None:
        xb = xb_half  # the standard, and so array_api_strict, has no float16
        logits, target, _ = _class_inputs("float16")
        got = xb.to_numpy(xb.run(cross_entropy, xb.asarray(logits), xb.asarray(target)))
        assert got.dtype == np.float16
        assert_close(got, cross_entropy_reference(logits, target), "float16")

    @pytest.mark.parametrize("target_dtype", ["int32", "uint8", "int64"])
    def test_any_integer_target_dtype(self, target_dtype) -> None:
        logits, target, _ = _class_inputs("float64")
        target[1] = 0
        got = cross_entropy(logits, target.astype(target_dtype))
        assert_close(got, cross_entropy_reference(logits, target))


class TestCrossEntropyProbabilities:
    @pytest.mark.parametrize("dtype", FLOAT_DTYPES)
    @pytest.mark.parametrize("reduction", REDUCTIONS)
    @pytest.mark.parametrize(("weighted", "eps"), [(False, 0.0), (True, 0.0), (False, 0.25)])
    def test_agrees_with_float64_reference(self, xb, dtype, reduction, weighted, eps) -> None:
        logits, _, weight = _class_inputs(dtype)
        q = _probabilities(logits.shape).astype(dtype)
        w = weight if weighted else None
        got = xb.to_numpy(
            xb.run(
                cross_entropy,
                xb.asarray(logits),
                xb.asarray(q),
                weight=None if w is None else xb.asarray(w),
                reduction=reduction,
                label_smoothing=eps,
            )
        )
        assert got.dtype == np.dtype(dtype)
        expected = cross_entropy_reference(
            logits, q, weight=w, reduction=reduction, label_smoothing=eps
        )
        assert_close(got, expected, dtype, scale=4.0)

    @pytest.mark.parametrize("reduction", REDUCTIONS)
    @pytest.mark.parametrize(("weighted", "eps"), [(False, 0.1), (True, 0.0), (True, 0.1)])
    def test_matches_torch(self, xb, reduction, weighted, eps) -> None:
        logits, _, weight = _class_inputs("float64", shape=(2, 3, C), seed=4)
        q = _probabilities(logits.shape)
        w = weight if weighted else None
        got = xb.run(
            cross_entropy, xb.asarray(logits), xb.asarray(q), reduction=reduction,
            weight=None if w is None else xb.asarray(w), label_smoothing=eps,
        )  # fmt: skip
        expected = _torch_ce(logits, q, weight=w, reduction=reduction, label_smoothing=eps)
        assert_close(xb.to_numpy(got), expected.numpy())

    def test_zero_probability_on_a_masked_class_contributes_nothing(self, xb) -> None:
        logits = np.array([[0.0, -np.inf, 0.0]])
        q = np.array([[0.5, 0.0, 0.5]])
        got = xb.run(cross_entropy, xb.asarray(logits), xb.asarray(q))
        assert_close(xb.to_numpy(got), np.log(2.0))  # torch gives NaN here (0 * -inf)


class TestCrossEntropyInvariants:
    @given(
        float_arrays((4, C), bound=20.0),
        hnp.arrays(np.int64, 4, elements=st.integers(0, C - 1)),
        st.floats(0.0, 1.0),
        st.sampled_from(REDUCTIONS),
    )
    def test_one_hot_and_smoothed_probabilities_equal_class_indices(
        self, logits, target, eps, reduction
    ) -> None:
        one_hot = np.eye(C)[target]
        weight = np.linspace(0.5, 2.0, C)
        # without weights the means agree; with weights only sum/none (the class-index mean
        # divides by the weight of the targets, the probability mean by the batch size)
        assert_close(
            cross_entropy(logits, one_hot, reduction=reduction),
            cross_entropy(logits, target, reduction=reduction),
        )
        if reduction != "mean":
            assert_close(
                cross_entropy(logits, one_hot, weight=weight, reduction=reduction),
                cross_entropy(logits, target, weight=weight, reduction=reduction),
            )
        # label smoothing is the cross-entropy with the mixed target distribution
        mixed = (1 - eps) * one_hot + eps / C
        assert_close(
            cross_entropy(logits, target, label_smoothing=eps, reduction=reduction),
            cross_entropy(logits, mixed, reduction=reduction),
        )

    @given(float_arrays((3, C), bound=20.0))
    def test_nonnegative_and_shift_invariant(self, logits) -> None:
        q = _probabilities(logits.shape)
        loss = cross_entropy(logits, q, reduction="none")
        assert np.all(loss >= -1e-12)
        assert_close(cross_entropy(logits + 7.0, q, reduction="none"), loss, atol=1e-12)


class TestCrossEntropyBadInput:
    def test_messages_name_the_argument(self) -> None:
        logits, target, weight = _class_inputs("float64")
        with pytest.raises(TypeError, match="`logits` must have a real floating dtype"):
            cross_entropy(logits.astype(np.int64), target)
        with pytest.raises(TypeError, match="`target` must hold class indices"):
            cross_entropy(logits, target > 0)
        with pytest.raises(ValueError, match=r"`target` holds class indices.*\(8\), got \(8, 1\)"):
            cross_entropy(logits, target[:, None])
        with pytest.raises(ValueError, match=r"`target` holds class probabilities.*\(8, 4\)"):
            cross_entropy(logits, _probabilities((N, C - 1)))
        with pytest.raises(ValueError, match=r"`weight` must have shape \(C,\) = \(5,\)"):
            cross_entropy(logits, target, weight=weight[:3])
        with pytest.raises(TypeError, match="`weight`"):
            cross_entropy(logits, target, weight=np.ones(C, dtype=np.int64))
        with pytest.raises(ValueError, match="`axis` must be in"):
            cross_entropy(logits, target, axis=2)
        with pytest.raises(ValueError, match="`reduction` must be one of"):
            cross_entropy(logits, target, reduction="avg")
        with pytest.raises(ValueError, match=r"`label_smoothing` must be in \[0.0, 1.0\]"):
            cross_entropy(logits, target, label_smoothing=1.5)
        with pytest.raises(TypeError, match="`ignore_index` must be an int"):
            cross_entropy(logits, target, ignore_index=-100.0)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="`ignore_index` is not supported with prob"):
            cross_entropy(logits, _probabilities(logits.shape), ignore_index=0)
        with pytest.raises(ValueError, match="`logits` must have at least one class"):
            cross_entropy(np.zeros((3, 0)), np.zeros(3, dtype=np.int64))
        with pytest.raises(ValueError, match="`logits` must have a class axis"):
            cross_entropy(np.ones(()), np.array(0))
        with pytest.raises(TypeError, match="`target` must be an array"):
            cross_entropy(logits, target.tolist())

    def test_mixed_frameworks_name_the_argument(self) -> None:
        torch = pytest.importorskip("torch")

        logits, target, weight = _class_inputs("float64")
        with pytest.raises(TypeError, match="`target` must be an array of the same framework"):
            cross_entropy(torch.from_numpy(logits), target)
        with pytest.raises(TypeError, match="`weight` must be an array of the same framework"):
            cross_entropy(logits, target, weight=torch.from_numpy(weight))


# ---------------------------------------------------------------- binary cross-entropy


def _bce_inputs(dtype: str, seed: int = 5):
    rng = np.random.default_rng(seed)
    x = (rng.normal(size=(N, C)) * 4.0).astype(dtype)
    x[0, :4] = [1000.0, -1000.0, 1000.0, -1000.0]
    y = (rng.uniform(size=(N, C)) > 0.5).astype(dtype)
    y[0, :4] = [1.0, 0.0, 0.0, 1.0]
    y[1] = rng.uniform(size=C)  # soft labels
    weight = rng.uniform(0.5, 2.0, size=(N, 1)).astype(dtype)
    pos_weight = rng.uniform(0.5, 3.0, size=C).astype(dtype)
    return x, y, weight, pos_weight


class TestBinaryCrossEntropyWithLogits:
    @pytest.mark.parametrize("dtype", FLOAT_DTYPES)
    @pytest.mark.parametrize("reduction", REDUCTIONS)
    @pytest.mark.parametrize("weighted", [False, True])
    def test_agrees_with_float64_reference(self, xb, dtype, reduction, weighted) -> None:
        x, y, weight, pos_weight = _bce_inputs(dtype)
        extra = {"weight": weight, "pos_weight": pos_weight} if weighted else {}
        got = xb.to_numpy(
            xb.run(
                binary_cross_entropy_with_logits,
                xb.asarray(x),
                xb.asarray(y),
                reduction=reduction,
                **{k: xb.asarray(v) for k, v in extra.items()},
            )
        )
        assert got.dtype == np.dtype(dtype)
        expected = binary_cross_entropy_with_logits_reference(x, y, **extra, reduction=reduction)
        assert_close(got, expected, dtype, scale=4.0)

    @pytest.mark.parametrize("reduction", REDUCTIONS)
    def test_matches_torch(self, xb, reduction) -> None:
        torch = pytest.importorskip("torch")
        F = pytest.importorskip("torch.nn.functional")

        x, y, weight, pos_weight = _bce_inputs("float32", seed=6)
        got = xb.run(
            binary_cross_entropy_with_logits, xb.asarray(x), xb.asarray(y), reduction=reduction,
            weight=xb.asarray(weight), pos_weight=xb.asarray(pos_weight),
        )  # fmt: skip
        t = {
            k: torch.from_numpy(v) for k, v in zip("xywp", (x, y, weight, pos_weight), strict=True)
        }
        expected = F.binary_cross_entropy_with_logits(
            t["x"], t["y"], weight=t["w"], pos_weight=t["p"], reduction=reduction
        )
        assert_close(xb.to_numpy(got), expected.numpy(), scale=4.0)

    def test_stable_for_huge_logits(self, xb) -> None:
        for dtype in FLOAT_DTYPES:
            x = np.array([1000.0, -1000.0, 1000.0, -1000.0, 3e38], dtype=dtype)
            y = np.array([1.0, 0.0, 0.0, 1.0, 1.0], dtype=dtype)
            loss = xb.run(
                binary_cross_entropy_with_logits, xb.asarray(x), xb.asarray(y), reduction="none"
            )
            got = xb.to_numpy(loss)
            np.testing.assert_array_equal(got, [0.0, 0.0, 1000.0, 1000.0, 0.0])

    @given(float_arrays((3, 4), bound=30.0))
    def test_equals_two_class_cross_entropy(self, x) -> None:
        y = (x > 1.0).astype(np.float64)
        logits = np.stack([np.zeros_like(x), x], axis=-1)  # softmax([0, x])[1] = sigmoid(x)
        expected = cross_entropy(logits, y.astype(np.int64), reduction="none")
        got = binary_cross_entropy_with_logits(x, y, reduction="none")
        assert_close(got, expected, atol=1e-12)

    def test_empty_mean_is_nan(self) -> None:
        got = binary_cross_entropy_with_logits(np.zeros((0, 3)), np.zeros((0, 3)))
        assert np.isnan(got)

    def test_messages_name_the_argument(self) -> None:
        x, y, _, _ = _bce_inputs("float64")
        with pytest.raises(TypeError, match="`logits` must have a real floating dtype"):
            binary_cross_entropy_with_logits(x.astype(np.int64), y)
        with pytest.raises(TypeError, match="`target` must have a real floating dtype"):
            binary_cross_entropy_with_logits(x, y.astype(np.int64))
        with pytest.raises(ValueError, match=r"`target` must have the shape of `logits`"):
            binary_cross_entropy_with_logits(x, y[:, :2])
        with pytest.raises(ValueError, match=r"`weight` must broadcast.*\(8, 5\), got \(5, 1\)"):
            binary_cross_entropy_with_logits(x, y, weight=np.ones((5, 1)))
        with pytest.raises(ValueError, match="`pos_weight` must broadcast"):
            binary_cross_entropy_with_logits(x, y, pos_weight=np.ones(4))
        with pytest.raises(ValueError, match="`reduction`"):
            binary_cross_entropy_with_logits(x, y, reduction="batchmean")
        with pytest.raises(TypeError, match="`pos_weight` must be an array"):
            binary_cross_entropy_with_logits(x, y, pos_weight=2.0)
