"""Object detection: boxes, the IoU family, non-maximum suppression and RoIAlign, with
torchvision's formulas (except that the IoU of two empty boxes is 0, not NaN).

=============  ===========================================================================
``boxes``      box_area, box_convert (xyxy, xywh, cxcywh), the checks on boxes
``iou``        box_iou, generalized_box_iou, distance_box_iou, complete_box_iou
``nms``        nms and batched_nms (eager: as many indices as kept boxes), nms_padded (a
               fixed length, padded with -1: compiles under jax.jit)
``roi_align``  roi_align: torchvision's CPU kernel, each bin's bilinear samples gathered and
               averaged in one batched matmul (adaptive sampling eager only)
=============  ===========================================================================
"""

from .boxes import box_area, box_convert
from .iou import box_iou, complete_box_iou, distance_box_iou, generalized_box_iou
from .nms import batched_nms, nms, nms_padded
from .roi_align import roi_align

__all__: list[str] = [
    "batched_nms",
    "box_area",
    "box_convert",
    "box_iou",
    "complete_box_iou",
    "distance_box_iou",
    "generalized_box_iou",
    "nms",
    "nms_padded",
    "roi_align",
]
