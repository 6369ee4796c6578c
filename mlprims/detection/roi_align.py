"""RoIAlign (Mask R-CNN): a fixed (OH, OW) grid of features pooled from each box, bilinearly.

Shape legend: N images of C channels and H x W pixels; K regions (boxes), each
``(batch index, x1, y1, x2, y2)``; an (OH, OW) grid of bins per box; G_h x G_w sample
points per bin, S of them in a static grid of sample slots per axis (S_h, S_w).

Transcribed from torchvision's CPU kernel (``csrc/ops/cpu/roi_align_kernel.cpp`` and
``roi_align_common.h``): each bin averages ``G_h G_w`` samples taken at the centres of a
regular grid over the bin, each sample interpolated bilinearly from its four neighbouring
pixels (a sample within a pixel of the border takes the border pixel; beyond it, nothing).
The bilinear weights of a sample are a product of one weight per axis, so each axis is
computed alone, (K, OH, S_h, 2) rows and weights and (K, OW, S_w, 2) columns and weights;
then the 4 S_h S_w neighbours of every bin are gathered from the channels-last image and
weighed in one batched matmul: the work of torchvision's loop, K C OH OW 4 G_h G_w
products, and autodiff's gradient is the matching scatter-add into `x`.

Adaptive sampling (``sampling_ratio <= 0``, torchvision's default) takes
``G = ceil(box size / bins)`` samples, a count that depends on the box values: the grid of
slots is as large as the largest box needs (read from the values, eagerly) and each box
masks the slots beyond its own G.
"""

from __future__ import annotations

from typing import Any

from array_api_compat import device as device_of

from .._array import (
    Array,
    check_bool,
    check_floating,
    check_in_range,
    check_int,
    concrete_any,
    index_dtype,
    namespace,
    shape_str,
    statistics_dtype,
)

__all__ = ["roi_align"]


def _output_size(output_size: Any) -> tuple[int, int]:
    """`output_size` (an int, or a pair of ints) as (OH, OW), each >= 1."""
    if isinstance(output_size, (tuple, list)):
        if len(output_size) != 2:
            msg = f"`output_size` must be an int or a pair (OH, OW), got {output_size!r}"
            raise ValueError(msg)
        oh, ow = output_size
    else:
        oh = ow = output_size
    return check_int(oh, "output_size", minimum=1), check_int(ow, "output_size", minimum=1)


def _check(x: Any, boxes: Any) -> Any:
    """The namespace of `x` and `boxes` after checking their dtypes and shapes."""
    xp = namespace(x, boxes, names=("x", "boxes"))
    check_floating(x, "x", xp=xp)
    check_floating(boxes, "boxes", xp=xp)
    if x.ndim != 4 or x.shape[2] == 0 or x.shape[3] == 0:
        msg = f"`x` must have shape (N, C, H, W) with H, W >= 1, got {shape_str(x.shape)}"
        raise ValueError(msg)
    if boxes.ndim != 2 or boxes.shape[1] != 5:
        msg = (
            "`boxes` must have shape (K, 5), rows (batch index, x1, y1, x2, y2) as "
            f"torchvision's rois, got {shape_str(boxes.shape)}"
        )
        raise ValueError(msg)
    return xp


def _largest(grid: Array, name: str, *, xp: Any) -> int:
    """``max(grid)`` as a Python int (at least 1): the slots adaptive sampling needs, read
    eagerly; a TypeError under ``jax.jit``, where the values are unknown."""
    if grid.shape[0] == 0:
        return 1
    try:
        return max(int(xp.max(grid)), 1)
    except TypeError as exc:  # jax.errors.ConcretizationTypeError is a TypeError
        msg = (
            f"`roi_align` with sampling_ratio <= 0 (adaptive) samples ceil(box {name} / bins) "
            "points per bin, a count that depends on the box values, which jax.jit cannot "
            "give a shape; under jax.jit pass a fixed sampling_ratio (2, as torchvision's "
            "MultiScaleRoIAlign and Mask R-CNN use)"
        )
        raise TypeError(msg) from exc


def _axis(
    start: Array, bin_size: Array, grid: Array, size: int, bins: int, slots: int, *, xp: Any
) -> tuple[Array, Array]:
    """One axis of every box: the two neighbouring pixels of each sample and their weights,
    both (K, bins, slots, 2); a slot beyond the box's `grid` or a sample outside
    ``[-1, size]`` weighs 0 (torchvision's ``pre_calc_for_bilinear_interpolate``).

    `start` and `bin_size` are (K,) in pixels, `grid` (K,) the samples per bin of each box.
    """
    dtype, itype = start.dtype, index_dtype(xp)
    device = device_of(start)
    g = xp.astype(grid, dtype)[:, None, None]  # (K, 1, 1)
    g = xp.where(g > 0, g, xp.ones_like(g))  # no 0 / 0 in a masked slot, nor in its gradient
    p = xp.arange(bins, dtype=dtype, device=device)[None, :, None]  # (1, bins, 1)
    i = xp.arange(slots, dtype=dtype, device=device)[None, None, :]  # (1, 1, slots)
    s0, step = start[:, None, None], bin_size[:, None, None]
    y = (s0 + p * step) + (i + 0.5) * step / g  # torchvision's order of operations
    inside = (i < xp.astype(grid, dtype)[:, None, None]) & (y >= -1.0) & (y <= size)
    y = xp.clip(xp.where(inside, y, xp.zeros_like(y)), min=0.0)  # y <= 0 samples row 0
    low = xp.astype(xp.floor(y), itype)
    last = low >= size - 1  # the last row (or beyond, up to `size`): both neighbours are it
    low = xp.where(last, size - 1, low)
    high = xp.where(last, size - 1, low + 1)
    frac = xp.where(last, xp.zeros_like(y), y - xp.astype(low, dtype))
    weights = xp.stack((1.0 - frac, frac), axis=-1) * xp.astype(inside, dtype)[..., None]
    return xp.stack((low, high), axis=-1), weights


def roi_align(
    x: Array,
    boxes: Array,
    /,
    output_size: int | tuple[int, int],
    *,
    spatial_scale: float = 1.0,
    sampling_ratio: int = -1,
    aligned: bool = False,
) -> Array:
    r"""RoIAlign: features of each box pooled to an (OH, OW) grid by bilinear sampling.

    Parameters
    ----------
    x : array, shape (N, C, H, W)
        Real floating feature maps (H, W >= 1).
    boxes : array, shape (K, 5)
        Rows ``(batch index, x1, y1, x2, y2)`` in image coordinates (torchvision's ``rois``
        as one tensor), real floating; the index is truncated to an int, in [0, N).
    output_size : int or (int, int)
        (OH, OW), the bins of each box; an int is both.
    spatial_scale : float
        Box coordinates are multiplied by it: the feature map's size over the image's
        (1/16 for a stride-16 backbone), > 0.
    sampling_ratio : int
        Sample points per bin along each axis; <= 0 (the default) takes
        ``ceil(box height / OH)`` by ``ceil(box width / OW)``, per box (eager only: see Raises).
    aligned : bool
        True shifts the box by half a pixel, ``x * spatial_scale - 0.5``, so that pixel
        centres sit at integer coordinates (Detectron2's ROIAlignV2); False (the legacy
        default) does not, and widens boxes smaller than one pixel to one.

    Returns
    -------
    array, shape (K, C, OH, OW)
        In the dtype of `x` (computed in float32 for 16-bit floats).

    Raises
    ------
    ValueError
        If a shape is wrong, `output_size` or `spatial_scale` is not positive, or (eagerly)
        a batch index is outside [0, N).
    TypeError
        If `x` or `boxes` is not real floating, or ``sampling_ratio <= 0`` under
        ``jax.jit``: the adaptive sample count depends on the box values, which a trace
        cannot give a shape.

    Notes
    -----
    Matches ``torchvision.ops.roi_align`` (its CPU kernel, transcribed). For box k with
    corners ``(x1, y1, x2, y2) * spatial_scale - offset`` (offset 0.5 if `aligned`),
    ``h = y2 - y1`` (at least 1 unless `aligned`), ``G_h`` = `sampling_ratio` or
    ``ceil(h / OH)``, and the same along x, bin (i, j) is

        ``out[k, :, i, j] = sum_{a < G_h, b < G_w} bilinear(x[n_k], y_a, x_b) / max(G_h G_w, 1)``,

    the mean of the bin's :math:`G_h \times G_w` bilinear samples:

    .. math::

        \text{out}_{k,:,i,j} = \frac{1}{\max(G_h G_w, 1)} \sum_{a=0}^{G_h - 1} \sum_{b=0}^{G_w - 1}
            \operatorname{bilinear}(x_{n_k}, y_a, x_b),

        y_a = y_1 + i \frac{h}{OH} + \left(a + \tfrac{1}{2}\right) \frac{h}{OH \, G_h}

    with ``y_a = y1 + i h / OH + (a + 0.5) (h / OH) / G_h``; a sample outside
    ``[-1, H] x [-1, W]`` adds 0, one in ``[-1, 0]`` is read at 0 and one in
    ``[H - 1, H]`` at ``H - 1``. The gradient with respect to `x` is torchvision's
    backward (each sample's four weights, scattered); torchvision gives `boxes` none, here
    autodiff gives the derivative of the bilinear weights (the sample counts and the
    border rules are piecewise constant). Under ``jax.jit`` a batch index outside
    [0, N) is not checked.

    Adaptive sampling under ``jax.jit`` is refused rather than bounded: a static bound that
    holds for every box would be the whole feature map, ``ceil(H / OH) ceil(W / OW)``
    samples per bin for every box (about 50 times the work of ``sampling_ratio=2`` for a 7 x 7
    pool of a 50 x 50 map), and still wrong for a box larger than the map. A fixed
    `sampling_ratio` costs the same for every box, which is what a compiled program wants.

    References
    ----------
    - He et al. 2017, "Mask R-CNN", https://arxiv.org/abs/1703.06870
    - https://pytorch.org/vision/stable/generated/torchvision.ops.roi_align.html

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> boxes = np.array([[0.0, 0.0, 0.0, 2.0, 2.0]])
    >>> mlprims.roi_align(x, boxes, 2, sampling_ratio=1).tolist()
    [[[[2.5, 3.5], [6.5, 7.5]]]]
    >>> mlprims.roi_align(x, boxes, 1, aligned=True).tolist()
    [[[[2.5]]]]
    """
    xp = _check(x, boxes)
    oh, ow = _output_size(output_size)
    scale = check_in_range(spatial_scale, "spatial_scale", 0.0, closed=(False, False))
    ratio = check_int(sampling_ratio, "sampling_ratio")
    offset = 0.5 if check_bool(aligned, "aligned") else 0.0
    n, c, h, w = x.shape
    k = boxes.shape[0]
    dtype, itype = statistics_dtype(x.dtype, xp=xp), index_dtype(xp)
    rois = xp.astype(boxes, dtype)
    batch = xp.astype(rois[:, 0], itype)  # truncated toward zero, as C's (int)
    if concrete_any((batch < 0) | (batch >= n), xp=xp):  # None (unknown) under jax.jit
        msg = (
            f"`boxes` must have batch indices (column 0) in [0, N) = [0, {n}) for `x` of "
            f"shape {shape_str(x.shape)}"
        )
        raise ValueError(msg)
    x1, y1, x2, y2 = (rois[:, j] * scale - offset for j in range(1, 5))
    width, height = x2 - x1, y2 - y1
    if not offset:  # legacy: boxes narrower than a pixel are widened to one
        width, height = xp.clip(width, min=1.0), xp.clip(height, min=1.0)
    if ratio > 0:
        grid_h = grid_w = xp.full((k,), ratio, dtype=itype, device=device_of(x))
        slots_h = slots_w = ratio
    else:
        grid_h = xp.astype(xp.ceil(height / oh), itype)
        grid_w = xp.astype(xp.ceil(width / ow), itype)
        slots_h, slots_w = _largest(grid_h, "height", xp=xp), _largest(grid_w, "width", xp=xp)
    count = xp.astype(xp.clip(grid_h * grid_w, min=1), dtype)  # (K,)
    rows, wy = _axis(y1, height / oh, grid_h, h, oh, slots_h, xp=xp)  # (K, OH, S_h, 2)
    cols, wx = _axis(x1, width / ow, grid_w, w, ow, slots_w, xp=xp)  # (K, OW, S_w, 2)
    sh, sw = 2 * slots_h, 2 * slots_w
    # the flat position of pixel (n, row, col) in the channels-last image: (n H + row) W + col
    base = (batch[:, None, None, None] * h + rows) * w  # (K, OH, S_h, 2)
    flat = xp.reshape(base, (k, oh, 1, sh, 1)) + xp.reshape(cols, (k, 1, ow, 1, sw))
    weight = xp.reshape(wy, (k, oh, 1, sh, 1)) * xp.reshape(wx, (k, 1, ow, 1, sw))
    image = xp.reshape(xp.permute_dims(xp.astype(x, dtype), (0, 2, 3, 1)), (n * h * w, c))
    values = xp.take(image, xp.reshape(flat, (-1,)), axis=0)  # (K OH OW sh sw, C)
    values = xp.reshape(values, (k, oh, ow, sh * sw, c))
    pooled = xp.reshape(weight, (k, oh, ow, 1, sh * sw)) @ values  # (K, OH, OW, 1, C)
    pooled = pooled[:, :, :, 0, :] / count[:, None, None, None]
    return xp.astype(xp.permute_dims(pooled, (0, 3, 1, 2)), x.dtype)
