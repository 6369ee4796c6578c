"""Check cases for mlprims.normalization, against the float64 oracles of
:mod:`mlprims.testing.oracles.normalization` (shared with the tests)."""

from __future__ import annotations

import numpy as np

from ..._array import namespace
from ...normalization import batch_norm, group_norm, layer_norm, rms_norm
from ...testing import Case
from ...testing.oracles.normalization import (
    batch_norm_reference,
    group_norm_reference,
    layer_norm_reference,
    rms_norm_reference,
)

__all__ = ["CASES"]

#: The check cases of this family, in table order.
CASES: list[Case] = []


def _batch_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {
        "x": rng.normal(3.0, 2.0, (4, 3, 5, 2)),
        "running_mean": rng.normal(size=3),
        "running_var": rng.uniform(0.5, 2.0, 3),
        "weight": rng.normal(size=3),
        "bias": rng.normal(size=3),
    }


def _batch_case(name: str, *, training: bool, channels_last: bool) -> Case:
    def run(x, running_mean, running_var, weight, bias):
        if channels_last:
            x = namespace(x).permute_dims(x, (0, 2, 3, 1))  # (N, C, H, W) -> (N, H, W, C)
        axis = -1 if channels_last else 1
        out = batch_norm(x, running_mean, running_var, weight, bias, training=training, axis=axis)
        return tuple(out)

    def reference(x, running_mean, running_var, weight, bias):
        if channels_last:
            x = np.moveaxis(x, 1, -1)
        axis = -1 if channels_last else 1
        return batch_norm_reference(
            x, running_mean, running_var, weight, bias, training=training, axis=axis
        )

    return Case(name=name, make_inputs=_batch_inputs, run=run, reference=reference)


def _large_mean_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    # Rows with mean 1e4 and std 1e-2: E[x^2] - E[x]^2 and even torch's float32 layer_norm
    # lose the answer here; the shifted two-pass algorithm keeps it.
    return {"x": 1e4 + 1e-2 * rng.standard_normal((8, 256))}


CASES.append(_batch_case("batch_norm(train)", training=True, channels_last=False))
CASES.append(_batch_case("batch_norm(eval)", training=False, channels_last=False))
CASES.append(_batch_case("batch_norm(channels_last)", training=True, channels_last=True))
CASES.append(
    Case(
        name="layer_norm",
        make_inputs=lambda rng: {
            "x": rng.normal(1.0, 3.0, (4, 6, 16)),
            "weight": rng.normal(size=16),
            "bias": rng.normal(size=16),
        },
        run=lambda x, weight, bias: layer_norm(x, 16, weight, bias),
        reference=lambda x, weight, bias: layer_norm_reference(x, 16, weight, bias),
    )
)
CASES.append(
    Case(
        name="layer_norm(mean=1e4,std=1e-2)",
        make_inputs=_large_mean_inputs,
        run=lambda x: layer_norm(x, 256),
        reference=lambda x: layer_norm_reference(x, 256),
        dtypes=("float32",),  # the float32 case is the point; float64 is covered above
        scale=5.0,
    )
)
CASES.append(
    Case(
        name="rms_norm",
        make_inputs=lambda rng: {
            "x": rng.normal(1.0, 2.0, (4, 3, 8)),
            "weight": rng.normal(size=8),
        },
        run=lambda x, weight: rms_norm(x, 8, weight, eps=1e-6),
        reference=lambda x, weight: rms_norm_reference(x, 8, weight, eps=1e-6),
    )
)


CASES.append(
    Case(
        name="group_norm",
        make_inputs=lambda rng: {
            "x": rng.normal(2.0, 1.5, (3, 4, 5, 2)),
            "weight": rng.normal(size=4),
            "bias": rng.normal(size=4),
        },
        run=lambda x, weight, bias: group_norm(x, 2, weight, bias),
        reference=lambda x, weight, bias: group_norm_reference(x, 2, weight, bias),
    )
)
