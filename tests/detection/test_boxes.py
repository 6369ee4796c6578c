"""box_area, box_convert and the IoU family (mlprims/detection/boxes.py, iou.py).

References: the float64 pair-by-pair oracles of mlprims.testing.oracles.detection, and
torchvision's formulas transcribed in torch (torchvision itself does not load here).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from mlprims import (
    box_area,
    box_convert,
    box_iou,
    complete_box_iou,
    distance_box_iou,
    generalized_box_iou,
)
from mlprims.testing import assert_close
from mlprims.testing.oracles.detection import (
    box_area_reference,
    box_convert_reference,
    box_iou_reference,
    complete_box_iou_reference,
    distance_box_iou_reference,
    generalized_box_iou_reference,
)

IOU_FAMILY = {
    "box_iou": (box_iou, box_iou_reference),
    "generalized_box_iou": (generalized_box_iou, generalized_box_iou_reference),
    "distance_box_iou": (distance_box_iou, distance_box_iou_reference),
    "complete_box_iou": (complete_box_iou, complete_box_iou_reference),
}

#: One of each kind: overlapping, identical, nested, touching at an edge and at a corner,
#: disjoint, a point, a segment, the point again.
EDGE_BOXES = np.array(
    [
        [0.0, 0.0, 4.0, 2.0],
        [0.0, 0.0, 4.0, 2.0],  # the same box
        [1.0, 0.5, 2.0, 1.5],  # inside the first
        [4.0, 0.0, 6.0, 2.0],  # shares the edge x = 4 with the first
        [6.0, 2.0, 7.0, 3.0],  # shares a corner with the previous
        [2.0, 1.0, 5.0, 4.0],  # overlaps the first and the edge neighbour
        [9.0, 9.0, 9.0, 9.0],  # a point
        [3.0, 1.0, 3.0, 5.0],  # a vertical segment
        [9.0, 9.0, 9.0, 9.0],  # the same point
    ]
)


@st.composite
def grid_boxes(draw: Any, n: int) -> np.ndarray:
    """`n` boxes with whole-number corners in [0, 10] and sides in [0, 4] (some empty)."""
    corners = draw(hnp.arrays(np.int64, (n, 2), elements=st.integers(0, 6)))
    sides = draw(hnp.arrays(np.int64, (n, 2), elements=st.integers(0, 4)))
    return np.concatenate([corners, corners + sides], axis=1).astype(np.float64)


class TestIoUFamily:
    @pytest.mark.parametrize("name", IOU_FAMILY)
    @pytest.mark.parametrize("dtype", ["float32", "float64"])
    def test_edge_boxes_match_the_oracle(self, xb, name: str, dtype: str) -> None:
        fn, reference = IOU_FAMILY[name]
        boxes = EDGE_BOXES.astype(dtype)
        got = xb.to_numpy(fn(xb.asarray(boxes), xb.asarray(boxes[::-1].copy())))
        assert got.dtype == np.dtype(dtype)
        assert_close(got, reference(boxes, boxes[::-1]), dtype)

    @pytest.mark.parametrize("name", IOU_FAMILY)
    @given(data=st.data())
    def test_random_grid_boxes_match_the_oracle(self, xb, name: str, data: Any) -> None:
        fn, reference = IOU_FAMILY[name]
        a, b = data.draw(grid_boxes(9)), data.draw(grid_boxes(9))  # the shapes of EDGE_BOXES:
        got = xb.to_numpy(fn(xb.asarray(a), xb.asarray(b)))  # JAX compiles once for all tests
        assert_close(got, reference(a, b), "float64")

    def test_empty_boxes_give_zero_where_torchvision_gives_nan(self, xb) -> None:
        boxes = EDGE_BOXES.copy()
        boxes[7] = [3.0, 2.0, 3.0, 2.0]  # a second point, apart from the first in x and y
        x = xb.asarray(boxes)
        iou = xb.to_numpy(box_iou(x, x))
        giou = xb.to_numpy(generalized_box_iou(x, x))
        ciou = xb.to_numpy(complete_box_iou(x, x))
        assert not np.isnan(iou).any() and not np.isnan(giou).any() and not np.isnan(ciou).any()
        points = [6, 7, 8]  # 6 and 8 are the same point
        np.testing.assert_array_equal(iou[np.ix_(points, points)], np.zeros((3, 3)))
        # The box enclosing the same point twice is empty: 0; enclosing two points: -1.
        np.testing.assert_array_equal(
            giou[np.ix_(points, points)], [[0, -1, 0], [-1, 0, -1], [0, -1, 0]]
        )

    def test_invariants(self, xb) -> None:
        x = xb.asarray(EDGE_BOXES)
        iou = xb.to_numpy(box_iou(x, x))
        np.testing.assert_allclose(iou, iou.T)
        np.testing.assert_allclose(np.diag(iou), [1, 1, 1, 1, 1, 1, 0, 0, 0])  # empty: 0
        assert iou.min() >= 0 and iou.max() <= 1
        for fn in (generalized_box_iou, distance_box_iou, complete_box_iou):
            other = xb.to_numpy(fn(x, x))
            assert (other <= iou + 1e-12).all() and other.min() >= -1  # penalties only subtract
        np.testing.assert_array_equal(iou[0, 3], 0.0)  # touching at an edge: no overlap

    def test_float16_computes_in_float32(self) -> None:
        torch = pytest.importorskip("torch")
        big = np.array([[0.0, 0.0, 300.0, 300.0], [0.0, 0.0, 300.0, 150.0]], dtype="float16")
        for got in (box_iou(big, big), box_iou(torch.tensor(big), torch.tensor(big)).numpy()):
            assert got.dtype == np.float16  # the areas (90000) overflow float16; the IoU does not
            assert_close(got, box_iou_reference(big, big), "float16")


class TestTorchvisionFormulas:
    """Against torchvision's box_iou, generalized_box_iou and complete_box_iou (ops/boxes.py),
    transcribed in torch, with autograd (complete_box_iou's alpha carries no gradient)."""

    @staticmethod
    def _torchvision(name: str, b1: Any, b2: Any, eps: float = 1e-7) -> Any:
        torch = pytest.importorskip("torch")
        area1 = (b1[:, 2] - b1[:, 0]) * (b1[:, 3] - b1[:, 1])
        area2 = (b2[:, 2] - b2[:, 0]) * (b2[:, 3] - b2[:, 1])
        lt = torch.max(b1[:, None, :2], b2[:, :2])
        rb = torch.min(b1[:, None, 2:], b2[:, 2:])
        wh = (rb - lt).clamp(min=0)
        inter = wh[:, :, 0] * wh[:, :, 1]
        union = area1[:, None] + area2 - inter
        iou = inter / union
        if name == "box_iou":
            return iou
        lti = torch.min(b1[:, None, :2], b2[:, :2])
        rbi = torch.max(b1[:, None, 2:], b2[:, 2:])
        whi = (rbi - lti).clamp(min=0)
        if name == "generalized_box_iou":
            areai = whi[:, :, 0] * whi[:, :, 1]
            return iou - (areai - union) / areai
        diagonal = whi[:, :, 0] ** 2 + whi[:, :, 1] ** 2 + eps
        xp, yp = (b1[:, 0] + b1[:, 2]) / 2, (b1[:, 1] + b1[:, 3]) / 2
        xg, yg = (b2[:, 0] + b2[:, 2]) / 2, (b2[:, 1] + b2[:, 3]) / 2
        centres = (xp[:, None] - xg[None, :]) ** 2 + (yp[:, None] - yg[None, :]) ** 2
        diou = iou - centres / diagonal
        if name == "distance_box_iou":
            return diou
        w1, h1 = b1[:, None, 2] - b1[:, None, 0], b1[:, None, 3] - b1[:, None, 1]
        w2, h2 = b2[:, 2] - b2[:, 0], b2[:, 3] - b2[:, 1]
        v = (4 / (math.pi**2)) * torch.pow(torch.atan(w1 / h1) - torch.atan(w2 / h2), 2)
        with torch.no_grad():
            alpha = v / (1 - iou + v + eps)
        return diou - alpha * v

    @pytest.mark.parametrize("name", IOU_FAMILY)
    def test_values_and_gradients(self, name: str) -> None:
        torch = pytest.importorskip("torch")
        rng = np.random.default_rng(0)
        corners = rng.uniform(0, 10, size=(7, 2))
        boxes = np.concatenate([corners, corners + rng.uniform(0.5, 4, size=(7, 2))], axis=1)
        ours_in = torch.tensor(boxes, requires_grad=True)
        theirs_in = torch.tensor(boxes, requires_grad=True)
        fn = IOU_FAMILY[name][0]
        ours = fn(ours_in[:4], ours_in[4:])
        theirs = self._torchvision(name, theirs_in[:4], theirs_in[4:])
        assert_close(ours.detach().numpy(), theirs.detach().numpy(), "float64")
        weights = torch.tensor(rng.normal(size=(4, 3)))
        (ours * weights).sum().backward()
        (theirs * weights).sum().backward()
        assert_close(ours_in.grad.numpy(), theirs_in.grad.numpy(), "float64")

    def test_torchvision_gives_nan_for_two_empty_boxes(self) -> None:
        torch = pytest.importorskip("torch")
        point = torch.tensor([[1.0, 1.0, 1.0, 1.0]], dtype=torch.float64)
        assert torch.isnan(self._torchvision("box_iou", point, point)).all()
        assert box_iou(point, point).item() == 0.0


class TestBoxArea:
    def test_matches_the_oracle_on_batches(self, xb) -> None:
        for boxes in (EDGE_BOXES, EDGE_BOXES.reshape(3, 3, 4)):
            got = xb.to_numpy(box_area(xb.asarray(boxes)))
            np.testing.assert_array_equal(got, box_area_reference(boxes))


class TestBoxConvert:
    FORMATS = ("xyxy", "xywh", "cxcywh")

    @pytest.mark.parametrize("in_fmt", FORMATS)
    @pytest.mark.parametrize("out_fmt", FORMATS)
    def test_matches_the_oracle_and_round_trips(self, xb, in_fmt: str, out_fmt: str) -> None:
        boxes = np.random.default_rng(1).uniform(0.5, 5, size=(2, 3, 4))
        x = xb.asarray(boxes)
        there = box_convert(x, in_fmt, out_fmt)
        assert_close(xb.to_numpy(there), box_convert_reference(boxes, in_fmt, out_fmt), "float64")
        back = xb.to_numpy(box_convert(there, out_fmt, in_fmt))
        assert_close(back, boxes, "float64")

    def test_cxcywh_example(self, xb) -> None:
        got = box_convert(xb.asarray(np.array([[1.0, 2.0, 5.0, 4.0]])), "xyxy", "cxcywh")
        np.testing.assert_array_equal(xb.to_numpy(got), [[3.0, 3.0, 4.0, 2.0]])


class TestBadInputs:
    def test_boxes_not_n_by_4(self, xb) -> None:
        good = xb.asarray(EDGE_BOXES)
        with pytest.raises(ValueError, match=r"`boxes1` must have shape \(N, 4\).*\(9, 3\)"):
            box_iou(xb.asarray(EDGE_BOXES[:, :3]), good)
        with pytest.raises(ValueError, match=r"`boxes2` must have shape \(N, 4\)"):
            generalized_box_iou(good, xb.asarray(EDGE_BOXES.reshape(3, 3, 4)))
        with pytest.raises(ValueError, match=r"`boxes` must have shape \(\.\.\., 4\)"):
            box_area(xb.asarray(EDGE_BOXES[:, :2]))
        with pytest.raises(ValueError, match=r"`boxes` must have shape \(\.\.\., 4\)"):
            box_convert(xb.asarray(EDGE_BOXES[:, :2]), "xyxy", "xywh")

    @pytest.mark.eager_only(reason="the corner order is read from the values")
    def test_reversed_corners(self, xb) -> None:
        bad = EDGE_BOXES.copy()
        bad[2, [0, 2]] = bad[2, [2, 0]]  # x2 < x1
        with pytest.raises(ValueError, match="`boxes2` must have x1 <= x2 and y1 <= y2"):
            box_iou(xb.asarray(EDGE_BOXES), xb.asarray(bad))
        with pytest.raises(ValueError, match="`boxes` must have x1 <= x2"):
            box_area(xb.asarray(bad))

    def test_options(self, xb) -> None:
        x = xb.asarray(EDGE_BOXES)
        with pytest.raises(ValueError, match="`eps` must be in"):
            distance_box_iou(x, x, eps=-1.0)
        with pytest.raises(ValueError, match="`out_fmt` must be one of"):
            box_convert(x, "xyxy", "yxyx")
        with pytest.raises(TypeError, match="`boxes1` must have a real floating dtype"):
            box_iou(xb.asarray(EDGE_BOXES.astype(np.int64)), x)

    def test_mixed_frameworks(self) -> None:
        torch = pytest.importorskip("torch")
        with pytest.raises(TypeError, match="`boxes2` must be an array of the same framework"):
            box_iou(EDGE_BOXES, torch.tensor(EDGE_BOXES))
