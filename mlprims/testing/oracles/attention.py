"""Float64 NumPy oracles for :mod:`mlprims.attention`, written independently of the primitives:
full score matrices and a masked softmax row by row, no tiles, no online softmax.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["sdpa_reference"]


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
