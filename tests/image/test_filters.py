"""gaussian_blur and sobel (mlprims/image/filters.py).

References: the float64 oracles of mlprims.testing.oracles.image (2-D correlations with NumPy's
"reflect" padding) and OpenCV itself (cv2.GaussianBlur, cv2.Sobel) on float images, plane by
plane."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest

from mlprims import gaussian_blur, sobel
from mlprims.testing import assert_close
from mlprims.testing.oracles.image import gaussian_blur_reference, sobel_reference

JIT_COVERS_EAGER = pytest.mark.backends(exclude=("jax",), reason="jax_jit runs the same code")


def _x(shape: tuple[int, ...] = (2, 2, 9, 7), dtype: str = "float64", seed: int = 0) -> Any:
    return np.random.default_rng(seed).random(shape).astype(dtype)


def _per_plane(function: Any, x: np.ndarray) -> np.ndarray:
    """An OpenCV function of one (H, W) plane applied to every plane of (N, C, H, W)."""
    return np.stack([np.stack([function(np.ascontiguousarray(p)) for p in image]) for image in x])


class TestGaussianBlur:
    @JIT_COVERS_EAGER
    def test_agreement(self, xb) -> None:
        x = _x()
        got = xb.to_numpy(gaussian_blur(xb.asarray(x), kernel_size=(5, 3), sigma=(1.5, 0.8)))
        assert got.dtype == np.float64 and got.shape == x.shape
        want = gaussian_blur_reference(x, kernel_size=(5, 3), sigma=(1.5, 0.8))
        assert_close(got, want, "float64")

    def test_equals_opencv(self) -> None:
        """Sigma given, OpenCV's tables (sigma 0, sizes 1 to 9), its formula (sigma 0, 11),
        a kernel wider than the image (mirrored again), float32 and float64."""
        cv2 = pytest.importorskip("cv2")
        cases = [(3, 0.0), (5, 0.0), (9, 0.0), (11, 0.0), (3, 1.3), ((5, 3), (0.7, 2.0)), (15, 3.0)]
        for (size, sigma), dtype in itertools.product(cases, ("float32", "float64")):
            (kh, kw), (sh, sw) = (
                (size, size) if isinstance(size, int) else size,
                (sigma, sigma) if isinstance(sigma, float) else sigma,
            )
            x = _x(dtype=dtype)
            want = _per_plane(
                lambda p, k=(kw, kh), s=sw, t=sh: cv2.GaussianBlur(p, k, s, sigmaY=t), x
            )
            got = gaussian_blur(x, kernel_size=size, sigma=sigma)
            assert got.dtype == np.dtype(dtype)
            assert_close(got, want, dtype)

    def test_sigma_zero_takes_opencvs_table_not_the_formula(self) -> None:
        """For k = 3, OpenCV (and so this) uses [1, 2, 1] / 4; torchvision without sigma uses
        the Gaussian of sigma = 0.3 * ((3 - 1) / 2 - 1) + 0.8 = 0.8: [0.274, 0.452, 0.274]."""
        impulse = np.zeros((1, 1, 1, 5))
        impulse[..., 2] = 1.0
        got = gaussian_blur(impulse, kernel_size=(1, 3))[0, 0, 0, 1:4]
        np.testing.assert_array_equal(got, [0.25, 0.5, 0.25])
        formula = np.exp(-0.5 * (np.arange(-1, 2) / 0.8) ** 2)
        assert np.abs(got - formula / formula.sum()).max() > 0.02

    def test_a_constant_image_is_unchanged(self) -> None:
        x = np.full((1, 2, 4, 6), 3.0)
        for size, sigma in [(5, 0.0), (7, 10.0), (13, 0.0)]:
            assert_close(gaussian_blur(x, kernel_size=size, sigma=sigma), x, "float64")

    @pytest.mark.parametrize(
        ("x", "options", "error", "match"),
        [
            (np.zeros((4, 4)), {"kernel_size": 3}, ValueError, r"`x` must be a batch of images"),
            (np.zeros((1, 1, 4, 4)), {"kernel_size": 4}, ValueError, r"`kernel_size` must be odd"),
            (np.zeros((1, 1, 4, 4)), {"kernel_size": (3, 2)}, ValueError, r"must be odd"),
            (
                np.zeros((1, 1, 4, 4)),
                {"kernel_size": -3},
                ValueError,
                r"`kernel_size` must be >= 1",
            ),
            (
                np.zeros((1, 1, 4, 4)),
                {"kernel_size": 3.0},
                TypeError,
                r"`kernel_size` must be an int",
            ),
            (
                np.zeros((1, 1, 4, 4)),
                {"kernel_size": 3, "sigma": float("nan")},
                ValueError,
                "finite",
            ),
            (
                np.zeros((1, 1, 4, 4)),
                {"kernel_size": 3, "sigma": "1"},
                TypeError,
                r"`sigma` must be",
            ),
            (np.zeros((1, 1, 4, 4), int), {"kernel_size": 3}, TypeError, r"`x` must have a real"),
        ],
    )
    def test_bad_input(self, x: np.ndarray, options: dict, error: type, match: str) -> None:
        with pytest.raises(error, match=match):
            gaussian_blur(x, **options)


class TestSobel:
    @JIT_COVERS_EAGER
    def test_agreement(self, xb) -> None:
        x = _x()
        got = xb.to_numpy(sobel(xb.asarray(x), dx=2, dy=1))
        assert got.dtype == np.float64
        assert_close(got, sobel_reference(x, dx=2, dy=1), "float64")

    def test_equals_opencv(self) -> None:
        cv2 = pytest.importorskip("cv2")
        orders = [(1, 0), (0, 1), (1, 1), (2, 0), (0, 2), (2, 1), (1, 2), (2, 2)]
        for (dx, dy), dtype in itertools.product(orders, ("float32", "float64")):
            x = _x(dtype=dtype)
            want = _per_plane(lambda p, dx=dx, dy=dy: cv2.Sobel(p, -1, dx, dy, ksize=3), x)
            assert_close(sobel(x, dx=dx, dy=dy), want, dtype, scale=4.0)

    def test_the_derivative_across_the_border_is_zero(self) -> None:
        ramp = np.broadcast_to(np.arange(5.0), (1, 1, 3, 5))
        assert sobel(ramp, dx=1)[0, 0, 1].tolist() == [0.0, 8.0, 8.0, 8.0, 0.0]

    @pytest.mark.parametrize(
        ("options", "error", "match"),
        [
            ({"dx": 0, "dy": 0}, ValueError, r"must not both be 0"),
            ({"dx": 3}, ValueError, r"`dx` must be 0, 1 or 2 \(ksize 3\), got 3"),
            ({"dy": -1}, ValueError, r"`dy` must be 0, 1 or 2"),
            ({"dx": 1.0}, TypeError, r"`dx` must be an int"),
        ],
    )
    def test_bad_input(self, options: dict, error: type, match: str) -> None:
        with pytest.raises(error, match=match):
            sobel(np.zeros((1, 1, 4, 4)), **options)
        with pytest.raises(ValueError, match=r"`x` must be a batch of images"):
            sobel(np.zeros((1, 4, 4)))
