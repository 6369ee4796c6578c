"""Benchmark: drawing float32 uniforms with mlprims.random against each framework's own.

    python benchmarks/bench_random.py            # 10**6 values
    python benchmarks/bench_random.py --quick    # 10**5 values: proves the script runs

Ours is the Threefry-2x32 hash written in the array API (20 rounds of add/rotate/xor per pair
of words, so about 120 elementwise passes over the counters); the references are NumPy's
``default_rng().random`` (PCG64), ``torch.rand`` (mt19937), ``jax.random.uniform`` eager and
under ``jax.jit`` (XLA's fused Threefry); array_api_strict has no generator of its own. Timing
and RESULTS.md: benchmarks/harness.py. The script also checks, once, that ours draws the same
numbers as ``jax.random.uniform`` on every backend.
"""

from __future__ import annotations

from functools import partial

from harness import Pair, main


def _size(args) -> int:
    return 10**5 if args.quick else 10**6


def cases(args) -> list[Pair]:
    n = _size(args)

    def on_numpy():
        import numpy as np

        from mlprims import random

        key, rng = random.key(0), np.random.default_rng(0)
        return (lambda: random.uniform(key, (n,))), (lambda: rng.random(n, dtype=np.float32))

    def on_torch():
        import torch

        from mlprims import random

        torch.manual_seed(0)
        key = random.key(0, backend="torch")
        return (lambda: random.uniform(key, (n,))), (lambda: torch.rand(n))

    def on_jax(jitted: bool):
        import jax
        import jax.numpy as jnp

        from mlprims import random

        def ours(key):
            return random.uniform(key, (n,))

        def native(key):
            return jax.random.uniform(key, (n,), dtype=jnp.float32)

        if jitted:
            ours, native = jax.jit(ours), jax.jit(native)
        key = jax.random.PRNGKey(0)
        return (lambda: ours(key)), (lambda: native(key))

    def on_strict():
        from mlprims import random

        key = random.key(0, backend="array_api_strict")
        return (lambda: random.uniform(key, (n,))), None

    return [
        Pair(f"{n:,} uniforms, numpy vs np.random.default_rng().random", on_numpy),
        Pair(f"{n:,} uniforms, torch vs torch.rand", on_torch),
        Pair(f"{n:,} uniforms, jax eager vs jax.random.uniform", partial(on_jax, jitted=False)),
        Pair(
            f"{n:,} uniforms, jax.jit vs jax.jit(jax.random.uniform)", partial(on_jax, jitted=True)
        ),
        Pair(f"{n:,} uniforms, array_api_strict (no native generator)", on_strict),
    ]


def same_numbers(args) -> list[str]:
    """Ours draws the numbers of jax.random.uniform on every backend: check it once."""
    import jax
    import numpy as np

    from mlprims import random

    n = _size(args)
    reference = np.asarray(jax.random.uniform(jax.random.PRNGKey(0), (n,)))
    same = {
        backend: np.array_equal(
            np.asarray(random.uniform(random.key(0, backend=backend), (n,))), reference
        )
        for backend in ("numpy", "torch", "jax", "array_api_strict")
    }
    jitted = jax.jit(lambda k: random.uniform(k, (n,)))(jax.random.PRNGKey(0))
    same["jax.jit"] = np.array_equal(np.asarray(jitted), reference)
    return [f"Bit-identical to `jax.random.uniform`: {same}."]


if __name__ == "__main__":
    main(__file__, __doc__, cases, notes=same_numbers)
