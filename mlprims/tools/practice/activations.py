"""Properties of softmax: rows that sum to 1, any axis, and logits too large for a naive exp."""

from __future__ import annotations

from typing import Any

import mlprims

from ._spec import Call, Property, Spec, composite, dtypes, floats, st

__all__ = ["SPECS"]


@composite
def _rows(draw: Any) -> Call:
    dtype = draw(dtypes())
    x = draw(floats((draw(st.integers(1, 3)), draw(st.integers(1, 6))), dtype))
    return Call((x,), {}, dtype)


@composite
def _axis(draw: Any) -> Call:
    dtype = draw(dtypes())
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=3, max_size=3)))
    axis = draw(st.sampled_from([0, 1, -2]))
    return Call((draw(floats(shape, dtype)),), {"axis": axis}, dtype)


@composite
def _large(draw: Any) -> Call:
    shift = draw(st.sampled_from([100.0, 1000.0, -1000.0]))
    x = draw(floats((draw(st.integers(1, 3)), draw(st.integers(2, 6)))))
    return Call(((x + shift).astype("float32"),), {}, "float32")


SOFTMAX = Spec(
    name="softmax",
    function=mlprims.softmax,
    parameters=("x", "axis"),
    notes="softmax(x)_i = exp(x_i - max(x)) / sum_j exp(x_j - max(x)) along `axis`:\n"
    "subtracting the maximum changes nothing mathematically and keeps exp from overflowing.",
    properties=(
        Property("rows along the last axis", _rows(), "exp(x_i) / sum_j exp(x_j) along axis -1"),
        Property("another axis", _axis(), "normalise along `axis`, not always the last one"),
        Property(
            "large logits (|x| ~ 1000, float32)",
            _large(),
            "exp(1000) overflows to inf and inf / inf is NaN: subtract the row's maximum first",
        ),
    ),
)

SPECS = [SOFTMAX]
