"""Portable random numbers: JAX's Threefry-2x32 generator, written once in the array API.

The same key gives the same numbers on NumPy, PyTorch, JAX (eager and under ``jax.jit``) and
array_api_strict, and they are the numbers ``jax.random`` draws. Keys are explicit values, as
in JAX: never use one key twice; ``split`` it, or ``fold_in`` a step number.

>>> from mlprims import random
>>> key = random.key(0)                  # NumPy by default; random.key(0, backend="torch")
>>> key
array([0, 0], dtype=uint32)
>>> init_key, dropout_key = random.split(key)
>>> random.uniform(init_key, (3,)).round(4)
array([0.8423, 0.1824, 0.2272], dtype=float32)

Matched: JAX 0.10.2 in its default ``jax_threefry_partitionable=True`` mode (the tests compare
with the installed JAX, so a change there fails them). ``key`` is ``jax.random.PRNGKey``;
``split``, ``fold_in``, ``bits`` (``dtype=uint32``), ``uniform``, ``bernoulli``, ``permutation``
and ``choice(replace=False)`` equal ``jax.random`` bit for bit, in every dtype, with or without
``jax_enable_x64``, and are bit-identical across backends. Two floating-point caveats:

* ``normal``, ``gumbel``, ``categorical`` use ``log``/``log1p``, whose last bit differs between
  math libraries: bit-equal to JAX under ``jax.jit``, within a few float32 ulps (1e-6)
  elsewhere; a categorical draw differs only where two perturbed logits tie to those ulps.
* ``uniform`` with bounds other than [0, 1): XLA fuses ``u * (maxval - minval) + minval``
  into one FMA where the hardware has it, so ``jax.random`` and our code under ``jax.jit`` can
  differ from the other backends by one ulp. The default interval is exact everywhere.

Keys are ``uint32`` arrays of shape ``(2,)``; on torch ``torch.uint32``, a storage-only dtype
(words are computed in int64 inside, see :mod:`mlprims._threefry`): convert ``bits`` with
``.to(torch.int64)`` for arithmetic. A legacy ``jax.random.PRNGKey`` is a key here; a typed
``jax.random.key`` needs ``jax.random.key_data`` first.
"""

from __future__ import annotations

import math
import numbers
import operator
from typing import Any

import array_api_compat

from . import backends
from ._array import (
    Array,
    check_array,
    check_axis,
    check_floating,
    check_in_range,
    create_namespace,
    namespace,
)
from ._special import erfinv
from ._threefry import (
    MASK32,
    bound_like,
    broadcast_into,
    check_key,
    check_shape,
    hash_counters,
    shuffled_indices,
    threefry2x32,
    unit_floats,
)

__all__ = [
    "bernoulli",
    "bits",
    "categorical",
    "choice",
    "fold_in",
    "gumbel",
    "key",
    "normal",
    "permutation",
    "split",
    "uniform",
]

Shape = Any
"""An int (a 1-d shape) or a tuple of non-negative ints."""
_device = array_api_compat.device  # None while JAX traces


def _as_int(value: Any) -> int | None:
    """`value` as an int if it is a Python or NumPy integer (not a bool), else None."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    return None


def key(seed: int, *, backend: str | backends.Backend | None = None, device: Any = None) -> Array:
    """A key from an integer seed: the uint32 pair ``[seed >> 32, seed & 0xFFFFFFFF]``.

    Parameters
    ----------
    seed : int
        In [-2**63, 2**64); negative seeds are taken modulo 2**64 (two's complement).
    backend : str or Backend, optional
        Where the key lives (``"numpy"``, ``"torch"``, ``"jax"``, ``"array_api_strict"``);
        default :func:`mlprims.use`'s. Everything drawn from a key follows its backend.
    device : optional
        The key's device; draws are made there.

    Returns
    -------
    array of shape (2,), uint32

    Notes
    -----
    ``jax.random.PRNGKey(seed)``. For seeds in [0, 2**32) that holds with or without
    ``jax_enable_x64``; other seeds match JAX with x64 (without it, JAX keeps the low 32 bits).

    Examples
    --------
    >>> from mlprims import random
    >>> random.key(42).tolist(), random.key(2**32 + 5).tolist(), random.key(-1).tolist()
    ([0, 42], [1, 5], [4294967295, 4294967295])
    """
    if isinstance(seed, bool) or not hasattr(seed, "__index__"):
        msg = f"`seed` must be an int, got {type(seed).__name__}"
        raise TypeError(msg)
    seed = operator.index(seed)
    if not -(2**63) <= seed < 2**64:
        msg = f"`seed` must be in [-2**63, 2**64), got {seed}"
        raise ValueError(msg)
    seed %= 2**64
    xp = create_namespace(backend)
    return xp.asarray([seed >> 32, seed & MASK32], dtype=xp.uint32, device=device)


def split(key: Array, /, num: Shape = 2) -> Array:
    """`num` new keys from `key`, shape ``(num, 2)`` (``(*num, 2)`` for a tuple).

    Key ``i`` is the Threefry hash of the counter ``(0, i)`` under `key`: exactly
    ``jax.random.split(key, num)`` in JAX's partitionable mode. Take one key with
    ``keys[i, :]`` (array_api_strict rejects the shorter ``keys[i]``).

    Examples
    --------
    >>> from mlprims import random
    >>> random.split(random.key(0), 2).tolist()
    [[1797259609, 2579123966], [928981903, 3453687069]]
    """
    xp, words, k = check_key(key)
    y0, y1 = hash_counters(k, check_shape(num, "num"), words=words)
    return words.to_user(xp.stack([y0, y1], axis=-1))


def fold_in(key: Array, /, data: int | Array) -> Array:
    """A new key mixing `key` with a 32-bit integer: a step, a layer index, a process id.

    `data` is a Python int in [0, 2**32) or a 0-d integer array of the key's backend (taken
    modulo 2**32; it may be traced under ``jax.jit``). The new key is the Threefry hash of
    the counter ``(0, data)`` under `key`: ``jax.random.fold_in(key, data)``.

    Examples
    --------
    >>> from mlprims import random
    >>> random.fold_in(random.key(0), 7).tolist()
    [2716826189, 292468403]
    """
    xp, words, k = check_key(key)
    value = _as_int(data)
    if value is not None:
        if not 0 <= value < 2**32:
            msg = f"`data` must be in [0, 2**32), got {value}"
            raise ValueError(msg)
        d = xp.asarray([value], dtype=words.dtype, device=_device(key))
    else:
        check_array(data, "data")
        array: Array = data
        backends.of(key, array)  # a clear TypeError when backends are mixed
        if not xp.isdtype(array.dtype, "integral") or array.ndim != 0:
            msg = f"`data` must be an int or a 0-d integer array, got {array.dtype} {array.shape}"
            raise TypeError(msg)
        d = xp.reshape(words.from_user(array), (1,))
    y0, y1 = threefry2x32(k[0], k[1], xp.zeros_like(d), d, words=words)
    return words.to_user(xp.concat([y0, y1]))


def bits(key: Array, /, shape: Shape = ()) -> Array:
    """Uniform random 32-bit words: ``jax.random.bits(key, shape, dtype=jnp.uint32)``.

    Element ``i`` (row-major) is ``y0 ^ y1`` where ``(y0, y1)`` is the Threefry hash of the
    counter ``(0, i)``. uint32 on every backend (``torch.uint32``: storage only on torch).

    Examples
    --------
    >>> from mlprims import random
    >>> random.bits(random.key(0), (3,)).tolist()
    [4070199207, 4202968722, 1427181096]
    """
    _, words, k = check_key(key)
    y0, y1 = hash_counters(k, check_shape(shape), words=words)
    return words.to_user(y0 ^ y1)


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
    float64: see :func:`mlprims._threefry.unit_floats`), then
    ``max(minval, u * (maxval - minval) + minval)`` as in ``jax._src.random._uniform``
    (exact for the default bounds; for others, see the FMA caveat in the module docstring).

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

    Examples
    --------
    >>> from mlprims import random
    >>> random.bernoulli(random.key(0), 0.5, (6,)).tolist()
    [False, False, True, True, False, True]
    """
    xp, _, _ = check_key(key)
    if isinstance(p, (int, float)) and not isinstance(p, bool):
        dtype, p_shape = xp.float32, ()
        p = xp.asarray(check_in_range(p, "p", 0.0, 1.0), dtype=dtype, device=_device(key))
    else:
        check_array(p, "p")
        backends.of(key, p)
        check_floating(p, "p", xp=xp)
        dtype, p_shape = p.dtype, tuple(p.shape)
    dims = p_shape if shape is None else check_shape(shape)
    broadcast_into(dims, p_shape, "p")
    _, u = unit_floats(key, dims, dtype)
    return u < p


def normal(key: Array, /, shape: Shape = (), *, dtype: Any = "float32") -> Array:
    """Standard normal floats: ``jax.random.normal`` (inverse-CDF sampling).

    Returns
    -------
    array of `shape` and `dtype`

    Notes
    -----
    ``sqrt(2) * erfinv(u)`` with ``u = uniform(key, shape, minval=nextafter(-1, 0),
    maxval=1)``, as JAX does; ``erfinv`` is Giles' polynomial that XLA evaluates
    (:func:`mlprims._special.erfinv`). Bit-equal to JAX under ``jax.jit``; within 1e-6 of
    it on the other backends (their ``log1p`` differs in the last bit).

    Examples
    --------
    >>> from mlprims import random
    >>> random.normal(random.key(0), (3,)).round(4)
    array([ 1.6226,  2.0253, -0.4336], dtype=float32)
    """
    xp, u = unit_floats(key, shape, dtype)
    lo = -(1.0 - float(xp.finfo(u.dtype).eps) / 2)  # nextafter(-1, 0): erfinv stays finite
    lo, sqrt2 = (xp.asarray(c, dtype=u.dtype, device=_device(key)) for c in (lo, math.sqrt(2)))
    return erfinv(xp.maximum(lo, u * (1.0 - lo) + lo)) * sqrt2


def gumbel(key: Array, /, shape: Shape = (), *, dtype: Any = "float32") -> Array:
    """Standard Gumbel floats: ``-log(-log(u))``, ``jax.random.gumbel`` (``mode="low"``).

    ``u = uniform(key, shape, minval=tiny, maxval=1)`` with ``tiny`` the smallest normal
    number of `dtype`, so both logarithms stay finite. Bit-equal to JAX under ``jax.jit``,
    within a few ulps elsewhere (``log`` differs in the last bit between libraries).

    Examples
    --------
    >>> from mlprims import random
    >>> random.gumbel(random.key(0), (3,)).round(4)
    array([ 2.9234,  3.8326, -0.0969], dtype=float32)
    """
    xp, u = unit_floats(key, shape, dtype)
    tiny = xp.asarray(xp.finfo(u.dtype).smallest_normal, dtype=u.dtype, device=_device(key))
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
    broadcast_into(dims, batch, "logits")
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

    Examples
    --------
    >>> from mlprims import random
    >>> random.permutation(random.key(0), 5).tolist()
    [0, 1, 4, 3, 2]
    """
    n = _as_int(x)
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
        raise TypeError(msg)
    ax = check_axis(axis, array.ndim)
    return namespace(array).take(array, shuffled_indices(key, array.shape[ax]), axis=ax)


def choice(
    key: Array, /, a: int | Array, shape: Shape = (), *, replace: bool, axis: int = 0
) -> Array:
    """Distinct draws from ``range(a)`` or from the entries of `a` along `axis`.

    Only ``replace=False`` is implemented (k-means++ seeding, subsets); it equals
    ``jax.random.choice(key, a, shape, replace=False, axis=axis)``: the first ``prod(shape)``
    entries of :func:`permutation`. `replace` has no default because JAX's is True.

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
    n = _as_int(a)
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
