"""Check cases for mlprims.models: the CNN against float64 loops built from the convolution
oracles of :mod:`mlprims.testing.oracles.convolution` (conv, max-pool, then NumPy relu and
matmul)."""

from __future__ import annotations

import numpy as np

from ...models import cnn
from ...testing import Case
from ...testing.oracles.convolution import conv2d_reference, max_pool2d_reference

__all__ = ["CASES"]

#: The check cases of this family, in table order.
CASES: list[Case] = []

_SCALE = 5.0  # float32 sums of many products: five times the default tolerance
_PADDING = 1  # 2x2 kernels: 6x6 -> 7 -> 3 (floor) -> 4 -> 2, so 4 channels leave 16 features


def _cnn_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {
        "x": rng.normal(size=(2, 2, 6, 6)),
        "conv1_w": rng.normal(size=(3, 2, 2, 2)),
        "conv1_b": rng.normal(size=3),
        "conv2_w": rng.normal(size=(4, 3, 2, 2)),
        "conv2_b": rng.normal(size=4),
        "linear_w": rng.normal(size=(16, 5)),
        "linear_b": rng.normal(size=5),
    }


def _cnn_reference(x, **params):
    h = x
    for i in (1, 2):
        h = conv2d_reference(h, params[f"conv{i}_w"], params[f"conv{i}_b"], padding=_PADDING)
        h = np.maximum(max_pool2d_reference(h, 2)[0], 0.0)
    return h.reshape(h.shape[0], -1) @ params["linear_w"] + params["linear_b"]


CASES.append(
    Case(
        name="cnn(2 blocks,padding=1)",
        make_inputs=_cnn_inputs,
        run=lambda x, **params: cnn(params, x, padding=_PADDING),
        reference=_cnn_reference,
        scale=_SCALE,
    )
)
