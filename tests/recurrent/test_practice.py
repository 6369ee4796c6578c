"""``mlprims grade --primitive lstm_cell``: correct learner files in NumPy and torch and torch's own
nn.LSTMCell pass every property; the classic mistakes fail the property that names them.

Graded in this process through the command line with a few hypothesis examples per property
(tests/tools/test_practice.py tests the grader itself; the template of every spec too).
"""

from __future__ import annotations

import pytest

NUMPY = """\
import numpy as np


def sigmoid(a):
    return 0.5 * np.tanh(0.5 * a) + 0.5


def lstm_cell(params, x, hx=None, /):
    hidden = params["w_hh"].shape[0]
    if hx is None:
        h = c = np.zeros((*x.shape[:-1], hidden), dtype=x.dtype)
    else:
        h, c = hx
    a = x @ params["w_ih"] + params["b_ih"] + h @ params["w_hh"] + params["b_hh"]
    i, f, g, o = (a[..., k * hidden:(k + 1) * hidden] for k in range(4))
    i, f, g, o = sigmoid(i), sigmoid(f), np.tanh(g), sigmoid(o)
    c = f * c + i * g
    h = o * np.tanh(c)
    return h, c
"""

TORCH = """\
import torch


def lstm_cell(params, x, hx=None, /):
    hidden = params["w_hh"].shape[0]
    if hx is None:
        h = c = torch.zeros((*x.shape[:-1], hidden), dtype=x.dtype)
    else:
        h, c = hx
    a = x @ params["w_ih"] + params["b_ih"] + h @ params["w_hh"] + params["b_hh"]
    i, f, g, o = a.chunk(4, dim=-1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c
"""

#: torch's own nn.LSTMCell with the graded weights copied in (its layout is the transpose).
NATIVE = """\
import torch


def lstm_cell(params, x, hx=None, /):
    d_in, hidden = params["w_ih"].shape[0], params["w_hh"].shape[0]
    cell = torch.nn.LSTMCell(d_in, hidden, dtype=x.dtype)
    with torch.no_grad():
        cell.weight_ih.copy_(params["w_ih"].T)
        cell.weight_hh.copy_(params["w_hh"].T)
        cell.bias_ih.copy_(params["b_ih"])
        cell.bias_hh.copy_(params["b_hh"])
        return cell(x, hx)
"""

ZERO = "(N, H_in) input, zero state"
STATE = "a given state (h, c)"

#: A mistake: the correct file, one edit, the property that must catch it, words of its hint.
WRONG = {
    "numpy-gate-order-ifog": (
        NUMPY, "i, f, g, o = (a[", "i, f, o, g = (a[", ZERO, "not i, f, o, g",
    ),
    "torch-gate-order-ifog": (
        TORCH, "i, f, g, o = a.chunk", "i, f, o, g = a.chunk", ZERO, "not i, f, o, g",
    ),
    "numpy-no-tanh-on-the-cell": (NUMPY, "h = o * np.tanh(c)", "h = o * c", ZERO, "tanh(c')"),
    "numpy-no-forget-gate": (NUMPY, "c = f * c + i * g", "c = i * g", STATE, "never dropped"),
    "torch-forget-gate-unused": (
        TORCH, "torch.sigmoid(f) * c +", "c +", STATE, "nor kept unscaled",
    ),
}  # fmt: skip


@pytest.mark.parametrize("source", [NUMPY, TORCH, NATIVE], ids=["numpy", "torch", "nn.LSTMCell"])
def test_a_correct_file_passes_every_property(grader, source: str) -> None:
    if source is not NUMPY:
        pytest.importorskip("torch")
    grader.passes_every_property(source, "lstm_cell")


@pytest.mark.parametrize("wrong", list(WRONG))
def test_a_classic_mistake_fails_the_property_that_names_it(grader, wrong: str) -> None:
    source, old, new, caught_by, hint = WRONG[wrong]
    if source is TORCH:
        pytest.importorskip("torch")
    assert old in source, "the mistake must be an edit of the correct file"
    grader.catches(source.replace(old, new, 1), "lstm_cell", caught_by, hint)


def test_the_forget_gate_mistake_fails_nothing_else(grader) -> None:
    """Without the forget gate the zero state still passes: only the state properties fail."""
    source, old, new, _, _ = WRONG["numpy-no-forget-gate"]
    _, out = grader.run(source.replace(old, new, 1), "lstm_cell", "--no-shrink")
    failed = [p for p, v in grader.verdicts(out).items() if v == "FAILED"]
    assert failed == [STATE, "unbatched (H_in,) input"]
