"""``mlprims grade --primitive resize`` and ``--primitive gaussian_blur``: correct learner files
in NumPy, torch's own F.interpolate and OpenCV's own GaussianBlur pass every property; the
classic mistakes fail the property that names them.

Graded in this process through the command line with a few hypothesis examples per property
(tests/tools/test_practice.py tests the grader itself; the template of every spec too).
"""

from __future__ import annotations

import pytest

NUMPY_RESIZE = """\
import math

import numpy as np


def _weights(n, m, mode, align_corners):
    w = np.zeros((m, n))
    if mode == "nearest":
        for i in range(m):
            w[i, min(i * n // m, n - 1)] = 1.0
        return w
    if align_corners:
        s = (n - 1) / (m - 1) if m > 1 else 0.0
    else:
        s = n / m
    for i in range(m):
        src = s * i if align_corners else s * (i + 0.5) - 0.5
        if mode == "bilinear":
            src = max(src, 0.0)
            i0 = min(math.floor(src), n - 1)
            t = src - i0
            w[i, i0] += 1 - t
            w[i, min(i0 + 1, n - 1)] += t
            continue
        i0 = math.floor(src)
        t, a = src - i0, -0.75
        for k in range(-1, 3):
            d = abs(k - t)
            if d < 1:
                c = ((a + 2) * d - (a + 3)) * d * d + 1
            else:
                c = ((a * d - 5 * a) * d + 8 * a) * d - 4 * a if d < 2 else 0.0
            w[i, min(max(i0 + k, 0), n - 1)] += c
    return w


def resize(x, size, *, mode="nearest", align_corners=False):
    out_h, out_w = (size, size) if isinstance(size, int) else size
    wh = _weights(x.shape[2], out_h, mode, align_corners)
    ww = _weights(x.shape[3], out_w, mode, align_corners)
    return np.einsum("ih,nchw,jw->ncij", wh, x, ww).astype(x.dtype)
"""

TORCH_RESIZE = """\
import torch.nn.functional as F


def resize(x, size, *, mode="nearest", align_corners=False):
    aligned = None if mode == "nearest" else align_corners
    return F.interpolate(x, size=tuple(size), mode=mode, align_corners=aligned)
"""

NUMPY_BLUR = """\
import numpy as np

TABLES = {1: [1], 3: [1, 2, 1], 5: [1, 4, 6, 4, 1], 7: [1, 3.5, 7, 9, 7, 3.5, 1],
          9: [4, 13, 30, 51, 60, 51, 30, 13, 4]}


def _kernel(k, sigma):
    if sigma <= 0 and k in TABLES:
        table = np.array(TABLES[k], dtype=np.float64)
        return table / table.sum()
    if sigma <= 0:
        sigma = 0.3 * ((k - 1) / 2 - 1) + 0.8
    d = np.arange(k) - k // 2
    g = np.exp(-(d**2) / (2 * sigma**2))
    return g / g.sum()


def gaussian_blur(x, *, kernel_size, sigma=0.0):
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    sh, sw = sigma if isinstance(sigma, (tuple, list)) else (sigma, sigma)
    kx, ky = _kernel(kw, sw), _kernel(kh, sh)
    p = np.pad(x, ((0, 0), (0, 0), (kh // 2, kh // 2), (kw // 2, kw // 2)), mode="reflect")
    h, w = x.shape[2:]
    rows = sum(kx[j] * p[:, :, :, j : j + w] for j in range(kw))
    return sum(ky[i] * rows[:, :, i : i + h] for i in range(kh)).astype(x.dtype)
"""

OPENCV_BLUR = """\
import cv2
import numpy as np


def gaussian_blur(x, *, kernel_size, sigma=0.0):
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    sh, sw = sigma if isinstance(sigma, (tuple, list)) else (sigma, sigma)
    out = np.empty_like(x)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            plane = np.ascontiguousarray(x[n, c])
            out[n, c] = cv2.GaussianBlur(plane, (kw, kh), sw, sigmaY=sh)
    return out
"""

#: A mistake: the correct file, one edit, the property that must catch it, words of its hint.
WRONG = {
    "bilinear-without-half-pixel-centres": (
        "resize",
        NUMPY_RESIZE,
        "src = s * i if align_corners else s * (i + 0.5) - 0.5",
        "src = s * i",
        "bilinear, half-pixel centres (align_corners=False)",
        "src = (dst + 0.5) * in / out - 0.5",
    ),
    "blur-kernel-not-normalised": (
        "gaussian_blur",
        NUMPY_BLUR,
        "return g / g.sum()",
        "return g / (sigma * np.sqrt(2 * np.pi))",
        "a constant image is unchanged (the kernel sums to 1)",
        "so that it sums to 1",
    ),
}


@pytest.mark.parametrize(
    ("primitive", "source", "module"),
    [
        ("resize", NUMPY_RESIZE, "numpy"),
        ("resize", TORCH_RESIZE, "torch"),
        ("gaussian_blur", NUMPY_BLUR, "numpy"),
        ("gaussian_blur", OPENCV_BLUR, "cv2"),
    ],
    ids=["resize-numpy", "resize-torch", "blur-numpy", "blur-opencv"],
)
def test_a_correct_file_passes_every_property(
    grader, primitive: str, source: str, module: str
) -> None:
    pytest.importorskip(module)
    grader.passes_every_property(source, primitive)


@pytest.mark.parametrize("wrong", list(WRONG))
def test_a_classic_mistake_fails_the_property_that_names_it(grader, wrong: str) -> None:
    primitive, source, old, new, caught_by, hint = WRONG[wrong]
    assert old in source, "the mistake must be an edit of the correct file"
    grader.catches(source.replace(old, new, 1), primitive, caught_by, hint)
