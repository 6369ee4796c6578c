"""Benchmark: mlprims' quantization against torch's quantized ops and bitsandbytes' NF4.

    python benchmarks/bench_quantization.py            # a (1024, 1024) float32 tensor
    python benchmarks/bench_quantization.py --quick    # (128, 128): proves the script runs

Each case is ours on torch eager against the op it matches (timing, memory and RESULTS.md:
benchmarks/harness.py), int8 with torch.ao's min/max parameters (``choose_qparams``, affine;
per channel along axis 0):

- ``quantize`` against ``torch.quantize_per_tensor(...).int_repr()`` and
  ``torch.quantize_per_channel(...).int_repr()``;
- ``dequantize`` against ``.dequantize()`` of the same quantized tensor (per tensor);
- ``fake_quantize`` against ``torch.fake_quantize_per_tensor_affine`` and
  ``torch.fake_quantize_per_channel_affine``;
- ``quantize_nf4`` (block size 64) against bitsandbytes' ``quantize_4bit(quant_type="nf4")``
  on CPU.

Agreement is checked when each case is built: equal values (per-channel quantize: within 1,
torch rounding ``x * (1 / scale)`` before adding the zero point, as the tests say), NF4 equal
packed codes and absmax. No targets (the issue gives none). About 15 s on 2 cores with
`--repeat 5`.
"""

from __future__ import annotations

import warnings
from functools import partial
from typing import Any

from harness import Pair, main


def _shape(quick: bool) -> tuple[int, int]:
    return (128, 128) if quick else (1024, 1024)


def _input(quick: bool) -> Any:
    import torch

    return torch.randn(_shape(quick), generator=torch.Generator().manual_seed(0))


def _quiet(fn: Any, *args: Any) -> Any:
    """A torch quantized-tensor call without its deprecation warning (torch 2.13)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return fn(*args)


def _equal(name: str, got: Any, want: Any, *, tolerance: int = 0) -> None:
    import torch

    diff = (got.to(torch.float64) - want.to(torch.float64)).abs().max().item()
    if got.shape != want.shape or diff > tolerance:
        raise AssertionError(f"{name}: ours and the reference differ (max abs {diff})")


def quantize_case(quick: bool, *, per_channel: bool):
    import torch

    from mlprims import choose_qparams, quantize

    x = _input(quick)
    axis = 0 if per_channel else None
    scale, zero_point = choose_qparams(x, dtype="int8", axis=axis)
    if per_channel:
        s, z = scale.to(torch.float64), zero_point.to(torch.int64)

        def native():
            return _quiet(torch.quantize_per_channel, x, s, z, 0, torch.qint8).int_repr()
    else:
        s, z = float(scale), int(zero_point)

        def native():
            return _quiet(torch.quantize_per_tensor, x, s, z, torch.qint8).int_repr()

    def ours():
        return quantize(x, scale, zero_point, dtype="int8", axis=axis)

    _equal("quantize", ours(), native(), tolerance=1 if per_channel else 0)
    return ours, native


def dequantize_case(quick: bool):
    import torch

    from mlprims import choose_qparams, dequantize, quantize

    x = _input(quick)
    scale, zero_point = choose_qparams(x, dtype="int8")
    q = quantize(x, scale, zero_point, dtype="int8")
    t = _quiet(torch.quantize_per_tensor, x, float(scale), int(zero_point), torch.qint8)
    _equal("quantize", q, t.int_repr())

    def ours():
        return dequantize(q, scale, zero_point)

    _equal("dequantize", ours(), t.dequantize())
    return ours, t.dequantize


def fake_case(quick: bool, *, per_channel: bool):
    import torch

    from mlprims import choose_qparams, fake_quantize

    x = _input(quick)
    axis = 0 if per_channel else None
    scale, zero_point = choose_qparams(x, dtype="int8", axis=axis)
    if per_channel:
        s, z = scale.to(torch.float32), zero_point.to(torch.int32)

        def native():
            return torch.fake_quantize_per_channel_affine(x, s, z, 0, -128, 127)
    else:
        s, z = float(scale), int(zero_point)

        def native():
            return torch.fake_quantize_per_tensor_affine(x, s, z, -128, 127)

    def ours():
        return fake_quantize(x, scale, zero_point, dtype="int8", axis=axis)

    _equal("fake_quantize", ours(), native())
    return ours, native


def nf4_case(quick: bool):
    from bitsandbytes.functional import quantize_4bit

    from mlprims import quantize_nf4

    x = _input(quick)

    def ours():
        return quantize_nf4(x, block_size=64)

    def native():
        return quantize_4bit(x, blocksize=64, quant_type="nf4")

    q = ours()
    packed, state = native()
    _equal("quantize_nf4 codes", q.codes, packed.reshape(-1))
    _equal("quantize_nf4 absmax", q.absmax, state.absmax)
    return ours, native


def cases(args) -> list[Pair]:
    shape = _shape(args.quick)
    return [
        Pair(f"quantize int8 per tensor {shape}, torch eager vs quantize_per_tensor",
             partial(quantize_case, args.quick, per_channel=False)),
        Pair(f"quantize int8 per channel {shape}, torch eager vs quantize_per_channel",
             partial(quantize_case, args.quick, per_channel=True)),
        Pair(f"dequantize int8 per tensor {shape}, torch eager vs Tensor.dequantize",
             partial(dequantize_case, args.quick)),
        Pair(f"fake_quantize int8 per tensor {shape}, torch eager vs "
             "fake_quantize_per_tensor_affine",
             partial(fake_case, args.quick, per_channel=False)),
        Pair(f"fake_quantize int8 per channel {shape}, torch eager vs "
             "fake_quantize_per_channel_affine",
             partial(fake_case, args.quick, per_channel=True)),
        Pair(f"quantize_nf4 block 64 {shape}, torch eager vs bitsandbytes quantize_4bit (CPU)",
             partial(nf4_case, args.quick)),
    ]  # fmt: skip


if __name__ == "__main__":
    main(__file__, __doc__, cases)
