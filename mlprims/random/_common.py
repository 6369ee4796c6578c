"""Small helpers shared by the modules of :mod:`mlprims.random`."""

from __future__ import annotations

import numbers
from typing import Any

import array_api_compat

__all__ = ["Shape", "as_int", "device_of"]

Shape = Any
"""An int (a 1-d shape) or a tuple of non-negative ints."""
device_of = array_api_compat.device  # None while JAX traces


def as_int(value: Any) -> int | None:
    """`value` as an int if it is a Python or NumPy integer (not a bool), else None."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    return None
