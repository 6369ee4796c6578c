"""Check cases for mlprims.pruning, against the float64 oracles of
:mod:`mlprims.testing.oracles.pruning` (shared with the tests): masks compared exactly."""

from __future__ import annotations

import math

import numpy as np

from ...pruning import magnitude_prune, prune, structured_prune
from ...testing import Case
from ...testing.oracles.pruning import (
    magnitude_prune_reference,
    prune_reference,
    structured_prune_reference,
)

__all__ = ["CASES"]

#: The check cases of this family, in table order.
CASES: list[Case] = []


def _weight(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """A conv2d-shaped weight (O, I, kH, kW); normal draws: no two magnitudes or norms tie."""
    return {"w": rng.normal(size=(8, 3, 3, 3))}


for _amount in (0.3, 100):
    CASES.append(
        Case(
            name=f"magnitude_prune({'fraction' if isinstance(_amount, float) else 'count'})",
            make_inputs=_weight,
            run=lambda w, a=_amount: magnitude_prune(w, amount=a),
            reference=lambda w, a=_amount: magnitude_prune_reference(w, amount=a),
        )
    )
for _n, _axis in ((2, 0), (1, 1), (math.inf, 0)):
    CASES.append(
        Case(
            name=f"structured_prune(n={_n}, axis={_axis})",
            make_inputs=_weight,
            run=lambda w, n=_n, axis=_axis: structured_prune(w, amount=0.5, n=n, axis=axis),
            reference=lambda w, n=_n, axis=_axis: structured_prune_reference(
                w, amount=0.5, n=n, axis=axis
            ),
        )
    )
CASES.append(
    Case(
        name="prune",
        make_inputs=lambda rng: {"w": rng.normal(size=(6, 5)), "mask": rng.uniform(size=(6, 5))},
        run=lambda w, mask: prune(w, mask > 0.5),
        reference=lambda w, mask: prune_reference(w, mask > 0.5),
    )
)
