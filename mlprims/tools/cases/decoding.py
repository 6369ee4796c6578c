"""Check cases for mlprims.decoding: the logits processors against the float64 restatements of
Hugging Face's warpers (:mod:`mlprims.testing.oracles.decoding`), sample_next_token against the
Threefry oracle of :mod:`mlprims.testing.oracles.random`, and generate (greedy, beam) on a toy
bigram model against a Python argmax loop and an exhaustive search.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ... import backends
from ...decoding import (
    apply_temperature,
    generate,
    min_p_filter,
    repetition_penalty,
    sample_next_token,
    top_k_filter,
    top_p_filter,
)
from ...testing import Case
from ...testing.oracles.decoding import (
    beam_search_bigram_reference,
    greedy_bigram_reference,
    min_p_filter_reference,
    repetition_penalty_reference,
    top_k_filter_reference,
    top_p_filter_reference,
)
from ...testing.oracles.random import categorical_reference

__all__ = ["CASES"]

#: The check cases of this family, in table order.
CASES: list[Case] = []


def _tied_logits(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {"logits": rng.integers(-3, 4, size=(4, 9)).astype(np.float64)}


def _logits(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {"logits": rng.normal(size=(4, 9)) * 2}


def _penalty_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {**_logits(rng), "tokens": rng.integers(0, 9, size=(4, 6))}


CASES.append(Case(
    name="decoding.apply_temperature", make_inputs=_logits,
    run=lambda logits: apply_temperature(logits, 0.7),
    reference=lambda logits: logits / 0.7,
))  # fmt: skip
CASES.append(Case(
    name="decoding.top_k_filter", make_inputs=_tied_logits,
    run=lambda logits: top_k_filter(logits, 3),
    reference=lambda logits: top_k_filter_reference(logits, 3),
))  # fmt: skip
CASES.append(Case(
    name="decoding.top_p_filter", make_inputs=_logits,
    run=lambda logits: top_p_filter(logits, 0.8),
    reference=lambda logits: top_p_filter_reference(logits, 0.8),
))  # fmt: skip
CASES.append(Case(
    name="decoding.min_p_filter", make_inputs=_logits,
    run=lambda logits: min_p_filter(logits, 0.1),
    reference=lambda logits: min_p_filter_reference(logits, 0.1),
))  # fmt: skip
CASES.append(Case(
    name="decoding.repetition_penalty", make_inputs=_penalty_inputs,
    run=lambda logits, tokens: repetition_penalty(logits, tokens, 1.3),
    reference=lambda logits, tokens: repetition_penalty_reference(logits, tokens, 1.3),
))  # fmt: skip


def _sample_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {"key": rng.integers(0, 2**32, size=2, dtype=np.uint32), **_logits(rng)}


CASES.append(Case(
    name="decoding.sample_next_token", make_inputs=_sample_inputs, dtypes=("float32",),
    run=lambda key, logits: sample_next_token(key, logits, top_k=5),
    reference=lambda key, logits: categorical_reference(key, top_k_filter_reference(logits, 5)),
))  # fmt: skip


# generate on a bigram model: logits = table[last token]
_V, _N = 4, 3
_EOS = 3


def _bigram_step(table: Any) -> Any:
    def step(tokens: Any, cache: Any, index: Any) -> Any:
        xp = backends.of(tokens).xp
        columns = xp.arange(tokens.shape[1])
        last = xp.sum(xp.where(columns == index - 1, tokens, 0), axis=1)
        return xp.take(table, last, axis=0), cache

    return step


def _generate_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {"table": rng.normal(size=(_V, _V)) * 2, "prompt": rng.integers(0, _EOS, size=(3, 2))}


CASES.append(Case(
    name="decoding.generate(greedy)", make_inputs=_generate_inputs,
    run=lambda table, prompt: generate(_bigram_step(table), prompt, _N, eos_token_id=_EOS),
    reference=lambda table, prompt: greedy_bigram_reference(table, prompt, _N, eos_token_id=_EOS),
))  # fmt: skip
CASES.append(Case(
    name="decoding.generate(beam)", make_inputs=_generate_inputs,
    run=lambda table, prompt: generate(_bigram_step(table), prompt, _N, strategy="beam",
                                       num_beams=_V ** (_N - 1)),
    reference=lambda table, prompt: beam_search_bigram_reference(table, prompt, _N),
))  # fmt: skip
