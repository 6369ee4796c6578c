"""Benchmark: drawing 10**6 float32 uniforms with mlprims.random against each framework's own.

    python benchmarks/bench_random.py            # 10**6 values, 15 repeats
    python benchmarks/bench_random.py --quick    # 10**5 values, 5 repeats

Ours is the Threefry-2x32 hash written in the array API (20 rounds of add/rotate/xor per pair
of words, so about 120 elementwise passes over the counters); the references are NumPy's
``default_rng().random`` (PCG64), ``torch.rand`` (mt19937) and ``jax.random.uniform`` under
``jax.jit`` (XLA's fused Threefry). Medians after warm-up; ratio = ours / reference. CPU
timings depend on the machine and its load; rerun when in doubt.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import array_api_strict
import jax
import jax.numpy as jnp
import numpy as np
import torch

from mlprims import random


def median_ms(fn: Callable[[], Any], repeat: int, block: Callable[[Any], Any]) -> float:
    """Median wall time of ``block(fn())`` in milliseconds, after two warm-up calls."""
    for _ in range(2):
        block(fn())
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        block(fn())
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10**5 values, 5 repeats")
    args = parser.parse_args()
    n, repeat = (10**5, 5) if args.quick else (10**6, 15)

    def jax_block(x: Any) -> Any:
        return x.block_until_ready()

    def no_block(x: Any) -> Any:
        return x

    rng = np.random.default_rng(0)
    torch.manual_seed(0)
    jax_native = jax.jit(lambda k: jax.random.uniform(k, (n,), dtype=jnp.float32))
    jax_ours = jax.jit(lambda k: random.uniform(k, (n,)))
    rows = [  # backend, ours, native (None: no native generator), block
        (
            "numpy",
            lambda: random.uniform(random.key(0), (n,)),
            lambda: rng.random(n, dtype=np.float32),
            no_block,
        ),
        (
            "torch",
            lambda: random.uniform(random.key(0, backend="torch"), (n,)),
            lambda: torch.rand(n),
            no_block,
        ),
        (
            "jax (eager)",
            lambda: random.uniform(random.key(0, backend="jax"), (n,)),
            lambda: jax.random.uniform(jax.random.PRNGKey(0), (n,)),
            jax_block,
        ),
        (
            "jax (jit)",
            lambda: jax_ours(jax.random.PRNGKey(0)),
            lambda: jax_native(jax.random.PRNGKey(0)),
            jax_block,
        ),
        (
            "array_api_strict",
            lambda: random.uniform(random.key(0, backend="array_api_strict"), (n,)),
            None,
            no_block,
        ),
    ]
    print(
        f"{n:,} float32 uniforms, median of {repeat} runs, torch threads: {torch.get_num_threads()}"
    )
    print(f"{'backend':<18}{'mlprims ms':>12}{'native ms':>12}{'ratio':>8}   native")
    natives = {
        "numpy": "np.random.default_rng().random",
        "torch": "torch.rand",
        "jax (eager)": "jax.random.uniform",
        "jax (jit)": "jax.jit(jax.random.uniform)",
        "array_api_strict": "-",
    }
    for name, ours, native, block in rows:
        ours_ms = median_ms(ours, repeat, block)
        if native is None:
            print(f"{name:<18}{ours_ms:>12.2f}{'-':>12}{'-':>8}   {natives[name]}")
            continue
        native_ms = median_ms(native, repeat, block)
        print(
            f"{name:<18}{ours_ms:>12.2f}{native_ms:>12.2f}{ours_ms / native_ms:>8.1f}   "
            f"{natives[name]}"
        )
    # The numbers themselves are the same everywhere: check it once, cheaply.
    reference = np.asarray(jax_native(jax.random.PRNGKey(0)))
    same = [
        np.array_equal(np.asarray(random.uniform(random.key(0), (n,))), reference),
        np.array_equal(random.uniform(random.key(0, backend="torch"), (n,)).numpy(), reference),
        np.array_equal(np.asarray(jax_ours(jax.random.PRNGKey(0))), reference),
        np.array_equal(
            np.asarray(random.uniform(random.key(0, backend=array_api_strict.__name__), (n,))),
            reference,
        ),
    ]
    print("bit-identical to jax.random.uniform on numpy, torch, jax-jit, array_api_strict:", same)


if __name__ == "__main__":
    main()
