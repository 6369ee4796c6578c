"""Float64 NumPy oracles for :mod:`mlprims.recurrent`, written independently of the primitives:
each gate from its own block of columns by name, the textbook logistic function, and the
sequence as nested Python loops (layer, direction, time step) calling the cell, a fresh list of
outputs per direction. Parameters are in mlprims' layout (``params[l][d]`` a dict of (in, out)
weights, torch's gate order). Dropout between layers takes given keep masks. Shared by
``tests/`` and ``mlprims check``.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "gru_cell_reference",
    "gru_reference",
    "lstm_cell_reference",
    "lstm_reference",
    "rnn_cell_reference",
    "rnn_reference",
]


def _f64(a):
    return None if a is None else np.asarray(a, dtype=np.float64)


def _logistic(a):
    """1 / (1 + exp(-a)) without overflow: exp(-log(1 + exp(-a)))."""
    return np.exp(-np.logaddexp(0.0, -a))


def _block(params, name, k, hidden):
    """Columns k H .. (k + 1) H of weight `name` (the k-th gate), or of its bias (0 if none)."""
    w = params.get(name)
    if w is None:
        return 0.0
    return _f64(w)[..., k * hidden : (k + 1) * hidden]


def _gate(params, x, h, k, hidden):
    """Gate k's pre-activation ``x W_ik + b_ik + h W_hk + b_hk``."""
    return (
        x @ _block(params, "w_ih", k, hidden)
        + _block(params, "b_ih", k, hidden)
        + h @ _block(params, "w_hh", k, hidden)
        + _block(params, "b_hh", k, hidden)
    )


def lstm_cell_reference(params, x, hx=None):
    """torch's LSTMCell (gates i, f, g, o; an optional projection ``w_hr``): (h', c')."""
    x = _f64(x)
    hidden = _f64(params["w_hh"]).shape[1] // 4
    h_out = _f64(params["w_hh"]).shape[0]
    if hx is None:
        h, c = np.zeros((*x.shape[:-1], h_out)), np.zeros((*x.shape[:-1], hidden))
    else:
        h, c = _f64(hx[0]), _f64(hx[1])
    i = _logistic(_gate(params, x, h, 0, hidden))
    f = _logistic(_gate(params, x, h, 1, hidden))
    g = np.tanh(_gate(params, x, h, 2, hidden))
    o = _logistic(_gate(params, x, h, 3, hidden))
    c = f * c + i * g
    h = o * np.tanh(c)
    if "w_hr" in params:
        h = h @ _f64(params["w_hr"])
    return h, c


def gru_cell_reference(params, x, hx=None):
    """torch's GRUCell (gates r, z, n; r scales ``h W_hn + b_hn``): h'."""
    x = _f64(x)
    hidden = _f64(params["w_hh"]).shape[1] // 3
    h = np.zeros((*x.shape[:-1], hidden)) if hx is None else _f64(hx)
    r = _logistic(_gate(params, x, h, 0, hidden))
    z = _logistic(_gate(params, x, h, 1, hidden))
    n_input = x @ _block(params, "w_ih", 2, hidden) + _block(params, "b_ih", 2, hidden)
    n_hidden = h @ _block(params, "w_hh", 2, hidden) + _block(params, "b_hh", 2, hidden)
    n = np.tanh(n_input + r * n_hidden)
    return (1.0 - z) * n + z * h


def rnn_cell_reference(params, x, hx=None, *, nonlinearity="tanh"):
    """torch's RNNCell: act(x W_ih + b_ih + h W_hh + b_hh), act tanh or relu."""
    x = _f64(x)
    hidden = _f64(params["w_hh"]).shape[1]
    h = np.zeros((*x.shape[:-1], hidden)) if hx is None else _f64(hx)
    a = _gate(params, x, h, 0, hidden)
    return np.tanh(a) if nonlinearity == "tanh" else np.maximum(a, 0.0)


def _sequence(step, params, x, states, *, batch_first, keeps, dropout):
    """Run `step(cell, x_t, state) -> state` over layers, directions and time (torch's loop).

    `states` is a list of initial state arrays (K D, N, ...) or None entries (zeros made by the
    cell); the first component of a state is h, the output. Returns (output, final states).
    """
    x = _f64(x)
    unbatched = x.ndim == 2
    if unbatched:
        x = x[:, None, :]
        states = [None if s is None else _f64(s)[:, None, :] for s in states]
    elif batch_first:
        x = np.swapaxes(x, 0, 1)
    length, directions = x.shape[0], len(params[0])
    finals = [[] for _ in states]
    layer_input = x
    for layer, cells in enumerate(params):
        if layer > 0 and keeps is not None:
            keep = np.asarray(keeps[layer - 1], dtype=bool)
            layer_input = np.where(keep, layer_input / (1.0 - dropout), 0.0)
        outputs = []
        for d, cell in enumerate(cells):
            row = layer * directions + d
            state = tuple(None if s is None else _f64(s)[row] for s in states)
            if all(s is None for s in state):
                state = None
            steps = range(length) if d == 0 else range(length - 1, -1, -1)
            hs = [None] * length
            for t in steps:
                state = step(cell, layer_input[t], state)
                hs[t] = state[0]
            outputs.append(np.stack(hs))
            for final, s in zip(finals, state, strict=True):
                final.append(s)
        layer_input = np.concatenate(outputs, axis=-1)
    out = layer_input
    finals = [np.stack(f) for f in finals]
    if unbatched:
        return out[:, 0, :], [f[:, 0, :] for f in finals]
    return (np.swapaxes(out, 0, 1) if batch_first else out), finals


def lstm_reference(params, x, hx=None, *, batch_first=False, keeps=None, dropout=0.0, **_options):
    """``(output, (h_n, c_n))`` of torch's nn.LSTM; `keeps` the keep masks (L, N, D H_out) of
    the outputs of layers 0 .. K-2 when `dropout` > 0 (other options follow from `params`)."""
    states = [None, None] if hx is None else list(hx)
    out, (h, c) = _sequence(
        lstm_cell_reference, params, x, states,
        batch_first=batch_first, keeps=keeps, dropout=dropout,
    )  # fmt: skip
    return out, (h, c)


def gru_reference(params, x, hx=None, *, batch_first=False, keeps=None, dropout=0.0, **_options):
    """``(output, h_n)`` of torch's nn.GRU (see :func:`lstm_reference`)."""
    out, (h,) = _sequence(
        lambda cell, xt, s: (gru_cell_reference(cell, xt, None if s is None else s[0]),),
        params, x, [hx], batch_first=batch_first, keeps=keeps, dropout=dropout,
    )  # fmt: skip
    return out, h


def rnn_reference(
    params, x, hx=None, *, nonlinearity="tanh", batch_first=False, keeps=None, dropout=0.0,
    **_options,
):  # fmt: skip
    """``(output, h_n)`` of torch's nn.RNN (see :func:`lstm_reference`)."""

    def step(cell, xt, s):
        return (
            rnn_cell_reference(cell, xt, None if s is None else s[0], nonlinearity=nonlinearity),
        )

    out, (h,) = _sequence(
        step, params, x, [hx], batch_first=batch_first, keeps=keeps, dropout=dropout
    )
    return out, h
