"""The softmax family: softmax, log_softmax, logsumexp, along an axis.

The ``*_core`` functions skip the argument checks. Each works in float32 for 16-bit inputs
(``statistics_dtype``) and casts back, and never divides by zero or takes the log of zero,
so an all ``-inf`` slice raises no warning on NumPy.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from array_api_compat import device

from .._array import (
    Array,
    Namespace,
    check_axes,
    check_axis,
    check_bool,
    floating_namespace,
    statistics_dtype,
)

__all__: list[str] = ["log_softmax", "logsumexp", "softmax"]


class _Shifted(NamedTuple):
    """A slice's values shifted by its maximum, and what the three functions need from them."""

    shifted: Array  # x - m: NaN throughout an undefined slice
    exps: Array  # exp(shifted), computed once: softmax divides it, the others sum it
    m: Array  # the shift (kept, size 1): the maximum, 0 for an all -inf slice, NaN if undefined
    total: Array  # sum(exps): in [1, n], 0 for an all -inf slice, NaN if undefined
    undefined: Array  # the slice holds a NaN or +inf: its softmax is NaN (inf - inf)
    maximum: Array  # the maximum itself: NaN or +inf where undefined


def _shifted(x: Array, axes: int | tuple[int, ...], *, xp: Namespace) -> _Shifted:
    """Shift each slice over `axes` by its maximum ``m`` so that ``exp`` never overflows.

    Three kinds of slices need care, all without branching on values (``jax.jit``) and
    without a NumPy warning:

    * all ``-inf`` (every class masked): ``m = -inf`` is replaced by 0 (as torch's logsumexp
      does), so ``exp(x - m)`` is ``exp(-inf) = 0`` instead of ``exp(-inf + inf) = NaN``;
    * holding a NaN: ``max`` propagates NaN (the standard says so), so ``m`` is NaN;
    * holding ``+inf``: ``x - m`` would be ``inf - inf = NaN``, as torch and JAX compute.

    The last two are `undefined`: their shift is NaN, which NaN-fills the slice quietly
    (arithmetic on a NaN raises no invalid-operation warning, ``inf - inf`` would). All the
    special cases are decided on the small array of maxima: the full-size work is one
    subtraction, one ``exp`` and one sum (a speed that matters in eager torch, where every
    full-size ``where`` is one more pass over memory).
    """
    maximum = xp.max(x, axis=axes, keepdims=True)  # NaN if the slice holds one
    undefined = xp.isnan(maximum) | (maximum == xp.inf)
    m = xp.where(maximum == -xp.inf, 0.0, maximum)  # an all -inf slice: shift by 0
    m = xp.where(maximum == xp.inf, xp.nan, m)  # +inf: NaN like a NaN maximum already is
    shifted = x - m
    exps = xp.exp(shifted)
    total = xp.sum(exps, axis=axes, keepdims=True)
    return _Shifted(shifted, exps, m, total, undefined, maximum)


def softmax_core(x: Array, axis: int, *, xp: Namespace) -> Array:
    """Softmax along `axis`; an all ``-inf`` slice gives 0."""
    if x.shape[axis] == 0:  # nothing to normalise (and max() of an empty axis fails)
        return xp.asarray(x, copy=True)
    z = xp.astype(x, statistics_dtype(x.dtype, xp=xp), copy=False)
    s = _shifted(z, axis, xp=xp)
    # total is >= 1 unless the whole slice is -inf (then exps is 0 there anyway); NaN where
    # the slice is undefined, so the slice is NaN (as torch and JAX give)
    out = s.exps / xp.where(s.total == 0, 1.0, s.total)
    return xp.astype(out, x.dtype, copy=False)


def log_softmax_core(x: Array, axis: int, *, xp: Namespace) -> Array:
    """Log-softmax along `axis`; an all ``-inf`` slice gives ``-inf``."""
    if x.shape[axis] == 0:  # nothing to normalise (and max() of an empty axis fails)
        return xp.asarray(x, copy=True)
    z = xp.astype(x, statistics_dtype(x.dtype, xp=xp), copy=False)
    s = _shifted(z, axis, xp=xp)
    # NaN throughout an undefined slice (its shift is NaN), as torch and JAX give
    out = s.shifted - xp.log(xp.where(s.total == 0, 1.0, s.total))
    return xp.astype(out, x.dtype, copy=False)


def logsumexp_core(x: Array, axes: tuple[int, ...], keepdims: bool, *, xp: Namespace) -> Array:
    """Log-sum-exp over `axes`; an all ``-inf`` slice gives ``-inf``, a NaN NaN, else ``+inf``
    gives ``+inf``."""
    z = xp.astype(x, statistics_dtype(x.dtype, xp=xp), copy=False)
    if any(z.shape[a] == 0 for a in axes):  # the log of an empty sum; max() would fail
        shape = tuple(1 if a in axes else s for a, s in enumerate(z.shape))
        out = xp.full(shape, -xp.inf, dtype=z.dtype, device=device(z))
    else:
        s = _shifted(z, axes, xp=xp)
        empty = s.total == 0  # every term is exp(-inf)
        out = xp.where(empty, -xp.inf, s.m + xp.log(xp.where(empty, 1.0, s.total)))
        out = xp.where(s.undefined, s.maximum, out)  # NaN if the slice holds one, else +inf
    if not keepdims:
        out = xp.squeeze(out, axis=axes) if axes else out
    return xp.astype(out, x.dtype, copy=False)


def softmax(x: Array, /, *, axis: int = -1) -> Array:
    r"""``exp(x) / sum(exp(x))`` along `axis`; matches ``torch.softmax`` / ``jax.nn.softmax``.

    Parameters
    ----------
    x : array (...), real floating, at least one axis
    axis : int
        The axis to normalise over (default: the last).

    Returns
    -------
    array, shape and dtype of `x`; each slice along `axis` sums to 1.

    Notes
    -----
    .. math:: \operatorname{softmax}(x)_i = \frac{e^{x_i - m}}{\sum_j e^{x_j - m}},
              \qquad m = \max_j x_j.

    The maximum of each slice is subtracted first (no overflow). A slice that is entirely
    ``-inf`` (every class masked) gives 0, not NaN (torch and JAX give NaN). Slices holding
    NaN or ``+inf`` give NaN. float16/bfloat16 are computed in float32 and cast back.

    References
    ----------
    - https://pytorch.org/docs/stable/generated/torch.nn.functional.softmax.html
    - https://jax.readthedocs.io/en/latest/_autosummary/jax.nn.softmax.html

    Examples
    --------
    >>> import numpy as np
    >>> softmax(np.array([[0.0, 0.0], [1000.0, -np.inf]]))
    array([[0.5, 0.5],
           [1. , 0. ]])
    """
    xp = floating_namespace(x)
    axis = _check_softmax_axis(x, axis)
    return softmax_core(x, axis, xp=xp)


def log_softmax(x: Array, /, *, axis: int = -1) -> Array:
    r"""``x - logsumexp(x)`` along `axis`; matches ``F.log_softmax`` / ``jax.nn.log_softmax``.

    Parameters
    ----------
    x : array (...), real floating, at least one axis
    axis : int
        The axis to normalise over (default: the last).

    Returns
    -------
    array, shape and dtype of `x`.

    Notes
    -----
    .. math:: \log\operatorname{softmax}(x)_i = (x_i - m) - \log \sum_j e^{x_j - m},
              \qquad m = \max_j x_j,

    computed as ``(x - m) - log(sum(exp(x - m)))`` with ``m`` the maximum, never as
    ``log(softmax(x))``. A slice that is entirely ``-inf`` gives ``-inf`` everywhere (torch and
    JAX give NaN): the log of our softmax 0, and ``x - logsumexp(x)`` with ``logsumexp = -inf``
    read as "every element is impossible". A slice holding NaN or ``+inf`` is NaN throughout
    (as torch and JAX). float16/bfloat16 are computed in float32.

    References
    ----------
    - https://pytorch.org/docs/stable/generated/torch.nn.functional.log_softmax.html
    - https://jax.readthedocs.io/en/latest/_autosummary/jax.nn.log_softmax.html

    Examples
    --------
    >>> import numpy as np
    >>> log_softmax(np.array([0.0, 0.0])).round(4)
    array([-0.6931, -0.6931])
    """
    xp = floating_namespace(x)
    axis = _check_softmax_axis(x, axis)
    return log_softmax_core(x, axis, xp=xp)


def logsumexp(
    x: Array, /, *, axis: int | Sequence[int] | None = -1, keepdims: bool = False
) -> Array:
    r"""``log(sum(exp(x)))`` over `axis`, without overflow; matches ``torch.logsumexp``.

    Parameters
    ----------
    x : array (...), real floating
    axis : int, tuple of int or None
        The axes to reduce (default: the last; None: all).
    keepdims : bool
        Keep the reduced axes with length 1.

    Returns
    -------
    array, `x`'s shape without (or, with `keepdims`, with length 1 along) the reduced axes.

    Notes
    -----
    .. math::

        \operatorname{logsumexp}(x) = m + \log \sum_i e^{x_i - m},
        \qquad m = \max_i x_i \ (0 \text{ where infinite}),

    ``m + log(sum(exp(x - m)))`` with ``m`` the maximum, replaced by 0 where it is infinite
    (torch's rule), so an all ``-inf`` slice gives ``-inf``, a slice holding NaN gives NaN and
    one holding ``+inf`` (and no NaN) gives ``+inf``. Matches ``jax.scipy.special.logsumexp``
    too. Reducing an empty axis gives ``-inf`` (the log of an empty sum).

    References
    ----------
    - https://pytorch.org/docs/stable/generated/torch.logsumexp.html
    - https://jax.readthedocs.io/en/latest/_autosummary/jax.scipy.special.logsumexp.html

    Examples
    --------
    >>> import numpy as np
    >>> float(logsumexp(np.array([1000.0, 1000.0])).round(4))
    1000.6931
    """
    xp = floating_namespace(x)
    check_bool(keepdims, "keepdims")
    if x.ndim == 0 and isinstance(axis, int):
        msg = "`x` must have at least one axis for logsumexp over `axis`; got a 0-d array"
        raise ValueError(msg)
    return logsumexp_core(x, check_axes(axis, x.ndim), keepdims, xp=xp)


def _check_softmax_axis(x: Array, axis: int) -> int:
    if x.ndim == 0:
        msg = "`x` must have at least one axis to normalise over, got a 0-d array"
        raise ValueError(msg)
    return check_axis(axis, x.ndim)
