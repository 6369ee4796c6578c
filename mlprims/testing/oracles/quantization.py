"""Float64 NumPy oracles for :mod:`mlprims.quantization`, written independently of the primitives:
one channel (or one element) at a time with Python's ``round`` (half to even) and ``min``/``max``;
NF4 as the nearest of the 16 levels by distance (the first on a tie), not by midpoints. Shared by
``tests/`` and ``mlprims check``.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "NF4_LEVELS",
    "choose_qparams_reference",
    "dequantize_nf4_reference",
    "dequantize_reference",
    "fake_quantize_reference",
    "quantize_nf4_reference",
    "quantize_reference",
    "quantized_linear_reference",
]

#: [quant_min, quant_max] of each integer type (torch's qint8 / quint8, and 4-bit ranges).
RANGES = {"int8": (-128, 127), "uint8": (0, 255), "int4": (-8, 7), "uint4": (0, 15)}
#: bitsandbytes' NF4 table (``bitsandbytes.functional.get_4bit_type("nf4")``).
NF4_LEVELS = np.array(
    [-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
     -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
     0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
     0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0]
)  # fmt: skip


def _channels(x, axis):
    """The slices of `x` that share parameters: the whole array, or one per index of `axis`."""
    x = np.asarray(x, dtype=np.float64)
    if axis is None:
        return [x]
    return [np.take(x, c, axis=axis) for c in range(x.shape[axis])]


def choose_qparams_reference(x, *, dtype="int8", symmetric=False, axis=None):
    """torch.ao's ``_calculate_qparams`` on each channel's min and max, in Python floats.

    Returns (scale, zero_point): float64 and int64 arrays of shape () or (C,).
    """
    qmin, qmax = RANGES[dtype]
    scales, zeros = [], []
    for part in _channels(x, axis):
        low, high = min(float(part.min()), 0.0), max(float(part.max()), 0.0)
        if symmetric:
            scale = max(max(-low, high) / ((qmax - qmin) / 2), 2.0**-23)
            zero = {"int8": 0, "int4": 0, "uint8": 128, "uint4": (qmin + qmax) // 2}[dtype]
        else:
            scale = max((high - low) / (qmax - qmin), 2.0**-23)
            zero = min(max(qmin - round(low / scale), qmin), qmax)
        scales.append(scale)
        zeros.append(zero)
    shape = () if axis is None else (len(scales),)
    return np.array(scales).reshape(shape), np.array(zeros, dtype=np.int64).reshape(shape)


def quantize_reference(x, scale, zero_point, *, dtype="int8", axis=None):
    """``clip(round(x * (1 / scale) + zero_point), qmin, qmax)`` element by element, float64.

    Returns int64 values (the primitive stores them as int8 / uint8).
    """
    qmin, qmax = RANGES[dtype]
    values = _each(x, scale, zero_point, axis)
    out = [min(max(round(v * (1.0 / s) + z), qmin), qmax) for v, s, z in values]
    return np.array(out, dtype=np.int64).reshape(np.shape(x))


def dequantize_reference(q, scale, zero_point, *, axis=None):
    """``(q - zero_point) * scale`` element by element, float64."""
    out = [(v - z) * s for v, s, z in _each(q, scale, zero_point, axis)]
    return np.array(out, dtype=np.float64).reshape(np.shape(q))


def fake_quantize_reference(x, scale, zero_point, *, dtype="int8", axis=None):
    """``(clip(round(x * (1 / scale)) + zero_point, qmin, qmax) - zero_point) * scale``: the
    zero point added after rounding, as torch's fake-quantize kernels."""
    qmin, qmax = RANGES[dtype]
    values = _each(x, scale, zero_point, axis)
    out = [(min(max(round(v * (1.0 / s)) + z, qmin), qmax) - z) * s for v, s, z in values]
    return np.array(out, dtype=np.float64).reshape(np.shape(x))


def _each(x, scale, zero_point, axis):
    """(value, scale, zero point) of every element of `x` in C order, as Python numbers."""
    x = np.asarray(x)
    scale = np.asarray(scale, dtype=np.float64).reshape(-1)
    zero_point = np.asarray(zero_point).reshape(-1)
    triples = []
    for index in np.ndindex(x.shape):
        c = 0 if axis is None else index[axis]
        triples.append((float(x[index]), float(scale[c]), int(zero_point[c])))
    return triples


def quantize_nf4_reference(x, *, block_size=64):
    """NF4 codes (one uint8 per value, not packed) and the absmax of each block of the
    flattened `x`: each value divided by its block's absmax takes the nearest level."""
    flat = np.asarray(x, dtype=np.float64).reshape(-1)
    codes, absmax = [], []
    for start in range(0, flat.size, block_size):
        block = flat[start : start + block_size]
        top = float(np.max(np.abs(block)))
        absmax.append(top)
        for value in block:
            scaled = value / top if top > 0 else 0.0
            codes.append(int(np.argmin(np.abs(NF4_LEVELS - scaled))))  # the first on a tie
    return np.array(codes, dtype=np.uint8), np.array(absmax)


def dequantize_nf4_reference(codes, absmax, shape, *, block_size=64):
    """Each code's level times its block's absmax, in the given `shape` (float64)."""
    values = [
        NF4_LEVELS[int(code)] * float(absmax[i // block_size]) for i, code in enumerate(codes)
    ]
    return np.array(values).reshape(shape)


def quantized_linear_reference(x, q_weight, scale, bias=None):
    """``x @ (q_weight * scale) + bias`` with the weight dequantized column by column."""
    x = np.asarray(x, dtype=np.float64)
    q = np.asarray(q_weight, dtype=np.float64)
    scale = np.broadcast_to(np.asarray(scale, dtype=np.float64), (q.shape[1],))
    weight = np.stack([q[:, j] * scale[j] for j in range(q.shape[1])], axis=1)
    out = x @ weight
    return out if bias is None else out + np.asarray(bias, dtype=np.float64)
