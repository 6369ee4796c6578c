"""mlprims.activations: float64 NumPy agreement, torch/jax references, invariants, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mlprims
from mlprims import (
    elu,
    gelu,
    leaky_relu,
    log_softmax,
    logsumexp,
    relu,
    sigmoid,
    silu,
    softmax,
    softplus,
    swiglu,
    tanh,
)
from mlprims.testing import FLOAT_DTYPES, assert_close
from mlprims.testing.oracles.activations import (
    elu_reference,
    gelu_reference,
    leaky_relu_reference,
    log_softmax_reference,
    logsumexp_reference,
    relu_reference,
    sigmoid_reference,
    silu_reference,
    softmax_reference,
    softplus_reference,
    swiglu_reference,
    tanh_reference,
)
from mlprims.testing.strategies import float_arrays

# ---------------------------------------------------------------- inputs

_EDGES = [-1000.0, -50.0, -20.5, -3.0, -1.0, -1e-3, -0.0, 0.0, 1e-3, 0.5, 1.0, 3.0]
_EDGES += [19.5, 20.5, 50.0, 1000.0]


def _inputs(dtype: str, shape: tuple[int, int] = (6, 40)) -> np.ndarray:
    """Edge values (+-1000, the softplus threshold, +-0) and normal draws of scale 5."""
    x = np.random.default_rng(0).normal(scale=5.0, size=shape)
    x.flat[: len(_EDGES)] = _EDGES
    return x.astype(dtype)


#: name: (primitive, options, float64 oracle taking the same options)
ELEMENTWISE = {
    "relu": (relu, {}, relu_reference),
    "leaky_relu": (leaky_relu, {}, leaky_relu_reference),
    "leaky_relu(0.2)": (leaky_relu, {"negative_slope": 0.2}, leaky_relu_reference),
    "gelu": (gelu, {}, gelu_reference),
    "gelu(tanh)": (gelu, {"approximate": "tanh"}, gelu_reference),
    "silu": (silu, {}, silu_reference),
    "elu": (elu, {}, elu_reference),
    "elu(0.5)": (elu, {"alpha": 0.5}, elu_reference),
    "sigmoid": (sigmoid, {}, sigmoid_reference),
    "tanh": (tanh, {}, tanh_reference),
    "softplus": (softplus, {}, softplus_reference),
    "softplus(2, 10)": (softplus, {"beta": 2.0, "threshold": 10.0}, softplus_reference),
}


#: f(-inf), f(+inf)
LIMITS = {
    "relu": (0.0, np.inf),
    "leaky_relu": (-np.inf, np.inf),
    "leaky_relu(0.2)": (-np.inf, np.inf),
    "gelu": (0.0, np.inf),
    "gelu(tanh)": (0.0, np.inf),
    "silu": (0.0, np.inf),
    "elu": (-1.0, np.inf),
    "elu(0.5)": (-0.5, np.inf),
    "sigmoid": (0.0, 1.0),
    "tanh": (-1.0, 1.0),
    "softplus": (0.0, np.inf),
    "softplus(2, 10)": (0.0, np.inf),
}


def _torch_op(name: str):
    import torch
    import torch.nn.functional as F

    return {
        "relu": F.relu,
        "leaky_relu": F.leaky_relu,
        "leaky_relu(0.2)": lambda t: F.leaky_relu(t, 0.2),
        "gelu": F.gelu,
        "gelu(tanh)": lambda t: F.gelu(t, approximate="tanh"),
        "silu": F.silu,
        "elu": F.elu,
        "elu(0.5)": lambda t: F.elu(t, alpha=0.5),
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "softplus": F.softplus,
        "softplus(2, 10)": lambda t: F.softplus(t, beta=2.0, threshold=10.0),
    }[name]


def _jax_op(name: str):
    import jax
    import jax.numpy as jnp

    return {
        "relu": jax.nn.relu,
        "leaky_relu": jax.nn.leaky_relu,
        "leaky_relu(0.2)": lambda a: jax.nn.leaky_relu(a, 0.2),
        "gelu": lambda a: jax.nn.gelu(a, approximate=False),
        "gelu(tanh)": lambda a: jax.nn.gelu(a, approximate=True),
        "silu": jax.nn.silu,
        "elu": jax.nn.elu,
        "elu(0.5)": lambda a: jax.nn.elu(a, alpha=0.5),
        "sigmoid": jax.nn.sigmoid,
        "tanh": jnp.tanh,
        "softplus": jax.nn.softplus,  # no threshold: within exp(-20) of torch's
        "softplus(2, 10)": lambda a: jax.nn.softplus(2.0 * a) / 2.0,  # within exp(-10) / 2
    }[name]


# ---------------------------------------------------------------- elementwise activations


class TestElementwise:
    """relu, leaky_relu, gelu (both forms), silu, elu, sigmoid, tanh, softplus."""

    @pytest.mark.parametrize("dtype", FLOAT_DTYPES)
    @pytest.mark.parametrize("name", list(ELEMENTWISE))
    def test_agrees_with_float64_reference(self, xb, name: str, dtype: str) -> None:
        fn, options, reference = ELEMENTWISE[name]
        x = _inputs(dtype)
        out = xb.run(fn, xb.asarray(x), **options)
        got = xb.to_numpy(out)
        assert got.dtype == np.dtype(dtype)
        assert_close(got, reference(x, **options), dtype)

    @pytest.mark.parametrize("name", list(ELEMENTWISE))
    def test_matches_torch(self, xb, name: str) -> None:
        import torch

        fn, options, _ = ELEMENTWISE[name]
        x = _inputs("float32")
        got = xb.to_numpy(xb.run(fn, xb.asarray(x), **options))
        expected = _torch_op(name)(torch.from_numpy(x)).numpy()
        assert_close(got, expected, "float32", scale=2.0)

    @pytest.mark.parametrize("dtype", FLOAT_DTYPES)
    @pytest.mark.parametrize("name", list(ELEMENTWISE))
    def test_matches_jax_nn(self, name: str, dtype: str) -> None:
        import jax.numpy as jnp

        fn, options, _ = ELEMENTWISE[name]
        x = _inputs(dtype)
        expected = np.asarray(_jax_op(name)(jnp.asarray(x)))
        tol = {}
        if name.startswith("softplus"):  # jax has no threshold: off by <= exp(-threshold)/beta
            bound = math.exp(-options.get("threshold", 20.0)) / options.get("beta", 1.0)
            tol = {"atol": max(1.01 * bound, 2e-6 if dtype == "float32" else 0.0)}
        assert_close(fn(x, **options), expected, dtype, scale=2.0, **tol)

    @pytest.mark.parametrize("name", list(ELEMENTWISE))
    def test_infinities_give_limits_and_nan_stays_nan(self, xb, name: str) -> None:
        fn, options, _ = ELEMENTWISE[name]
        x = np.array([-np.inf, np.inf, np.nan])
        got = xb.to_numpy(xb.run(fn, xb.asarray(x), **options))
        np.testing.assert_array_equal(got[:2], LIMITS[name])  # torch: NaN for gelu/silu(-inf)
        assert np.isnan(got[2])

    @pytest.mark.parametrize("name", list(ELEMENTWISE))
    def test_integer_input_is_a_type_error(self, xb, name: str) -> None:
        fn, options, _ = ELEMENTWISE[name]
        with pytest.raises(TypeError, match="`x` must have a real floating dtype"):
            xb.run(fn, xb.asarray(np.arange(4)), **options)

    def test_bad_options_name_the_argument(self) -> None:
        x = np.zeros(3)
        with pytest.raises(ValueError, match="`approximate`"):
            gelu(x, approximate="erf")
        with pytest.raises(ValueError, match="`beta`"):
            softplus(x, beta=0.0)
        with pytest.raises(TypeError, match="`threshold`"):
            softplus(x, threshold="20")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="`negative_slope`"):
            leaky_relu(x, negative_slope=None)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="`alpha`"):
            elu(x, alpha=float("nan"))
        with pytest.raises(TypeError, match="`x` must be an array"):
            relu([1.0, -1.0])  # type: ignore[arg-type]

    @given(float_arrays(bound=30.0))
    def test_identities(self, x: np.ndarray) -> None:
        assert_close(silu(x), x * sigmoid(x))
        assert_close(sigmoid(-x), 1.0 - sigmoid(x))
        assert_close(relu(x) - relu(-x), x)
        assert_close(leaky_relu(x, negative_slope=0.0), relu(x))
        assert_close(leaky_relu(x, negative_slope=1.0), x)
        assert_close(softplus(x, threshold=100.0) - softplus(-x, threshold=100.0), x, atol=1e-12)
        assert np.all(elu(x) >= -1.0)
        # the tanh form stays within 5e-4 of the exact GELU (its known maximal error is 4.7e-4)
        assert np.max(np.abs(gelu(x, approximate="tanh") - gelu(x))) < 5e-4

    def test_no_overflow_warnings_at_extremes(self, xb) -> None:
        # pytest turns RuntimeWarning into an error, so a warning anywhere fails this test
        for dtype in FLOAT_DTYPES:
            big = np.finfo(dtype).max
            x = xb.asarray(np.array([-big, -1000.0, 1000.0, big], dtype=dtype))
            assert xb.to_numpy(xb.run(sigmoid, x)).tolist() == [0.0, 0.0, 1.0, 1.0]
            assert xb.to_numpy(xb.run(softplus, x))[:2].tolist() == [0.0, 0.0]
            for name, (fn, options, _) in ELEMENTWISE.items():
                assert not np.any(np.isnan(xb.to_numpy(xb.run(fn, x, **options)))), name

    def test_half_precision_keeps_its_dtype(self, xb_half) -> None:
        xb = xb_half  # the standard, and so array_api_strict, has no float16
        x = _inputs("float16", shape=(2, 20))
        for name, (fn, options, reference) in ELEMENTWISE.items():
            got = xb.to_numpy(xb.run(fn, xb.asarray(x), **options))
            assert got.dtype == np.float16, name
            assert_close(got, reference(x, **options), "float16", scale=2.0)


# ---------------------------------------------------------------- softmax family


class TestSoftmax:
    @pytest.mark.parametrize("dtype", FLOAT_DTYPES)
    @pytest.mark.parametrize("axis", [-1, 0])
    def test_agrees_with_float64_reference(self, xb, dtype: str, axis: int) -> None:
        x = _inputs(dtype, shape=(6, 40)) / 10.0  # +-100: rows are not all one-hot
        got = xb.to_numpy(xb.run(softmax, xb.asarray(x), axis=axis))
        assert got.dtype == np.dtype(dtype)
        assert_close(got, softmax_reference(x, axis=axis), dtype)

    def test_matches_torch_and_jax(self, xb) -> None:
        import jax
        import torch

        x = _inputs("float32") / 10.0
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
        import torch

        x = torch.linspace(-5, 5, 300, dtype=torch.bfloat16)
        got = softmax(x)
        assert got.dtype == torch.bfloat16
        expected = torch.softmax(x.double(), dim=-1)
        assert torch.allclose(got.double(), expected, rtol=1e-2, atol=1e-4)

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
        x = _inputs(dtype)  # rows hold +-1000: log_softmax must not go through log(softmax)
        got = xb.to_numpy(xb.run(log_softmax, xb.asarray(x), axis=-1))
        assert got.dtype == np.dtype(dtype)
        assert_close(got, log_softmax_reference(x), dtype, scale=2.0)

    def test_matches_torch_and_jax(self, xb) -> None:
        import jax
        import torch

        x = _inputs("float32")
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
        x = _inputs(dtype).reshape(6, 4, 10)
        got = xb.to_numpy(xb.run(logsumexp, xb.asarray(x), axis=axis, keepdims=keepdims))
        assert got.dtype == np.dtype(dtype)
        assert_close(got, logsumexp_reference(x, axis=axis, keepdims=keepdims), dtype)

    def test_matches_torch_and_jax(self, xb) -> None:
        import jax.scipy.special
        import torch

        x = _inputs("float32")
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


# ---------------------------------------------------------------- swiglu


def _swiglu_inputs(dtype: str) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(1)
    d, h, o = 8, 16, 5
    return {
        "x": rng.normal(size=(2, 3, d)).astype(dtype),
        "w_gate": (rng.normal(size=(d, h)) / math.sqrt(d)).astype(dtype),
        "w_up": (rng.normal(size=(d, h)) / math.sqrt(d)).astype(dtype),
        "w_down": (rng.normal(size=(h, o)) / math.sqrt(h)).astype(dtype),
    }


class TestSwiglu:
    @pytest.mark.parametrize("dtype", FLOAT_DTYPES)
    @pytest.mark.parametrize("with_down", [True, False])
    def test_agrees_with_float64_reference(self, xb, dtype: str, with_down: bool) -> None:
        a = _swiglu_inputs(dtype)
        if not with_down:
            del a["w_down"]
        got = xb.to_numpy(xb.run(swiglu, *(xb.asarray(v) for v in a.values())))
        assert got.dtype == np.dtype(dtype)
        assert got.shape == ((2, 3, 5) if with_down else (2, 3, 16))
        expected = swiglu_reference(*a.values())
        assert_close(got, expected, dtype, scale=5.0)

    def test_matches_torch_llama_mlp(self, xb) -> None:
        import torch
        import torch.nn.functional as F

        a = _swiglu_inputs("float32")
        got = xb.to_numpy(xb.run(swiglu, *(xb.asarray(v) for v in a.values())))
        # torch nn.Linear keeps (out, in) weights: x @ W.T, so pass the transposes
        x, wg, wu, wd = (torch.from_numpy(v) for v in a.values())
        expected = F.linear(F.silu(F.linear(x, wg.T)) * F.linear(x, wu.T), wd.T)
        assert_close(got, expected.numpy(), scale=5.0)

    def test_down_projection_is_applied_last(self) -> None:
        a = _swiglu_inputs("float64")
        hidden = swiglu(a["x"], a["w_gate"], a["w_up"])
        assert_close(swiglu(*a.values()), hidden @ a["w_down"])

    def test_shape_errors_name_the_argument(self) -> None:
        a = _swiglu_inputs("float64")
        x, wg, wu, wd = a.values()
        with pytest.raises(ValueError, match=r"`w_gate` must have shape \(D, H\) with D = 8"):
            swiglu(x, wg.T, wu)
        with pytest.raises(ValueError, match="`w_up` must have the shape of `w_gate`"):
            swiglu(x, wg, wu[:, :4])
        with pytest.raises(ValueError, match=r"`w_down` must have shape \(H, O\) with H = 16"):
            swiglu(x, wg, wu, wd.T)
        with pytest.raises(ValueError, match="`x` must have shape"):
            swiglu(np.ones(()), wg, wu)

    def test_dtype_errors_name_the_argument(self) -> None:
        import torch

        x, wg, wu, wd = _swiglu_inputs("float64").values()
        with pytest.raises(TypeError, match="`w_up` must have the dtype of `x`"):
            swiglu(x, wg, wu.astype(np.float32))
        with pytest.raises(TypeError, match="`x`"):
            swiglu(x.astype(np.int64), wg, wu)
        with pytest.raises(TypeError, match="`w_down` must be an array of the same framework"):
            swiglu(x, wg, wu, torch.from_numpy(wd))
        with pytest.raises(TypeError, match="`w_gate` must be an array"):
            swiglu(x, wg.tolist(), wu)


def test_exported_from_the_top_level() -> None:
    for name in ("relu", "gelu", "softmax", "logsumexp", "swiglu", "softplus"):
        assert getattr(mlprims, name) is globals()[name]


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

    @pytest.mark.parametrize("dtype", ["float16", "float32"])
    def test_other_axes_and_half_precision(self, xb, dtype: str) -> None:
        if not hasattr(xb.xp, dtype):
            pytest.skip(f"{xb.backend.name} has no {dtype}")
        x = np.array([[1.0, np.inf, 5.0], [np.nan, 2.0, 6.0]], dtype=dtype)  # columns: slices
        for fn in (softmax, log_softmax):
            got = xb.to_numpy(xb.run(fn, xb.asarray(x), axis=0))
            assert np.isnan(got[:, :2]).all() and not np.isnan(got[:, 2]).any()
        got = xb.to_numpy(xb.run(logsumexp, xb.asarray(x), axis=0))
        np.testing.assert_allclose(got, [np.nan, np.inf, 6.313262], rtol=1e-3)
