"""layer_norm, rms_norm, group_norm and init_layer_norm (mlprims/normalization/layer.py).

References are the float64 NumPy oracles of mlprims.testing.oracles.normalization and
torch.nn.functional."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mlprims
from mlprims import (
    group_norm,
    init_layer_norm,
    layer_norm,
    rms_norm,
)
from mlprims.testing import assert_close
from mlprims.testing.oracles.normalization import (
    group_norm_reference,
    layer_norm_reference,
    rms_norm_reference,
)
from mlprims.testing.strategies import float_arrays

torch = pytest.importorskip("torch")  # torch.nn is the reference of most tests here
F = pytest.importorskip("torch.nn.functional")

DTYPES = ("float32", "float64")


# --- inputs ----------------------------------------------------------------------------


def _t(a: Any) -> Any:
    return None if a is None else torch.from_numpy(np.array(a))


# --- layer_norm ------------------------------------------------------------------------


class TestLayerNorm:
    @pytest.mark.parametrize("shape", [(5, 8), (2, 3, 4, 5)], ids=["S=(8,)", "S=(4,5)"])
    @pytest.mark.parametrize("dtype", DTYPES)
    def test_agreement(self, xb, dtype: str, shape) -> None:
        k = len(shape) // 2
        rng = np.random.default_rng(10)
        x = rng.normal(2.0, 3.0, shape).astype(dtype)
        w, b = (rng.normal(size=shape[-k:]).astype(dtype) for _ in range(2))
        got = xb.run(layer_norm, xb.asarray(x), shape[-k:], xb.asarray(w), xb.asarray(b))
        got = xb.to_numpy(got)
        assert got.dtype == np.dtype(dtype)
        assert_close(got, layer_norm_reference(x, shape[-k:], w, b), dtype)
        plain = xb.to_numpy(xb.run(layer_norm, xb.asarray(x), shape[-k:], eps=1e-3))
        assert_close(plain, layer_norm_reference(x, shape[-k:], eps=1e-3), dtype)

    def test_large_mean_accuracy(self, xb) -> None:
        """float32 rows with mean 1e4, std 1e-2: ours within 1e-5 of float64, torch and plain
        two-pass far off (measured here: torch 0.13, plain two-pass 0.088, ours 5e-7)."""
        rng = np.random.default_rng(0)
        x = (1e4 + 1e-2 * rng.standard_normal((64, 768))).astype(np.float32)
        exact = layer_norm_reference(x, 768)
        ours = xb.to_numpy(xb.run(layer_norm, xb.asarray(x), 768))
        ours_error = np.abs(ours - exact).max()
        torch_error = np.abs(F.layer_norm(_t(x), (768,)).numpy() - exact).max()
        mean = x.mean(axis=-1, keepdims=True)  # float32 two-pass, no shift
        plain = (x - mean) / np.sqrt(((x - mean) ** 2).mean(axis=-1, keepdims=True) + 1e-5)
        plain_error = np.abs(plain - exact).max()
        assert ours.dtype == np.float32
        assert ours_error < 1e-5, (ours_error, torch_error, plain_error)
        assert ours_error * 1000 < min(torch_error, plain_error), (torch_error, plain_error)

    def test_matches_torch_functional(self) -> None:
        rng = np.random.default_rng(11)
        for dtype in ("float32", "float64"):
            x = rng.normal(size=(3, 4, 6)).astype(dtype)
            w, b = rng.normal(size=(4, 6)).astype(dtype), rng.normal(size=(4, 6)).astype(dtype)
            want = F.layer_norm(_t(x), (4, 6), _t(w), _t(b), eps=1e-4).numpy()
            assert_close(layer_norm(x, (4, 6), w, b, eps=1e-4), want, dtype)

    def test_torch_gradients_match(self) -> None:
        """Autograd flows through the in-place updates of our own buffers."""
        rng = np.random.default_rng(12)
        x, w, b = (_t(rng.normal(size=s)).requires_grad_() for s in ((3, 5, 6), (6,), (6,)))
        g = _t(rng.normal(size=(3, 5, 6)))
        ours = torch.autograd.grad((layer_norm(x, 6, w, b) * g).sum(), (x, w, b))
        want = torch.autograd.grad((F.layer_norm(x, (6,), w, b) * g).sum(), (x, w, b))
        for a, e in zip(ours, want, strict=True):
            assert_close(a.numpy(), e.numpy())

    def test_half_precision(self) -> None:
        x = np.random.default_rng(13).normal(50.0, 1.0, (4, 16)).astype(np.float16)
        for backend in (np.asarray, torch.from_numpy):
            got = np.asarray(layer_norm(backend(x), 16))
            assert got.dtype == np.float16
            assert_close(got, layer_norm_reference(x, 16), "float16")

    @given(x=float_arrays(shape=(4, 7), dtype="float64"))
    def test_rows_have_mean_0_and_variance_1(self, x) -> None:
        x = x + np.linspace(-1.0, 1.0, 7)  # no constant row
        y = layer_norm(x, 7, eps=0.0)
        assert_close(y.mean(axis=-1), np.zeros(4), atol=1e-12)
        assert_close(y.var(axis=-1), np.ones(4))

    @pytest.mark.parametrize(
        ("args", "error", "name"),
        [
            (((4, 5), (5, 4)), ValueError, "normalized_shape"),
            (((4, 5), 4), ValueError, "normalized_shape"),
            (((4, 5), (3, 4, 5)), ValueError, "normalized_shape"),
            (((4, 5), ()), ValueError, "normalized_shape"),
            (((4, 5), 5.0), TypeError, "normalized_shape"),
            (((4, 5), 5, np.ones(4)), ValueError, "weight"),
            (((4, 5), 5, None, np.ones((1, 5))), ValueError, "bias"),
        ],
    )
    def test_bad_input(self, args, error, name) -> None:
        shape, *rest = args
        with pytest.raises(error, match=f"`{name}`"):
            layer_norm(np.ones(shape), *rest)

    def test_integer_input(self) -> None:
        with pytest.raises(TypeError, match="`x`"):
            layer_norm(np.ones((2, 3), dtype=np.int32), 3)


# --- rms_norm --------------------------------------------------------------------------


class TestRmsNorm:
    @pytest.mark.parametrize("dtype", DTYPES)
    def test_agreement(self, xb, dtype: str) -> None:
        rng = np.random.default_rng(20)
        x, w = rng.normal(1.0, 2.0, (3, 4, 5)).astype(dtype), rng.normal(size=(4, 5)).astype(dtype)
        got = xb.to_numpy(xb.run(rms_norm, xb.asarray(x), (4, 5), xb.asarray(w)))
        eps = float(np.finfo(dtype).eps)
        assert got.dtype == np.dtype(dtype)
        assert_close(got, rms_norm_reference(x, (4, 5), w, eps=eps), dtype)

    @pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
    def test_matches_torch_functional(self, dtype: str) -> None:
        """Includes torch's default eps: float32's epsilon for float16 inputs."""
        rng = np.random.default_rng(21)
        x = np.concatenate([rng.normal(size=(3, 8)), np.full((1, 8), 3e-4)]).astype(dtype)
        w = rng.normal(size=8).astype(dtype)
        want = F.rms_norm(_t(x), (8,), _t(w)).numpy()
        for backend in (np.asarray, torch.from_numpy):
            got = np.asarray(rms_norm(backend(x), 8, backend(w)))
            assert got.dtype == np.dtype(dtype)
            assert_close(got, want, dtype, scale=2)

    @given(x=float_arrays(shape=(3, 6), dtype="float64"), scale=st.floats(1e-3, 1e3))
    def test_unit_rms_and_scale_invariance(self, x, scale) -> None:
        x = x + 1.0
        y = rms_norm(x, 6, eps=0.0)
        assert_close(np.sqrt((y**2).mean(axis=-1)), np.ones(3))
        assert_close(rms_norm(scale * x, 6, eps=0.0), y)

    def test_torch_gradients_match(self) -> None:
        """Autograd flows through the squares computed in the output's buffer."""
        rng = np.random.default_rng(42)
        x, w = (_t(rng.normal(size=s)).requires_grad_() for s in ((3, 5, 6), (6,)))
        g = _t(rng.normal(size=(3, 5, 6)))
        ours = torch.autograd.grad((rms_norm(x, 6, w) * g).sum(), (x, w))
        want = torch.autograd.grad((F.rms_norm(x, (6,), w) * g).sum(), (x, w))
        for a, e in zip(ours, want, strict=True):
            assert_close(a.numpy(), e.numpy())

    def test_bad_input(self) -> None:
        with pytest.raises(ValueError, match="`normalized_shape`"):
            rms_norm(np.ones((2, 3)), 2)
        with pytest.raises(ValueError, match="`weight`"):
            rms_norm(np.ones((2, 3)), 3, np.ones(2))
        with pytest.raises(ValueError, match="`eps`"):
            rms_norm(np.ones((2, 3)), 3, eps=-1.0)
        with pytest.raises(TypeError, match="`x`"):
            rms_norm(np.ones((2, 3), dtype=np.int64), 3)


# --- group_norm ------------------------------------------------------------------------


class TestGroupNorm:
    @pytest.mark.parametrize("shape", [(2, 6), (2, 6, 5), (2, 6, 4, 3)], ids=["NC", "NCL", "NCHW"])
    @pytest.mark.parametrize("dtype", DTYPES)
    def test_agreement(self, xb, dtype: str, shape) -> None:
        rng = np.random.default_rng(30)
        x = rng.normal(4.0, 2.0, shape).astype(dtype)
        w, b = (rng.normal(size=6).astype(dtype) for _ in range(2))
        got = xb.to_numpy(xb.run(group_norm, xb.asarray(x), 3, xb.asarray(w), xb.asarray(b)))
        assert got.dtype == np.dtype(dtype)
        assert_close(got, group_norm_reference(x, 3, w, b), dtype, scale=2)

    @pytest.mark.parametrize("groups", [1, 2, 6])
    def test_matches_torch_functional(self, groups: int) -> None:
        rng = np.random.default_rng(31)
        x, w, b = rng.normal(size=(3, 6, 4, 2)), rng.normal(size=6), rng.normal(size=6)
        want = F.group_norm(_t(x), groups, _t(w), _t(b), eps=1e-4).numpy()
        assert_close(group_norm(x, groups, w, b, eps=1e-4), want)

    def test_large_mean_accuracy(self, xb) -> None:
        """Groups with mean 1e4 and std 1e-2 in float32, normalised by one multiply-add
        ``(x - shift) * scale - offset * scale`` (measured 6e-7 here, the target 1e-5)."""
        x = (1e4 + 1e-2 * np.random.default_rng(33).standard_normal((4, 6, 128))).astype("f4")
        got = xb.to_numpy(xb.run(group_norm, xb.asarray(x), 3))
        assert got.dtype == np.float32
        assert np.abs(got - group_norm_reference(x, 3)).max() < 1e-5

    def test_torch_gradients_match(self) -> None:
        rng = np.random.default_rng(34)
        x, w, b = (_t(rng.normal(size=s)).requires_grad_() for s in ((3, 6, 4), (6,), (6,)))
        g = _t(rng.normal(size=(3, 6, 4)))
        ours = torch.autograd.grad((group_norm(x, 3, w, b) * g).sum(), (x, w, b))
        want = torch.autograd.grad((F.group_norm(x, 3, w, b) * g).sum(), (x, w, b))
        for a, e in zip(ours, want, strict=True):
            assert_close(a.numpy(), e.numpy())

    def test_one_group_is_layer_norm_and_c_groups_is_instance_norm(self) -> None:
        x = np.random.default_rng(32).normal(size=(2, 4, 3, 5))
        assert_close(group_norm(x, 1), layer_norm(x, (4, 3, 5)))
        want = F.instance_norm(_t(x)).numpy()
        assert_close(group_norm(x, 4), want)

    def test_bad_input(self) -> None:
        x = np.ones((2, 6, 3))
        with pytest.raises(ValueError, match="`num_groups`"):
            group_norm(x, 4)
        with pytest.raises(ValueError, match="`num_groups`"):
            group_norm(x, 0)
        with pytest.raises(TypeError, match="`num_groups`"):
            group_norm(x, 2.0)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="`weight`"):
            group_norm(x, 3, np.ones(3))
        with pytest.raises(ValueError, match="`x`"):
            group_norm(np.ones(6), 3)
        with pytest.raises(TypeError, match="`x`"):
            group_norm(x.astype(np.int64), 3)


class TestInitLayerNorm:
    def test_layer_norm_params_like_torch(self, xb) -> None:
        params = init_layer_norm((2, 3), backend=xb.backend.name)
        torch_params = torch.nn.LayerNorm((2, 3)).state_dict()
        for name, value in params.items():
            got = xb.to_numpy(value)
            assert got.dtype == np.float32
            np.testing.assert_array_equal(got, torch_params[name].numpy())

    def test_options_and_default_backend(self) -> None:
        assert init_layer_norm(4, bias=False)["bias"] is None
        assert init_layer_norm(4, elementwise_affine=False) == {"weight": None, "bias": None}
        with mlprims.use("torch"):
            assert isinstance(init_layer_norm(4)["weight"], torch.Tensor)

    def test_bad_input(self) -> None:
        with pytest.raises(ValueError, match="`normalized_shape`"):
            init_layer_norm((3, 0))
