"""Properties of apply_rope and sinusoidal_position_encoding."""

from __future__ import annotations

from typing import Any

import numpy as np

import mlprims

from ._spec import Call, Property, Spec, composite, dtypes, floats, st

__all__ = ["SPECS"]


@composite
def _rope(draw: Any, *, positions: bool = False, base: bool = False) -> Call:
    dtype = draw(dtypes())
    length, d = draw(st.integers(1, 5)), 2 * draw(st.integers(1, 4))
    x = draw(floats((draw(st.integers(1, 2)), length, d), dtype))
    args: tuple[Any, ...] = (x,)
    if positions:
        args = (x, np.array(draw(st.lists(st.integers(0, 50), min_size=length, max_size=length))))
    kwargs = {"base": draw(st.sampled_from([100.0, 500000.0]))} if base else {}
    return Call(args, kwargs, dtype)


APPLY_ROPE = Spec(
    name="apply_rope",
    function=mlprims.apply_rope,
    parameters=("x", "positions", "base"),
    notes="With w_i = base^(-2i/D) for i < D/2 and theta = p * w_i for the token at position p,\n"
    "the pair (a, b) = (x[..., i], x[..., i + D/2]) becomes\n"
    "(a cos theta - b sin theta, a sin theta + b cos theta): x * cos + rotate_half(x) * sin\n"
    "(the 'half' style of Hugging Face Llama). Here positions are an integer (L,) array.",
    properties=(
        Property(
            "positions 0 .. L-1",
            _rope(),
            "pairs are (i, i + D/2) (rotate_half), frequencies base^(-2i/D), position = row",
        ),
        Property("explicit positions", _rope(positions=True), "rotate by the given positions"),
        Property("another base", _rope(base=True), "the frequencies are base^(-2i/D)"),
    ),
)


@composite
def _sinusoidal(draw: Any, *, base: bool = False) -> Call:
    length, d = draw(st.integers(1, 12)), 2 * draw(st.integers(1, 6))
    kwargs = {"base": draw(st.sampled_from([10.0, 1e6]))} if base else {}
    return Call((length, d), kwargs)


def _sinusoidal_float64(length: int, dim: int, **kwargs: Any) -> Any:
    return mlprims.sinusoidal_position_encoding(length, dim, dtype="float64", **kwargs)


SINUSOIDAL = Spec(
    name="sinusoidal_position_encoding",
    function=mlprims.sinusoidal_position_encoding,
    reference=_sinusoidal_float64,
    parameters=("length", "dim", "base"),
    returns="array, shape (length, dim), float32 or float64",
    notes="PE[p, 2i] = sin(p * w_i), PE[p, 2i + 1] = cos(p * w_i), w_i = base^(-2i/D), i < D/2\n"
    '(Vaswani et al. 2017, "Attention Is All You Need": sines and cosines interleaved).',
    properties=(
        Property(
            "interleaved sin / cos",
            _sinusoidal(),
            "even columns sin, odd columns cos, both at frequency base^(-2i/D) for column 2i",
        ),
        Property("another base", _sinusoidal(base=True), "the frequencies are base^(-2i/D)"),
    ),
)

SPECS = [APPLY_ROPE, SINUSOIDAL]
