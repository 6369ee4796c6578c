"""Intensity operations: RGB to grey (ITU-R BT.601, as OpenCV) and OpenCV's histogram
equalisation of uint8 images; re-exported by :mod:`mlprims`.

Shape legend: N images, C channels, H rows, W columns, P = N * C planes. The histograms of
all planes are one ``segment_sum`` (a scatter-add where the backend has one) over the ids
``plane * 256 + value``, so their shapes stay static under ``jax.jit``.
"""

from __future__ import annotations

from array_api_compat import device as device_of

from .. import backends
from .._array import Array, index_dtype, namespace
from ._common import check_image

__all__ = ["histogram_equalize", "rgb_to_grayscale"]

#: ITU-R BT.601 luma weights of R, G, B: OpenCV's ``COLOR_RGB2GRAY``.
LUMA = (0.299, 0.587, 0.114)
LEVELS = 256


def rgb_to_grayscale(x: Array, /) -> Array:
    r"""The luma of RGB images: ``Y = 0.299 R + 0.587 G + 0.114 B`` (OpenCV's RGB2GRAY).

    Parameters
    ----------
    x : array, shape (N, 3, H, W)
        Real floating RGB images, channels first in the order R, G, B.

    Returns
    -------
    array, shape (N, 1, H, W)
        In the dtype of `x` (one channel kept, as torchvision's ``rgb_to_grayscale``).

    Raises
    ------
    ValueError
        `x` not (N, 3, H, W).
    TypeError
        `x` not a real floating array (convert uint8 images first: OpenCV rounds them to
        integers through fixed-point weights).

    Notes
    -----
    .. math::

        Y = 0.299 \, R + 0.587 \, G + 0.114 \, B

    The weights of ITU-R BT.601, as ``cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)`` and Pillow's
    ``convert("L")`` use them. Others differ: torchvision's ``rgb_to_grayscale`` uses
    ``0.2989, 0.587, 0.114``; scikit-image's ``rgb2gray`` uses the Rec. 709 weights
    ``0.2125, 0.7154, 0.0721`` (a green-heavier luma, about 0.13 apart on pure green).

    References
    ----------
    - https://docs.opencv.org/4.x/de/d25/imgproc_color_conversions.html#color_convert_rgb_gray
      (``COLOR_RGB2GRAY``)
    - ITU-R Recommendation BT.601, https://www.itu.int/rec/R-REC-BT.601

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> pixel = np.array([1.0, 0.5, 0.25]).reshape(1, 3, 1, 1)
    >>> round(float(mlprims.rgb_to_grayscale(pixel)[0, 0, 0, 0]), 6)  # .299 + .2935 + .0285
    0.621
    """
    xp = namespace(x, names=("x",))
    _, c, _, _ = check_image(x, "x", xp=xp)
    if c != 3:
        msg = f"`x` must have 3 channels (R, G, B) on axis 1, got shape {tuple(x.shape)}"
        raise ValueError(msg)
    r, g, b = x[:, 0:1, ...], x[:, 1:2, ...], x[:, 2:3, ...]
    return r * LUMA[0] + g * LUMA[1] + b * LUMA[2]


def histogram_equalize(x: Array, /) -> Array:
    r"""Images (uint8) with equalised histograms, each plane on its own: ``cv2.equalizeHist``.

    Parameters
    ----------
    x : array, shape (N, C, H, W), uint8
        The images; every (image, channel) plane is equalised by itself.

    Returns
    -------
    array, shape (N, C, H, W), uint8

    Raises
    ------
    ValueError
        `x` not (N, C, H, W).
    TypeError
        `x` not uint8.

    Notes
    -----
    OpenCV's formula (imgproc/src/histogram.cpp): with the histogram h of a plane of T
    pixels, its cumulative sum ``cdf`` and ``h0`` the count of its smallest value,
    ``lut[v] = round((cdf[v] - h0) * s)`` with ``s = 255 / (T - h0)``, and each pixel v
    becomes ``lut[v]``: the smallest value maps to 0, the largest to 255. As OpenCV, ``s``
    and the product are float32 and ``round`` is to nearest, halves to even (``cvRound``),
    so the result equals OpenCV's bit for bit; with exact arithmetic a value whose scaled
    level lies on a half could differ by one grey level. A constant plane is left as it is
    (OpenCV's ``dst.setTo(i)``).

    .. math::

        \operatorname{lut}(v) = \operatorname{round}\Bigl(
            255 \, \frac{\operatorname{cdf}(v) - h_0}{T - h_0} \Bigr)

    References
    ----------
    - https://docs.opencv.org/4.x/d6/dc7/group__imgproc__hist.html#ga7e54091f0c937d49bf84152a16f76d6e
      (``cv2.equalizeHist``)

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> x = np.array([[[[10, 10, 20, 40]]]], dtype=np.uint8)
    >>> mlprims.histogram_equalize(x).tolist()  # cdf - h0 = 0, 0, 1, 2 of T - h0 = 2
    [[[[0, 0, 128, 255]]]]
    """
    xp = namespace(x, names=("x",))
    n, c, h, w = check_image(x, "x", xp=xp, kinds="unsigned integer")
    if x.dtype != xp.uint8:
        msg = f"`x` must be uint8 (cv2.equalizeHist), got {x.dtype}"
        raise TypeError(msg)
    planes, total, idx = n * c, h * w, index_dtype(xp)
    device = device_of(x)
    plane = xp.reshape(xp.arange(planes, dtype=idx, device=device), (planes, 1))
    ids = xp.reshape(plane * LEVELS + xp.reshape(xp.astype(x, idx), (planes, total)), (-1,))
    ones = xp.ones(planes * total, dtype=idx, device=device)
    counts = backends.of(x).segment_sum(ones, ids, planes * LEVELS)
    cdf = xp.cumulative_sum(xp.reshape(counts, (planes, LEVELS)), axis=1)  # (P, 256)
    # the count of the smallest value: the first nonzero cumulative count
    h0 = xp.min(xp.where(cdf > 0, cdf, xp.full_like(cdf, total)), axis=1, keepdims=True)
    spread = total - h0  # (P, 1); 0 for a constant plane
    f32 = xp.float32
    safe = xp.astype(xp.where(spread > 0, spread, xp.ones_like(spread)), f32)
    scale = xp.asarray(LEVELS - 1, dtype=f32, device=device) / safe  # float32, as OpenCV
    levels = xp.round(xp.astype(cdf - h0, f32) * scale)  # halves to even, as cvRound
    lut = xp.astype(xp.clip(levels, 0, LEVELS - 1), idx)  # (P, 256)
    identity = xp.arange(LEVELS, dtype=idx, device=device)[None, :]
    lut = xp.where(spread > 0, lut, identity)  # a constant plane stays as it is
    out = xp.take(xp.reshape(lut, (-1,)), ids)
    return xp.reshape(xp.astype(out, xp.uint8), (n, c, h, w))
