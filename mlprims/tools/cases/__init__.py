"""Check cases, one module per primitive module; importing this package registers them all."""

from . import activations, attention, convolution, losses, normalization, positional, random

__all__ = [
    "activations",
    "attention",
    "convolution",
    "losses",
    "normalization",
    "positional",
    "random",
]
