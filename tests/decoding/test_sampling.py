"""sample_next_token: frequencies of the filtered, renormalised distribution, and the same
token from the same key on every backend."""

from __future__ import annotations

import numpy as np
import pytest

from mlprims import random, sample_next_token

LOGITS = np.log(np.array([[0.3, 0.25, 0.2, 0.1, 0.08, 0.05, 0.02]]))


def _warped_probabilities(logits: np.ndarray, t: float, k: int, p: float) -> np.ndarray:
    """HF's order by hand: temperature, top-k (ties kept), top-p (ascending cumulative mass)."""
    z = logits / t
    z = np.where(z < np.sort(z)[-k], -np.inf, z)
    order = np.argsort(z, kind="stable")
    probs = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    cumulative = np.cumsum(probs[order])
    remove = cumulative <= 1 - p
    remove[-1] = False
    z[order[remove]] = -np.inf
    e = np.exp(z - z.max())
    return e / e.sum()


class TestSampleNextToken:
    def test_frequencies_chi_square(self) -> None:
        n = 10_000
        expected = _warped_probabilities(LOGITS[0], 0.7, 5, 0.9)
        assert (expected == 0).sum() == 3  # top-k removed two tokens, top-p one more
        batch = np.broadcast_to(LOGITS, (n, LOGITS.shape[1]))  # one call draws all n
        draws = sample_next_token(random.key(3), batch, temperature=0.7, top_k=5, top_p=0.9)
        counts = np.bincount(draws, minlength=LOGITS.shape[1])
        assert counts[expected == 0].sum() == 0
        kept = expected > 0
        chi2 = np.sum((counts[kept] - n * expected[kept]) ** 2 / (n * expected[kept]))
        assert chi2 < 16.27  # the 0.999 quantile of chi-square with 3 degrees of freedom

    def test_same_key_same_tokens_on_every_backend(self, xb) -> None:
        logits = np.random.default_rng(1).normal(size=(16, 11)).astype(np.float32)
        key = np.asarray(random.key(7))
        options = {"temperature": 1.3, "top_k": 6, "top_p": 0.8}
        expected = sample_next_token(key, logits, **options)
        drawn = sample_next_token(xb.asarray(key), xb.asarray(logits), **options)
        assert xb.to_numpy(drawn).tolist() == expected.tolist()

    def test_top_k_1_is_argmax(self) -> None:
        logits = np.random.default_rng(2).normal(size=(8, 5))
        drawn = sample_next_token(random.key(0), logits, top_k=1)
        assert drawn.tolist() == logits.argmax(axis=1).tolist()

    @pytest.mark.parametrize(
        ("options", "name"),
        [
            ({"temperature": 0.0}, "temperature"),
            ({"temperature": -1.0}, "temperature"),
            ({"top_k": 0}, "k"),
            ({"top_p": 0.0}, "p"),
            ({"top_p": 1.01}, "p"),
        ],
    )
    def test_bad_options(self, options, name) -> None:
        with pytest.raises(ValueError, match=f"`{name}`"):
            sample_next_token(random.key(0), LOGITS, **options)

    def test_bad_key(self) -> None:
        with pytest.raises(TypeError, match="`key`"):
            sample_next_token(np.array([0, 0]), LOGITS)
