"""Linear filters as OpenCV computes them: ``cv2.GaussianBlur`` and ``cv2.Sobel`` (3 x 3);
re-exported by :mod:`mlprims`.

Shape legend: N images, C channels, H rows, W columns; every plane is filtered on its own.
Both filters are separable: a 1-D correlation along W, then along H, each one ``take`` that
mirrors the border (OpenCV's default ``BORDER_REFLECT_101``) and one shifted slice per tap, so
a K-tap kernel costs 2K multiply-adds per pixel instead of K**2.
"""

from __future__ import annotations

import math
from typing import Any

from .._array import Array, check_int, check_number, floating_namespace, statistics_dtype
from ._common import as_pair, check_image, filter_along

__all__ = ["gaussian_blur", "sobel"]

#: OpenCV's fixed kernels for ``sigma <= 0`` and the small sizes (``getGaussianKernelBitExact``
#: in imgproc/src/smooth.dispatch.cpp): binomial-like tables, not the Gaussian of the formula.
SMALL_GAUSSIAN = {
    1: (1.0,),
    3: (0.25, 0.5, 0.25),
    5: (0.0625, 0.25, 0.375, 0.25, 0.0625),
    7: (0.03125, 0.109375, 0.21875, 0.28125, 0.21875, 0.109375, 0.03125),
    9: tuple(v / 256 for v in (4, 13, 30, 51, 60, 51, 30, 13, 4)),
}

#: ``cv2.getDerivKernels(dx, dy, 3)`` without normalisation: smoothing, first, second derivative.
SOBEL_TAPS = {0: [1.0, 2.0, 1.0], 1: [-1.0, 0.0, 1.0], 2: [1.0, -2.0, 1.0]}


def gaussian_blur(x: Array, /, *, kernel_size: Any, sigma: Any = 0.0) -> Array:
    r"""Images blurred by a Gaussian: ``cv2.GaussianBlur`` with its default border.

    Parameters
    ----------
    x : array, shape (N, C, H, W)
        Real floating images; each plane is blurred on its own.
    kernel_size : int or pair of int
        (kH, kW), or one int for both: odd and positive.
    sigma : float or pair of float
        The standard deviation (along H, along W), or one for both. A value <= 0 takes
        OpenCV's from the kernel size: its fixed tables for sizes 1 to 9, else
        ``0.3 * ((k - 1) / 2 - 1) + 0.8``.

    Returns
    -------
    array, shape (N, C, H, W)
        In the dtype of `x`.

    Raises
    ------
    ValueError
        `x` not (N, C, H, W); a kernel size that is even or below 1; a non-finite sigma.
    TypeError
        `x` not a real floating array; a size that is not an int, a sigma not a number.

    Notes
    -----
    ``y = Ky * x * Kx`` per plane, the 1-D kernels ``K[i] = exp(-(i - r)**2 / (2 sigma**2))``
    normalised to sum 1 (r = k // 2; OpenCV's ``getGaussianKernel``), applied along W then
    H with the border ``BORDER_REFLECT_101``: pixel -1 is pixel 1 (``dcb|abcd|cba``, torch's
    "reflect" padding), mirrored again for kernels wider than the image.

    OpenCV's ``sigma <= 0`` takes fixed kernels for k <= 9 (``[1, 2, 1] / 4`` for k = 3, not
    the Gaussian of sigma 0.8); torchvision's ``gaussian_blur`` without sigma uses the
    formula for every size, and so differs from OpenCV there. Compare with OpenCV on float
    images: on uint8 images it rounds through a fixed-point path of its own.

    .. math::

        K_i = \frac{e^{-(i - r)^2 / 2\sigma^2}}{\sum_j e^{-(j - r)^2 / 2\sigma^2}}, \qquad
        y = K_H \star (K_W \star x)

    References
    ----------
    - https://docs.opencv.org/4.x/d4/d86/group__imgproc__filter.html#gaabe8c836e97159a9193fb0b11ac52cf1
      (``cv2.GaussianBlur``)
    - https://docs.opencv.org/4.x/d4/d86/group__imgproc__filter.html#gac05a120c1ae92a6060dd0db190a61afa
      (``cv2.getGaussianKernel``)

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> x = np.zeros((1, 1, 1, 5)); x[..., 2] = 1.0
    >>> mlprims.gaussian_blur(x, kernel_size=(1, 3)).tolist()  # OpenCV's [1, 2, 1] / 4
    [[[[0.0, 0.25, 0.5, 0.25, 0.0]]]]
    >>> float(mlprims.gaussian_blur(np.ones((1, 1, 4, 4)), kernel_size=5, sigma=2.0).max())
    1.0
    """
    xp = floating_namespace(x)
    check_image(x, "x", xp=xp)
    sizes = as_pair(kernel_size, "kernel_size")
    if any(k % 2 == 0 for k in sizes):
        msg = f"`kernel_size` must be odd (OpenCV's GaussianBlur), got {kernel_size!r}"
        raise ValueError(msg)
    sigmas = _sigmas(sigma)
    y = xp.astype(x, statistics_dtype(x.dtype, xp=xp), copy=False)  # float16: sums in float32
    y = filter_along(y, gaussian_kernel(sizes[1], sigmas[1]), 3, xp=xp)
    y = filter_along(y, gaussian_kernel(sizes[0], sigmas[0]), 2, xp=xp)
    return xp.astype(y, x.dtype, copy=False)


def gaussian_kernel(size: int, sigma: float) -> list[float]:
    """OpenCV's 1-D Gaussian kernel of odd `size` (``cv2.getGaussianKernel``), as floats."""
    if sigma <= 0 and size in SMALL_GAUSSIAN:
        return list(SMALL_GAUSSIAN[size])
    sigma = sigma if sigma > 0 else 0.15 * size + 0.35  # = 0.3 * ((size - 1) / 2 - 1) + 0.8
    r = size // 2
    values = [math.exp(-0.5 * (i - r) ** 2 / sigma**2) for i in range(size)]
    total = math.fsum(values)
    return [v / total for v in values]


def _sigmas(sigma: Any) -> tuple[float, float]:
    """(sigma_h, sigma_w) from one number or a pair; each finite."""
    pair = tuple(sigma) if isinstance(sigma, (tuple, list)) else (sigma, sigma)
    if len(pair) != 2:
        msg = f"`sigma` must be a number or a pair (H, W), got {sigma!r}"
        raise ValueError(msg)
    values = tuple(check_number(s, "sigma") for s in pair)
    if not all(math.isfinite(s) for s in values):
        msg = f"`sigma` must be finite, got {sigma!r}"
        raise ValueError(msg)
    return values[0], values[1]


def sobel(x: Array, /, *, dx: int = 1, dy: int = 0) -> Array:
    r"""The Sobel derivative of images: ``cv2.Sobel(x, -1, dx, dy, ksize=3)``.

    Parameters
    ----------
    x : array, shape (N, C, H, W)
        Real floating images; each plane is filtered on its own.
    dx : int
        Order of the derivative along W (x, the columns): 0, 1 or 2.
    dy : int
        Order of the derivative along H (y, the rows): 0, 1 or 2; ``dx + dy >= 1``.

    Returns
    -------
    array, shape (N, C, H, W)
        In the dtype of `x`, unnormalised (OpenCV's scale 1).

    Raises
    ------
    ValueError
        `x` not (N, C, H, W); an order outside [0, 2], or ``dx = dy = 0``.
    TypeError
        `x` not a real floating array; an order that is not an int.

    Notes
    -----
    The separable 3 x 3 kernel of ``cv2.getDerivKernels(dx, dy, 3)``: along each axis
    ``[1, 2, 1]`` (order 0, smoothing), ``[-1, 0, 1]`` (order 1) or ``[1, -2, 1]`` (order 2),
    correlated (not flipped: ``dx = 1`` gives ``x[:, j + 1] - x[:, j - 1]`` smoothed along
    H), border ``BORDER_REFLECT_101`` as OpenCV's default, so the derivative across a
    border is 0. For ``dx = 1, dy = 0``:

    .. math::

        G_x = \begin{bmatrix} 1 \\ 2 \\ 1 \end{bmatrix}
            \begin{bmatrix} -1 & 0 & 1 \end{bmatrix} \star x

    References
    ----------
    - https://docs.opencv.org/4.x/d4/d86/group__imgproc__filter.html#gacea54f142e81b6758cb6f375ce782c8d
      (``cv2.Sobel``)

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> ramp = np.arange(4.0).reshape(1, 1, 1, 4)  # x[..., j] = j
    >>> mlprims.sobel(np.repeat(ramp, 3, axis=2), dx=1)[0, 0, 1].tolist()  # 4 * slope inside
    [0.0, 8.0, 8.0, 0.0]
    """
    xp = floating_namespace(x)
    check_image(x, "x", xp=xp)
    orders = [check_int(d, name) for d, name in ((dx, "dx"), (dy, "dy"))]
    for d, name in zip(orders, ("dx", "dy"), strict=True):
        if not 0 <= d <= 2:
            msg = f"`{name}` must be 0, 1 or 2 (ksize 3), got {d}"
            raise ValueError(msg)
    if orders == [0, 0]:
        msg = "`dx` and `dy` must not both be 0 (cv2.Sobel needs dx + dy >= 1)"
        raise ValueError(msg)
    y = filter_along(x, SOBEL_TAPS[orders[0]], 3, xp=xp)
    return filter_along(y, SOBEL_TAPS[orders[1]], 2, xp=xp)
