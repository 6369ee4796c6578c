"""Properties of fake_quantize: round half to even, the zero point's sign, the clamp, the ranges.

Every drawn value lies on the grid of scale / 4 with a power-of-two scale: ``x / scale`` is
exact in float32 and float64 alike, exact ties ``k + 1/2`` included, so the rounding rule is
the only free choice and the frameworks' own fake-quantize ops pass every property.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import mlprims

from ._spec import Call, Property, Spec, composite, dtypes, st

__all__ = ["SPECS"]

RANGES = {"int8": (-128, 127), "uint8": (0, 255), "int4": (-8, 7), "uint4": (0, 15)}

ROUNDING = (
    "round half to even, as np.round / torch.round do: round(0.5) = 0, round(2.5) = 2, "
    "round(-1.5) = -2; floor(v + 0.5) rounds every tie up"
)
CLAMP = (
    "q = round(x / scale) + zero_point is clamped to [qmin, qmax] (int8: [-128, 127]) before "
    "the zero point is subtracted back and the result multiplied by scale"
)
ZERO_POINT = (
    "the zero point is added to the rounded value, q = round(x / scale) + zero_point, and "
    "subtracted back, y = (clip(q, qmin, qmax) - zero_point) * scale; with the sign the other "
    "way round the clamp cuts the range at the wrong end"
)
RANGE = (
    "each dtype has its own [qmin, qmax]: uint8 [0, 255], int4 [-8, 7], uint4 [0, 15] (int8 "
    "[-128, 127])"
)
AXIS = (
    "with `axis`, scale[c] and zero_point[c] apply to the slice c of that axis: reshape them "
    "to broadcast along it, e.g. (C, 1) for axis 0 of a 2-d x"
)


def _grid(draw: Any, shape: tuple[int, int], k: tuple[int, int], scale: Any, dtype: str) -> Any:
    """Values ``k * scale / 4`` with k drawn in [k[0], k[1]] (exact ties among them)."""
    n = shape[0] * shape[1]
    ks = draw(st.lists(st.integers(*k), min_size=n, max_size=n))
    return (np.array(ks, dtype=np.float64).reshape(shape) * scale / 4).astype(dtype)


@composite
def _per_tensor(draw: Any, *, kind: str | None = None, zero: bool = False, steps: int = 0) -> Call:
    """int8 with zero point 0 by default; `kind` another type, a zero point anywhere in its
    range; `steps`: how far beyond the range values go (0: inside it)."""
    dtype = draw(dtypes())
    name = kind or "int8"
    qmin, qmax = RANGES[name]
    z = draw(st.integers(qmin, qmax)) if zero or kind else 0
    scale = 2.0 ** draw(st.integers(-4, 2))
    shape = (draw(st.integers(1, 3)), draw(st.integers(1, 6)))
    low, high = qmin - z - steps, qmax - z + steps  # x / scale in [low, high]
    x = _grid(draw, shape, (4 * low, 4 * high), scale, dtype)
    kwargs = {} if name == "int8" else {"dtype": name}
    return Call((x, scale, z), kwargs, dtype)


@composite
def _types(draw: Any) -> Call:
    """uint8, int4 or uint4, a zero point in its range, values a little beyond it."""
    kind = draw(st.sampled_from(["uint8", "int4", "uint4"]))
    return _per_tensor(kind=kind, steps=4)(draw)


@composite
def _per_channel(draw: Any) -> Call:
    dtype = draw(dtypes())
    name = draw(st.sampled_from(list(RANGES)))
    qmin, qmax = RANGES[name]
    shape = (draw(st.integers(2, 3)), draw(st.integers(4, 5)))  # never square: axis matters
    axis = draw(st.sampled_from([0, 1, -1]))
    c = shape[axis]
    scale = 2.0 ** np.array(draw(st.lists(st.integers(-4, 2), min_size=c, max_size=c)))
    zero_point = np.array(draw(st.lists(st.integers(qmin, qmax), min_size=c, max_size=c)))
    per_value = np.expand_dims(scale, 1) if axis == 0 else scale  # (C, 1) or (C,)
    x = _grid(draw, shape, (-600, 600), per_value, dtype)  # x / scale in [-150, 150]
    kwargs = {"dtype": name, "axis": axis}
    return Call((x, scale.astype(dtype), zero_point), kwargs, dtype)


def _fixed(x: list[float], scale: float, zero_point: int, **kwargs: Any) -> Call:
    return Call((np.array(x), scale, zero_point), kwargs, "float64")


#: Ties at 0.5, 1.5, 2.5 and their negatives, zero point 0: floor(v + 0.5) gives 1, 2, 3, 0,
#: -1, -2 instead of 0, 2, 2, -0, -2, -2.
TIES = _fixed([0.25, 0.75, 1.25, -0.25, -0.75, -1.25], 0.5, 0)
#: Beyond both ends of int8.
BEYOND = _fixed([-100.0, -64.5, 63.75, 80.0], 0.5, 0)
#: Zero point 100: [-228, 27] * 0.5 is the range; a sign error moves it to [-28, 227] * 0.5.
SHIFTED = _fixed([-114.0, -60.0, 13.5, 20.0], 0.5, 100)
#: Values at both ends of each 4-bit and unsigned range.
NARROW = _fixed([-5.0, -4.0, -0.5, 3.5, 7.5, 8.0, 127.5, 130.0], 0.5, 0, dtype="int4")
UNSIGNED = _fixed([-5.0, 0.0, 7.5, 8.0, 127.5, 130.0], 0.5, 0, dtype="uint4")

FAKE_QUANTIZE = Spec(
    name="fake_quantize",
    function=mlprims.fake_quantize,
    parameters=("x", "scale", "zero_point", "dtype", "axis"),
    returns="array, the shape and dtype of `x`",
    notes="``q = round(x / scale) + zero_point`` (round half to even), then\n"
    "``y = (clip(q, qmin, qmax) - zero_point) * scale``, with [qmin, qmax] = [-128, 127]\n"
    "(int8), [0, 255] (uint8), [-8, 7] (int4), [0, 15] (uint4). With `axis`, `scale` and\n"
    "`zero_point` have one value per index of that axis. Equals torch's\n"
    "``fake_quantize_per_tensor_affine`` / ``fake_quantize_per_channel_affine``.",
    properties=(
        Property("int8, zero point 0, inside the range", _per_tensor(), ROUNDING, examples=(TIES,)),
        Property("values beyond the range", _per_tensor(steps=40), CLAMP, examples=(BEYOND,)),
        Property(
            "int8 with a zero point",
            _per_tensor(zero=True, steps=8),
            ZERO_POINT,
            examples=(SHIFTED,),
        ),
        Property(
            "uint8, int4, uint4",
            _types(),
            RANGE,
            examples=(NARROW, UNSIGNED),
        ),
        Property("per channel (axis)", _per_channel(), AXIS),
    ),
)

SPECS = [FAKE_QUANTIZE]
