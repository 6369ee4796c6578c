"""Check cases for mlprims.clustering, against the float64 loop oracles of
:mod:`mlprims.testing.oracles.clustering` (written as scikit-learn's Cython reads).

The data are well separated blobs, so float32 assigns every point as float64 does; labels and
``n_iter`` are integers and must match exactly.
"""

from __future__ import annotations

import numpy as np

from ...clustering import kmeans, kmeans_predict, kmeans_step
from ...testing import Case
from ...testing.oracles.clustering import (
    kmeans_predict_reference,
    kmeans_reference,
    kmeans_step_reference,
)

__all__ = ["CASES"]

#: The check cases of this family, in table order.
CASES: list[Case] = []

_SCALE = 5.0  # float32 centres: means of weighted sums over 60 points, 5x the default tolerance


def _blobs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    means = np.array([[0.0, 0.0, 0.0], [6.0, 0.0, 1.0], [0.0, 6.0, -1.0], [6.0, 6.0, 6.0]])
    x = (means[:, None, :] + rng.normal(size=(4, 15, 3))).reshape(60, 3)
    x = x[rng.permutation(60)]
    init = x[:5] + 0.0
    init[4] = 50.0  # attracts no point: relocated to the farthest one
    return {"x": x, "init": init, "sample_weight": rng.uniform(0.5, 2.0, size=60)}


CASES.append(Case(
    name="kmeans(init=array,sample_weight)", make_inputs=_blobs, scale=_SCALE,
    run=lambda x, init, sample_weight: tuple(
        kmeans(x, 5, init=init, sample_weight=sample_weight)
    ),
    reference=lambda x, init, sample_weight: kmeans_reference(
        x, init, sample_weight=sample_weight
    ),
))  # fmt: skip
CASES.append(Case(
    name="kmeans_step", make_inputs=_blobs, scale=_SCALE,
    run=lambda x, init, sample_weight: kmeans_step(x, init, sample_weight=sample_weight),
    reference=lambda x, init, sample_weight: kmeans_step_reference(x, init, sample_weight),
))  # fmt: skip
CASES.append(Case(
    name="kmeans_predict", make_inputs=_blobs,
    run=lambda x, init, sample_weight: kmeans_predict(x, init),
    reference=lambda x, init, sample_weight: kmeans_predict_reference(x, init),
))  # fmt: skip
