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
(words are computed in int64 inside, see :mod:`mlprims.random._threefry`): convert ``bits`` with
``.to(torch.int64)`` for arithmetic. A legacy ``jax.random.PRNGKey`` is a key here; a typed
``jax.random.key`` needs ``jax.random.key_data`` first.
"""

from __future__ import annotations

import operator
from typing import Any

from .. import backends
from .._array import Array, check_array, check_shape, create_namespace
from ._common import Shape, as_int, device_of
from ._threefry import MASK32, check_key, hash_counters, threefry2x32

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

    Parameters
    ----------
    key : array of shape (2,), uint32
    num : int or tuple of ints, default 2
        How many keys; a tuple gives a batch of keys of that shape.

    Returns
    -------
    array of shape (num, 2) or (*num, 2), uint32
        The new keys, on the backend and device of `key`.

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

    Parameters
    ----------
    key : array of shape (2,), uint32
    data : int in [0, 2**32), or 0-d integer array of the key's backend

    Returns
    -------
    array of shape (2,), uint32
        The new key.

    Examples
    --------
    >>> from mlprims import random
    >>> random.fold_in(random.key(0), 7).tolist()
    [2716826189, 292468403]
    """
    xp, words, k = check_key(key)
    value = as_int(data)
    if value is not None:
        if not 0 <= value < 2**32:
            msg = f"`data` must be in [0, 2**32), got {value}"
            raise ValueError(msg)
        d = xp.asarray([value], dtype=words.dtype, device=device_of(key))
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

    Parameters
    ----------
    key : array of shape (2,), uint32
    shape : int or tuple of ints, default ()
        ``()`` draws one 0-d word.

    Returns
    -------
    array of `shape`, uint32

    Examples
    --------
    >>> from mlprims import random
    >>> random.bits(random.key(0), (3,)).tolist()
    [4070199207, 4202968722, 1427181096]
    """
    _, words, k = check_key(key)
    y0, y1 = hash_counters(k, check_shape(shape), words=words)
    return words.to_user(y0 ^ y1)


from .distributions import (  # noqa: E402 (after key, split, fold_in and bits)
    bernoulli,
    categorical,
    choice,
    gumbel,
    normal,
    permutation,
    uniform,
)
