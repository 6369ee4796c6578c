"""Attention with the whole score matrix at once: the textbook formula, used when one tile
covers the problem (and for each query block of the tiles when the keys are not tiled).
Private; the shape legend is :mod:`mlprims.attention`'s.

::

    s   = (q * scale) @ k^T + bias                 (B..., N, T, S)
    w   = softmax(s) over the allowed keys         mask & causal & KV cache prefix
    w   = where(keep, w / (1 - p), 0)              dropout
    out = w @ v                                    (B..., N, T, Hv)
"""

from __future__ import annotations

from .._array import Array, Namespace
from ..activations.softmax import softmax_core
from ._common import NEG_INF, Rules, keep_mask, remove_keys

__all__ = ["dense_attention", "masked_softmax"]


def masked_softmax(scores: Array, allowed: Array | None = None, *, xp: Namespace) -> Array:
    """Softmax over the last axis of `scores` (..., T, S), over the `allowed` keys only.

    `scores` may hold -inf (a bias that forbids a key); `allowed` (boolean, broadcastable;
    None: every key) removes more. A row with no key left gets weights 0, not NaN, like torch
    SDPA. Half-precision scores should be cast to float32 before.
    """
    if allowed is not None:
        scores = xp.where(allowed, scores, NEG_INF)
    return softmax_core(scores, -1, xp=xp)  # mlprims.softmax's: an all -inf row gives 0


def dense_attention(
    q: Array,
    k: Array,
    v: Array,
    mask: Array | None,
    bias: Array | None,
    rules: Rules,
    *,
    t0: int = 0,
) -> tuple[Array, Array]:
    """Output (..., T, Hv) and weights (..., T, S) of the queries t0, t0 + 1, ... (q: (..., T, H),
    already scaled) against every key; `mask` and `bias` hold the rows of these queries."""
    xp, length = rules.xp, q.shape[-2]
    s = q @ xp.matrix_transpose(k)  # (..., T, H) @ (..., H, S) -> (..., T, S)
    if bias is not None:
        s = s + bias
    keys = xp.arange(k.shape[-2], dtype=rules.index, device=rules.device)  # (S,)
    w = masked_softmax(remove_keys(s, rules, mask, t0, t0 + length, keys), xp=xp)
    if rules.dropout_p > 0.0:  # the kept weights scaled by 1 / (1 - p), like torch
        keep = keep_mask(rules, t0, length, 0, k.shape[-2])
        w = xp.where(keep, w / (1.0 - rules.dropout_p), 0.0)
    return w @ v, w  # (..., T, S) @ (..., S, Hv) -> (..., T, Hv)
