"""Oracles for :mod:`mlprims.random`, written independently of :mod:`mlprims.random._threefry`:
Threefry-2x32 from the Random123 specification on NumPy uint64 words masked to 32 bits (no
uint32 wrap-around), JAX's partitionable counter layout, and the floats built with the formulas
JAX documents (the normal quantile from :class:`statistics.NormalDist`). NumPy only; shared by
``tests/`` and ``mlprims check``. Integer and boolean outputs must match exactly.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

__all__ = [
    "bernoulli_reference",
    "bits_reference",
    "categorical_reference",
    "fold_in_reference",
    "normal_reference",
    "permutation_reference",
    "split_reference",
    "threefry2x32_reference",
    "uniform_reference",
]

_M32 = np.uint64(0xFFFFFFFF)
_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))


def _u64(a):
    return np.asarray(a, dtype=np.uint64)


def threefry2x32_reference(key, counter_hi, counter_lo):
    """Threefry-2x32 with 20 rounds (Random123) of the counters under `key`, in uint64 words."""
    k0, k1 = _u64(int(key[0])), _u64(int(key[1]))
    ks = (k0, k1, k0 ^ k1 ^ np.uint64(0x1BD11BDA))
    x0 = (_u64(counter_hi) + ks[0]) & _M32
    x1 = (_u64(counter_lo) + ks[1]) & _M32
    for i in range(5):
        for r in _ROTATIONS[i % 2]:
            x0 = (x0 + x1) & _M32
            x1 = (((x1 << np.uint64(r)) & _M32) | (x1 >> np.uint64(32 - r))) ^ x0
        x0 = (x0 + ks[(i + 1) % 3]) & _M32
        x1 = (x1 + ks[(i + 2) % 3] + np.uint64(i + 1)) & _M32
    return x0, x1


def _words(key, shape):
    """The two hash words of the counters 0 .. prod(shape) - 1 (JAX's partitionable layout)."""
    n = math.prod(shape)
    y0, y1 = threefry2x32_reference(key, np.zeros(n, np.uint64), np.arange(n, dtype=np.uint64))
    return y0.reshape(shape), y1.reshape(shape)


def _unit(key, shape, dtype):
    """Floats in [0, 1) in `dtype`, from random mantissa bits as JAX builds them."""
    y0, y1 = _words(key, tuple(shape))
    if np.dtype(dtype) == np.float64:  # all 32 bits of one word, the top 20 of the other
        return y0 * 2.0**-32 + (y1 >> np.uint64(12)) * 2.0**-52
    # float32: the top 23 bits of the xor of the two words
    return ((y0 ^ y1) >> np.uint64(9)).astype(np.float32) * np.float32(2.0**-23)


def bits_reference(key, shape):
    """uint32 words: the xor of the two hash words of each counter; matches ``random.bits``."""
    y0, y1 = _words(key, tuple(shape))
    return (y0 ^ y1).astype(np.uint32)


def split_reference(key, num=2):
    """Keys (num, 2): the two hash words of the counters 0 .. num - 1; matches ``random.split``."""
    return np.stack(_words(key, (num,)), axis=-1).astype(np.uint32)


def fold_in_reference(key, data):
    """The key (2,): the hash of the counter (0, data); matches ``random.fold_in``."""
    counter = np.array([int(data) & 0xFFFFFFFF], dtype=np.uint64)
    y0, y1 = threefry2x32_reference(key, np.zeros(1, np.uint64), counter)
    return np.concatenate([y0, y1]).astype(np.uint32)


def uniform_reference(key, shape, *, dtype="float32"):
    """Floats in [0, 1) drawn in `dtype`, returned in float64; matches ``random.uniform``."""
    return _unit(key, shape, dtype).astype(np.float64)


def normal_reference(key, shape):
    """sqrt(2) erfinv(u), u uniform on (-1, 1) in float32, by NormalDist's quantile; ``normal``."""
    lo = np.nextafter(np.float32(-1.0), np.float32(0.0))
    u = np.maximum(lo, _unit(key, shape, np.float32) * np.float32(2.0) + lo)
    quantile = np.vectorize(NormalDist().inv_cdf, otypes=[np.float64])
    return quantile((u.astype(np.float64) + 1.0) / 2.0)


def bernoulli_reference(key, p, shape, *, dtype="float32"):
    """uniform(key, shape) < p in `dtype` (JAX draws in p's); matches ``random.bernoulli``."""
    return _unit(key, shape, dtype) < np.asarray(p).astype(dtype)


def categorical_reference(key, logits, *, dtype="float32"):
    """argmax over the last axis of logits + Gumbel noise drawn in `dtype`; ``categorical``."""
    logits = np.asarray(logits, dtype=np.float64)
    tiny = np.finfo(dtype).tiny  # JAX's uniform on [tiny, 1)
    u = np.maximum(tiny, _unit(key, logits.shape, dtype) + tiny).astype(np.float64)
    return np.argmax(logits - np.log(-np.log(u)), axis=-1)


def permutation_reference(key, n):
    """Rounds of a stable sort by fresh random words, as JAX shuffles; ``random.permutation``."""
    perm = np.arange(n)
    for _ in range(math.ceil(3 * math.log(max(1, n)) / math.log(2**32 - 1))):
        key, subkey = split_reference(key)
        perm = perm[np.argsort(bits_reference(subkey, (n,)), kind="stable")]
    return perm
