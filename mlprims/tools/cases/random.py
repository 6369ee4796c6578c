"""Check cases for mlprims.random: every backend against an independent NumPy Threefry.

The reference hash below works on uint64 NumPy arrays masked to 32 bits (no uint32
wrap-around, no shared code with :mod:`mlprims.random._threefry`); floats are then built with the
formulas JAX documents, the normal quantile comes from :class:`statistics.NormalDist`.
Integer and boolean outputs must match exactly.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

from ... import random
from ..registry import Case, register

__all__: list[str] = []

_M32 = np.uint64(0xFFFFFFFF)
_SHAPE = (5, 7)


def _threefry(key: np.ndarray, hi: np.ndarray, lo: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Threefry-2x32 (20 rounds) of the counters ``(hi, lo)`` under `key`, in uint64."""
    k0, k1 = np.uint64(int(key[0])), np.uint64(int(key[1]))
    ks = (k0, k1, k0 ^ k1 ^ np.uint64(0x1BD11BDA))
    x0 = (hi.astype(np.uint64) + ks[0]) & _M32
    x1 = (lo.astype(np.uint64) + ks[1]) & _M32
    for i in range(5):
        for r in ((13, 15, 26, 6), (17, 29, 16, 24))[i % 2]:
            x0 = (x0 + x1) & _M32
            x1 = (((x1 << np.uint64(r)) & _M32) | (x1 >> np.uint64(32 - r))) ^ x0
        x0 = (x0 + ks[(i + 1) % 3]) & _M32
        x1 = (x1 + ks[(i + 2) % 3] + np.uint64(i + 1)) & _M32
    return x0, x1


def _words(key: np.ndarray, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """The two hash words for the counters 0..prod(shape)-1 (JAX's partitionable layout)."""
    n = math.prod(shape)
    y0, y1 = _threefry(key, np.zeros(n, np.uint64), np.arange(n, dtype=np.uint64))
    return y0.reshape(shape), y1.reshape(shape)


def _unit32(key: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    y0, y1 = _words(key, shape)
    return ((y0 ^ y1) >> np.uint64(9)).astype(np.float32) * np.float32(2.0**-23)


def _key_input(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {"key": rng.integers(0, 2**32, size=2, dtype=np.uint32)}


def _split_key(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y0, y1 = _words(key, (2,))
    return np.array([y0[0], y1[0]]), np.array([y0[1], y1[1]])


def _permutation_reference(key: np.ndarray, n: int) -> np.ndarray:
    perm = np.arange(n)
    for _ in range(math.ceil(3 * math.log(max(1, n)) / math.log(2**32 - 1))):
        key, subkey = _split_key(key)
        y0, y1 = _words(subkey, (n,))
        perm = perm[np.argsort(y0 ^ y1, kind="stable")]
    return perm


def _normal_reference(key: np.ndarray) -> np.ndarray:
    lo = np.nextafter(np.float32(-1.0), np.float32(0.0))
    u = np.maximum(lo, _unit32(key, _SHAPE) * np.float32(2.0) + lo)  # uniform on (-1, 1)
    quantile = np.vectorize(NormalDist().inv_cdf)
    return quantile((u.astype(np.float64) + 1.0) / 2.0)  # sqrt(2) erfinv(u)


def _gumbel_logits(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {**_key_input(rng), "logits": rng.standard_normal((4, 6))}


def _categorical_reference(key: np.ndarray, logits: np.ndarray) -> np.ndarray:
    tiny = np.finfo(np.float32).tiny
    u = np.maximum(tiny, _unit32(key, logits.shape) + tiny).astype(np.float64)
    return np.argmax(logits - np.log(-np.log(u)), axis=-1)


def _bernoulli_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {**_key_input(rng), "p": rng.uniform(0.0, 1.0, size=_SHAPE[-1])}


_INT = ("float32",)  # integer outputs: one run per backend is enough

register(Case(
    name="random.bits", make_inputs=_key_input, dtypes=_INT,
    run=lambda key: random.bits(key, _SHAPE),
    reference=lambda key: np.bitwise_xor(*_words(key, _SHAPE)).astype(np.uint32),
))  # fmt: skip
register(Case(
    name="random.split", make_inputs=_key_input, dtypes=_INT,
    run=lambda key: random.split(key, 3),
    reference=lambda key: np.stack(_words(key, (3,)), axis=-1).astype(np.uint32),
))  # fmt: skip
register(Case(
    name="random.fold_in", make_inputs=_key_input, dtypes=_INT,
    run=lambda key: random.fold_in(key, 12345),
    reference=lambda key: np.concatenate(
        _threefry(key, np.zeros(1, np.uint64), np.array([12345], np.uint64))
    ).astype(np.uint32),
))  # fmt: skip
register(Case(
    name="random.uniform", make_inputs=_key_input, dtypes=("float32",),
    run=lambda key: random.uniform(key, _SHAPE, dtype="float32"),
    reference=lambda key: _unit32(key, _SHAPE).astype(np.float64),
    atol={"float32": 0.0},
))  # fmt: skip
register(Case(
    name="random.uniform(float64)", make_inputs=_key_input, dtypes=("float64",),
    run=lambda key: random.uniform(key, _SHAPE, dtype="float64"),
    reference=lambda key: (lambda y: y[0] * 2.0**-32 + (y[1] >> np.uint64(12)) * 2.0**-52)(
        _words(key, _SHAPE)
    ),
    atol={"float64": 0.0},
))  # fmt: skip
register(Case(
    name="random.normal", make_inputs=_key_input, dtypes=("float32",),
    run=lambda key: random.normal(key, _SHAPE, dtype="float32"),
    reference=_normal_reference,
))  # fmt: skip
register(Case(
    name="random.bernoulli", make_inputs=_bernoulli_inputs,
    run=lambda key, p: random.bernoulli(key, p, _SHAPE),
    reference=lambda key, p: _unit32(key, _SHAPE) < p.astype(np.float32),
    dtypes=("float32",),
))  # fmt: skip
register(Case(
    name="random.categorical", make_inputs=_gumbel_logits, dtypes=("float32",),
    run=lambda key, logits: random.categorical(key, logits),
    reference=_categorical_reference,
))  # fmt: skip
register(Case(
    name="random.permutation", make_inputs=_key_input, dtypes=_INT,
    run=lambda key: random.permutation(key, 2000),
    reference=lambda key: _permutation_reference(key, 2000),
))  # fmt: skip
