"""Benchmark: mlprims layer_norm / batch_norm against the fused framework ops, in one process.

    python benchmarks/bench_normalization.py            # the sizes of ARRAY-API-NOTES
    python benchmarks/bench_normalization.py --quick    # smaller sizes, fewer repeats

torch: ``F.layer_norm`` / ``F.batch_norm`` (fused kernels) against ours eager and ours under
``torch.compile``. JAX: plain ``jnp`` code under ``jax.jit`` (what a JAX user writes without
Flax) against ours under ``jax.jit``. Medians of repeated runs after warm-up; ratio = ours /
reference, so below 1 is faster. Targets: eager within 2.5x of the fused torch op, compiled
within 1.2x. CPU timings depend heavily on the machine and on its load; rerun when in doubt.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

# Compile in this process: a pool of compile workers would compete for the CPU with the timings.
os.environ.setdefault("TORCHINDUCTOR_COMPILE_THREADS", "1")

import jax
import jax.numpy as jnp
import numpy as np
import torch
import torch.nn.functional as F

from mlprims import batch_norm, layer_norm

TARGETS = {"mlprims eager": 2.5, "mlprims torch.compile": 1.2, "mlprims": 1.2}
warnings.filterwarnings("ignore", module="torch._dynamo")  # lru_cache notes from array_api_compat


def medians_ms(
    fns: dict[str, Callable[[], Any]], repeat: int, block: Callable[[Any], Any] = lambda r: r
) -> dict[str, float]:
    """Median wall time in ms of each function, after two warm-up calls (compilation).

    The functions take turns, one call each per round, so a change of machine load during the
    measurement hits them alike and the ratios stay meaningful on a shared machine.
    """
    for fn in fns.values():
        for _ in range(2):
            block(fn())
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            start = time.perf_counter()
            block(fn())
            times[name].append(time.perf_counter() - start)
    return {name: 1e3 * statistics.median(t) for name, t in times.items()}


def report(case: str, ms: dict[str, float], targets: dict[str, float]) -> None:
    """One block per case: the first entry is the reference, ratios are to it."""
    print(f"\n{case}")
    reference = next(iter(ms.values()))
    for name, value in ms.items():
        ratio = value / reference
        target = targets.get(name)
        goal = ""
        if target is not None:
            goal = f"  (target <= {target}x: {'met' if ratio <= target else 'NOT met'})"
        print(f"  {name:<34} {value:9.2f} ms  {ratio:5.2f}x{goal}")


def bench_torch(ln_shape: tuple[int, ...], bn_shape: tuple[int, ...], repeat: int) -> None:
    torch.manual_seed(0)
    d = ln_shape[-1]
    x, w, b = torch.randn(ln_shape), torch.randn(d), torch.randn(d)
    compiled_ln = torch.compile(lambda x, w, b: layer_norm(x, d, w, b))
    ms = medians_ms(
        {
            "F.layer_norm (fused, reference)": lambda: F.layer_norm(x, (d,), w, b),
            "mlprims eager": lambda: layer_norm(x, d, w, b),
            "mlprims torch.compile": lambda: compiled_ln(x, w, b),
        },
        repeat,
    )
    threads = torch.get_num_threads()
    report(
        f"layer_norm {ln_shape} float32, torch {torch.__version__}, {threads} threads", ms, TARGETS
    )

    c = bn_shape[1]
    x, w, b = torch.randn(bn_shape), torch.randn(c), torch.randn(c)
    rm, rv = torch.zeros(c), torch.ones(c)

    def ours(x, rm, rv, w, b):
        return batch_norm(x, rm, rv, w, b, training=True)

    compiled_bn = torch.compile(ours)
    ms = medians_ms(
        {
            "F.batch_norm (fused, reference)": lambda: F.batch_norm(x, rm, rv, w, b, True),
            "mlprims eager": lambda: ours(x, rm, rv, w, b),
            "mlprims torch.compile": lambda: compiled_bn(x, rm, rv, w, b),
        },
        repeat,
    )
    report(f"batch_norm train {bn_shape} float32, torch", ms, TARGETS)


def bench_jax(ln_shape: tuple[int, ...], bn_shape: tuple[int, ...], repeat: int) -> None:
    rng = np.random.default_rng(0)
    d = ln_shape[-1]
    x = jnp.asarray(rng.standard_normal(ln_shape), dtype=jnp.float32)
    w, b = jnp.ones(d, jnp.float32), jnp.zeros(d, jnp.float32)

    @jax.jit
    def plain_ln(x, w, b):  # what one writes in jnp: two-pass, no shift
        mean = jnp.mean(x, axis=-1, keepdims=True)
        var = jnp.var(x, axis=-1, keepdims=True)
        return (x - mean) * jax.lax.rsqrt(var + 1e-5) * w + b

    ours_ln = jax.jit(lambda x, w, b: layer_norm(x, d, w, b))
    ms = medians_ms(
        {"plain jnp (reference)": lambda: plain_ln(x, w, b), "mlprims": lambda: ours_ln(x, w, b)},
        repeat,
        jax.block_until_ready,
    )
    report(f"layer_norm {ln_shape} float32, jax {jax.__version__}, both under jax.jit", ms, TARGETS)

    c = bn_shape[1]
    x = jnp.asarray(rng.standard_normal(bn_shape), dtype=jnp.float32)
    w, b = jnp.ones(c, jnp.float32), jnp.zeros(c, jnp.float32)
    rm, rv = jnp.zeros(c, jnp.float32), jnp.ones(c, jnp.float32)
    n = x.size // c

    @jax.jit
    def plain_bn(x, rm, rv, w, b):
        mean = jnp.mean(x, axis=(0, 2, 3))
        var = jnp.var(x, axis=(0, 2, 3))
        y = (x - mean[:, None, None]) * jax.lax.rsqrt(var + 1e-5)[:, None, None]
        y = y * w[:, None, None] + b[:, None, None]
        return y, 0.9 * rm + 0.1 * mean, 0.9 * rv + 0.1 * var * (n / (n - 1))

    ours_bn = jax.jit(lambda *a: tuple(batch_norm(*a, training=True)))
    ms = medians_ms(
        {
            "plain jnp (reference)": lambda: plain_bn(x, rm, rv, w, b),
            "mlprims": lambda: ours_bn(x, rm, rv, w, b),
        },
        repeat,
        jax.block_until_ready,
    )
    report(f"batch_norm train {bn_shape} float32, jax, both under jax.jit", ms, TARGETS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer repeats")
    parser.add_argument("--repeat", type=int, default=None, help="timed runs per measurement")
    args = parser.parse_args()
    if args.quick:
        ln_shape, bn_shape, repeat = (8, 128, 768), (16, 64, 28, 28), 10
    else:
        ln_shape, bn_shape, repeat = (32, 512, 768), (64, 256, 28, 28), 15
    repeat = args.repeat or repeat
    bench_torch(ln_shape, bn_shape, repeat)
    bench_jax(ln_shape, bn_shape, repeat)


if __name__ == "__main__":
    main()
