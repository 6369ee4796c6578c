"""Benchmark: greedy decoding with mlprims.generate, a cached step function against one that
recomputes the whole prefix at every step.

    python benchmarks/bench_decoding.py            # B = 8, P = 64, N = 64, D = 256, V = 1000
    python benchmarks/bench_decoding.py --quick    # B = 4, P = 16, N = 16, D = 64, V = 256

Two models. The tiny LM of mlprims/models/lm.py (``lm_step_fn(params, config)`` against
``lm_step_fn(..., cached=False)``: 2 layers, d_model 128, 4 heads, 2 KV heads, vocab 256). And a
toy with the shape of a transformer's costs: each position's state is ``tanh(E[token] @ W1)``
(D x D per position), the next token's logits ``tanh(mean of the states) @ W_out``. Recomputing
runs the D x D layer over all T = P + N positions of the fixed buffer at every step (masked
past ``index``); the cached step keeps the running sum of the states (the "KV cache") and runs
it on the last token only. "ours" is the cached step, "native" the recomputing one: both run
through the same ``generate`` (torch eager; the whole loop under ``jax.jit``), no EOS, so every
call makes B * N tokens: tokens/s = B * N / time. Each side is called once while the case is
built, to check that both give the same tokens, so "first call" holds no compilation. Timing and
RESULTS.md: benchmarks/harness.py.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from harness import Pair, main


def _sizes(args) -> dict[str, int]:
    if args.quick:
        return {"B": 4, "P": 16, "N": 16, "D": 64, "V": 256}
    return {"B": 8, "P": 64, "N": 64, "D": 256, "V": 1000}


def _model(xp: Any, params: dict[str, Any]):
    """The two step functions over `params` (E, W1, W_out), written with the array API."""
    e, w1, w_out = params["E"], params["W1"], params["W_out"]

    def states(ids: Any) -> Any:
        return xp.tanh(xp.take(e, ids, axis=0) @ w1)  # (n, D)

    def head(total: Any, index: Any) -> Any:
        return xp.tanh(total / xp.astype(xp.asarray(index), total.dtype)) @ w_out  # (B, V)

    def recompute(tokens, cache, index):
        b, t = tokens.shape
        h = xp.reshape(states(xp.reshape(tokens, (-1,))), (b, t, -1))  # (B, T, D)
        seen = xp.reshape(xp.arange(t) < index, (1, t, 1))
        return head(xp.sum(xp.where(seen, h, 0.0), axis=1), index), cache

    def cached(tokens, cache, index):
        columns = xp.arange(tokens.shape[1])
        last = xp.sum(xp.where(columns == index - 1, tokens, 0), axis=1)  # (B,)
        total = cache["sum"] + states(last)
        return head(total, index), {"sum": total}

    def prefill(prompt):
        b, p = prompt.shape
        h = xp.reshape(states(xp.reshape(prompt[:, :-1], (-1,))), (b, p - 1, -1))
        return {"sum": xp.sum(h, axis=1)}

    return recompute, cached, prefill


def _inputs(s: dict[str, int]):
    import numpy as np

    rng = np.random.default_rng(0)
    params = {
        "E": rng.normal(size=(s["V"], s["D"])).astype(np.float32),
        "W1": (rng.normal(size=(s["D"], s["D"])) / s["D"] ** 0.5).astype(np.float32),
        "W_out": rng.normal(size=(s["D"], s["V"])).astype(np.float32),
    }
    prompt = rng.integers(0, s["V"], size=(s["B"], s["P"]))
    return params, prompt


def on_torch(s: dict[str, int]):
    import torch

    from mlprims import generate

    params, prompt = _inputs(s)
    params = {k: torch.asarray(v) for k, v in params.items()}
    prompt = torch.asarray(prompt)
    from array_api_compat import torch as xp

    recompute, cached, prefill = _model(xp, params)

    def ours():
        with torch.no_grad():
            return generate(cached, prompt, s["N"], cache=prefill(prompt))

    def native():
        with torch.no_grad():
            return generate(recompute, prompt, s["N"])

    assert torch.equal(ours(), native())  # the same tokens
    return ours, native


def on_jax(s: dict[str, int]):
    import jax
    import jax.numpy as jnp

    from mlprims import generate

    params, prompt = _inputs(s)
    params = {k: jnp.asarray(v) for k, v in params.items()}
    prompt = jnp.asarray(prompt)
    recompute, cached, prefill = _model(jnp, params)
    ours = jax.jit(lambda p: generate(cached, p, s["N"], cache=prefill(p)))
    native = jax.jit(lambda p: generate(recompute, p, s["N"]))
    assert bool(jnp.all(ours(prompt) == native(prompt)))  # the same tokens
    return (lambda: ours(prompt)), (lambda: native(prompt))


def _lm(s: dict[str, int], backend: str):
    """The tiny LM's cached and recomputing step functions, its parameters and a prompt."""
    import numpy as np

    import mlprims
    from mlprims import random

    config = mlprims.LMConfig(
        vocab=256, d_model=128, n_layers=2, n_heads=4, n_kv_heads=2, max_len=s["P"] + s["N"]
    )
    params = mlprims.init_lm(random.key(0), config, backend=backend)
    prompt = np.random.default_rng(0).integers(0, 256, size=(s["B"], s["P"]))
    cached = mlprims.lm_step_fn(params, config)
    recompute = mlprims.lm_step_fn(params, config, cached=False)
    return cached, recompute, prompt


def lm_on_torch(s: dict[str, int]):
    import torch

    from mlprims import generate

    cached, recompute, prompt = _lm(s, "torch")
    prompt = torch.asarray(prompt)

    def ours():
        with torch.no_grad():
            return generate(cached, prompt, s["N"])

    def native():
        with torch.no_grad():
            return generate(recompute, prompt, s["N"])

    assert torch.equal(ours(), native())  # the same tokens
    return ours, native


def lm_on_jax(s: dict[str, int]):
    import jax
    import jax.numpy as jnp

    from mlprims import generate

    cached, recompute, prompt = _lm(s, "jax")
    prompt = jnp.asarray(prompt)
    ours = jax.jit(lambda p: generate(cached, p, s["N"]))
    native = jax.jit(lambda p: generate(recompute, p, s["N"]))
    assert bool(jnp.all(ours(prompt) == native(prompt)))  # the same tokens
    return (lambda: ours(prompt)), (lambda: native(prompt))


def cases(args) -> list[Pair]:
    s = _sizes(args)
    shape = f"B={s['B']}, P={s['P']}, N={s['N']}, D={s['D']}, V={s['V']}: {s['B'] * s['N']} tokens"
    lm_shape = f"B={s['B']}, P={s['P']}, N={s['N']}: {s['B'] * s['N']} tokens"
    return [
        Pair(f"tiny LM greedy, torch eager, KV cache vs recomputed ({lm_shape})",
             partial(lm_on_torch, s)),
        Pair(f"tiny LM greedy, jax.jit, KV cache vs recomputed ({lm_shape})",
             partial(lm_on_jax, s)),
        Pair(f"greedy, torch eager, cached vs recomputed prefix ({shape})", partial(on_torch, s)),
        Pair(f"greedy, jax.jit, cached vs recomputed prefix ({shape})", partial(on_jax, s)),
    ]  # fmt: skip


def tokens_per_second(args) -> list[str]:
    s = _sizes(args)
    return [f"Each call generates B * N = {s['B'] * s['N']} tokens: tokens/s = that / time."]


if __name__ == "__main__":
    main(__file__, __doc__, cases, notes=tokens_per_second)
