"""resize (mlprims/image/resize.py).

References: the float64 oracle of mlprims.testing.oracles.image (torch's weights tap by tap,
applied with one einsum) and torch.nn.functional.interpolate itself; jax.image.resize for what
differs."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest

from mlprims import resize
from mlprims.testing import assert_close
from mlprims.testing.oracles.image import resize_reference

torch = pytest.importorskip("torch")
F = pytest.importorskip("torch.nn.functional")

JIT_COVERS_EAGER = pytest.mark.backends(exclude=("jax",), reason="jax_jit runs the same code")


def _x(shape: tuple[int, ...], dtype: str = "float64", seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=shape).astype(dtype)


def _torch(x: np.ndarray, size: Any, mode: str, **options: Any) -> np.ndarray:
    return F.interpolate(torch.from_numpy(x), size=size, mode=mode, **options).numpy()


class TestResize:
    @JIT_COVERS_EAGER
    @pytest.mark.parametrize(
        ("size", "options"),
        [
            ((8, 3), {"mode": "nearest"}),
            ((3, 2), {"mode": "bilinear", "antialias": True}),
            ((9, 11), {"mode": "bicubic", "align_corners": True}),
        ],
        ids=["nearest", "bilinear-antialias", "bicubic-align_corners"],
    )
    def test_agreement(self, xb, size: tuple[int, int], options: dict[str, Any]) -> None:
        x = _x((2, 3, 5, 7))
        got = xb.to_numpy(resize(xb.asarray(x), size, **options))
        assert got.dtype == np.float64 and got.shape == (2, 3, *size)
        assert_close(got, resize_reference(x, size, **options), "float64")

    def test_equals_torch_interpolate(self) -> None:
        """Every mode and option, up and down, odd ratios, a size of 1, both dtypes."""
        modes = [("nearest", False, False)] + [
            (mode, aligned, aa)
            for mode in ("bilinear", "bicubic")
            for aligned, aa in itertools.product([False, True], [False, True])
        ]
        for (h, w), size, dtype in itertools.product(
            [(5, 7), (1, 4)], [(3, 11), (1, 1), (12, 2), (5, 7)], ("float32", "float64")
        ):
            x = _x((2, 2, h, w), dtype)
            for mode, aligned, aa in modes:
                options = {} if mode == "nearest" else {"align_corners": aligned, "antialias": aa}
                want = _torch(x, size, mode, **options)
                got = resize(x, size, mode=mode, **options)
                assert got.dtype == np.dtype(dtype)
                assert_close(got, want, dtype, scale=2.0)

    def test_nearest_index_is_torchs_float32_product(self) -> None:
        """torch computes floor(i * scale) in float32: for 65 -> 55 some indices are one below
        the exact floor(i * 65 / 55), and so are ours, in both dtypes."""
        x = np.arange(65.0).reshape(1, 1, 1, 65)
        exact = [i * 65 // 55 for i in range(55)]
        for dtype in ("float32", "float64"):
            got = resize(x.astype(dtype), (1, 55))[0, 0, 0]
            np.testing.assert_array_equal(got, _torch(x.astype(dtype), (1, 55), "nearest")[0, 0, 0])
        assert got.astype(int).tolist() != exact

    def test_unchanged_size_is_the_identity(self) -> None:
        x = _x((1, 2, 4, 3))
        for mode in ("nearest", "bilinear"):
            np.testing.assert_array_equal(resize(x, (4, 3), mode=mode), x)

    def test_jax_image_resize_differs(self) -> None:
        """jax.image.resize's "cubic" is Keys with a = -0.5 (torch's bicubic: -0.75) and its
        "nearest" is torch's "nearest-exact" (half-pixel centres, rounded)."""
        jax = pytest.importorskip("jax")
        x = _x((1, 1, 4, 6))
        theirs = np.asarray(jax.image.resize(x, (1, 1, 8, 12), method="cubic"))
        ours = resize(x, (8, 12), mode="bicubic")
        assert np.abs(theirs - ours).max() > 1e-2
        assert_close(ours, _torch(x, (8, 12), "bicubic"), "float64")

        ramp = np.arange(3.0).reshape(1, 1, 1, 3)  # 3 -> 2: legacy floor(i * 1.5) = 0, 1
        nearest = np.asarray(jax.image.resize(ramp, (1, 1, 1, 2), method="nearest"))
        assert resize(ramp, (1, 2)).ravel().tolist() == [0.0, 1.0]
        assert nearest.ravel().tolist() == [0.0, 2.0]  # floor((i + 0.5) * 1.5) = 0, 2
        np.testing.assert_array_equal(nearest, _torch(ramp, (1, 2), "nearest-exact"))

    @pytest.mark.parametrize(
        ("args", "options", "error", "match"),
        [
            ((np.zeros((3, 4, 4)), 2), {}, ValueError, r"`x` must be a batch of images"),
            ((np.zeros((1, 1, 4, 4)), 0), {}, ValueError, r"`size` must be >= 1, got 0"),
            ((np.zeros((1, 1, 4, 4)), (2, 3, 4)), {}, ValueError, r"`size` must be an int or"),
            ((np.zeros((1, 1, 4, 4)), 2.5), {}, TypeError, r"`size` must be an int, got float"),
            ((np.zeros((1, 1, 4, 4)), 2), {"mode": "area"}, ValueError, r"`mode` must be one"),
            ((np.zeros((1, 1, 4, 4)), 2), {"align_corners": True}, ValueError, "'nearest'"),
            ((np.zeros((1, 1, 4, 4)), 2), {"antialias": True}, ValueError, r"`antialias`"),
            ((np.zeros((1, 1, 4, 4), np.uint8), 2), {}, TypeError, r"`x` must have a real"),
        ],
    )
    def test_bad_input(self, args: tuple, options: dict, error: type, match: str) -> None:
        with pytest.raises(error, match=match):
            resize(*args, **options)
