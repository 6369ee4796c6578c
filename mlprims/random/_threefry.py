"""The Threefry-2x32 hash and 32-bit word arithmetic behind :mod:`mlprims.random` (private).

Threefry-2x32 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011, the
Random123 family) maps a key of two 32-bit words and a counter of two 32-bit words to two
32-bit words, using only addition modulo 2**32, rotation and xor. It is the hash JAX's
default PRNG is built on; the functions here reproduce ``jax._src.random.threefry2x32``
(20 rounds, key injection every 4 rounds) in array API terms.

Words
-----
NumPy, JAX and array_api_strict add ``uint32`` arrays modulo 2**32 natively. PyTorch has a
``torch.uint32`` dtype but no arithmetic on it (no ``+``, no shifts, no ``<``), so on torch the
words are held in ``int64`` and masked to 32 bits after every addition and left shift. That
choice lives only here: :class:`Words` converts at the edges, so callers always see ``uint32``
keys and bits (``torch.uint32`` on torch). JAX works in ``uint32`` whether or not
``jax_enable_x64`` is set: no 64-bit integer is ever needed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import array_api_compat

from .. import backends
from .._array import (
    Array,
    Namespace,
    check_array,
    check_broadcasts_to,
    check_float_dtype,
    check_shape,
    index_dtype,
    namespace,
)

__all__ = [
    "MASK32",
    "Words",
    "bound_like",
    "check_key",
    "float_dtype",
    "hash_counters",
    "shuffled_indices",
    "threefry2x32",
    "unit_floats",
    "words_for",
]

MASK32 = 0xFFFFFFFF
#: Threefry's key-schedule parity constant (Random123's SKEIN_KS_PARITY32).
_PARITY = 0x1BD11BDA
#: Rotation distances of the eight rounds that alternate between key injections.
_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))


@dataclass(frozen=True)
class Words:
    """32-bit unsigned words on one backend: native ``uint32`` or ``int64`` masked to 32 bits."""

    xp: Namespace
    emulated: bool  # True on torch: words live in int64, kept in [0, 2**32) by masking

    @property
    def dtype(self) -> Any:
        return self.xp.int64 if self.emulated else self.xp.uint32

    def add(self, a: Array, b: Array | int) -> Array:
        """``(a + b) mod 2**32``."""
        total = a + b
        return total & MASK32 if self.emulated else total

    def rotl(self, x: Array, r: int) -> Array:
        """Rotate the 32-bit words `x` left by `r` bits (0 < r < 32)."""
        left = x << r
        if self.emulated:
            left = left & MASK32  # x < 2**32, so x << r < 2**61 fits in int64 before masking
        return left | (x >> (32 - r))

    def from_user(self, a: Array) -> Array:
        """Words from a user's ``uint32`` array (or any integer array, taken modulo 2**32)."""
        if self.emulated:
            return self.xp.astype(a, self.xp.int64) & MASK32
        return a if a.dtype == self.xp.uint32 else self.xp.astype(a, self.xp.uint32)

    def to_user(self, a: Array) -> Array:
        """The ``uint32`` array a user sees."""
        return self.xp.astype(a, self.xp.uint32) if self.emulated else a

    def arange(self, n: int, device: Any = None) -> Array:
        """``[0, 1, ..., n - 1]`` as words (n <= 2**32)."""
        return self.xp.arange(n, dtype=self.dtype, device=device)


def words_for(a: Array, xp: Namespace) -> Words:
    """The word arithmetic for the backend of `a`: emulated where it has no uint32 arithmetic
    (PyTorch has no uint32 ``+``)."""
    return Words(xp, emulated=not backends.of(a).uint32_arithmetic)


def threefry2x32(
    k0: Array, k1: Array, x0: Array, x1: Array, *, words: Words
) -> tuple[Array, Array]:
    """Threefry-2x32 with 20 rounds: key ``(k0, k1)``, counter ``(x0, x1)`` -> two words.

    All four arguments are words (see :class:`Words`) and broadcast together. This is
    Random123's ``threefry2x32_R(20, ...)`` and JAX's ``threefry2x32_p``::

        ks = (k0, k1, k0 ^ k1 ^ 0x1BD11BDA)
        x0 += ks[0]; x1 += ks[1]
        repeat for i = 0..4:
            4 rounds of: x0 += x1; x1 = rotl(x1, r); x1 ^= x0   (r from the rotation table)
            x0 += ks[(i + 1) % 3]; x1 += ks[(i + 2) % 3] + (i + 1)
    """
    add = words.add
    ks = (k0, k1, k0 ^ k1 ^ _PARITY)
    x0 = add(x0, ks[0])
    x1 = add(x1, ks[1])
    for i in range(5):
        for r in _ROTATIONS[i % 2]:
            x0 = add(x0, x1)
            x1 = words.rotl(x1, r) ^ x0
        x0 = add(x0, ks[(i + 1) % 3])
        x1 = add(add(x1, ks[(i + 2) % 3]), i + 1)
    return x0, x1


def hash_counters(key_words: Array, shape: Sequence[int], *, words: Words) -> tuple[Array, Array]:
    """Hash the counters ``0, 1, ..., prod(shape) - 1`` (row-major) under one key.

    JAX's partitionable mode (``jax_threefry_partitionable``, the default since JAX 0.5) uses
    the position of each element as a 64-bit counter split into (high word, low word); both
    output words are returned, shaped `shape`. One call draws at most 2**32 values (16 GiB of
    words), so the high word is always 0 here.
    """
    xp = words.xp
    size = math.prod(shape)
    if size > 2**32:
        msg = f"`shape` {tuple(shape)} asks for {size} values; at most 2**32 per call are supported"
        raise ValueError(msg)
    device = array_api_compat.device(key_words)  # None while JAX traces
    k0, k1 = key_words[0], key_words[1]
    lo = words.arange(size, device=device)
    hi = xp.zeros_like(lo)  # full arrays, never 0-d: NumPy warns on 0-d uint32 overflow
    y0, y1 = threefry2x32(k0, k1, hi, lo, words=words)
    return xp.reshape(y0, tuple(shape)), xp.reshape(y1, tuple(shape))


# Argument checks shared by the public functions of mlprims.random. They look at shapes,
# dtypes and Python values only, so they run unchanged while jax.jit traces.


def check_key(key: Any) -> tuple[Namespace, Words, Array]:
    """The namespace, word arithmetic and words of `key`, or a TypeError/ValueError naming it."""
    check_array(key, "key")
    xp = namespace(key)
    if key.dtype != xp.uint32:
        msg = (
            "`key` must be a uint32 array of shape (2,) from mlprims.random.key or split, got "
            f"dtype {key.dtype} (a typed jax.random.key needs jax.random.key_data(key) first)"
        )
        raise TypeError(msg)
    if tuple(key.shape) != (2,):
        msg = f"`key` must have shape (2,), got {tuple(key.shape)}; pass one key, e.g. keys[0, :]"
        raise ValueError(msg)
    words = words_for(key, xp)
    return xp, words, words.from_user(key)


def float_dtype(dtype: Any, xp: Namespace) -> Any:
    """`dtype` as the real floating dtype of `xp` that the draws will have (a TypeError naming
    `dtype` if it is not real floating, as :func:`mlprims._array.check_float_dtype`)."""
    resolved = check_float_dtype(dtype, xp=xp)
    # JAX without jax_enable_x64 turns float64 into float32 (warning about it itself); we
    # follow, so the numbers stay the ones jax.random draws in the same setting.
    return xp.asarray(0.0, dtype=resolved).dtype


def unit_floats(key: Array, shape: Any, dtype: Any) -> tuple[Namespace, Array]:
    """Floats in [0, 1) on the grid ``2**-nmant``, exactly the ones ``jax.random.uniform`` makes.

    JAX puts the top ``nmant`` random bits into the mantissa of a float in [1, 2), bitcasts
    and subtracts 1. The standard has no bitcast, so we scale the same integer by
    ``2**-nmant``, which is exact: float32 keeps the top 23 bits of ``y0 ^ y1``; float64 the
    top 52 of the 64-bit word ``y0 * 2**32 + y1`` (JAX's 64-bit draw); float16 the top 10 of
    the low 16 bits of ``y0 ^ y1`` and bfloat16 the top 7 of its low 8 (JAX's 16- and 8-bit
    draws keep the low bits).
    """
    xp, words, k = check_key(key)
    dims = check_shape(shape)
    dtype = float_dtype(dtype, xp)
    y0, y1 = hash_counters(k, dims, words=words)
    info = xp.finfo(dtype)
    nmant = round(-math.log2(float(info.eps)))
    if info.bits == 64:  # y0 * 2**-32 + (y1 >> 12) * 2**-52: both terms and the sum are exact
        return xp, xp.astype(y0, dtype) * 2.0**-32 + xp.astype(y1 >> 12, dtype) * 2.0**-52
    word = y0 ^ y1
    if info.bits == 16:
        width = 16 if nmant >= 8 else 8
        word = (word & (2**width - 1)) >> (width - nmant)
    else:
        word = word >> (32 - nmant)
    return xp, xp.astype(word, dtype) * 2.0**-nmant


def bound_like(value: Any, name: str, like: Array, xp: Namespace) -> Array:
    """`minval`/`maxval` in the dtype of `like` (JAX rounds them to the dtype first, too)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return xp.asarray(value, dtype=like.dtype, device=array_api_compat.device(like))
    check_array(value, name)
    backends.of(like, value)
    check_broadcasts_to(value.shape, like.shape, name, target_name="the shape drawn")
    return xp.astype(value, like.dtype)


def shuffled_indices(key: Array, n: int) -> Array:
    """A permutation of ``range(n)``: JAX's ``_shuffle`` of ``arange(n)``.

    Each round splits the key, draws one 32-bit sort key per element and stably sorts by
    it; ``ceil(3 ln n / ln(2**32 - 1))`` rounds make ties in all rounds unlikely (the same
    static rule as JAX, from TensorFlow's random shuffle).
    """
    xp, words, k = check_key(key)
    perm = xp.arange(n, dtype=index_dtype(xp), device=array_api_compat.device(key))
    for _ in range(math.ceil(3 * math.log(max(1, n)) / math.log(2**32 - 1))):
        y0, y1 = hash_counters(k, (2,), words=words)  # split(key): (key, subkey)
        k, subkey = xp.stack([y0[0], y1[0]]), xp.stack([y0[1], y1[1]])
        s0, s1 = hash_counters(subkey, (n,), words=words)
        perm = xp.take(perm, xp.argsort(s0 ^ s1, stable=True), axis=0)
    return perm
