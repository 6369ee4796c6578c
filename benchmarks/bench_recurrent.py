"""Benchmark: mlprims.lstm against torch's nn.LSTM and against a plain jax.lax.scan LSTM.

    python benchmarks/bench_recurrent.py            # L = 128, N = 16, H_in = H = 256, one layer
    python benchmarks/bench_recurrent.py --quick    # L = 16, N = 4, H_in = H = 32

Each case is ours against a reference (timing, memory and RESULTS.md: benchmarks/harness.py),
the forward only (``torch.no_grad()``), float32, one layer, one direction, zero initial states:

- torch eager: ``mlprims.lstm`` (one matmul for the input's share of the gates, then a Python
  loop of L steps, each ``h @ w_hh`` and a dozen elementwise kernels) against ``nn.LSTM``
  (torch's C++ loop over its fused cell, oneDNN where it applies), the module's weights
  converted by ``mlprims.from_torch_lstm``; target 3x;
- ``jax.jit``: ``mlprims.lstm`` (its loop is ``lax.fori_loop``, writing each h into a
  preallocated buffer) against the textbook ``jax.lax.scan`` over an LSTM cell written with
  jnp (``x_t @ w_ih + b + h @ w_hh``, ``jax.nn.sigmoid``, the outputs stacked by scan); target
  1.2x; and, without a target, against the same scan fed the input's gates computed for all
  steps before it, as ours is.

Outputs are checked to agree (1e-4) when each case is built. About 1 min with ``--repeat 3``.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from harness import Pair, main


def _sizes(quick: bool) -> tuple[int, int, int]:
    """L, N, H (= H_in)."""
    return (16, 4, 32) if quick else (128, 16, 256)


def _module_and_input(quick: bool) -> tuple[Any, Any]:
    import torch

    length, n, hidden = _sizes(quick)
    torch.manual_seed(0)
    module = torch.nn.LSTM(hidden, hidden).eval()
    x = torch.randn(length, n, hidden, generator=torch.Generator().manual_seed(1))
    return module, x


def _check(name: str, got: Any, want: Any) -> None:
    import numpy as np

    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    if not np.allclose(got, want, rtol=1e-4, atol=1e-4):
        err = float(np.max(np.abs(got - want)))
        raise AssertionError(f"{name}: ours and the reference differ (max abs error {err:.3g})")


def _torch_native(module: Any, x: Any) -> Any:
    import torch

    with torch.no_grad():
        return module(x)[0]


def torch_lstm(quick: bool):
    import torch

    from mlprims import from_torch_lstm, lstm

    module, x = _module_and_input(quick)
    params = [[{k: v.detach().contiguous() for k, v in cell.items()} for cell in layer]
              for layer in from_torch_lstm(module.state_dict())]  # fmt: skip

    def ours():
        with torch.no_grad():
            return lstm(params, x)[0]

    _check("torch eager", ours().numpy(), _torch_native(module, x).numpy())
    return ours, partial(_torch_native, module, x)


def _scan_lstm(hoisted: bool):
    """The textbook LSTM in JAX: a cell in jnp, ``lax.scan`` over time (jitted)."""
    import jax
    import jax.numpy as jnp

    def run(w_ih, w_hh, b, x):
        n, hidden = x.shape[1], w_hh.shape[0]
        zeros = jnp.zeros((n, hidden), x.dtype)
        inputs = x @ w_ih + b if hoisted else x  # (L, N, 4 H) or (L, N, H_in)

        def cell(carry, x_t):
            h, c = carry
            gates = (x_t if hoisted else x_t @ w_ih + b) + h @ w_hh
            i, f, g, o = jnp.split(gates, 4, axis=-1)
            c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
            h = jax.nn.sigmoid(o) * jnp.tanh(c)
            return (h, c), h

        _, ys = jax.lax.scan(cell, (zeros, zeros), inputs)
        return ys

    return jax.jit(run)


def jax_lstm(quick: bool, hoisted: bool = False):
    import jax
    import jax.numpy as jnp

    from mlprims import from_torch_lstm, lstm

    module, x = _module_and_input(quick)
    params = jax.tree_util.tree_map(
        lambda v: jnp.asarray(v.detach().numpy()), from_torch_lstm(module.state_dict())
    )
    jx = jnp.asarray(x.numpy())
    cell = params[0][0]
    w_ih, w_hh, b = cell["w_ih"], cell["w_hh"], cell["b_ih"] + cell["b_hh"]
    ours = jax.jit(lambda p, x: lstm(p, x)[0])
    native = _scan_lstm(hoisted)
    want = _torch_native(module, x).numpy()
    _check("jax.jit", ours(params, jx), want)
    _check("lax.scan", native(w_ih, w_hh, b, jx), want)
    return (
        lambda: ours(params, jx).block_until_ready(),
        lambda: native(w_ih, w_hh, b, jx).block_until_ready(),
    )


def cases(args) -> list[Pair]:
    length, n, hidden = _sizes(args.quick)
    size = f"L={length}, N={n}, H_in=H={hidden}, 1 layer"
    return [
        Pair(f"lstm {size}, torch eager vs nn.LSTM", partial(torch_lstm, args.quick), target=3.0),
        Pair(f"lstm {size}, jax.jit vs lax.scan over a jnp cell",
             partial(jax_lstm, args.quick), target=1.2),
        Pair(f"lstm {size}, jax.jit vs lax.scan, input gates before the loop",
             partial(jax_lstm, args.quick, hoisted=True)),
    ]  # fmt: skip


if __name__ == "__main__":
    main(__file__, __doc__, cases)
