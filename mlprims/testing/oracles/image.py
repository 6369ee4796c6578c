"""Float64 NumPy oracles for :mod:`mlprims.image`, written independently of the primitives:
resize's weights tap by tap from torch's formulas (clamped taps added up in a dense matrix),
applied with one einsum; grid_sample point by point, its reflection as repeated mirroring;
the filters as 2-D correlations with NumPy's "reflect" padding (OpenCV's BORDER_REFLECT_101);
histogram equalisation as OpenCV's C loop, in float32 as OpenCV computes it. Shared by
``tests/`` and ``mlprims check``.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "gaussian_blur_reference",
    "gaussian_kernel_reference",
    "grid_sample_reference",
    "histogram_equalize_reference",
    "resize_reference",
    "resize_weights_reference",
    "rgb_to_grayscale_reference",
    "sobel_reference",
]


def _keys(d, a):
    """Keys' cubic convolution kernel at distance d."""
    d = abs(d)
    if d < 1:
        return (a + 2) * d**3 - (a + 3) * d**2 + 1
    if d < 2:
        return a * d**3 - 5 * a * d**2 + 8 * a * d - 4 * a
    return 0.0


def resize_weights_reference(n, m, *, mode, align_corners=False, antialias=False):
    """The (m, n) matrix that resizes an axis of n pixels to m, as torch's F.interpolate."""
    weights = np.zeros((m, n))
    if mode == "nearest":  # floorf(i * scale), the scale and product rounded to float32
        scale = np.float32(n) / np.float32(m)
        for i in range(m):
            weights[i, min(int(np.floor(np.float32(i * scale))), n - 1)] = 1.0
        return weights
    if align_corners:
        scale = (n - 1) / (m - 1) if m > 1 else 0.0
    else:
        scale = n / m
    if antialias:  # Pillow's filters, widened by the downsampling factor, normalised
        half = 1.0 if mode == "bilinear" else 2.0
        stretch = max(scale, 1.0)
        for i in range(m):
            center = scale * (i + 0.5)
            lo = max(int(center - half * stretch + 0.5), 0)
            hi = min(int(center + half * stretch + 0.5), n)
            hi = min(hi, lo + 2 * math.ceil(half * stretch) + 1)
            for j in range(lo, hi):
                d = (j - center + 0.5) / stretch
                weights[i, j] = max(0.0, 1 - abs(d)) if mode == "bilinear" else _keys(d, -0.5)
            if weights[i].sum() != 0:
                weights[i] /= weights[i].sum()
        return weights
    if mode == "bilinear" and n == m:
        return np.eye(n)
    for i in range(m):
        src = scale * i if align_corners else scale * (i + 0.5) - 0.5
        if mode == "bilinear":
            src = max(src, 0.0)
            i0 = min(math.floor(src), n - 1)
            t = min(max(src - i0, 0.0), 1.0)
            weights[i, i0] += 1 - t
            weights[i, min(i0 + 1, n - 1)] += t
        else:  # bicubic, a = -0.75, taps clamped into the image
            i0 = min(math.floor(src), n - 1)
            t = min(max(src - i0, 0.0), 1.0)
            for k in range(-1, 3):
                weights[i, min(max(i0 + k, 0), n - 1)] += _keys(k - t, -0.75)
    return weights


def resize_reference(x, size, *, mode="nearest", align_corners=False, antialias=False):
    """``F.interpolate(x, size, mode=...)`` for (N, C, H, W) `x`; matches ``resize``."""
    x = np.asarray(x, dtype=np.float64)
    out_h, out_w = (size, size) if isinstance(size, int) else size
    options = {"mode": mode, "align_corners": align_corners, "antialias": antialias}
    wh = resize_weights_reference(x.shape[2], out_h, **options)
    ww = resize_weights_reference(x.shape[3], out_w, **options)
    return np.einsum("ih,nchw,jw->ncij", wh, x, ww)


def _fold(u, lo, hi):
    """u mirrored about lo and hi until it lies in [lo, hi]."""
    if lo == hi:
        return lo
    while u < lo or u > hi:
        u = 2 * lo - u if u < lo else 2 * hi - u
    return u


def grid_sample_reference(x, grid, *, mode="bilinear", padding_mode="zeros", align_corners=False):
    """``F.grid_sample(x, grid, ...)`` point by point; matches ``grid_sample``."""
    x, grid = np.asarray(x, dtype=np.float64), np.asarray(grid, dtype=np.float64)
    n, c, h, w = x.shape
    out = np.zeros((n, c, grid.shape[1], grid.shape[2]))

    def coordinate(g, size):
        u = (g + 1) / 2 * (size - 1) if align_corners else ((g + 1) * size - 1) / 2
        if padding_mode == "reflection":
            u = _fold(u, 0, size - 1) if align_corners else _fold(u, -0.5, size - 0.5)
        if padding_mode != "zeros":
            u = min(max(u, 0.0), size - 1.0)
        return u

    def read(b, row, col):
        inside = 0 <= row < h and 0 <= col < w
        return x[b, :, row, col] if inside else np.zeros(c)

    for b in range(n):
        for i in range(grid.shape[1]):
            for j in range(grid.shape[2]):
                u, v = coordinate(grid[b, i, j, 0], w), coordinate(grid[b, i, j, 1], h)
                if mode == "nearest":
                    out[b, :, i, j] = read(b, int(np.rint(v)), int(np.rint(u)))
                    continue
                u0, v0 = math.floor(u), math.floor(v)
                fu, fv = u - u0, v - v0
                out[b, :, i, j] = (
                    read(b, v0, u0) * (1 - fu) * (1 - fv)
                    + read(b, v0, u0 + 1) * fu * (1 - fv)
                    + read(b, v0 + 1, u0) * (1 - fu) * fv
                    + read(b, v0 + 1, u0 + 1) * fu * fv
                )
    return out


#: OpenCV's tables for sigma <= 0 (getGaussianKernelBitExact), in 256ths.
_TABLES = {1: [256], 3: [64, 128, 64], 5: [16, 64, 96, 64, 16], 7: [8, 28, 56, 72, 56, 28, 8],
           9: [4, 13, 30, 51, 60, 51, 30, 13, 4]}  # fmt: skip


def gaussian_kernel_reference(size, sigma):
    """``cv2.getGaussianKernel(size, sigma)`` as a float64 vector."""
    if sigma <= 0 and size in _TABLES:
        return np.array(_TABLES[size], dtype=np.float64) / 256
    if sigma <= 0:
        sigma = 0.3 * ((size - 1) * 0.5 - 1) + 0.8
    d = np.arange(size) - (size - 1) / 2
    kernel = np.exp(-(d**2) / (2 * sigma**2))
    return kernel / kernel.sum()


def _correlate(x, kernel):
    """2-D correlation of every (H, W) plane with `kernel`, border reflect-101."""
    kh, kw = kernel.shape
    h, w = x.shape[-2:]
    pad = [(0, 0)] * (x.ndim - 2) + [(kh // 2, kh // 2), (kw // 2, kw // 2)]
    padded = np.pad(x, pad, mode="reflect")  # mirrored again where a pad exceeds the size
    out = np.zeros(x.shape)
    for a in range(kh):
        for b in range(kw):
            out += kernel[a, b] * padded[..., a : a + h, b : b + w]
    return out


def gaussian_blur_reference(x, *, kernel_size, sigma=0.0):
    """``cv2.GaussianBlur`` plane by plane; matches ``gaussian_blur``."""
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    sh, sw = sigma if isinstance(sigma, (tuple, list)) else (sigma, sigma)
    kernel = np.outer(gaussian_kernel_reference(kh, sh), gaussian_kernel_reference(kw, sw))
    return _correlate(np.asarray(x, dtype=np.float64), kernel)


def sobel_reference(x, *, dx=1, dy=0):
    """``cv2.Sobel(x, -1, dx, dy, ksize=3)`` plane by plane; matches ``sobel``."""
    taps = {0: [1, 2, 1], 1: [-1, 0, 1], 2: [1, -2, 1]}
    kernel = np.outer(taps[dy], taps[dx]).astype(np.float64)
    return _correlate(np.asarray(x, dtype=np.float64), kernel)


def rgb_to_grayscale_reference(x):
    """ITU-R BT.601 luma of (N, 3, H, W) RGB images, shape (N, 1, H, W)."""
    x = np.asarray(x, dtype=np.float64)
    return np.tensordot(np.array([0.299, 0.587, 0.114]), x, axes=([0], [1]))[:, None]


def histogram_equalize_reference(x):
    """``cv2.equalizeHist`` on every (H, W) plane of a uint8 (N, C, H, W) array."""
    x = np.asarray(x)
    out = np.empty_like(x)
    for index in np.ndindex(*x.shape[:2]):
        plane = x[index]
        hist = np.bincount(plane.ravel(), minlength=256)
        i = int(np.flatnonzero(hist)[0])
        if hist[i] == plane.size:
            out[index] = i
            continue
        scale = np.float32(255.0) / np.float32(plane.size - hist[i])
        lut, total = np.zeros(256, dtype=np.uint8), 0
        for v in range(i + 1, 256):
            total += int(hist[v])
            lut[v] = min(max(int(np.rint(np.float32(total) * scale)), 0), 255)
        out[index] = lut[plane]
    return out
