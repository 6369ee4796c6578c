"""Recurrent networks as functions: LSTM, GRU and Elman RNN cells and stacked layers.

torch's semantics throughout (``nn.LSTM``/``nn.GRU``/``nn.RNN`` and their cells): gate order
(LSTM i, f, g, o; GRU r, z, n, its reset gate applied to ``h @ W_hn + b_hn``), the states'
(num_layers * directions, N, H) layout, LSTM projections (``proj_size``), dropout between
layers. The parameters are plain dicts of (in, out) weights, one per cell, in a list of layers
of their directions (``params[l][d]``), created by ``init_*`` or converted by ``from_torch_*``.

===========  ==================================================================
``cells``    lstm_cell, gru_cell, rnn_cell: one time step
``layers``   lstm, gru, rnn: a whole sequence, one loop over time per layer
``init``     init_lstm, init_gru, init_rnn: torch's U(-1/sqrt(H), 1/sqrt(H))
``convert``  from_torch_lstm, from_torch_gru, from_torch_rnn: torch state dicts
===========  ==================================================================
"""

from .cells import gru_cell, lstm_cell, rnn_cell
from .convert import from_torch_gru, from_torch_lstm, from_torch_rnn
from .init import init_gru, init_lstm, init_rnn
from .layers import gru, lstm, rnn

__all__: list[str] = [
    "from_torch_gru",
    "from_torch_lstm",
    "from_torch_rnn",
    "gru",
    "gru_cell",
    "init_gru",
    "init_lstm",
    "init_rnn",
    "lstm",
    "lstm_cell",
    "rnn",
    "rnn_cell",
]
