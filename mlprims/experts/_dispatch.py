"""The two ways :func:`mlprims.moe` sends tokens to their experts; both return (T, D).

Shape legend as in :mod:`mlprims.experts.layer`: T tokens, D the model width, F an expert's hidden
width, E experts, k experts per token. ``weights`` (T, k) are the renormalised gates of the
chosen ``experts`` (T, k).

``dense``: every expert on every token, combined by a (T, E) matrix of gates that is zero
outside each token's top k. No shape depends on the routing: it runs under ``jax.jit`` and on
array_api_strict, at E / k times the FLOPs of the chosen experts.

``sorted_segments``: the T k (token, expert) assignments sorted by expert, each expert's
matmuls on its own tokens only (the FLOPs of the chosen experts), the outputs summed back per
token by the backend's ``segment_sum``. The size of each expert's segment is read from the
arrays, so it runs on eager arrays only.
"""

from __future__ import annotations

from array_api_compat import device as device_of

from .. import backends
from .._array import Array, Namespace
from ..activations import silu

__all__ = ["dense", "sorted_segments"]


def dense(
    h: Array, weights: Array, experts: Array, w_gate: Array, w_up: Array, w_down: Array,
    *, xp: Namespace,
) -> Array:  # fmt: skip
    """``sum_e gates[:, e] * expert_e(h)`` with every expert run on every token."""
    e = w_gate.shape[0]
    columns = xp.arange(e, dtype=experts.dtype, device=device_of(experts))
    chosen = experts[:, :, None] == columns  # (T, k, E), one True per (t, j)
    zero = xp.zeros((), dtype=weights.dtype, device=device_of(weights))
    gates = xp.sum(xp.where(chosen, weights[:, :, None], zero), axis=1)  # (T, E)
    hidden = silu(h @ w_gate) * (h @ w_up)  # (T, D) @ (E, D, F) -> (E, T, F)
    y = xp.astype(hidden @ w_down, gates.dtype, copy=False)  # (E, T, D)
    y = xp.permute_dims(y, (1, 0, 2))  # (T, E, D)
    return (gates[:, None, :] @ y)[:, 0, :]  # (T, 1, E) @ (T, E, D) -> (T, D)


def sorted_segments(
    h: Array, weights: Array, experts: Array, w_gate: Array, w_up: Array, w_down: Array,
    *, xp: Namespace,
) -> Array:  # fmt: skip
    """Each expert on the tokens that chose it (transformers' loop over the experts)."""
    t, k = experts.shape
    e = w_gate.shape[0]
    flat = xp.reshape(experts, (-1,))  # (T k,): assignment i is token i // k's j-th choice
    order = xp.argsort(flat, stable=True)  # assignments grouped by expert
    tokens = order // k  # (T k,) the token of each assignment, in that order
    gates = xp.take(xp.reshape(weights, (-1,)), order)  # (T k,)
    ids = xp.arange(e + 1, dtype=flat.dtype, device=device_of(flat))
    bounds = xp.searchsorted(xp.take(flat, order), ids)  # (E + 1,) segment i is [b_i, b_i+1)
    edges = [int(b) for b in bounds]  # read from the arrays: eager only
    parts = []
    for i in range(e):
        start, stop = edges[i], edges[i + 1]
        if stop > start:  # an expert no token chose costs nothing
            rows = xp.take(h, tokens[start:stop], axis=0)  # (n_i, D)
            y = (silu(rows @ w_gate[i, ...]) * (rows @ w_up[i, ...])) @ w_down[i, ...]
            parts.append(y * gates[start:stop, None])  # (n_i, D) in the dtype of the gates
    if not parts:  # no token at all
        return xp.zeros((t, h.shape[1]), dtype=weights.dtype, device=device_of(h))
    y = xp.concat(parts, axis=0)  # (T k, D), sorted by expert
    return backends.of(h).segment_sum(y, tokens, t)  # (T, D): the k outputs of each token
