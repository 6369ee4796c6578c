"""Check cases for mlprims.retrieval, against the brute-force float64 oracle of
:mod:`mlprims.testing.oracles.retrieval` (shared with the tests).

L2 runs on small whole-number vectors: every squared distance is an exact integer in float32
too, so the order (and the many ties, lower index first) is the same in every dtype. The inner
products run on Gaussian vectors, whose scores are far apart compared with float32's rounding.
"""

from __future__ import annotations

import numpy as np

from ...retrieval import knn_search
from ...testing import Case
from ...testing.oracles.retrieval import knn_search_reference

__all__ = ["CASES"]

#: The check cases of this family, in table order.
CASES: list[Case] = []

Q, N, D, K = 6, 50, 4, 5


def _whole(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {
        "queries": rng.integers(-3, 4, size=(Q, D)).astype(np.float64),
        "database": rng.integers(-3, 4, size=(N, D)).astype(np.float64),
    }


def _gaussian(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {"queries": rng.normal(size=(Q, D)), "database": rng.normal(size=(N, D))}


for _metric, _chunk, _make in (
    ("l2", None, _whole),
    ("l2", 16, _whole),
    ("ip", 16, _gaussian),
    ("cosine", None, _gaussian),
):
    CASES.append(
        Case(
            name=f"knn_search({_metric},k={K}{'' if _chunk is None else f',chunk={_chunk}'})",
            make_inputs=_make,
            run=lambda queries, database, m=_metric, c=_chunk: knn_search(
                queries, database, K, metric=m, chunk_size=c
            ),
            reference=lambda queries, database, m=_metric: knn_search_reference(
                queries, database, K, metric=m
            ),
        )
    )
