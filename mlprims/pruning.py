"""Magnitude pruning as functions: the masks of ``torch.nn.utils.prune``'s ``l1_unstructured``
and ``ln_structured`` (True = kept), and the masked weight.

torch stores the mask on the module and multiplies on every forward; here the mask is returned
and :func:`prune` applies it. The smallest entries (or slices) are found by a stable argsort
and its inverse permutation (two sorts, no scatter and no data-dependent shape, so the mask
compiles under ``jax.jit`` and is the same on every backend, ties included).
"""

from __future__ import annotations

import math
import numbers
from typing import Any

from array_api_compat import device as device_of

from ._array import (
    Array,
    Namespace,
    check_axis,
    check_broadcasts_to,
    check_dtype,
    check_in_range,
    check_int,
    check_number,
    floating_namespace,
    namespace,
    shape_str,
    statistics_dtype,
)

__all__: list[str] = ["magnitude_prune", "prune", "structured_prune"]


def magnitude_prune(w: Array, /, *, amount: float | int) -> Array:
    r"""The mask that prunes the `amount` entries of `w` of smallest magnitude (True = kept).

    Matches ``torch.nn.utils.prune.l1_unstructured``'s ``weight_mask``.

    Parameters
    ----------
    w : array (...), real floating
        A weight of any shape (pruned as one flat set of entries).
    amount : float in [0, 1] or int in [0, w.size]
        A float is the fraction of entries to prune, ``round(amount * w.size)`` of them with
        Python's ``round`` (half to even: 2.5 -> 2, 3.5 -> 4), as torch; an int is their
        number: ``amount=1`` prunes one entry, ``amount=1.0`` all of them.

    Returns
    -------
    array of bool, the shape of `w`: True where the entry is kept.

    Notes
    -----
    The pruned entries are the ``k`` smallest ``|w|``. Among equal magnitudes the lower flat
    (C-order) index is pruned first. **torch picks among ties by its unstable top-k**
    (``torch.topk(|w|, k, largest=False)``, a partial sort whose order is not specified), so
    on ties the masks may differ (the count, and the magnitudes pruned, never do). A NaN counts
    as the largest magnitude (kept), as in torch.

    With k the number pruned and :math:`r_i` the rank of entry i (0-based, by magnitude, then
    by flat index), the mask is:

    .. math::

        m_i = \mathbb{1}\left[r_i \ge k\right], \qquad
        r_i = \#\{j : |w_j| < |w_i| \text{ or } (|w_j| = |w_i| \text{ and } j < i)\}

    References
    ----------
    - https://pytorch.org/docs/stable/generated/torch.nn.utils.prune.l1_unstructured.html

    Examples
    --------
    >>> import numpy as np
    >>> w = np.array([[0.5, -3.0, 0.1], [2.0, -0.2, 1.0]])
    >>> magnitude_prune(w, amount=0.5).tolist()
    [[False, True, False], [True, False, True]]
    >>> magnitude_prune(w, amount=1).tolist()
    [[True, True, False], [True, True, True]]
    """
    xp = floating_namespace(w, "w")
    size = math.prod(w.shape)
    k = _count(amount, size, "entries of `w`")
    keep = _keep_largest(xp.reshape(xp.abs(w), (-1,)), k, xp=xp)  # (w.size,)
    return xp.reshape(keep, w.shape)


def structured_prune(w: Array, /, *, amount: float | int, n: float = 2, axis: int = 0) -> Array:
    r"""The mask that prunes the `amount` slices of `w` along `axis` of smallest L`n` norm.

    Matches ``torch.nn.utils.prune.ln_structured``'s ``weight_mask`` (`axis` is its ``dim``).

    Parameters
    ----------
    w : array (..., C, ...), real floating, at least 2-d
        A weight; its slices along `axis` (the ``C`` channels) are pruned whole.
    amount : float in [0, 1] or int in [0, C]
        A float is the fraction of slices to prune, ``round(amount * C)`` (Python's round,
        half to even, as torch); an int is their number.
    n : float > 0 or math.inf
        The order of the norm of each slice, over all its entries: ``(sum |x|^n)^(1/n)``,
        ``max |x|`` for ``inf`` (torch's ``p``; its 0, -inf, "fro" and "nuc" are not offered:
        "fro" is ``n=2``).
    axis : int
        The axis of the slices (torch's ``dim``). torch's nn.Linear weight is (out, in): its
        ``dim=0`` prunes output units, **axis=-1 of mlprims' (D_in, D_out) linear weights**;
        a conv2d weight (O, I, kH, kW) has the same layout in both (axis 0: filters).

    Returns
    -------
    array of bool, the shape of `w`: True where the entry's slice is kept.

    Notes
    -----
    The ``k`` slices of smallest norm are pruned; among equal norms the lower index is pruned
    first. torch keeps the ``C - k`` largest by ``torch.topk(norms, C - k)``, whose order
    among ties is not specified: on ties the masks may differ (the count never does).

    With :math:`\nu_c` the norm of slice c (j over its entries; :math:`\max_j |w_{c,j}|` for
    ``n = inf``) and :math:`r_c` its rank (0-based, by norm, then by index), every entry of
    slice c gets:

    .. math::

        m_c = \mathbb{1}\left[r_c \ge k\right], \qquad
        \nu_c = \Bigl(\sum_j |w_{c,j}|^n\Bigr)^{1/n}

    References
    ----------
    - https://pytorch.org/docs/stable/generated/torch.nn.utils.prune.ln_structured.html

    Examples
    --------
    >>> import numpy as np
    >>> w = np.array([[3.0, 0.1], [0.2, 0.1], [1.0, -1.0]])
    >>> structured_prune(w, amount=1, axis=0).tolist()
    [[True, True], [False, False], [True, True]]
    >>> structured_prune(w, amount=0.5, axis=1).tolist()
    [[True, False], [True, False], [True, False]]
    """
    xp = floating_namespace(w, "w")
    if w.ndim < 2:
        msg = (
            "`w` must have at least 2 dimensions for structured pruning (slices along `axis`), "
            f"got shape {shape_str(w.shape)}; use magnitude_prune for a 1-d weight"
        )
        raise ValueError(msg)
    axis = check_axis(axis, w.ndim)
    order = check_number(n, "n")
    if order != math.inf:
        order = check_in_range(n, "n", 0.0, closed=(False, False))
    k = _count(amount, w.shape[axis], f"slices of `w` along axis {axis}")

    work = statistics_dtype(w.dtype, xp=xp)
    others = tuple(i for i in range(w.ndim) if i != axis)
    norms = _norms(xp.abs(xp.astype(w, work, copy=False)), order, others, xp=xp)  # (C,)
    keep = _keep_largest(norms, k, xp=xp)  # (C,)
    along = tuple(w.shape[axis] if i == axis else 1 for i in range(w.ndim))
    return xp.reshape(keep, along) & xp.ones(w.shape, dtype=xp.bool, device=device_of(w))


def prune(w: Array, mask: Array, /) -> Array:
    """`w` with its pruned entries set to zero: ``w * mask``, as torch's pruned weight.

    torch's module holds ``weight_orig`` and ``weight_mask`` and computes this product.

    Parameters
    ----------
    w : array (...), real floating
    mask : array, bool or real floating, broadcastable to the shape of `w`
        True (or 1) where the entry is kept: :func:`magnitude_prune`'s or
        :func:`structured_prune`'s mask, or torch's float ``weight_mask``.

    Returns
    -------
    array, the shape and dtype of `w`

    Notes
    -----
    A product, as torch's: a pruned ``inf`` or NaN becomes NaN (``inf * 0``), and the
    gradient with respect to `w` is the mask.

    References
    ----------
    - https://pytorch.org/tutorials/intermediate/pruning_tutorial.html

    Examples
    --------
    >>> import numpy as np
    >>> w = np.array([0.5, -3.0, 0.1])
    >>> prune(w, magnitude_prune(w, amount=1)).tolist()
    [0.5, -3.0, 0.0]
    """
    xp = floating_namespace(w, "w")
    namespace(w, mask, names=("w", "mask"))
    check_dtype(mask, "mask", ("bool", "real floating"), xp=xp)
    check_broadcasts_to(mask.shape, w.shape, "mask", target_name="the shape of `w`")
    return w * xp.astype(mask, w.dtype)


def _count(amount: Any, size: int, what: str) -> int:
    """The number to prune: an int `amount` itself, a float one ``round(amount * size)``
    (torch's ``_compute_nparams_toprune``), after torch's checks."""
    if isinstance(amount, numbers.Integral) and not isinstance(amount, bool):
        count = check_int(amount, "amount", minimum=0)
        if count > size:
            msg = (
                f"`amount` as an int is the number to prune and must be <= {size} "
                f"(the {what}), got {count}"
            )
            raise ValueError(msg)
        return count
    fraction = check_in_range(amount, "amount", 0.0, 1.0)  # a float: the fraction pruned
    return round(fraction * size)


def _keep_largest(scores: Array, k: int, *, xp: Namespace) -> Array:
    """True for all but the `k` smallest of `scores` (1-d); ties: the lower index is smaller."""
    order = xp.argsort(scores, stable=True)  # ascending, ties in index order
    rank = xp.argsort(order)  # the inverse permutation: each entry's place in `order`
    return rank >= k


def _norms(a: Array, order: float, axes: tuple[int, ...], *, xp: Namespace) -> Array:
    """The L`order` norm of `a` (>= 0) over `axes` (0 for an empty slice, as torch)."""
    if order == math.inf and all(a.shape[i] for i in axes):
        return xp.max(a, axis=axes)
    if order in (1, math.inf):  # inf: only empty slices get here
        return xp.sum(a, axis=axes)
    if order == 2:
        return xp.sqrt(xp.sum(a * a, axis=axes))
    return xp.sum(a**order, axis=axes) ** (1.0 / order)
