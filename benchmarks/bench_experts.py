"""Benchmark: mlprims.moe (a Mixtral MoE layer) against transformers' MixtralSparseMoeBlock.

    python benchmarks/bench_experts.py            # T = 1024 tokens (4 x 256), D = 256, F = 512
    python benchmarks/bench_experts.py --quick    # T = 64 (4 x 16), D = 32, F = 64

Each case is ours against a reference (timing, memory and RESULTS.md: benchmarks/harness.py),
all in evaluation (``torch.no_grad()``), float32, E = 8 experts, top k = 2:

- torch eager: ``mlprims.moe`` (which takes the sorted per-expert dispatch on torch) against
  ``MixtralSparseMoeBlock`` (``experts_implementation="eager"``: its loop over the experts that
  were chosen), the block's N(0, 1 / D) weights converted by ``mlprims.from_mixtral``; both outputs
  and the router logits are checked to agree when the case is built;
- the two dispatch forms of ``mlprims/experts/_dispatch.py`` on the same routing (the router and
  its top k computed once, outside the timing): ``sorted_segments`` ("ours") against ``dense``
  (every expert on every token, weighed by a (T, E) gate matrix), on NumPy and torch eager;
- JAX: ``mlprims.moe`` under ``jax.jit`` (dense dispatch, the only one that compiles) against
  the same torch block, for reference across frameworks.

No targets (the issue gives none). About 20 s on 2 cores with `--repeat 5`.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from harness import Pair, main

E, K = 8, 2


def _sizes(quick: bool) -> tuple[int, int, int, int]:
    """B, L (the batch and the length: T = B L tokens), D, F."""
    return (4, 16, 32, 64) if quick else (4, 256, 256, 512)


def _block_and_params(d: int, f: int) -> tuple[Any, dict[str, Any]]:
    """transformers' block (N(0, 1 / D) weights, eval) and our parameters converted from it."""
    import torch
    import transformers
    from transformers.models.mixtral.modeling_mixtral import MixtralSparseMoeBlock

    from mlprims import from_mixtral

    extra = {}
    if hasattr(transformers.MixtralConfig(), "_experts_implementation"):  # transformers 5
        extra["experts_implementation"] = "eager"  # the loop over the experts, not a kernel
    config = transformers.MixtralConfig(
        hidden_size=d, intermediate_size=f, num_local_experts=E, num_experts_per_tok=K, **extra
    )
    torch.manual_seed(0)
    block = MixtralSparseMoeBlock(config).eval()
    with torch.no_grad():
        for p in block.parameters():
            p.normal_(std=d**-0.5)  # unit-variance activations, no overflow in float32
    params = {k: v.detach().contiguous() for k, v in from_mixtral(block.state_dict()).items()}
    return block, params


def _hf(block: Any, x: Any) -> Any:
    import torch

    with torch.no_grad():
        out = block(x)
    return out[0] if isinstance(out, tuple) else out


def _check(name: str, got: Any, want: Any) -> None:
    import numpy as np

    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    if not np.allclose(got, want, rtol=1e-4, atol=1e-4):
        err = float(np.max(np.abs(got - want)))
        raise AssertionError(f"{name}: ours and transformers differ (max abs error {err:.3g})")


def torch_layer(quick: bool):
    import torch

    from mlprims import moe

    b, n, d, f = _sizes(quick)
    block, params = _block_and_params(d, f)
    x = torch.randn(b, n, d, generator=torch.Generator().manual_seed(1))

    def ours():
        with torch.no_grad():
            return moe(params, x, top_k=K)[0]

    _check("torch eager", ours().numpy(), _hf(block, x).numpy())
    return ours, partial(_hf, block, x)


def jax_layer(quick: bool):
    import jax
    import jax.numpy as jnp
    import torch

    from mlprims import moe

    b, n, d, f = _sizes(quick)
    block, params = _block_and_params(d, f)
    x = torch.randn(b, n, d, generator=torch.Generator().manual_seed(1))
    jparams = {k: jnp.asarray(v.numpy()) for k, v in params.items()}
    jx = jnp.asarray(x.numpy())
    ours = jax.jit(lambda p, x: moe(p, x, top_k=K)[0])
    _check("jax.jit", ours(jparams, jx), _hf(block, x).numpy())
    return (lambda: ours(jparams, jx)), partial(_hf, block, x)


def dispatch_forms(framework: str, quick: bool):
    """sorted_segments ("ours") and dense ("native") on the same routing, inputs of `framework`."""
    import torch

    from mlprims._array import namespace
    from mlprims.experts._common import route
    from mlprims.experts._dispatch import dense, sorted_segments

    b, n, d, f = _sizes(quick)
    _, params = _block_and_params(d, f)
    x = torch.randn(b * n, d, generator=torch.Generator().manual_seed(1))
    if framework == "numpy":
        params = {k: v.numpy() for k, v in params.items()}
        x = x.numpy()
    xp = namespace(x)
    w_router, w_gate, w_up, w_down = (params[k] for k in ("w_router", "w_gate", "w_up", "w_down"))
    _, values, experts = route(x @ w_router, K, xp=xp)
    weights = values / xp.sum(values, axis=-1, keepdims=True)
    args = (x, weights, experts, w_gate, w_up, w_down)

    def call(form):
        with torch.no_grad():
            return form(*args, xp=xp)

    _check(f"{framework} dispatch forms", call(sorted_segments), call(dense))
    return partial(call, sorted_segments), partial(call, dense)


def cases(args) -> list[Pair]:
    b, n, d, f = _sizes(args.quick)
    size = f"T={b * n} ({b}x{n}), D={d}, F={f}, E={E}, k={K}"
    return [
        Pair(f"moe {size}, torch eager vs MixtralSparseMoeBlock",
             partial(torch_layer, args.quick)),
        Pair(f"moe dispatch {size}, numpy: sorted vs dense",
             partial(dispatch_forms, "numpy", args.quick)),
        Pair(f"moe dispatch {size}, torch eager: sorted vs dense",
             partial(dispatch_forms, "torch", args.quick)),
        Pair(f"moe {size}, jax.jit (dense) vs MixtralSparseMoeBlock (torch eager)",
             partial(jax_layer, args.quick)),
    ]  # fmt: skip


if __name__ == "__main__":
    main(__file__, __doc__, cases)
