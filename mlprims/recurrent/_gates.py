"""The gate arithmetic of one time step, shared by the cells and the layers' loop.

Shape legend: ``...`` leading axes (the batch N, and the directions D in a layer), H the hidden
size. Each function takes the gate pre-activations already summed (``x @ w_ih + b_ih`` and
``h @ w_hh + b_hh``, in torch's gate order along the last axis) and returns the new state.

The logistic function is written ``0.5 * tanh(0.5 * x) + 0.5``, which never overflows
(``1 / (1 + exp(-x))`` overflows in ``exp`` for x below -89 in float32, with a warning in
NumPy) and is within one rounding of it in absolute terms. An LSTM step applies it and tanh to
its four gate blocks in one pass, ``tanh(a * s) * s + t`` with s = 1/2 on the sigmoid blocks
and 1 on g, t = 1/2 and 0 (halving is exact, so the values are those of the formula gate by
gate): in eager torch a step is a dozen small kernels, and this takes four where the gate by
gate form took nine, six of them with a Python scalar (which torch wraps into a tensor each
time): the whole layer went from 41 to 37 ms at L = 128, N = 16, H = 256 on 2 cores.
"""

from __future__ import annotations

from array_api_compat import device as device_of

from .._array import Array, Namespace

__all__ = [
    "GATES",
    "NONLINEARITIES",
    "gru_update",
    "lstm_slopes",
    "lstm_update",
    "rnn_update",
    "sigmoid",
]

#: Blocks of H along the gates' axis, in torch's order: LSTM i, f, g, o; GRU r, z, n; RNN one.
GATES = {"lstm": 4, "gru": 3, "rnn": 1}
#: The activations of a plain RNN (torch's ``nonlinearity``).
NONLINEARITIES = ("tanh", "relu")


def sigmoid(x: Array, *, xp: Namespace) -> Array:
    """The logistic function ``1 / (1 + exp(-x))`` as ``0.5 * tanh(x / 2) + 0.5``."""
    return 0.5 * xp.tanh(0.5 * x) + 0.5


def lstm_slopes(hidden: int, like: Array, *, xp: Namespace) -> tuple[Array, Array]:
    """(s, t), each (4 H,) in the dtype and device of `like`: s is 1/2 on the blocks i, f, o
    and 1 on g, t is 1/2 and 0, so that ``tanh(a * s) * s + t`` is sigmoid on i, f, o and tanh
    on g (made once per layer, outside the loop over time)."""
    half = xp.full((hidden,), 0.5, dtype=like.dtype, device=device_of(like))
    one, zero = xp.ones_like(half), xp.zeros_like(half)
    return xp.concat((half, half, one, half)), xp.concat((half, half, zero, half))


def lstm_update(
    gates: Array, c: Array, slopes: tuple[Array, Array], *, xp: Namespace
) -> tuple[Array, Array]:
    """(h, c) from the gates (..., 4 H) in torch's order i, f, g, o and the cell c (..., H).

    ``c' = f * c + i * g`` and ``h' = o * tanh(c')``, with i, f, o sigmoids and g a tanh, all
    four in one pass with the `slopes` of :func:`lstm_slopes`.
    """
    hidden = c.shape[-1]
    s, t = slopes
    active = xp.tanh(gates * s) * s + t  # sigmoid(a) = tanh(a / 2) / 2 + 1 / 2 on i, f, o
    i, f = active[..., :hidden], active[..., hidden : 2 * hidden]
    g, o = active[..., 2 * hidden : 3 * hidden], active[..., 3 * hidden :]
    c = f * c + i * g
    return o * xp.tanh(c), c


def gru_update(x_gates: Array, h_gates: Array, h: Array, *, xp: Namespace) -> Array:
    """h' from ``x @ w_ih + b_ih`` and ``h @ w_hh + b_hh`` (..., 3 H), order r, z, n.

    ``r, z = sigmoid(x_r + h_r), sigmoid(x_z + h_z)``, ``n = tanh(x_n + r * h_n)`` (r scales
    ``W_hn h + b_hn``, bias included, as torch and cuDNN; the GRU paper puts r inside the
    product, ``W_hn (r * h)``), ``h' = (1 - z) * n + z * h``.
    """
    hidden = h.shape[-1]
    reset_update = sigmoid(x_gates[..., : 2 * hidden] + h_gates[..., : 2 * hidden], xp=xp)
    r, z = reset_update[..., :hidden], reset_update[..., hidden:]
    n = xp.tanh(x_gates[..., 2 * hidden :] + r * h_gates[..., 2 * hidden :])
    return n + z * (h - n)  # (1 - z) * n + z * h, one pass fewer


def rnn_update(gates: Array, nonlinearity: str, *, xp: Namespace) -> Array:
    """h' = tanh(gates) or relu(gates), gates = ``x @ w_ih + b_ih + h @ w_hh + b_hh``."""
    if nonlinearity == "tanh":
        return xp.tanh(gates)
    return xp.maximum(gates, xp.zeros_like(gates))
