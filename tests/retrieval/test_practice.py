"""``mlprims grade --primitive knn_search``: a correct learner file (NumPy, chunked as the spec
asks) passes every property; the classic mistakes fail the property that names them.

Graded in this process through the command line with a few hypothesis examples per property
(tests/tools/test_practice.py tests the grader itself; the template of every spec too).
"""

from __future__ import annotations

import pytest

NUMPY = """\
import numpy as np


def knn_search(queries, database, /, k, *, metric="l2", chunk_size=None):
    if metric == "cosine":
        unit = lambda a: a / np.where((n := np.linalg.norm(a, axis=1, keepdims=True)) > 0, n, 1)
        queries, database = unit(queries), unit(database)
    n = database.shape[0]
    chunk = n if chunk_size is None else max(chunk_size, k)
    best_d = best_i = None
    for start in range(0, n, chunk):
        rows = database[start : start + chunk]
        if metric == "l2":
            d = ((queries[:, None, :] - rows[None, :, :]) ** 2).sum(-1)
        else:
            d = -(queries @ rows.T)
        i = np.broadcast_to(np.arange(start, start + len(rows)), d.shape)
        if best_d is not None:
            d, i = np.concatenate([best_d, d], axis=1), np.concatenate([best_i, i], axis=1)
        order = np.argsort(d, axis=1, kind="stable")[:, :k]
        best_d, best_i = np.take_along_axis(d, order, 1), np.take_along_axis(i, order, 1)
    return (best_d if metric == "l2" else -best_d), best_i
"""

#: faiss' own flat indexes rank the whole database (in float32: every L2 distance and inner
#: product here is a small exact integer); around them, the distances are recomputed in the
#: inputs' dtype (cosines are not exact in float32) and equal distances put lower index first
#: before the first k are kept: IndexFlatIP breaks ties by its min-heap's history (of
#: [-1, -1, 0] it keeps indices 2 and 1; tests/retrieval/test_knn.py shows it), IndexFlatL2 lower
#: index first. chunk_size: memory only.
FAISS = """\
import faiss
import numpy as np


def knn_search(queries, database, /, k, *, metric="l2", chunk_size=None):
    if metric == "cosine":
        unit = lambda a: a / np.where((n := np.linalg.norm(a, axis=1, keepdims=True)) > 0, n, 1)
        queries, database = unit(queries), unit(database)
    x = np.ascontiguousarray(database, dtype=np.float32)
    index = faiss.IndexFlatL2(x.shape[1]) if metric == "l2" else faiss.IndexFlatIP(x.shape[1])
    index.add(x)
    _, indices = index.search(np.ascontiguousarray(queries, dtype=np.float32), len(x))
    rows = database[indices]  # (Q, N, D): every row, by faiss' rank
    if metric == "l2":
        distances = ((queries[:, None, :] - rows) ** 2).sum(-1)
        order = np.lexsort((indices, distances), axis=1)[:, :k]
    else:
        distances = (queries[:, None, :] * rows).sum(-1)
        order = np.lexsort((indices, -distances), axis=1)[:, :k]
    return np.take_along_axis(distances, order, 1), np.take_along_axis(indices, order, 1)
"""

#: A mistake: the correct file, one edit, the property that must catch it, words of its hint.
WRONG = {
    "distances-not-squared": (
        "    return (best_d if",
        "    return (np.sqrt(best_d) if",
        "squared L2, nearest first",
        "no square root",
    ),
    "ties-out-of-index-order": (
        'np.argsort(d, axis=1, kind="stable")[:, :k]',
        'np.argsort(-d, axis=1, kind="stable")[:, ::-1][:, :k]',
        "equal distances: the lower index first",
        "argsort(scores)[::-1]",
    ),
    "chunk-before-the-running-best": (
        "np.concatenate([best_d, d], axis=1), np.concatenate([best_i, i], axis=1)",
        "np.concatenate([d, best_d], axis=1), np.concatenate([i, best_i], axis=1)",
        "database in chunks (chunk_size)",
        "the running ones first",
    ),
}


@pytest.mark.parametrize("source", [NUMPY, FAISS], ids=["numpy", "faiss"])
def test_a_correct_file_passes_every_property(grader, source: str) -> None:
    if source is FAISS:
        pytest.importorskip("faiss")
    grader.passes_every_property(source, "knn_search")


@pytest.mark.parametrize("wrong", list(WRONG))
def test_a_classic_mistake_fails_the_property_that_names_it(grader, wrong: str) -> None:
    old, new, caught_by, hint = WRONG[wrong]
    assert old in NUMPY, "the mistake must be an edit of the correct file"
    grader.catches(NUMPY.replace(old, new, 1), "knn_search", caught_by, hint)
