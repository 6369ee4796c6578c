"""Properties of magnitude_prune: which entries (the smallest |w|), how many (a count, or
round(amount * size) with Python's round), nothing and everything."""

from __future__ import annotations

from typing import Any

import numpy as np

import mlprims

from ._spec import Call, Property, Spec, composite, dtypes, hnp, st

__all__ = ["SPECS"]

SMALLEST = (
    "the k entries of SMALLEST |w| are pruned (mask False), the others kept (True): sort |w| "
    "ascending, not the signed values and not descending"
)
ROUND = (
    "a float amount prunes k = round(amount * w.size) entries with Python's round (half to "
    "even: 2.5 -> 2, 3.5 -> 4), never floor or int(amount * w.size)"
)


def _fixed(amount: float | int) -> Call:
    """8 distinct magnitudes, signs mixed. With a float amount where amount * 8 ends in .5,
    floor and round half up each differ from Python's round at one of 0.3125 (2.5 -> 2) and
    0.4375 (3.5 -> 4)."""
    w = np.array([[0.5, -0.125, 2.0, -1.5], [0.25, 3.0, -0.75, 1.0]])
    return Call((w,), {"amount": amount}, "float64")


@composite
def _weights(draw: Any, *, count: bool = False, ends: bool = False) -> Call:
    """A weight with distinct magnitudes (no tie to break) and random signs."""
    dtype = draw(dtypes())
    shape = draw(st.sampled_from([(8,), (3, 4), (2, 3, 2), (4, 5)]))
    size = int(np.prod(shape))
    magnitudes = (
        draw(hnp.arrays(np.float64, size, elements=st.integers(1, 10_000), unique=True)) / 64.0
    )  # distinct and exact in float32
    signs = draw(hnp.arrays(np.bool_, size))
    w = np.where(signs, -magnitudes, magnitudes).reshape(shape).astype(dtype)
    if count:
        amount: float | int = draw(st.integers(0, size))
    elif ends:
        amount = draw(st.sampled_from([0.0, 1.0]))
    else:
        amount = draw(st.floats(0.0, 1.0))
    return Call((w,), {"amount": amount}, dtype)


MAGNITUDE_PRUNE = Spec(
    name="magnitude_prune",
    function=mlprims.magnitude_prune,
    parameters=("w", "amount"),
    returns="array of bool, the shape of `w`: True where the entry is kept.",
    notes="k = amount if amount is an int, else round(amount * w.size) (Python's round, half to\n"
    "even); the k entries of smallest |w| are pruned (False), as\n"
    "torch.nn.utils.prune.l1_unstructured's weight_mask. The drawn weights have distinct\n"
    "magnitudes, so which entries are the k smallest is never a choice.",
    properties=(
        Property(
            "an int amount: prune that many",
            _weights(count=True),
            SMALLEST,
            examples=(_fixed(3),),
        ),
        Property(
            "a float amount: the fraction pruned",
            _weights(),
            ROUND,
            examples=(_fixed(0.3125), _fixed(0.4375)),
        ),
        Property(
            "amount 0.0 and 1.0: nothing and everything",
            _weights(ends=True),
            "amount=0.0 keeps every entry and amount=1.0 prunes them all (1.0 is a fraction, "
            "not a count)",
        ),
    ),
)

SPECS = [MAGNITUDE_PRUNE]
