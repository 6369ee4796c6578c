"""Check cases for mlprims.convolution, against the float64 loop oracles of
:mod:`mlprims.testing.oracles.convolution` (shared with the tests)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...convolution import (
    adaptive_avg_pool2d,
    adaptive_max_pool2d,
    avg_pool2d,
    conv1d,
    conv2d,
    conv_transpose2d,
    max_pool2d,
)
from ...testing import Case
from ...testing.oracles.convolution import (
    adaptive_avg_pool2d_reference,
    adaptive_max_pool2d_reference,
    avg_pool2d_reference,
    conv2d_reference,
    conv_transpose2d_reference,
    max_pool2d_reference,
)

__all__ = ["CASES"]

#: The check cases of this family, in table order.
CASES: list[Case] = []

_SCALE = 5.0  # float32 sums of many products: five times the default tolerance


def _conv2d_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {
        "x": rng.normal(size=(2, 4, 7, 6)),
        "weight": rng.normal(size=(6, 2, 3, 2)),
        "bias": rng.normal(size=6),
    }


_CONV2D: dict[str, Any] = {
    "stride": (2, 1),
    "padding": ((1, 0), (2, 1)),
    "dilation": (1, 2),
    "groups": 2,
}

CASES.append(
    Case(
        name="conv2d(stride,padding,dilation,groups)",
        make_inputs=_conv2d_inputs,
        run=lambda x, weight, bias: conv2d(x, weight, bias, **_CONV2D),
        reference=lambda x, weight, bias: conv2d_reference(x, weight, bias, **_CONV2D),
        scale=_SCALE,
    )
)
CASES.append(
    Case(
        name="conv1d(stride=2,padding=1)",
        make_inputs=lambda rng: {
            "x": rng.normal(size=(2, 3, 9)),
            "weight": rng.normal(size=(4, 3, 3)),
        },
        run=lambda x, weight: conv1d(x, weight, stride=2, padding=1),
        reference=lambda x, weight: conv2d_reference(
            x[:, :, None, :], weight[:, :, None, :], stride=(1, 2), padding=(0, 1)
        )[:, :, 0, :],
        scale=_SCALE,
    )
)

_TRANSPOSE: dict[str, Any] = {
    "stride": 2,
    "padding": (1, 0),
    "output_padding": 1,
    "groups": 2,
    "dilation": (1, 2),
}

CASES.append(
    Case(
        name="conv_transpose2d(stride,padding,output_padding,groups,dilation)",
        make_inputs=lambda rng: {
            "x": rng.normal(size=(2, 4, 5, 4)),
            "weight": rng.normal(size=(4, 3, 3, 2)),
            "bias": rng.normal(size=6),
        },
        run=lambda x, weight, bias: conv_transpose2d(x, weight, bias, **_TRANSPOSE),
        reference=lambda x, weight, bias: conv_transpose2d_reference(x, weight, bias, **_TRANSPOSE),
        scale=_SCALE,
    )
)


def _pool_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {"x": rng.normal(size=(2, 3, 9, 8))}


_MAX_POOL: dict[str, Any] = {"stride": 2, "padding": 1, "dilation": (1, 2), "ceil_mode": True}
_AVG_POOL: dict[str, Any] = {
    "stride": (2, 3),
    "padding": 1,
    "ceil_mode": True,
    "count_include_pad": False,
}

CASES.append(
    Case(
        name="max_pool2d(3,stride=2,padding=1,dilation,ceil_mode)",
        make_inputs=_pool_inputs,
        run=lambda x: max_pool2d(x, 3, **_MAX_POOL),
        reference=lambda x: max_pool2d_reference(x, 3, **_MAX_POOL)[0],
        scale=_SCALE,
    )
)
CASES.append(
    Case(
        name="avg_pool2d(3,ceil_mode,count_include_pad=False)",
        make_inputs=_pool_inputs,
        run=lambda x: avg_pool2d(x, 3, **_AVG_POOL),
        reference=lambda x: avg_pool2d_reference(x, 3, **_AVG_POOL),
        scale=_SCALE,
    )
)
CASES.append(
    Case(
        name="adaptive_max_pool2d((4,3))",
        make_inputs=_pool_inputs,
        run=lambda x: adaptive_max_pool2d(x, (4, 3)),
        reference=lambda x: adaptive_max_pool2d_reference(x, (4, 3))[0],
        scale=_SCALE,
    )
)
CASES.append(
    Case(
        name="adaptive_avg_pool2d((5,3))",
        make_inputs=_pool_inputs,
        run=lambda x: adaptive_avg_pool2d(x, (5, 3)),
        reference=lambda x: adaptive_avg_pool2d_reference(x, (5, 3)),
        scale=_SCALE,
    )
)
