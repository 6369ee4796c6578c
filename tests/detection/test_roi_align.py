"""roi_align (mlprims/detection/roi_align.py).

Reference: torchvision's CPU kernel transcribed into float64 loops
(mlprims.testing.oracles.detection.roi_align_weights_reference: the linear map from `x` to the
output, whose transpose is the gradient torchvision's backward kernel scatters). torchvision
itself does not load here. Boxes are random (no sample falls exactly on a border, where the
float32 and float64 decisions could differ) and reach past the map, include a reversed and a
sub-pixel box; the options are combined on NumPy only.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlprims import roi_align
from mlprims.testing import assert_close
from mlprims.testing.oracles.detection import roi_align_reference, roi_align_weights_reference

#: N = 2 maps of C = 3 channels, 5 x 6 pixels at stride 2 (spatial_scale 0.5), and K = 6
#: boxes (batch index, x1, y1, x2, y2) in image coordinates: inside, past the border,
#: reversed (x2 < x1), smaller than a pixel, and one over the whole map.
X = np.random.default_rng(0).normal(size=(2, 3, 5, 6))
BOXES = np.array(
    [
        [0, 1.3, 2.1, 7.7, 6.4],
        [1, -3.1, -2.2, 4.6, 3.3],
        [1, 8.2, 5.1, 14.9, 12.6],
        [0, 6.3, 1.27, 3.1, 4.43],
        [1, 5.2, 5.4, 5.6, 5.5],
        [0, -1.1, -0.7, 12.3, 10.2],
    ]
)
SCALE = 0.5


def _reference(output_size: Any = 3, **options: Any) -> np.ndarray:
    return roi_align_reference(X, BOXES, output_size, spatial_scale=SCALE, **options)


class TestRoiAlign:
    @pytest.mark.backends(exclude=("jax",), reason="jax_jit runs the same code, compiled once")
    def test_matches_the_kernel(self, xb) -> None:
        x, boxes = xb.asarray(X), xb.asarray(BOXES)
        for aligned in (False, True):
            got = roi_align(
                x, boxes, (3, 2), spatial_scale=SCALE, sampling_ratio=2, aligned=aligned
            )
            assert_close(xb.to_numpy(got), _reference((3, 2), sampling_ratio=2, aligned=aligned))
        half = roi_align(
            xb.asarray(X, "float32"), xb.asarray(BOXES, "float32"), 2, sampling_ratio=1
        )
        assert_close(xb.to_numpy(half), roi_align_reference(X, BOXES, 2, sampling_ratio=1))

    @pytest.mark.backends(
        exclude=("jax", "jax_jit"),
        reason="adaptive sampling is eager only (jax_jit's refusal is tested); eager JAX "
        "compiles each operation anew (4 s), and mlprims check runs this case there",
    )
    def test_adaptive_sampling(self, xb) -> None:
        got = roi_align(xb.asarray(X), xb.asarray(BOXES), 3, spatial_scale=SCALE, aligned=True)
        assert_close(xb.to_numpy(got), _reference(aligned=True))

    @given(
        output_size=st.sampled_from([1, 2, (2, 3)]),
        scale=st.sampled_from([1.0, 0.5, 0.3]),
        ratio=st.sampled_from([-1, 0, 1, 3]),
        aligned=st.booleans(),
    )
    def test_options(self, output_size: Any, scale: float, ratio: int, aligned: bool) -> None:
        options = {"spatial_scale": scale, "sampling_ratio": ratio, "aligned": aligned}
        got = roi_align(X, BOXES, output_size, **options)
        assert_close(got, roi_align_reference(X, BOXES, output_size, **options))

    def test_a_constant_map_inside_the_box_gives_the_constant(self) -> None:
        x = np.full((1, 2, 6, 6), 3.0)
        boxes = np.array([[0, 0.5, 1.0, 4.5, 5.0], [0, 2.0, 2.0, 3.0, 3.0]])
        got = roi_align(x, boxes, 4, aligned=True)
        np.testing.assert_allclose(got, 3.0)

    def test_no_boxes(self) -> None:
        got = roi_align(X, np.zeros((0, 5)), (2, 3))
        assert got.shape == (0, 3, 2, 3) and got.dtype == X.dtype


class TestGradients:
    """The gradient with respect to `x` is the transposed map: ``einsum(g, M)``, the scatter of
    torchvision's backward kernel; the boxes' gradient is the bilinear weights' derivative."""

    @staticmethod
    def _expected(g: np.ndarray, **options: Any) -> np.ndarray:
        weights = roi_align_weights_reference(BOXES, X.shape, 3, spatial_scale=SCALE, **options)
        return np.einsum("kcij,kijnyx->ncyx", g, weights)

    G = np.random.default_rng(1).normal(size=(6, 3, 3, 3))

    def test_torch_autograd(self) -> None:
        torch = pytest.importorskip("torch")
        x = torch.from_numpy(X).requires_grad_()
        boxes = torch.from_numpy(BOXES).requires_grad_()
        out = roi_align(x, boxes, 3, spatial_scale=SCALE, sampling_ratio=2)
        gx, gb = torch.autograd.grad((out * torch.from_numpy(self.G)).sum(), (x, boxes))
        assert_close(gx.numpy(), self._expected(self.G, sampling_ratio=2))
        # The boxes: central differences of the oracle (no sample of these boxes lies on a
        # pixel boundary, where bilinear interpolation has a kink).
        step, want = 1e-6, np.zeros_like(BOXES)
        for k, j in np.ndindex(6, 4):
            plus, minus = BOXES.copy(), BOXES.copy()
            plus[k, j + 1] += step
            minus[k, j + 1] -= step
            outputs = [
                roi_align_reference(X, b, 3, spatial_scale=SCALE, sampling_ratio=2)
                for b in (plus, minus)
            ]
            want[k, j + 1] = np.sum(self.G * (outputs[0] - outputs[1])) / (2 * step)
        assert_close(gb.numpy(), want, atol=1e-6, rtol=1e-6)

    def test_jax_grad_under_jit(self) -> None:
        jax = pytest.importorskip("jax")
        boxes = jax.numpy.asarray(BOXES)

        def loss(x: Any) -> Any:
            out = roi_align(x, boxes, 3, spatial_scale=SCALE, sampling_ratio=2, aligned=True)
            return (out * self.G).sum()

        got = jax.jit(jax.grad(loss))(X)
        assert_close(np.asarray(got), self._expected(self.G, sampling_ratio=2, aligned=True))


class TestBadInputs:
    def test_under_jax_jit_adaptive_sampling_asks_for_a_ratio(self) -> None:
        jax = pytest.importorskip("jax")
        with pytest.raises(TypeError, match=r"sampling_ratio <= 0 \(adaptive\).*fixed sampling"):
            jax.jit(lambda x, b: roi_align(x, b, 2))(X, BOXES)

    def test_shapes_and_options(self) -> None:
        with pytest.raises(ValueError, match=r"`x` must have shape \(N, C, H, W\).*\(3, 5, 6\)"):
            roi_align(X[0], BOXES, 2)
        with pytest.raises(ValueError, match=r"`boxes` must have shape \(K, 5\).*\(6, 4\)"):
            roi_align(X, BOXES[:, 1:], 2)
        with pytest.raises(ValueError, match="`output_size` must be >= 1, got 0"):
            roi_align(X, BOXES, (2, 0))
        with pytest.raises(ValueError, match=r"`output_size` must be an int or a pair"):
            roi_align(X, BOXES, (2, 2, 2))
        with pytest.raises(ValueError, match=r"`spatial_scale` must be in \(0.0, inf\)"):
            roi_align(X, BOXES, 2, spatial_scale=0.0)
        with pytest.raises(TypeError, match="`aligned` must be True or False"):
            roi_align(X, BOXES, 2, aligned=1)
        with pytest.raises(TypeError, match="`boxes` must have a real floating dtype"):
            roi_align(X, BOXES.astype(np.int64), 2)

    def test_batch_index_outside_the_batch(self) -> None:
        boxes = BOXES.copy()
        boxes[2, 0] = 2.0
        with pytest.raises(ValueError, match=r"batch indices \(column 0\) in \[0, N\) = \[0, 2\)"):
            roi_align(X, boxes, 2)
