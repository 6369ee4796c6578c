"""Properties of nms (greedy suppression by decreasing score, IoU strictly above the threshold)
and roi_align (bilinear samples averaged per bin, the half-pixel offset of aligned=True, the
adaptive sample count, samples past the border)."""

from __future__ import annotations

from typing import Any

import numpy as np

import mlprims

from ._spec import Call, Property, Spec, composite, dtypes, floats, st

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


# --- roi_align ----------------------------------------------------------------------------

#: Coordinates are multiples of 1/4, and bins and sample counts powers of two, so that every
#: sample position is exact in float32 as in float64 whatever order a learner computes it in:
#: the decisions at the borders (a sample at -1 or H is in, beyond it out) are the reference's.
#: Only the border property draws boxes past the map; adaptive sampling (counts of 3) and 3 bins
#: draw boxes of at least a pixel inside it, whose samples are never near -1 or H.
SAMPLES = (
    "each bin (OH x OW per box) averages G_h x G_w bilinear samples at the centres of a regular "
    "grid over the bin: y = y1 + i bin_h + (iy + 0.5) bin_h / G_h with bin_h = (y2 - y1) / OH; "
    "aligned=False widens boxes to at least 1 x 1 pixel"
)
ALIGNED = (
    "aligned=True subtracts half a pixel from every scaled coordinate, x1 * spatial_scale - "
    "0.5 (pixel centres at integers), and does not widen boxes smaller than a pixel"
)
ADAPTIVE = (
    "sampling_ratio <= 0 takes G_h = ceil((y2 - y1) / OH) and G_w = ceil((x2 - x1) / OW) "
    "samples per bin, for each box its own"
)
BORDER = (
    "coordinates are multiplied by spatial_scale; a sample outside [-1, H] x [-1, W] adds 0 "
    "but still counts in the average; one in [-1, 0] reads row 0, one in [H - 1, H] row H - 1"
)


@composite
def _rois(
    draw: Any, *, aligned: bool = False, adaptive: bool = False, outside: bool = False
) -> Call:
    dtype = draw(dtypes())
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    h, w = draw(st.integers(2, 5)), draw(st.integers(2, 5))
    scale = draw(st.sampled_from([1.0, 0.5])) if outside else 1.0
    reach = 8 if outside else 0  # quarter pixels past the border a box may start
    rows = []
    for _ in range(draw(st.integers(1, 3))):
        corner = []
        for extent in (w, h):  # x1 then y1, and the side along each, in quarter pixels
            if outside:
                start = draw(st.integers(-reach, 4 * extent - 1 + reach))
                side = draw(st.integers(1, 4 * extent))
            elif adaptive:  # at least a pixel
                start = draw(st.integers(0, 4 * extent - 4))
                side = draw(st.integers(4, 4 * extent - start))
            else:  # inside the map, even when widened to a pixel
                start = draw(st.integers(0, 4 * extent - 4))
                side = draw(st.integers(1, 4 * extent - start))
            corner.append((start / 4 / scale, side / 4 / scale))
        (x1, bw), (y1, bh) = corner
        rows.append([draw(st.integers(0, n - 1)), x1, y1, x1 + bw, y1 + bh])
    x = draw(floats((n, c, h, w), dtype))
    sizes = [1, 2, (2, 1), (1, 4)] + ([3, (3, 2)] if adaptive else [])
    ratio = -1 if adaptive else draw(st.sampled_from([1, 2, 4]))
    kwargs: dict[str, Any] = {"sampling_ratio": ratio}
    if aligned:
        kwargs["aligned"] = True
    if outside:
        kwargs["spatial_scale"] = scale
    return Call((x, np.array(rows, dtype=dtype), draw(st.sampled_from(sizes))), kwargs, dtype)


def _roi_call(boxes: list[list[float]], **kwargs: Any) -> Call:
    """A 1 x 1 x 3 x 4 map 0, 1, ..., 11 and `boxes`, pooled to 2 x 2."""
    x = np.arange(12.0).reshape(1, 1, 3, 4)
    return Call((x, np.array(boxes), 2), kwargs, "float64")


#: The box (0.5, 0.5)-(2.5, 2.5): aligned moves every sample half a pixel up and left.
HALF_PIXEL = _roi_call([[0, 0.5, 0.5, 2.5, 2.5]], sampling_ratio=1, aligned=True)
#: A box 3 pixels tall over 2 bins: ceil(1.5) = 2 samples per bin along y, 1 along x.
ADAPTIVE_CALL = _roi_call([[0, 0.0, 0.0, 2.0, 3.0]], sampling_ratio=-1)

ROI_ALIGN = Spec(
    name="roi_align",
    function=mlprims.roi_align,
    parameters=("x", "boxes", "output_size", "spatial_scale", "sampling_ratio", "aligned"),
    returns="array, shape (K, C, OH, OW), in the dtype of `x`.",
    parameter_docs={
        "sampling_ratio": "sampling_ratio : int\n    Samples per bin along each axis; <= 0 "
        "takes ceil(box height / OH) by\n    ceil(box width / OW), per box.",
    },
    notes="torchvision.ops.roi_align. Box k is (x1, y1, x2, y2) * spatial_scale - offset (offset\n"
    "0.5 if `aligned`; if not, 0 and boxes widened to at least 1 x 1). With G_h = G_w =\n"
    "sampling_ratio (adaptive: see above), its bin (i, j) is the mean of G_h x G_w samples\n\n"
    "    y = y1 + i bin_h + (iy + 0.5) bin_h / G_h,  x = x1 + j bin_w + (ix + 0.5) bin_w / G_w\n\n"
    "with bin_h = (y2 - y1) / OH, each sample bilinear in x[batch] from its 4 neighbouring\n"
    "pixels: a sample outside [-1, H] x [-1, W] adds 0 (and still counts), y in [-1, 0] reads\n"
    "row 0, y in [H - 1, H] row H - 1 (the same along x). The average divides by G_h G_w.",
    properties=(
        Property("sampling_ratio 1, 2 or 4 (aligned=False)", _rois(), SAMPLES),
        Property(
            "aligned=True: the half-pixel offset",
            _rois(aligned=True),
            ALIGNED,
            examples=(HALF_PIXEL,),
        ),
        Property(
            "adaptive sampling (sampling_ratio=-1)",
            _rois(adaptive=True),
            ADAPTIVE,
            examples=(ADAPTIVE_CALL,),
        ),
        Property(
            "boxes past the border, spatial_scale",
            _rois(aligned=True, outside=True),
            BORDER,
        ),
    ),
)

SPECS = [NMS, ROI_ALIGN]
