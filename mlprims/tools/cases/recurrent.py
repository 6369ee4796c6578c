"""Check cases for mlprims.recurrent (LSTM, GRU, RNN), against the float64 oracles of
:mod:`mlprims.testing.oracles.recurrent` (shared with the tests).

The parameters travel as flat inputs named ``l{layer}d{direction}_{name}`` (a case's inputs
are one dict of arrays) and are put back into ``params[l][d]`` on each side.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ...recurrent import gru, gru_cell, lstm, lstm_cell, rnn, rnn_cell
from ...testing import Case
from ...testing.oracles.recurrent import (
    gru_cell_reference,
    gru_reference,
    lstm_cell_reference,
    lstm_reference,
    rnn_cell_reference,
    rnn_reference,
)

__all__ = ["CASES"]

#: The check cases of this family, in table order.
CASES: list[Case] = []

L, N, H_IN, H, P = 6, 2, 3, 5, 2
GATES = {"lstm": 4, "gru": 3, "rnn": 1}


def _inputs(kind: str, *, layers: int, directions: int, proj: int = 0, batch_first: bool = False):
    """``rng -> inputs``: x, the initial states and every cell's weights, U(-1/sqrt(H), ...)."""
    h_out = proj or H
    g = GATES[kind] * H

    def make(rng: np.random.Generator) -> dict[str, np.ndarray]:
        bound = 1.0 / math.sqrt(H)
        rows = layers * directions
        x_shape = (N, L, H_IN) if batch_first else (L, N, H_IN)
        arrays = {"x": rng.normal(size=x_shape), "h0": rng.normal(size=(rows, N, h_out))}
        if kind == "lstm":
            arrays["c0"] = rng.normal(size=(rows, N, H))
        shapes = {"w_hh": (h_out, g), "b_ih": (g,), "b_hh": (g,)}
        if proj:
            shapes["w_hr"] = (H, proj)
        for layer in range(layers):
            for d in range(directions):
                width = H_IN if layer == 0 else directions * h_out
                for name, shape in {"w_ih": (width, g), **shapes}.items():
                    arrays[f"l{layer}d{d}_{name}"] = rng.uniform(-bound, bound, shape)
        return arrays

    return make


def _cell_inputs(kind: str):
    """``rng -> inputs`` of one cell: x (N, H_in), the states, the weights."""
    stacked = _inputs(kind, layers=1, directions=1)

    def make(rng: np.random.Generator) -> dict[str, np.ndarray]:
        arrays = stacked(rng)
        arrays["x"] = arrays["x"][0]
        arrays["h0"] = arrays["h0"][0]
        if "c0" in arrays:
            arrays["c0"] = arrays["c0"][0]
        return arrays

    return make


def _params(arrays: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """``params[l][d]`` from the flat ``l{l}d{d}_{name}`` inputs."""
    params: dict[int, dict[int, dict[str, Any]]] = {}
    for key, value in arrays.items():
        place, name = key.split("_", 1)
        layer, direction = (int(v) for v in place[1:].split("d"))
        params.setdefault(layer, {}).setdefault(direction, {})[name] = value
    return [[cells[d] for d in sorted(cells)] for _, cells in sorted(params.items())]


LSTM: dict[str, Any] = {"num_layers": 2, "bidirectional": True, "proj_size": P}
GRU: dict[str, Any] = {"num_layers": 2, "bidirectional": True}
RNN: dict[str, Any] = {"nonlinearity": "relu", "batch_first": True}
CASES += [
    Case(
        name="lstm(2 layers, bidirectional, proj_size)",
        make_inputs=_inputs("lstm", layers=2, directions=2, proj=P),
        run=lambda x, h0, c0, **w: lstm(_params(w), x, (h0, c0), **LSTM),
        reference=lambda x, h0, c0, **w: lstm_reference(_params(w), x, (h0, c0), **LSTM),
    ),
    Case(
        name="gru(2 layers, bidirectional)",
        make_inputs=_inputs("gru", layers=2, directions=2),
        run=lambda x, h0, **w: gru(_params(w), x, h0, **GRU),
        reference=lambda x, h0, **w: gru_reference(_params(w), x, h0, **GRU),
    ),
    Case(
        name="rnn(relu, batch_first)",
        make_inputs=_inputs("rnn", layers=1, directions=1, batch_first=True),
        run=lambda x, h0, **w: rnn(_params(w), x, h0, **RNN),
        reference=lambda x, h0, **w: rnn_reference(_params(w), x, h0, **RNN),
    ),
    Case(
        name="lstm_cell",
        make_inputs=_cell_inputs("lstm"),
        run=lambda x, h0, c0, **w: lstm_cell(_params(w)[0][0], x, (h0, c0)),
        reference=lambda x, h0, c0, **w: lstm_cell_reference(_params(w)[0][0], x, (h0, c0)),
    ),
    Case(
        name="gru_cell",
        make_inputs=_cell_inputs("gru"),
        run=lambda x, h0, **w: gru_cell(_params(w)[0][0], x, h0),
        reference=lambda x, h0, **w: gru_cell_reference(_params(w)[0][0], x, h0),
    ),
    Case(
        name="rnn_cell(tanh)",
        make_inputs=_cell_inputs("rnn"),
        run=lambda x, h0, **w: rnn_cell(_params(w)[0][0], x, h0),
        reference=lambda x, h0, **w: rnn_cell_reference(_params(w)[0][0], x, h0),
    ),
]
