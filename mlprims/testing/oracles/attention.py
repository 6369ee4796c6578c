"""Float64 NumPy oracles for :mod:`mlprims.attention` and the attention of
:mod:`mlprims.positional` (Shaw et al.), written independently of the primitives: full score
matrices and a masked softmax row by row, heads cut out column by column, Shaw's equations as a
loop over (query, key) pairs; no tiles, no online softmax. Shared by ``tests/`` and
``mlprims check``.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["mha_reference", "relative_attention_reference", "sdpa_reference"]


def sdpa_reference(
    q,
    k,
    v,
    *,
    mask=None,
    bias=None,
    is_causal=False,
    causal_align="top_left",
    scale=None,
    keep=None,
    dropout_p=0.0,
):
    """float64 oracle: repeat kv heads, full scores, masked softmax row by row (empty row -> 0)."""
    q, k, v = (np.asarray(a, dtype=np.float64) for a in (q, k, v))
    if (
        q.ndim >= 3
        and k.ndim >= 3
        and q.shape[-3] != k.shape[-3]
        and k.shape[-3] != 1 != q.shape[-3]
    ):
        group = q.shape[-3] // k.shape[-3]
        k, v = np.repeat(k, group, axis=-3), np.repeat(v, group, axis=-3)  # head n uses n // group
    t, s = q.shape[-2], k.shape[-2]
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    scores = np.einsum("...th,...sh->...ts", q, k) * scale
    allowed = np.ones(scores.shape, dtype=bool)
    if bias is not None:
        scores = scores + bias
        allowed &= np.asarray(bias) != -np.inf
    if mask is not None:
        allowed &= mask
    if is_causal:
        shift = 0 if causal_align == "top_left" else s - t
        allowed &= np.arange(s)[None, :] <= np.arange(t)[:, None] + shift
    scores = np.where(allowed, scores, 0.0)
    top = np.max(np.where(allowed, scores, -1e300), axis=-1, keepdims=True)
    e = np.where(allowed, np.exp(np.where(allowed, scores - top, 0.0)), 0.0)
    total = e.sum(axis=-1, keepdims=True)
    weights = e / np.where(total == 0, 1.0, total)
    if keep is not None:
        weights = np.where(keep, weights / (1.0 - dropout_p), 0.0)
    return weights @ v, weights


def mha_reference(params, query, key_value=None, *, num_heads, num_kv_heads=None, **options):
    """float64 oracle: project, cut the heads out column by column, attend, concatenate.

    `options` go to :func:`sdpa_reference`; returns (output (..., T, E), weights (..., N, T, S)).
    """
    p = {name: np.asarray(a, dtype=np.float64) for name, a in params.items()}
    x_q = np.asarray(query, dtype=np.float64)
    x_kv = x_q if key_value is None else np.asarray(key_value, dtype=np.float64)
    kv_heads = num_kv_heads or num_heads

    def heads(x, w, b, count):
        y = x @ w + (p[b] if b in p else 0.0)  # (..., L, count*D)
        d = y.shape[-1] // count
        return np.stack([y[..., i * d : (i + 1) * d] for i in range(count)], axis=-3)

    q = heads(x_q, p["wq"], "bq", num_heads)
    k, v = heads(x_kv, p["wk"], "bk", kv_heads), heads(x_kv, p["wv"], "bv", kv_heads)
    out, weights = sdpa_reference(q, k, v, **options)  # (..., N, T, Hv)
    merged = np.concatenate([out[..., i, :, :] for i in range(num_heads)], axis=-1)
    return merged @ p["wo"] + p.get("bo", 0.0), weights


def relative_attention_reference(
    q, k, v, table_k, table_v, max_k, allowed=None, shift=0, scale=None
):
    """Equations (3)-(5) of Shaw et al., a direct float64 loop over (query i, key j).

    `allowed` (broadcastable to (..., T, S)): the keys each query may see; `shift`: query i
    sits at position i + shift (S - T for bottom-right alignment).
    """
    q, k, v = (np.asarray(a, dtype=np.float64) for a in (q, k, v))
    table_k, table_v = np.float64(table_k), np.float64(table_v)
    lead = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    length_q, length_k = q.shape[-2], k.shape[-2]
    q = np.broadcast_to(q, (*lead, *q.shape[-2:])).reshape(-1, length_q, q.shape[-1])
    k = np.broadcast_to(k, (*lead, *k.shape[-2:])).reshape(-1, length_k, k.shape[-1])
    v = np.broadcast_to(v, (*lead, *v.shape[-2:])).reshape(-1, length_k, v.shape[-1])
    allowed = np.ones((length_q, length_k), bool) if allowed is None else allowed
    allowed = np.broadcast_to(allowed, (*lead, length_q, length_k)).reshape(-1, length_q, length_k)
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    out = np.zeros((q.shape[0], length_q, v.shape[-1]))
    for b in range(q.shape[0]):
        for i in range(length_q):
            rows = [min(max(j - (i + shift), -max_k), max_k) + max_k for j in range(length_k)]
            scores = [
                scale * q[b, i] @ (k[b, j] + table_k[rows[j]]) if allowed[b, i, j] else -np.inf
                for j in range(length_k)
            ]
            if not np.isfinite(scores).any():
                continue  # no key allowed: output 0
            weights = np.exp(np.array(scores) - max(scores))
            weights /= weights.sum()
            for j in range(length_k):
                out[b, i] += weights[j] * (v[b, j] + table_v[rows[j]])
    return out.reshape(*lead, length_q, v.shape[-1])
