"""Inputs shared by several test modules: hypothesis strategies, and fixed arrays of edge cases."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

__all__ = ["ACTIVATION_EDGES", "activation_inputs", "float_arrays", "shapes"]


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


#: Where activations change regime: +-1000 (e^x overflows every float), +-50, both sides of
#: softplus's threshold 20, +-0 and the small values around it.
ACTIVATION_EDGES = (
    *(-1000.0, -50.0, -20.5, -3.0, -1.0, -1e-3, -0.0, 0.0),
    *(1e-3, 0.5, 1.0, 3.0, 19.5, 20.5, 50.0, 1000.0),
)


def activation_inputs(dtype: str, shape: tuple[int, int] = (6, 40)) -> np.ndarray:
    """The :data:`ACTIVATION_EDGES` first, then normal draws of scale 5 (seed 0), in `dtype`."""
    x = np.random.default_rng(0).normal(scale=5.0, size=shape)
    x.flat[: len(ACTIVATION_EDGES)] = ACTIVATION_EDGES
    return x.astype(dtype)
