"""Check cases for mlprims.random: every backend against the independent NumPy Threefry of
:mod:`mlprims.testing.oracles.random` (shared with the tests). Integer and boolean outputs must
match exactly.
"""

from __future__ import annotations

import numpy as np

from ... import random
from ...testing import Case
from ...testing.oracles.random import (
    bernoulli_reference,
    bits_reference,
    categorical_reference,
    fold_in_reference,
    normal_reference,
    permutation_reference,
    split_reference,
    uniform_reference,
)

__all__ = ["CASES"]

#: The check cases of this family, in table order.
CASES: list[Case] = []

_SHAPE = (5, 7)


def _key_input(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {"key": rng.integers(0, 2**32, size=2, dtype=np.uint32)}


def _gumbel_logits(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {**_key_input(rng), "logits": rng.standard_normal((4, 6))}


def _bernoulli_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {**_key_input(rng), "p": rng.uniform(0.0, 1.0, size=_SHAPE[-1])}


_INT = ("float32",)  # integer outputs: one run per backend is enough

CASES.append(Case(
    name="random.bits", make_inputs=_key_input, dtypes=_INT,
    run=lambda key: random.bits(key, _SHAPE),
    reference=lambda key: bits_reference(key, _SHAPE),
))  # fmt: skip
CASES.append(Case(
    name="random.split", make_inputs=_key_input, dtypes=_INT,
    run=lambda key: random.split(key, 3),
    reference=lambda key: split_reference(key, 3),
))  # fmt: skip
CASES.append(Case(
    name="random.fold_in", make_inputs=_key_input, dtypes=_INT,
    run=lambda key: random.fold_in(key, 12345),
    reference=lambda key: fold_in_reference(key, 12345),
))  # fmt: skip
CASES.append(Case(
    name="random.uniform", make_inputs=_key_input, dtypes=("float32",),
    run=lambda key: random.uniform(key, _SHAPE, dtype="float32"),
    reference=lambda key: uniform_reference(key, _SHAPE, dtype="float32"),
    scale=0.0,
))  # fmt: skip
CASES.append(Case(
    name="random.uniform(float64)", make_inputs=_key_input, dtypes=("float64",),
    run=lambda key: random.uniform(key, _SHAPE, dtype="float64"),
    reference=lambda key: uniform_reference(key, _SHAPE, dtype="float64"),
    scale=0.0,
))  # fmt: skip
CASES.append(Case(
    name="random.normal", make_inputs=_key_input, dtypes=("float32",),
    run=lambda key: random.normal(key, _SHAPE, dtype="float32"),
    reference=lambda key: normal_reference(key, _SHAPE),
))  # fmt: skip
CASES.append(Case(
    name="random.bernoulli", make_inputs=_bernoulli_inputs,
    run=lambda key, p: random.bernoulli(key, p, _SHAPE),
    reference=lambda key, p: bernoulli_reference(key, p, _SHAPE),
    dtypes=("float32",),
))  # fmt: skip
CASES.append(Case(
    name="random.categorical", make_inputs=_gumbel_logits, dtypes=("float32",),
    run=lambda key, logits: random.categorical(key, logits),
    reference=categorical_reference,
))  # fmt: skip
CASES.append(Case(
    name="random.permutation", make_inputs=_key_input, dtypes=_INT,
    run=lambda key: random.permutation(key, 2000),
    reference=lambda key: permutation_reference(key, 2000),
))  # fmt: skip
