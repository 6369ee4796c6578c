"""The IoU family: box_iou, generalized_box_iou, distance_box_iou and complete_box_iou, with
torchvision's formulas.

Shape legend: N and M boxes, each ``(x1, y1, x2, y2)`` (``"xyxy"``) with ``x1 <= x2`` and
``y1 <= y2``. Each function returns an (N, M) matrix, entry (i, j) comparing box i of the first
set with box j of the second.

Transcribed from torchvision's ``ops/boxes.py`` (``_box_inter_union``, ``box_iou``,
``generalized_box_iou``, ``_box_diou_iou``, ``distance_box_iou``, ``complete_box_iou``), with
one deliberate difference: where a ratio would be 0 / 0 (only between empty boxes, whose union
is empty) torchvision gives NaN and we give 0. An empty box (zero width or height) overlaps
nothing, so its IoU is 0, and the NaN would otherwise spread through a loss.
"""

from __future__ import annotations

import math
from typing import Any

from .. import backends
from .._array import Array, check_in_range, namespace
from .boxes import check_boxes, columns, upcast

__all__ = ["box_iou", "complete_box_iou", "distance_box_iou", "generalized_box_iou"]


def _ratio(numerator: Array, denominator: Array, *, xp: Any) -> Array:
    """``numerator / denominator``, and 0 where the denominator is 0 (no NaN, nor in gradients)."""
    nonzero = denominator != 0
    safe = xp.where(nonzero, denominator, xp.ones_like(denominator))
    return xp.where(nonzero, numerator / safe, xp.zeros_like(numerator))


def _inter_union(boxes1: Array, boxes2: Array, *, xp: Any) -> tuple[Array, Array]:
    """Intersection and union areas, each (N, M) (torchvision's ``_box_inter_union``)."""
    ax1, ay1, ax2, ay2 = (c[:, None] for c in columns(boxes1))  # each (N, 1)
    bx1, by1, bx2, by2 = (c[None, :] for c in columns(boxes2))  # each (1, M)
    width = xp.clip(xp.minimum(ax2, bx2) - xp.maximum(ax1, bx1), min=0.0)
    height = xp.clip(xp.minimum(ay2, by2) - xp.maximum(ay1, by1), min=0.0)
    inter = width * height
    union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter
    return inter, union


def _enclosing(boxes1: Array, boxes2: Array, *, xp: Any) -> tuple[Array, Array]:
    """Width and height of the smallest box enclosing each pair, each (N, M)."""
    ax1, ay1, ax2, ay2 = (c[:, None] for c in columns(boxes1))
    bx1, by1, bx2, by2 = (c[None, :] for c in columns(boxes2))
    width = xp.clip(xp.maximum(ax2, bx2) - xp.minimum(ax1, bx1), min=0.0)
    height = xp.clip(xp.maximum(ay2, by2) - xp.minimum(ay1, by1), min=0.0)
    return width, height


def pairwise_iou(boxes1: Array, boxes2: Array, *, xp: Any) -> Array:
    """IoU (N, M) of checked boxes, 0 for an empty union."""
    inter, union = _inter_union(boxes1, boxes2, xp=xp)
    return _ratio(inter, union, xp=xp)


def _pair(boxes1: Array, boxes2: Array) -> tuple[Any, Array, Array, Any]:
    """Check both sets; return the namespace, both sets in the dtype to compute in (float32
    for 16-bit floats) and their common dtype, the dtype of the result."""
    xp = namespace(boxes1, boxes2, names=("boxes1", "boxes2"))
    check_boxes(boxes1, "boxes1")
    check_boxes(boxes2, "boxes2")
    dtype = xp.result_type(boxes1.dtype, boxes2.dtype)
    a = upcast(xp.astype(boxes1, dtype, copy=False), xp=xp)
    b = upcast(xp.astype(boxes2, dtype, copy=False), xp=xp)
    return xp, a, b, dtype


def box_iou(boxes1: Array, boxes2: Array, /) -> Array:
    r"""Intersection over union (Jaccard index) of every pair of boxes.

    Parameters
    ----------
    boxes1 : array, shape (N, 4)
        Boxes ``(x1, y1, x2, y2)`` with ``x1 <= x2`` and ``y1 <= y2``, real floating.
    boxes2 : array, shape (M, 4)
        The same, of the same framework.

    Returns
    -------
    array, shape (N, M)
        ``IoU[i, j] = |A_i & B_j| / |A_i | B_j|``, in the common dtype of the inputs.

    Raises
    ------
    ValueError
        If a set is not (N, 4), or (eagerly) a box has ``x2 < x1`` or ``y2 < y1``.

    Notes
    -----
    Matches ``torchvision.ops.box_iou``: ``inter = max(0, min(x2) - max(x1)) * max(0, min(y2)
    - max(y1))``, ``union = area_A + area_B - inter``, ``IoU = inter / union``, except that two
    empty boxes (union 0) give 0 where torchvision gives NaN. For boxes
    :math:`A = (x_1^A, y_1^A, x_2^A, y_2^A)` and :math:`B`, of areas :math:`|A|` and :math:`|B|`:

    .. math::

        \operatorname{IoU}(A, B) = \frac{I}{|A| + |B| - I},

        I = \max(0, \min(x_2^A, x_2^B) - \max(x_1^A, x_1^B))
            \, \max(0, \min(y_2^A, y_2^B) - \max(y_1^A, y_1^B))

    and 0 where the union :math:`|A| + |B| - I` is 0.

    References
    ----------
    - https://pytorch.org/vision/stable/generated/torchvision.ops.box_iou.html

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> a = np.array([[0.0, 0.0, 2.0, 2.0]])
    >>> b = np.array([[1.0, 0.0, 3.0, 2.0], [0.0, 0.0, 0.0, 0.0]])
    >>> mlprims.box_iou(a, b).round(4).tolist()
    [[0.3333, 0.0]]
    """
    xp, a, b, dtype = _pair(boxes1, boxes2)
    return xp.astype(pairwise_iou(a, b, xp=xp), dtype, copy=False)


def generalized_box_iou(boxes1: Array, boxes2: Array, /) -> Array:
    r"""Generalized IoU of every pair of boxes: IoU minus the empty share of the enclosing box.

    Parameters
    ----------
    boxes1 : array, shape (N, 4)
        Boxes ``(x1, y1, x2, y2)`` with ``x1 <= x2`` and ``y1 <= y2``, real floating.
    boxes2 : array, shape (M, 4)
        The same, of the same framework.

    Returns
    -------
    array, shape (N, M)
        ``GIoU = IoU - (|C| - |A | B|) / |C|``, with C the smallest box enclosing A and B; in
        [-1, 1].

    Raises
    ------
    ValueError
        If a set is not (N, 4), or (eagerly) a box has ``x2 < x1`` or ``y2 < y1``.

    Notes
    -----
    Rezatofighi et al., "Generalized Intersection over Union" (CVPR 2019); matches
    ``torchvision.ops.generalized_box_iou`` except where torchvision divides 0 by 0: the IoU
    of two empty boxes is 0 (so GIoU -1 for two points that differ in x and in y), and a
    pair whose enclosing box is empty (the same point twice, two points on one horizontal)
    has GIoU 0, not NaN. With :math:`|C|` the area of the smallest box enclosing A and B:

    .. math::

        \operatorname{GIoU}(A, B) = \operatorname{IoU}(A, B) - \frac{|C| - |A \cup B|}{|C|},

        |C| = (\max(x_2^A, x_2^B) - \min(x_1^A, x_1^B))
            \, (\max(y_2^A, y_2^B) - \min(y_1^A, y_1^B))

    each fraction taken as 0 where its denominator is 0.

    References
    ----------
    - https://pytorch.org/vision/stable/generated/torchvision.ops.generalized_box_iou.html

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> a = np.array([[0.0, 0.0, 1.0, 1.0]])
    >>> mlprims.generalized_box_iou(a, np.array([[2.0, 0.0, 3.0, 1.0]])).tolist()
    [[-0.3333333333333333]]
    """
    xp, a, b, dtype = _pair(boxes1, boxes2)
    inter, union = _inter_union(a, b, xp=xp)
    width, height = _enclosing(a, b, xp=xp)
    enclosing = width * height
    giou = _ratio(inter, union, xp=xp) - _ratio(enclosing - union, enclosing, xp=xp)
    return xp.astype(giou, dtype, copy=False)


def _distance_iou(a: Array, b: Array, eps: float, *, xp: Any) -> tuple[Array, Array]:
    """DIoU and IoU, each (N, M) (torchvision's ``_box_diou_iou``)."""
    iou = pairwise_iou(a, b, xp=xp)
    width, height = _enclosing(a, b, xp=xp)
    diagonal_squared = width**2 + height**2 + eps
    ax1, ay1, ax2, ay2 = (c[:, None] for c in columns(a))
    bx1, by1, bx2, by2 = (c[None, :] for c in columns(b))
    centres_squared = ((ax1 + ax2) / 2 - (bx1 + bx2) / 2) ** 2 + (
        (ay1 + ay2) / 2 - (by1 + by2) / 2
    ) ** 2
    return iou - centres_squared / diagonal_squared, iou


def distance_box_iou(boxes1: Array, boxes2: Array, /, *, eps: float = 1e-7) -> Array:
    r"""Distance IoU of every pair of boxes: IoU minus the normalised squared centre distance.

    Parameters
    ----------
    boxes1 : array, shape (N, 4)
        Boxes ``(x1, y1, x2, y2)`` with ``x1 <= x2`` and ``y1 <= y2``, real floating.
    boxes2 : array, shape (M, 4)
        The same, of the same framework.
    eps : float
        Added to the squared diagonal, >= 0 (torchvision's default 1e-7).

    Returns
    -------
    array, shape (N, M)
        ``DIoU = IoU - d^2 / (c^2 + eps)``, with d the distance between the centres and c the
        diagonal of the smallest box enclosing both.

    Raises
    ------
    ValueError
        If a set is not (N, 4), `eps` is negative, or (eagerly) a box has ``x2 < x1`` or
        ``y2 < y1``.

    Notes
    -----
    Zheng et al., "Distance-IoU Loss" (AAAI 2020); matches ``torchvision.ops.distance_box_iou``
    (the IoU of two empty boxes is 0 here, NaN there). With the centres
    :math:`(\bar x, \bar y) = ((x_1 + x_2) / 2, (y_1 + y_2) / 2)` and :math:`w_C, h_C` the
    width and height of the smallest box enclosing A and B:

    .. math::

        \operatorname{DIoU}(A, B) = \operatorname{IoU}(A, B) - \frac{d^2}{c^2 + \epsilon},
        \qquad d^2 = (\bar x^A - \bar x^B)^2 + (\bar y^A - \bar y^B)^2, \quad
        c^2 = w_C^2 + h_C^2

    with the IoU 0 where the union is 0.

    References
    ----------
    - https://pytorch.org/vision/stable/generated/torchvision.ops.distance_box_iou.html

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> a = np.array([[0.0, 0.0, 1.0, 1.0]])
    >>> mlprims.distance_box_iou(a, np.array([[1.0, 0.0, 2.0, 1.0]]), eps=0.0).tolist()
    [[-0.2]]
    """
    eps = check_in_range(eps, "eps", 0.0)
    xp, a, b, dtype = _pair(boxes1, boxes2)
    diou, _ = _distance_iou(a, b, eps, xp=xp)
    return xp.astype(diou, dtype, copy=False)


def complete_box_iou(boxes1: Array, boxes2: Array, /, *, eps: float = 1e-7) -> Array:
    r"""Complete IoU of every pair of boxes: DIoU minus an aspect-ratio consistency term.

    Parameters
    ----------
    boxes1 : array, shape (N, 4)
        Boxes ``(x1, y1, x2, y2)`` with ``x1 <= x2`` and ``y1 <= y2``, real floating.
    boxes2 : array, shape (M, 4)
        The same, of the same framework.
    eps : float
        Added to the denominators, >= 0 (torchvision's default 1e-7).

    Returns
    -------
    array, shape (N, M)
        ``CIoU = DIoU - alpha * v``, ``v = 4 / pi^2 * (atan(w_A / h_A) - atan(w_B / h_B))^2``,
        ``alpha = v / (1 - IoU + v + eps)``.

    Raises
    ------
    ValueError
        If a set is not (N, 4), `eps` is negative, or (eagerly) a box has ``x2 < x1`` or
        ``y2 < y1``.

    Notes
    -----
    Zheng et al., "Distance-IoU Loss" (AAAI 2020); matches ``torchvision.ops.complete_box_iou``,
    whose `alpha` carries no gradient (``torch.no_grad``; here the backend's
    ``stop_gradient``). ``atan(w / h)`` is computed as ``atan2(w, h)``: equal for every box
    torchvision accepts, and 0 rather than NaN for a box of zero width and height. Two
    empty boxes have IoU 0 here, NaN there. With :math:`w, h` the width and height of a box and
    DIoU as :func:`distance_box_iou` (the same `eps`):

    .. math::

        \operatorname{CIoU} = \operatorname{DIoU} - \alpha v, \qquad
        v = \frac{4}{\pi^2} \left(\arctan\frac{w_A}{h_A} - \arctan\frac{w_B}{h_B}\right)^2,
        \quad \alpha = \frac{v}{1 - \operatorname{IoU} + v + \epsilon}

    References
    ----------
    - https://pytorch.org/vision/stable/generated/torchvision.ops.complete_box_iou.html

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> a = np.array([[0.0, 0.0, 2.0, 1.0]])
    >>> mlprims.complete_box_iou(a, a).tolist()
    [[1.0]]
    """
    eps = check_in_range(eps, "eps", 0.0)
    xp, a, b, dtype = _pair(boxes1, boxes2)
    diou, iou = _distance_iou(a, b, eps, xp=xp)
    ax1, ay1, ax2, ay2 = (c[:, None] for c in columns(a))
    bx1, by1, bx2, by2 = (c[None, :] for c in columns(b))
    angle_gap = xp.atan2(ax2 - ax1, ay2 - ay1) - xp.atan2(bx2 - bx1, by2 - by1)
    v = (4 / math.pi**2) * angle_gap**2
    alpha = backends.of(boxes1).stop_gradient(v / (1 - iou + v + eps))
    return xp.astype(diou - alpha * v, dtype, copy=False)
