"""Beam search (generate(strategy="beam")): with enough beams it is an exhaustive search; with
EOS and a length penalty it follows Hugging Face's rules, restated here one row at a time with
Python lists (transformers' ``GenerationMixin._beam_search``, early_stopping=False); a cache
reordered with the beams gives the tokens of a step function without one."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import mlprims
from mlprims import generate
from mlprims._array import namespace

V, M = 4, 11  # M prime and above every weight (i + 1): no position is forgotten
EOS, PAD = 3, 0
TABLE = np.random.default_rng(4).normal(size=(V * M, V)).astype(np.float32) * 1.5
PROMPT = np.array([[1, 2], [0, 0], [2, 1]])
PROMPTS = np.array([[a, b] for a in range(V) for b in range(V) if EOS not in (a, b)])


def _column(tokens, index, xp):
    columns = xp.arange(tokens.shape[1])
    return xp.sum(xp.where(columns == index, tokens, 0), axis=1)


def _logits(last, prefix_sum, tokens):
    xp = namespace(tokens)
    table = mlprims.backends.of(tokens).asarray(TABLE)
    row = xp.astype(last, xp.int64) * M + xp.astype(prefix_sum % M, xp.int64)
    return xp.take(table, row, axis=0)


def uncached_step(tokens, cache, index):
    """The model reads the last token and sum_i (i + 1) * token_i mod M over the prefix."""
    xp = namespace(tokens)
    columns = xp.arange(tokens.shape[1])
    prefix_sum = xp.sum(xp.where(columns < index, tokens * (columns + 1), 0), axis=1)
    return _logits(_column(tokens, index - 1, xp), prefix_sum, tokens), cache


def cached_step(tokens, cache, index):
    """The weighted prefix sum carried in the cache: wrong unless its rows follow the beams."""
    xp = namespace(tokens)
    last = _column(tokens, index - 1, xp)
    prefix_sum = cache["sum"] + last * index
    return _logits(last, prefix_sum, tokens), {"sum": prefix_sum}


def _start_cache(prompt: np.ndarray) -> np.ndarray:
    """The weighted sum of the prompt without its last token."""
    return (prompt[:, :-1] * np.arange(1, prompt.shape[1])).sum(axis=1)


def _log_probs(seq: list[int]) -> np.ndarray:
    weighted = sum((i + 1) * token for i, token in enumerate(seq))
    z = TABLE[seq[-1] * M + weighted % M].astype(np.float64)
    return z - np.log(np.exp(z - z.max()).sum()) - z.max()


def exhaustive(row: list[int], n: int, eos: int | None, length_penalty: float) -> list[int]:
    """The best of every continuation (ended by EOS or by the buffer), by brute force."""
    best, best_score = None, -np.inf
    for length in range(1, n + 1):
        for tail in itertools.product(range(V), repeat=length):
            ended = eos is not None and tail[-1] == eos
            if (eos is not None and eos in tail[:-1]) or (length < n and not ended):
                continue
            seq, total = list(row), 0.0
            for token in tail:
                total += _log_probs(seq)[token]
                seq.append(token)
            score = total / length**length_penalty
            if score > best_score:
                best, best_score = seq, score
    assert best is not None
    return best + [PAD] * (len(row) + n - len(best))


def hugging_face_beam(row: list[int], n: int, k: int, eos: int | None, lp: float) -> list[int]:
    """Hugging Face's vectorised beam search for one row, restated with lists."""
    total = len(row) + n
    running = [(0.0 if j == 0 else -1e9, list(row)) for j in range(k)]
    slots = [(-1e9, list(row), False)] * k
    improvable = True
    for index in range(len(row), total):
        scored = [(s + _log_probs(seq)[v], [*seq, v]) for s, seq in running for v in range(V)]
        order = sorted(range(len(scored)), key=lambda i: -scored[i][0])  # stable: ties by index
        top = [scored[i] for i in order[: min(2 * k, k * V)]]
        hits = [seq[-1] == eos or index + 1 == total for _, seq in top]
        length = float(index + 1 - len(row)) ** lp
        alive = [(s - 1e9 if hit else s, seq) for (s, seq), hit in zip(top, hits, strict=True)]
        running = sorted(alive, key=lambda c: -c[0])[:k]
        ended = []
        for rank, ((s, seq), hit) in enumerate(zip(top, hits, strict=True)):
            just = hit and rank < k
            value = s / length - (0 if improvable else 1e9) - (0 if just else 1e9)
            ended.append((value, seq, just))
        slots = sorted(slots + ended, key=lambda c: -c[0])[:k]
        worst = min(s for s, _, _ in slots)
        best_possible = running[0][0] / length
        improvable = improvable and any(best_possible > (worst if f else -1e9) for *_, f in slots)
        if not improvable or all(hits):
            break
    best = slots[0][1]
    return best + [PAD] * (total - len(best))


#: Op by op, a beam search on eager JAX compiles every small operation: seconds per test.
NOT_EAGER_JAX = pytest.mark.backends(
    exclude=("jax",), reason="jax_jit runs the same code, compiled once instead of op by op"
)


class TestBeamSearch:
    @NOT_EAGER_JAX
    def test_enough_beams_is_exhaustive(self, xb) -> None:
        n = 3
        out = generate(uncached_step, xb.asarray(PROMPT), n, strategy="beam",
                       num_beams=V ** (n - 1), length_penalty=1.0)  # fmt: skip
        expected = [exhaustive(row, n, None, 1.0) for row in PROMPT.tolist()]
        assert xb.to_numpy(out).tolist() == expected

    @pytest.mark.parametrize("length_penalty", [0.0, -0.5])
    def test_enough_beams_is_exhaustive_with_eos(self, length_penalty) -> None:
        # without a positive length penalty, HF's stopping rule is exact
        n = 3
        out = generate(uncached_step, PROMPT, n, strategy="beam", num_beams=V ** (n - 1),
                       eos_token_id=EOS, length_penalty=length_penalty)  # fmt: skip
        expected = [exhaustive(row, n, EOS, length_penalty) for row in PROMPT.tolist()]
        assert out.tolist() == expected

    @pytest.mark.parametrize(("k", "lp"), [(1, 1.0), (2, 1.0), (3, 2.0), (2, -1.0), (4, 0.5)])
    def test_follows_hugging_face_with_eos(self, k, lp) -> None:
        n = 6
        prompts = PROMPTS
        out = generate(uncached_step, prompts, n, strategy="beam", num_beams=k,
                       eos_token_id=EOS, length_penalty=lp)  # fmt: skip
        expected = [hugging_face_beam(row, n, k, EOS, lp) for row in prompts.tolist()]
        assert out.tolist() == expected
        assert any(EOS in row[2:-1] for row in expected)  # some finish early, padded after

    @NOT_EAGER_JAX
    def test_cache_follows_the_beams(self, xb) -> None:
        options = {"strategy": "beam", "num_beams": 3, "eos_token_id": EOS}
        expected = [hugging_face_beam(r, 6, 3, EOS, 1.0) for r in PROMPTS.tolist()]
        assert generate(uncached_step, PROMPTS, 6, **options).tolist() == expected
        # the cache holds B rows, repeated per beam, then reordered with them
        cache = {"sum": xb.asarray(_start_cache(PROMPTS))}
        out = generate(cached_step, xb.asarray(PROMPTS), 6, cache=cache, **options)
        assert xb.to_numpy(out).tolist() == expected

    def test_stops_eagerly(self) -> None:
        calls = []

        def step(tokens, cache, index):
            calls.append(index)
            logits = np.full((tokens.shape[0], V), -5.0, dtype=np.float32)
            logits[:, EOS] = 5.0  # EOS at once, and everything else far worse
            return logits, cache

        out = generate(step, PROMPT, 10, strategy="beam", num_beams=2, eos_token_id=EOS)
        assert out[:, 2:].tolist() == [[EOS] + [PAD] * 9] * 3
        assert len(calls) < 10
