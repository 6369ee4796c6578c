"""mlprims.activations.softmax: softmax, log_softmax and logsumexp against the float64
oracles and torch/jax, masked and non-finite slices, invariants, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mlprims
from mlprims import (
    log_softmax,
    logsumexp,
    softmax,
)
from mlprims.testing import FLOAT_DTYPES, assert_close
from mlprims.testing.oracles.activations import (
    log_softmax_reference,
    logsumexp_reference,
    softmax_reference,
)
from mlprims.testing.strategies import activation_inputs, float_arrays


class TestSoftmax:
    @pytest.mark.parametrize("dtype", FLOAT_DTYPES)
    @pytest.mark.parametrize("axis", [-1, 0])
    def test_agrees_with_float64_reference(self, xb, dtype: str, axis: int) -> None:
        x = activation_inputs(dtype, shape=(6, 40)) / 10.0  # +-100: rows are not all one-hot
        got = xb.to_numpy(xb.run(softmax, xb.asarray(x), axis=axis))
        assert got.dtype == np.dtype(dtype)
        assert_close(got, softmax_reference(x, axis=axis), dtype)

    def test_matches_torch_and_jax(self, xb) -> None:
        jax = pytest.importorskip("jax")
        torch = pytest.importorskip("torch")

        x = activation_inputs("float32") / 10.0
        got = xb.to_numpy(xb.run(softmax, xb.asarray(x), axis=0))
        assert_close(got, torch.softmax(torch.from_numpy(x), dim=0).numpy())
        assert_close(got, np.asarray(jax.nn.softmax(x, axis=0)))

    @given(float_arrays(bound=50.0, min_dims=2), st.floats(-100.0, 100.0))
    def test_rows_sum_to_one_and_shift_invariance(self, x: np.ndarray, c: float) -> None:
        s = softmax(x)
        assert np.all(s >= 0)
        assert_close(s.sum(axis=-1), np.ones(x.shape[:-1]), scale=10.0)
        assert_close(softmax(x + c), s, atol=1e-12)
        assert_close(s, np.exp(x - logsumexp(x, keepdims=True)), atol=1e-12)

    def test_masked_rows(self, xb) -> None:
        x = np.array([[-np.inf, -np.inf, -np.inf], [0.0, -np.inf, 0.0], [1000.0, -1000.0, 0.0]])
        got = xb.to_numpy(xb.run(softmax, xb.asarray(x)))
        # all -inf: 0, not NaN (torch and jax give NaN); a partly masked row is fine
        np.testing.assert_array_equal(got, [[0.0, 0.0, 0.0], [0.5, 0.0, 0.5], [1.0, 0.0, 0.0]])

    def test_empty_axis_gives_an_empty_result(self, xb) -> None:
        for fn in (softmax, log_softmax):
            got = xb.to_numpy(xb.run(fn, xb.asarray(np.zeros((2, 0)))))
            assert got.shape == (2, 0)

    def test_half_precision_uses_float32_statistics(self, xb_half) -> None:
        xb = xb_half  # the standard, and so array_api_strict, has no float16
        x = np.full((1, 4096), 0.1, dtype=np.float16)  # a float16 sum of these stalls at 256
        got = xb.to_numpy(xb.run(softmax, xb.asarray(x)))
        assert got.dtype == np.float16
        assert_close(got.astype(np.float64).sum(), 1.0, "float16")

    def test_bfloat16_on_torch(self) -> None:
        torch = pytest.importorskip("torch")

        x = torch.linspace(-5, 5, 300, dtype=torch.bfloat16)
        got = softmax(x)
        assert got.dtype == torch.bfloat16
        expected = torch.softmax(x.double(), dim=-1)
        assert torch.allclose(got.double(), expected, rtol=1e-2, atol=1e-4)

    @pytest.mark.parametrize(
        ("fn", "reference"), [(softmax, softmax_reference), (log_softmax, log_softmax_reference)]
    )
    def test_one_exp_per_call(self, fn, reference, monkeypatch: pytest.MonkeyPatch) -> None:
        # each full-size operation is one more pass over memory in eager torch or NumPy
        xp = mlprims.backends.get("numpy").xp
        calls = []
        exp = xp.exp
        monkeypatch.setattr(xp, "exp", lambda z: calls.append(z.shape) or exp(z))
        x = np.array([[1.0, 2.0, -np.inf], [-np.inf, -np.inf, -np.inf], [np.nan, 0.0, np.inf]])
        got = fn(x)
        assert calls == [(3, 3)]
        assert_close(got[0], reference(x[0]))

    def test_bad_input(self) -> None:
        with pytest.raises(TypeError, match="`x`"):
            softmax(np.arange(3))
        with pytest.raises(ValueError, match="`axis` must be in"):
            softmax(np.zeros((2, 3)), axis=2)
        with pytest.raises(TypeError, match="`axis` must be an int"):
            softmax(np.zeros((2, 3)), axis=(0, 1))  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="`x` must have at least one axis"):
            softmax(np.ones(()))


class TestLogSoftmax:
    @pytest.mark.parametrize("dtype", FLOAT_DTYPES)
    def test_agrees_with_float64_reference(self, xb, dtype: str) -> None:
        x = activation_inputs(dtype)  # rows hold +-1000: not through log(softmax)
        got = xb.to_numpy(xb.run(log_softmax, xb.asarray(x), axis=-1))
        assert got.dtype == np.dtype(dtype)
        assert_close(got, log_softmax_reference(x), dtype, scale=2.0)

    def test_matches_torch_and_jax(self, xb) -> None:
        jax = pytest.importorskip("jax")
        torch = pytest.importorskip("torch")

        x = activation_inputs("float32")
        got = xb.to_numpy(xb.run(log_softmax, xb.asarray(x), axis=0))
        assert_close(got, torch.log_softmax(torch.from_numpy(x), dim=0).numpy(), scale=2.0)
        assert_close(got, np.asarray(jax.nn.log_softmax(x, axis=0)), scale=2.0)

    @given(float_arrays(bound=50.0, min_dims=2))
    def test_is_log_of_softmax_and_x_minus_logsumexp(self, x: np.ndarray) -> None:
        ls = log_softmax(x, axis=0)
        assert_close(ls, np.log(softmax(x, axis=0)), atol=1e-12)
        assert_close(ls, x - logsumexp(x, axis=0, keepdims=True), atol=1e-12)
        assert np.all(ls <= 0)

    def test_all_masked_row_gives_minus_inf(self, xb) -> None:
        # Our documented choice: -inf (= log of our softmax 0). torch and jax give NaN.
        x = np.array([[-np.inf, -np.inf], [0.0, -np.inf]])
        got = xb.to_numpy(xb.run(log_softmax, xb.asarray(x)))
        np.testing.assert_array_equal(got, [[-np.inf, -np.inf], [0.0, -np.inf]])

    def test_bad_input(self) -> None:
        with pytest.raises(TypeError, match="`x`"):
            log_softmax(np.arange(3))
        with pytest.raises(ValueError, match="`axis`"):
            log_softmax(np.zeros(3), axis=-2)


class TestLogsumexp:
    @pytest.mark.parametrize("dtype", FLOAT_DTYPES)
    @pytest.mark.parametrize(
        ("axis", "keepdims"), [(-1, False), (0, True), ((0, 1), False), (None, True)]
    )
    def test_agrees_with_float64_reference(self, xb, dtype: str, axis, keepdims: bool) -> None:
        x = activation_inputs(dtype).reshape(6, 4, 10)
        got = xb.to_numpy(xb.run(logsumexp, xb.asarray(x), axis=axis, keepdims=keepdims))
        assert got.dtype == np.dtype(dtype)
        assert_close(got, logsumexp_reference(x, axis=axis, keepdims=keepdims), dtype)

    def test_matches_torch_and_jax(self, xb) -> None:
        jax = pytest.importorskip("jax")
        pytest.importorskip("jax.scipy.special")
        torch = pytest.importorskip("torch")

        x = activation_inputs("float32")
        got = xb.to_numpy(xb.run(logsumexp, xb.asarray(x), axis=0))
        assert_close(got, torch.logsumexp(torch.from_numpy(x), dim=0).numpy())
        assert_close(got, np.asarray(jax.scipy.special.logsumexp(x, axis=0)))

    def test_infinite_rows(self, xb) -> None:
        x = np.array([[-np.inf, -np.inf], [np.inf, 0.0], [-np.inf, 0.0]])
        got = xb.to_numpy(xb.run(logsumexp, xb.asarray(x)))
        np.testing.assert_array_equal(got, [-np.inf, np.inf, 0.0])  # as torch.logsumexp

    def test_empty_axis_gives_minus_inf(self, xb) -> None:
        got = xb.to_numpy(xb.run(logsumexp, xb.asarray(np.zeros((3, 0)))))
        np.testing.assert_array_equal(got, [-np.inf] * 3)

    @given(float_arrays(bound=100.0, min_dims=2, max_dims=2), st.floats(-100.0, 100.0))
    def test_shift_and_bounds(self, x: np.ndarray, c: float) -> None:
        lse = logsumexp(x, axis=1)
        assert_close(logsumexp(x + c, axis=1), lse + c, atol=1e-12)
        assert np.all(lse >= x.max(axis=1) - 1e-12)
        assert np.all(lse <= x.max(axis=1) + math.log(x.shape[1]) + 1e-12)
        assert_close(logsumexp(x, axis=(0, 1)), logsumexp(logsumexp(x, axis=1), axis=0))

    def test_bad_input(self) -> None:
        x = np.zeros((2, 3))
        with pytest.raises(ValueError, match="`axis` must not repeat"):
            logsumexp(x, axis=(1, -1))
        with pytest.raises(ValueError, match="`axis` must be in"):
            logsumexp(x, axis=(0, 5))
        with pytest.raises(TypeError, match="`keepdims`"):
            logsumexp(x, keepdims=1)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="`x`"):
            logsumexp(np.ones(3, dtype=np.int32))


class TestNonFiniteSlices:
    """A NaN is never lost (logsumexp gave -inf for [1, nan]); a slice holding NaN or +inf has
    a NaN softmax throughout (softmax([inf, 1]) gave [nan, 0]), as torch and JAX."""

    ROWS = (
        (1.0, np.nan),
        (np.nan, np.nan),
        (np.inf, np.nan),
        (-np.inf, np.nan),
        (np.inf, 1.0),
        (np.inf, 1000.0),
        (np.inf, np.inf),
        (np.inf, -np.inf),
    )

    def test_logsumexp(self, xb) -> None:
        torch = pytest.importorskip("torch")
        x = np.array(self.ROWS)
        got = xb.to_numpy(xb.run(logsumexp, xb.asarray(x)))
        expected = torch.logsumexp(torch.from_numpy(x), dim=-1).numpy()
        np.testing.assert_array_equal(got, expected)  # NaN where a NaN is, else +inf
        np.testing.assert_array_equal(got, [np.nan] * 4 + [np.inf] * 4)

    @pytest.mark.parametrize("fn", [softmax, log_softmax])
    def test_softmax_slice_is_nan_throughout(self, xb, fn) -> None:
        torch = pytest.importorskip("torch")
        x = np.array([*self.ROWS, [0.0, -np.inf], [-np.inf, -np.inf]])
        got = xb.to_numpy(xb.run(fn, xb.asarray(x)))
        expected = getattr(torch, fn.__name__)(torch.from_numpy(x), dim=-1).numpy()
        np.testing.assert_array_equal(got[:-1], expected[:-1])
        assert np.isnan(got[: len(self.ROWS)]).all()
        assert not np.isnan(got[-1]).any()  # all -inf: our documented 0 (log: -inf), not NaN

    def test_other_axes(self, xb) -> None:
        self._check_other_axes(xb, "float32")

    def test_other_axes_in_half_precision(self, xb_half) -> None:
        self._check_other_axes(xb_half, "float16")  # xb_half: the backends that have float16

    @staticmethod
    def _check_other_axes(xb, dtype: str) -> None:
        x = np.array([[1.0, np.inf, 5.0], [np.nan, 2.0, 6.0]], dtype=dtype)  # columns: slices
        for fn in (softmax, log_softmax):
            got = xb.to_numpy(xb.run(fn, xb.asarray(x), axis=0))
            assert np.isnan(got[:, :2]).all() and not np.isnan(got[:, 2]).any()
        got = xb.to_numpy(xb.run(logsumexp, xb.asarray(x), axis=0))
        np.testing.assert_allclose(got, [np.nan, np.inf, 6.313262], rtol=1e-3)


def test_exported_from_the_top_level() -> None:
    for name in ("softmax", "log_softmax", "logsumexp"):
        assert getattr(mlprims, name) is globals()[name]
