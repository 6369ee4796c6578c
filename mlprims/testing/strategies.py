"""Hypothesis strategies for the inputs of the primitives, shared by the tests."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

__all__ = ["float_arrays", "shapes"]


def shapes(min_dims: int = 1, max_dims: int = 3, min_side: int = 1, max_side: int = 6) -> Any:
    """Array shapes for hypothesis."""
    return hnp.array_shapes(
        min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side
    )


def float_arrays(
    shape: Any = None, *, dtype: str = "float64", bound: float = 10.0, **shape_kw: Any
) -> Any:
    """Finite float arrays in [-bound, bound] (exactly representable in float32)."""
    elements = st.floats(-bound, bound, width=32, allow_nan=False, allow_infinity=False)
    return hnp.arrays(
        np.dtype(dtype), shape if shape is not None else shapes(**shape_kw), elements=elements
    )
