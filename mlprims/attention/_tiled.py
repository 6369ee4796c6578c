"""Attention in tiles, so that memory does not grow with T * S: the online softmax of flash
attention (Milakov & Gimelshein 2018; Dao et al. 2022). Private; the shape legend is
:mod:`mlprims.attention`'s.

Queries go in blocks of `bq` rows (a Python loop: a static count, which jax.jit unrolls). A
block whose keys fit in one tile (bk >= S, always so when the weights are asked for) is
:func:`._dense.dense_attention` of those rows. Otherwise keys go in blocks of `bk`, and each
query row keeps the running maximum m, the running sum l of exp(score - m) and the running
weighted sum acc of values::

    s     = (q * scale) @ k_blk^T + bias_blk       (B..., N, bq, bk)
    s     = s + causal_blk; where(mask_blk, s, -inf)   causal & cache prefix: 0 or -inf
    m_new = max(m, rowmax(s))
    e     = exp(max(s - m_new, EXP_FLOOR))         a row with no key yet shifts by 0
    l     = l * exp(m - m_new) + rowsum(e)         rescale what was summed under the old max
    acc   = acc * exp(m - m_new) + (e * keep) @ v_blk        keep: dropout
    out   = acc / (l * (1 - p))                    0 where no key was seen (m = -inf)

Only a (B..., N, bq, bk) tile of scores ever exists.

Causal block skipping: the causal offset and the KV cache limit are Python ints unless they
come from a cache index (an array, traced under jax.jit), so :func:`key_blocks` knows, for each
query block, the key blocks that every query sees whole (below the diagonal: no causal mask is
built for them) and those that none sees (above it: never computed). A causal call with T = S
computes about half of the tiles. Whole blocks of bk keys go through
``Rules.fori_loop`` (``lax.fori_loop`` under JAX, one traced body; a Python loop
elsewhere); the blocks on the diagonal and a last, shorter block through a Python loop, with
static slices. A skipped tile holds only weights that are 0, and the tiles computed draw the
dropout keep masks they drew before: the output is that of the full computation.
"""

from __future__ import annotations

from typing import Any

from .._array import Array
from ._common import NEG_INF, Rules, finite_shift, keep_mask, nonzero, remove_keys
from ._dense import dense_attention

__all__ = ["key_blocks", "tiled_attention"]

State = tuple[Array, Array, Array]  # running (max, sum, acc) of a query block

#: Shifted scores are clipped from below at EXP_FLOOR in a tile that may hold -inf: exp of -inf
#: or of anything under float32's log(smallest normal), -87.3, is many times slower than of a
#: normal number (torch on CPU). A removed key then weighs exp(-80) ~ 1.8e-35 instead of 0, next
#: to the row's largest weight exp(0) = 1; a query that sees no key at all still gets 0.
EXP_FLOOR = -80.0

#: A query block goes over more whole key blocks than this with ``fori_loop`` (under jax.jit:
#: one traced body, whatever the length), over fewer with a Python loop (unrolled under jax.jit:
#: static slices, faster code; about a third less time at T = S = 1024).
MAX_UNROLLED = 8


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
    kv_blocks = None if bk >= rules.dims.s else (_split(k, bk, xp=xp), _split(v, bk, xp=xp))
    for i, rows in enumerate(_split(q, bq, xp=xp)):  # a static count: jax.jit unrolls it
        t0, t1 = i * bq, min((i + 1) * bq, length)
        mask_rows, bias_rows = _rows(mask, t0, t1), _rows(bias, t0, t1)
        if kv_blocks is None:
            out, w = dense_attention(rows, k, v, mask_rows, bias_rows, rules, t0=t0)
            weights.append(w)
        else:
            out = _online_softmax(rows, k, v, kv_blocks, mask_rows, bias_rows, rules, t0=t0, bk=bk)
        outs.append(out)
    out = outs[0] if len(outs) == 1 else xp.concat(outs, axis=-2)  # (..., T, Hv)
    if not weights:
        return out, None
    return out, weights[0] if len(weights) == 1 else xp.concat(weights, axis=-2)  # (..., T, S)


def key_blocks(rules: Rules, t0: int, t1: int, bk: int) -> tuple[int, int]:
    """(whole, stop): which key blocks of bk keys the queries t0:t1 use.

    Blocks 0 .. whole - 1 hold only keys that every one of these queries sees, as far as the
    causal rule and the KV cache limit go: no causal mask is built for them (`mask` and
    `bias` still apply). Blocks whole .. stop - 1 hold keys that some query sees: masked.
    Blocks from `stop` on hold no key that any of these queries sees: skipped, never computed.

    Both are known, Python ints, when the causal offset and the key limit are None or ints;
    one that is an array (a KV cache index, traced under jax.jit) hides them: then every
    block is used and masked, (0, ceil(S / bk)).
    """
    s_len = rules.dims.s
    if not _static_limits(rules):
        return 0, -(-s_len // bk)
    first_unseen, last_unseen = s_len, s_len  # keys >= these: unseen by some / by all queries
    if rules.causal_offset is not None:  # query i sees keys j <= i + offset
        first_unseen = min(s_len, t0 + rules.causal_offset + 1)
        last_unseen = min(s_len, t1 + rules.causal_offset)
    if rules.key_limit is not None:  # keys j >= key_limit are unused
        first_unseen = min(first_unseen, rules.key_limit)
        last_unseen = min(last_unseen, rules.key_limit)
    whole = max(first_unseen, 0) // bk  # blocks that end before the first unseen key
    if first_unseen == s_len:  # the last block, shorter when bk does not divide S
        whole = -(-s_len // bk)
    return whole, -(-max(last_unseen, 0) // bk)  # ceil: blocks holding a key seen by some


def _static_limits(rules: Rules) -> bool:
    """Whether the causal offset and the key limit are known (None or Python ints)."""
    limits = (rules.causal_offset, rules.key_limit)
    return all(x is None or (isinstance(x, int) and not isinstance(x, bool)) for x in limits)


def _online_softmax(
    q: Array,
    k: Array,
    v: Array,
    kv_blocks: tuple[list[Array], list[Array]],
    mask: Array | None,
    bias: Array | None,
    rules: Rules,
    *,
    t0: int,
    bk: int,
) -> Array:
    """Attention of the queries t0.. (q: (..., bq, H)) to the keys they see, bk at a time.

    `kv_blocks`: k and v cut into blocks of bk keys (:func:`_split`), for the static tiles.
    """
    xp = rules.xp
    # The running state has the batch axes of the scores: q's broadcast against k's, which
    # may be more (queries shared over a batch); lax.fori_loop needs them fixed from the start.
    batch = rules.batch  # (B..., N) or grouped (B..., K, G)
    rows = (*batch, q.shape[-2], 1)  # (..., bq, 1): running max, running sum per query
    state = (
        xp.full(rows, NEG_INF, dtype=q.dtype, device=rules.device),
        xp.zeros(rows, dtype=q.dtype, device=rules.device),
        xp.zeros((*batch, q.shape[-2], v.shape[-1]), dtype=q.dtype, device=rules.device),
    )
    whole, stop = key_blocks(rules, t0, t0 + q.shape[-2], bk)

    def whole_tile(j: Any, state: State) -> State:  # every query sees every key: no causal mask
        return tile(j, state, whole=True)

    def tile(j: Any, state: State, *, whole: bool = False) -> State:
        if isinstance(j, int):  # a static block
            kv: tuple[Array, Array] = (kv_blocks[0][j], kv_blocks[1][j])
        else:  # a traced one (lax.fori_loop): gathered from all keys
            cols = j * bk + xp.arange(bk, dtype=rules.index, device=rules.device)  # (bk,)
            kv = xp.take(k, cols, axis=-2), xp.take(v, cols, axis=-2)
        arrays = (q, *kv, mask, bias, rules, state)
        return _fold_tile(*arrays, t0=t0, s0=j * bk, bk=bk, whole=whole)

    gathered = rules.dims.s // bk  # full-width blocks: lax.fori_loop can gather them
    done = min(whole, gathered)
    state = _loop(rules, 0, done, whole_tile, state)
    if not _static_limits(rules):  # the diagonal is not known: every full block is masked
        state = _loop(rules, done, gathered, tile, state)
        done = gathered
    for j in range(done, stop):  # the diagonal, a shorter last block; from `stop` on: skipped
        state = tile(j, state, whole=j < whole)
    m, total, acc = state
    out = acc / nonzero(total * (1.0 - rules.dropout_p), xp=xp)  # dropout: kept / (1 - p)
    return xp.where(m == NEG_INF, 0.0, out)  # no key seen: 0, not EXP_FLOOR's mean of values


def _loop(rules: Rules, lower: int, upper: int, tile: Any, state: State) -> State:
    """``state = tile(j, state)`` for the key blocks j = lower .. upper - 1, all full-width.

    More than MAX_UNROLLED blocks go through ``Rules.fori_loop`` (under JAX one traced body,
    keys gathered at a traced offset), fewer through a Python loop (static slices: under
    jax.jit, unrolled code that runs faster and compiles slower).
    """
    if upper - lower > MAX_UNROLLED:
        return rules.fori_loop(lower, upper, tile, state)
    for j in range(lower, upper):
        state = tile(j, state)
    return state


def _fold_tile(
    q: Array,
    k_blk: Array,
    v_blk: Array,
    mask: Array | None,
    bias: Array | None,
    rules: Rules,
    state: State,
    *,
    t0: int,
    s0: Any,
    bk: int,
    whole: bool = False,
) -> State:
    """Fold the keys s0, s0 + 1, ... (k_blk, v_blk: (..., bk, H), (..., bk, Hv)) into the
    running (max, sum, acc) of the queries t0...

    s0 is an int in a Python loop, traced under ``lax.fori_loop`` (where the block never
    overhangs S: see :func:`key_blocks`); `mask` and `bias` have every key. bk: the width of
    the blocks (the last one may be narrower). `whole`: every query sees every key of the
    tile, so only `mask` removes keys.
    """
    xp, width = rules.xp, k_blk.shape[-2]
    m, total, acc = state
    if isinstance(s0, int):
        cols: Any = slice(s0, s0 + width)
    else:
        cols = s0 + xp.arange(width, dtype=rules.index, device=rules.device)  # (bk,)

    s = q @ xp.matrix_transpose(k_blk)  # (..., bq, H) @ (..., H, bk) -> (..., bq, bk)
    if bias is not None:
        s = s + _cols(bias, cols, xp=xp)
    removed = not whole or mask is not None or bias is not None  # the tile may hold -inf
    if removed:
        keys = cols
        if isinstance(cols, slice):
            keys = xp.arange(cols.start, cols.stop, dtype=rules.index, device=rules.device)
        rows = (t0, t0 + q.shape[-2])
        s = remove_keys(s, rules, _cols(mask, cols, xp=xp), *rows, keys, by_position=not whole)

    m_new = xp.maximum(m, xp.max(s, axis=-1, keepdims=True))  # (..., bq, 1)
    shift = finite_shift(m_new, xp=xp) if removed else m_new  # else no row max is -inf
    e = xp.exp(xp.clip(s - shift, min=EXP_FLOOR) if removed else s - shift)
    rescale = xp.exp(m - shift)  # what was summed under the old max; 0 on the first tile
    total = total * rescale + xp.sum(e, axis=-1, keepdims=True)
    if rules.dropout_p > 0.0:
        keep = keep_mask(rules, t0, q.shape[-2], s0, bk)  # bk wide, also the narrower last tile
        e = xp.where(keep[..., :width], e, 0.0)
    acc = acc * rescale + e @ v_blk  # (..., bq, bk) @ (..., bk, Hv) -> (..., bq, Hv)
    return m_new, total, acc


def _split(x: Array, size: int, *, xp: Any) -> list[Array]:
    """`x` (..., L, X) cut along L into blocks of `size` rows, the last one maybe shorter.

    One ``unstack`` of a reshape gives all the full blocks: torch's autograd adds their
    gradients back with one stack, where a slice per block would zero-fill an array of the
    size of `x` for each (most of the time of a backward pass through the tiles).
    """
    length = x.shape[-2]
    full = length // size
    if full <= 1:
        return [x] if length <= size else [x[..., :size, :], x[..., size:, :]]
    body = x if full * size == length else x[..., : full * size, :]
    blocks = list(xp.unstack(xp.reshape(body, (*x.shape[:-2], full, size, x.shape[-1])), axis=-3))
    return blocks if full * size == length else [*blocks, x[..., full * size :, :]]


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
