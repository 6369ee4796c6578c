"""Properties of kmeans from given initial centres: Lloyd steps, max_iter, empty clusters."""

from __future__ import annotations

from typing import Any

import numpy as np

import mlprims

from ._spec import Case, Property, Spec, composite, hnp, st

__all__ = ["SPECS"]

OUTPUTS = ("centers", "labels", "inertia")


def _outputs(result: Any) -> dict[str, Any]:
    return dict(zip(OUTPUTS, tuple(result)[:3], strict=False))


@composite
def _kmeans(draw: Any, *, steps: bool = False, empty: bool = False) -> Case:
    n, d = draw(st.integers(3, 10)), draw(st.integers(1, 3))
    # Points on a grid of quarters: every squared distance is exact whichever way it is
    # computed, so equal distances are exact ties (lowest index wins), never rounding. Distinct
    # points: with k < n some point is off every centre, so relocation has a farthest point.
    grid = hnp.arrays(np.int64, (n, d), elements=st.integers(-20, 20)).map(lambda a: a / 4.0)
    x = draw(grid.filter(lambda a: len(np.unique(a, axis=0)) == len(a)))
    k = draw(st.integers(1, min(n, 4)) if not empty else st.integers(2, min(n, 4)))
    init = x[np.array(draw(st.permutations(range(n))))[:k]]
    if empty:
        init[-1] = 100.0  # far from every point: no point picks it in the first step
    max_iter = draw(st.integers(1, 3)) if steps else 300
    # float64 only: a float32 near-tie between two centres could flip a label
    return Case((x, k), {"init": init, "max_iter": max_iter, "tol": 0.0}, "float64")


KMEANS = Spec(
    name="kmeans",
    function=mlprims.kmeans,
    parameters=("x", "n_clusters", "init", "max_iter", "tol"),
    outputs=_outputs,
    parameter_docs={
        "init": "init : array of shape (n_clusters, n_features)\n    The initial centres.",
    },
    returns="(centers, labels, inertia): centres (n_clusters, n_features), integer labels\n"
    "(n_samples,), inertia a 0-d array (a tuple of three, or mlprims' KMeansResult).",
    notes="Lloyd's algorithm from the centres `init` (an array here): repeat at most `max_iter`\n"
    "times: label each point with its nearest centre (the lowest index among equals), move\n"
    "each centre to the mean of its points; stop early when the squared centre shift is\n"
    "<= tol * mean(var(x, axis=0)) (with tol=0: when the labels stop changing). A centre\n"
    "with no point moves to the point farthest from its own centre (scikit-learn; the next\n"
    "farthest for a second empty cluster). Returned labels and inertia\n"
    "sum_i |x_i - centers[labels_i]|^2 are those of the returned centres.",
    properties=(
        Property(
            "converged centres from init",
            _kmeans(),
            "assign to the nearest centre, move centres to the means, until the labels settle",
        ),
        Property(
            "max_iter Lloyd steps",
            _kmeans(steps=True),
            "stop after max_iter updates of the centres; then label with the returned centres",
        ),
        Property(
            "empty cluster relocated",
            _kmeans(empty=True),
            "a centre with no point moves to the point farthest from its centre "
            "(scikit-learn's rule), never to NaN (mean of nothing)",
        ),
    ),
)

SPECS = {KMEANS.name: KMEANS}
