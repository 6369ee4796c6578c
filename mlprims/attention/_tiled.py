"""Attention in tiles, so that memory does not grow with T * S: the online softmax of flash
attention (Milakov & Gimelshein 2018; Dao et al. 2022). Private; the shape legend is
:mod:`mlprims.attention`'s.

Queries go in blocks of `bq` rows (a Python loop: a static count, which jax.jit unrolls). A
block whose keys fit in one tile (bk >= S, always so when the weights are asked for) is
:func:`._dense.dense_attention` of those rows. Otherwise keys go in blocks of `bk`
(``backends.of(q).fori_loop``: ``lax.fori_loop`` under JAX, a Python loop elsewhere) and each
query row keeps the running maximum m, the running sum l of exp(score - m) and the running
weighted sum acc of values::

    s     = (q * scale) @ k_blk^T + bias_blk       (B..., N, bq, bk)
    s     = where(allowed, s, -inf)                mask & causal & cache prefix & padding keys
    m_new = max(m, rowmax(s))
    e     = exp(s - m_new)                         a row with no key yet shifts by 0: e = 0
    l     = l * exp(m - m_new) + rowsum(e)         rescale what was summed under the old max
    acc   = acc * exp(m - m_new) + (e * keep) @ v_blk        keep: dropout
    out   = acc / (l * (1 - p))                    0 / 0 (nothing to attend to) is taken as 0

Only a (B..., N, bq, bk) tile of scores ever exists.
"""

from __future__ import annotations

from typing import Any

from .. import backends
from .._array import Array, broadcast_shapes
from ._common import NEG_INF, Rules, allowed_keys, finite_shift, keep_mask, nonzero
from ._dense import dense_attention

__all__ = ["tiled_attention"]

State = tuple[Array, Array, Array]  # running (max, sum, acc) of a query block


def tiled_attention(
    q: Array,
    k: Array,
    v: Array,
    mask: Array | None,
    bias: Array | None,
    rules: Rules,
    *,
    block: tuple[int, int],
) -> tuple[Array, Array | None]:
    """Output (..., T, Hv), and weights (..., T, S) when the keys are not tiled (bk >= S).

    q (..., T, H) comes scaled and grouped; `block` (bq, bk) is already clipped to (T, S).
    """
    xp, (bq, bk) = rules.xp, block
    length, outs, weights = q.shape[-2], [], []
    for t0 in range(0, max(length, 1), bq):  # a static count: jax.jit unrolls it
        t1 = min(t0 + bq, length)
        rows, mask_rows, bias_rows = q[..., t0:t1, :], _rows(mask, t0, t1), _rows(bias, t0, t1)
        if bk >= rules.dims.s:
            out, w = dense_attention(rows, k, v, mask_rows, bias_rows, rules, t0=t0)
            weights.append(w)
        else:
            out = _online_softmax(rows, k, v, mask_rows, bias_rows, rules, t0=t0, bk=bk)
        outs.append(out)
    out = outs[0] if len(outs) == 1 else xp.concat(outs, axis=-2)  # (..., T, Hv)
    if not weights:
        return out, None
    return out, weights[0] if len(weights) == 1 else xp.concat(weights, axis=-2)  # (..., T, S)


def _online_softmax(
    q: Array,
    k: Array,
    v: Array,
    mask: Array | None,
    bias: Array | None,
    rules: Rules,
    *,
    t0: int,
    bk: int,
) -> Array:
    """Attention of the queries t0.. (q: (..., bq, H)) to all keys, bk keys at a time."""
    xp = rules.xp
    # The running state has the batch axes of the scores: q's broadcast against k's, which
    # may be more (queries shared over a batch); lax.fori_loop needs them fixed from the start.
    batch = broadcast_shapes(q.shape[:-2], k.shape[:-2])  # (B..., N) or grouped (B..., K, G)
    rows = (*batch, q.shape[-2], 1)  # (..., bq, 1): running max, running sum per query
    state = (
        xp.full(rows, NEG_INF, dtype=q.dtype, device=rules.device),
        xp.zeros(rows, dtype=q.dtype, device=rules.device),
        xp.zeros((*batch, q.shape[-2], v.shape[-1]), dtype=q.dtype, device=rules.device),
    )

    def tile(j: Any, state: State) -> State:
        return _fold_tile(q, k, v, mask, bias, rules, state, t0=t0, s0=j * bk, bk=bk)

    blocks = -(-rules.dims.s // bk)  # ceil(S / bk)
    _, total, acc = backends.of(q).fori_loop(0, blocks, tile, state)  # lax.fori_loop: one body
    return acc / nonzero(total * (1.0 - rules.dropout_p), xp=xp)  # dropout: kept / (1 - p)


def _fold_tile(
    q: Array,
    k: Array,
    v: Array,
    mask: Array | None,
    bias: Array | None,
    rules: Rules,
    state: State,
    *,
    t0: int,
    s0: Any,
    bk: int,
) -> State:
    """Fold keys s0 .. s0 + bk - 1 into the running (max, sum, acc) of the queries t0...

    In a Python loop (NumPy, torch, strict) s0 is an int and the tile is a slice (a view; the
    last one may be shorter). Under ``lax.fori_loop`` s0 is traced: the standard has no dynamic
    slice, so the keys are gathered with ``take``, and positions past S clipped and masked.
    """
    xp, s_len = rules.xp, rules.dims.s
    m, total, acc = state
    if isinstance(s0, int):
        cols: Any = slice(s0, min(s0 + bk, s_len))
        k_blk, v_blk = k[..., cols, :], v[..., cols, :]
        keys = xp.arange(cols.start, cols.stop, dtype=rules.index, device=rules.device)
    else:
        keys = s0 + xp.arange(bk, dtype=rules.index, device=rules.device)  # (bk,)
        cols = xp.clip(keys, 0, s_len - 1)
        k_blk, v_blk = xp.take(k, cols, axis=-2), xp.take(v, cols, axis=-2)

    s = q @ xp.matrix_transpose(k_blk)  # (..., bq, H) @ (..., H, bk) -> (..., bq, bk)
    if bias is not None:
        s = s + _cols(bias, cols, xp=xp)
    padded = not isinstance(s0, int) and s_len % bk != 0  # the last tile overhangs S
    allowed = allowed_keys(
        rules, _cols(mask, cols, xp=xp), t0, t0 + q.shape[-2], keys, padded=padded
    )
    if allowed is not None:
        s = xp.where(allowed, s, NEG_INF)

    m_new = xp.maximum(m, xp.max(s, axis=-1, keepdims=True))  # (..., bq, 1)
    shift = finite_shift(m_new, xp=xp)
    e = xp.exp(s - shift)
    rescale = xp.exp(m - shift)  # what was summed under the old max; 0 on the first tile
    total = total * rescale + xp.sum(e, axis=-1, keepdims=True)
    if rules.dropout_p > 0.0:
        keep = keep_mask(rules, t0, q.shape[-2], s0, min(bk, s_len))  # full width everywhere
        e = xp.where(keep[..., : e.shape[-1]], e, 0.0)
    acc = acc * rescale + e @ v_blk  # (..., bq, bk) @ (..., bk, Hv) -> (..., bq, Hv)
    return m_new, total, acc


def _rows(a: Array | None, t0: int, t1: int) -> Array | None:
    """Rows t0:t1 of a (..., T, S) mask or bias; one that broadcasts over T (size 1) stays."""
    if a is None or a.ndim < 2 or a.shape[-2] == 1:
        return a
    return a[..., t0:t1, :]


def _cols(a: Array | None, cols: Any, *, xp: Any) -> Array | None:
    """Columns `cols` (a slice or indices) of a (..., S) mask or bias."""
    if a is None or a.ndim == 0 or a.shape[-1] == 1:  # broadcasts over S
        return a
    return a[..., cols] if isinstance(cols, slice) else xp.take(a, cols, axis=-1)
