"""Properties of resize (torch's F.interpolate: nearest, bilinear, bicubic) and gaussian_blur
(OpenCV's GaussianBlur): half-pixel centres, corner alignment, a kernel that sums to 1."""

from __future__ import annotations

from typing import Any

import numpy as np

import mlprims

from ._spec import Call, Property, Spec, composite, dtypes, floats, st

__all__ = ["SPECS"]

HALF_PIXEL = (
    "with align_corners=False pixels are areas and their centres are mapped: "
    "src = (dst + 0.5) * in / out - 0.5, clipped at 0 (bilinear), i0 = floor(src), "
    "t = src - i0, (1 - t) x[i0] + t x[min(i0 + 1, in - 1)]; src = dst * in / out (the corners) "
    "is the classic mistake: it shifts the image by half a pixel"
)
ALIGNED = (
    "align_corners=True maps the centres of the corner pixels onto each other: "
    "src = dst * (in - 1) / (out - 1) (0 when out = 1)"
)
NEAREST = (
    "torch's legacy 'nearest' reads x[min(floor(dst * in / out), in - 1)]: no half-pixel "
    "centre, no rounding (that is 'nearest-exact')"
)
BICUBIC = (
    "bicubic: the same src as bilinear but not clipped, taps x[i0 - 1 .. i0 + 2] clamped into "
    "the image, weighted by Keys' cubic convolution with a = -0.75 (W(d) = (a + 2)|d|^3 - "
    "(a + 3)|d|^2 + 1 for |d| < 1, a|d|^3 - 5a|d|^2 + 8a|d| - 4a for 1 <= |d| < 2)"
)


@composite
def _resize(draw: Any, *, mode: str, aligned: bool = False) -> Call:
    dtype = draw(dtypes())
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    h, w = draw(st.integers(1, 6)), draw(st.integers(2, 6))
    x = draw(floats((n, c, h, w), dtype))
    # the width always changes, so the mapping of coordinates matters
    size = (draw(st.integers(1, 9)), draw(st.integers(1, 9).filter(lambda m: m != w)))
    kwargs: dict[str, Any] = {"mode": mode}
    if aligned:
        kwargs["align_corners"] = True
    return Call((x, size), kwargs, dtype)


def _fixed_resize(**kwargs: Any) -> Call:
    """A 2 x 3 image doubled: every coordinate rule gives other values."""
    x = np.array([[[[1.0, -2.0, 0.5], [3.0, 0.25, -1.0]]]])
    return Call((x, (4, 6)), kwargs, "float64")


RESIZE = Spec(
    name="resize",
    function=mlprims.resize,
    parameters=("x", "size", "mode", "align_corners"),
    notes="Per axis of n pixels resized to m, with s = n / m, output pixel i reads:\n"
    "nearest: x[min(floor(i * s), n - 1)] (torch's legacy 'nearest');\n"
    "bilinear: src = s * (i + 0.5) - 0.5 clipped at 0, i0 = floor(src), t = src - i0,\n"
    "(1 - t) x[i0] + t x[min(i0 + 1, n - 1)];\n"
    "bicubic: src unclipped, taps x[clip(i0 - 1 .. i0 + 2, 0, n - 1)] weighted by Keys'\n"
    "cubic convolution with a = -0.75.\n"
    "With align_corners (bilinear, bicubic): s = (n - 1) / (m - 1) (0 when m = 1) and\n"
    "src = s * i. The two axes are independent: resize W, then H (or the reverse).\n"
    "Matches torch.nn.functional.interpolate(x, size, mode=mode, align_corners=...).",
    properties=(
        Property("nearest (floor(dst * in / out))", _resize(mode="nearest"), NEAREST),
        Property(
            "bilinear, half-pixel centres (align_corners=False)",
            _resize(mode="bilinear"),
            HALF_PIXEL,
            examples=(_fixed_resize(mode="bilinear"),),
        ),
        Property(
            "bilinear, align_corners=True",
            _resize(mode="bilinear", aligned=True),
            ALIGNED,
            examples=(_fixed_resize(mode="bilinear", align_corners=True),),
        ),
        Property(
            "bicubic (a = -0.75, border taps clamped)",
            _resize(mode="bicubic"),
            BICUBIC,
            examples=(_fixed_resize(mode="bicubic"),),
        ),
    ),
)

NORMALISED = (
    "the kernel is normalised: K[i] = exp(-(i - r)^2 / (2 sigma^2)) / sum_j exp(-(j - r)^2 / "
    "(2 sigma^2)), so that it sums to 1 and a constant image stays constant (the 1 / "
    "(sigma sqrt(2 pi)) of the density is not enough on a truncated kernel)"
)
GAUSSIAN = (
    "a separable correlation: the 1-D kernel along W (size kW) then along H (size kH), "
    "r = k // 2; borders mirror without repeating the edge pixel (OpenCV's BORDER_REFLECT_101, "
    "NumPy's pad mode 'reflect', torch's 'reflect'), not zeros"
)
SIGMA_ZERO = (
    "sigma <= 0 takes OpenCV's kernel for the size: the tables [1], [1, 2, 1] / 4, "
    "[1, 4, 6, 4, 1] / 16, [1, 3.5, 7, 9, 7, 3.5, 1] / 32, [4, 13, 30, 51, 60, 51, 30, 13, 4] "
    "/ 256 for k <= 9, else sigma = 0.3 * ((k - 1) / 2 - 1) + 0.8"
)


@composite
def _blur(draw: Any, *, constant: bool = False, sigma_zero: bool = False) -> Call:
    dtype = draw(dtypes())
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    h, w = draw(st.integers(3, 7)), draw(st.integers(3, 7))
    if constant:
        value = draw(st.floats(-5.0, 5.0, width=32).filter(lambda v: abs(v) > 0.5))
        x = np.full((n, c, h, w), value, dtype=dtype)
    else:
        x = draw(floats((n, c, h, w), dtype))
    kernel = (draw(st.sampled_from([1, 3, 5])), draw(st.sampled_from([3, 5])))
    if sigma_zero:
        kernel = (draw(st.sampled_from([1, 3, 5, 7, 9, 11])),) * 2
        return Call((x,), {"kernel_size": kernel, "sigma": 0.0}, dtype)
    sigma = draw(st.floats(0.5, 3.0, width=32))
    return Call((x,), {"kernel_size": kernel, "sigma": sigma}, dtype)


GAUSSIAN_BLUR = Spec(
    name="gaussian_blur",
    function=mlprims.gaussian_blur,
    parameters=("x", "kernel_size", "sigma"),
    properties=(
        Property(
            "a constant image is unchanged (the kernel sums to 1)",
            _blur(constant=True),
            NORMALISED,
            examples=(Call((np.full((1, 1, 4, 5), 2.0),), {"kernel_size": 3, "sigma": 1.0}),),
        ),
        Property("sigma > 0, odd kernel sizes (kH, kW)", _blur(), GAUSSIAN),
        Property("sigma = 0: OpenCV's kernel for the size", _blur(sigma_zero=True), SIGMA_ZERO),
    ),
)

SPECS = [RESIZE, GAUSSIAN_BLUR]
