"""Properties of lstm_cell: torch's gate order i, f, g, o, the forget gate on the old cell state,
tanh on the new cell state before the output gate, unbatched inputs."""

from __future__ import annotations

from typing import Any

import numpy as np

import mlprims

from ._spec import Call, Property, Spec, composite, dtypes, floats, st

__all__ = ["SPECS"]

OUTPUTS = ("h", "c")
GATES = (
    "a = x @ w_ih + b_ih + h @ w_hh + b_hh is split into four blocks of H in torch's order "
    "i, f, g, o (input, forget, cell candidate, output; not i, f, o, g): i, f and o through "
    "sigmoid, g through tanh; then c' = f * c + i * g and h' = o * tanh(c'), the tanh of the "
    "new cell state, not c' itself"
)
FORGET = (
    "c' = f * c + i * g: the forget gate f scales the previous cell state c, which is never "
    "dropped (c' = i * g) nor kept unscaled (c' = c + i * g)"
)
UNBATCHED = (
    "x of shape (H_in,) and states of shape (H,) are one step without a batch axis: the "
    "same formulas, outputs (H,)"
)


def _outputs(result: Any) -> dict[str, Any]:
    return dict(zip(OUTPUTS, tuple(result)[:2], strict=False))


@composite
def _cell(draw: Any, *, state: bool = False, batch: bool = True) -> Call:
    dtype = draw(dtypes())
    d_in, hidden = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    lead: tuple[int, ...] = (draw(st.integers(1, 3)),) if batch else ()
    params = {
        "w_ih": draw(floats((d_in, 4 * hidden), dtype, bound=1.0)),
        "w_hh": draw(floats((hidden, 4 * hidden), dtype, bound=1.0)),
        "b_ih": draw(floats((4 * hidden,), dtype, bound=1.0)),
        "b_hh": draw(floats((4 * hidden,), dtype, bound=1.0)),
    }
    x = draw(floats((*lead, d_in), dtype, bound=2.0))
    if not state:
        return Call((params, x), {}, dtype)
    hx = (draw(floats((*lead, hidden), dtype, bound=2.0)),
          draw(floats((*lead, hidden), dtype, bound=2.0)))  # fmt: skip
    return Call((params, x, hx), {}, dtype)


def _fixed(*, state: bool = False, batch: bool = True) -> Call:
    """H_in = 2, H = 2, each gate block with its own clear values: catches the classic mistakes
    for sure (a swapped g and o, no forget gate, no tanh on c')."""
    params = {
        "w_ih": np.array([[0.5, -1.0, 1.0, 0.25, -0.5, 1.5, 0.75, -0.25],
                          [1.0, 0.5, -0.75, 1.0, 1.25, -1.0, 0.5, 1.0]]),
        "w_hh": np.array([[0.25, 0.5, -0.5, 1.0, 0.75, 0.25, -1.0, 0.5],
                          [-0.5, 0.25, 1.0, -0.25, 0.5, -0.75, 0.25, 1.0]]),
        "b_ih": np.array([0.5, -0.5, 1.0, 2.0, 0.25, -1.0, 0.5, 1.5]),
        "b_hh": np.array([0.25, 0.5, -0.25, 0.5, 1.0, 0.75, -0.5, -0.25]),
    }  # fmt: skip
    x = np.array([[1.0, -0.5], [0.5, 1.5]])
    h, c = np.array([[0.5, -1.0], [1.0, 0.25]]), np.array([[1.5, -2.0], [-1.0, 2.5]])
    if not batch:
        x, h, c = x[0], h[0], c[0]
    args = (params, x, (h, c)) if state else (params, x)
    return Call(args, {}, "float64")


LSTM_CELL = Spec(
    name="lstm_cell",
    function=mlprims.lstm_cell,
    parameters=("params", "x", "hx"),
    outputs=_outputs,
    parameter_docs={
        "params": "params : dict\n"
        '    {"w_ih": (H_in, 4 H), "w_hh": (H, 4 H), "b_ih": (4 H,), "b_hh": (4 H,)}, the gate\n'
        "    blocks in torch's order i, f, g, o along the last axis; torch's weight_ih is w_ih.T.",
    },
    returns="(h, c): the new hidden and cell states, each (N, H) ((H,) for an unbatched x),\n"
    "in the dtype of `x`.",
    notes="``a = x @ w_ih + b_ih + h @ w_hh + b_hh`` (N, 4 H), split in four blocks of H in\n"
    "torch's order i, f, g, o: ``i, f, o = sigmoid(a_i), sigmoid(a_f), sigmoid(a_o)`` and\n"
    "``g = tanh(a_g)``; then ``c' = f * c + i * g`` and ``h' = o * tanh(c')``. With\n"
    "``hx=None`` the states h and c are zeros. Weights are (in, out), ``x @ w``: torch's\n"
    "nn.LSTMCell.weight_ih is w_ih.T (Hochreiter and Schmidhuber 1997; Gers et al. 2000).",
    properties=(
        Property("(N, H_in) input, zero state", _cell(), GATES, examples=(_fixed(),)),
        Property("a given state (h, c)", _cell(state=True), FORGET, examples=(_fixed(state=True),)),
        Property(
            "unbatched (H_in,) input",
            _cell(state=True, batch=False),
            UNBATCHED,
            examples=(_fixed(state=True, batch=False),),
        ),
    ),
)

SPECS = [LSTM_CELL]
