"""grid_sample (mlprims/image/sampling.py).

References: the float64 point-by-point oracle of mlprims.testing.oracles.image and
torch.nn.functional.grid_sample itself, values and gradients (torch autograd)."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest

from mlprims import grid_sample
from mlprims.testing import assert_close
from mlprims.testing.oracles.image import grid_sample_reference

torch = pytest.importorskip("torch")
F = pytest.importorskip("torch.nn.functional")

OPTIONS = [
    {"mode": mode, "padding_mode": padding, "align_corners": aligned}
    for mode, padding, aligned in itertools.product(
        ("bilinear", "nearest"), ("zeros", "border", "reflection"), (False, True)
    )
]


def _inputs(dtype: str = "float64", seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Images (2, 3, 5, 4) and a grid (2, 6, 7, 2) reaching well outside them, with the
    corners and the centres of the corner pixels (the borders of every padding rule)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(2, 3, 5, 4))
    grid = rng.uniform(-2.5, 2.5, size=(2, 6, 7, 2))
    grid[0, 0, :5] = [[-1, -1], [1, 1], [-0.75, 0.8], [0.75, -0.8], [3.5, -4.1]]
    return x.astype(dtype), grid.astype(dtype)


class TestGridSample:
    @pytest.mark.backends(exclude=("jax",), reason="jax_jit runs the same code")
    @pytest.mark.parametrize("options", [OPTIONS[2], OPTIONS[9]], ids=["bilinear", "nearest"])
    def test_agreement(self, xb, options: dict[str, Any]) -> None:
        x, grid = _inputs()
        got = xb.to_numpy(grid_sample(xb.asarray(x), xb.asarray(grid), **options))
        assert got.dtype == np.float64 and got.shape == (2, 3, 6, 7)
        assert_close(got, grid_sample_reference(x, grid, **options), "float64")

    def test_equals_torch_grid_sample(self) -> None:
        for options, dtype in itertools.product(OPTIONS, ("float32", "float64")):
            x, grid = _inputs(dtype)
            want = F.grid_sample(torch.from_numpy(x), torch.from_numpy(grid), **options)
            got = grid_sample(x, grid, **options)
            assert got.dtype == np.dtype(dtype)
            assert_close(got, want.numpy(), dtype, scale=2.0)

    def test_gradients_equal_torch_autograd(self) -> None:
        """d/dx and d/dgrid of <out, g>: torch autograd through ours against torch's own
        backward kernel; in nearest mode the grid gets none (torch: zeros)."""
        for options in OPTIONS:
            x, grid = _inputs()
            cotangent = torch.from_numpy(np.random.default_rng(1).normal(size=(2, 3, 6, 7)))
            grads = []
            for function in (F.grid_sample, grid_sample):
                xt, gt = (
                    torch.from_numpy(x).requires_grad_(),
                    torch.from_numpy(grid).requires_grad_(),
                )
                out = function(xt, gt, **options)
                dx, dgrid = torch.autograd.grad(
                    (out * cotangent).sum(), (xt, gt), allow_unused=True
                )
                grads.append((dx, torch.zeros_like(gt) if dgrid is None else dgrid))
            for ours, theirs in zip(grads[1], grads[0], strict=True):
                assert_close(ours.numpy(), theirs.numpy(), "float64", scale=10.0)

    def test_jax_gradients_equal_torch(self) -> None:
        jax = pytest.importorskip("jax")
        x, grid = _inputs()
        cotangent = np.random.default_rng(1).normal(size=(2, 3, 6, 7))
        options = {"padding_mode": "reflection", "align_corners": False}

        def loss(a: Any, g: Any) -> Any:
            return (grid_sample(a, g, **options) * cotangent).sum()

        ours = jax.jit(jax.grad(loss, (0, 1)))(x, grid)
        xt, gt = torch.from_numpy(x).requires_grad_(), torch.from_numpy(grid).requires_grad_()
        out = F.grid_sample(xt, gt, **options)
        theirs = torch.autograd.grad((out * torch.from_numpy(cotangent)).sum(), (xt, gt))
        for a, b in zip(ours, theirs, strict=True):
            assert_close(np.asarray(a), b.numpy(), "float64", scale=10.0)

    @pytest.mark.parametrize(
        ("x", "grid", "options", "error", "match"),
        [
            (np.zeros((3, 4, 4)), np.zeros((1, 2, 2, 2)), {}, ValueError, r"`x` must be a batch"),
            (np.zeros((1, 1, 4, 4)), np.zeros((1, 2, 2, 3)), {}, ValueError, r"\(N, oH, oW, 2\)"),
            (np.zeros((2, 1, 4, 4)), np.zeros((1, 2, 2, 2)), {}, ValueError, r"N = x.shape\[0\]"),
            (
                np.zeros((1, 1, 4, 4)),
                np.zeros((1, 2, 2)),
                {},
                ValueError,
                r"`grid` must have shape",
            ),
            (
                np.zeros((1, 1, 4, 4)),
                np.zeros((1, 2, 2, 2), np.float32),
                {},
                TypeError,
                r"`grid` must have the dtype of `x` \(float64\)",
            ),
            (
                np.zeros((1, 1, 4, 4)),
                np.zeros((1, 2, 2, 2)),
                {"mode": "bicubic"},
                ValueError,
                r"`mode` must be one of 'bilinear', 'nearest'",
            ),
            (
                np.zeros((1, 1, 4, 4)),
                np.zeros((1, 2, 2, 2)),
                {"padding_mode": "wrap"},
                ValueError,
                r"`padding_mode`",
            ),
        ],
    )
    def test_bad_input(
        self, x: np.ndarray, grid: np.ndarray, options: dict, error: type, match: str
    ) -> None:
        with pytest.raises(error, match=match):
            grid_sample(x, grid, **options)
