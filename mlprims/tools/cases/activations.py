"""Check cases for mlprims.activations: each against a float64 NumPy formula written here."""

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
from ..registry import Case, register

__all__: list[str] = []

_erf = np.vectorize(math.erf, otypes=[np.float64])


def _x(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Scores of scale 4 plus the edges: +-0, the softplus threshold, +-30."""
    x = rng.normal(scale=4.0, size=(8, 32))
    x.flat[:8] = [-30.0, -20.5, -0.0, 0.0, 1e-3, 19.5, 20.5, 30.0]
    return {"x": x}


def _logsumexp(x: np.ndarray) -> np.ndarray:
    wide = x.astype(np.longdouble)  # no shift needed: exp(30) is far from overflow here
    return np.log(np.exp(wide).sum(axis=-1, keepdims=True)).astype(np.float64)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _elementwise(name: str, fn: Callable[..., Any], reference: Callable[..., Any], **kw: Any):
    register(
        Case(
            name=name,
            make_inputs=_x,
            run=lambda x: fn(x, **kw),
            reference=reference,
        )
    )


_elementwise("relu", relu, lambda x: np.maximum(x, 0.0))
_elementwise("leaky_relu", leaky_relu, lambda x: np.where(x > 0, x, 0.01 * x))
_elementwise("gelu", gelu, lambda x: 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0))))
_elementwise(
    "gelu(tanh)",
    gelu,
    lambda x: 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3))),
    approximate="tanh",
)
_elementwise("silu", silu, lambda x: x * _sigmoid(x))
_elementwise("elu", elu, lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0.0))))
_elementwise("sigmoid", sigmoid, _sigmoid)
_elementwise("tanh", tanh, lambda x: np.tanh(x))
_elementwise("softplus", softplus, lambda x: np.where(x > 20.0, x, np.logaddexp(0.0, x)))
_elementwise("softmax", softmax, lambda x: np.exp(x - _logsumexp(x)))
_elementwise("log_softmax", log_softmax, lambda x: x - _logsumexp(x))
_elementwise("logsumexp", logsumexp, lambda x: _logsumexp(x)[:, 0])


def _swiglu_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    d, h, o = 8, 16, 4
    return {
        "x": rng.normal(size=(2, 3, d)),
        "w_gate": rng.normal(size=(d, h)) / math.sqrt(d),
        "w_up": rng.normal(size=(d, h)) / math.sqrt(d),
        "w_down": rng.normal(size=(h, o)) / math.sqrt(h),
    }


def _swiglu_reference(x, w_gate, w_up, w_down):
    gate = x @ w_gate
    return (gate * _sigmoid(gate) * (x @ w_up)) @ w_down


register(
    Case(
        name="swiglu",
        make_inputs=_swiglu_inputs,
        run=lambda x, w_gate, w_up, w_down: swiglu(x, w_gate, w_up, w_down),
        reference=_swiglu_reference,
    )
)
