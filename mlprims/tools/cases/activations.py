"""Check cases for mlprims.activations, against the float64 oracles of
:mod:`mlprims.testing.oracles.activations` (shared with the tests)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ...activations import (
    elu,
    gelu,
    leaky_relu,
    log_softmax,
    logsumexp,
    relu,
    sigmoid,
    silu,
    softmax,
    softplus,
    swiglu,
    tanh,
)
from ...testing import Case
from ...testing.oracles.activations import (
    elu_reference,
    gelu_reference,
    leaky_relu_reference,
    log_softmax_reference,
    logsumexp_reference,
    relu_reference,
    sigmoid_reference,
    silu_reference,
    softmax_reference,
    softplus_reference,
    swiglu_reference,
    tanh_reference,
)

__all__ = ["CASES"]

#: The check cases of this family, in table order.
CASES: list[Case] = []


def _x(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Scores of scale 4 plus the edges: +-0, the softplus threshold, +-30."""
    x = rng.normal(scale=4.0, size=(8, 32))
    x.flat[:8] = [-30.0, -20.5, -0.0, 0.0, 1e-3, 19.5, 20.5, 30.0]
    return {"x": x}


def _elementwise(name: str, fn: Callable[..., Any], reference: Callable[..., Any], **kw: Any):
    """Register `fn` (with options `kw`) against `reference` (with the same options)."""
    CASES.append(
        Case(
            name=name,
            make_inputs=_x,
            run=lambda x: fn(x, **kw),
            reference=lambda x: reference(x, **kw),
        )
    )


_elementwise("relu", relu, relu_reference)
_elementwise("leaky_relu", leaky_relu, leaky_relu_reference)
_elementwise("gelu", gelu, gelu_reference)
_elementwise("gelu(tanh)", gelu, gelu_reference, approximate="tanh")
_elementwise("silu", silu, silu_reference)
_elementwise("elu", elu, elu_reference)
_elementwise("sigmoid", sigmoid, sigmoid_reference)
_elementwise("tanh", tanh, tanh_reference)
_elementwise("softplus", softplus, softplus_reference)
_elementwise("softmax", softmax, softmax_reference)
_elementwise("log_softmax", log_softmax, log_softmax_reference)
_elementwise("logsumexp", logsumexp, logsumexp_reference)


def _swiglu_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    d, h, o = 8, 16, 4
    return {
        "x": rng.normal(size=(2, 3, d)),
        "w_gate": rng.normal(size=(d, h)) / math.sqrt(d),
        "w_up": rng.normal(size=(d, h)) / math.sqrt(d),
        "w_down": rng.normal(size=(h, o)) / math.sqrt(h),
    }


CASES.append(
    Case(
        name="swiglu",
        make_inputs=_swiglu_inputs,
        run=lambda x, w_gate, w_up, w_down: swiglu(x, w_gate, w_up, w_down),
        reference=swiglu_reference,
    )
)
