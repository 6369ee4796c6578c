"""init_cnn and cnn (mlprims/models/cnn.py).

Reference: a transcription of the classic interview network as a torch ``nn.Module`` (the
PyTorch MNIST example's convolutions), whose weights are copied into our parameters; outputs
and torch autograd gradients through ours must equal the module's. (jax.grad through ours
against torch autograd through ours: examples/train_cnn_digits.py, run by
tests/test_examples.py.)"""

from __future__ import annotations

import math

import numpy as np
import pytest

import mlprims
from mlprims import cnn, init_cnn
from mlprims.testing import assert_close

torch = pytest.importorskip("torch")
nn = pytest.importorskip("torch.nn")
F = pytest.importorskip("torch.nn.functional")

DTYPES = ("float32", "float64")


class InterviewNet(nn.Module):
    """The network as it is usually written in torch (1->10 k5, 10->20 k5, 320->10)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
        self.fc = nn.Linear(320, 10)

    def forward(self, x):
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(self.conv2(x), 2))
        return self.fc(x.view(-1, 320))


def _torch_net(dtype: str) -> InterviewNet:
    torch.manual_seed(0)
    return InterviewNet().to(getattr(torch, dtype))


def _params_of(net: InterviewNet) -> dict[str, np.ndarray]:
    """Our parameters holding the module's weights (the linear weight transposed)."""
    state = {k: v.detach().numpy() for k, v in net.state_dict().items()}
    return {
        "conv1_w": state["conv1.weight"],
        "conv1_b": state["conv1.bias"],
        "conv2_w": state["conv2.weight"],
        "conv2_b": state["conv2.bias"],
        "linear_w": state["fc.weight"].T.copy(),
        "linear_b": state["fc.bias"],
    }


def _images(n: int, size: int = 28, channels: int = 1) -> np.ndarray:
    return np.random.default_rng(0).normal(size=(n, channels, size, size))


class TestCnn:
    @pytest.mark.parametrize("dtype", DTYPES)
    def test_equals_the_torch_module(self, xb, dtype):
        net = _torch_net(dtype)
        x = _images(3).astype(dtype)
        expected = net(torch.from_numpy(x)).detach().numpy()
        params = {k: xb.asarray(v) for k, v in _params_of(net).items()}
        out = cnn(params, xb.asarray(x))
        assert out.dtype == params["conv1_w"].dtype
        assert_close(xb.to_numpy(out), expected, dtype)

    def test_torch_autograd_through_ours_equals_autograd_through_the_module(self):
        net = _torch_net("float64")
        x, y = torch.from_numpy(_images(4)), torch.tensor([0, 3, 9, 3])
        F.cross_entropy(net(x), y).backward()
        expected = {
            "conv1_w": net.conv1.weight.grad,
            "conv1_b": net.conv1.bias.grad,
            "conv2_w": net.conv2.weight.grad,
            "conv2_b": net.conv2.bias.grad,
            "linear_w": net.fc.weight.grad.T,
            "linear_b": net.fc.bias.grad,
        }
        params = {k: torch.tensor(v, requires_grad=True) for k, v in _params_of(net).items()}
        F.cross_entropy(cnn(params, x), y).backward()
        for name, p in params.items():
            assert_close(p.grad.numpy(), expected[name].numpy(), "float64")

    def test_shapes_for_other_hyper_parameters(self):  # shapes: one backend is enough
        key = mlprims.random.key(1)
        params = init_cnn(key, in_channels=3, channels=(4, 6, 8), padding=2, image_size=8)
        assert {k: tuple(v.shape) for k, v in params.items()} == {
            "conv1_w": (4, 3, 5, 5),
            "conv1_b": (4,),
            "conv2_w": (6, 4, 5, 5),
            "conv2_b": (6,),
            "conv3_w": (8, 6, 5, 5),
            "conv3_b": (8,),
            "linear_w": (8, 10),  # 8 -> 4 -> 2 -> 1: 8 channels of 1x1
            "linear_b": (10,),
        }
        out = cnn(params, _images(2, 8, 3).astype(np.float32), padding=2)
        assert tuple(out.shape) == (2, 10)
        params = init_cnn(
            key, channels=(10, 20), padding=2, image_size=8, num_classes=3, dtype="float64"
        )
        assert tuple(params["linear_w"].shape) == (20 * 2 * 2, 3)
        assert all(value.dtype == np.float64 for value in params.values())
        assert cnn(params, _images(5, 8), padding=2).shape == (5, 3)

    def test_init_draws_torchs_bounds_and_the_same_on_every_backend(self, xb):
        dtype = "float32"  # float64: test_shapes_for_other_hyper_parameters
        params = xb.to_numpy(init_cnn(mlprims.random.key(0), backend=xb.backend))
        reference = init_cnn(mlprims.random.key(0), backend="numpy")
        fan_in = {"conv1": 25, "conv2": 250, "linear": 320}
        for name, value in params.items():
            assert value.dtype == np.dtype(dtype)
            assert_close(value, reference[name], dtype)  # (XLA may fuse the affine map)
            bound = 1 / math.sqrt(fan_in[name.rsplit("_", 1)[0]])
            assert np.all(np.abs(value) <= bound)
            assert np.abs(value).max() > 0.8 * bound  # the whole interval, not a narrower one

    @pytest.mark.parametrize(
        ("x_shape", "padding", "match"),
        [
            ((2, 3, 28, 28), 0, r"`x` must have shape \(N, 1, H, W\)"),
            ((1, 28, 28), 0, r"`x` must have shape"),
            ((2, 1, 32, 32), 0, r"`x`: images of 32x32 .* 500 features"),
            ((2, 1, 28, 28), 1, r"pass the image size and padding"),
            ((2, 1, 28, 28), -1, r"`padding` must be >= 0"),
            ((2, 1, 15, 28), 0, r"images of 15x28 are too small .* after block 2"),
        ],
    )
    def test_bad_input(self, xb, x_shape, padding, match):
        params = {k: xb.asarray(v) for k, v in _params_of(_torch_net("float32")).items()}
        with pytest.raises(ValueError, match=match):
            cnn(params, xb.asarray(np.zeros(x_shape), "float32"), padding=padding)

    def test_bad_params_and_dtypes(self):
        params = _params_of(_torch_net("float32"))
        x = np.zeros((2, 1, 28, 28), np.float32)
        with pytest.raises(ValueError, match="`params` must hold conv1_w"):
            cnn({k: v for k, v in params.items() if k != "linear_b"}, x)
        with pytest.raises(TypeError, match="`params` must be a dict"):
            cnn(list(params.values()), x)
        with pytest.raises(TypeError, match="`x` must have the dtype of the parameters"):
            cnn(params, x.astype(np.float64))
        with pytest.raises(TypeError, match="`x` must have a real floating dtype"):
            cnn(params, x.astype(np.int32))

    @pytest.mark.parametrize(
        ("options", "error", "match"),
        [
            ({"image_size": 12}, ValueError, r"`image_size` 12 is too small .* after block 2"),
            ({"channels": ()}, ValueError, "`channels` must be a non-empty sequence"),
            ({"channels": (10, 0)}, ValueError, "`channels` must be >= 1"),
            ({"kernel_size": 0}, ValueError, "`kernel_size` must be >= 1"),
            ({"padding": -1}, ValueError, "`padding` must be >= 0"),
            ({"num_classes": 2.5}, TypeError, "`num_classes` must be an int"),
            ({"dtype": "int32"}, TypeError, "`dtype` must be a real floating dtype"),
        ],
    )
    def test_bad_hyper_parameters(self, options, error, match):
        with pytest.raises(error, match=match):
            init_cnn(mlprims.random.key(0), **options)
