"""mlprims.activations.elementwise: agreement with the float64 oracles, torch and
jax.nn references, limits at +-inf, invariants, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given

import mlprims
from mlprims import (
    elu,
    gelu,
    leaky_relu,
    relu,
    sigmoid,
    silu,
    softplus,
    tanh,
)
from mlprims.testing import FLOAT_DTYPES, assert_close
from mlprims.testing.oracles.activations import (
    elu_reference,
    gelu_reference,
    leaky_relu_reference,
    relu_reference,
    sigmoid_reference,
    silu_reference,
    softplus_reference,
    tanh_reference,
)
from mlprims.testing.strategies import activation_inputs, float_arrays

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
    torch = pytest.importorskip("torch")
    F = pytest.importorskip("torch.nn.functional")

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
    jax = pytest.importorskip("jax")
    jnp = pytest.importorskip("jax.numpy")

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


class TestElementwise:
    """relu, leaky_relu, gelu (both forms), silu, elu, sigmoid, tanh, softplus."""

    @pytest.mark.parametrize("dtype", FLOAT_DTYPES)
    @pytest.mark.parametrize("name", list(ELEMENTWISE))
    def test_agrees_with_float64_reference(self, xb, name: str, dtype: str) -> None:
        fn, options, reference = ELEMENTWISE[name]
        x = activation_inputs(dtype)
        out = xb.run(fn, xb.asarray(x), **options)
        got = xb.to_numpy(out)
        assert got.dtype == np.dtype(dtype)
        assert_close(got, reference(x, **options), dtype)

    @pytest.mark.parametrize("name", list(ELEMENTWISE))
    def test_matches_torch(self, xb, name: str) -> None:
        torch = pytest.importorskip("torch")

        fn, options, _ = ELEMENTWISE[name]
        x = activation_inputs("float32")
        got = xb.to_numpy(xb.run(fn, xb.asarray(x), **options))
        expected = _torch_op(name)(torch.from_numpy(x)).numpy()
        assert_close(got, expected, "float32", scale=2.0)

    @pytest.mark.parametrize("dtype", FLOAT_DTYPES)
    @pytest.mark.parametrize("name", list(ELEMENTWISE))
    def test_matches_jax_nn(self, name: str, dtype: str) -> None:
        jnp = pytest.importorskip("jax.numpy")

        fn, options, _ = ELEMENTWISE[name]
        x = activation_inputs(dtype)
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
        x = activation_inputs("float16", shape=(2, 20))
        for name, (fn, options, reference) in ELEMENTWISE.items():
            got = xb.to_numpy(xb.run(fn, xb.asarray(x), **options))
            assert got.dtype == np.float16, name
            assert_close(got, reference(x, **options), "float16", scale=2.0)

    def test_gelu_takes_erf_from_the_backend(self, monkeypatch: pytest.MonkeyPatch) -> None:
        # the portable erf is ~50 eager passes: on torch it made gelu 100x slower than F.gelu
        torch = pytest.importorskip("torch")
        backend = mlprims.backends.get("torch")
        calls = []
        native = backend.erf
        monkeypatch.setattr(backend, "erf", lambda z: calls.append(z.dtype) or native(z))
        x = torch.linspace(-3.0, 3.0, 7)
        torch.testing.assert_close(gelu(x), torch.nn.functional.gelu(x))
        assert calls == [torch.float32]
        gelu(x, approximate="tanh")
        assert len(calls) == 1  # the tanh form needs no erf


def test_exported_from_the_top_level() -> None:
    for name in ("relu", "leaky_relu", "gelu", "sigmoid", "silu", "elu", "tanh", "softplus"):
        assert getattr(mlprims, name) is globals()[name]
