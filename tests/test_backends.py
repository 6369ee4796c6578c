"""The backends layer: registry, default backend, and the fast paths against generic versions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import mlprims
import mlprims.backends as backends
from mlprims.testing import assert_close
from mlprims.testing.oracles.special import erf_reference


def _installed() -> set[str]:
    import importlib.util

    return {name for name in ("dask",) if importlib.util.find_spec(name) is not None}


class TestRegistry:
    def test_available_backends_are_known_and_loadable(self) -> None:
        assert "numpy" in backends.available()
        for name in backends.available():
            backend = backends.get(name)
            assert backend.name == name
            assert isinstance(backend, backends.Backend)

    def test_capabilities_are_bools_that_say_what_the_framework_can(self) -> None:
        """What primitives ask instead of the name (tests/test_house.py forbids the name)."""
        expected = {  # fuses, fast_scatter, uint32_arithmetic, blocked
            "numpy": (False, True, True, False),
            "torch": (False, True, False, False),
            "jax": (True, False, True, False),
            "array_api_strict": (False, False, True, False),
            "dask": (False, False, True, True),
        }
        names = [*backends.available(), *(["dask"] if "dask" in _installed() else [])]
        for name in names:
            backend = backends.get(name)
            got = (backend.fuses, backend.fast_scatter, backend.uint32_arithmetic, backend.blocked)
            assert all(type(flag) is bool for flag in got), name
            assert got == expected[name], name

    def test_aliases(self) -> None:
        assert backends.get("np") is backends.get("numpy")
        assert backends.get("strict").name == "array_api_strict"

    def test_unknown_name_is_a_value_error(self) -> None:
        with pytest.raises(ValueError, match="unknown backend 'tensorflow'"):
            backends.get("tensorflow")

    def test_non_string_name_is_a_type_error(self) -> None:
        with pytest.raises(TypeError, match="backend"):
            backends.get(3)  # type: ignore[arg-type]

    def test_missing_framework_names_the_extra(self, monkeypatch: pytest.MonkeyPatch) -> None:
        real = backends.importlib.util.find_spec
        monkeypatch.setattr(
            backends.importlib.util,
            "find_spec",
            lambda name, *a: None if name == "torch" else real(name, *a),
        )
        with pytest.raises(ImportError, match=r"pip install 'mlprims\[torch\]'"):
            backends.get("torch")
        assert "torch" not in backends.available()

    def test_use_sets_the_default_and_restores_it_as_a_context(self) -> None:
        assert mlprims.get_backend().name == "numpy"
        with mlprims.use("array_api_strict"):
            assert mlprims.get_backend().name == "array_api_strict"
        assert mlprims.get_backend().name == "numpy"
        try:
            mlprims.use("strict")
            assert mlprims.get_backend().name == "array_api_strict"
        finally:
            mlprims.use("numpy")

    def test_use_rejects_unknown_names_without_changing_the_default(self) -> None:
        with pytest.raises(ValueError, match="unknown backend"):
            mlprims.use("mxnet")
        assert mlprims.get_backend().name == "numpy"


class TestOf:
    def test_finds_the_backend_of_arrays(self, xb) -> None:
        x = xb.asarray(np.zeros(3))
        assert backends.of(x, None, 2.0).name == xb.backend.name

    def test_rejects_lists_and_mixtures(self) -> None:
        with pytest.raises(TypeError, match="expected arrays"):
            backends.of([1.0, 2.0])
        strict = backends.get("array_api_strict")
        with pytest.raises(TypeError, match="cannot be mixed"):
            backends.of(np.zeros(2), strict.asarray(np.zeros(2)))


class TestConversion:
    @pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bool"])
    def test_round_trip(self, xb, dtype: str) -> None:
        a = np.arange(6).reshape(2, 3).astype(dtype)
        x = xb.backend.asarray(a)
        back = xb.backend.to_numpy(x)
        assert back.dtype == a.dtype
        np.testing.assert_array_equal(back, a)

    def test_dtype_by_name(self, xb) -> None:
        x = xb.backend.asarray([1, 2], dtype="float32")
        assert x.dtype == xb.xp.float32


class TestLoops:
    def test_fori_loop_sums_indices(self, xb) -> None:
        def sum_to(n):
            zero = xb.xp.zeros((), dtype=xb.xp.int64)
            return xb.backend.fori_loop(0, 5, lambda i, acc: acc + i, zero)

        assert int(xb.to_numpy(xb.run(sum_to, 5))) == 10

    def test_while_loop_runs_until_the_condition_fails(self, xb) -> None:
        def double_until(x):
            return xb.backend.while_loop(lambda v: v < 100.0, lambda v: v * 2.0, x)

        out = xb.run(double_until, xb.asarray(np.float64(3.0)))
        assert float(xb.to_numpy(out)) == 192.0

    def test_jit_preserves_results(self, xb) -> None:
        f = xb.backend.jit(lambda x, power: x**power, static_argnames=("power",))
        out = f(xb.backend.asarray(np.arange(4.0)), power=2)
        np.testing.assert_array_equal(xb.to_numpy(out), np.arange(4.0) ** 2)


def _reference_top_k(a: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Sort by (NaN first, value descending, index ascending) with Python's stable sort."""
    rows = a.reshape(-1, a.shape[-1])
    idx = np.array(
        [
            sorted(
                range(len(r)),
                key=lambda j: (not np.isnan(r[j]), -r[j] if not np.isnan(r[j]) else 0),
            )[:k]
            for r in rows
        ]
    ).reshape(*a.shape[:-1], k)
    return np.take_along_axis(a, idx, axis=-1), idx


class TestTopK:
    @given(
        a=hnp.arrays(
            np.float64,
            hnp.array_shapes(min_dims=1, max_dims=3, max_side=7),
            elements=st.sampled_from([0.0, -0.0, 1.0, 2.0, -1.0, np.inf, -np.inf, np.nan]),
        ),
        data=st.data(),
    )
    def test_matches_a_stable_sort_with_ties_and_nans(self, xb, a, data) -> None:
        k = data.draw(st.integers(1, a.shape[-1]))
        values, indices = xb.run(xb.backend.top_k, xb.asarray(a), k)
        want_values, want_indices = _reference_top_k(a, k)
        np.testing.assert_array_equal(xb.to_numpy(indices), want_indices)
        np.testing.assert_array_equal(xb.to_numpy(values), want_values)

    def test_documented_tie_example(self, xb) -> None:
        _, indices = xb.backend.top_k(xb.asarray(np.array([1.0, 3, 3, 2, 3])), 2)
        np.testing.assert_array_equal(xb.to_numpy(indices), [1, 2])
        zeros_top = xb.backend.top_k(xb.asarray(np.zeros(100)), 5)[1]
        np.testing.assert_array_equal(xb.to_numpy(zeros_top), np.arange(5))

    def test_signed_zeros_are_one_value(self, xb) -> None:
        # JAX ranked -0.0 below 0.0 and returned [1, 2] where the others returned [1, 0]
        x = np.array([[-0.0, 1.0, 0.0], [0.0, -0.0, -1.0]])
        values, indices = xb.run(xb.backend.top_k, xb.asarray(x), 2)
        np.testing.assert_array_equal(xb.to_numpy(indices), [[1, 0], [0, 1]])
        np.testing.assert_array_equal(
            np.signbit(xb.to_numpy(values)), [[False, True], [False, True]]
        )
        _, indices = xb.run(xb.backend.top_k, xb.asarray(np.array([-0.0, -0.0, 0.0, 1.0])), 3)
        np.testing.assert_array_equal(xb.to_numpy(indices), [3, 0, 1])

    def test_integers(self, xb) -> None:
        values, indices = xb.backend.top_k(xb.asarray(np.array([[5, 1, 5, 7]])), 3)
        np.testing.assert_array_equal(xb.to_numpy(values), [[7, 5, 5]])
        np.testing.assert_array_equal(xb.to_numpy(indices), [[3, 0, 2]])

    def test_unsigned_integers_near_the_top_of_their_range(self, xb) -> None:
        # a sort key made by negating the values would wrap around for unsigned dtypes
        x = xb.asarray(np.array([250, 3, 250, 255], dtype=np.uint8))
        values, indices = xb.backend.top_k(x, 3)
        np.testing.assert_array_equal(xb.to_numpy(values), [255, 250, 250])
        np.testing.assert_array_equal(xb.to_numpy(indices), [3, 0, 2])

    @pytest.mark.parametrize("k", [0, 5, -1])
    def test_k_out_of_range(self, xb, k) -> None:
        with pytest.raises(ValueError, match=r"`k` must be in \[1, 4\]"):
            xb.backend.top_k(xb.asarray(np.zeros(4)), k)

    def test_k_must_be_an_int(self, xb) -> None:
        with pytest.raises(TypeError, match="`k` must be an int"):
            xb.backend.top_k(xb.asarray(np.zeros(4)), 2.0)

    def test_zero_d_input(self, xb) -> None:
        with pytest.raises(ValueError, match="0-d"):
            xb.backend.top_k(xb.asarray(np.float64(1.0)), 1)


class TestSegmentSum:
    @given(
        data=hnp.arrays(
            np.float64,
            hnp.array_shapes(min_dims=1, max_dims=3, max_side=6),
            elements=st.floats(-100, 100),
        ),
        draw=st.data(),
    )
    def test_matches_a_python_loop(self, xb, data, draw) -> None:
        num_segments = draw.draw(st.integers(0, 5))
        ids = draw.draw(hnp.arrays(np.int64, (data.shape[0],), elements=st.integers(-2, 6)))
        want = np.zeros((num_segments, *data.shape[1:]))
        for row, s in zip(data, ids, strict=True):
            if 0 <= s < num_segments:
                want[s] += row
        got = xb.run(xb.backend.segment_sum, xb.asarray(data), xb.asarray(ids), num_segments)
        assert_close(xb.to_numpy(got), want, "float64")

    def test_bad_ids_shape(self, xb) -> None:
        with pytest.raises(ValueError, match="`segment_ids` must be 1-d"):
            xb.backend.segment_sum(
                xb.asarray(np.zeros((3, 2))), xb.asarray(np.zeros(2, np.int64)), 2
            )

    def test_bad_num_segments(self, xb) -> None:
        data, ids = xb.asarray(np.zeros(3)), xb.asarray(np.zeros(3, np.int64))
        with pytest.raises(ValueError, match="`num_segments` must be >= 0, got -1"):
            xb.backend.segment_sum(data, ids, -1)
        with pytest.raises(TypeError, match="`num_segments` must be an int, got float"):
            xb.backend.segment_sum(data, ids, 2.0)  # was a ValueError


class TestStopGradient:
    def test_same_values(self, xb) -> None:
        a = np.array([[1.0, -2.0], [np.inf, np.nan]])
        out = xb.run(xb.backend.stop_gradient, xb.asarray(a))
        np.testing.assert_array_equal(xb.to_numpy(out), a)

    def test_torch_detaches(self) -> None:
        torch = pytest.importorskip("torch")
        x = torch.ones(3, requires_grad=True)
        y = backends.get("torch").stop_gradient(x * 2.0)
        assert not y.requires_grad and y.grad_fn is None

    def test_jax_has_a_zero_derivative(self) -> None:
        jax = pytest.importorskip("jax")
        stop_gradient = backends.get("jax").stop_gradient
        assert float(jax.grad(lambda x: stop_gradient(x * x) + x)(3.0)) == 1.0


class TestSigmoid:
    """The sigmoid hook: native on torch and JAX, 0.5 tanh(0.5 x) + 0.5 elsewhere."""

    def test_equals_the_logistic_function(self, xb) -> None:
        x = np.linspace(-40.0, 40.0, 1_601)
        got = xb.to_numpy(xb.run(xb.backend.sigmoid, xb.asarray(x)))
        assert got.dtype == np.float64
        np.testing.assert_allclose(got, 1.0 / (1.0 + np.exp(-x)), rtol=1e-15, atol=1e-16)

    def test_float32_never_overflows(self, xb) -> None:
        x = np.array([-1e30, -1000.0, -100.0, 0.0, 100.0, np.inf, -np.inf], dtype=np.float32)
        got = xb.to_numpy(xb.run(xb.backend.sigmoid, xb.asarray(x)))
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, [0.0, 0.0, 0.0, 0.5, 1.0, 1.0, 0.0], atol=4e-44)
        assert np.isnan(xb.to_numpy(xb.backend.sigmoid(xb.asarray(np.array([np.nan])))))[0]

    def test_native_on_torch_and_jax(self) -> None:
        torch = pytest.importorskip("torch")
        jax = pytest.importorskip("jax")
        x = np.linspace(-9.0, 9.0, 101).astype(np.float32)
        t = torch.from_numpy(x)
        assert torch.equal(backends.get("torch").sigmoid(t), torch.sigmoid(t))
        np.testing.assert_array_equal(backends.get("jax").sigmoid(x), jax.nn.sigmoid(x))


class TestErf:
    """The erf hook: native on torch and JAX, the portable one elsewhere; all equal math.erf."""

    def test_float64_within_1e_15_of_math_erf(self, xb) -> None:
        x = np.concatenate([np.linspace(-7.0, 7.0, 2_801), np.logspace(-30, 0, 31)])
        got = xb.to_numpy(xb.run(xb.backend.erf, xb.asarray(x)))
        assert got.dtype == np.float64
        np.testing.assert_allclose(got, erf_reference(x), rtol=1e-15, atol=1e-15)

    def test_float32_within_float32_rounding(self, xb) -> None:
        x = np.linspace(-6.0, 6.0, 2_401).astype(np.float32)
        got = xb.to_numpy(xb.run(xb.backend.erf, xb.asarray(x)))
        assert got.dtype == np.float32
        exact = erf_reference(x)
        ulps = np.abs(got - exact) / np.spacing(np.abs(exact).astype(np.float32))
        assert ulps.max() <= 6  # as for the portable erf (tests/test_special.py)

    def test_special_values(self, xb) -> None:
        x = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e308, -1e308])
        got = xb.to_numpy(xb.run(xb.backend.erf, xb.asarray(x)))
        np.testing.assert_array_equal(got, [0.0, -0.0, 1.0, -1.0, np.nan, 1.0, -1.0])
        assert np.signbit(got[1]) and not np.signbit(got[0])

    def test_native_on_torch_and_jax_portable_on_numpy(self) -> None:
        torch = pytest.importorskip("torch")
        jax = pytest.importorskip("jax")
        from mlprims._special import erf

        x = np.linspace(-5.0, 5.0, 1_001).astype(np.float32)
        t = torch.from_numpy(x)
        assert torch.equal(backends.get("torch").erf(t), torch.special.erf(t))
        np.testing.assert_array_equal(backends.get("jax").erf(x), jax.lax.erf(x))
        np.testing.assert_array_equal(backends.get("numpy").erf(x), erf(x))


class TestHarness:
    """The JAX precision fixture must not leak into later tests (they run in file order)."""

    def test_jax_without_x64_gives_32_bit_defaults(self, jax_without_x64) -> None:
        jnp = pytest.importorskip("jax.numpy")

        assert jnp.asarray(1.0).dtype == jnp.float32

    def test_x64_is_back_on_afterwards(self) -> None:
        jnp = pytest.importorskip("jax.numpy")

        assert jnp.asarray(1.0).dtype == jnp.float64
