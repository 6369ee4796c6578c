"""What the affine quantizers share: the integer ranges and the scale / zero point arguments.

Shape legend: ``x`` of any shape; with ``axis`` (torch's ``ch_axis``) C = x.shape[axis] is the
number of channels, each with its own scale and zero point.
"""

from __future__ import annotations

import numbers
from typing import Any

from array_api_compat import device as device_of

from .._array import (
    Array,
    Namespace,
    check_axis,
    check_choice,
    check_dtype,
    check_in_range,
    check_int,
    check_same_framework,
    shape_str,
)

__all__ = ["QDTYPES", "qparams_like", "qrange", "storage_dtype", "wide_dtype"]

#: The integer types and their ranges [quant_min, quant_max], as torch's quint8 / qint8 and
#: the 4-bit ranges torch.ao's observers take as ``quant_min``/``quant_max`` (-8..7, 0..15).
QDTYPES = {"int8": (-128, 127), "uint8": (0, 255), "int4": (-8, 7), "uint4": (0, 15)}

#: Where the values are stored: 4-bit values in 8-bit arrays (one value a byte).
_STORAGE = {"int8": "int8", "uint8": "uint8", "int4": "int8", "uint4": "uint8"}


def qrange(dtype: Any) -> tuple[int, int]:
    """(quant_min, quant_max) of `dtype`, one of :data:`QDTYPES`; ValueError otherwise."""
    check_choice(dtype, "dtype", tuple(QDTYPES))
    return QDTYPES[dtype]


def storage_dtype(dtype: str, *, xp: Namespace) -> Any:
    """The array dtype that holds values of `dtype`: int8 for int8/int4, uint8 for uint8/uint4."""
    return getattr(xp, _STORAGE[dtype])


def qparams_like(
    x: Array,
    scale: Any,
    zero_point: Any,
    axis: Any,
    *,
    xp: Namespace,
    dtype: Any,
    like: str = "x",
) -> tuple[Array, Array]:
    """`scale` and `zero_point` as arrays of `dtype` on the device of `x`, shaped to broadcast
    against it: () per tensor (`axis` None), (C, 1, ..., 1) along `axis` per channel.

    Python numbers (a positive finite scale, an integer zero point) serve one tensor; arrays
    must be of the framework of `x`, a floating scale and an integer zero point, of shape
    () or (1,) per tensor and (C,) per channel. `like` names `x` in the messages.
    """
    if axis is None:
        target: tuple[int, ...] = ()
        expected = "() or (1,) (one tensor; give `axis` for one scale per channel)"
    else:
        ax = check_axis(axis, x.ndim)
        target = (x.shape[ax],) + (1,) * (x.ndim - ax - 1)
        expected = f"(C,) = ({x.shape[ax]},) with C = {like}.shape[axis]"
    out = []
    for value, name in ((scale, "scale"), (zero_point, "zero_point")):
        if isinstance(value, numbers.Number):  # Python and NumPy scalars, bools (refused)
            value = _number(value, name)
            if axis is not None:
                msg = f"`{name}` must be an array of shape {expected}, got a number"
                raise ValueError(msg)
            out.append(xp.asarray(value, dtype=dtype, device=device_of(x)))
            continue
        check_same_framework(value, name, xp=xp, like=like)
        kind = "real floating" if name == "scale" else "integral"
        check_dtype(value, name, kind, xp=xp)
        size_one = value.ndim <= 1 and (value.ndim == 0 or value.shape[0] == 1)
        fits = size_one if axis is None else tuple(value.shape) == target[:1]
        if not fits:
            msg = f"`{name}` must have shape {expected}, got {shape_str(value.shape)}"
            raise ValueError(msg)
        out.append(xp.reshape(xp.astype(value, dtype), target))
    return out[0], out[1]


def _number(value: Any, name: str) -> float:
    """A Python scale (positive, finite) or zero point (an int) as a float."""
    if name == "scale":
        return check_in_range(value, "scale", 0.0, closed=(False, False))
    return float(check_int(value, "zero_point"))


def wide_dtype(compute: Any, *, xp: Namespace) -> Any:
    """float64 for float32 `compute` where the backend has it (JAX without x64 has not), else
    `compute`: a product of two float32 values is exact in float64, so ``a * b + c`` formed
    there and rounded to float32 is the fused multiply-add whether a compiler fuses the two
    operations or not (XLA's default CPU flags do, NumPy never does)."""
    floats = xp.__array_namespace_info__().dtypes(kind="real floating")
    return xp.float64 if compute == xp.float32 and "float64" in floats else compute
