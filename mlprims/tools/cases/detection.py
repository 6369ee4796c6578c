"""Check cases for mlprims.detection, against the float64 oracles of
:mod:`mlprims.testing.oracles.detection` (shared with the tests).

The boxes lie on a grid of whole numbers, so every IoU is a ratio of exact integers and the
suppression decisions (IoU > threshold) are the same in float32 as in float64.
"""

from __future__ import annotations

import numpy as np

from ...detection import (
    batched_nms,
    box_area,
    box_convert,
    box_iou,
    complete_box_iou,
    distance_box_iou,
    generalized_box_iou,
    nms,
    nms_padded,
    roi_align,
)
from ...testing import Case
from ...testing.oracles.detection import (
    batched_nms_reference,
    box_area_reference,
    box_convert_reference,
    box_iou_reference,
    complete_box_iou_reference,
    distance_box_iou_reference,
    generalized_box_iou_reference,
    nms_padded_reference,
    nms_reference,
    random_boxes,
    roi_align_reference,
)

__all__ = ["CASES"]

#: The check cases of this family, in table order.
CASES: list[Case] = []

_SCALE = 5.0  # float32 ratios of areas up to 900 (CIoU: an arctan): 5x the default tolerance


def _grid_boxes(rng: np.random.Generator, n: int) -> np.ndarray:
    """`n` boxes with whole-number corners in [0, 30], a few of them empty."""
    return np.round(random_boxes(rng, n, size=30.0))


def _pair(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {"boxes1": _grid_boxes(rng, 7), "boxes2": _grid_boxes(rng, 5)}


for _name, _run, _reference in (
    ("box_iou", box_iou, box_iou_reference),
    ("generalized_box_iou", generalized_box_iou, generalized_box_iou_reference),
    ("distance_box_iou", distance_box_iou, distance_box_iou_reference),
    ("complete_box_iou", complete_box_iou, complete_box_iou_reference),
):
    CASES.append(
        Case(
            name=_name,
            make_inputs=_pair,
            run=lambda boxes1, boxes2, f=_run: f(boxes1, boxes2),
            reference=_reference,
            scale=_SCALE,
        )
    )

CASES.append(
    Case(
        name="box_area",
        make_inputs=lambda rng: {"boxes": _grid_boxes(rng, 6)},
        run=lambda boxes: box_area(boxes),
        reference=box_area_reference,
        scale=_SCALE,
    )
)
CASES.append(
    Case(
        name="box_convert(cxcywh->xywh)",
        make_inputs=lambda rng: {"boxes": rng.uniform(1.0, 5.0, size=(3, 5, 4))},
        run=lambda boxes: box_convert(boxes, "cxcywh", "xywh"),
        reference=lambda boxes: box_convert_reference(boxes, "cxcywh", "xywh"),
        scale=_SCALE,
    )
)


def _scored(rng: np.random.Generator, *, classes: bool = False) -> dict[str, np.ndarray]:
    inputs = {"boxes": _grid_boxes(rng, 40), "scores": rng.integers(0, 8, size=40) / 8}
    if classes:
        inputs["classes"] = rng.integers(0, 3, size=40)
    return inputs


CASES.append(
    Case(
        name="nms(0.3)",
        make_inputs=_scored,
        run=lambda boxes, scores: nms(boxes, scores, 0.3),
        reference=lambda boxes, scores: nms_reference(boxes, scores, 0.3),
        jit=False,  # as many indices as kept boxes: nms_padded is the jit form
    )
)
CASES.append(
    Case(
        name="nms_padded(0.3,max_output=16)",
        make_inputs=_scored,
        run=lambda boxes, scores: nms_padded(boxes, scores, 0.3, max_output=16),
        reference=lambda boxes, scores: nms_padded_reference(boxes, scores, 0.3, max_output=16),
    )
)
CASES.append(
    Case(
        name="batched_nms(0.3)",
        make_inputs=lambda rng: _scored(rng, classes=True),
        run=lambda boxes, scores, classes: batched_nms(boxes, scores, classes, 0.3),
        reference=lambda boxes, scores, classes: batched_nms_reference(boxes, scores, classes, 0.3),
        jit=False,  # as many indices as kept boxes
    )
)


def _rois(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Two 8 x 10 feature maps of 3 channels at stride 4, and 6 boxes in image coordinates
    (a 32 x 40 image), some reaching past its border."""
    corner = rng.uniform(-4.0, 36.0, size=(6, 2))
    boxes = np.concatenate([corner, corner + rng.uniform(1.0, 20.0, size=(6, 2))], axis=1)
    batch = rng.integers(0, 2, size=(6, 1)).astype(np.float64)
    return {"x": rng.normal(size=(2, 3, 8, 10)), "boxes": np.concatenate([batch, boxes], 1)}


for _ratio, _aligned in ((2, False), (2, True), (-1, True)):
    CASES.append(
        Case(
            name=f"roi_align(3x3,scale=0.25,ratio={_ratio},aligned={_aligned})",
            make_inputs=_rois,
            run=lambda x, boxes, r=_ratio, a=_aligned: roi_align(
                x, boxes, 3, spatial_scale=0.25, sampling_ratio=r, aligned=a
            ),
            reference=lambda x, boxes, r=_ratio, a=_aligned: roi_align_reference(
                x, boxes, 3, spatial_scale=0.25, sampling_ratio=r, aligned=a
            ),
            jit=_ratio > 0,  # adaptive sampling reads the largest box's sample count
        )
    )
