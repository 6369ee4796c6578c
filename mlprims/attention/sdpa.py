"""Scaled dot-product attention (see the shape legend in :mod:`mlprims.attention`), and
:func:`attend`, the core it shares with multi-head attention: the whole score matrix at once
when one tile covers the problem (:mod:`._dense`), else tiles (:mod:`._tiled`).
"""

from __future__ import annotations

from typing import Any

from array_api_compat import device as device_of

from .. import backends
from .._array import (
    Array,
    Namespace,
    check_bool,
    index_dtype,
    namespace,
    statistics_dtype,
)
from .._layers import check_dropout
from . import _checks as checks
from ._common import Rules, group, ungroup
from ._dense import dense_attention
from ._tiled import tiled_attention

__all__: list[str] = ["scaled_dot_product_attention"]


def scaled_dot_product_attention(
    q: Array,
    k: Array,
    v: Array,
    /,
    *,
    mask: Array | None = None,
    bias: Array | None = None,
    is_causal: bool = False,
    causal_align: str = "top_left",
    scale: float | None = None,
    dropout_p: float = 0.0,
    key: Array | None = None,
    return_weights: bool = False,
    block_size: int | tuple[int, int] | str | None = "auto",
) -> Array | tuple[Array, Array]:
    r"""Scaled dot-product attention: ``softmax(q @ k^T * scale + bias, masked) @ v``.

    Parameters
    ----------
    q : array, shape (B..., N, T, H)
        Queries; any number of batch axes, or none and no head axis: (T, H).
    k : array, shape (B..., K, S, H)
        Keys, same dtype as `q`. N must equal K or be a multiple of it: query head n uses
        key/value head ``n // (N // K)`` (grouped-query attention; K = 1 is multi-query).
    v : array, shape (B..., K, S, Hv)
        Values, same dtype and leading axes as `k`.
    mask : boolean array, broadcastable to (B..., N, T, S), optional
        True = attend (torch SDPA and jax.nn); False removes the key for that query.
    bias : floating array, broadcastable to (B..., N, T, S), optional
        Added to the scores (relative positions, ALiBi, a float mask with -inf); this is what
        torch calls a float ``attn_mask``.
    is_causal : bool
        Query i sees only keys j <= i (top-left) or j <= i + S - T (bottom-right).
    causal_align : {"top_left", "bottom_right"}
        ``"top_left"`` is torch's ``is_causal`` (``tril(ones(T, S))``); ``"bottom_right"``
        aligns the last query with the last key, as when new queries follow cached keys.
    scale : float, optional
        Multiplies the scores; default ``1 / sqrt(H)``.
    dropout_p : float in [0, 1)
        Dropout on the attention weights, kept ones scaled by ``1 / (1 - dropout_p)`` (torch).
    key : mlprims.random key, required when `dropout_p` > 0
        The same key gives the same dropout mask on every backend.
    return_weights : bool
        Also return the attention weights (after dropout, like torch's MultiheadAttention).
    block_size : int, (int, int), None or "auto"
        Tiles of (query rows, keys); an int is both. Queries go a block at a time; within
        one, keys go a block at a time with the online softmax of flash attention, so only a
        (B..., N, bq, bk) tile of scores exists: memory does not grow with T * S. The result
        equals the untiled one to float rounding. None: one tile, the whole (T, S) matrix.
        ``"auto"`` (default): one tile while prod(B..., N) * T * S <= 2**22 (16 MiB of
        float32 scores), else tiles of (128, 128). Query blocks are a Python loop (a static
        count, unrolled by ``jax.jit``); key blocks a ``fori_loop`` (``lax.fori_loop`` on JAX,
        compiled once: jit the caller, as JAX compiles it again on every eager call). Causal
        tiles skip the key blocks that no query of the block sees (about half of them when
        T = S) and build no mask for the blocks below the diagonal.

    Returns
    -------
    output : array, shape (B..., N, T, Hv)
        In the dtype of `q`.
    weights : array, shape (B..., N, T, S)
        Only with `return_weights`. Weights need whole rows, so keys are then not tiled (the
        queries still are): memory grows with T * S, as the result itself does.

    Raises
    ------
    TypeError
        Non-array or non-floating `q`, `k`, `v`; dtypes that differ; a non-boolean `mask`.
    ValueError
        Head dims, lengths or head counts that do not fit; `mask`/`bias` that do not broadcast
        to (B..., N, T, S); a bad option; `dropout_p` > 0 without `key`.

    Notes
    -----
    .. math:: \operatorname{Attention}(Q, K, V)
              = \operatorname{softmax}\left(s\, Q K^\top + B\right) V,
              \qquad s = 1 / \sqrt{H} \text{ by default},

    with masked scores set to :math:`-\infty` before the softmax.
    Matches ``torch.nn.functional.scaled_dot_product_attention`` (``attn_mask`` boolean or
    float, ``is_causal``, ``scale``, ``enable_gqa=True``) and ``jax.nn.dot_product_attention``
    in the (B, T, N, H) layout. A query with no key left (fully masked, also by -inf in `bias`)
    gets output 0 and weights 0, like torch SDPA (jax.nn returns the mean of `v` there).
    float16/bfloat16 inputs are computed in float32 (scores, softmax statistics, the weighted
    sum) and the result is cast back. Dropout draws the keep mask of each tile (queries from
    row t0, keys from s0) as ``mlprims.random.bernoulli(fold_in(fold_in(key, t0), s0),
    1 - dropout_p, (B..., N, bq, bk))``: it depends on the key, the shapes and the tiles.

    References
    ----------
    Vaswani et al. 2017, "Attention Is All You Need", https://arxiv.org/abs/1706.03762

    https://pytorch.org/docs/stable/generated/torch.nn.functional.scaled_dot_product_attention.html

    https://jax.readthedocs.io/en/latest/_autosummary/jax.nn.dot_product_attention.html

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> q = np.ones((2, 4, 3, 8))          # (B, N, T, H)
    >>> kv = np.ones((2, 2, 5, 8))         # (B, K, S, H): 2 query heads per key/value head
    >>> mlprims.scaled_dot_product_attention(q, kv, kv, is_causal=True).shape
    (2, 4, 3, 8)
    >>> out, w = mlprims.scaled_dot_product_attention(
    ...     q, kv, kv, mask=np.zeros((3, 5), dtype=bool), return_weights=True)
    >>> float(abs(out).max()), float(w.sum())  # nothing to attend to: zeros, not NaN
    (0.0, 0.0)
    """
    xp = namespace(q, k, v, mask, bias, names=("q", "k", "v", "mask", "bias"))
    dims = checks.check_inputs(q, k, v, mask, bias, xp=xp)
    causal_offset = checks.causal_offset(is_causal, causal_align, dims)
    scale = checks.check_scale(scale, dims.h)
    dropout_p = check_dropout(dropout_p, key, q)
    block = checks.check_block_size(block_size, dims)
    check_bool(return_weights, "return_weights")
    out, weights = attend(
        q,
        k,
        v,
        dims,
        scale=scale,
        mask=mask,
        bias=bias,
        causal_offset=causal_offset,
        dropout_p=dropout_p,
        key=key,
        return_weights=return_weights,
        block_size=block,
        xp=xp,
    )
    return (out, weights) if return_weights else out


def attend(
    q: Array,
    k: Array,
    v: Array,
    dims: checks.Dims,
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
    """Attention of validated inputs: (output, weights or None).

    q (B..., N, T, H), k (B..., K, S, H), v (B..., K, S, Hv); mask (bool) and bias broadcast to
    (B..., N, T, S). `block_size` (bq, bk): queries bq rows at a time, keys bk at a time (None:
    all at once); weights need every key of a row at once, so `return_weights` sets bk = S.
    `causal_offset`: query i sees keys j <= i + offset; `key_limit`: keys j >= it are unused.
    """
    fori_loop = backends.of(q).fori_loop  # first: torch.compile breaks its graph here, once
    in_dtype, dtype = q.dtype, statistics_dtype(q.dtype, xp=xp)
    # Scale q rather than the scores: T*H multiplications instead of T*S.
    q = xp.astype(q, dtype, copy=False) * scale
    k, v = xp.astype(k, dtype, copy=False), xp.astype(v, dtype, copy=False)
    if bias is not None:
        bias = xp.astype(bias, dtype, copy=False)
    q, mask, bias = group(q, dims, xp=xp), group(mask, dims, xp=xp), group(bias, dims, xp=xp)
    if dims.group > 1:
        k, v = xp.expand_dims(k, axis=-3), xp.expand_dims(v, axis=-3)  # (B..., K, 1, S, H)
    traced = key_limit if key_limit is not None else causal_offset  # the cache index, or an int
    rules = Rules(
        dims=dims,
        causal_offset=causal_offset,
        key_limit=key_limit,
        dropout_p=dropout_p,
        key=key,
        index=index_dtype(xp) if getattr(traced, "dtype", None) is None else traced.dtype,
        device=device_of(q),
        xp=xp,
        fori_loop=fori_loop,
    )

    bq, bk = block_size or (dims.t, dims.s)
    bq, bk = max(1, min(bq, dims.t)), dims.s if return_weights else min(bk, dims.s)
    if bq >= dims.t and bk >= dims.s:  # one tile covers the problem
        out, weights = dense_attention(q, k, v, mask, bias, rules)
    else:
        out, weights = tiled_attention(q, k, v, mask, bias, rules, block=(bq, bk))

    out = xp.astype(ungroup(out, dims, xp=xp), in_dtype, copy=False)  # (B..., N, T, Hv)
    if not return_weights or weights is None:
        return out, None
    return out, xp.astype(ungroup(weights, dims, xp=xp), in_dtype, copy=False)  # (B..., N, T, S)
