"""The math behind :mod:`mlprims.attention`, shared by scaled dot-product attention, multi-head
attention and the KV cache. Private: the public functions validate their arguments, then call
:func:`attend`.

Shape legend (the letters of ``jax.nn.dot_product_attention``, in PyTorch's layout):

====  ===========================================================================
B...  batch axes (any number, broadcast between queries and keys)
N     query heads (Hq)
K     key/value heads (Hkv): N == K, or N a multiple of K (GQA; K == 1 is MQA)
G     query heads per key/value head, N // K
T     query length
S     key/value length
H     head dim of queries and keys
Hv    head dim of values
====  ===========================================================================

How it computes. Queries go in blocks of `bq` rows (a Python loop: a static count, which
jax.jit unrolls); within a query block, keys go in blocks of `bk` (``backends.of(q).fori_loop``:
``lax.fori_loop`` under JAX, a Python loop elsewhere) with the online softmax of flash
attention (Milakov & Gimelshein 2018; Dao et al. 2022). Per query row it keeps the running
maximum m, the running sum l of exp(score - m) and the running weighted sum acc of values::

    s     = (q * scale) @ k_blk^T + bias_blk       (B..., N, bq, bk)  scale on q: bq*H products
    s     = where(allowed, s, -inf)                mask & causal & cache prefix & padding keys
    m_new = max(m, rowmax(s))
    e     = exp(s - m_new)                         a row with no key yet shifts by 0: e = 0
    l     = l * exp(m - m_new) + rowsum(e)         rescale what was summed under the old max
    acc   = acc * exp(m - m_new) + (e * keep) @ v_blk        keep: dropout
    out   = acc / (l * (1 - p))                    0 / 0 (nothing to attend to) is taken as 0

With one key block (the default for small problems) this is the plain softmax; only the tile
(B..., N, bq, bk) of scores ever exists, so memory does not grow with T * S.

Grouped heads (GQA) are never copied: q is viewed as (B..., K, G, T, H) and k, v as
(B..., K, 1, S, H), so matmul broadcasts each key/value head over its G query heads.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from array_api_compat import device as device_of

from .. import backends
from .._array import Array, Namespace, index_dtype, statistics_dtype
from ._checks import Dims

__all__ = ["attend", "attention_weights"]

_NEG_INF = -math.inf


def attention_weights(scores: Array, mask: Array | None = None, *, xp: Namespace) -> Array:
    """Softmax over the last axis with the attention rules; reusable by relative-position code.

    `scores` (..., T, S) may contain -inf (an additive bias that forbids a key); `mask`
    (boolean, True = attend, broadcastable) removes more keys. A row with no key left gets
    weights 0, not NaN (like torch SDPA). Compute in float32 for half inputs before calling.
    """
    if mask is not None:
        scores = xp.where(mask, scores, _NEG_INF)
    row_max = xp.max(scores, axis=-1, keepdims=True)
    e = xp.exp(scores - _finite_shift(row_max, xp=xp))
    return e / _nonzero(xp.sum(e, axis=-1, keepdims=True), xp=xp)


def _finite_shift(m: Array, *, xp: Namespace) -> Array:
    """The running max as the exp shift, 0 where it is -inf (no key yet): exp(-inf - 0) = 0."""
    return xp.where(m == _NEG_INF, 0.0, m)


def _nonzero(total: Array, *, xp: Namespace) -> Array:
    """`total` with zeros replaced by 1: a fully masked row divides 0 by 1 and stays 0."""
    return xp.where(total == 0.0, 1.0, total)


def _group(a: Array | None, dims: Dims, *, xp: Namespace) -> Array | None:
    """View the head axis N of `a` (-3) as (K, G); a head axis of size 1 becomes (1, 1)."""
    if a is None or dims.group == 1 or a.ndim < 3:
        return a
    if a.shape[-3] == 1:
        return xp.expand_dims(a, axis=-3)  # (..., 1, T, X) -> (..., 1, 1, T, X)
    return xp.reshape(a, (*a.shape[:-3], dims.kv, dims.group, *a.shape[-2:]))  # (..., K, G, T, X)


def _ungroup(a: Array, dims: Dims, *, xp: Namespace) -> Array:
    """(..., K, G, T, X) -> (..., N, T, X)."""
    if dims.group == 1:
        return a
    return xp.reshape(a, (*a.shape[:-4], dims.n, *a.shape[-2:]))


def _rows(a: Array | None, t0: int, t1: int) -> Array | None:
    """Rows t0:t1 of a (..., T, S) mask or bias; one that broadcasts over T (size 1) stays."""
    if a is None or a.ndim < 2 or a.shape[-2] == 1:
        return a
    return a[..., t0:t1, :]


def _cols(a: Array | None, cols: Any, *, xp: Namespace) -> Array | None:
    """Columns `cols` (a slice, indices, or None: all) of a (..., S) mask or bias."""
    if a is None or cols is None or a.ndim == 0 or a.shape[-1] == 1:  # broadcasts over S
        return a
    return a[..., cols] if isinstance(cols, slice) else xp.take(a, cols, axis=-1)


@dataclass(frozen=True)
class _Keys:
    """What every tile of one call shares: the keys and values, and the rules on positions."""

    k: Array  # (B..., K, [1,] S, H), grouped, in the compute dtype
    v: Array  # (B..., K, [1,] S, Hv)
    bk: int  # keys per tile; bk == S: all at once
    causal_offset: Any  # query i sees keys j <= i + causal_offset; None: not causal
    key_limit: Any  # keys j >= key_limit are unused (KV cache); None: all used
    dropout_p: float
    key: Array | None  # the dropout key
    dims: Dims
    index: Any  # the integer dtype of positions
    xp: Namespace
    device: Any

    @property
    def s(self) -> int:
        return int(self.k.shape[-2])


def _query_block(
    keys: _Keys, q: Array, mask: Array | None, bias: Array | None, t0: int, *, weights: bool
) -> tuple[Array, Array | None]:
    """Attention of the queries t0 .. t0 + bq - 1 (q: (..., bq, H)) to all keys, tile by tile."""
    xp = keys.xp
    rows = (*q.shape[:-1], 1)  # (..., bq, 1): running max, running sum per query
    state = (
        xp.full(rows, _NEG_INF, dtype=q.dtype, device=keys.device),
        xp.zeros(rows, dtype=q.dtype, device=keys.device),
        xp.zeros((*q.shape[:-1], keys.v.shape[-1]), dtype=q.dtype, device=keys.device),
    )

    def tile(s0: Any, state: tuple[Array, Array, Array]) -> tuple[tuple[Array, ...], Array]:
        return _tile(keys, q, mask, bias, t0, s0, state)

    if keys.bk >= keys.s:
        (_, total, acc), e = tile(0, state)
    else:
        blocks = -(-keys.s // keys.bk)  # ceil(S / bk)
        loop = backends.of(q).fori_loop  # lax.fori_loop under JAX: the body compiles once
        _, total, acc = loop(0, blocks, lambda j, state: tile(j * keys.bk, state)[0], state)
    total = _nonzero(total * (1.0 - keys.dropout_p), xp=xp)  # dropout: kept weights / (1 - p)
    return acc / total, (e / total if weights else None)


def _tile(
    keys: _Keys,
    q: Array,
    mask: Array | None,
    bias: Array | None,
    t0: int,
    s0: Any,
    state: tuple[Array, Array, Array],
) -> tuple[tuple[Array, Array, Array], Array]:
    """Fold keys s0 .. s0 + bk - 1 into the running (max, sum, acc); also return the tile's e.

    In a Python loop (NumPy, torch, strict) s0 is an int and the tile is a slice (a view; the
    last one may be shorter). Under ``lax.fori_loop`` s0 is traced: the standard has no dynamic
    slice, so the keys are gathered with ``take``, and positions past S clipped and masked.
    """
    xp = keys.xp
    m, total, acc = state
    padded = False
    if keys.bk >= keys.s:  # every key at once
        cols, k, v = None, keys.k, keys.v
        positions = xp.arange(keys.s, dtype=keys.index, device=keys.device)
    elif isinstance(s0, int):
        cols = slice(s0, min(s0 + keys.bk, keys.s))
        k, v = keys.k[..., cols, :], keys.v[..., cols, :]
        positions = xp.arange(cols.start, cols.stop, dtype=keys.index, device=keys.device)
    else:
        positions = s0 + xp.arange(keys.bk, dtype=keys.index, device=keys.device)  # (bk,)
        cols = xp.clip(positions, 0, keys.s - 1)
        k, v = xp.take(keys.k, cols, axis=-2), xp.take(keys.v, cols, axis=-2)
        padded = keys.s % keys.bk != 0  # the last tile overhangs S

    s = q @ xp.matrix_transpose(k)  # (..., bq, H) @ (..., H, bk) -> (..., bq, bk)
    if bias is not None:
        s = s + _cols(bias, cols, xp=xp)
    mask = _cols(mask, cols, xp=xp)
    allowed = _allowed(keys, mask, t0, t0 + q.shape[-2], positions, padded=padded)
    if allowed is not None:
        s = xp.where(allowed, s, _NEG_INF)

    m_new = xp.maximum(m, xp.max(s, axis=-1, keepdims=True))  # (..., bq, 1)
    shift = _finite_shift(m_new, xp=xp)
    e = xp.exp(s - shift)
    rescale = xp.exp(m - shift)  # what was summed under the old max; 0 on the first tile
    total = total * rescale + xp.sum(e, axis=-1, keepdims=True)
    if keys.dropout_p > 0.0:
        keep = _keep(keys, t0, q.shape[-2], s0)  # drawn at full tile width on every backend
        e = xp.where(keep[..., : e.shape[-1]], e, 0.0)
    acc = acc * rescale + e @ v  # (..., bq, bk) @ (..., bk, Hv) -> (..., bq, Hv)
    return (m_new, total, acc), e


def _allowed(
    keys: _Keys, mask: Array | None, t0: int, t1: int, positions: Array, *, padded: bool
) -> Array | None:
    """Which keys (at `positions`, (bk,)) the queries t0:t1 may see, or None (all)."""
    xp, allowed = keys.xp, mask
    rules = []
    if keys.causal_offset is not None:  # query i sees keys j <= i + offset
        rows = xp.arange(t0, t1, dtype=keys.index, device=keys.device)
        rules.append(positions[None, :] <= rows[:, None] + keys.causal_offset)  # (bq, bk)
    if keys.key_limit is not None:  # KV cache positions not written yet
        rules.append(positions < keys.key_limit)
    if padded:  # the clipped overhang of the last gathered tile
        rules.append(positions < keys.s)
    for rule in rules:
        allowed = rule if allowed is None else allowed & rule
    return allowed


def _keep(keys: _Keys, t0: int, bq: int, s0: Any) -> Array:
    """Dropout's keep mask of a tile: ``bernoulli(fold_in(fold_in(key, t0), s0), 1 - p)``."""
    from .. import random

    shape = (*keys.dims.lead, bq, min(keys.bk, keys.s))  # (B..., N, bq, bk)
    tile_key = random.fold_in(random.fold_in(keys.key, t0), s0)
    return _group(random.bernoulli(tile_key, 1.0 - keys.dropout_p, shape), keys.dims, xp=keys.xp)


def attend(
    q: Array,
    k: Array,
    v: Array,
    dims: Dims,
    *,
    scale: float,
    mask: Array | None = None,
    bias: Array | None = None,
    causal_offset: Any = None,
    key_limit: Any = None,
    dropout_p: float = 0.0,
    key: Array | None = None,
    return_weights: bool = False,
    block_size: tuple[int, int] | None = None,
    xp: Namespace,
) -> tuple[Array, Array | None]:
    """Scaled dot-product attention of validated inputs; returns (output, weights or None).

    q (B..., N, T, H), k (B..., K, S, H), v (B..., K, S, Hv); mask (bool) and bias broadcast to
    (B..., N, T, S). `block_size` (bq, bk): queries bq rows at a time, keys bk at a time (None:
    all at once); weights need every key of a row at once, so `return_weights` sets bk = S.
    `causal_offset`: query i sees keys j <= i + offset; `key_limit`: keys j >= it are unused.
    """
    in_dtype, dtype = q.dtype, statistics_dtype(q.dtype, xp=xp)
    # Scale q rather than the scores: T*H multiplications instead of T*S.
    q = xp.astype(q, dtype, copy=False) * scale
    k, v = xp.astype(k, dtype, copy=False), xp.astype(v, dtype, copy=False)
    if bias is not None:
        bias = xp.astype(bias, dtype, copy=False)
    q, mask, bias = _group(q, dims, xp=xp), _group(mask, dims, xp=xp), _group(bias, dims, xp=xp)
    if dims.group > 1:
        k, v = xp.expand_dims(k, axis=-3), xp.expand_dims(v, axis=-3)  # (B..., K, 1, S, H)

    bq, bk = block_size or (dims.t, dims.s)
    bq, bk = max(1, min(bq, dims.t)), dims.s if return_weights else min(bk, dims.s)
    traced = key_limit if key_limit is not None else causal_offset  # the cache index, or an int
    keys = _Keys(
        k=k,
        v=v,
        bk=bk,
        causal_offset=causal_offset,
        key_limit=key_limit,
        dropout_p=dropout_p,
        key=key,
        dims=dims,
        index=index_dtype(xp) if getattr(traced, "dtype", None) is None else traced.dtype,
        xp=xp,
        device=device_of(q),
    )
    outs, weights = [], []
    for t0 in range(0, max(dims.t, 1), bq):  # a static count: jax.jit unrolls it
        t1 = min(t0 + bq, dims.t)
        rows = q[..., t0:t1, :]
        out, w = _query_block(
            keys, rows, _rows(mask, t0, t1), _rows(bias, t0, t1), t0, weights=return_weights
        )
        outs.append(out)
        weights.append(w)

    out = outs[0] if len(outs) == 1 else xp.concat(outs, axis=-2)  # (..., T, Hv)
    out = xp.astype(_ungroup(out, dims, xp=xp), in_dtype, copy=False)
    if not return_weights:
        return out, None
    w = weights[0] if len(weights) == 1 else xp.concat(weights, axis=-2)  # (..., T, S)
    return out, xp.astype(_ungroup(w, dims, xp=xp), in_dtype, copy=False)
