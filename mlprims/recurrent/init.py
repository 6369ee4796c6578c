"""Parameters of LSTM, GRU and RNN stacks, initialised as torch does; re-exported by :mod:`mlprims`.

torch's ``nn.LSTM``/``nn.GRU``/``nn.RNN`` (and their cells) draw every weight and bias from
U(-1/sqrt(H), 1/sqrt(H)) (``RNNBase.reset_parameters``), projections included; here the same
law is drawn with :mod:`mlprims.random` (torch's generator cannot be reproduced), in the
layout of :mod:`.layers`: ``params[l][d]`` is the cell of layer l, direction d.
"""

from __future__ import annotations

import math
from typing import Any

from .. import backends, random
from .._array import Array, check_array, check_bool, check_float_dtype, check_int
from .._layers import creation_target
from ._gates import GATES

__all__ = ["init_gru", "init_lstm", "init_rnn"]


def init_lstm(
    key: Array,
    input_size: int,
    hidden_size: int,
    *,
    num_layers: int = 1,
    bidirectional: bool = False,
    proj_size: int = 0,
    bias: bool = True,
    dtype: Any = "float32",
    backend: str | backends.Backend | None = None,
) -> list[list[dict[str, Array]]]:
    """Parameters of an LSTM, initialised like ``torch.nn.LSTM``.

    Parameters
    ----------
    key : mlprims.random key
        Same key, same parameters on every backend.
    input_size : int
        H_in, the width of the input.
    hidden_size : int
        H, the width of the cell state.
    num_layers : int
        K, the stacked layers.
    bidirectional : bool
        Two cells per layer (forward, reverse) instead of one.
    proj_size : int
        P in [1, H) for a projection ``w_hr`` (H, P) of each step's h; 0 for none.
    bias : bool
        Whether the cells have the biases ``b_ih`` and ``b_hh``.
    dtype : str or dtype
        Floating dtype of the parameters (default float32).
    backend : str or Backend, optional
        Where to create them; default the backend of `key`.

    Returns
    -------
    list of lists of dict
        ``params[l][d] = {"w_ih": (F, 4 H), "w_hh": (H_out, 4 H), "b_ih": (4 H,),
        "b_hh": (4 H,)}`` (plus ``"w_hr": (H, P)`` when P > 0), F = H_in for l = 0 and
        D H_out after, H_out = P or H; every array from U(-1/sqrt(H), 1/sqrt(H)).
        ``init_lstm(key, H_in, H)[0][0]`` is the parameters of an :func:`~mlprims.lstm_cell`.

    Raises
    ------
    ValueError
        A size below 1, `proj_size` < 0 or >= `hidden_size`.
    TypeError
        Sizes that are not ints, flags that are not bools, a non-floating `dtype`.

    References
    ----------
    - https://pytorch.org/docs/stable/generated/torch.nn.LSTM.html

    Examples
    --------
    >>> import mlprims
    >>> params = mlprims.init_lstm(mlprims.random.key(0), 3, 8, num_layers=2, proj_size=4)
    >>> {name: w.shape for name, w in params[1][0].items()}
    {'w_ih': (4, 32), 'w_hh': (4, 32), 'b_ih': (32,), 'b_hh': (32,), 'w_hr': (8, 4)}
    """
    hidden = check_int(hidden_size, "hidden_size", minimum=1)
    proj = check_int(proj_size, "proj_size", minimum=0)
    if proj >= hidden:
        msg = f"`proj_size` must be smaller than `hidden_size` ({hidden}), got {proj}"
        raise ValueError(msg)
    return _init(
        "lstm", key, input_size, hidden, num_layers, bidirectional, bias, dtype, backend, proj
    )


def init_gru(
    key: Array,
    input_size: int,
    hidden_size: int,
    *,
    num_layers: int = 1,
    bidirectional: bool = False,
    bias: bool = True,
    dtype: Any = "float32",
    backend: str | backends.Backend | None = None,
) -> list[list[dict[str, Array]]]:
    """Parameters of a GRU, initialised like ``torch.nn.GRU``.

    Parameters
    ----------
    key : mlprims.random key
        Same key, same parameters on every backend.
    input_size : int
        H_in, the width of the input.
    hidden_size : int
        H, the width of the hidden state.
    num_layers : int
        K, the stacked layers.
    bidirectional : bool
        Two cells per layer (forward, reverse) instead of one.
    bias : bool
        Whether the cells have the biases ``b_ih`` and ``b_hh``.
    dtype : str or dtype
        Floating dtype of the parameters (default float32).
    backend : str or Backend, optional
        Where to create them; default the backend of `key`.

    Returns
    -------
    list of lists of dict
        ``params[l][d] = {"w_ih": (F, 3 H), "w_hh": (H, 3 H), "b_ih": (3 H,), "b_hh": (3 H,)}``,
        F = H_in for l = 0 and D H after; every array from U(-1/sqrt(H), 1/sqrt(H)).

    Raises
    ------
    ValueError
        A size below 1.
    TypeError
        Sizes that are not ints, flags that are not bools, a non-floating `dtype`.

    References
    ----------
    - https://pytorch.org/docs/stable/generated/torch.nn.GRU.html

    Examples
    --------
    >>> import mlprims
    >>> params = mlprims.init_gru(mlprims.random.key(0), 3, 8, bidirectional=True, bias=False)
    >>> len(params[0]), {name: w.shape for name, w in params[0][1].items()}
    (2, {'w_ih': (3, 24), 'w_hh': (8, 24)})
    """
    hidden = check_int(hidden_size, "hidden_size", minimum=1)
    return _init("gru", key, input_size, hidden, num_layers, bidirectional, bias, dtype, backend)


def init_rnn(
    key: Array,
    input_size: int,
    hidden_size: int,
    *,
    num_layers: int = 1,
    bidirectional: bool = False,
    bias: bool = True,
    dtype: Any = "float32",
    backend: str | backends.Backend | None = None,
) -> list[list[dict[str, Array]]]:
    """Parameters of an Elman RNN, initialised like ``torch.nn.RNN``.

    Parameters
    ----------
    key : mlprims.random key
        Same key, same parameters on every backend.
    input_size : int
        H_in, the width of the input.
    hidden_size : int
        H, the width of the hidden state.
    num_layers : int
        K, the stacked layers.
    bidirectional : bool
        Two cells per layer (forward, reverse) instead of one.
    bias : bool
        Whether the cells have the biases ``b_ih`` and ``b_hh``.
    dtype : str or dtype
        Floating dtype of the parameters (default float32).
    backend : str or Backend, optional
        Where to create them; default the backend of `key`.

    Returns
    -------
    list of lists of dict
        ``params[l][d] = {"w_ih": (F, H), "w_hh": (H, H), "b_ih": (H,), "b_hh": (H,)}``,
        F = H_in for l = 0 and D H after; every array from U(-1/sqrt(H), 1/sqrt(H)).

    Raises
    ------
    ValueError
        A size below 1.
    TypeError
        Sizes that are not ints, flags that are not bools, a non-floating `dtype`.

    References
    ----------
    - https://pytorch.org/docs/stable/generated/torch.nn.RNN.html

    Examples
    --------
    >>> import mlprims
    >>> params = mlprims.init_rnn(mlprims.random.key(0), 3, 8, num_layers=3)
    >>> len(params), params[2][0]["w_ih"].shape
    (3, (8, 8))
    """
    hidden = check_int(hidden_size, "hidden_size", minimum=1)
    return _init("rnn", key, input_size, hidden, num_layers, bidirectional, bias, dtype, backend)


def _init(
    kind: str,
    key: Any,
    input_size: Any,
    hidden: int,
    num_layers: Any,
    bidirectional: Any,
    bias: Any,
    dtype: Any,
    backend: Any,
    proj: int = 0,
) -> list[list[dict[str, Array]]]:
    """The cells of a stack, each array from U(-1/sqrt(H), 1/sqrt(H)) with its own key."""
    check_array(key, "key")
    width = check_int(input_size, "input_size", minimum=1)
    layers = check_int(num_layers, "num_layers", minimum=1)
    directions = 2 if check_bool(bidirectional, "bidirectional") else 1
    with_bias = check_bool(bias, "bias")
    key, target = creation_target(key, backend)
    dtype = check_float_dtype(dtype, xp=target.xp)
    g, h_out, bound = GATES[kind] * hidden, proj or hidden, 1.0 / math.sqrt(hidden)
    shapes: dict[str, tuple[int, ...]] = {"w_ih": (0, g), "w_hh": (h_out, g)}
    if with_bias:
        shapes |= {"b_ih": (g,), "b_hh": (g,)}
    if proj:
        shapes["w_hr"] = (hidden, proj)
    params = []
    for layer in range(layers):
        rows = width if layer == 0 else directions * h_out
        cells = []
        for d in range(directions):
            cell_key = random.fold_in(key, layer * directions + d)  # the row of h_0 it starts from
            keys = random.split(cell_key, len(shapes))
            cells.append(
                {
                    name: random.uniform(
                        keys[i, :],
                        (rows, shape[1]) if name == "w_ih" else shape,
                        dtype=dtype,
                        minval=-bound,
                        maxval=bound,
                    )
                    for i, (name, shape) in enumerate(shapes.items())
                }
            )
        params.append(cells)
    return params
