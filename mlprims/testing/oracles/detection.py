"""Float64 references for :mod:`mlprims.detection`, written independently of the primitives:
the IoU family one pair of boxes at a time in Python floats, and non-maximum suppression as
the textbook greedy loop (torchvision's CPU kernel: visit by decreasing score, drop what
overlaps a kept box), with ties in score taken lower index first; RoIAlign as torchvision's
CPU kernel, transcribed loop for loop into Python floats (:func:`roi_align_weights_reference`
builds the linear map, whose transpose is the gradient). Shared by ``tests/`` and
``mlprims check``; also :func:`random_boxes`, the inputs the checks and the benchmark use.

Two empty boxes have IoU 0 here (torchvision: NaN), as in the primitives.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "batched_nms_reference",
    "box_area_reference",
    "box_convert_reference",
    "box_iou_reference",
    "complete_box_iou_reference",
    "distance_box_iou_reference",
    "generalized_box_iou_reference",
    "nms_padded_reference",
    "nms_reference",
    "random_boxes",
    "roi_align_reference",
    "roi_align_weights_reference",
]


def random_boxes(rng: np.random.Generator, n: int, *, size: float = 100.0) -> np.ndarray:
    """`n` boxes (x1, y1, x2, y2) in float64: corners uniform in [0, size), sides up to
    ``size / 5``, so that many overlap."""
    corner = rng.uniform(0.0, size, size=(n, 2))
    sides = rng.uniform(0.0, size / 5, size=(n, 2))
    return np.concatenate([corner, corner + sides], axis=1)


def _area(box) -> float:
    x1, y1, x2, y2 = map(float, box)
    return (x2 - x1) * (y2 - y1)


def _intersection(a, b) -> float:
    inter_w = max(0.0, min(float(a[2]), float(b[2])) - max(float(a[0]), float(b[0])))
    inter_h = max(0.0, min(float(a[3]), float(b[3])) - max(float(a[1]), float(b[1])))
    return inter_w * inter_h


def _union(a, b) -> float:
    return _area(a) + _area(b) - _intersection(a, b)


def _iou(a, b) -> float:
    union = _union(a, b)
    return _intersection(a, b) / union if union > 0 else 0.0


def _enclosing(a, b) -> tuple[float, float]:
    width = max(float(a[2]), float(b[2])) - min(float(a[0]), float(b[0]))
    height = max(float(a[3]), float(b[3])) - min(float(a[1]), float(b[1]))
    return width, height


def _pairwise(f, boxes1, boxes2) -> np.ndarray:
    a = np.asarray(boxes1, dtype=np.float64)
    b = np.asarray(boxes2, dtype=np.float64)
    out = np.zeros((a.shape[0], b.shape[0]))
    for i in range(a.shape[0]):
        for j in range(b.shape[0]):
            out[i, j] = f(a[i], b[j])
    return out


def box_area_reference(boxes) -> np.ndarray:
    """``(x2 - x1) * (y2 - y1)`` of each box of (..., 4) `boxes`."""
    b = np.asarray(boxes, dtype=np.float64)
    return (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])


def box_convert_reference(boxes, in_fmt: str, out_fmt: str) -> np.ndarray:
    """Through the corners: each format's (x1, y1, x2, y2), then the wanted one."""
    b = np.asarray(boxes, dtype=np.float64)
    p, q, r, s = (b[..., k] for k in range(4))
    corners = {
        "xyxy": (p, q, r, s),
        "xywh": (p, q, p + r, q + s),
        "cxcywh": (p - r / 2, q - s / 2, p + r / 2, q + s / 2),
    }[in_fmt]
    x1, y1, x2, y2 = corners
    out = {
        "xyxy": (x1, y1, x2, y2),
        "xywh": (x1, y1, x2 - x1, y2 - y1),
        "cxcywh": ((x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1),
    }[out_fmt]
    return np.stack(out, axis=-1)


def box_iou_reference(boxes1, boxes2) -> np.ndarray:
    """Intersection over union, pair by pair; 0 when the union is empty."""
    return _pairwise(_iou, boxes1, boxes2)


def _giou(a, b) -> float:
    width, height = _enclosing(a, b)
    enclosing = width * height
    if enclosing == 0:
        return 0.0
    return _iou(a, b) - (enclosing - _union(a, b)) / enclosing


def generalized_box_iou_reference(boxes1, boxes2) -> np.ndarray:
    """GIoU = IoU - (|C| - |union|) / |C|, C the enclosing box; 0 when C is empty."""
    return _pairwise(_giou, boxes1, boxes2)


def _diou(a, b, eps: float) -> float:
    width, height = _enclosing(a, b)
    dx = (float(a[0]) + float(a[2])) / 2 - (float(b[0]) + float(b[2])) / 2
    dy = (float(a[1]) + float(a[3])) / 2 - (float(b[1]) + float(b[3])) / 2
    return _iou(a, b) - (dx * dx + dy * dy) / (width * width + height * height + eps)


def distance_box_iou_reference(boxes1, boxes2, *, eps: float = 1e-7) -> np.ndarray:
    """DIoU = IoU - d^2 / (c^2 + eps), d between the centres, c the enclosing diagonal."""
    return _pairwise(lambda a, b: _diou(a, b, eps), boxes1, boxes2)


def _aspect(box) -> float:
    """atan(w / h), taken as pi / 2 when h = 0 < w and 0 for a point (w = h = 0)."""
    w, h = float(box[2]) - float(box[0]), float(box[3]) - float(box[1])
    if h == 0:
        return math.pi / 2 if w > 0 else 0.0
    return math.atan(w / h)


def _ciou(a, b, eps: float) -> float:
    v = 4 / math.pi**2 * (_aspect(a) - _aspect(b)) ** 2
    alpha = v / (1 - _iou(a, b) + v + eps)
    return _diou(a, b, eps) - alpha * v


def complete_box_iou_reference(boxes1, boxes2, *, eps: float = 1e-7) -> np.ndarray:
    """CIoU = DIoU - alpha v, v = 4 / pi^2 (atan(w1/h1) - atan(w2/h2))^2,
    alpha = v / (1 - IoU + v + eps)."""
    return _pairwise(lambda a, b: _ciou(a, b, eps), boxes1, boxes2)


def nms_reference(boxes, scores, iou_threshold: float) -> np.ndarray:
    """Greedy NMS: by decreasing score (equal scores lower index first), keep a box unless a
    kept box overlaps it with IoU > `iou_threshold`. Returns int64 indices."""
    b = np.asarray(boxes, dtype=np.float64)
    s = [float(v) for v in np.asarray(scores)]
    order = sorted(range(len(s)), key=lambda i: (-s[i], i))
    kept: list[int] = []
    for i in order:
        if all(_iou(b[k], b[i]) <= iou_threshold for k in kept):
            kept.append(i)
    return np.asarray(kept, dtype=np.int64)


def nms_padded_reference(
    boxes, scores, iou_threshold: float, *, max_output: int
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`nms_reference` cut to `max_output` and padded with -1, and the count."""
    kept = nms_reference(boxes, scores, iou_threshold)[:max_output]
    padded = np.full(max_output, -1, dtype=np.int64)
    padded[: len(kept)] = kept
    return padded, np.asarray(len(kept), dtype=np.int64)


def batched_nms_reference(boxes, scores, classes, iou_threshold: float) -> np.ndarray:
    """:func:`nms_reference` on each class alone, the kept boxes merged by decreasing score
    (equal scores lower index first)."""
    b = np.asarray(boxes, dtype=np.float64)
    s = np.asarray(scores, dtype=np.float64)
    c = np.asarray(classes)
    kept: list[int] = []
    for label in np.unique(c):
        members = np.flatnonzero(c == label)
        kept.extend(int(members[k]) for k in nms_reference(b[members], s[members], iou_threshold))
    kept.sort(key=lambda i: (-s[i], i))
    return np.asarray(kept, dtype=np.int64)


def _sample_axis(coordinate: float, size: int) -> tuple[int, int, float, float] | None:
    """One axis of torchvision's ``pre_calc_for_bilinear_interpolate``: the low and high
    neighbours of a sample at `coordinate` and their weights, or None outside [-1, size]."""
    if not (-1.0 <= coordinate <= size):
        return None
    coordinate = max(coordinate, 0.0)
    low = int(coordinate)
    if low >= size - 1:
        high = low = size - 1
        coordinate = float(low)
    else:
        high = low + 1
    frac = coordinate - low
    return low, high, 1.0 - frac, frac


def roi_align_weights_reference(
    boxes, input_shape, output_size, *, spatial_scale=1.0, sampling_ratio=-1, aligned=False
) -> np.ndarray:
    """RoIAlign as a linear map of the input: M (K, OH, OW, N, H, W) with ``out[k, c, i, j]
    = sum_{n, y, x} M[k, i, j, n, y, x] x[n, c, y, x]``; torchvision's CPU kernel loop for loop
    (``roi_align_forward_kernel_impl``), each sample's four weights added to M instead of
    multiplied by the input. The gradient of ``sum(g * out)`` is ``einsum(g, M)``."""
    n, _, height, width = input_shape
    oh, ow = (output_size, output_size) if isinstance(output_size, int) else output_size
    rois = np.asarray(boxes, dtype=np.float64)
    weights = np.zeros((len(rois), oh, ow, n, height, width))
    offset = 0.5 if aligned else 0.0
    for k, roi in enumerate(rois):
        batch = int(roi[0])
        start_w, start_h, end_w, end_h = (float(v) * spatial_scale - offset for v in roi[1:])
        roi_w, roi_h = end_w - start_w, end_h - start_h
        if not aligned:  # force malformed boxes to be 1 x 1
            roi_w, roi_h = max(roi_w, 1.0), max(roi_h, 1.0)
        bin_h, bin_w = roi_h / oh, roi_w / ow
        grid_h = sampling_ratio if sampling_ratio > 0 else math.ceil(roi_h / oh)
        grid_w = sampling_ratio if sampling_ratio > 0 else math.ceil(roi_w / ow)
        count = max(grid_h * grid_w, 1)
        for ph in range(oh):
            for pw in range(ow):
                for iy in range(grid_h):
                    yy = start_h + ph * bin_h + (iy + 0.5) * bin_h / grid_h
                    for ix in range(grid_w):
                        xx = start_w + pw * bin_w + (ix + 0.5) * bin_w / grid_w
                        along_y, along_x = _sample_axis(yy, height), _sample_axis(xx, width)
                        if along_y is None or along_x is None:
                            continue  # outside the map: adds 0, still counted
                        y_low, y_high, hy, ly = along_y
                        x_low, x_high, hx, lx = along_x
                        cell = weights[k, ph, pw, batch]
                        cell[y_low, x_low] += hy * hx / count
                        cell[y_low, x_high] += hy * lx / count
                        cell[y_high, x_low] += ly * hx / count
                        cell[y_high, x_high] += ly * lx / count
    return weights


def roi_align_reference(
    x, boxes, output_size, *, spatial_scale=1.0, sampling_ratio=-1, aligned=False
) -> np.ndarray:
    """torchvision's ``roi_align`` (K, C, OH, OW): the map of
    :func:`roi_align_weights_reference` applied to `x` (N, C, H, W)."""
    x = np.asarray(x, dtype=np.float64)
    weights = roi_align_weights_reference(
        boxes,
        x.shape,
        output_size,
        spatial_scale=spatial_scale,
        sampling_ratio=sampling_ratio,
        aligned=aligned,
    )
    return np.einsum("kijnyx,ncyx->kcij", weights, x)
