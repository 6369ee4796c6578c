"""Distributions drawn from Threefry bits: uniform, bernoulli, normal, gumbel, categorical,
permutation, choice (each bit-identical to ``jax.random``, see :mod:`mlprims.random`).
"""

from __future__ import annotations

import math
from typing import Any

from .. import backends
from .._array import (
    Array,
    broadcasts_to,
    check_array,
    check_axis,
    check_broadcasts_to,
    check_floating,
    check_in_range,
    check_shape,
    namespace,
    shape_str,
)
from .._special import erfinv
from ._common import Shape, as_int, device_of
from ._threefry import (
    bound_like,
    check_key,
    shuffled_indices,
    unit_floats,
)

__all__ = [
    "bernoulli",
    "categorical",
    "choice",
    "gumbel",
    "normal",
    "permutation",
    "uniform",
]


def uniform(
    key: Array,
    /,
    shape: Shape = (),
    *,
    dtype: Any = "float32",
    minval: float | Array = 0.0,
    maxval: float | Array = 1.0,
) -> Array:
    """Uniform floats in ``[minval, maxval)``: ``jax.random.uniform``, bit for bit.

    Parameters
    ----------
    key : array of shape (2,), uint32
    shape : int or tuple of ints
        ``()`` draws one 0-d value.
    dtype : floating dtype or its name, default ``"float32"``
        float16, bfloat16 (where the backend has it), float32, float64.
    minval, maxval : float, or array broadcasting to `shape`
        Rounded to `dtype` first, like JAX.

    Returns
    -------
    array of `shape` and `dtype`

    Notes
    -----
    ``u = m * 2**-nmant`` with ``m`` the top ``nmant`` random bits (23 for float32, 52 for
    float64: see :func:`mlprims.random._threefry.unit_floats`), then
    ``max(minval, u * (maxval - minval) + minval)`` as in ``jax._src.random._uniform``
    (exact for the default bounds; for others, see the FMA caveat in the module docstring).

    References
    ----------
    - https://jax.readthedocs.io/en/latest/_autosummary/jax.random.uniform.html

    Examples
    --------
    >>> from mlprims import random
    >>> random.uniform(random.key(0), (2,), minval=-1.0, maxval=1.0).round(4)
    array([0.8953, 0.9572], dtype=float32)
    """
    xp, u = unit_floats(key, shape, dtype)
    lo, hi = bound_like(minval, "minval", u, xp), bound_like(maxval, "maxval", u, xp)
    return xp.maximum(lo, u * (hi - lo) + lo)


def bernoulli(key: Array, /, p: float | Array = 0.5, shape: Shape | None = None) -> Array:
    """Booleans, True with probability `p`: ``uniform(key, shape) < p``.

    Parameters
    ----------
    key : array of shape (2,), uint32
    p : float in [0, 1], or floating array broadcasting to `shape`
        A Python float draws float32 uniforms (JAX's default precision); an array draws in
        its own dtype. Array values are not checked (that needs their contents): entries
        below 0 give False, above 1 True.
    shape : int or tuple of ints, optional
        Default: the shape of `p`.

    Returns
    -------
    bool array of `shape`

    Notes
    -----
    ``jax.random.bernoulli(key, p, shape)`` (its default ``mode="low"``) for array `p` of any
    floating dtype, and for a Python float `p` in JAX's default 32-bit mode.

    References
    ----------
    - https://jax.readthedocs.io/en/latest/_autosummary/jax.random.bernoulli.html

    Examples
    --------
    >>> from mlprims import random
    >>> random.bernoulli(random.key(0), 0.5, (6,)).tolist()
    [False, False, True, True, False, True]
    """
    xp, _, _ = check_key(key)
    if isinstance(p, (int, float)) and not isinstance(p, bool):
        dtype, p_shape = xp.float32, ()
        p = xp.asarray(check_in_range(p, "p", 0.0, 1.0), dtype=dtype, device=device_of(key))
    else:
        check_array(p, "p")
        backends.of(key, p)
        check_floating(p, "p", xp=xp)
        dtype, p_shape = p.dtype, tuple(p.shape)
    dims = p_shape if shape is None else check_shape(shape)
    check_broadcasts_to(p_shape, dims, "p", target_name="`shape`")
    _, u = unit_floats(key, dims, dtype)
    return u < p


def normal(key: Array, /, shape: Shape = (), *, dtype: Any = "float32") -> Array:
    """Standard normal floats: ``jax.random.normal`` (inverse-CDF sampling).

    Parameters
    ----------
    key : array of shape (2,), uint32
    shape : int or tuple of ints, default ()
        ``()`` draws one 0-d value.
    dtype : floating dtype or its name, default ``"float32"``
        float16, bfloat16 (where the backend has it), float32, float64.

    Returns
    -------
    array of `shape` and `dtype`

    Notes
    -----
    ``sqrt(2) * erfinv(u)`` with ``u = uniform(key, shape, minval=nextafter(-1, 0),
    maxval=1)``, as JAX does; ``erfinv`` is Giles' polynomial that XLA evaluates
    (:func:`mlprims._special.erfinv`). Bit-equal to JAX under ``jax.jit``; within 1e-6 of
    it on the other backends (their ``log1p`` differs in the last bit).

    References
    ----------
    - https://jax.readthedocs.io/en/latest/_autosummary/jax.random.normal.html
    - Giles 2010, "Approximating the erfinv function" (the polynomial XLA evaluates),
      https://people.maths.ox.ac.uk/gilesm/files/gems_erfinv.pdf

    Examples
    --------
    >>> from mlprims import random
    >>> random.normal(random.key(0), (3,)).round(4)
    array([ 1.6226,  2.0253, -0.4336], dtype=float32)
    """
    xp, u = unit_floats(key, shape, dtype)
    lo = -(1.0 - float(xp.finfo(u.dtype).eps) / 2)  # nextafter(-1, 0): erfinv stays finite
    lo, sqrt2 = (xp.asarray(c, dtype=u.dtype, device=device_of(key)) for c in (lo, math.sqrt(2)))
    return erfinv(xp.maximum(lo, u * (1.0 - lo) + lo)) * sqrt2


def gumbel(key: Array, /, shape: Shape = (), *, dtype: Any = "float32") -> Array:
    """Standard Gumbel floats: ``-log(-log(u))``, ``jax.random.gumbel`` (``mode="low"``).

    ``u = uniform(key, shape, minval=tiny, maxval=1)`` with ``tiny`` the smallest normal
    number of `dtype`, so both logarithms stay finite. Bit-equal to JAX under ``jax.jit``,
    within a few ulps elsewhere (``log`` differs in the last bit between libraries).

    Parameters
    ----------
    key : array of shape (2,), uint32
    shape : int or tuple of ints, default ()
        ``()`` draws one 0-d value.
    dtype : floating dtype or its name, default ``"float32"``
        float16, bfloat16 (where the backend has it), float32, float64.

    Returns
    -------
    array of `shape` and `dtype`

    References
    ----------
    - https://jax.readthedocs.io/en/latest/_autosummary/jax.random.gumbel.html

    Examples
    --------
    >>> from mlprims import random
    >>> random.gumbel(random.key(0), (3,)).round(4)
    array([ 2.9234,  3.8326, -0.0969], dtype=float32)
    """
    xp, u = unit_floats(key, shape, dtype)
    tiny = xp.asarray(xp.finfo(u.dtype).smallest_normal, dtype=u.dtype, device=device_of(key))
    u = xp.maximum(tiny, u * (1.0 - tiny) + tiny)
    return -xp.log(-xp.log(u))


def categorical(
    key: Array, logits: Array, /, *, axis: int = -1, shape: Shape | None = None
) -> Array:
    """Category indices drawn with probabilities ``softmax(logits, axis)`` (Gumbel-max).

    Parameters
    ----------
    key : array of shape (2,), uint32
    logits : floating array, at least 1-d
        Unnormalised log-probabilities; ``-inf`` excludes a category.
    axis : int
        The axis of the categories.
    shape : int or tuple of ints, optional
        The output shape: the batch shape (``logits.shape`` without `axis`), possibly with
        leading sample axes, e.g. ``(num_samples, *batch)``. Default: the batch shape.

    Returns
    -------
    integer array of `shape` (the default index dtype)

    Notes
    -----
    ``argmax(logits + gumbel(key, logits.shape), axis)``, which is
    ``jax.random.categorical(key, logits, axis, shape)`` (``replace=True``). The same key and
    logits pick the same categories on every backend unless two perturbed logits agree to
    within a few ulps.

    References
    ----------
    - https://jax.readthedocs.io/en/latest/_autosummary/jax.random.categorical.html
    - Gumbel-max: Maddison et al. 2014, "A* Sampling", https://arxiv.org/abs/1411.0030

    Examples
    --------
    >>> import numpy as np
    >>> from mlprims import random
    >>> random.categorical(random.key(0), np.log(np.array([0.1, 0.2, 0.7]))).tolist()
    2
    """
    check_array(logits, "logits")
    backends.of(key, logits)
    xp = namespace(logits)
    check_floating(logits, "logits", xp=xp)
    if logits.ndim == 0:
        msg = "`logits` must have at least one axis (the categories), got a 0-d array"
        raise ValueError(msg)
    ax = check_axis(axis, logits.ndim)
    batch = tuple(logits.shape[:ax]) + tuple(logits.shape[ax + 1 :])
    dims = batch if shape is None else check_shape(shape)
    if not broadcasts_to(batch, dims):
        msg = (
            f"`logits` must have batch axes (all but `axis`) that broadcast to `shape` = "
            f"{shape_str(dims)}, got {shape_str(batch)}"
        )
        raise ValueError(msg)
    prefix = dims[: len(dims) - len(batch)]  # leading sample axes
    drawn = list(dims[len(prefix) :])
    drawn.insert(ax, logits.shape[ax])
    noise = gumbel(key, (*prefix, *drawn), dtype=logits.dtype)
    scores = noise + xp.reshape(logits, (1,) * len(prefix) + tuple(logits.shape))
    return xp.argmax(scores, axis=len(prefix) + ax)


def permutation(key: Array, /, x: int | Array, *, axis: int = 0) -> Array:
    """A random permutation of ``range(x)``, or of the entries of array `x` along `axis`.

    Equals ``jax.random.permutation(key, x, axis)`` (``independent=False``): repeated
    stable sorts by random 32-bit keys.

    Parameters
    ----------
    key : array of shape (2,), uint32
    x : int >= 0, or array with at least one axis
        An int ``n`` permutes ``range(n)``; an array is shuffled along `axis`.
    axis : int, default 0
        The axis of `x` to shuffle; must be 0 when `x` is an int.

    Returns
    -------
    array
        For an int: the indices ``0 .. x - 1`` in random order, shape ``(x,)``, the default
        index dtype. For an array: `x` with its entries along `axis` permuted (same shape and
        dtype).

    References
    ----------
    - https://jax.readthedocs.io/en/latest/_autosummary/jax.random.permutation.html

    Examples
    --------
    >>> from mlprims import random
    >>> random.permutation(random.key(0), 5).tolist()
    [0, 1, 4, 3, 2]
    """
    n = as_int(x)
    if n is not None:
        if n < 0:
            msg = f"`x` must be a non-negative int or an array, got {n}"
            raise ValueError(msg)
        if axis != 0:
            msg = f"`axis` must be 0 when `x` is an int, got {axis}"
            raise ValueError(msg)
        return shuffled_indices(key, n)
    check_array(x, "x")
    array: Array = x
    backends.of(key, array)
    if array.ndim == 0:
        msg = "`x` must be an int or an array with at least one axis, got a 0-d array"
        raise ValueError(msg)  # as choice's `a`: a shape, not a kind, is wrong
    ax = check_axis(axis, array.ndim)
    return namespace(array).take(array, shuffled_indices(key, array.shape[ax]), axis=ax)


def choice(
    key: Array, /, a: int | Array, shape: Shape = (), *, replace: bool, axis: int = 0
) -> Array:
    """Distinct draws from ``range(a)`` or from the entries of `a` along `axis`.

    Only ``replace=False`` is implemented (k-means++ seeding, subsets); it equals
    ``jax.random.choice(key, a, shape, replace=False, axis=axis)``: the first ``prod(shape)``
    entries of :func:`permutation`. `replace` has no default because JAX's is True.

    Parameters
    ----------
    key : array of shape (2,), uint32
    a : int >= 0, or array with at least one axis
        The population: ``range(a)``, or the entries of `a` along `axis`.
    shape : int or tuple of ints, default ()
        How many draws, as a shape; ``prod(shape)`` must not exceed the population.
    replace : bool
        Must be False (keyword, no default).
    axis : int, default 0
        The axis of `a` to draw from (ignored when `a` is an int).

    Returns
    -------
    array
        For an int: distinct indices of shape `shape`, the default index dtype. For an array:
        its entries, of shape ``(*a.shape[:axis], *shape, *a.shape[axis + 1:])`` and the dtype
        of `a`.

    References
    ----------
    - https://jax.readthedocs.io/en/latest/_autosummary/jax.random.choice.html

    Examples
    --------
    >>> from mlprims import random
    >>> random.choice(random.key(0), 10, (3,), replace=False).tolist()
    [0, 1, 8]
    """
    if replace is not False:
        msg = (
            f"`replace` must be False (sampling without replacement), got {replace!r}; for "
            "draws with replacement use categorical(key, zero logits, shape=...)"
        )
        raise ValueError(msg)
    dims = check_shape(shape)
    count = math.prod(dims)
    n = as_int(a)
    array: Array = None
    if n is None:
        check_array(a, "a")
        array = a
        n = array.shape[check_axis(axis, array.ndim)] if array.ndim else -1
    if n < 0:
        msg = f"`a` must be a non-negative int or an array with at least one axis, got {a!r}"
        raise ValueError(msg)
    if count > n:
        msg = f"`shape` {dims} asks for {count} distinct draws from a population of {n}"
        raise ValueError(msg)
    if array is None:
        return namespace(key).reshape(shuffled_indices(key, n)[:count], dims)
    ax = check_axis(axis, array.ndim)
    xp = namespace(array)
    picked = xp.take(array, shuffled_indices(key, n)[:count], axis=ax)
    return xp.reshape(picked, (*array.shape[:ax], *dims, *array.shape[ax + 1 :]))
