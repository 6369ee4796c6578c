"""Resizing a batch of images as torch's ``F.interpolate`` does: nearest, bilinear, bicubic,
with or without ``align_corners`` and antialiasing; re-exported by :mod:`mlprims`.

Shape legend: N images, C channels, (H, W) in, (oH, oW) out. Every mode is separable: each
output row is a weighted sum of input rows, ``y = Mh @ x @ Mw.T`` with Mh (oH, H) and
Mw (oW, W). The weights depend on the sizes alone, so they are computed in Python from torch's
own formulas (``aten/src/ATen/native/UpSample.h`` and ``cpu/UpSampleKernel.cpp``), each row a
short window of taps; the matrices are assembled from those windows with one ``take`` and
applied with two matmuls: exact, one BLAS call per axis on every backend, and static under
``jax.jit``. An axis whose size does not change is skipped where the mode maps it to itself.
The matrices are dense, (oH, H) and (oW, W): a 4096-pixel axis doubled holds 8192 x 4096
weights, mostly zeros, which a banded gather would not.
"""

from __future__ import annotations

import math
import struct
from typing import Any

from array_api_compat import device as device_of

from .._array import (
    Array,
    Namespace,
    check_bool,
    check_choice,
    index_dtype,
    namespace,
    statistics_dtype,
)
from ._common import as_pair, check_image

__all__ = ["resize"]

MODES = ("nearest", "bilinear", "bicubic")
CUBIC_A = -0.75  # torch's bicubic (OpenCV's INTER_CUBIC); its antialiased bicubic uses -0.5


def resize(
    x: Array,
    /,
    size: Any,
    *,
    mode: str = "nearest",
    align_corners: bool = False,
    antialias: bool = False,
) -> Array:
    r"""Images resized to `size`: ``torch.nn.functional.interpolate(x, size, mode=...)``.

    Parameters
    ----------
    x : array, shape (N, C, H, W)
        Real floating images, channels first.
    size : int or pair of int
        (oH, oW), or one int for both, each >= 1.
    mode : {"nearest", "bilinear", "bicubic"}
        The interpolation, as torch names it.
    align_corners : bool
        bilinear and bicubic only: map the centres of the corner pixels onto each other
        (``src = dst * (H - 1) / (oH - 1)``) instead of the pixel areas (half-pixel centres,
        ``src = (dst + 0.5) * H / oH - 0.5``, the default).
    antialias : bool
        bilinear and bicubic only: torch's antialiased kernels (Pillow's), which widen the
        filter by the downsampling factor so that every input pixel contributes.

    Returns
    -------
    array, shape (N, C, oH, oW)
        In the dtype of `x`.

    Raises
    ------
    ValueError
        `x` not (N, C, H, W), a size below 1, an unknown `mode`, or `align_corners` /
        `antialias` with mode "nearest" (torch refuses them too).
    TypeError
        `x` not a real floating array, `size` not ints, an option not a bool.

    Notes
    -----
    Per axis of n pixels resized to m, with ``s = n / m`` (``(n - 1) / (m - 1)`` with
    `align_corners`, 0 when m = 1), output pixel i reads:

    * nearest: ``x[min(floor(i * s), n - 1)]``, torch's legacy "nearest" (OpenCV's
      INTER_NEAREST), with ``i * s`` rounded to float32 as torch computes it;
    * bilinear: ``src = s * (i + 0.5) - 0.5`` clipped at 0 (``s * i`` with `align_corners`),
      ``i0 = floor(src)``, ``t = src - i0``, ``(1 - t) x[i0] + t x[min(i0 + 1, n - 1)]``;
    * bicubic: the same ``src`` unclipped and the taps ``x[clip(i0 - 1 .. i0 + 2, 0, n - 1)]``
      weighted by Keys' cubic convolution with ``a = -0.75`` (torch's clamped border taps);
    * antialias: centre ``c = s * (i + 0.5)``, support ``h = k * max(s, 1)`` (k = 1 bilinear,
      2 bicubic), the taps ``j`` in ``[int(c - h + 0.5), int(c + h + 0.5))`` within the
      image, weighted by ``f((j - c + 0.5) / max(s, 1))`` and normalised to sum 1; f is the
      triangle, or Keys' cubic with ``a = -0.5`` (Pillow's). torch keeps the half-pixel
      centre there even with `align_corners` (only ``s`` changes), and so does this function.

    The source coordinate of output pixel i, bilinear and bicubic without `antialias`
    (bilinear clips it at 0):

    .. math::

        \text{src}_i = \begin{cases}
            \frac{n - 1}{m - 1} \, i & \text{align corners } (0 \text{ when } m = 1) \\
            \frac{n}{m} \left(i + \tfrac{1}{2}\right) - \tfrac{1}{2} & \text{otherwise (half-pixel)}
        \end{cases}

    ``jax.image.resize`` differs: its "cubic" is Keys' kernel with ``a = -0.5`` (torch and
    OpenCV use -0.75 without antialiasing), its "nearest" rounds half-pixel centres
    (``floor((i + 0.5) * s)``, torch's "nearest-exact", not this legacy "nearest"), it has no
    `align_corners`, and it antialiases by default when downsampling (``antialias=True``),
    where torch does only when asked.

    References
    ----------
    - https://pytorch.org/docs/stable/generated/torch.nn.functional.interpolate.html

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> x = np.array([[[[0.0, 1.0, 2.0, 3.0]]]])  # (1, 1, 1, 4)
    >>> mlprims.resize(x, (1, 2), mode="bilinear").tolist()  # half-pixel centres 0.5, 2.5
    [[[[0.5, 2.5]]]]
    >>> mlprims.resize(x, (1, 2), mode="bilinear", align_corners=True).tolist()
    [[[[0.0, 3.0]]]]
    >>> mlprims.resize(x, (1, 2)).tolist()  # nearest: x[floor(i * 2)]
    [[[[0.0, 2.0]]]]
    """
    xp = namespace(x, names=("x",))
    _, _, h, w = check_image(x, "x", xp=xp)
    out_h, out_w = as_pair(size, "size")
    check_choice(mode, "mode", MODES)
    check_bool(align_corners, "align_corners")
    check_bool(antialias, "antialias")
    if mode == "nearest" and (align_corners or antialias):
        option = "align_corners" if align_corners else "antialias"
        msg = f"`{option}` applies to modes 'bilinear' and 'bicubic' only, got mode={mode!r}"
        raise ValueError(msg)
    y = xp.astype(x, statistics_dtype(x.dtype, xp=xp), copy=False)  # float16: sums in float32
    windows = _windows(w, out_w, mode, align_corners, antialias)
    if windows is not None:  # along W: (N, C, H, W) @ (W, oW)
        y = y @ xp.matrix_transpose(_matrix(windows, w, like=y, xp=xp))
    windows = _windows(h, out_h, mode, align_corners, antialias)
    if windows is not None:  # along H: (oH, H) @ (N, C, H, oW)
        y = _matrix(windows, h, like=y, xp=xp) @ y
    return xp.astype(y, x.dtype, copy=False)


Windows = list[tuple[int, list[float]]]
"""Per output pixel: the first input pixel it reads and the weights of consecutive pixels."""


def _windows(n: int, m: int, mode: str, align_corners: bool, antialias: bool) -> Windows | None:
    """The taps of each of the m output pixels of an axis of n pixels, None for the identity."""
    if mode == "nearest":
        windows = [(_nearest(i, n, m), [1.0]) for i in range(m)]
    elif antialias:
        windows = [_antialiased(i, n, m, mode, align_corners) for i in range(m)]
    elif mode == "bilinear":
        if n == m:  # torch copies (compute_source_index_and_lambda)
            return None
        windows = [_bilinear(i, n, m, align_corners) for i in range(m)]
    else:
        windows = [_bicubic(i, n, m, align_corners) for i in range(m)]
    if n == m and all(start == i and taps == [1.0] for i, (start, taps) in enumerate(windows)):
        return None
    return windows


def _scale(n: int, m: int, align_corners: bool) -> float:
    """torch's ``area_pixel_compute_scale``: input pixels per output pixel."""
    if align_corners:
        return (n - 1) / (m - 1) if m > 1 else 0.0
    return n / m


def _float32(v: float) -> float:
    """`v` rounded to float32 (torch computes nearest indices in float)."""
    return float(struct.unpack("f", struct.pack("f", v))[0])


def _nearest(i: int, n: int, m: int) -> int:
    """torch's legacy nearest index ``min(floorf(i * scale), n - 1)``, the scale n / m and the
    product rounded to float32 as torch computes them (``nearest_idx``), whatever the dtype."""
    return min(math.floor(_float32(i * _float32(n / m))), n - 1)


def _source(i: int, n: int, m: int, align_corners: bool, *, cubic: bool) -> tuple[int, float]:
    """torch's ``area_pixel_compute_source_index`` and ``guard_index_and_lambda``: the input
    pixel i0 at or before output pixel i's centre and the fraction t in [0, 1] past it."""
    scale = _scale(n, m, align_corners)
    src = scale * i if align_corners else scale * (i + 0.5) - 0.5
    if not cubic and src < 0:
        src = 0.0
    i0 = min(math.floor(src), n - 1)
    return i0, min(max(src - i0, 0.0), 1.0)


def _bilinear(i: int, n: int, m: int, align_corners: bool) -> tuple[int, list[float]]:
    i0, t = _source(i, n, m, align_corners, cubic=False)
    return (i0, [1.0 - t, t]) if i0 < n - 1 else (i0, [1.0])


def _bicubic(i: int, n: int, m: int, align_corners: bool) -> tuple[int, list[float]]:
    """Four taps i0 - 1 .. i0 + 2, clamped into the image: a clamped tap adds its weight to
    the border pixel (torch's ``upsample_get_value_bounded``)."""
    i0, t = _source(i, n, m, align_corners, cubic=True)
    weights = [_keys(t + 1.0, CUBIC_A), _keys(t, CUBIC_A), _keys(1.0 - t, CUBIC_A),
               _keys(2.0 - t, CUBIC_A)]  # fmt: skip
    positions = [min(max(i0 - 1 + j, 0), n - 1) for j in range(4)]
    start = positions[0]
    taps = [0.0] * (positions[-1] - start + 1)
    for p, wt in zip(positions, weights, strict=True):
        taps[p - start] += wt
    return start, taps


def _keys(x: float, a: float) -> float:
    """Keys' cubic convolution kernel (1981) at distance x, parameter a."""
    x = abs(x)
    if x < 1.0:
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0
    if x < 2.0:
        return ((a * x - 5.0 * a) * x + 8.0 * a) * x - 4.0 * a
    return 0.0


def _antialiased(i: int, n: int, m: int, mode: str, align_corners: bool) -> tuple[int, list[float]]:
    """torch's ``_compute_indices_min_size_weights_aa`` (Pillow's resampling filter)."""
    interp = 2 if mode == "bilinear" else 4
    scale = _scale(n, m, align_corners)
    support = interp * 0.5 * scale if scale >= 1.0 else interp * 0.5
    widest = math.ceil(support) * 2 + 1
    center = scale * (i + 0.5)
    invscale = 1.0 / scale if scale >= 1.0 else 1.0
    start = max(int(center - support + 0.5), 0)  # int(): C++'s truncation toward zero
    count = min(max(min(int(center + support + 0.5), n) - start, 0), widest)
    if mode == "bilinear":
        taps = [max(0.0, 1.0 - abs((j + start - center + 0.5) * invscale)) for j in range(count)]
    else:
        taps = [_keys((j + start - center + 0.5) * invscale, -0.5) for j in range(count)]
    total = sum(taps)
    return start, [t / total for t in taps] if total != 0.0 else taps


def _matrix(windows: Windows, n: int, *, like: Array, xp: Namespace) -> Array:
    """The (m, n) matrix of `windows`: row i holds window i's taps from its first pixel on.

    Each row's taps are padded with zeros to a common width K + 1; entry (i, j) is tap
    ``j - start_i`` of row i, or the zero at K when j is outside the window: one ``take``."""
    width = max(len(taps) for _, taps in windows) + 1
    table = [t for _, taps in windows for t in (*taps, *[0.0] * (width - len(taps)))]
    device, idx = device_of(like), index_dtype(xp)
    values = xp.asarray(table, dtype=like.dtype, device=device)  # (m * (K + 1),)
    starts = xp.asarray([start for start, _ in windows], dtype=idx, device=device)
    sizes = xp.asarray([len(taps) for _, taps in windows], dtype=idx, device=device)
    offset = xp.arange(n, dtype=idx, device=device)[None, :] - starts[:, None]  # (m, n)
    inside = (offset >= 0) & (offset < sizes[:, None])
    rows = xp.arange(len(windows), dtype=idx, device=device)[:, None] * width
    at = rows + xp.where(inside, offset, width - 1)
    return xp.reshape(xp.take(values, xp.reshape(at, (-1,))), (len(windows), n))
