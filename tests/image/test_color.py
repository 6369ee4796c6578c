"""rgb_to_grayscale and histogram_equalize (mlprims/image/color.py).

References: the float64 oracles of mlprims.testing.oracles.image, OpenCV (cv2.cvtColor
RGB2GRAY on float32 images, cv2.equalizeHist) and scikit-image's rgb2gray for what differs."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from mlprims import histogram_equalize, rgb_to_grayscale
from mlprims.testing import assert_close
from mlprims.testing.oracles.image import (
    histogram_equalize_reference,
    rgb_to_grayscale_reference,
)

JIT_COVERS_EAGER = pytest.mark.backends(exclude=("jax",), reason="jax_jit runs the same code")


def _rgb(dtype: str = "float64", seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((2, 3, 4, 5)).astype(dtype)


def _uint8(shape: tuple[int, ...], seed: int) -> np.ndarray:
    """Skewed histograms over part of the range: most levels empty, some crowded."""
    rng = np.random.default_rng(seed)
    low, high = sorted(rng.integers(0, 256, 2))
    return (low + rng.random(shape) ** rng.uniform(0.3, 3.0) * (high - low)).astype(np.uint8)


class TestRgbToGrayscale:
    @JIT_COVERS_EAGER
    def test_agreement(self, xb) -> None:
        x = _rgb()
        got = xb.to_numpy(rgb_to_grayscale(xb.asarray(x)))
        assert got.dtype == np.float64 and got.shape == (2, 1, 4, 5)
        assert_close(got, rgb_to_grayscale_reference(x), "float64")

    def test_equals_opencv(self) -> None:
        cv2 = pytest.importorskip("cv2")
        x = _rgb("float32")
        channels_last = [np.ascontiguousarray(image.transpose(1, 2, 0)) for image in x]
        want = np.stack([cv2.cvtColor(i, cv2.COLOR_RGB2GRAY) for i in channels_last])[:, None]
        assert_close(rgb_to_grayscale(x), want, "float32")

    def test_differs_from_scikit_image_rec_709(self) -> None:
        """skimage's rgb2gray weighs R, G, B by Rec. 709 (0.2125, 0.7154, 0.0721): 0.128
        more on pure green than BT.601's 0.587."""
        color = pytest.importorskip("skimage.color")
        x = _rgb()
        theirs = np.stack([color.rgb2gray(i.transpose(1, 2, 0)) for i in x])[:, None]
        rec709 = np.tensordot([0.2125, 0.7154, 0.0721], x, axes=([0], [1]))[:, None]
        assert_close(theirs, rec709, "float64")
        green = np.zeros((1, 3, 1, 1))
        green[:, 1] = 1.0
        ours = float(rgb_to_grayscale(green)[0, 0, 0, 0])
        skimage = float(color.rgb2gray(green[0].transpose(1, 2, 0))[0, 0])
        assert (ours, round(skimage - ours, 4)) == (0.587, 0.1284)

    @pytest.mark.parametrize(
        ("x", "error", "match"),
        [
            (np.zeros((1, 4, 2, 2)), ValueError, r"`x` must have 3 channels \(R, G, B\)"),
            (np.zeros((3, 2, 2)), ValueError, r"`x` must be a batch of images"),
            (np.zeros((1, 3, 2, 2), np.uint8), TypeError, r"`x` must have a real floating"),
        ],
    )
    def test_bad_input(self, x: np.ndarray, error: type, match: str) -> None:
        with pytest.raises(error, match=match):
            rgb_to_grayscale(x)


class TestHistogramEqualize:
    @JIT_COVERS_EAGER
    def test_agreement(self, xb) -> None:
        x = _uint8((2, 3, 6, 7), seed=0)
        x[1, 2] = 9  # a constant plane stays as it is
        got = xb.to_numpy(histogram_equalize(xb.asarray(x)))
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, histogram_equalize_reference(x))

    def test_equals_opencv(self) -> None:
        """Bit for bit on 60 planes, one grey level allowed only where the exact scaled level
        lies on a half (OpenCV rounds the float32 product)."""
        cv2 = pytest.importorskip("cv2")
        for seed in range(10):
            x = _uint8((2, 3, 1 + seed, 12 - seed), seed)
            if seed == 0:
                x[0, 0] = 200  # constant
                x[0, 1, 0, 0] = 3  # one pixel below a constant rest
            want = np.stack([np.stack([cv2.equalizeHist(p) for p in image]) for image in x])
            got = histogram_equalize(x)
            assert got.dtype == np.uint8
            differ = np.argwhere(got != want)
            for index in differ:
                plane = x[tuple(index[:2])]
                h0 = int((plane == plane.min()).sum())
                exact = Fraction(
                    255 * (int((plane <= x[tuple(index)]).sum()) - h0), plane.size - h0
                )
                assert (
                    exact.denominator == 2
                    and abs(int(got[tuple(index)]) - int(want[tuple(index)])) == 1
                )

    @pytest.mark.parametrize(
        ("x", "error", "match"),
        [
            (np.zeros((1, 1, 2, 2)), TypeError, r"`x` must have an unsigned integer dtype"),
            (np.zeros((1, 1, 2, 2), np.uint16), TypeError, r"`x` must be uint8 \(cv2.equal"),
            (np.zeros((2, 2), np.uint8), ValueError, r"`x` must be a batch of images"),
        ],
    )
    def test_bad_input(self, x: np.ndarray, error: type, match: str) -> None:
        with pytest.raises(error, match=match):
            histogram_equalize(x)
