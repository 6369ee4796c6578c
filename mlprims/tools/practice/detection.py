"""Properties of nms: greedy suppression by decreasing score, IoU strictly above the threshold."""

from __future__ import annotations

from typing import Any

import numpy as np

import mlprims

from ._spec import Call, Property, Spec, composite, dtypes, st

__all__ = ["SPECS"]


@composite
def _nms(
    draw: Any, *, duplicates: bool = False, threshold: float | None = None, ties: bool = False
) -> Call:
    dtype = draw(dtypes())
    n = draw(st.integers(1, 8))
    corner = st.integers(0, 8).map(float)
    size = st.integers(1, 4).map(float)
    boxes = np.array(draw(st.lists(st.tuples(corner, corner, size, size), min_size=n,
                                   max_size=n)))  # fmt: skip
    boxes[:, 2:] += boxes[:, :2]  # (x1, y1, x2, y2)
    if duplicates:
        boxes[draw(st.integers(0, n - 1))] = boxes[0]
    scores = (np.array(draw(st.permutations(range(n)))) + 1.0) / n  # distinct: no tie rule
    if ties:  # two scores: the order among equals decides which overlapping box stays
        scores = np.array(draw(st.lists(st.sampled_from([0.5, 1.0]), min_size=n, max_size=n)))
    iou = draw(st.sampled_from([0.0, 0.3, 0.5, 0.7])) if threshold is None else threshold
    return Call((boxes.astype(dtype), scores.astype(dtype), iou), {}, dtype)


#: The +1-pixel convention, (x2 - x1 + 1) * (y2 - y1 + 1): boxes that touch overlap by one
#: pixel there (IoU 1/3 > 0.3: suppressed), and a box half-covered by another has IoU 2/13 on
#: its areas alone (kept) instead of 1/2.
TOUCHING = Call(
    (np.array([[0.0, 0.0, 1, 1], [1, 0, 2, 1]]), np.array([1.0, 0.5]), 0.3), {}, "float64"
)
HALF = Call((np.array([[0.0, 0.0, 2, 2], [0, 0, 2, 1]]), np.array([1.0, 0.5]), 0.3), {}, "float64")
#: Two identical boxes with equal scores: box 0 stays, box 1 goes.
TIED = Call((np.array([[0.0, 0.0, 2.0, 2.0]] * 2), np.array([1.0, 1.0]), 0.5), {}, "float64")


NMS = Spec(
    name="nms",
    function=mlprims.nms,
    parameters=("boxes", "scores", "iou_threshold"),
    notes="Visit the boxes by decreasing score; keep a box unless its IoU with an already kept\n"
    "box is greater than `iou_threshold` (torchvision.ops.nms). IoU = area of the\n"
    "intersection / area of the union; boxes that only touch have IoU 0.",
    properties=(
        Property(
            "boxes on a small grid",
            _nms(),
            "keep boxes in decreasing score; suppress those with IoU > threshold with a kept one; "
            "a box's area is (x2 - x1) * (y2 - y1), without the old +1 pixel",
            examples=(TOUCHING, HALF),
        ),
        Property("duplicate boxes (IoU 1)", _nms(duplicates=True), "a copy of a kept box goes"),
        Property(
            "equal scores: the lower index first",
            _nms(ties=True),
            "among equal scores the box with the lower index is visited first (a stable sort "
            "by decreasing score; argsort(scores)[::-1] puts the higher index first)",
            examples=(TIED,),
        ),
        Property(
            "threshold 0: overlapping boxes go, touching ones stay",
            _nms(threshold=0.0),
            "suppress only when IoU > threshold (strictly): boxes sharing an edge have IoU 0",
        ),
    ),
)

SPECS = [NMS]
