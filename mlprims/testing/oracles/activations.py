"""Float64 NumPy oracles for :mod:`mlprims.activations`, written independently of the primitives:
the defining formulas (the sigmoid through tanh, GELU through :func:`math.erf`), and the softmax
family in long double without the shift by the maximum. Shared by ``tests/`` and
``mlprims check``.
"""

from __future__ import annotations

import math

import numpy as np

from .special import erf_reference

__all__ = [
    "elu_reference",
    "gelu_reference",
    "leaky_relu_reference",
    "log_softmax_reference",
    "logsumexp_reference",
    "relu_reference",
    "sigmoid_reference",
    "silu_reference",
    "softmax_reference",
    "softplus_reference",
    "swiglu_reference",
    "tanh_reference",
]


def _wide(x):
    return np.asarray(x, dtype=np.float64)


def relu_reference(x):
    """max(x, 0) in float64; matches ``relu`` (torch.nn.functional.relu)."""
    return np.maximum(_wide(x), 0.0)


def leaky_relu_reference(x, *, negative_slope=0.01):
    """x if x > 0 else negative_slope * x, in float64; matches ``leaky_relu``."""
    x = _wide(x)
    return np.where(x > 0, x, negative_slope * x)


def gelu_reference(x, *, approximate="none"):
    """x Φ(x) with Φ from math.erf, or Hendrycks & Gimpel's tanh form; matches ``gelu``."""
    x = _wide(x)
    if approximate == "tanh":
        inner = math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)
        return 0.5 * x * (1.0 + np.tanh(inner))
    return 0.5 * x * (1.0 + erf_reference(x / math.sqrt(2.0)))


def sigmoid_reference(x):
    """(1 + tanh(x / 2)) / 2: a different, also stable, formula; matches ``sigmoid``."""
    return 0.5 * (1.0 + np.tanh(0.5 * _wide(x)))


def silu_reference(x):
    """x sigmoid(x) in float64; matches ``silu``."""
    x = _wide(x)
    return x * sigmoid_reference(x)


def elu_reference(x, *, alpha=1.0):
    """x if x > 0 else alpha (e^x - 1), in float64; matches ``elu``."""
    x = _wide(x)
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))


def tanh_reference(x):
    """NumPy's tanh in float64; matches ``tanh``."""
    return np.tanh(_wide(x))


def softplus_reference(x, *, beta=1.0, threshold=20.0):
    """log(1 + e^(beta x)) / beta, x itself where beta x > threshold; matches ``softplus``."""
    x = _wide(x)
    return np.where(beta * x > threshold, x, np.logaddexp(0.0, beta * x) / beta)


def logsumexp_reference(x, *, axis=-1, keepdims=False):
    """log sum e^x in long double, with no shift (e^1000 is finite there); matches ``logsumexp``."""
    wide = _wide(x).astype(np.longdouble)
    return np.log(np.sum(np.exp(wide), axis=axis, keepdims=keepdims)).astype(np.float64)


def softmax_reference(x, *, axis=-1):
    """e^x / sum e^x in long double, with no shift by the maximum; matches ``softmax``."""
    wide = np.exp(_wide(x).astype(np.longdouble))
    return (wide / wide.sum(axis=axis, keepdims=True)).astype(np.float64)


def log_softmax_reference(x, *, axis=-1):
    """x - logsumexp(x) with the long-double logsumexp; matches ``log_softmax``."""
    return _wide(x) - logsumexp_reference(x, axis=axis, keepdims=True)


def swiglu_reference(x, w_gate, w_up, w_down=None):
    """(silu(x W_gate) * (x W_up)) W_down in float64 (Shazeer 2020); matches ``swiglu``."""
    x, w_gate, w_up = _wide(x), _wide(w_gate), _wide(w_up)
    gate = x @ w_gate
    hidden = silu_reference(gate) * (x @ w_up)
    return hidden if w_down is None else hidden @ _wide(w_down)
