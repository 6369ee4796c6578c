"""Boxes: the checks every detection primitive runs on them, their area and format conversion.

Shape legend: boxes of shape (..., 4), each ``(x1, y1, x2, y2)`` (``"xyxy"``) with
``x1 <= x2`` and ``y1 <= y2``. Transcribed from torchvision's ``ops/boxes.py``
(``box_area``, ``_upcast``) and ``ops/_box_convert.py``. The IoU family is in :mod:`.iou`.
"""

from __future__ import annotations

from typing import Any

from .._array import (
    Array,
    check_choice,
    concrete_any,
    floating_namespace,
    shape_str,
    statistics_dtype,
)

__all__ = ["box_area", "box_convert", "check_boxes", "columns", "upcast"]

FORMATS = ("xyxy", "xywh", "cxcywh")


# ----------------------------------------------------------------------------- checks


def check_boxes(boxes: Any, name: str, *, pairwise: bool = True) -> Any:
    """The namespace of `boxes` after checking it: a real floating (N, 4) array (``(..., 4)``
    when not `pairwise`) whose corners are ordered, ``x1 <= x2`` and ``y1 <= y2``.

    The order is checked only on eager arrays (under ``jax.jit`` the values are unknown; a
    reversed box then has a negative width, which the formulas do not guard against).
    """
    xp = floating_namespace(boxes, name)
    wanted = "(N, 4)" if pairwise else "(..., 4)"
    if (pairwise and boxes.ndim != 2) or boxes.ndim == 0 or boxes.shape[-1] != 4:
        msg = f"`{name}` must have shape {wanted} (x1, y1, x2, y2), got {shape_str(boxes.shape)}"
        raise ValueError(msg)
    x1, y1, x2, y2 = columns(boxes)
    if concrete_any((x2 < x1) | (y2 < y1), xp=xp):  # None (unknown) under jax.jit
        msg = f"`{name}` must have x1 <= x2 and y1 <= y2 in every box (x1, y1, x2, y2)"
        raise ValueError(msg)
    return xp


def columns(boxes: Array) -> tuple[Array, Array, Array, Array]:
    """The four coordinates of (..., 4) boxes, each of shape (...)."""
    return boxes[..., 0], boxes[..., 1], boxes[..., 2], boxes[..., 3]


def upcast(boxes: Array, *, xp: Any) -> Array:
    """Half-precision boxes in float32 (torchvision's ``_upcast``): areas overflow float16."""
    return xp.astype(boxes, statistics_dtype(boxes.dtype, xp=xp), copy=False)


# ----------------------------------------------------------------------- public functions


def box_area(boxes: Array, /) -> Array:
    """The area of each box, ``(x2 - x1) * (y2 - y1)``.

    Parameters
    ----------
    boxes : array, shape (..., 4)
        Boxes ``(x1, y1, x2, y2)`` with ``x1 <= x2`` and ``y1 <= y2``, real floating.

    Returns
    -------
    array, shape (...)
        In the dtype of `boxes` (computed in float32 for 16-bit floats).

    Raises
    ------
    ValueError
        If the last axis is not of size 4, or (eagerly) a box has ``x2 < x1`` or ``y2 < y1``.

    Notes
    -----
    Matches ``torchvision.ops.box_area``, which takes only (N, 4) and returns float32 for
    float16 boxes (we return the input dtype).

    References
    ----------
    - https://pytorch.org/vision/stable/generated/torchvision.ops.box_area.html

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> mlprims.box_area(np.array([[0.0, 0.0, 2.0, 3.0], [1.0, 1.0, 1.0, 5.0]])).tolist()
    [6.0, 0.0]
    """
    xp = check_boxes(boxes, "boxes", pairwise=False)
    x1, y1, x2, y2 = columns(upcast(boxes, xp=xp))
    return xp.astype((x2 - x1) * (y2 - y1), boxes.dtype, copy=False)


def box_convert(boxes: Array, /, in_fmt: str, out_fmt: str) -> Array:
    """Boxes converted from one format to another.

    ``"xyxy"``: corners ``(x1, y1, x2, y2)``; ``"xywh"``: top-left corner, width and height
    ``(x1, y1, w, h)``; ``"cxcywh"``: centre, width and height ``(cx, cy, w, h)``.

    Parameters
    ----------
    boxes : array, shape (..., 4)
        Real floating boxes in `in_fmt`.
    in_fmt, out_fmt : {"xyxy", "xywh", "cxcywh"}
        The formats of `boxes` and of the result.

    Returns
    -------
    array, shape (..., 4)
        A new array in the dtype of `boxes`.

    Raises
    ------
    ValueError
        If a format is not one of the three, or the last axis is not of size 4.

    Notes
    -----
    Matches ``torchvision.ops.box_convert`` (``ops/_box_convert.py``) on the unrotated formats:
    ``cx = (x1 + x2) / 2``, ``w = x2 - x1``, ``x1 = cx - 0.5 * w``, ``x2 = cx + 0.5 * w``;
    conversions between xywh and cxcywh go through xyxy, as torchvision's do. Values are not
    checked (an xywh box may carry a negative width on purpose).

    References
    ----------
    - https://pytorch.org/vision/stable/generated/torchvision.ops.box_convert.html

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> b = np.array([[1.0, 2.0, 5.0, 4.0]])
    >>> mlprims.box_convert(b, "xyxy", "cxcywh").tolist()
    [[3.0, 3.0, 4.0, 2.0]]
    """
    xp = floating_namespace(boxes, "boxes")
    check_choice(in_fmt, "in_fmt", FORMATS)
    check_choice(out_fmt, "out_fmt", FORMATS)
    if boxes.ndim == 0 or boxes.shape[-1] != 4:
        msg = f"`boxes` must have shape (..., 4), got {shape_str(boxes.shape)}"
        raise ValueError(msg)
    a, b, c, d = columns(boxes)
    if in_fmt == "xywh":  # (x1, y1, w, h) -> corners
        a, b, c, d = a, b, a + c, b + d
    elif in_fmt == "cxcywh":  # (cx, cy, w, h) -> corners
        a, b, c, d = a - 0.5 * c, b - 0.5 * d, a + 0.5 * c, b + 0.5 * d
    if out_fmt == "xywh":
        a, b, c, d = a, b, c - a, d - b
    elif out_fmt == "cxcywh":
        a, b, c, d = (a + c) / 2, (b + d) / 2, c - a, d - b
    return xp.stack((a, b, c, d), axis=-1)
