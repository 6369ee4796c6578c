"""Activation functions, each matching ``torch.nn.functional`` (differences are in Notes).

================  ==================================================================
``elementwise``   relu, leaky_relu, gelu, silu, elu, sigmoid, tanh, softplus
``softmax``       softmax, log_softmax, logsumexp (along an axis)
``glu``           swiglu, the gated feed-forward block
================  ==================================================================

Every function takes arrays of a real floating dtype (integer arrays are a TypeError: cast
first), returns the input's dtype, never warns about overflow and runs under ``jax.jit``.
"""

from .elementwise import elu, gelu, leaky_relu, relu, sigmoid, silu, softplus, tanh
from .glu import swiglu
from .softmax import log_softmax, logsumexp, softmax

__all__: list[str] = [
    "elu",
    "gelu",
    "leaky_relu",
    "log_softmax",
    "logsumexp",
    "relu",
    "sigmoid",
    "silu",
    "softmax",
    "softplus",
    "swiglu",
    "tanh",
]
