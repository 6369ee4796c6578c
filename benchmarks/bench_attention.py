"""Benchmark: mlprims.scaled_dot_product_attention against the frameworks' fused attention.

    python benchmarks/bench_attention.py             # L = 1024 and 4096
    python benchmarks/bench_attention.py --quick     # L = 256: proves the script runs
    python benchmarks/bench_attention.py --lengths 1024 --no-compile
    python benchmarks/bench_attention.py --compile-lengths 1024   # skip the long compile at 4096

Problem (issue 10): B=4 batches, N=8 heads, D=64, float32, T = S = L. Each case is ours against
the framework's own attention (timing, memory and RESULTS.md: benchmarks/harness.py):

- torch eager, not causal and causal: ours on torch tensors vs
  ``torch.nn.functional.scaled_dot_product_attention`` (SDPA), which skips the key blocks the
  causal mask removes;
- torch.compile: ``torch.compile(ours)`` vs ``torch.compile(SDPA)`` (minutes to compile ours at
  L=4096: the query and key blocks are Python loops, unrolled into one graph), not causal, causal
  top-left (T = S = L, ``is_causal=True``) and causal bottom-right with T = L/2 queries at the
  end of S = L keys (chunked prefill; with T = S both alignments are the same mask): ours with
  ``causal_align="bottom_right"``, SDPA with ``torch.nn.attention.bias.causal_lower_right``;
- jax: ``jax.jit(ours)`` in (B, N, T, D) vs ``jax.jit(jax.nn.dot_product_attention)`` in its own
  (B, T, N, D) layout (inputs transposed once, outside the timing), not causal and causal, and
  the same two functions without jit, not causal;
- backward (at the first length): ``torch.autograd.grad`` of a causal forward through ours vs
  through SDPA, forward and backward together.

Peak memory (a fresh process per side) at the longest length for torch eager and jax.jit, and
for the backward.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np
from harness import Pair, main

B, N, D = 4, 8, 64


def _inputs(T: int, S: int) -> list[np.ndarray]:
    """q (B, N, T, D), k and v (B, N, S, D)."""
    rng = np.random.default_rng(0)
    shapes = [(B, N, T, D), (B, N, S, D), (B, N, S, D)]
    return [rng.standard_normal(shape, dtype=np.float32) for shape in shapes]


def torch_pair(length: int, *, causal: bool, compiled: bool = False, align: str = "top_left"):
    import torch
    import torch.nn.functional as F
    from torch.nn.attention.bias import causal_lower_right

    from mlprims import scaled_dot_product_attention

    T, S = (length // 2 if align == "bottom_right" else length), length
    q, k, v = (torch.from_numpy(a) for a in _inputs(T, S))
    ours = partial(scaled_dot_product_attention, is_causal=causal, causal_align=align)
    if align == "bottom_right":  # SDPA materializes it on CPU, a kernel flag on GPU
        native = partial(F.scaled_dot_product_attention, attn_mask=causal_lower_right(T, S))
    else:
        native = partial(F.scaled_dot_product_attention, is_causal=causal)
    if compiled:  # dynamic=False: one static graph per shape, as for SDPA
        # a graph per case: past the limit (8) torch would run ours eagerly without a word
        torch._dynamo.config.recompile_limit = 64
        ours, native = torch.compile(ours, dynamic=False), torch.compile(native, dynamic=False)
    return (lambda: ours(q, k, v)), (lambda: native(q, k, v))


def torch_backward_pair(length: int):
    """Gradients of a causal attention with respect to q, k and v, forward included."""
    import torch
    import torch.nn.functional as F

    from mlprims import scaled_dot_product_attention

    q, k, v = (torch.from_numpy(a).requires_grad_() for a in _inputs(length, length))
    grad = torch.ones(q.shape)  # of out.sum()

    def gradients(attention: Any) -> Any:
        return torch.autograd.grad(attention(q, k, v, is_causal=True), (q, k, v), grad)

    return (
        lambda: gradients(scaled_dot_product_attention),
        lambda: gradients(F.scaled_dot_product_attention),
    )


def jax_pair(length: int, *, causal: bool, jitted: bool):
    import jax
    import jax.numpy as jnp

    from mlprims import scaled_dot_product_attention

    q, k, v = (jnp.asarray(a) for a in _inputs(length, length))
    qt, kt, vt = (jnp.swapaxes(a, 1, 2) for a in (q, k, v))  # (B, T, N, D) for jax.nn
    ours = partial(scaled_dot_product_attention, is_causal=causal)
    native = partial(jax.nn.dot_product_attention, is_causal=causal)
    if jitted:
        ours, native = jax.jit(ours), jax.jit(native)
    return (lambda: ours(q, k, v)), (lambda: native(qt, kt, vt))


def cases(args) -> list[Pair]:
    lengths = [256] if args.quick else args.lengths
    found = []
    for L in lengths:
        big = L == max(lengths)  # peak memory at the longest length
        found += [
            Pair(f"torch eager, not causal, L={L}", partial(torch_pair, L, causal=False),
                 target=1.6, memory=big, memory_target=1.5),
            Pair(f"torch eager, causal, L={L}", partial(torch_pair, L, causal=True),
                 target=2.0, memory=big, memory_target=1.5),
        ]  # fmt: skip
        if not args.no_compile and L in (args.compile_lengths or lengths):
            found += [
                Pair(f"torch.compile, not causal, L={L}",
                     partial(torch_pair, L, causal=False, compiled=True), target=1.2),
                Pair(f"torch.compile, causal top_left, L={L}",
                     partial(torch_pair, L, causal=True, compiled=True), target=1.2),
                Pair(f"torch.compile, causal bottom_right, T={L // 2}, S={L}",
                     partial(torch_pair, L, causal=True, compiled=True, align="bottom_right"),
                     target=1.2),
            ]  # fmt: skip
        found += [
            Pair(f"jax eager, not causal, L={L}", partial(jax_pair, L, causal=False, jitted=False)),
            Pair(f"jax.jit, not causal, L={L}", partial(jax_pair, L, causal=False, jitted=True),
                 memory=big),
            Pair(f"jax.jit, causal, L={L}", partial(jax_pair, L, causal=True, jitted=True),
                 target=0.5, memory=big),
        ]  # fmt: skip
    L = lengths[0]
    found.append(Pair(f"torch backward, causal, L={L}", partial(torch_backward_pair, L),
                      target=3.0, memory=True))  # fmt: skip
    return found


def add_arguments(parser) -> None:
    parser.add_argument("--lengths", type=int, nargs="+", default=[1024, 4096], help="T = S = L")
    parser.add_argument("--no-compile", action="store_true", help="skip torch.compile")
    parser.add_argument(
        "--compile-lengths", type=int, nargs="+", help="torch.compile at these only (default: all)"
    )


if __name__ == "__main__":
    main(__file__, __doc__, cases, add_arguments=add_arguments, repeat=7)
