"""Recurrent layers over a whole sequence: LSTM, GRU, Elman RNN; re-exported by :mod:`mlprims`.

Shape legend: L the sequence length, N the batch, H_in the input width, H the hidden size, P an
LSTM's projection size (``proj_size``), H_out the output width of a direction (P if P > 0,
else H), D the directions (2 if bidirectional), K the layers (``num_layers``).

The parameters are a list of K layers, each a list of its D cells (forward, then reverse), a
cell being the dict the cell functions take, in mlprims' (in, out) layout:
``params[l][d] = {"w_ih": (F, G H), "w_hh": (H_out, G H), "b_ih": (G H,), "b_hh": (G H,)}``
with F = H_in for the first layer and D H_out for the others, G = 4, 3, 1 gate blocks in
torch's order; an LSTM with a projection adds ``"w_hr": (H, P)``. torch's ``weight_ih_l{l}``
(``_reverse`` for d = 1) is ``w_ih.T`` (see :func:`~mlprims.from_torch_lstm`). The algorithm
is in :mod:`._loop`: one matmul for the input's share of the gates, one loop over time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from array_api_compat import device as device_of

from .._array import (
    Array,
    Namespace,
    check_bool,
    check_choice,
    check_floating,
    namespace,
    shape_str,
)
from .._layers import check_dropout
from ._checks import Cell, check_stack, check_state
from ._gates import NONLINEARITIES
from ._loop import run_stack

__all__ = ["gru", "lstm", "rnn"]

Params = Sequence[Sequence[Cell]]


def lstm(
    params: Params,
    x: Array,
    hx: tuple[Array, Array] | None = None,
    /,
    *,
    num_layers: int = 1,
    bidirectional: bool = False,
    batch_first: bool = False,
    proj_size: int = 0,
    dropout: float = 0.0,
    key: Array | None = None,
) -> tuple[Array, tuple[Array, Array]]:
    """A (stacked, bidirectional) LSTM over a sequence: every step's output and the last states.

    Matches ``torch.nn.LSTM`` (its ``forward(input, (h_0, c_0))``) with the same weights,
    projections (``proj_size``) and, in training mode, dropout between layers.

    Parameters
    ----------
    params : list of lists of dict
        ``params[l][d]``: the cell of layer l, direction d (module docstring), from
        :func:`~mlprims.init_lstm` or :func:`~mlprims.from_torch_lstm`; gate blocks i, f, g, o.
    x : array, shape (L, N, H_in), (N, L, H_in) if `batch_first`, or (L, H_in)
        Real floating input, L >= 1, in the dtype of the parameters.
    hx : tuple of two arrays, optional
        (h_0, c_0): (K D, N, H_out) and (K D, N, H) ((K D, H_out) and (K D, H) for an
        unbatched `x`), whatever `batch_first`; zeros when None. Row ``l D + d`` is layer l,
        direction d.
    num_layers : int
        K, which must be ``len(params)``.
    bidirectional : bool
        Whether each layer has a reverse direction (``len(params[l]) == 2``).
    batch_first : bool
        `x` and the output are (N, L, ...); the states are not affected (as in torch).
    proj_size : int
        P: each step's h is ``(o * tanh(c)) @ w_hr``; 0 (no projection) or in [1, H).
    dropout : float
        In [0, 1): dropout on the output of every layer but the last (torch's ``dropout`` in
        training mode).
    key : mlprims.random key, optional
        Draws the dropout masks; required when `dropout` > 0.

    Returns
    -------
    tuple
        ``(output, (h_n, c_n))``: output (L, N, D H_out) (N, L, D H_out if `batch_first`;
        (L, D H_out) unbatched), the last layer's h at every step, the directions
        concatenated on the last axis (the reverse one aligned with the input's time);
        h_n (K D, N, H_out) and c_n (K D, N, H), every layer's final states (the reverse
        direction's after reading time 0). All in the dtype of `x`.

    Raises
    ------
    ValueError
        `x` not (L, N, H_in) with H_in the rows of ``params[0][0]["w_ih"]``, L = 0; states
        of the wrong shape; ``len(params)`` not `num_layers`, layers without 2 cells when
        `bidirectional` (or 1 when not); `proj_size` not the width of ``w_hr`` or >= H; cells
        that disagree; `dropout` outside [0, 1) or > 0 without `key`.
    TypeError
        Arrays of another framework or dtype, `hx` not a pair, options of the wrong type.

    Notes
    -----
    Each cell runs :func:`~mlprims.lstm_cell`'s step,
    ``a = x_t @ w_ih + b_ih + h @ w_hh + b_hh``, ``c' = f * c + i * g``,
    ``h' = o * tanh(c')``, then ``h' @ w_hr`` with a projection (Sak et al. 2014, "Long
    Short-Term Memory Based Recurrent Neural Network Architectures for Large Vocabulary Speech
    Recognition"), over t = 0 .. L-1 forward and L-1 .. 0 in reverse. Layer l > 0 reads the
    output of layer l - 1, dropped out as ``where(keep, y / (1 - p), 0)`` with
    ``keep = mlprims.random.bernoulli(mlprims.random.fold_in(key, l - 1), 1 - p,
    (L, N, D H_out))`` (time-major whatever `batch_first`, N = 1 for an unbatched `x`;
    torch's draws cannot be reproduced, the law is the same).

    References
    ----------
    - https://pytorch.org/docs/stable/generated/torch.nn.LSTM.html

    Examples
    --------
    >>> import mlprims
    >>> params = mlprims.init_lstm(mlprims.random.key(0), 3, 4, num_layers=2, proj_size=2)
    >>> x = mlprims.random.normal(mlprims.random.key(1), (5, 2, 3))  # (L, N, H_in)
    >>> y, (h, c) = mlprims.lstm(params, x, num_layers=2, proj_size=2)
    >>> y.shape, h.shape, c.shape
    ((5, 2, 2), (2, 2, 2), (2, 2, 4))
    >>> bool((y[-1] == h[-1]).all())  # the last step's output is the top layer's h_n
    True
    """
    options = {"num_layers": num_layers, "bidirectional": bidirectional, "proj_size": proj_size}
    return _run("lstm", params, x, hx, batch_first, dropout, key, options)


def gru(
    params: Params,
    x: Array,
    hx: Array | None = None,
    /,
    *,
    num_layers: int = 1,
    bidirectional: bool = False,
    batch_first: bool = False,
    dropout: float = 0.0,
    key: Array | None = None,
) -> tuple[Array, Array]:
    """A (stacked, bidirectional) GRU over a sequence: every step's output and the last state.

    Matches ``torch.nn.GRU`` with the same weights.

    Parameters
    ----------
    params : list of lists of dict
        ``params[l][d]``: the cell of layer l, direction d (module docstring), from
        :func:`~mlprims.init_gru` or :func:`~mlprims.from_torch_gru`; gate blocks r, z, n.
    x : array, shape (L, N, H_in), (N, L, H_in) if `batch_first`, or (L, H_in)
        Real floating input, L >= 1, in the dtype of the parameters.
    hx : array, shape (K D, N, H) or (K D, H), optional
        h_0, row ``l D + d`` for layer l, direction d (whatever `batch_first`); zeros when None.
    num_layers : int
        K, which must be ``len(params)``.
    bidirectional : bool
        Whether each layer has a reverse direction.
    batch_first : bool
        `x` and the output are (N, L, ...); h_0 and h_n are not affected.
    dropout : float
        In [0, 1): dropout on the output of every layer but the last.
    key : mlprims.random key, optional
        Draws the dropout masks; required when `dropout` > 0.

    Returns
    -------
    tuple
        ``(output, h_n)``: output (L, N, D H) ((N, L, D H) if `batch_first`, (L, D H)
        unbatched), h_n (K D, N, H), in the dtype of `x`.

    Raises
    ------
    ValueError
        Shapes that do not fit, L = 0, `params` that disagree with `num_layers` or
        `bidirectional`, `dropout` outside [0, 1) or > 0 without `key`.
    TypeError
        Arrays of another framework or dtype, options of the wrong type.

    Notes
    -----
    Each cell runs :func:`~mlprims.gru_cell`'s step, ``n = tanh(a_n + r * (h @ W_hn + b_hn))``
    and ``h' = (1 - z) * n + z * h``; layers, directions and dropout as :func:`lstm`.

    References
    ----------
    - https://pytorch.org/docs/stable/generated/torch.nn.GRU.html

    Examples
    --------
    >>> import mlprims
    >>> params = mlprims.init_gru(mlprims.random.key(0), 3, 4, bidirectional=True)
    >>> x = mlprims.random.normal(mlprims.random.key(1), (2, 5, 3))  # (N, L, H_in)
    >>> y, h = mlprims.gru(params, x, bidirectional=True, batch_first=True)
    >>> y.shape, h.shape
    ((2, 5, 8), (2, 2, 4))
    """
    options = {"num_layers": num_layers, "bidirectional": bidirectional}
    return _run("gru", params, x, hx, batch_first, dropout, key, options)


def rnn(
    params: Params,
    x: Array,
    hx: Array | None = None,
    /,
    *,
    nonlinearity: str = "tanh",
    num_layers: int = 1,
    bidirectional: bool = False,
    batch_first: bool = False,
    dropout: float = 0.0,
    key: Array | None = None,
) -> tuple[Array, Array]:
    """A (stacked, bidirectional) Elman RNN over a sequence: ``h_t = tanh(x_t W + h W' + b)``.

    Matches ``torch.nn.RNN`` with the same weights.

    Parameters
    ----------
    params : list of lists of dict
        ``params[l][d]``: the cell of layer l, direction d (module docstring), from
        :func:`~mlprims.init_rnn` or :func:`~mlprims.from_torch_rnn`.
    x : array, shape (L, N, H_in), (N, L, H_in) if `batch_first`, or (L, H_in)
        Real floating input, L >= 1, in the dtype of the parameters.
    hx : array, shape (K D, N, H) or (K D, H), optional
        h_0, row ``l D + d`` for layer l, direction d; zeros when None.
    nonlinearity : {"tanh", "relu"}
        The activation.
    num_layers : int
        K, which must be ``len(params)``.
    bidirectional : bool
        Whether each layer has a reverse direction.
    batch_first : bool
        `x` and the output are (N, L, ...); h_0 and h_n are not affected.
    dropout : float
        In [0, 1): dropout on the output of every layer but the last.
    key : mlprims.random key, optional
        Draws the dropout masks; required when `dropout` > 0.

    Returns
    -------
    tuple
        ``(output, h_n)``: output (L, N, D H) ((N, L, D H) if `batch_first`, (L, D H)
        unbatched), h_n (K D, N, H), in the dtype of `x`.

    Raises
    ------
    ValueError
        Shapes that do not fit, L = 0, an unknown `nonlinearity`, `params` that disagree with
        `num_layers` or `bidirectional`, `dropout` outside [0, 1) or > 0 without `key`.
    TypeError
        Arrays of another framework or dtype, options of the wrong type.

    Notes
    -----
    ``h_t = act(x_t @ w_ih + b_ih + h_{t-1} @ w_hh + b_hh)`` (Elman 1990), act tanh or relu
    (:func:`~mlprims.rnn_cell`); layers, directions and dropout as :func:`lstm`.

    References
    ----------
    - https://pytorch.org/docs/stable/generated/torch.nn.RNN.html

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> params = [[{"w_ih": np.ones((1, 1)), "w_hh": np.ones((1, 1))}]]  # h_t = relu(x_t + h)
    >>> y, h = mlprims.rnn(params, np.array([[1.0], [2.0], [-9.0]]), nonlinearity="relu")
    >>> y.tolist(), h.tolist()
    ([[1.0], [3.0], [0.0]], [[0.0]])
    """
    check_choice(nonlinearity, "nonlinearity", NONLINEARITIES)
    options = {"num_layers": num_layers, "bidirectional": bidirectional}
    return _run("rnn", params, x, hx, batch_first, dropout, key, options, nonlinearity)


def _run(
    kind: str,
    params: Any,
    x: Array,
    hx: Any,
    batch_first: Any,
    dropout: Any,
    key: Any,
    options: dict[str, Any],
    nonlinearity: str = "tanh",
) -> Any:
    """The checks and the layout around :func:`._loop.run_stack`, for all three kinds;
    `options` holds ``num_layers``, ``bidirectional`` and (LSTM) ``proj_size``."""
    xp = namespace(x, names=("x",))
    check_floating(x, "x", xp=xp)
    directions, hidden, h_out = check_stack(params, x, kind, **options, xp=xp)
    batch_first = check_bool(batch_first, "batch_first")
    p = check_dropout(dropout, key, x, name="dropout")
    batched = x.ndim == 3
    if batched and batch_first:
        xs = xp.permute_dims(x, (1, 0, 2))  # (N, L, H_in) -> (L, N, H_in)
    else:
        xs = x if batched else x[:, None, :]  # (L, 1, H_in) for an unbatched x
    if xs.shape[0] < 1:
        msg = f"`x` must have at least one time step (L >= 1), got shape {shape_str(x.shape)}"
        raise ValueError(msg)
    rows = len(params) * directions
    widths = (h_out, hidden) if kind == "lstm" else (h_out,)
    states = _initial(kind, hx, xs, rows, widths, batched=batched, xp=xp)
    ys, finals = run_stack(kind, params, xs, states, p=p, key=key, nonlinearity=nonlinearity, xp=xp)
    if batched and batch_first:
        ys = xp.permute_dims(ys, (1, 0, 2))
    elif not batched:
        ys, finals = ys[:, 0, :], [s[:, 0, :] for s in finals]
    return (ys, tuple(finals)) if kind == "lstm" else (ys, finals[0])


def _initial(
    kind: str,
    hx: Any,
    xs: Array,
    rows: int,
    widths: tuple[int, ...],
    *,
    batched: bool,
    xp: Namespace,
) -> list[Array]:
    """The initial states, each (K D, N, width), for the time-major `xs` (L, N, H_in): `hx`
    checked (without the N axis for an unbatched input), or zeros."""
    n = xs.shape[1]
    if hx is None:
        return [xp.zeros((rows, n, w), dtype=xs.dtype, device=device_of(xs)) for w in widths]
    names: tuple[str, ...] = ("hx",)
    if kind == "lstm":
        if not isinstance(hx, tuple | list) or len(hx) != 2:
            msg = f"`hx` must be a pair of arrays (h_0, c_0), got {type(hx).__name__}"
            raise TypeError(msg)
        given, names = list(hx), ("hx[0]", "hx[1]")
    else:
        given = [hx]
    states = []
    for i, (state, name, width) in enumerate(zip(given, names, widths, strict=True)):
        want = (rows, n, width) if batched else (rows, width)
        what = ("(K D, N, H_out)", "(K D, N, H)")[i]
        what = what if batched else what.replace("N, ", "")
        state = check_state(state, name, want, xp=xp, dtype=xs.dtype, what=what)
        states.append(state if batched else state[:, None, :])
    return states
