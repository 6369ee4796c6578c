"""What the dense path (:mod:`._dense`) and the tiles (:mod:`._tiled`) share: which keys a query
may see, the dropout keep mask, and grouped query heads. Private; the shape legend is
:mod:`mlprims.attention`'s, plus G = N // K, the query heads per key/value head.

Grouped heads (GQA) are never copied: q is viewed as (B..., K, G, T, H) and k, v as
(B..., K, 1, S, H), so matmul broadcasts each key/value head over its G query heads.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .. import random
from .._array import Array, Namespace
from ._checks import Dims

__all__ = [
    "NEG_INF",
    "Rules",
    "finite_shift",
    "group",
    "keep_mask",
    "nonzero",
    "remove_keys",
    "ungroup",
]

NEG_INF = -math.inf


@dataclass(frozen=True)
class Rules:
    """What every tile of one call obeys, fixed before any score is computed."""

    dims: Dims
    causal_offset: Any  # query i sees keys j <= i + causal_offset; None: not causal
    key_limit: Any  # keys j >= key_limit are unused (KV cache); None: all used
    dropout_p: float
    key: Array | None  # the dropout key
    index: Any  # the integer dtype of positions
    device: Any
    xp: Namespace
    fori_loop: Any  # backends.of(q).fori_loop: lax.fori_loop on JAX, a Python loop elsewhere

    @property
    def batch(self) -> tuple[int, ...]:
        """The batch axes of the grouped scores: (B..., N), or (B..., K, G) under GQA."""
        lead, dims = self.dims.lead, self.dims
        return lead if dims.group == 1 else (*lead[:-1], dims.kv, dims.group)


def remove_keys(
    scores: Array,
    rules: Rules,
    mask: Array | None,
    t0: int,
    t1: int,
    keys: Array,
    *,
    by_position: bool = True,
) -> Array:
    """`scores` (..., bq, bk) of the queries t0:t1 and the keys at positions `keys` (bk,),
    with -inf where a query may not see a key: `mask` (rows t0:t1, columns `keys`) is False,
    or, when `by_position`, the causal rule or the KV cache's unwritten positions forbid it.

    The position rules are added as 0 / -inf in a (bq, bk) array that broadcasts over the
    heads: a ``where`` over the whole tile costs ten times more (torch on CPU).
    """
    xp, allowed = rules.xp, None
    if by_position and rules.causal_offset is not None:  # query i sees keys j <= i + offset
        rows = xp.arange(t0, t1, dtype=rules.index, device=rules.device)
        allowed = keys[None, :] <= rows[:, None] + rules.causal_offset  # (bq, bk)
    if by_position and rules.key_limit is not None:  # KV cache positions not written yet
        unwritten = keys < rules.key_limit  # (bk,)
        allowed = unwritten if allowed is None else allowed & unwritten
    if allowed is not None:
        scores = scores + xp.where(allowed, xp.zeros((), dtype=scores.dtype), NEG_INF)
    if mask is not None:
        scores = xp.where(mask, scores, NEG_INF)
    return scores


def keep_mask(rules: Rules, t0: int, bq: int, s0: Any, bk: int) -> Array:
    """Dropout's keep mask of the tile of queries t0.., keys s0..: (B..., N, bq, bk), grouped.

    ``bernoulli(fold_in(fold_in(key, t0), s0), 1 - p)``: it depends on the key, the shapes and
    the tiles only, so the same key gives the same mask on every backend.
    """
    shape = (*rules.dims.lead, bq, bk)  # (B..., N, bq, bk)
    tile_key = random.fold_in(random.fold_in(rules.key, t0), s0)
    keep = random.bernoulli(tile_key, 1.0 - rules.dropout_p, shape)
    return group(keep, rules.dims, xp=rules.xp)


def finite_shift(m: Array, *, xp: Namespace) -> Array:
    """A row maximum as the exp shift, 0 where it is -inf (no key): exp(-inf - 0) = 0."""
    return xp.where(m == NEG_INF, 0.0, m)


def nonzero(total: Array, *, xp: Namespace) -> Array:
    """`total` with zeros replaced by 1: a fully masked row divides 0 by 1 and stays 0."""
    return xp.where(total == 0.0, 1.0, total)


def group(a: Array | None, dims: Dims, *, xp: Namespace) -> Array | None:
    """View the head axis N of `a` (-3) as (K, G); a head axis of size 1 becomes (1, 1)."""
    if a is None or dims.group == 1 or a.ndim < 3:
        return a
    if a.shape[-3] == 1:
        return xp.expand_dims(a, axis=-3)  # (..., 1, T, X) -> (..., 1, 1, T, X)
    return xp.reshape(a, (*a.shape[:-3], dims.kv, dims.group, *a.shape[-2:]))  # (..., K, G, T, X)


def ungroup(a: Array, dims: Dims, *, xp: Namespace) -> Array:
    """(..., K, G, T, X) -> (..., N, T, X)."""
    if dims.group == 1:
        return a
    return xp.reshape(a, (*a.shape[:-4], dims.n, *a.shape[-2:]))
