"""Logits processors against Hugging Face's warpers, transcribed below from
transformers/generation/logits_process.py (``TopKLogitsWarper``, ``TopPLogitsWarper``,
``MinPLogitsWarper``, ``TemperatureLogitsWarper``, ``RepetitionPenaltyLogitsProcessor``) with
NumPy in float64; ``torch.sort``'s CPU order among ties is the stable one.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import mlprims
from mlprims import (
    apply_temperature,
    min_p_filter,
    repetition_penalty,
    top_k_filter,
    top_p_filter,
)

INF = math.inf


# ---------------------------------------------------------------- Hugging Face, transcribed


def _softmax(x: np.ndarray) -> np.ndarray:
    m = np.max(x, axis=-1, keepdims=True)
    e = np.exp(x - m)
    return e / e.sum(axis=-1, keepdims=True)


def hf_top_k(scores: np.ndarray, top_k: int, min_tokens_to_keep: int = 1) -> np.ndarray:
    top_k = min(max(top_k, min_tokens_to_keep), scores.shape[-1])
    kth = -np.sort(-scores, axis=-1)[..., top_k - 1, None]  # torch.topk(scores, k)[0][..., -1]
    return np.where(scores < kth, -INF, scores)


def hf_top_p(scores: np.ndarray, top_p: float, min_tokens_to_keep: int = 1) -> np.ndarray:
    sorted_indices = np.argsort(scores, axis=-1, kind="stable")
    sorted_logits = np.take_along_axis(scores, sorted_indices, axis=-1)
    cumulative_probs = np.cumsum(_softmax(sorted_logits), axis=-1)
    sorted_indices_to_remove = cumulative_probs <= (1 - top_p)
    sorted_indices_to_remove[..., -min_tokens_to_keep:] = False
    indices_to_remove = np.zeros_like(sorted_indices_to_remove)
    np.put_along_axis(indices_to_remove, sorted_indices, sorted_indices_to_remove, axis=-1)
    return np.where(indices_to_remove, -INF, scores)


def hf_min_p(scores: np.ndarray, min_p: float, min_tokens_to_keep: int = 1) -> np.ndarray:
    probs = _softmax(scores)
    tokens_to_remove = probs < min_p * probs.max(axis=-1, keepdims=True)
    sorted_indices = np.argsort(-scores, axis=-1, kind="stable")
    sorted_indices_to_remove = np.take_along_axis(tokens_to_remove, sorted_indices, axis=-1)
    sorted_indices_to_remove[..., :min_tokens_to_keep] = False
    indices_to_remove = np.zeros_like(sorted_indices_to_remove)
    np.put_along_axis(indices_to_remove, sorted_indices, sorted_indices_to_remove, axis=-1)
    return np.where(indices_to_remove, -INF, scores)


def hf_repetition(input_ids: np.ndarray, scores: np.ndarray, penalty: float) -> np.ndarray:
    score = np.take_along_axis(scores, input_ids, axis=1)
    score = np.where(score < 0, score * penalty, score / penalty)
    out = scores.copy()
    np.put_along_axis(out, input_ids, score, axis=1)
    return out


# ------------------------------------------------------------ crafted ties and boundaries

CRAFTED = np.array(
    [
        [3.0, 1.0, 2.0, 2.0, 0.0, 2.0],  # a three-way tie below the maximum
        [1.0, 1.0, 1.0, 1.0, 1.0, 1.0],  # all equal
        [-INF, 0.5, -INF, 0.5, 4.0, -1.0],  # -inf already present, a tie
        [10.0, -10.0, 0.0, 0.0, 9.999, 5.0],
    ]
)
K_VALUES = (1, 2, 3, 4, 6, 7, 100)
P_VALUES = (1e-9, 0.1, 0.3, 0.5, 0.6, 0.9, 0.99, 1.0)
# on every backend a few (each value is a new trace under jax.jit); on NumPy all of them
K_EACH_BACKEND = (1, 3, 7)
P_EACH_BACKEND = (1e-9, 0.5, 1.0)


def _close(actual: np.ndarray, expected: np.ndarray) -> None:
    actual = np.asarray(actual, dtype=np.float64)
    assert np.array_equal(np.isneginf(actual), np.isneginf(expected)), (actual, expected)
    np.testing.assert_allclose(actual, expected, rtol=1e-6)


class TestTopK:
    def test_equals_hugging_face(self, xb) -> None:
        logits = xb.asarray(CRAFTED)
        for k in K_EACH_BACKEND:
            _close(xb.to_numpy(top_k_filter(logits, k)), hf_top_k(CRAFTED, k))

    def test_equals_hugging_face_every_k(self) -> None:
        for k in K_VALUES:
            _close(top_k_filter(CRAFTED, k), hf_top_k(CRAFTED, k))

    def test_keeps_every_tie_of_the_kth(self) -> None:
        out = top_k_filter(CRAFTED[:1], 2)
        assert np.isfinite(out).sum() == 4  # 3.0 and the three 2.0

    def test_fill_and_float32(self) -> None:
        logits = CRAFTED.astype(np.float32)
        out = top_k_filter(logits, 1, fill=-1e4)
        assert out.dtype == np.float32
        assert out[0].tolist() == [3.0] + [-1e4] * 5

    @pytest.mark.parametrize(("k", "error"), [(0, ValueError), (-1, ValueError), (1.5, TypeError)])
    def test_bad_k(self, k, error) -> None:
        with pytest.raises(error, match="`k`"):
            top_k_filter(CRAFTED, k)


class TestTopP:
    def test_equals_hugging_face(self, xb) -> None:
        logits = xb.asarray(CRAFTED)
        for p in P_EACH_BACKEND:
            _close(xb.to_numpy(top_p_filter(logits, p)), hf_top_p(CRAFTED, p))
        expected = hf_top_p(CRAFTED, 1e-9, min_tokens_to_keep=2)
        _close(xb.to_numpy(top_p_filter(logits, 1e-9, min_tokens_to_keep=2)), expected)

    def test_equals_hugging_face_every_p(self) -> None:
        rows = np.concatenate([CRAFTED, np.random.default_rng(0).normal(size=(4, 6)) * 2])
        for p in P_VALUES:
            for keep in (1, 2, 5):
                expected = hf_top_p(rows, p, min_tokens_to_keep=keep)
                _close(top_p_filter(rows, p, min_tokens_to_keep=keep), expected)

    def test_boundaries(self) -> None:
        assert np.isfinite(top_p_filter(CRAFTED, 1e-9)).sum(axis=1).tolist() == [1, 1, 1, 1]
        assert np.array_equal(top_p_filter(CRAFTED, 1.0), CRAFTED)  # p = 1 keeps all
        # all equal: the lower indices of the tie go first, as HF's ascending sort
        assert np.isfinite(top_p_filter(CRAFTED[1:2], 0.5))[0].tolist() == [0, 0, 0, 1, 1, 1]

    @pytest.mark.parametrize("p", [0.0, -0.1, 1.5, math.nan])
    def test_bad_p(self, p) -> None:
        with pytest.raises(ValueError, match="`p`"):
            top_p_filter(CRAFTED, p)
        with pytest.raises(ValueError, match="`min_tokens_to_keep`"):
            top_p_filter(CRAFTED, 0.5, min_tokens_to_keep=0)


class TestMinP:
    def test_equals_hugging_face(self, xb) -> None:
        logits = xb.asarray(CRAFTED)
        for p, keep in ((0.2, 1), (0.5, 3)):
            expected = hf_min_p(CRAFTED, p, min_tokens_to_keep=keep)
            _close(xb.to_numpy(min_p_filter(logits, p, min_tokens_to_keep=keep)), expected)

    def test_equals_hugging_face_every_p(self) -> None:
        for p in (0.0, 0.05, 0.2, 0.5, 1.0):
            for keep in (1, 3):
                expected = hf_min_p(CRAFTED, p, min_tokens_to_keep=keep)
                _close(min_p_filter(CRAFTED, p, min_tokens_to_keep=keep), expected)

    def test_bad_p(self) -> None:
        with pytest.raises(ValueError, match="`p`"):
            min_p_filter(CRAFTED, 1.5)


class TestTemperature:
    def test_divides(self, xb) -> None:
        out = xb.to_numpy(apply_temperature(xb.asarray(CRAFTED), 0.5))
        _close(out, CRAFTED / 0.5)

    @pytest.mark.parametrize(
        ("t", "error"),
        [(0.0, ValueError), (-1.0, ValueError), (math.inf, ValueError), ("1", TypeError)],
    )
    def test_bad_temperature(self, t, error) -> None:
        with pytest.raises(error, match="`temperature`"):
            apply_temperature(CRAFTED, t)

    def test_bad_logits(self) -> None:
        with pytest.raises(TypeError, match="`logits`"):
            apply_temperature(np.ones((2, 3), dtype=np.int64), 1.0)
        with pytest.raises(TypeError, match="`logits`"):
            top_k_filter([[1.0, 2.0]], 1)
        with pytest.raises(ValueError, match="`logits`"):
            top_k_filter(np.ones((2, 0)), 1)


class TestRepetitionPenalty:
    TOKENS = np.array([[0, 0, 3, 5], [1, 2, 2, 2], [4, 4, 4, 4], [5, 0, 1, 2]])

    def test_equals_hugging_face(self, xb) -> None:
        scores = np.where(np.isinf(CRAFTED), -3.0, CRAFTED)
        for penalty in (0.5, 1.0, 1.3):
            out = repetition_penalty(xb.asarray(scores), xb.asarray(self.TOKENS), penalty)
            _close(xb.to_numpy(out), hf_repetition(self.TOKENS, scores, penalty))

    def test_ids_outside_the_vocabulary_are_ignored(self) -> None:
        scores = np.ones((1, 3))
        out = repetition_penalty(scores, np.array([[-1, 3, 1]]), 2.0)
        assert out.tolist() == [[1.0, 0.5, 1.0]]

    def test_bad_inputs(self) -> None:
        with pytest.raises(ValueError, match="`penalty`"):
            repetition_penalty(CRAFTED, self.TOKENS, 0.0)
        with pytest.raises(TypeError, match="`tokens`"):
            repetition_penalty(CRAFTED, self.TOKENS.astype(float), 1.2)
        with pytest.raises(ValueError, match="`tokens`"):
            repetition_penalty(CRAFTED, self.TOKENS[:2], 1.2)


def test_exported() -> None:
    for name in ("apply_temperature", "top_k_filter", "top_p_filter", "min_p_filter"):
        assert name in mlprims.__all__
