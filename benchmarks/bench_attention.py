"""Benchmark: mlprims.scaled_dot_product_attention against the frameworks' fused attention.

Run:  python benchmarks/bench_attention.py [--lengths 1024 4096] [--repeats 3] [--no-compile]

Problem: B=4 batches, N=8 heads, D=64, T = S = L, float32, no mask (the frameworks' fast path).

Time (one process, side by side): the median of `--repeats` calls after one warm-up call; ours
and the reference alternate call by call, so that load from other processes on this shared
machine falls on both alike; "best" is the ratio of the fastest calls (the least disturbed).
Pairs:

- torch eager: ours on torch tensors vs ``torch.nn.functional.scaled_dot_product_attention``;
- torch.compile: ``torch.compile(ours)`` vs ``torch.compile(F.scaled_dot_product_attention)``
  (the first call, which compiles, is reported separately);
- jax.jit: ``jax.jit(ours)`` in (B, N, T, H) vs ``jax.jit(jax.nn.dot_product_attention)`` in
  its own (B, T, N, H) layout (inputs transposed once, outside the timing);
- jax eager: the same two functions without jit.

Memory: tracemalloc sees neither torch's nor XLA's allocators, so each (implementation, L) runs
in a fresh subprocess that creates the inputs, makes one warm-up call (compiling, for jit),
resets the kernel's peak-RSS counter (``/proc/self/clear_refs``), makes one more call, and
reads ``VmHWM``. We report that peak (the whole process: interpreter, framework, inputs) and
the peak minus the RSS just before the call ("work": what the call itself needed).

Ratios > 1 mean ours is slower / bigger. The machine this was written on has 2 cores shared
with other work, so repeats are few and ratios are noisy (+-20%).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

B, N, D = 4, 8, 64

# Each entry: (framework, what it runs); "ref" is the framework's fused attention.
MEMORY_IMPLS = ("torch-ours", "torch-sdpa", "jax-jit-ours", "jax-jit-ref")


def _inputs(length: int) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.standard_normal((B, N, length, D), dtype=np.float32) for _ in range(3)]


def _ours(q: Any, k: Any, v: Any) -> Any:
    import mlprims

    return mlprims.scaled_dot_product_attention(q, k, v)


def _torch_pair(length: int, compiled: bool) -> tuple[Callable[[], Any], Callable[[], Any]]:
    import torch
    import torch.nn.functional as F

    q, k, v = (torch.from_numpy(a) for a in _inputs(length))
    ours, ref = _ours, F.scaled_dot_product_attention
    if compiled:
        ours, ref = torch.compile(ours), torch.compile(ref)
    return (lambda: ours(q, k, v)), (lambda: ref(q, k, v))


def _jax_pair(length: int, jitted: bool) -> tuple[Callable[[], Any], Callable[[], Any]]:
    import jax
    import jax.numpy as jnp

    q, k, v = (jnp.asarray(a) for a in _inputs(length))
    qt, kt, vt = (jnp.swapaxes(a, 1, 2) for a in (q, k, v))  # (B, T, N, H) for jax.nn
    ours, ref = _ours, jax.nn.dot_product_attention
    if jitted:
        ours, ref = jax.jit(ours), jax.jit(ref)
    return (
        lambda: ours(q, k, v).block_until_ready(),
        lambda: ref(qt, kt, vt).block_until_ready(),
    )


def _time_pair(pair: tuple[Callable[[], Any], Callable[[], Any]], repeats: int) -> dict[str, float]:
    ours, ref = pair
    start = time.perf_counter()
    ours()
    first_ours = time.perf_counter() - start
    start = time.perf_counter()
    ref()
    first_ref = time.perf_counter() - start
    times: dict[str, list[float]] = {"ours": [], "ref": []}
    for _ in range(repeats):
        for name, fn in (("ours", ours), ("ref", ref)):
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {
        "ours": float(np.median(times["ours"])),
        "ref": float(np.median(times["ref"])),
        "best_ratio": min(times["ours"]) / min(times["ref"]),
        "first_ours": first_ours,
        "first_ref": first_ref,
    }


def _rss_mib() -> dict[str, float]:
    status = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("VmRSS", "VmHWM")):
                key, value = line.split(":")
                status[key] = int(value.split()[0]) / 1024
    return status


def _memory_child(impl: str, length: int) -> None:
    """Runs in a fresh process: print the peak RSS of one call as JSON."""
    warnings.filterwarnings("ignore")
    if impl.startswith("torch"):
        ours, ref = _torch_pair(length, compiled=False)
    else:
        ours, ref = _jax_pair(length, jitted=True)
    fn = ours if impl.endswith("ours") else ref
    fn()  # warm-up: compiles under jit, grows the allocators' pools
    before = _rss_mib()["VmRSS"]
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset VmHWM to the current RSS
    fn()
    peak = _rss_mib()["VmHWM"]
    print(json.dumps({"peak": peak, "work": peak - before}))


def _memory(impl: str, length: int) -> dict[str, float]:
    command = [sys.executable, __file__, "--memory-child", impl, str(length)]
    done = subprocess.run(command, capture_output=True, text=True, check=True, env=os.environ)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lengths", type=int, nargs="+", default=[1024, 4096])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-compile", action="store_true", help="skip torch.compile")
    parser.add_argument("--no-memory", action="store_true")
    parser.add_argument("--memory-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        _memory_child(args.memory_child[0], int(args.memory_child[1]))
        return
    warnings.filterwarnings("ignore")  # torch.compile warns about array_api_compat's caches

    print(
        f"B={B}, N={N}, D={D}, float32; ms: median of {args.repeats} calls; ratio = ours / ref "
        "of the medians, best = of the fastest calls\n"
    )
    print(
        f"{'L':>5}  {'mode':<24} {'ours ms':>8} {'ref ms':>8} {'ratio':>6} {'best':>6}"
        "  first call (ours / ref)"
    )
    modes = [
        ("torch eager vs SDPA", lambda L: _torch_pair(L, compiled=False)),
        ("torch.compile vs SDPA", lambda L: _torch_pair(L, compiled=True)),
        ("jax eager vs jax.nn", lambda L: _jax_pair(L, jitted=False)),
        ("jax.jit vs jax.nn (jit)", lambda L: _jax_pair(L, jitted=True)),
    ]
    if args.no_compile:
        modes.pop(1)
    for length in args.lengths:
        for name, make in modes:
            t = _time_pair(make(length), args.repeats)
            print(
                f"{length:>5}  {name:<24} {t['ours'] * 1e3:>8.0f} {t['ref'] * 1e3:>8.0f} "
                f"{t['ours'] / t['ref']:>6.2f} {t['best_ratio']:>6.2f}  "
                f"{t['first_ours']:.1f} s / {t['first_ref']:.1f} s",
                flush=True,
            )

    if args.no_memory:
        return
    print("\npeak RSS of one call, fresh process per row (MiB; work = peak - RSS before the call)")
    print(f"{'L':>5}  {'implementation':<14} {'peak':>7} {'work':>7}")
    for length in args.lengths:
        results = {impl: _memory(impl, length) for impl in MEMORY_IMPLS}
        for impl, m in results.items():
            print(f"{length:>5}  {impl:<14} {m['peak']:>7.0f} {m['work']:>7.0f}")
        for ours, ref in (("torch-ours", "torch-sdpa"), ("jax-jit-ours", "jax-jit-ref")):
            peak = results[ours]["peak"] / results[ref]["peak"]
            work = results[ours]["work"] / max(results[ref]["work"], 1.0)
            print(f"{length:>5}  {ours} / {ref}: peak x{peak:.2f}, work x{work:.2f}")


if __name__ == "__main__":
    main()
