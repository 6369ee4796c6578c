"""Benchmark: mlprims conv2d (shift-and-matmul) against the frameworks' own convolutions.

    python benchmarks/bench_convolution.py            # the sizes of issue 11
    python benchmarks/bench_convolution.py --quick    # smaller sizes: proves the script runs

Each case is ours against a reference (timing, memory and RESULTS.md: benchmarks/harness.py),
float32, NCHW input and OIHW weights, with bias:

- torch: ``F.conv2d`` eager against ours eager, and ``torch.compile(F.conv2d)`` against
  ``torch.compile(ours)``;
- JAX: ``jax.lax.conv_general_dilated`` with dimension numbers ("NCHW", "OIHW", "NCHW") under
  ``jax.jit`` against ours under ``jax.jit``.

Sizes: a ResNet-like layer, x (32, 64, 56, 56), 3x3 from 64 to 64 channels, padding 1; and the
first layer of the classic CNN (:func:`mlprims.cnn`), x (64, 1, 28, 28), 5x5 from 1 to 10
channels, no padding. Quick: (2, 16, 14, 14) and (8, 1, 28, 28). Targets (issue 11): eager
within 3x of ``F.conv2d``, compiled and jitted within 1.5x. Peak memory of every case is
measured (one fresh process per side).
"""

from __future__ import annotations

import math
from functools import partial

from harness import Pair, main

# (name, input shape, (C_out, kernel), padding)
Layer = tuple[str, tuple[int, int, int, int], tuple[int, int], int]


def _arrays(layer: Layer):
    import numpy as np

    _, (n, c, h, w), (out, k), _ = layer
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, c, h, w), dtype=np.float32)
    weight = rng.standard_normal((out, c, k, k), dtype=np.float32) / math.sqrt(c * k * k)
    bias = rng.standard_normal(out, dtype=np.float32)
    return x, weight, bias


def torch_conv(layer: Layer, *, compiled: bool):
    import torch
    import torch.nn.functional as F

    from mlprims import conv2d

    x, weight, bias = (torch.from_numpy(a) for a in _arrays(layer))
    padding = layer[3]

    def ours(x, weight, bias):
        return conv2d(x, weight, bias, padding=padding)

    def native(x, weight, bias):
        return F.conv2d(x, weight, bias, padding=padding)

    if compiled:
        ours, native = torch.compile(ours), torch.compile(native)
    return (lambda: ours(x, weight, bias)), (lambda: native(x, weight, bias))


def jax_conv(layer: Layer):
    import jax
    import jax.numpy as jnp

    from mlprims import conv2d

    x, weight, bias = (jnp.asarray(a) for a in _arrays(layer))
    p = layer[3]

    @jax.jit
    def native(x, weight, bias):
        y = jax.lax.conv_general_dilated(
            x, weight, (1, 1), ((p, p), (p, p)), dimension_numbers=("NCHW", "OIHW", "NCHW")
        )
        return y + bias[:, None, None]

    ours = jax.jit(lambda x, weight, bias: conv2d(x, weight, bias, padding=p))
    return (lambda: ours(x, weight, bias)), (lambda: native(x, weight, bias))


def cases(args) -> list[Pair]:
    resnet: Layer = ("ResNet 3x3 (32, 64, 56, 56)", (32, 64, 56, 56), (64, 3), 1)
    first: Layer = ("CNN conv1 5x5 (64, 1, 28, 28)", (64, 1, 28, 28), (10, 5), 0)
    if args.quick:
        resnet = ("ResNet 3x3 (2, 16, 14, 14)", (2, 16, 14, 14), (16, 3), 1)
        first = ("CNN conv1 5x5 (8, 1, 28, 28)", (8, 1, 28, 28), (10, 5), 0)
    rows = []
    for layer in (resnet, first):
        name = layer[0]
        rows += [
            Pair(f"conv2d {name}, torch eager vs F.conv2d",
                 partial(torch_conv, layer, compiled=False), target=3.0, memory=True),
            Pair(f"conv2d {name}, torch.compile vs torch.compile(F.conv2d)",
                 partial(torch_conv, layer, compiled=True), target=1.5, memory=True),
            Pair(f"conv2d {name}, jax.jit vs lax.conv_general_dilated under jax.jit",
                 partial(jax_conv, layer), target=1.5, memory=True),
        ]  # fmt: skip
    return rows


if __name__ == "__main__":
    main(__file__, __doc__, cases)
