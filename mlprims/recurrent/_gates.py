"""The gate arithmetic of one time step, shared by the cells and the layers' loop.

Shape legend: ``...`` leading axes (the batch N, and the directions D in a layer), H the hidden
size. Each function takes the gate pre-activations already summed (``x @ w_ih + b_ih`` and
``h @ w_hh + b_hh``, in torch's gate order along the last axis) and returns the new state.

The logistic function is the backend's ``sigmoid`` (``torch.sigmoid``, ``jax.nn.sigmoid``,
``0.5 * tanh(0.5 * x) + 0.5`` elsewhere, which never overflows). In eager torch a step is a
dozen small kernels and torch's CPU tanh is six times slower than its sigmoid, so an LSTM step
applies sigmoid to its i, f, o blocks and tanh only to g (an LSTM layer at L = 128, N = 16,
H = 256 on 2 cores: 44 -> 41 ms, nn.LSTM 12 ms). Where the backend fuses (XLA), one tanh pass
over the four blocks is faster: 19 ms against 27 for the sliced form.
"""

from __future__ import annotations

from array_api_compat import device as device_of

from .. import backends
from .._array import Array, Namespace

__all__ = [
    "GATES",
    "NONLINEARITIES",
    "gru_update",
    "lstm_update",
    "rnn_update",
]

#: Blocks of H along the gates' axis, in torch's order: LSTM i, f, g, o; GRU r, z, n; RNN one.
GATES = {"lstm": 4, "gru": 3, "rnn": 1}
#: The activations of a plain RNN (torch's ``nonlinearity``).
NONLINEARITIES = ("tanh", "relu")


def lstm_update(gates: Array, c: Array, *, xp: Namespace) -> tuple[Array, Array]:
    """(h, c) from the gates (..., 4 H) in torch's order i, f, g, o and the cell c (..., H).

    ``c' = f * c + i * g`` and ``h' = o * tanh(c')``, with i, f, o sigmoids and g a tanh.
    """
    hidden = c.shape[-1]
    backend = backends.of(gates)
    if backend.fuses:
        i, f, g, o = _gates_in_one_pass(gates, hidden, xp=xp)
    else:
        input_forget = backend.sigmoid(gates[..., : 2 * hidden])  # i and f in one kernel
        i, f = input_forget[..., :hidden], input_forget[..., hidden:]
        g = xp.tanh(gates[..., 2 * hidden : 3 * hidden])
        o = backend.sigmoid(gates[..., 3 * hidden :])
    c = f * c + i * g
    return o * xp.tanh(c), c


def _gates_in_one_pass(gates: Array, hidden: int, *, xp: Namespace) -> tuple[Array, ...]:
    """i, f, g, o as ``tanh(a * s) * s + t``, s = 1/2 on i, f, o and 1 on g, t = 1/2 and 0
    (``sigmoid(a) = tanh(a / 2) / 2 + 1 / 2``; halving is exact): one elementwise pass that
    XLA fuses, where slicing the blocks for sigmoid and tanh made the step 1.4x slower."""
    half = xp.full((hidden,), 0.5, dtype=gates.dtype, device=device_of(gates))
    one, zero = xp.ones_like(half), xp.zeros_like(half)
    s, t = xp.concat((half, half, one, half)), xp.concat((half, half, zero, half))
    active = xp.tanh(gates * s) * s + t
    return tuple(active[..., k * hidden : (k + 1) * hidden] for k in range(4))


def gru_update(x_gates: Array, h_gates: Array, h: Array, *, xp: Namespace) -> Array:
    """h' from ``x @ w_ih + b_ih`` and ``h @ w_hh + b_hh`` (..., 3 H), order r, z, n.

    ``r, z = sigmoid(x_r + h_r), sigmoid(x_z + h_z)``, ``n = tanh(x_n + r * h_n)`` (r scales
    ``W_hn h + b_hn``, bias included, as torch and cuDNN; the GRU paper puts r inside the
    product, ``W_hn (r * h)``), ``h' = (1 - z) * n + z * h``.
    """
    hidden = h.shape[-1]
    sigmoid = backends.of(h).sigmoid
    reset_update = sigmoid(x_gates[..., : 2 * hidden] + h_gates[..., : 2 * hidden])
    r, z = reset_update[..., :hidden], reset_update[..., hidden:]
    n = xp.tanh(x_gates[..., 2 * hidden :] + r * h_gates[..., 2 * hidden :])
    return n + z * (h - n)  # (1 - z) * n + z * h, one pass fewer


def rnn_update(gates: Array, nonlinearity: str, *, xp: Namespace) -> Array:
    """h' = tanh(gates) or relu(gates), gates = ``x @ w_ih + b_ih + h @ w_hh + b_hh``."""
    if nonlinearity == "tanh":
        return xp.tanh(gates)
    return xp.maximum(gates, xp.zeros_like(gates))
