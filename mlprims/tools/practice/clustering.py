"""Properties of kmeans from given initial centres: Lloyd steps, max_iter, empty clusters."""

from __future__ import annotations

from typing import Any

import numpy as np

import mlprims

from ._spec import Call, Property, Spec, assume, composite, hnp, st

__all__ = ["SPECS"]

OUTPUTS = ("centers", "labels", "inertia")


def _outputs(result: Any) -> dict[str, Any]:
    return dict(zip(OUTPUTS, tuple(result)[:3], strict=False))


def _clear_assignments(x: np.ndarray, init: np.ndarray, max_iter: int) -> bool:
    """Whether every point's nearest centre is clear (by more than rounding) at every Lloyd
    step: a point as far from two centres goes to the lower index by the specification, but
    scikit-learn's |x|^2 - 2 x.c + |c|^2 distances round that tie either way."""
    centers, step = init, 0
    while True:
        distances = np.sort(((x[:, None, :] - centers[None, :, :]) ** 2).sum(-1), axis=1)
        if distances.shape[1] > 1 and np.any(distances[:, 1] - distances[:, 0] < 1e-6):
            return False
        if step == max_iter:
            return True
        step += 1
        result = mlprims.kmeans(x, len(init), init=init, max_iter=step, tol=0.0)
        if int(result.n_iter) < step:  # converged before: these centres are the last
            return True
        centers = np.asarray(result.centers)


@composite
def _kmeans(draw: Any, *, steps: bool = False, empty: bool = False) -> Call:
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
        # Which of equally far points the empty cluster takes is a free choice (scikit-learn's
        # argpartition leaves it open), so the farthest point is unique.
        own = ((x[:, None, :] - init[None, :-1, :]) ** 2).sum(-1).min(axis=1)
        assume(np.sum(own == own.max()) == 1)
    max_iter = draw(st.integers(1, 3)) if steps else 300
    assume(_clear_assignments(x, init, max_iter))
    # float64 only: a float32 near-tie between two centres could flip a label
    return Call((x, k), {"init": init, "max_iter": max_iter, "tol": 0.0}, "float64")


#: One Lloyd step moves the second centre from 1 to 6, which takes points 1 and 2 from it: the
#: labels of the step's start ([0, 1, 1, 1, 1]) are not those of the returned centres.
STALE = Call(
    (np.array([[0.0], [1.0], [2.0], [10.0], [11.0]]), 2),
    {"init": np.array([[0.0], [1.0]]), "max_iter": 1, "tol": 0.0},
    "float64",
)


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
            "assign to the nearest centre, move centres to the means, until the labels settle; "
            "return (centres, labels, inertia) in this order",
        ),
        Property(
            "max_iter Lloyd steps",
            _kmeans(steps=True),
            "stop after max_iter updates of the centres; then label with the returned centres "
            "(not the labels from before the last update)",
            examples=(STALE,),
        ),
        Property(
            "empty cluster relocated",
            _kmeans(empty=True),
            "a centre with no point moves to the point farthest from its centre "
            "(scikit-learn's rule), never to NaN (mean of nothing)",
        ),
    ),
)

SPECS = [KMEANS]
