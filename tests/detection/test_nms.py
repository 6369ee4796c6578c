"""nms, batched_nms and nms_padded (mlprims/detection/nms.py).

Reference: the float64 greedy loops of mlprims.testing.oracles.detection (torchvision's rule:
visit by decreasing score, suppress IoU > threshold; equal scores lower index first).
nms and batched_nms return as many indices as they keep, so their tests are eager only; in
jax_jit mode nms_padded is traced, and a test proves that nms under jax.jit says to use it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from mlprims import batched_nms, nms, nms_padded
from mlprims.testing.oracles.detection import (
    batched_nms_reference,
    nms_padded_reference,
    nms_reference,
)

EAGER = pytest.mark.eager_only(
    reason="nms returns as many indices as it keeps, a value-dependent shape; nms_padded is "
    "the jit form (tested in jax_jit mode)"
)

#: Boxes of each kind, all with the same score 1 unless a case says otherwise.
SQUARE = [0.0, 0.0, 2.0, 2.0]
SHIFTED = [1.0, 0.0, 3.0, 2.0]  # IoU 1/3 with SQUARE
HALF = [0.0, 0.0, 2.0, 1.0]  # inside SQUARE, IoU exactly 1/2
EDGE = [2.0, 0.0, 4.0, 2.0]  # touches SQUARE along x = 2
POINT = [1.0, 1.0, 1.0, 1.0]  # inside SQUARE, empty

#: (boxes, scores, threshold, the kept indices), each case a rule of torchvision's nms.
CASES: dict[str, tuple[list[list[float]], list[float], float, list[int]]] = {
    "identical boxes, distinct scores": ([SQUARE] * 3, [0.2, 0.9, 0.5], 0.5, [1]),
    "identical boxes, equal scores: the lowest index": ([SQUARE] * 4, [1.0] * 4, 0.5, [0]),
    "ties kept in index order": ([SQUARE, EDGE, [5, 5, 6, 6], SQUARE], [1.0] * 4, 0.5, [0, 1, 2]),
    "-0.0 and 0.0 are one score": ([EDGE, SQUARE, [5, 5, 6, 6]], [-0.0, 0.0, 0.0], 0.5, [0, 1, 2]),
    "IoU equal to the threshold is kept": ([SQUARE, HALF], [1.0, 0.5], 0.5, [0, 1]),
    "IoU above the threshold is suppressed": ([SQUARE, HALF], [1.0, 0.5], 0.49, [0]),
    "threshold 0 suppresses any overlap": ([SQUARE, SHIFTED, EDGE], [3.0, 2.0, 1.0], 0.0, [0, 2]),
    "touching at an edge never overlaps": ([SQUARE, EDGE], [1.0, 2.0], 0.0, [1, 0]),
    "threshold 1 keeps every box": ([SQUARE] * 3, [0.1, 0.3, 0.2], 1.0, [1, 2, 0]),
    "an empty box is never suppressed": ([SQUARE, POINT, POINT], [2.0, 1.0, 3.0], 0.0, [2, 0, 1]),
    "a suppressed box suppresses nothing": (
        [SQUARE, SHIFTED, EDGE],
        [3.0, 2.0, 1.0],
        0.3,
        [0, 2],
    ),
}


def _case(name: str) -> tuple[np.ndarray, np.ndarray, float, list[int]]:
    """A case padded to 4 boxes (one shape: JAX compiles once) with boxes far from the others,
    scored below them: kept last, in index order."""
    boxes, scores, threshold, kept = CASES[name]
    extra = range(len(boxes), 4)
    boxes = boxes + [[10.0 + 2 * i, 10.0, 11.0 + 2 * i, 11.0] for i in extra]
    scores = scores + [-1.0] * len(extra)
    return np.array(boxes, dtype=np.float64), np.array(scores), threshold, kept + list(extra)


@st.composite
def scored_boxes(draw: Any, n: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """`n` boxes with whole-number corners (some empty, many overlapping, some identical) and
    scores from four values (many ties): every IoU is exact, the same in every backend."""
    corners = draw(hnp.arrays(np.int64, (n, 2), elements=st.integers(0, 5)))
    sides = draw(hnp.arrays(np.int64, (n, 2), elements=st.integers(0, 4)))
    boxes = np.concatenate([corners, corners + sides], axis=1).astype(np.float64)
    scores = draw(hnp.arrays(np.float64, n, elements=st.sampled_from([0.0, 0.25, 0.5, 1.0])))
    return boxes, scores


THRESHOLDS = st.sampled_from([0.0, 0.3, 0.5, 1.0])


class TestNms:
    @EAGER
    @pytest.mark.parametrize("name", CASES)
    def test_crafted_cases(self, xb, name: str) -> None:
        boxes, scores, threshold, kept = _case(name)
        np.testing.assert_array_equal(nms_reference(boxes, scores, threshold), kept)
        got = xb.to_numpy(nms(xb.asarray(boxes), xb.asarray(scores), threshold))
        np.testing.assert_array_equal(got, kept)

    @EAGER
    @given(inputs=scored_boxes(), threshold=THRESHOLDS)
    def test_matches_the_greedy_loop(self, xb, inputs: Any, threshold: float) -> None:
        boxes, scores = inputs
        got = xb.to_numpy(nms(xb.asarray(boxes), xb.asarray(scores), threshold))
        assert got.ndim == 1 and np.issubdtype(got.dtype, np.integer)
        np.testing.assert_array_equal(got, nms_reference(boxes, scores, threshold))

    @EAGER
    def test_float32_and_no_boxes(self, xb) -> None:
        boxes, scores, threshold, kept = _case("ties kept in index order")
        got = nms(xb.asarray(boxes, "float32"), xb.asarray(scores, "float32"), threshold)
        np.testing.assert_array_equal(xb.to_numpy(got), kept)
        empty = nms(xb.asarray(np.zeros((0, 4))), xb.asarray(np.zeros(0)), 0.5)
        assert xb.to_numpy(empty).shape == (0,)

    def test_under_jax_jit_points_to_nms_padded(self) -> None:
        jax = pytest.importorskip("jax")
        boxes, scores, _, _ = _case("ties kept in index order")
        with pytest.raises(TypeError, match=r"`nms` returns as many indices.*nms_padded"):
            jax.jit(lambda b, s: nms(b, s, 0.5))(boxes, scores)
        with pytest.raises(TypeError, match=r"`batched_nms`.*offset by class"):
            jax.jit(lambda b, s, c: batched_nms(b, s, c, 0.5))(boxes, scores, np.zeros(4, "i4"))


class TestNmsPadded:
    @given(inputs=scored_boxes())
    def test_matches_the_greedy_loop(self, xb, inputs: Any) -> None:
        # One threshold and length (jax.jit compiles once; nms's test covers thresholds): 6
        # slots for 10 boxes, so some draws fill them all and some leave padding.
        boxes, scores = inputs
        indices, count = xb.to_numpy(
            nms_padded(xb.asarray(boxes), xb.asarray(scores), 0.3, max_output=6)
        )
        want_indices, want_count = nms_padded_reference(boxes, scores, 0.3, max_output=6)
        np.testing.assert_array_equal(indices, want_indices)
        assert count.shape == () and int(count) == int(want_count)

    @pytest.mark.parametrize("name", ["ties kept in index order", "threshold 1 keeps every box"])
    def test_crafted_cases_padded_with_minus_one(self, xb, name: str) -> None:
        boxes, scores, threshold, kept = _case(name)
        indices, count = xb.to_numpy(
            nms_padded(xb.asarray(boxes), xb.asarray(scores), threshold, max_output=5)
        )
        np.testing.assert_array_equal(indices, kept + [-1] * (5 - len(kept)))
        assert int(count) == len(kept)

    def test_no_slot(self, xb) -> None:
        boxes, scores, _, _ = _case("ties kept in index order")
        indices, count = nms_padded(xb.asarray(boxes), xb.asarray(scores), 0.5, max_output=0)
        assert xb.to_numpy(indices).shape == (0,) and int(xb.to_numpy(count)) == 0


class TestBatchedNms:
    @EAGER
    def test_classes_never_suppress_each_other(self, xb) -> None:
        boxes = np.array([SQUARE, SQUARE, SQUARE, SHIFTED])
        scores = np.array([0.5, 0.9, 0.9, 0.7])
        classes = np.array([0, 1, 0, 1])
        got = batched_nms(xb.asarray(boxes), xb.asarray(scores), xb.asarray(classes), 0.2)
        # By score, ties lower index first: 1 and 2 (0.9, classes 1 and 0) both stay; 3
        # overlaps 1 (IoU 1/3 > 0.2, same class); 0 is the same box as 2.
        np.testing.assert_array_equal(xb.to_numpy(got), [1, 2])

    @EAGER
    @given(inputs=scored_boxes(), threshold=THRESHOLDS, data=st.data())
    def test_matches_nms_per_class(self, xb, inputs: Any, threshold: float, data: Any) -> None:
        boxes, scores = inputs
        classes = data.draw(hnp.arrays(np.int64, len(scores), elements=st.integers(-1, 2)))
        got = batched_nms(xb.asarray(boxes), xb.asarray(scores), xb.asarray(classes), threshold)
        want = batched_nms_reference(boxes, scores, classes, threshold)
        np.testing.assert_array_equal(xb.to_numpy(got), want)
        # torchvision's coordinate trick: classes shifted apart, then plain nms.
        shifted = boxes + (classes + 1)[:, None] * (boxes.max() + 1)
        np.testing.assert_array_equal(want, nms_reference(shifted, scores, threshold))


class TestBadInputs:
    def test_shapes_and_threshold(self, xb) -> None:
        boxes, scores, _, _ = _case("ties kept in index order")
        b, s = xb.asarray(boxes), xb.asarray(scores)
        with pytest.raises(ValueError, match=r"`boxes` must have shape \(N, 4\).*\(4, 3\)"):
            nms_padded(xb.asarray(boxes[:, :3]), s, 0.5, max_output=2)
        with pytest.raises(
            ValueError, match=r"`scores` must have one entry per box.*\(4\), got \(3\)"
        ):
            nms_padded(b, xb.asarray(scores[:3]), 0.5, max_output=2)
        with pytest.raises(ValueError, match=r"`iou_threshold` must be in \[0.0, inf\]"):
            nms_padded(b, s, -0.1, max_output=2)
        with pytest.raises(ValueError, match="`max_output` must be >= 0"):
            nms_padded(b, s, 0.5, max_output=-1)
        with pytest.raises(
            ValueError, match=r"`classes` must have one entry per box.*\(4\), got \(5\)"
        ):
            batched_nms(b, s, xb.asarray(np.zeros(5, dtype=np.int64)), 0.5)
        with pytest.raises(TypeError, match="`classes` must have an integer dtype"):
            batched_nms(b, s, s, 0.5)

    @EAGER
    def test_reversed_corners(self, xb) -> None:
        boxes, scores, _, _ = _case("ties kept in index order")
        boxes[1, [1, 3]] = boxes[1, [3, 1]]  # y2 < y1
        with pytest.raises(ValueError, match="`boxes` must have x1 <= x2 and y1 <= y2"):
            nms(xb.asarray(boxes), xb.asarray(scores), 0.5)
