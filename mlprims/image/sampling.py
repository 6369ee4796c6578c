"""Sampling images at arbitrary points, as torch's ``F.grid_sample`` does (4-D: bilinear or
nearest, zeros / border / reflection padding); re-exported by :mod:`mlprims`.

Shape legend: N images, C channels, (H, W) in, (oH, oW) sampling points per image. Each
point is unnormalised from [-1, 1] to pixel coordinates, folded into the image by the padding
rule, and its 1 or 4 neighbours are gathered with one ``take`` each from the flattened images:
plain array operations, so torch's and JAX's autodiff give the gradients for the images and
the grid (the grid's through the bilinear weights; the neighbour indices have none).
"""

from __future__ import annotations

from typing import Any

from array_api_compat import device as device_of

from .._array import Array, Namespace, check_bool, check_choice, index_dtype, namespace, shape_str
from ._common import check_image

__all__ = ["grid_sample"]

MODES = ("bilinear", "nearest")
PADDING_MODES = ("zeros", "border", "reflection")


def grid_sample(
    x: Array,
    grid: Array,
    /,
    *,
    mode: str = "bilinear",
    padding_mode: str = "zeros",
    align_corners: bool = False,
) -> Array:
    r"""Images sampled at the points of `grid`: ``torch.nn.functional.grid_sample`` (4-D).

    Parameters
    ----------
    x : array, shape (N, C, H, W)
        Real floating images.
    grid : array, shape (N, oH, oW, 2)
        Sampling points in the dtype of `x`: ``grid[..., 0]`` is x (along W), ``grid[..., 1]``
        is y (along H), both normalised so that -1 and 1 are the left/top and right/bottom
        edges of the image (the corner pixels' centres with `align_corners`).
    mode : {"bilinear", "nearest"}
        Interpolate the 4 neighbours, or take the nearest pixel (halves round to even).
    padding_mode : {"zeros", "border", "reflection"}
        Points outside the image read 0, the nearest border pixel, or the image mirrored at
        its edges.
    align_corners : bool
        Whether -1 and 1 are the centres of the corner pixels (True) or their outer edges.

    Returns
    -------
    array, shape (N, C, oH, oW)
        In the dtype of `x`.

    Raises
    ------
    ValueError
        `x` not (N, C, H, W); `grid` not (N, oH, oW, 2) with the N of `x`; an unknown mode.
    TypeError
        A non-floating array, `x` and `grid` of different dtypes or frameworks.

    Notes
    -----
    A coordinate g along an axis of n pixels becomes ``u = (g + 1) / 2 * (n - 1)`` with
    `align_corners`, else ``u = ((g + 1) * n - 1) / 2``; "border" clips u to [0, n - 1];
    "reflection" mirrors it about -0.5 and n - 0.5 (about 0 and n - 1 with `align_corners`)
    until it falls inside, then clips. Bilinear reads the pixels at ``floor(u)`` and
    ``floor(u) + 1`` along each axis with weights ``1 - frac`` and ``frac``; "zeros" makes
    every neighbour outside the image 0. As torch (``GridSampler.h``), non-finite coordinates
    become -100 (outside). The gradient of the grid is that of the bilinear weights, zero in
    nearest mode, as torch's. The unnormalised coordinate:

    .. math::

        u = \begin{cases} \frac{g + 1}{2} (n - 1) & \text{aligned corners} \\
            \frac{(g + 1) \, n - 1}{2} & \text{otherwise} \end{cases}

    and, bilinear, the value at :math:`(u, v)` (u along W, v along H) from its four
    neighbours, with :math:`u_0 = \lfloor u \rfloor`, :math:`u_1 = u_0 + 1` (likewise
    :math:`v_0, v_1`) and :math:`x_{v u}` the pixel at row v, column u:

    .. math::

        y = {} & (u_1 - u)(v_1 - v) \, x_{v_0 u_0} + (u - u_0)(v_1 - v) \, x_{v_0 u_1} \\
            & + (u_1 - u)(v - v_0) \, x_{v_1 u_0} + (u - u_0)(v - v_0) \, x_{v_1 u_1}

    References
    ----------
    - https://pytorch.org/docs/stable/generated/torch.nn.functional.grid_sample.html

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> x = np.array([[[[4.0, 1.0], [2.0, 3.0]]]])  # (1, 1, 2, 2)
    >>> grid = np.array([[[[0.0, 0.0], [-1.0, -1.0]]]])  # the centre, the top-left corner
    >>> mlprims.grid_sample(x, grid).tolist()  # the corner: 3/4 outside (0), 1/4 of x = 4
    [[[[2.5, 1.0]]]]
    >>> mlprims.grid_sample(x, grid, align_corners=True).tolist()  # the corner pixel's centre
    [[[[2.5, 4.0]]]]
    >>> mlprims.grid_sample(x, grid, padding_mode="border").tolist()
    [[[[2.5, 4.0]]]]
    """
    xp = namespace(x, grid, names=("x", "grid"))
    n, c, h, w = check_image(x, "x", xp=xp)
    _check_grid(grid, n, x.dtype, xp=xp)
    check_choice(mode, "mode", MODES)
    check_choice(padding_mode, "padding_mode", PADDING_MODES)
    check_bool(align_corners, "align_corners")
    out_h, out_w = grid.shape[1], grid.shape[2]
    u = _source(grid[..., 0], w, padding_mode, align_corners, xp=xp)  # (N, oH, oW) along W
    v = _source(grid[..., 1], h, padding_mode, align_corners, xp=xp)  # along H
    flat = xp.reshape(x, (-1,))  # N * C * H * W pixels
    first = xp.reshape(xp.arange(n * c, dtype=index_dtype(xp), device=device_of(x)), (n, c, 1))

    def pixels(col: Array, row: Array) -> Array:
        """x[n, c, row, col] for integral float coordinates, 0 outside: (N, C, oH, oW)."""
        inside = (col >= 0) & (col <= w - 1) & (row >= 0) & (row <= h - 1)
        col = xp.astype(xp.clip(col, 0, w - 1), index_dtype(xp))
        row = xp.astype(xp.clip(row, 0, h - 1), index_dtype(xp))
        at = xp.reshape(row * w + col, (n, 1, out_h * out_w))  # (N, 1, oH * oW)
        at = xp.reshape(first * (h * w) + at, (-1,))  # (N * C * oH * oW,)
        values = xp.reshape(xp.take(flat, at), (n, c, out_h, out_w))
        return xp.where(inside[:, None, ...], values, xp.zeros_like(values))

    if mode == "nearest":
        return pixels(xp.round(u), xp.round(v))  # round half to even, as std::nearbyint
    u0, v0 = xp.floor(u), xp.floor(v)
    u1, v1 = u0 + 1, v0 + 1
    # torch's weights, each the area of the opposite rectangle: (N, 1, oH, oW)
    nw, ne = ((u1 - u) * (v1 - v))[:, None, ...], ((u - u0) * (v1 - v))[:, None, ...]
    sw, se = ((u1 - u) * (v - v0))[:, None, ...], ((u - u0) * (v - v0))[:, None, ...]
    return pixels(u0, v0) * nw + pixels(u1, v0) * ne + pixels(u0, v1) * sw + pixels(u1, v1) * se


def _check_grid(grid: Array, n: int, dtype: Any, *, xp: Namespace) -> None:
    if not xp.isdtype(grid.dtype, "real floating") or grid.dtype != dtype:
        msg = f"`grid` must have the dtype of `x` ({dtype}), got {grid.dtype}"
        raise TypeError(msg)
    if grid.ndim != 4 or grid.shape[0] != n or grid.shape[3] != 2:
        msg = (
            f"`grid` must have shape (N, oH, oW, 2) with N = x.shape[0] = {n} and (x, y) "
            f"pairs last, got {shape_str(grid.shape)}"
        )
        raise ValueError(msg)


def _source(g: Array, n: int, padding_mode: str, align_corners: bool, *, xp: Namespace) -> Array:
    """torch's ``grid_sampler_compute_source_index``: pixel coordinates of normalised g."""
    if align_corners:
        u = (g + 1) / 2 * (n - 1)
    else:
        u = ((g + 1) * n - 1) / 2
    if padding_mode == "reflection":
        u = (
            _reflect(u, 0, 2 * (n - 1), xp=xp)
            if align_corners
            else _reflect(u, -1, 2 * n - 1, xp=xp)
        )
    if padding_mode != "zeros":  # clipped, the borders included: zero gradient there (torch)
        low, high = xp.zeros_like(u), xp.full_like(u, float(n - 1))
        u = xp.where(u <= 0, low, xp.where(u >= n - 1, high, u))
    return xp.where(xp.isfinite(u), u, xp.full_like(u, -100.0))


def _reflect(u: Array, twice_low: int, twice_high: int, *, xp: Namespace) -> Array:
    """torch's ``reflect_coordinates``: u mirrored into [low, high] (bounds given doubled)."""
    if twice_low == twice_high:  # one pixel, corners aligned: everything is pixel 0
        return xp.zeros_like(u)
    low, span = twice_low / 2, (twice_high - twice_low) / 2
    u = xp.abs(u - low)
    extra = xp.remainder(u, span)
    flips = xp.floor(u / span)
    return xp.where(xp.remainder(flips, 2.0) == 0, extra + low, span - extra + low)
