"""Non-maximum suppression: greedy, by decreasing score, with torchvision's rule.

Shape legend: N boxes ``(x1, y1, x2, y2)``, K kept, ``max_output`` slots in the padded result.

One loop does all the work (:func:`_greedy`): rank the boxes by decreasing score (a stable
sort, so equal scores go lower index first on every backend), then, while a box is undecided
and a slot is free, keep the best undecided box and mark as decided every box whose IoU with
it exceeds the threshold (and, for ``batched_nms``, that shares its class). Each step costs
one IoU row of length N (``box_iou``'s arithmetic, the areas computed once); the loop runs
once per kept box (``backend.while_loop``: ``lax.while_loop`` on JAX, a Python loop
elsewhere), and its state keeps fixed shapes, so it compiles under ``jax.jit``.

``nms_padded`` returns that state as it is: ``max_output`` indices padded with -1, and the
count. ``nms`` and ``batched_nms`` return only the K kept indices, a length that depends on
the values: they read the count eagerly (``int(count)``) and slice, which works on every
backend eagerly (array_api_strict included: a slice by a Python int is not a data-dependent
shape operation) and is refused under ``jax.jit`` with a message pointing to ``nms_padded``.
"""

from __future__ import annotations

import functools
from typing import Any

from array_api_compat import device as device_of

from .. import backends
from .._array import (
    Array,
    check_dtype,
    check_in_range,
    check_int,
    index_dtype,
    namespace,
    shape_str,
    statistics_dtype,
)
from .boxes import check_boxes

__all__ = ["batched_nms", "nms", "nms_padded"]


def _check(
    boxes: Any, scores: Any, classes: Any, iou_threshold: Any
) -> tuple[Any, backends.Backend, float]:
    """The namespace and backend of the inputs, and the threshold, after checking them all."""
    names = ("boxes", "scores", "classes")
    xp = namespace(boxes, scores, classes, names=names)
    check_boxes(boxes, "boxes")
    n = boxes.shape[0]
    check_dtype(scores, "scores", ("real floating", "integral"), xp=xp)
    if classes is not None:
        check_dtype(classes, "classes", "integral", xp=xp)
    for name, a in zip(names[1:], (scores, classes), strict=True):
        if a is not None and tuple(a.shape) != (n,):
            msg = (
                f"`{name}` must have one entry per box of `boxes`, shape ({n}), "
                f"got {shape_str(a.shape)}"
            )
            raise ValueError(msg)
    threshold = check_in_range(iou_threshold, "iou_threshold", 0.0)
    return xp, backends.of(boxes), threshold


def _ranking(scores: Array, *, xp: Any) -> Array:
    """Positions of the boxes by decreasing score, equal scores lower index first.

    The stable descending sort keeps equal scores in index order (checked on every backend);
    -0.0 is made 0.0 first, as ``backends.top_k`` does, so a sort by bit pattern cannot split
    that tie.
    """
    key = xp.where(scores == 0, xp.zeros_like(scores), scores)
    return xp.astype(xp.argsort(key, descending=True, stable=True), index_dtype(xp), copy=False)


def _greedy(
    boxes: Array,
    scores: Array,
    classes: Array | None,
    threshold: float,
    max_output: int,
    *,
    xp: Any,
    backend: backends.Backend,
) -> tuple[Array, Array]:
    """Greedy suppression: (max_output,) kept indices padded with -1, and their count (0-d).

    Compiled by the backend's ``jit`` (once per backend, shapes and `max_output`): eager JAX
    would otherwise trace and compile the ``lax.while_loop`` anew on every call (270 ms for 8
    boxes, where the compiled loop takes 50 ms for 5000). An identity elsewhere; inside a
    user's ``jax.jit`` it is inlined.
    """
    boxes = xp.astype(boxes, statistics_dtype(boxes.dtype, xp=xp), copy=False)  # IoU of f16
    limit = xp.asarray(threshold, dtype=boxes.dtype, device=device_of(boxes))  # traced: 1 trace
    return _compiled(backend)(boxes, scores, classes, limit, max_output, xp=xp)


@functools.cache
def _compiled(backend: backends.Backend) -> Any:
    """:func:`_suppress` as the backend compiles it; `max_output` and `xp` are static."""
    return backend.jit(functools.partial(_suppress, backend=backend), ("max_output", "xp"))


def _suppress(
    boxes: Array,
    scores: Array,
    classes: Array | None,
    threshold: Array,
    max_output: int,
    *,
    xp: Any,
    backend: backends.Backend,
) -> tuple[Array, Array]:
    """The loop of :func:`_greedy` (see the module docstring)."""
    n, itype, device = boxes.shape[0], index_dtype(xp), device_of(boxes)
    kept = xp.full((max_output,), -1, dtype=itype, device=device)
    count = xp.asarray(0, dtype=itype, device=device)
    if n == 0 or max_output == 0:  # static shapes: nothing to trace
        return kept, count
    order = _ranking(scores, xp=xp)  # (N,) positions, best first
    table = _with_areas(xp.take(boxes, order, axis=0), xp=xp)  # (N, 5), by decreasing score
    columns = tuple(table[:, k] for k in range(5))
    ranked_classes = None if classes is None else xp.take(classes, order)  # (N,)
    positions = xp.arange(n, dtype=itype, device=device)
    slots = xp.arange(max_output, dtype=itype, device=device)
    beyond = xp.full((n,), n, dtype=itype, device=device)

    def undecided_and_room(state: tuple[Array, Array, Array]) -> Array:
        decided, _, count = state
        return xp.any(~decided) & (count < max_output)

    def keep_best(state: tuple[Array, Array, Array]) -> tuple[Array, Array, Array]:
        decided, kept, count = state
        best = xp.reshape(xp.min(xp.where(decided, beyond, positions)), (1,))  # first undecided
        suppressed = _iou_row(table, columns, best, xp=xp) > threshold
        if ranked_classes is not None:  # batched_nms: only boxes of the same class
            suppressed = suppressed & (ranked_classes == xp.take(ranked_classes, best))
        decided = decided | suppressed | (positions == best)
        kept = xp.where(slots == count, xp.take(order, best), kept)
        return decided, kept, count + 1

    decided = xp.zeros((n,), dtype=xp.bool, device=device)
    _, kept, count = backend.while_loop(undecided_and_room, keep_best, (decided, kept, count))
    return kept, xp.asarray(count, dtype=itype, device=device)


def _with_areas(boxes: Array, *, xp: Any) -> Array:
    """(N, 5) rows ``(x1, y1, x2, y2, area)``: the areas once, not once per step."""
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return xp.concat((boxes, area[:, None]), axis=1)


def _iou_row(table: Array, columns: tuple[Array, ...], best: Array, *, xp: Any) -> Array:
    """IoU (N,) of box `best` (an index of shape (1,)) with every box of `table` (N, 5),
    whose `columns` are ``x1, y1, x2, y2, area``, each (N,).

    ``box_iou``'s arithmetic in the same order, so the same values; where the union is 0 the
    intersection is 0 too, so dividing by 1 there gives ``box_iou``'s 0 with no 0 / 0.
    """
    x1, y1, x2, y2, area = columns
    b = xp.take(table, best, axis=0)  # (1, 5)
    zero = xp.zeros((), dtype=table.dtype, device=device_of(table))
    # maximum(., 0) rather than clip(., min=0): the same values, a third of the time on NumPy
    width = xp.maximum(xp.minimum(b[:, 2], x2) - xp.maximum(b[:, 0], x1), zero)
    height = xp.maximum(xp.minimum(b[:, 3], y2) - xp.maximum(b[:, 1], y1), zero)
    inter = width * height
    union = b[:, 4] + area - inter
    return inter / xp.where(union > zero, union, zero + 1)


def _trimmed(kept: Array, count: Array, name: str) -> Array:
    """The first `count` entries of `kept`: an eager read of `count`, refused under jax.jit."""
    try:
        k = int(count)
    except TypeError as exc:  # jax.errors.ConcretizationTypeError is a TypeError
        hint = (
            "on boxes offset by class (boxes + classes[:, None] * (boxes.max() + 1))"
            if name == "batched_nms"
            else "instead"
        )
        msg = (
            f"`{name}` returns as many indices as it keeps, a shape that depends on the values, "
            "which jax.jit cannot trace; under jax.jit call `nms_padded(boxes, scores, "
            f"iou_threshold, max_output=...)` {hint}"
        )
        raise TypeError(msg) from exc
    return kept[:k]


def nms_padded(
    boxes: Array, scores: Array, /, iou_threshold: float, *, max_output: int
) -> tuple[Array, Array]:
    """Non-maximum suppression with a fixed-size result: jit-safe ``nms``.

    Parameters
    ----------
    boxes : array, shape (N, 4)
        Boxes ``(x1, y1, x2, y2)`` with ``x1 <= x2`` and ``y1 <= y2``, real floating.
    scores : array, shape (N,)
        One score per box, real (NaN not allowed: its rank is unspecified).
    iou_threshold : float
        A box is suppressed when its IoU with a kept box is greater than this, >= 0.
    max_output : int
        The length of the result, >= 0; the loop stops once this many boxes are kept.

    Returns
    -------
    indices : integer array, shape (max_output,)
        The first ``min(K, max_output)`` entries are what ``nms`` returns (indices into
        `boxes` by decreasing score, equal scores lower index first); the rest are -1.
    count : integer array, shape ()
        How many entries are kept boxes, ``min(K, max_output)``.

    Raises
    ------
    ValueError
        If `boxes` is not (N, 4), `scores` is not (N,), `iou_threshold` is negative,
        `max_output` is negative, or (eagerly) a box has ``x2 < x1`` or ``y2 < y1``.

    See Also
    --------
    nms : The same, trimmed to the kept boxes (eager only).

    Notes
    -----
    The shapes do not depend on the values, so it compiles under ``jax.jit`` (a
    ``lax.while_loop`` of at most ``max_output`` steps, each one IoU row). Its first K
    entries equal ``torchvision.ops.nms`` wherever the scores are distinct; see ``nms``.

    References
    ----------
    - https://pytorch.org/vision/stable/generated/torchvision.ops.nms.html

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> boxes = np.array([[0.0, 0, 2, 2], [0.2, 0, 2.2, 2], [5.0, 5, 6, 6]])
    >>> scores = np.array([0.9, 0.8, 0.7])
    >>> indices, count = mlprims.nms_padded(boxes, scores, 0.5, max_output=4)
    >>> indices.tolist(), int(count)
    ([0, 2, -1, -1], 2)
    """
    max_output = check_int(max_output, "max_output", minimum=0)
    xp, backend, threshold = _check(boxes, scores, None, iou_threshold)
    return _greedy(boxes, scores, None, threshold, max_output, xp=xp, backend=backend)


def nms(boxes: Array, scores: Array, /, iou_threshold: float) -> Array:
    r"""Non-maximum suppression: the boxes kept by greedy suppression, by decreasing score.

    Parameters
    ----------
    boxes : array, shape (N, 4)
        Boxes ``(x1, y1, x2, y2)`` with ``x1 <= x2`` and ``y1 <= y2``, real floating.
    scores : array, shape (N,)
        One score per box, real (NaN not allowed: its rank is unspecified).
    iou_threshold : float
        A box is suppressed when its IoU with a kept box is greater than this, >= 0.

    Returns
    -------
    integer array, shape (K,)
        Indices into `boxes` of the K kept boxes, by decreasing score, equal scores lower
        index first. K depends on the values: eager only (under ``jax.jit`` use
        ``nms_padded``).

    Raises
    ------
    ValueError
        If `boxes` is not (N, 4), `scores` is not (N,), `iou_threshold` is negative, or a box
        has ``x2 < x1`` or ``y2 < y1``.
    TypeError
        Under ``jax.jit``, which cannot give the result a shape.

    See Also
    --------
    nms_padded : The jit-safe form, padded with -1 to a fixed length.
    batched_nms : Suppression within each class only.

    Notes
    -----
    Matches ``torchvision.ops.nms`` (greedy: visit the boxes by decreasing score, keep a box
    no kept box overlaps with IoU > `iou_threshold`), with one rule torchvision leaves to its
    sort: among equal scores the lower index goes first, on every backend. An empty box has
    IoU 0 with every box, so it is never suppressed and suppresses nothing (torchvision: the
    same, through a NaN comparison). The IoU is computed in the dtype of `boxes`.

    With the boxes ranked by decreasing score, :math:`b_{(1)}, \dots, b_{(N)}`, and the
    threshold :math:`t`, the kept set :math:`\mathcal{K}` is built in that order:

    .. math::

        b_{(r)} \in \mathcal{K} \iff \operatorname{IoU}(b_{(r)}, b_{(s)}) \le t
            \ \text{ for every } b_{(s)} \in \mathcal{K},\ s < r

    References
    ----------
    - https://pytorch.org/vision/stable/generated/torchvision.ops.nms.html

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> boxes = np.array([[0.0, 0, 2, 2], [0.2, 0, 2.2, 2], [5.0, 5, 6, 6], [0.0, 0, 2, 2]])
    >>> mlprims.nms(boxes, np.array([0.8, 0.9, 0.7, 0.9]), 0.5).tolist()
    [1, 2]
    """
    xp, backend, threshold = _check(boxes, scores, None, iou_threshold)
    n = boxes.shape[0]
    kept, count = _greedy(boxes, scores, None, threshold, n, xp=xp, backend=backend)
    return _trimmed(kept, count, "nms")


def batched_nms(boxes: Array, scores: Array, classes: Array, /, iou_threshold: float) -> Array:
    """Non-maximum suppression within each class: classes never suppress each other.

    Parameters
    ----------
    boxes : array, shape (N, 4)
        Boxes ``(x1, y1, x2, y2)`` with ``x1 <= x2`` and ``y1 <= y2``, real floating.
    scores : array, shape (N,)
        One score per box, real (NaN not allowed: its rank is unspecified).
    classes : integer array, shape (N,)
        The class of each box (torchvision's ``idxs``); any integers.
    iou_threshold : float
        A box is suppressed when its IoU with a kept box of its class is greater than this,
        >= 0.

    Returns
    -------
    integer array, shape (K,)
        Indices into `boxes` of the kept boxes of every class together, by decreasing score,
        equal scores lower index first. Eager only, like ``nms``.

    Raises
    ------
    ValueError
        If `boxes` is not (N, 4), `scores` or `classes` is not (N,), `iou_threshold` is
        negative, or a box has ``x2 < x1`` or ``y2 < y1``.
    TypeError
        If `classes` is not of an integer dtype, or under ``jax.jit``.

    See Also
    --------
    nms : Suppression across all boxes.

    Notes
    -----
    Matches ``torchvision.ops.batched_nms``. torchvision shifts each class's boxes by
    ``class * (max coordinate + 1)`` so that classes cannot overlap, then runs ``nms``; here
    a suppression step compares classes instead (one more comparison per step), which is
    exact for any coordinates and any class ids, where the shifted coordinates lose float
    precision as they grow.

    References
    ----------
    - https://pytorch.org/vision/stable/generated/torchvision.ops.batched_nms.html

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> boxes = np.array([[0.0, 0, 2, 2], [0.2, 0, 2.2, 2], [0.0, 0, 2, 2]])
    >>> scores, classes = np.array([0.9, 0.8, 0.7]), np.array([0, 0, 1])
    >>> mlprims.batched_nms(boxes, scores, classes, 0.5).tolist()
    [0, 2]
    """
    if classes is None:
        msg = "`classes` must be an integer array of shape (N,), got None; use `nms` instead"
        raise TypeError(msg)
    xp, backend, threshold = _check(boxes, scores, classes, iou_threshold)
    n = boxes.shape[0]
    kept, count = _greedy(boxes, scores, classes, threshold, n, xp=xp, backend=backend)
    return _trimmed(kept, count, "batched_nms")
