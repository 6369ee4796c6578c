"""Check cases, one module per primitive module; importing this package registers them all."""

from . import (
    activations,
    attention,
    clustering,
    convolution,
    decoding,
    detection,
    losses,
    models,
    normalization,
    positional,
    random,
    transformer,
)

__all__ = [
    "activations",
    "attention",
    "clustering",
    "convolution",
    "decoding",
    "detection",
    "losses",
    "models",
    "normalization",
    "positional",
    "random",
    "transformer",
]
