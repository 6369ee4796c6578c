"""fake_quantize (mlprims/quantization/fake.py): values and the straight-through gradient.

References: torch.fake_quantize_per_tensor_affine / fake_quantize_per_channel_affine called for
real, their values and their autograd gradients (compared with ours under torch autograd and
jax.grad), and the float64 oracle of mlprims.testing.oracles.quantization."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

from mlprims import fake_quantize, quantize
from mlprims.testing import assert_close
from mlprims.testing.oracles.quantization import RANGES, fake_quantize_reference

torch = pytest.importorskip("torch")

DTYPES = ("int8", "uint8", "int4", "uint4")


def _inputs(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x (3, 4, 5) float32 with exact ties (on the grid of scale / 4 of channel 0) and values
    beyond every range; a power-of-two scale and an odd zero point per channel of axis 1."""
    rng = np.random.default_rng(seed)
    scale = np.array([0.125, 0.0371, 0.5, 0.0625], dtype=np.float32)
    x = rng.normal(size=(3, 4, 5)) * 40 * scale[:, None]
    x[:, 0] = np.arange(-30, 30, 4).reshape(3, 5) * scale[0] / 4  # x / scale = k + 1/2 too
    x[0, :, 0], x[1, :, 0] = 300 * scale, -300 * scale  # beyond every range
    return x.astype(np.float32), scale, np.array([1, -3, 0, 5])


def _torch_fake(x: Any, scale: Any, zero_point: Any, dtype: str, axis: int | None) -> Any:
    qmin, qmax = RANGES[dtype]
    if axis is None:
        return torch.fake_quantize_per_tensor_affine(x, float(scale), int(zero_point), qmin, qmax)
    zero = torch.as_tensor(zero_point, dtype=torch.int32)
    return torch.fake_quantize_per_channel_affine(x, torch.as_tensor(scale), zero, axis, qmin, qmax)


def _zero_point(dtype: str, zero_point: np.ndarray) -> np.ndarray:
    """The zero points moved into the range of `dtype`."""
    qmin, qmax = RANGES[dtype]
    return np.clip(zero_point + (qmin + qmax + 1) // 2, qmin, qmax)


class TestValues:
    @pytest.mark.parametrize("axis", [None, 1], ids=["per-tensor", "per-channel"])
    @pytest.mark.parametrize("dtype", DTYPES)
    def test_equals_torch(self, dtype: str, axis: int | None) -> None:
        x, scale, zero_point = _inputs()
        zero_point = _zero_point(dtype, zero_point)
        if axis is None:
            scale, zero_point = scale[0], zero_point[0]
        got = fake_quantize(x, scale, zero_point, dtype=dtype, axis=axis)
        want = _torch_fake(torch.from_numpy(x), scale, zero_point, dtype, axis).numpy()
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, want)

    @pytest.mark.parametrize("dtype", ["float32", "float64"])
    def test_agreement(self, xb, dtype: str) -> None:
        x, scale, zero_point = _inputs(1)
        for kind, axis in (("uint8", 1), ("int4", None)):
            s, z = (scale, _zero_point(kind, zero_point)) if axis else (0.125, 3)
            args = (xb.asarray(s), xb.asarray(z)) if axis else (s, z)
            got = xb.to_numpy(fake_quantize(xb.asarray(x.astype(dtype)), *args, dtype=kind,
                                            axis=axis))  # fmt: skip
            want = fake_quantize_reference(x, s, z, dtype=kind, axis=axis)
            assert got.dtype == np.dtype(dtype)
            assert_close(got, want, dtype)

    def test_the_zero_point_is_added_after_rounding(self) -> None:
        """x / scale = 0.5 with zero point 1: round(0.5) + 1 = 1 (torch's fake_quantize), where
        quantize (torch's quantize_per_tensor) rounds 1.5 to 2."""
        x = np.array([0.25, 0.75, -0.25], dtype=np.float32)
        got = fake_quantize(x, 0.5, 1)
        want = torch.fake_quantize_per_tensor_affine(torch.from_numpy(x), 0.5, 1, -128, 127)
        assert got.tolist() == want.tolist() == [0.0, 1.0, 0.0]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # torch 2.13 deprecates quint8/qint8
            q = torch.quantize_per_tensor(torch.from_numpy(x), 0.5, 1, torch.qint8)
        assert (quantize(x, 0.5, 1) - 1).tolist() == (q.int_repr() - 1).tolist() == [1, 1, -1]

    @pytest.mark.parametrize("half", ["float16", "bfloat16"])
    def test_half_precision_as_torch(self, half: str) -> None:
        x, scale, zero_point = _inputs(2)
        xh = torch.from_numpy(x).to(getattr(torch, half))
        got = fake_quantize(xh, torch.from_numpy(scale), torch.from_numpy(zero_point), axis=1)
        assert got.dtype == xh.dtype
        assert torch.equal(got, _torch_fake(xh, scale, zero_point, "int8", 1))


class TestGradient:
    """The straight-through estimator: dy/dx = 1 where round(x / scale) + zero_point is in
    [qmin, qmax], else 0; the scale and zero point get none."""

    @pytest.mark.parametrize("axis", [None, 2], ids=["per-tensor", "per-channel"])
    def test_torch_autograd_equals_torch(self, axis: int | None) -> None:
        x, scale, zero_point = _inputs(3)
        x, zero_point = x.transpose(0, 2, 1).copy(), _zero_point("uint4", zero_point)  # (3, 5, 4)
        s, z = (scale, zero_point) if axis else (scale[1], zero_point[1])
        g = torch.from_numpy(np.random.default_rng(4).normal(size=x.shape).astype(np.float32))
        ours, theirs = (torch.from_numpy(x).requires_grad_() for _ in range(2))
        args = (torch.from_numpy(s), torch.from_numpy(z)) if axis else (s, z)
        (fake_quantize(ours, *args, dtype="uint4", axis=axis) * g).sum().backward()
        (_torch_fake(theirs, s, z, "uint4", axis) * g).sum().backward()
        assert 0 < int((theirs.grad == 0).sum()) < x.size  # some values clipped, some not
        assert torch.equal(ours.grad, theirs.grad)

    def test_jax_grad_equals_torch(self) -> None:
        jax = pytest.importorskip("jax")
        x, scale, zero_point = _inputs(5)
        g = np.random.default_rng(6).normal(size=x.shape).astype(np.float32)
        theirs = torch.from_numpy(x).requires_grad_()
        (_torch_fake(theirs, scale, zero_point, "int4", 1) * torch.from_numpy(g)).sum().backward()

        def loss(v):
            return (fake_quantize(v, s_j, z_j, dtype="int4", axis=1) * g_j).sum()

        s_j, z_j, g_j = (jax.numpy.asarray(a) for a in (scale, zero_point, g))
        grad = jax.jit(jax.grad(loss))(jax.numpy.asarray(x))
        assert grad.dtype == np.float32
        np.testing.assert_array_equal(np.asarray(grad), theirs.grad.numpy())

    def test_scale_gets_no_gradient(self) -> None:
        """torch refuses to differentiate its scale; ours is cut from the graph."""
        x = torch.tensor([0.3, 2.0])
        scale = torch.tensor(0.25, requires_grad=True)
        y = fake_quantize(x, scale, 0, dtype="int4")
        assert not y.requires_grad


def test_bad_input() -> None:
    with pytest.raises(TypeError, match="`x` must have a real floating dtype, got int64"):
        fake_quantize(np.ones(3, int), 0.1, 0)
    with pytest.raises(ValueError, match="`dtype` must be one of 'int8', 'uint8', 'int4'"):
        fake_quantize(np.ones(3), 0.1, 0, dtype="uint16")
    with pytest.raises(ValueError, match=r"`zero_point` must have shape \(C,\) = \(2,\)"):
        fake_quantize(np.ones((2, 3)), np.ones(2), np.zeros(3, int), axis=0)
