"""Dtype-aware tolerances and comparisons, shared by the tests and ``mlprims check``."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["FLOAT_DTYPES", "assert_close", "tolerance"]

FLOAT_DTYPES = ("float32", "float64")

#: (rtol, atol) per dtype for results of a few dozen flops per element.
_TOLERANCE = {
    "float16": (2e-3, 2e-3),
    "bfloat16": (1.6e-2, 1.6e-2),
    "float32": (2e-5, 2e-6),
    "float64": (1e-10, 1e-12),
}


def tolerance(dtype: Any, *, scale: float = 1.0) -> dict[str, float]:
    """``rtol``/``atol`` for results computed in `dtype`, multiplied by `scale`."""
    rtol, atol = _TOLERANCE[np.dtype(dtype).name if not isinstance(dtype, str) else dtype]
    return {"rtol": rtol * scale, "atol": atol * scale}


def assert_close(
    actual: Any, expected: Any, dtype: Any = None, *, scale: float = 1.0, **kw: Any
) -> None:
    """``np.testing.assert_allclose`` with dtype-aware tolerances; also checks the shape.

    `dtype` defaults to the dtype of `actual`. Keyword arguments override rtol/atol.
    """
    actual = np.asarray(actual)
    expected = np.asarray(expected)
    assert actual.shape == expected.shape, f"shape {actual.shape} != expected {expected.shape}"
    name = np.dtype(dtype if dtype is not None else actual.dtype).name
    options = tolerance(name, scale=scale) if name in _TOLERANCE else {"rtol": 0, "atol": 0}
    options.update(kw)
    np.testing.assert_allclose(
        actual.astype(np.float64), expected.astype(np.float64), equal_nan=True, **options
    )
