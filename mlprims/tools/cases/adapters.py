"""Check cases for mlprims.adapters (LoRA), against the float64 oracles of
:mod:`mlprims.testing.oracles.adapters` (shared with the tests)."""

from __future__ import annotations

import math

import numpy as np

from ...adapters import lora_linear, merge_lora, unmerge_lora
from ...testing import Case
from ...testing.oracles.adapters import lora_linear_reference, merge_lora_reference

__all__ = ["CASES"]

#: The check cases of this family, in table order.
CASES: list[Case] = []

D_IN, D_OUT, R, ALPHA = 12, 10, 4, 16.0


def _inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """A frozen layer and a trained adapter (B not zero, as after training)."""
    return {
        "x": rng.normal(size=(2, 5, D_IN)),
        "weight": rng.normal(size=(D_IN, D_OUT)) / math.sqrt(D_IN),
        "bias": rng.normal(size=D_OUT),
        "a": rng.uniform(-1.0, 1.0, (D_IN, R)) / math.sqrt(D_IN),
        "b": rng.normal(size=(R, D_OUT)) * 0.1,
    }


def _weights(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {k: v for k, v in _inputs(rng).items() if k not in ("x", "bias")}


for _rslora in (False, True):
    CASES.append(
        Case(
            name="lora_linear(rslora)" if _rslora else "lora_linear",
            make_inputs=_inputs,
            run=lambda x, weight, bias, a, b, rs=_rslora: lora_linear(
                x, weight, bias, {"A": a, "B": b}, alpha=ALPHA, use_rslora=rs
            ),
            reference=lambda x, weight, bias, a, b, rs=_rslora: lora_linear_reference(
                x, weight, bias, a, b, alpha=ALPHA, use_rslora=rs
            ),
        )
    )
CASES.append(
    Case(
        name="merge_lora",
        make_inputs=_weights,
        run=lambda weight, a, b: merge_lora(weight, {"A": a, "B": b}, alpha=ALPHA),
        reference=lambda weight, a, b: merge_lora_reference(weight, a, b, alpha=ALPHA),
    )
)
CASES.append(
    Case(
        name="unmerge_lora",
        make_inputs=_weights,
        run=lambda weight, a, b: unmerge_lora(weight, {"A": a, "B": b}, alpha=ALPHA),
        reference=lambda weight, a, b: merge_lora_reference(weight, a, b, alpha=ALPHA, sign=-1.0),
    )
)
