"""One time step of an LSTM, a GRU or an Elman RNN; re-exported by :mod:`mlprims`.

Shape legend: N the batch (absent for an unbatched input), H_in the input width, H the hidden
size. A cell's parameters are a dict in mlprims' (in, out) layout, its gate blocks along the
last axis in torch's order (LSTM i, f, g, o; GRU r, z, n):
``{"w_ih": (H_in, G H), "w_hh": (H, G H), "b_ih": (G H,), "b_hh": (G H,)}`` with G = 4, 3, 1;
torch's ``weight_ih`` is ``w_ih.T``. Without biases (``bias=False``) the two bias keys are
absent. ``init_lstm(key, H_in, H)[0][0]`` is one (the first layer's forward cell).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from array_api_compat import device as device_of

from .._array import Array, Namespace, check_choice, check_floating, namespace, shape_str
from .._layers import linear
from ._checks import check_cell, check_state
from ._gates import NONLINEARITIES, gru_update, lstm_update, rnn_update

__all__ = ["gru_cell", "lstm_cell", "rnn_cell"]


def lstm_cell(
    params: Mapping[str, Array], x: Array, hx: tuple[Array, Array] | None = None, /
) -> tuple[Array, Array]:
    r"""One LSTM step: the new hidden and cell states from the input and the previous ones.

    Matches ``torch.nn.LSTMCell`` (its ``forward(input, (h, c))``) with the same weights.

    Parameters
    ----------
    params : dict
        ``{"w_ih": (H_in, 4 H), "w_hh": (H, 4 H), "b_ih": (4 H,), "b_hh": (4 H,)}`` (the biases
        optional), gate blocks in torch's order i, f, g, o; torch's ``weight_ih`` is
        ``w_ih.T``.
    x : array, shape (N, H_in) or (H_in,)
        Real floating input, in the dtype of the parameters.
    hx : tuple of two arrays, shape (N, H) or (H,), optional
        The previous hidden and cell states (h, c); zeros when None.

    Returns
    -------
    tuple of two arrays
        (h', c'), each (N, H) (or (H,) for an unbatched `x`), in the dtype of `x`.

    Raises
    ------
    ValueError
        Shapes that do not fit (w_ih not (H_in, 4 H) with H_in = ``x.shape[-1]``, states not
        (N, H)), missing or unknown keys in `params`.
    TypeError
        Arrays of another framework or dtype, `hx` not a pair of arrays.

    Notes
    -----
    With ``a = x @ w_ih + b_ih + h @ w_hh + b_hh`` split in four blocks of H,
    ``i, f, g, o = sigmoid(a_i), sigmoid(a_f), tanh(a_g), sigmoid(a_o)``,
    ``c' = f * c + i * g`` and ``h' = o * tanh(c')`` (Hochreiter and Schmidhuber 1997, with
    the forget gate of Gers et al. 2000; torch's gate order and weight layout):

    .. math:: c' = \sigma(a_f) \odot c + \sigma(a_i) \odot \tanh(a_g), \qquad
              h' = \sigma(a_o) \odot \tanh(c').

    References
    ----------
    - Hochreiter & Schmidhuber 1997, https://doi.org/10.1162/neco.1997.9.8.1735
    - https://pytorch.org/docs/stable/generated/torch.nn.LSTMCell.html

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> params = {"w_ih": np.zeros((2, 4)), "w_hh": np.zeros((1, 4)),
    ...           "b_ih": np.array([9.0, -9.0, 1.0, 9.0]), "b_hh": np.zeros(4)}  # H = 1
    >>> h, c = mlprims.lstm_cell(params, np.ones((1, 2)), (np.zeros((1, 1)), np.ones((1, 1))))
    >>> round(float(c[0, 0]), 3), round(float(h[0, 0]), 3)  # forget c, write g = tanh(1)
    (0.762, 0.642)
    """
    xp, hidden = _checked(params, x, "lstm")
    if hx is None:
        h = c = _zeros(x, hidden, xp=xp)
    else:
        if not isinstance(hx, tuple | list) or len(hx) != 2:
            msg = f"`hx` must be a pair of arrays (h, c), got {type(hx).__name__}"
            raise TypeError(msg)
        h, c = (
            _state(s, name, x, hidden, xp=xp)
            for s, name in zip(hx, ("hx[0]", "hx[1]"), strict=True)
        )
    gates = _preactivations(params, x, h)  # (N, 4 H)
    return lstm_update(gates, c, xp=xp)


def gru_cell(params: Mapping[str, Array], x: Array, hx: Array | None = None, /) -> Array:
    r"""One GRU step: the new hidden state from the input and the previous one.

    Matches ``torch.nn.GRUCell`` with the same weights.

    Parameters
    ----------
    params : dict
        ``{"w_ih": (H_in, 3 H), "w_hh": (H, 3 H), "b_ih": (3 H,), "b_hh": (3 H,)}`` (the biases
        optional), gate blocks in torch's order r, z, n; torch's ``weight_ih`` is ``w_ih.T``.
    x : array, shape (N, H_in) or (H_in,)
        Real floating input, in the dtype of the parameters.
    hx : array, shape (N, H) or (H,), optional
        The previous hidden state; zeros when None.

    Returns
    -------
    array, shape (N, H) or (H,)
        h', in the dtype of `x`.

    Raises
    ------
    ValueError
        Shapes that do not fit, missing or unknown keys in `params`.
    TypeError
        Arrays of another framework or dtype.

    Notes
    -----
    With ``a = x @ w_ih + b_ih`` and ``b = h @ w_hh + b_hh`` split in blocks r, z, n:
    ``r = sigmoid(a_r + b_r)``, ``z = sigmoid(a_z + b_z)``, ``n = tanh(a_n + r * b_n)``,
    ``h' = (1 - z) * n + z * h``. The reset gate scales ``h @ W_hn + b_hn``, bias included,
    as torch and cuDNN do (Cho et al. 2014 write ``W_hn (r * h)``: another function):

    .. math:: n = \tanh\left(a_n + r \odot b_n\right), \qquad h' = (1 - z) \odot n + z \odot h.

    References
    ----------
    - Cho et al. 2014, https://arxiv.org/abs/1406.1078
    - https://pytorch.org/docs/stable/generated/torch.nn.GRUCell.html

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> params = {"w_ih": np.zeros((2, 3)), "w_hh": np.zeros((1, 3)),
    ...           "b_ih": np.array([0.0, 50.0, 0.0]), "b_hh": np.zeros(3)}  # z = 1: keep h
    >>> mlprims.gru_cell(params, np.ones((1, 2)), np.full((1, 1), 0.5)).tolist()
    [[0.5]]
    """
    xp, hidden = _checked(params, x, "gru")
    h = _zeros(x, hidden, xp=xp) if hx is None else _state(hx, "hx", x, hidden, xp=xp)
    x_gates = linear(x, params["w_ih"], params.get("b_ih"))  # (N, 3 H)
    h_gates = linear(h, params["w_hh"], params.get("b_hh"))
    return gru_update(x_gates, h_gates, h, xp=xp)


def rnn_cell(
    params: Mapping[str, Array], x: Array, hx: Array | None = None, /, *, nonlinearity: str = "tanh"
) -> Array:
    r"""One step of an Elman RNN: ``h' = tanh(x @ w_ih + b_ih + h @ w_hh + b_hh)``.

    Matches ``torch.nn.RNNCell`` with the same weights.

    Parameters
    ----------
    params : dict
        ``{"w_ih": (H_in, H), "w_hh": (H, H), "b_ih": (H,), "b_hh": (H,)}`` (the biases
        optional); torch's ``weight_ih`` is ``w_ih.T``.
    x : array, shape (N, H_in) or (H_in,)
        Real floating input, in the dtype of the parameters.
    hx : array, shape (N, H) or (H,), optional
        The previous hidden state; zeros when None.
    nonlinearity : {"tanh", "relu"}
        The activation (torch's ``nonlinearity``).

    Returns
    -------
    array, shape (N, H) or (H,)
        h', in the dtype of `x`.

    Raises
    ------
    ValueError
        Shapes that do not fit, an unknown `nonlinearity`.
    TypeError
        Arrays of another framework or dtype.

    Notes
    -----
    ``h' = act(x @ w_ih + b_ih + h @ w_hh + b_hh)`` with act the `nonlinearity` (Elman 1990;
    torch's weight layout transposed, no bias terms without biases):

    .. math::

        h' = \phi\left(x W_{ih} + b_{ih} + h W_{hh} + b_{hh}\right), \qquad
        \phi = \tanh \text{ or } \operatorname{relu}.

    References
    ----------
    - https://pytorch.org/docs/stable/generated/torch.nn.RNNCell.html

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> params = {"w_ih": np.array([[1.0]]), "w_hh": np.array([[-2.0]])}  # no biases
    >>> mlprims.rnn_cell(params, np.array([3.0]), np.array([1.0]), nonlinearity="relu").tolist()
    [1.0]
    """
    check_choice(nonlinearity, "nonlinearity", NONLINEARITIES)
    xp, hidden = _checked(params, x, "rnn")
    h = _zeros(x, hidden, xp=xp) if hx is None else _state(hx, "hx", x, hidden, xp=xp)
    return rnn_update(_preactivations(params, x, h), nonlinearity, xp=xp)


def _checked(params: Any, x: Array, kind: str) -> tuple[Namespace, int]:
    """The namespace of `x` and the hidden size H of `params`, both checked against `x`."""
    xp = namespace(x, names=("x",))
    check_floating(x, "x", xp=xp)
    input_size, hidden, _ = check_cell(params, "params", kind, xp=xp, dtype=x.dtype)
    if x.ndim not in (1, 2) or x.shape[-1] != input_size:
        msg = (
            f"`x` must have shape (N, H_in) or (H_in,) with H_in = params['w_ih'].shape[0] = "
            f"{input_size}, got {shape_str(x.shape)}"
        )
        raise ValueError(msg)
    return xp, hidden


def _state(state: Any, name: str, x: Array, hidden: int, *, xp: Namespace) -> Array:
    """A previous state of shape (N, H) (or (H,) for an unbatched `x`), checked."""
    want = (*x.shape[:-1], hidden)
    what = "(N, H)" if x.ndim == 2 else "(H,)"
    return check_state(state, name, want, xp=xp, dtype=x.dtype, what=what)


def _zeros(x: Array, hidden: int, *, xp: Namespace) -> Array:
    """The zero state (N, H) (or (H,)) of torch's ``hx=None``."""
    return xp.zeros((*x.shape[:-1], hidden), dtype=x.dtype, device=device_of(x))


def _preactivations(params: Mapping[str, Array], x: Array, h: Array) -> Array:
    """``(x @ w_ih + b_ih) + (h @ w_hh + b_hh)``, summed in torch's order."""
    return linear(x, params["w_ih"], params.get("b_ih")) + linear(
        h, params["w_hh"], params.get("b_hh")
    )
