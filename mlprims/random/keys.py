"""Keys: made from a seed (``key``), split into independent ones (``split``, ``fold_in``), and
the raw bits they stand for (``bits``); :mod:`.distributions` turns bits into draws."""

from __future__ import annotations

import operator
from typing import Any

from .. import backends
from .._array import Array, check_array, check_shape, create_namespace
from ._common import Shape, as_int, device_of
from ._threefry import MASK32, check_key, hash_counters, threefry2x32

__all__ = ["bits", "fold_in", "key", "split"]


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

    References
    ----------
    - https://jax.readthedocs.io/en/latest/_autosummary/jax.random.PRNGKey.html
    - Salmon et al. 2011, "Parallel Random Numbers: As Easy as 1, 2, 3",
      https://doi.org/10.1145/2063384.2063405
    - JAX's PRNG design: https://jax.readthedocs.io/en/latest/jep/263-prng.html

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
    array of shape (num, 2) or ``(*num, 2)``, uint32
        The new keys, on the backend and device of `key`.

    References
    ----------
    - https://jax.readthedocs.io/en/latest/_autosummary/jax.random.split.html
    - Salmon et al. 2011, "Parallel Random Numbers: As Easy as 1, 2, 3",
      https://doi.org/10.1145/2063384.2063405
    - JAX's PRNG design: https://jax.readthedocs.io/en/latest/jep/263-prng.html

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

    References
    ----------
    - https://jax.readthedocs.io/en/latest/_autosummary/jax.random.fold_in.html
    - Salmon et al. 2011, "Parallel Random Numbers: As Easy as 1, 2, 3",
      https://doi.org/10.1145/2063384.2063405
    - JAX's PRNG design: https://jax.readthedocs.io/en/latest/jep/263-prng.html

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

    References
    ----------
    - https://jax.readthedocs.io/en/latest/_autosummary/jax.random.bits.html
    - Salmon et al. 2011, "Parallel Random Numbers: As Easy as 1, 2, 3",
      https://doi.org/10.1145/2063384.2063405

    Examples
    --------
    >>> from mlprims import random
    >>> random.bits(random.key(0), (3,)).tolist()
    [4070199207, 4202968722, 1427181096]
    """
    _, words, k = check_key(key)
    y0, y1 = hash_counters(k, check_shape(shape), words=words)
    return words.to_user(y0 ^ y1)
