"""Benchmark: mlprims layer_norm / batch_norm against the fused framework ops and plain jnp.

    python benchmarks/bench_normalization.py            # the sizes of ARRAY-API-NOTES
    python benchmarks/bench_normalization.py --quick    # smaller sizes: proves the script runs

Each case is ours against a reference (timing, memory and RESULTS.md: benchmarks/harness.py):

- torch: ``F.layer_norm`` / ``F.batch_norm`` (fused kernels, eager) against ours eager and ours
  under ``torch.compile``; batch_norm in training mode (batch statistics, running statistics
  updated);
- JAX: plain ``jnp`` code under ``jax.jit`` (what a JAX user writes without Flax) against ours
  under ``jax.jit``.

Sizes: layer_norm (32, 512, 768), batch_norm (64, 256, 28, 28); quick (8, 128, 768) and
(16, 64, 28, 28). Targets (issue 10): eager within 2.5x of the fused torch op, compiled and
jitted within 1.2x.
"""

from __future__ import annotations

from functools import partial

from harness import Pair, main


def torch_layer_norm(shape: tuple[int, ...], *, compiled: bool):
    import torch
    import torch.nn.functional as F

    from mlprims import layer_norm

    torch.manual_seed(0)
    d = shape[-1]
    x, w, b = torch.randn(shape), torch.randn(d), torch.randn(d)

    def ours(x, w, b):
        return layer_norm(x, d, w, b)

    if compiled:
        ours = torch.compile(ours)
    return (lambda: ours(x, w, b)), (lambda: F.layer_norm(x, (d,), w, b))


def torch_batch_norm(shape: tuple[int, ...], *, compiled: bool):
    import torch
    import torch.nn.functional as F

    from mlprims import batch_norm

    torch.manual_seed(0)
    c = shape[1]
    x, w, b = torch.randn(shape), torch.randn(c), torch.randn(c)
    mean, var = torch.zeros(c), torch.ones(c)

    def ours(x, mean, var, w, b):
        return batch_norm(x, mean, var, w, b, training=True)

    if compiled:
        ours = torch.compile(ours)
    return (
        lambda: ours(x, mean, var, w, b),
        lambda: F.batch_norm(x, mean, var, w, b, training=True),
    )


def jax_layer_norm(shape: tuple[int, ...]):
    import jax
    import jax.numpy as jnp
    import numpy as np

    from mlprims import layer_norm

    d = shape[-1]
    x = jnp.asarray(np.random.default_rng(0).standard_normal(shape), dtype=jnp.float32)
    w, b = jnp.ones(d, jnp.float32), jnp.zeros(d, jnp.float32)

    @jax.jit
    def plain(x, w, b):  # what one writes in jnp: two-pass, no shift
        mean = jnp.mean(x, axis=-1, keepdims=True)
        var = jnp.var(x, axis=-1, keepdims=True)
        return (x - mean) * jax.lax.rsqrt(var + 1e-5) * w + b

    ours = jax.jit(lambda x, w, b: layer_norm(x, d, w, b))
    return (lambda: ours(x, w, b)), (lambda: plain(x, w, b))


def jax_batch_norm(shape: tuple[int, ...]):
    import jax
    import jax.numpy as jnp
    import numpy as np

    from mlprims import batch_norm

    c = shape[1]
    x = jnp.asarray(np.random.default_rng(0).standard_normal(shape), dtype=jnp.float32)
    w, b = jnp.ones(c, jnp.float32), jnp.zeros(c, jnp.float32)
    running_mean, running_var = jnp.zeros(c, jnp.float32), jnp.ones(c, jnp.float32)
    n = x.size // c

    @jax.jit
    def plain(x, running_mean, running_var, w, b):
        mean = jnp.mean(x, axis=(0, 2, 3))
        var = jnp.var(x, axis=(0, 2, 3))
        y = (x - mean[:, None, None]) * jax.lax.rsqrt(var + 1e-5)[:, None, None]
        y = y * w[:, None, None] + b[:, None, None]
        running_mean = 0.9 * running_mean + 0.1 * mean
        running_var = 0.9 * running_var + 0.1 * var * (n / (n - 1))
        return y, running_mean, running_var

    ours = jax.jit(lambda *a: tuple(batch_norm(*a, training=True)))
    args = (x, running_mean, running_var, w, b)
    return (lambda: ours(*args)), (lambda: plain(*args))


def cases(args) -> list[Pair]:
    ln, bn = (32, 512, 768), (64, 256, 28, 28)  # the inputs of layer_norm and batch_norm
    if args.quick:
        ln, bn = (8, 128, 768), (16, 64, 28, 28)
    return [
        Pair(f"layer_norm {ln}, torch eager vs F.layer_norm",
             partial(torch_layer_norm, ln, compiled=False), target=2.5),
        Pair(f"layer_norm {ln}, torch.compile vs F.layer_norm",
             partial(torch_layer_norm, ln, compiled=True), target=1.2),
        Pair(f"batch_norm train {bn}, torch eager vs F.batch_norm",
             partial(torch_batch_norm, bn, compiled=False), target=2.5),
        Pair(f"batch_norm train {bn}, torch.compile vs F.batch_norm",
             partial(torch_batch_norm, bn, compiled=True), target=1.2),
        Pair(f"layer_norm {ln}, jax.jit vs plain jnp under jax.jit",
             partial(jax_layer_norm, ln), target=1.2),
        Pair(f"batch_norm train {bn}, jax.jit vs plain jnp under jax.jit",
             partial(jax_batch_norm, bn), target=1.2),
    ]  # fmt: skip


if __name__ == "__main__":
    main(__file__, __doc__, cases)
