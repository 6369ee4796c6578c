"""The loop over time of a stacked, possibly bidirectional recurrent layer (LSTM, GRU, RNN).

Shape legend: L the sequence length, N the batch, F the width of a layer's input (H_in for the
first, D H_out for the next), G the gate blocks (LSTM 4, GRU 3, RNN 1), H the hidden size, H_out
the output width (P with an LSTM projection, else H), D the directions, K the layers.

Per layer, the input's share of every gate at every step is one matmul before the loop,
``(L N, F) @ (F, G H)`` with the biases folded in (as cuDNN and torch do): only ``h @ w_hh``
is left inside it. Then one loop over time, the backend's ``fori_loop`` (``lax.fori_loop``
under ``jax.jit``: one traced body, a program whose size does not grow with L), runs both
directions at once: the reverse direction's gates were computed on the time-reversed input, so
step t is time t forward and time L - 1 - t backward, and ``h @ w_hh`` is one batched matmul
``(D, N, H_out) @ (D, H_out, G H)``. Each step writes its h into a preallocated
(L, D, N, H_out) buffer with ``xpx.at`` (in place on NumPy and torch, a dynamic update under
``jax.jit``), not a select over the whole buffer, which would cost L N H per step.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import array_api_extra as xpx
from array_api_compat import device as device_of

from .. import backends, random
from .._array import Array, Namespace
from .._layers import dropout, linear
from ._checks import Cell
from ._gates import gru_update, lstm_update, rnn_update

__all__ = ["run_stack"]

#: One step: (gates of x at time t (D, N, G H), the state tuple) -> the new state tuple.
Step = Callable[[Array, tuple[Array, ...]], tuple[Array, ...]]


def run_stack(
    kind: str,
    params: Sequence[Sequence[Cell]],
    xs: Array,
    states: Sequence[Array],
    *,
    p: float,
    key: Array | None,
    nonlinearity: str,
    xp: Namespace,
) -> tuple[Array, list[Array]]:
    """The output (L, N, D H_out) of the last layer and the final states (K D, N, ...).

    `xs` is time-major (L, N, H_in); `states` holds the initial states, each (K D, N, ...):
    (h,) or, for an LSTM, (h, c). The output of layer l < K - 1 is dropped out with
    ``bernoulli(fold_in(key, l), 1 - p, (L, N, D H_out))`` when p > 0.
    """
    directions = len(params[0])
    finals: list[list[Array]] = [[] for _ in states]
    for i, cells in enumerate(params):  # layer i
        if i > 0 and p > 0.0:
            xs = dropout(xs, p, random.fold_in(key, i - 1), xp=xp)
        first = tuple(s[i * directions : (i + 1) * directions, ...] for s in states)
        xs, last = _layer(kind, cells, xs, first, nonlinearity=nonlinearity, xp=xp)
        for final, s in zip(finals, last, strict=True):
            final.append(s)
    return xs, [xp.concat(final, axis=0) for final in finals]


def _layer(
    kind: str,
    cells: Sequence[Cell],
    xs: Array,
    state: tuple[Array, ...],
    *,
    nonlinearity: str,
    xp: Namespace,
) -> tuple[Array, tuple[Array, ...]]:
    """One layer: its output (L, N, D H_out) and final states (D, N, ...) from `xs` (L, N, F)."""
    length, n, width = xs.shape
    gates_x = []
    for d, cell in enumerate(cells):
        inputs = xp.flip(xs, axis=0) if d == 1 else xs  # the reverse direction reads L-1 .. 0
        bias = cell.get("b_ih")
        if bias is not None and kind != "gru":  # the GRU's b_hn stays inside r * (...)
            bias = bias + cell["b_hh"]
        gates = linear(xp.reshape(inputs, (length * n, width)), cell["w_ih"], bias)
        gates_x.append(xp.reshape(gates, (length, n, gates.shape[-1])))
    gx = _stacked(gates_x, axis=1, xp=xp)  # (L, D, N, G H)
    step = _step(kind, cells, nonlinearity, xp=xp)
    h = state[0]
    out = xp.zeros((length, *h.shape), dtype=h.dtype, device=device_of(h))  # (L, D, N, H_out)

    def body(t: Any, carry: tuple[Array, ...]) -> tuple[Array, ...]:
        out, *previous = carry
        new = step(gx[t, ...], tuple(previous))
        return (xpx.at(out)[t, ...].set(new[0]), *new)

    out, *last = backends.of(xs).fori_loop(0, length, body, (out, *state))
    if len(cells) == 1:
        return out[:, 0, ...], tuple(last)
    backward = xp.flip(out[:, 1, ...], axis=0)  # back in time order
    return xp.concat((out[:, 0, ...], backward), axis=-1), tuple(last)


def _step(kind: str, cells: Sequence[Cell], nonlinearity: str, *, xp: Namespace) -> Step:
    """The step of `kind` for the stacked weights of `cells` (D of them)."""
    w_hh = _stacked([c["w_hh"] for c in cells], axis=0, xp=xp)  # (D, H_out, G H)
    if kind == "lstm":
        w_hr = _stacked([c["w_hr"] for c in cells], axis=0, xp=xp) if "w_hr" in cells[0] else None

        def lstm_step(gx: Array, state: tuple[Array, ...]) -> tuple[Array, ...]:
            h, c = state
            h, c = lstm_update(gx + h @ w_hh, c, xp=xp)  # (D, N, H) each
            return (h if w_hr is None else h @ w_hr), c  # (D, N, P) with a projection

        return lstm_step
    if kind == "gru":
        b_hh = None
        if "b_hh" in cells[0]:
            b_hh = _stacked([c["b_hh"] for c in cells], axis=0, xp=xp)[:, None, :]  # (D, 1, 3H)

        def gru_step(gx: Array, state: tuple[Array, ...]) -> tuple[Array, ...]:
            (h,) = state
            return (gru_update(gx, linear(h, w_hh, b_hh), h, xp=xp),)

        return gru_step

    def rnn_step(gx: Array, state: tuple[Array, ...]) -> tuple[Array, ...]:
        (h,) = state
        return (rnn_update(gx + h @ w_hh, nonlinearity, xp=xp),)

    return rnn_step


def _stacked(arrays: Sequence[Array], *, axis: int, xp: Namespace) -> Array:
    """``xp.stack(arrays, axis=axis)``; a view with a new axis for one array (no copy)."""
    if len(arrays) == 1:
        return xp.expand_dims(arrays[0], axis=axis)
    return xp.stack(arrays, axis=axis)
