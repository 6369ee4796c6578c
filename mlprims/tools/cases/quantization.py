"""Check cases for mlprims.quantization, against the float64 oracles of
:mod:`mlprims.testing.oracles.quantization` (shared with the tests).

quantize and fake_quantize run on values of the grid of scale / 4 with power-of-two scales, so
``x / scale`` is exact in float32 as in float64, exact ties ``k + 1/2`` included: the integers
must match exactly in both dtypes.
"""

from __future__ import annotations

import numpy as np

from ...quantization import (
    choose_qparams,
    dequantize,
    dequantize_nf4,
    fake_quantize,
    quantize,
    quantize_nf4,
    quantized_linear,
)
from ...testing import Case
from ...testing.oracles.quantization import (
    choose_qparams_reference,
    dequantize_nf4_reference,
    dequantize_reference,
    fake_quantize_reference,
    quantize_nf4_reference,
    quantize_reference,
    quantized_linear_reference,
)

__all__ = ["CASES"]

#: The check cases of this family, in table order.
CASES: list[Case] = []


def _normal(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {"x": rng.normal(size=(3, 4, 5)) * 2.0 + 0.5}


def _grid(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Multiples of scale / 4 for scales 2**-2 .. 2**-5 along axis 1, zero points -3 .. 2."""
    scale = 2.0 ** -rng.integers(2, 6, size=4)
    x = rng.integers(-700, 700, size=(3, 4, 5)) * scale[:, None] / 4
    return {"x": x, "scale": scale, "zero_point": rng.integers(-3, 3, size=4)}


def _nf4_reference(x: np.ndarray, block_size: int) -> np.ndarray:
    codes, absmax = quantize_nf4_reference(x, block_size=block_size)
    return dequantize_nf4_reference(codes, absmax, x.shape, block_size=block_size)


CASES += [
    Case(
        name="choose_qparams(uint8)",
        make_inputs=_normal,
        run=lambda x: choose_qparams(x, dtype="uint8"),
        reference=lambda x: choose_qparams_reference(x, dtype="uint8"),
    ),
    Case(
        name="choose_qparams(int4, symmetric, axis)",
        make_inputs=_normal,
        run=lambda x: choose_qparams(x, dtype="int4", symmetric=True, axis=1),
        reference=lambda x: choose_qparams_reference(x, dtype="int4", symmetric=True, axis=1),
    ),
    Case(
        name="quantize(int8, axis)",
        make_inputs=_grid,
        run=lambda x, scale, zero_point: quantize(x, scale, zero_point, axis=1),
        reference=lambda x, scale, zero_point: quantize_reference(x, scale, zero_point, axis=1),
    ),
    Case(
        name="dequantize(axis)",
        make_inputs=lambda rng: {
            "q": rng.integers(-128, 128, size=(3, 4, 5)).astype(np.int8),
            "scale": rng.uniform(0.01, 0.1, 4),
            "zero_point": rng.integers(-5, 5, size=4),
        },
        run=lambda q, scale, zero_point: dequantize(q, scale, zero_point, axis=1),
        reference=lambda q, scale, zero_point: dequantize_reference(q, scale, zero_point, axis=1),
    ),
    Case(
        name="fake_quantize(int4, axis)",
        make_inputs=_grid,
        run=lambda x, scale, zero_point: fake_quantize(x, scale, zero_point, dtype="int4", axis=1),
        reference=lambda x, scale, zero_point: fake_quantize_reference(
            x, scale, zero_point, dtype="int4", axis=1
        ),
    ),
    Case(
        name="dequantize_nf4(quantize_nf4)",
        make_inputs=lambda rng: {"x": rng.normal(size=(5, 30))},
        run=lambda x: dequantize_nf4(quantize_nf4(x, block_size=32)),
        reference=lambda x: _nf4_reference(x, 32),
    ),
    Case(
        name="quantized_linear",
        make_inputs=lambda rng: {
            "x": rng.normal(size=(2, 5, 8)),
            "q_weight": rng.integers(-128, 128, size=(8, 6)).astype(np.int8),
            "scale": rng.uniform(0.001, 0.02, 6),
            "bias": rng.normal(size=6),
        },
        run=lambda x, q_weight, scale, bias: quantized_linear(x, q_weight, scale, bias),
        reference=quantized_linear_reference,
    ),
]
