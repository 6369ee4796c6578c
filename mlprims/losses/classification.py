"""Losses: cross-entropy over classes and binary cross-entropy on logits, as in PyTorch.

Shape legend: ``C`` classes; ``...`` any batch axes (``N``, or ``N, d1, d2`` for images).
Logits are unnormalised scores; both losses take the log-softmax / log-sigmoid themselves,
stably (no overflow for logits of +-1000, no warnings).
"""

from __future__ import annotations

import math

from .._array import (
    Array,
    Namespace,
    check_array,
    check_axis,
    check_broadcasts_to,
    check_choice,
    check_floating,
    check_in_range,
    check_int,
    concrete_any,
    index_dtype,
    namespace,
    shape_str,
    statistics_dtype,
)
from ..activations import log_softmax
from ._common import REDUCTIONS, log_sigmoid, reduce

__all__: list[str] = ["binary_cross_entropy_with_logits", "cross_entropy"]


def cross_entropy(
    logits: Array,
    target: Array,
    /,
    *,
    weight: Array | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> Array:
    r"""Cross-entropy between ``softmax(logits)`` and `target`; matches ``F.cross_entropy``.

    Parameters
    ----------
    logits : array (..., C), real floating
        Unnormalised class scores; the class axis is `axis`.
    target : array
        Either class indices, an integer array of `logits`' shape without the class axis
        (...), or class probabilities, a floating array of `logits`' shape (..., C).
    weight : array (C,), real floating, optional
        A rescaling weight per class.
    ignore_index : int
        Class-index targets equal to it contribute nothing, to the loss or to the mean's
        denominator. With probability targets it must be negative (as in torch).
    reduction : {"mean", "sum", "none"}
        ``"none"`` returns the per-element losses (...).
    label_smoothing : float in [0, 1]
        Mixes the target with the uniform distribution: ``(1 - eps) target + eps / C``.
    axis : int
        The class axis. **Default -1, where torch uses dim 1**: for ``(N, C)`` logits they
        agree; torch-layout ``(N, C, d1, ...)`` logits need ``axis=1``.

    Returns
    -------
    array: a scalar (0-d) for "mean"/"sum", else (...); dtype of `logits`.

    Notes
    -----
    With ``logp = log_softmax(logits)`` and ``w`` the weights (1 without `weight`):

    * class indices ``t``: ``l_i = (1 - eps) (-w[t_i] logp[i, t_i])
      + (eps / C) (-sum_c w[c] logp[i, c])``, 0 where ``t_i == ignore_index``; "mean" is
      ``sum_i l_i / sum_i w[t_i]`` over the non-ignored elements.
    * probabilities ``q``: ``l_i = -sum_c w[c] q'[i, c] logp[i, c]`` with
      ``q' = (1 - eps) q + eps / C``; "mean" divides by the number of elements of (...).

    .. math:: \ell_i = -(1 - \varepsilon)\, w_{t_i} \log p_{i, t_i}
              - \frac{\varepsilon}{C} \sum_c w_c \log p_{i, c}, \qquad
              \ell_i = -\sum_c w_c \, q'_{i, c} \log p_{i, c}.

    Both exactly as ``torch.nn.functional.cross_entropy`` (LossNLL.cpp). As in torch, a "mean"
    over a batch whose targets are all ignored (or an empty batch) is NaN (0 / 0).
    Differences from torch: a target probability of 0 paired with a ``-inf`` logit
    contributes 0 (torch: NaN); a row of logits that is all ``-inf`` gives an infinite loss.
    As in torch, label smoothing with a ``-inf`` logit (a masked class) gives an infinite loss.

    Class indices outside ``[0, C)`` other than `ignore_index` raise a ValueError when the
    values can be read (NumPy, PyTorch, JAX outside ``jax.jit``, array_api_strict). Under
    ``jax.jit`` they cannot be checked; the loss of such an element is NaN instead.

    References
    ----------
    - https://pytorch.org/docs/stable/generated/torch.nn.functional.cross_entropy.html

    Examples
    --------
    >>> import numpy as np
    >>> logits = np.array([[2.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    >>> float(cross_entropy(logits, np.array([0, 2])).round(4))
    0.6691
    >>> float(cross_entropy(logits, np.array([0, -100])).round(4))
    0.2395
    """
    check_array(logits, "logits")
    check_array(target, "target")
    if weight is not None:
        check_array(weight, "weight")
    xp = namespace(logits, target, weight, names=("logits", "target", "weight"))
    check_floating(logits, "logits", xp=xp)
    if logits.ndim == 0:
        msg = "`logits` must have a class axis, got a 0-d array"
        raise ValueError(msg)
    axis = check_axis(axis, logits.ndim)
    reduction = check_choice(reduction, "reduction", REDUCTIONS)
    eps = check_in_range(label_smoothing, "label_smoothing", 0.0, 1.0)
    ignore_index = check_int(ignore_index, "ignore_index")
    n_classes = logits.shape[axis]
    if n_classes == 0:
        msg = (
            f"`logits` must have at least one class along axis {axis}, "
            f"got shape {shape_str(logits.shape)}"
        )
        raise ValueError(msg)
    if weight is not None:
        check_floating(weight, "weight", xp=xp)
        if tuple(weight.shape) != (n_classes,):
            msg = f"`weight` must have shape (C,) = ({n_classes},), got {shape_str(weight.shape)}"
            raise ValueError(msg)

    dtype = logits.dtype
    work = statistics_dtype(dtype, xp=xp)
    z = xp.moveaxis(xp.astype(logits, work, copy=False), axis, -1)  # (..., C)
    logp = log_softmax(z, axis=-1)  # (..., C)
    w = None if weight is None else xp.astype(weight, work, copy=False)  # (C,)

    if xp.isdtype(target.dtype, "real floating"):
        if tuple(target.shape) != tuple(logits.shape):
            msg = (
                f"`target` holds class probabilities (floating dtype) and must have the shape "
                f"of `logits`, {shape_str(logits.shape)}, got {shape_str(target.shape)}"
            )
            raise ValueError(msg)
        if ignore_index >= 0:
            msg = f"`ignore_index` is not supported with probability targets, got {ignore_index}"
            raise ValueError(msg)
        q = xp.moveaxis(xp.astype(target, work), axis, -1)  # (..., C)
        loss = _probability_loss(logp, q, w, eps, xp=xp)  # (...)
        count = math.prod(loss.shape)
        if reduction == "mean":  # divided by the number of elements, not the weights
            total = xp.sum(loss)
            loss = total / count if count else xp.full_like(total, xp.nan)
    elif xp.isdtype(target.dtype, "integral"):
        expected = logits.shape[:axis] + logits.shape[axis + 1 :]
        if tuple(target.shape) != tuple(expected):
            msg = (
                f"`target` holds class indices (integer dtype) and must have the shape of "
                f"`logits` without the class axis {axis}, {shape_str(expected)}, "
                f"got {shape_str(target.shape)}"
            )
            raise ValueError(msg)
        t = xp.astype(target, index_dtype(xp))
        _check_classes(t, n_classes, ignore_index, xp=xp)
        loss, denominator = _class_loss(logp, t, w, eps, ignore_index, xp=xp)
        if reduction == "mean":
            total = xp.sum(loss)
            nonzero = denominator != 0
            safe = xp.where(nonzero, denominator, xp.ones_like(denominator))
            loss = xp.where(nonzero, total / safe, xp.full_like(total, xp.nan))
    else:
        msg = (
            "`target` must hold class indices (an integer dtype) or class probabilities "
            f"(a floating dtype), got {target.dtype}"
        )
        raise TypeError(msg)
    if reduction == "sum":
        loss = xp.sum(loss)
    return xp.astype(loss, dtype)


def _probability_loss(
    logp: Array, q: Array, w: Array | None, eps: float, *, xp: Namespace
) -> Array:
    """``-sum_c w_c q'_c logp_c`` over the last axis, ``q' = (1 - eps) q + eps / C``."""
    if eps > 0:
        q = q * (1.0 - eps) + eps / q.shape[-1]
    # 0 * log 0 = 0: a zero target probability ignores a -inf log-probability
    terms = q * xp.where(q == 0, xp.zeros_like(logp), logp)
    if w is not None:
        terms = terms * w
    return -xp.sum(terms, axis=-1)


def _class_loss(
    logp: Array, t: Array, w: Array | None, eps: float, ignore_index: int, *, xp: Namespace
) -> tuple[Array, Array]:
    """Per-element losses (...) and the mean's denominator ``sum w[t_i]`` (non-ignored)."""
    n_classes = logp.shape[-1]
    ignored = t == ignore_index
    in_range = (t >= 0) & (t < n_classes)
    valid = in_range & ~ignored
    safe = xp.where(valid, t, xp.zeros_like(t))  # a real class everywhere: the gather is safe
    index = xp.expand_dims(safe, axis=-1)  # (..., 1)
    picked = xp.take_along_axis(logp, index, axis=-1)[..., 0]  # (...) logp[i, t_i]
    picked = xp.where(valid, picked, xp.zeros_like(picked))  # ignored: 0, even if logp is -inf
    if w is None:
        w_t = xp.astype(valid, logp.dtype)
    else:
        w_t = xp.reshape(xp.take(w, xp.reshape(safe, (-1,)), axis=0), safe.shape)
        w_t = xp.where(valid, w_t, xp.zeros_like(w_t))
    loss = -w_t * picked
    if eps > 0:
        smooth = -xp.sum(logp if w is None else logp * w, axis=-1)  # (...)
        smooth = xp.where(valid, smooth, xp.zeros_like(smooth))
        loss = (1.0 - eps) * loss + (eps / n_classes) * smooth
    # Only reachable under jax.jit (eager inputs were checked): NaN, never a silent wrong value
    loss = xp.where(in_range | ignored, loss, xp.full_like(loss, xp.nan))
    return loss, xp.sum(w_t)


def _check_classes(t: Array, n_classes: int, ignore_index: int, *, xp: Namespace) -> None:
    """ValueError if a class index is outside [0, C) and not `ignore_index` (eager arrays only).

    A deliberate exception to "never read array values in a primitive": a wrong class index
    would otherwise be a silent wrong loss. Traced arrays (``jax.jit``) cannot be read and are
    left alone; the loss then carries NaN for those elements.
    """
    bad = ((t < 0) | (t >= n_classes)) & (t != ignore_index)
    if concrete_any(bad, xp=xp):  # None (unknown) under jax.jit
        flat_bad = xp.reshape(bad, (-1,))
        first = int(xp.argmax(xp.astype(flat_bad, xp.int32)))
        count = int(xp.sum(xp.astype(flat_bad, index_dtype(xp))))
        value = int(xp.reshape(t, (-1,))[first])
        msg = (
            f"`target` must hold class indices in [0, C) = [0, {n_classes}) or `ignore_index` "
            f"({ignore_index}); got {count} outside, e.g. {value} at flat position {first}"
        )
        raise ValueError(msg)


def binary_cross_entropy_with_logits(
    logits: Array,
    target: Array,
    /,
    *,
    weight: Array | None = None,
    pos_weight: Array | None = None,
    reduction: str = "mean",
) -> Array:
    r"""Binary cross-entropy of ``sigmoid(logits)`` against `target`, computed stably.

    Matches ``torch.nn.functional.binary_cross_entropy_with_logits``.

    Parameters
    ----------
    logits : array (...), real floating
    target : array (...), real floating, the shape of `logits`
        Probabilities of the positive class (usually 0 or 1; soft labels are allowed).
    weight : array, real floating, optional
        Per-element weights, broadcastable to `logits`' shape.
    pos_weight : array, real floating, optional
        Weight of the positive term, broadcastable to `logits`' shape; usually (C,) with
        ``C`` the last axis (one weight per class in multi-label classification).
    reduction : {"mean", "sum", "none"}

    Returns
    -------
    array: a scalar (0-d) for "mean"/"sum", else (...); dtype of `logits`.

    Notes
    -----
    With :math:`x` the `logits`, :math:`y` the `target`, :math:`w` the `weight` and :math:`p`
    the `pos_weight` (each 1 when None):

    .. math::

        \ell = w \left[ (1 - y)\,x - \bigl(1 + (p - 1)\,y\bigr) \log\sigma(x) \right],
        \qquad \log\sigma(x) = \min(x, 0) - \log\left(1 + e^{-|x|}\right),

    ``l = w [ (1 - y) x - (1 + (p - 1) y) log_sigmoid(x) ]`` with
    ``log_sigmoid(x) = min(x, 0) - log1p(exp(-|x|))``, which equals
    ``-w [p y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))]`` without ever forming
    ``exp(|x|)``: logits of +-1000 give finite losses and no warnings. "mean" divides by the
    number of elements (an empty input gives NaN, as torch).

    References
    ----------
    -
      https://pytorch.org/docs/stable/generated/torch.nn.functional.binary_cross_entropy_with_logits.html

    Examples
    --------
    >>> import numpy as np
    >>> float(binary_cross_entropy_with_logits(np.array([1000.0, -1000.0]), np.array([1.0, 0.0])))
    0.0
    """
    check_array(logits, "logits")
    check_array(target, "target")
    for name, a in (("weight", weight), ("pos_weight", pos_weight)):
        if a is not None:
            check_array(a, name)
    xp = namespace(
        logits, target, weight, pos_weight, names=("logits", "target", "weight", "pos_weight")
    )
    check_floating(logits, "logits", xp=xp)
    check_floating(target, "target", xp=xp)
    reduction = check_choice(reduction, "reduction", REDUCTIONS)
    if tuple(target.shape) != tuple(logits.shape):
        msg = (
            f"`target` must have the shape of `logits`, {shape_str(logits.shape)}, "
            f"got {shape_str(target.shape)}"
        )
        raise ValueError(msg)
    for name, a in (("weight", weight), ("pos_weight", pos_weight)):
        if a is not None:
            check_floating(a, name, xp=xp)
            check_broadcasts_to(a.shape, logits.shape, name, target_name="the shape of `logits`")

    dtype = logits.dtype
    work = statistics_dtype(dtype, xp=xp)
    x, y = xp.astype(logits, work), xp.astype(target, work)
    positive = log_sigmoid(x, xp=xp)
    if pos_weight is not None:
        positive = positive * (1.0 + (xp.astype(pos_weight, work) - 1.0) * y)
    loss = (1.0 - y) * x - positive
    if weight is not None:
        loss = loss * xp.astype(weight, work)
    return xp.astype(reduce(loss, reduction, xp=xp), dtype)
