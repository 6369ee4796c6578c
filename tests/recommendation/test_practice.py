"""``mlprims grade --primitive fm_interaction``: the O(F^2 K) pairwise sum in NumPy and the
O(F K) identity in torch (as DeepFM implementations write it) pass every property; the pairwise
term doubled (every ordered pair, or no 1/2) fails the property that names it.

Graded in this process through the command line with a few hypothesis examples per property
(tests/tools/test_practice.py tests the grader itself; the template of every spec too).
"""

from __future__ import annotations

import pytest

NUMPY = """\
import numpy as np


def fm_interaction(v, /):
    b, f, k = v.shape
    out = np.zeros(b, dtype=v.dtype)
    for i in range(f):
        for j in range(i + 1, f):
            out += np.sum(v[:, i, :] * v[:, j, :], axis=-1)
    return out
"""

TORCH = """\
import torch


def fm_interaction(v, /):
    square_of_sum = torch.sum(v, dim=1) ** 2
    sum_of_square = torch.sum(v**2, dim=1)
    return 0.5 * torch.sum(square_of_sum - sum_of_square, dim=1)
"""

PAIRS = "each pair of fields counted once"

#: A mistake: the correct file, one edit, the property that must catch it, words of its hint.
WRONG = {
    "numpy-ordered-pairs": (
        NUMPY,
        "for j in range(i + 1, f):\n",
        "for j in range(f):\n            if j == i:\n                continue\n",
        PAIRS,
        "counts every pair twice",
    ),
    "torch-no-half": (TORCH, "return 0.5 * torch.sum", "return torch.sum", PAIRS, "the 0.5"),
}


@pytest.mark.parametrize("source", [NUMPY, TORCH], ids=["numpy-pairs", "torch-identity"])
def test_a_correct_file_passes_every_property(grader, source: str) -> None:
    if source is TORCH:
        pytest.importorskip("torch")
    grader.passes_every_property(source, "fm_interaction")


@pytest.mark.parametrize("wrong", list(WRONG))
def test_a_classic_mistake_fails_the_property_that_names_it(grader, wrong: str) -> None:
    source, old, new, caught_by, hint = WRONG[wrong]
    if source is TORCH:
        pytest.importorskip("torch")
    assert old in source, "the mistake must be an edit of the correct file"
    grader.catches(source.replace(old, new, 1), "fm_interaction", caught_by, hint)
