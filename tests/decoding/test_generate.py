"""generate (greedy and sample): an argmax loop written here, rows finishing at different
steps, cached and uncached step functions, the same tokens on every backend, one compiled
loop under jax.jit, and clear errors."""

from __future__ import annotations

import numpy as np
import pytest

import mlprims
from mlprims import generate, random
from mlprims._array import namespace

V, M = 5, 3  # vocabulary; the toy model also reads the prefix sum modulo M
EOS, PAD = 4, 0
TABLE = np.random.default_rng(0).normal(size=(V * M, V)).astype(np.float32) * 2.0
PROMPT = np.array([[1, 2], [3, 3], [0, 1]])


def _column(tokens, index, xp):
    """tokens[:, index] for an int or a traced index (a where over an arange == index mask)."""
    columns = xp.arange(tokens.shape[1])
    return xp.sum(xp.where(columns == index, tokens, 0), axis=1)


def _logits(last, prefix_sum, tokens):
    """The toy model: a random table row chosen by the last token and the prefix sum mod M."""
    xp = namespace(tokens)
    table = mlprims.backends.of(tokens).asarray(TABLE)
    row = xp.astype(last, xp.int64) * M + xp.astype(prefix_sum % M, xp.int64)
    return xp.take(table, row, axis=0)


def uncached_step(tokens, cache, index):
    """Recomputes the prefix sum from the whole buffer at every step."""
    xp = namespace(tokens)
    columns = xp.arange(tokens.shape[1])
    prefix_sum = xp.sum(xp.where(columns < index, tokens, 0), axis=1)
    return _logits(_column(tokens, index - 1, xp), prefix_sum, tokens), cache


def cached_step(tokens, cache, index):
    """Carries the sum of the tokens before the last one, and adds the last one."""
    xp = namespace(tokens)
    last = _column(tokens, index - 1, xp)
    prefix_sum = cache["sum"] + last
    return _logits(last, prefix_sum, tokens), {"sum": prefix_sum}


def _start_cache(prompt: np.ndarray) -> dict[str, np.ndarray]:
    return {"sum": prompt[:, :-1].sum(axis=1)}


def argmax_loop(prompt: np.ndarray, n: int, eos: int | list[int] | None) -> np.ndarray:
    """The reference: one row at a time, a Python list, stop at EOS (any of a list), pad the
    rest."""
    ends = eos if isinstance(eos, list) else [eos]
    out = []
    for row in prompt.tolist():
        seq = list(row)
        for _ in range(n):
            z = TABLE[seq[-1] * M + sum(seq) % M]  # the last token, the prefix sum
            seq.append(int(np.argmax(z)))
            if seq[-1] in ends:
                break
        out.append(seq + [PAD] * (len(row) + n - len(seq)))
    return np.array(out)


class TestGreedy:
    def test_equals_an_argmax_loop(self, xb) -> None:
        expected = argmax_loop(PROMPT, 6, EOS)
        finished_at = [list(r[2:]).index(EOS) if EOS in r[2:] else None for r in expected]
        assert len(set(finished_at)) == 3  # the rows finish at different steps (or never)
        out = generate(uncached_step, xb.asarray(PROMPT), 6, eos_token_id=EOS)
        assert xb.to_numpy(out).tolist() == expected.tolist()

    def test_cached_equals_uncached(self, xb) -> None:
        prompt, cache = xb.asarray(PROMPT), {"sum": xb.asarray(_start_cache(PROMPT)["sum"])}
        out = generate(cached_step, prompt, 6, cache=cache, eos_token_id=EOS)
        assert xb.to_numpy(out).tolist() == argmax_loop(PROMPT, 6, EOS).tolist()

    def test_a_list_of_eos_ids_any_of_which_ends_a_row(self) -> None:
        """transformers' list (Llama 3's three end ids): the greedy tokens of the reference
        that stops at either; one id in a list is that id."""
        free = argmax_loop(PROMPT, 6, None)
        other = int(free[0, 3])  # a token row 0 emits: it must now end there
        expected = argmax_loop(PROMPT, 6, [EOS, other])
        assert expected.tolist() != argmax_loop(PROMPT, 6, EOS).tolist()
        assert generate(uncached_step, PROMPT, 6, eos_token_id=[EOS, other]).tolist() == (
            expected.tolist()
        )
        one = generate(uncached_step, PROMPT, 6, eos_token_id=(EOS,))
        assert one.tolist() == argmax_loop(PROMPT, 6, EOS).tolist()

    def test_without_eos_fills_the_buffer(self) -> None:
        out = generate(uncached_step, PROMPT, 5)
        assert out.tolist() == argmax_loop(PROMPT, 5, None).tolist()
        assert out.dtype == PROMPT.dtype

    def test_stops_eagerly_when_every_row_finished(self) -> None:
        calls = []

        def step(tokens, cache, index):
            calls.append(index)
            logits = np.zeros((tokens.shape[0], V), dtype=np.float32)
            logits[:, EOS if index >= 3 else 1] = 1.0
            return logits, cache

        out = generate(step, PROMPT, 10, eos_token_id=EOS)
        assert calls == [2, 3]
        assert out[:, 2:].tolist() == [[1, EOS] + [PAD] * 8] * 3

    def test_zero_new_tokens(self) -> None:
        out = generate(uncached_step, PROMPT, 0)
        assert out.tolist() == PROMPT.tolist()
        assert out is not PROMPT


class TestSample:
    @pytest.mark.backends(
        exclude=("jax",), reason="eager JAX draws op by op (seconds): jax_jit runs the same code"
    )
    def test_same_key_same_tokens_on_every_backend(self, xb) -> None:
        options = {"strategy": "sample", "temperature": 1.5, "top_k": 4, "top_p": 0.95}
        key = random.key(11)
        cache = _start_cache(PROMPT)
        expected = generate(cached_step, PROMPT, 6, cache=cache, key=key, eos_token_id=EOS,
                            **options)  # fmt: skip
        out = generate(
            cached_step, xb.asarray(PROMPT), 6, cache={"sum": xb.asarray(cache["sum"])},
            key=xb.asarray(np.asarray(key)), eos_token_id=EOS, **options,
        )  # fmt: skip
        assert xb.to_numpy(out).tolist() == expected.tolist()

    def test_each_step_draws_with_fold_in(self) -> None:
        key = random.key(5)
        out = generate(uncached_step, PROMPT, 4, strategy="sample", key=key)
        seq = PROMPT.copy()
        for index in range(2, 6):
            logits, _ = uncached_step(np.concatenate([seq, np.zeros((3, 6 - index), int)], 1),
                                      None, index)  # fmt: skip
            drawn = random.categorical(random.fold_in(key, index), logits)
            seq = np.concatenate([seq, drawn[:, None]], axis=1)
        assert out.tolist() == seq.tolist()

    def test_cached_equals_uncached(self) -> None:
        options = {"strategy": "sample", "key": random.key(2), "eos_token_id": EOS}
        cached = generate(cached_step, PROMPT, 8, cache=_start_cache(PROMPT), **options)
        assert cached.tolist() == generate(uncached_step, PROMPT, 8, **options).tolist()


class TestUnderJit:
    def test_one_compiled_while_loop(self) -> None:
        jax = pytest.importorskip("jax")
        traces = []

        def step(tokens, cache, index):
            traces.append(type(index).__name__)
            return uncached_step(tokens, cache, index)

        run = jax.jit(lambda p: generate(step, p, 6, eos_token_id=EOS))
        prompt = jax.numpy.asarray(PROMPT)
        assert np.asarray(run(prompt)).tolist() == argmax_loop(PROMPT, 6, EOS).tolist()
        assert traces[0] == "int" and len(traces) == 2  # the first step, then the loop body
        other = PROMPT[::-1].copy()
        expected = argmax_loop(other, 6, EOS)
        assert np.asarray(run(jax.numpy.asarray(other))).tolist() == expected.tolist()
        assert len(traces) == 2  # no retrace
        assert "while" in str(jax.make_jaxpr(lambda p: generate(uncached_step, p, 6))(prompt))


class TestBadInputs:
    @pytest.mark.parametrize(
        ("args", "kwargs", "error", "name"),
        [
            ((np.zeros((2, 0), dtype=int), 3), {}, ValueError, "prompt"),
            ((np.zeros((0, 2), dtype=int), 3), {}, ValueError, "prompt"),
            ((PROMPT.astype(np.float32), 3), {}, TypeError, "prompt"),
            ((PROMPT[0], 3), {}, ValueError, "prompt"),
            ((PROMPT.tolist(), 3), {}, TypeError, "prompt"),
            ((PROMPT, -1), {}, ValueError, "max_new_tokens"),
            ((PROMPT, 2.0), {}, TypeError, "max_new_tokens"),
            ((PROMPT, 3), {"strategy": "nucleus"}, ValueError, "strategy"),
            ((PROMPT, 3), {"strategy": "sample"}, ValueError, "key"),
            ((PROMPT, 3), {"temperature": 0.0}, ValueError, "temperature"),
            ((PROMPT, 3), {"top_k": 0}, ValueError, "top_k"),
            ((PROMPT, 3), {"top_p": 0.0}, ValueError, "top_p"),
            ((PROMPT, 3), {"top_p": 2.0}, ValueError, "top_p"),
            ((PROMPT, 3), {"num_beams": 2}, ValueError, "num_beams"),
            ((PROMPT, 3), {"num_beams": 0, "strategy": "beam"}, ValueError, "num_beams"),
            ((PROMPT, 3), {"eos_token_id": -1}, ValueError, "eos_token_id"),
            ((PROMPT, 3), {"eos_token_id": V}, ValueError, "eos_token_id"),
            ((PROMPT, 3), {"pad_token_id": V + 2}, ValueError, "pad_token_id"),
            ((PROMPT, 3), {"eos_token_id": V, "strategy": "beam", "num_beams": 2}, ValueError,
             "eos_token_id"),
        ],
    )  # fmt: skip
    def test_raises_naming_the_argument(self, args, kwargs, error, name) -> None:
        with pytest.raises(error, match=f"`{name}`"):
            generate(uncached_step, *args, **kwargs)

    def test_bad_step_fn(self) -> None:
        with pytest.raises(TypeError, match="`step_fn`"):
            generate(None, PROMPT, 3)
        with pytest.raises(ValueError, match="`step_fn`"):
            generate(lambda t, c, i: (np.zeros((1, V)), c), PROMPT, 3)
