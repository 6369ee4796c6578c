"""Properties of fm_interaction: each unordered pair of fields once, no pair with one field."""

from __future__ import annotations

from typing import Any

import numpy as np

import mlprims

from ._spec import Call, Property, Spec, composite, dtypes, floats, st

__all__ = ["SPECS"]

PAIRS = (
    "each unordered pair of fields once: sum_{i<j} <v_i, v_j> = 0.5 * sum_k((sum_f v)^2 - "
    "sum_f v^2); a sum over ordered pairs (i != j), or the difference without the 0.5, counts "
    "every pair twice"
)


@composite
def _fields(draw: Any, *, one: bool = False) -> Call:
    """(B, F, K) embeddings: F 2 to 5 fields, or a single one."""
    dtype = draw(dtypes())
    b, k = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    f = 1 if one else draw(st.integers(2, 5))
    return Call((draw(floats((b, f, k), dtype, bound=2.0)),), {}, dtype)


def _fixed() -> Call:
    """Three fields whose pairs sum to 2.5 (4 + 1 - 2.5); ordered pairs give 5."""
    return Call((np.array([[[1.0, 2.0], [3.0, 0.5], [-1.0, 1.0]]]),), {}, "float64")


FM_INTERACTION = Spec(
    name="fm_interaction",
    function=mlprims.fm_interaction,
    parameters=("v",),
    returns="array (B,): one value per example, in the dtype of `v`.",
    parameter_docs={
        "v": "v : array (B, F, K), real floating\n    F field embeddings of width K per example.",
    },
    notes="The second-order term of a factorization machine (Rendle 2010)::\n\n"
    "    sum_{i<j} <v_i, v_j> = 0.5 * sum_k ((sum_f v[:, f, k])^2 - sum_f v[:, f, k]^2)\n\n"
    "the square of the sum takes every pair twice plus the diagonal; the sum of squares\n"
    "takes the diagonal out: O(F K) work instead of the O(F^2 K) loop over the pairs.",
    properties=(
        Property("each pair of fields counted once", _fields(), PAIRS, examples=(_fixed(),)),
        Property(
            "a single field has no pair",
            _fields(one=True),
            "with F = 1 there is no pair of fields: the term is 0 (the square of the sum is the "
            "sum of squares)",
        ),
    ),
)

SPECS = [FM_INTERACTION]
