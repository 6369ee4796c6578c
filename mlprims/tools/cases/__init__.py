"""Check cases, one module per primitive module; importing this package registers them all."""

from . import activations, attention, losses, normalization, positional, random

__all__ = ["activations", "attention", "losses", "normalization", "positional", "random"]
