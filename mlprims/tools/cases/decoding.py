"""Check cases for mlprims.decoding: the logits processors against float64 NumPy restatements
of Hugging Face's warpers, sample_next_token against the Threefry oracle of
:mod:`mlprims.testing.oracles.random`, and generate (greedy, beam) on a toy bigram model
against a Python argmax loop and an exhaustive search.
"""

from __future__ import annotations

import itertools
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
from ...testing.oracles.random import categorical_reference
from ..registry import Case, register

__all__: list[str] = []


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _top_k(z: np.ndarray, k: int) -> np.ndarray:
    kth = -np.sort(-z, axis=-1)[..., k - 1 : k]
    return np.where(z < kth, -np.inf, z)


def _top_p(z: np.ndarray, p: float) -> np.ndarray:
    order = np.argsort(z, axis=-1, kind="stable")
    cumulative = np.cumsum(_softmax(np.take_along_axis(z, order, axis=-1)), axis=-1)
    remove_sorted = cumulative <= 1 - p
    remove_sorted[..., -1] = False
    remove = np.zeros_like(remove_sorted)
    np.put_along_axis(remove, order, remove_sorted, axis=-1)
    return np.where(remove, -np.inf, z)


def _min_p(z: np.ndarray, p: float) -> np.ndarray:
    probs = _softmax(z)
    return np.where(probs < p * probs.max(axis=-1, keepdims=True), -np.inf, z)


def _repetition(z: np.ndarray, tokens: np.ndarray, penalty: float) -> np.ndarray:
    out = z.copy()
    for b, row in enumerate(tokens):
        for t in set(row.tolist()):
            out[b, t] = z[b, t] * penalty if z[b, t] < 0 else z[b, t] / penalty
    return out


def _tied_logits(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {"logits": rng.integers(-3, 4, size=(4, 9)).astype(np.float64)}


def _logits(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {"logits": rng.normal(size=(4, 9)) * 2}


def _penalty_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {**_logits(rng), "tokens": rng.integers(0, 9, size=(4, 6))}


register(Case(
    name="decoding.apply_temperature", make_inputs=_logits,
    run=lambda logits: apply_temperature(logits, 0.7),
    reference=lambda logits: logits / 0.7,
))  # fmt: skip
register(Case(
    name="decoding.top_k_filter", make_inputs=_tied_logits,
    run=lambda logits: top_k_filter(logits, 3),
    reference=lambda logits: _top_k(logits, 3),
))  # fmt: skip
register(Case(
    name="decoding.top_p_filter", make_inputs=_logits,
    run=lambda logits: top_p_filter(logits, 0.8),
    reference=lambda logits: _top_p(logits, 0.8),
))  # fmt: skip
register(Case(
    name="decoding.min_p_filter", make_inputs=_logits,
    run=lambda logits: min_p_filter(logits, 0.1),
    reference=lambda logits: _min_p(logits, 0.1),
))  # fmt: skip
register(Case(
    name="decoding.repetition_penalty", make_inputs=_penalty_inputs,
    run=lambda logits, tokens: repetition_penalty(logits, tokens, 1.3),
    reference=lambda logits, tokens: _repetition(logits, tokens, 1.3),
))  # fmt: skip


def _sample_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {"key": rng.integers(0, 2**32, size=2, dtype=np.uint32), **_logits(rng)}


register(Case(
    name="decoding.sample_next_token", make_inputs=_sample_inputs, dtypes=("float32",),
    run=lambda key, logits: sample_next_token(key, logits, top_k=5),
    reference=lambda key, logits: categorical_reference(key, _top_k(logits, 5)),
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


def _greedy_reference(table: np.ndarray, prompt: np.ndarray) -> np.ndarray:
    out = []
    for row in prompt.tolist():
        seq = list(row)
        for _ in range(_N):
            seq.append(int(np.argmax(table[seq[-1]])))
            if seq[-1] == _EOS:
                break
        out.append(seq + [0] * (len(row) + _N - len(seq)))
    return np.array(out)


def _log_probs(table: np.ndarray) -> np.ndarray:
    return np.log(_softmax(table))


def _exhaustive_reference(table: np.ndarray, prompt: np.ndarray) -> np.ndarray:
    """The most likely continuation of length N (no EOS): beam search with V**(N-1) beams."""
    lp = _log_probs(table)

    def total(last: int, tail: Any) -> float:
        return sum(lp[a, b] for a, b in zip((last, *tail[:-1]), tail, strict=True))

    out = []
    for row in prompt.tolist():
        tails = itertools.product(range(_V), repeat=_N)
        out.append(row + list(max(tails, key=lambda t: total(row[-1], t))))
    return np.array(out)


register(Case(
    name="decoding.generate(greedy)", make_inputs=_generate_inputs,
    run=lambda table, prompt: generate(_bigram_step(table), prompt, _N, eos_token_id=_EOS),
    reference=_greedy_reference,
))  # fmt: skip
register(Case(
    name="decoding.generate(beam)", make_inputs=_generate_inputs,
    run=lambda table, prompt: generate(_bigram_step(table), prompt, _N, strategy="beam",
                                       num_beams=_V ** (_N - 1)),
    reference=_exhaustive_reference,
))  # fmt: skip
