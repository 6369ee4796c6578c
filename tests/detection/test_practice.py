"""``mlprims grade --primitive roi_align``: a correct learner file (torchvision's kernel as
Python loops) passes every property; the classic mistakes fail the property that names them.

Graded in this process through the command line with a few hypothesis examples per property
(tests/tools/test_practice.py tests the grader itself, nms's properties included; the template
of every spec too).
"""

from __future__ import annotations

import pytest

NUMPY = """\
import math

import numpy as np


def _axis(coordinate, size):
    if coordinate < -1.0 or coordinate > size:
        return None
    coordinate = max(coordinate, 0.0)
    low = int(coordinate)
    if low >= size - 1:
        return [(size - 1, 1.0)]
    return [(low, 1.0 - (coordinate - low)), (low + 1, coordinate - low)]


def roi_align(x, boxes, /, output_size, *, spatial_scale=1.0, sampling_ratio=-1, aligned=False):
    oh, ow = (output_size, output_size) if isinstance(output_size, int) else output_size
    n, c, h, w = x.shape
    out = np.zeros((len(boxes), c, oh, ow), dtype=x.dtype)
    offset = 0.5 if aligned else 0.0
    for k, (b, x1, y1, x2, y2) in enumerate(boxes.tolist()):
        x1, y1, x2, y2 = (v * spatial_scale - offset for v in (x1, y1, x2, y2))
        rw, rh = x2 - x1, y2 - y1
        if not aligned:
            rw, rh = max(rw, 1.0), max(rh, 1.0)
        gh = sampling_ratio if sampling_ratio > 0 else math.ceil(rh / oh)
        gw = sampling_ratio if sampling_ratio > 0 else math.ceil(rw / ow)
        for i in range(oh):
            for j in range(ow):
                total = np.zeros(c)
                for iy in range(gh):
                    ys = _axis(y1 + i * (rh / oh) + (iy + 0.5) * (rh / oh) / gh, h)
                    for ix in range(gw):
                        xs = _axis(x1 + j * (rw / ow) + (ix + 0.5) * (rw / ow) / gw, w)
                        if ys is None or xs is None:
                            continue
                        for r, wy in ys:
                            for q, wx in xs:
                                total += wy * wx * x[int(b), :, r, q]
                out[k, :, i, j] = total / max(gh * gw, 1)
    return out
"""

#: A mistake: the correct file, one edit, the property that must catch it, words of its hint.
WRONG = {
    "aligned-without-the-half-pixel-offset": (
        "offset = 0.5 if aligned else 0.0",
        "offset = 0.0",
        "aligned=True: the half-pixel offset",
        "subtracts half a pixel",
    ),
    "adaptive-sampling-as-two": (
        "sampling_ratio if sampling_ratio > 0 else math.ceil(rh / oh)",
        "sampling_ratio if sampling_ratio > 0 else 2",
        "adaptive sampling (sampling_ratio=-1)",
        "ceil((y2 - y1) / OH)",
    ),
    "samples-past-the-border-clamped": (
        "    if coordinate < -1.0 or coordinate > size:\n        return None\n",
        "    coordinate = min(coordinate, size - 1.0)\n",
        "boxes past the border, spatial_scale",
        "adds 0",
    ),
}


def test_a_correct_file_passes_every_property(grader) -> None:
    grader.passes_every_property(NUMPY, "roi_align")


@pytest.mark.parametrize("wrong", list(WRONG))
def test_a_classic_mistake_fails_the_property_that_names_it(grader, wrong: str) -> None:
    old, new, caught_by, hint = WRONG[wrong]
    assert old in NUMPY, "the mistake must be an edit of the correct file"
    grader.catches(NUMPY.replace(old, new, 1), "roi_align", caught_by, hint)
