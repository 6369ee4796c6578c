"""``mlprims grade --primitive fake_quantize``: correct learner files in NumPy and torch and
torch's own fake_quantize_per_*_affine pass every property; the classic mistakes (round half
up, no clamp, the zero point's sign, one range for every type) fail the property that names
them, first.

Graded in this process through the command line with a few hypothesis examples per property
(tests/tools/test_practice.py tests the grader itself; the template of every spec too).
"""

from __future__ import annotations

import pytest

NUMPY = """\
import numpy as np

RANGES = {"int8": (-128, 127), "uint8": (0, 255), "int4": (-8, 7), "uint4": (0, 15)}


def fake_quantize(x, scale, zero_point, /, *, dtype="int8", axis=None):
    qmin, qmax = RANGES[dtype]
    scale, zero_point = np.asarray(scale), np.asarray(zero_point)
    if axis is not None:
        shape = [1] * x.ndim
        shape[axis] = -1
        scale, zero_point = scale.reshape(shape), zero_point.reshape(shape)
    q = np.round(x / scale) + zero_point
    return ((np.clip(q, qmin, qmax) - zero_point) * scale).astype(x.dtype)
"""

TORCH = """\
import torch

RANGES = {"int8": (-128, 127), "uint8": (0, 255), "int4": (-8, 7), "uint4": (0, 15)}


def fake_quantize(x, scale, zero_point, /, *, dtype="int8", axis=None):
    qmin, qmax = RANGES[dtype]
    scale, zero_point = torch.as_tensor(scale, dtype=x.dtype), torch.as_tensor(zero_point)
    if axis is not None:
        shape = [1] * x.ndim
        shape[axis] = -1
        scale, zero_point = scale.reshape(shape), zero_point.reshape(shape)
    q = torch.round(x / scale) + zero_point
    return (torch.clamp(q, qmin, qmax) - zero_point) * scale
"""

#: torch's own ops (they compute float64 input in float32: the grid keeps that exact).
NATIVE = """\
import torch

RANGES = {"int8": (-128, 127), "uint8": (0, 255), "int4": (-8, 7), "uint4": (0, 15)}


def fake_quantize(x, scale, zero_point, /, *, dtype="int8", axis=None):
    qmin, qmax = RANGES[dtype]
    if axis is None:
        return torch.fake_quantize_per_tensor_affine(x, scale, zero_point, qmin, qmax)
    return torch.fake_quantize_per_channel_affine(
        x, scale.float(), zero_point.int(), axis % x.ndim, qmin, qmax
    )
"""

ROUNDING = "int8, zero point 0, inside the range"
CLAMP = "values beyond the range"
ZERO_POINT = "int8 with a zero point"
RANGE = "uint8, int4, uint4"

#: A mistake: the correct file, one edit, the property that must catch it, words of its hint.
WRONG = {
    "numpy-round-half-up": (
        NUMPY,
        "np.round(x / scale)",
        "np.floor(x / scale + 0.5)",
        ROUNDING,
        "round half to even",
    ),
    "numpy-no-clamp": (NUMPY, "np.clip(q, qmin, qmax)", "q", CLAMP, "is clamped to [qmin, qmax]"),
    "numpy-zero-point-sign": (
        NUMPY,
        "np.round(x / scale) + zero_point\n    return ((np.clip(q, qmin, qmax) - zero_point)",
        "np.round(x / scale) - zero_point\n    return ((np.clip(q, qmin, qmax) + zero_point)",
        ZERO_POINT,
        "the zero point is added to the rounded value",
    ),
    "numpy-int8-range-for-all": (NUMPY, "RANGES[dtype]", "RANGES['int8']", RANGE, "int4 [-8, 7]"),
    "torch-round-half-up": (
        TORCH,
        "torch.round(x / scale)",
        "torch.floor(x / scale + 0.5)",
        ROUNDING,
        "round(2.5) = 2",
    ),
    "torch-no-clamp": (TORCH, "torch.clamp(q, qmin, qmax)", "q", CLAMP, "before the zero point"),
}


@pytest.mark.parametrize("source", [NUMPY, TORCH, NATIVE], ids=["numpy", "torch", "native"])
def test_a_correct_file_passes_every_property(grader, source: str) -> None:
    if source is not NUMPY:
        pytest.importorskip("torch")
    grader.passes_every_property(source, "fake_quantize")


@pytest.mark.parametrize("wrong", list(WRONG))
def test_a_classic_mistake_fails_the_property_that_names_it(grader, wrong: str) -> None:
    source, old, new, caught_by, hint = WRONG[wrong]
    if source is TORCH:
        pytest.importorskip("torch")
    assert old in source, "the mistake must be an edit of the correct file"
    grader.catches(source.replace(old, new, 1), "fake_quantize", caught_by, hint)
