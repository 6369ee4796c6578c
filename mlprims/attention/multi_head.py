"""Multi-head attention and its parameters; re-exported by :mod:`mlprims.attention`.

Shapes use the legend of :mod:`mlprims.attention` (B..., N, K, T, S, H, Hv) plus E = d_model.
Parameters are a plain dict of arrays in the JAX/Flax layout, ``y = x @ w + b``:

====  ================  ==========================================
wq    (E, N*H)          queries, heads side by side (head n: columns n*H:(n+1)*H)
wk    (E_kv, K*H)       keys
wv    (E_kv, K*Hv)      values
wo    (N*Hv, E)         output projection
bq, bk, bv, bo          biases, when ``bias=True``
====  ================  ==========================================

:func:`~mlprims.from_torch_multihead` (in :mod:`.convert`) converts a torch module's state.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, NamedTuple

from array_api_compat import device as device_of

from .. import backends
from .._array import (
    Array,
    check_array,
    check_bool,
    check_float_dtype,
    check_floating,
    check_int,
    namespace,
)
from .._layers import check_dropout, creation_target, linear, merge_heads, split_heads
from . import _checks as checks
from .kv_cache import check_cache, write_cache
from .sdpa import attend

__all__ = [
    "MultiHeadAttentionOutput",
    "init_multi_head_attention",
    "multi_head_attention",
    "self_attention",
]


class MultiHeadAttentionOutput(NamedTuple):
    """What :func:`multi_head_attention` and :func:`self_attention` return.

    Attributes
    ----------
    output : array, shape (B..., T, E)
        The attended queries after the output projection, in the dtype of `query`.
    weights : array of shape (B..., N, T, S), or None
        The attention weights of every head; None unless ``return_weights=True``.
    cache : dict or None
        The KV cache with this call's keys and values written and its index advanced by T;
        None unless a `cache` was given.
    """

    output: Array
    weights: Array | None
    cache: dict[str, Array] | None


def init_multi_head_attention(
    key: Array,
    d_model: int,
    num_heads: int,
    *,
    num_kv_heads: int | None = None,
    head_dim: int | None = None,
    bias: bool = True,
    dtype: Any = "float32",
    backend: str | backends.Backend | None = None,
) -> dict[str, Array]:
    """Parameters of multi-head attention, initialised like ``torch.nn.MultiheadAttention``.

    Parameters
    ----------
    key : mlprims.random key
        Same key, same parameters on every backend.
    d_model : int
        E, the width of the inputs and of the output.
    num_heads : int
        N query heads.
    num_kv_heads : int, optional
        K key/value heads, a divisor of N (default N; 1 is multi-query attention).
    head_dim : int, optional
        H (default ``d_model // num_heads``, which must then divide exactly).
    bias : bool
        Whether to create the biases ``bq, bk, bv, bo`` (zeros).
    dtype : str or dtype
        Floating dtype of the parameters.
    backend : str or Backend, optional
        Where to create them; default the backend of `key`.

    Returns
    -------
    dict
        ``wq (E, N*H)``, ``wk (E, K*H)``, ``wv (E, K*H)``, ``wo (N*H, E)``, and the biases.

    Notes
    -----
    torch draws its stacked ``in_proj_weight`` (N*H + 2*K*H, E) from ``xavier_uniform_``:
    U(-a, a) with ``a = sqrt(6 / (E + N*H + 2*K*H))``; we draw wq, wk, wv from that same
    distribution. ``out_proj`` is an ``nn.Linear`` whose default init,
    ``kaiming_uniform_(a=sqrt(5))``, is U(-1/sqrt(N*H), 1/sqrt(N*H)); torch then zeroes all
    biases, so do we.

    References
    ----------
    - https://pytorch.org/docs/stable/generated/torch.nn.MultiheadAttention.html

    Examples
    --------
    >>> import mlprims
    >>> p = mlprims.init_multi_head_attention(mlprims.random.key(0), 16, 4, num_kv_heads=2)
    >>> {name: w.shape for name, w in p.items() if name.startswith("w")}
    {'wq': (16, 16), 'wk': (16, 8), 'wv': (16, 8), 'wo': (16, 16)}
    """
    from .. import random

    check_array(key, "key")
    n, kv = checks.check_heads(num_heads, num_kv_heads)
    d_model = check_int(d_model, "d_model", minimum=1)
    if head_dim is None:
        if d_model % n:
            msg = (
                f"`d_model` ({d_model}) must be divisible by `num_heads` ({n}), or pass `head_dim`"
            )
            raise ValueError(msg)
        head_dim = d_model // n
    h = check_int(head_dim, "head_dim", minimum=1)
    check_bool(bias, "bias")
    key, target = creation_target(key, backend)
    xp = target.xp
    dtype = check_float_dtype(dtype, xp=xp)

    keys = random.split(key, 4)  # (4, 2): one key per weight matrix
    k_q, k_k, k_v, k_o = (keys[i, :] for i in range(4))
    a = math.sqrt(6.0 / (d_model + n * h + 2 * kv * h))  # xavier over torch's stacked in_proj
    b = 1.0 / math.sqrt(n * h)  # nn.Linear's default init of out_proj
    params = {
        "wq": random.uniform(k_q, (d_model, n * h), dtype=dtype, minval=-a, maxval=a),
        "wk": random.uniform(k_k, (d_model, kv * h), dtype=dtype, minval=-a, maxval=a),
        "wv": random.uniform(k_v, (d_model, kv * h), dtype=dtype, minval=-a, maxval=a),
        "wo": random.uniform(k_o, (n * h, d_model), dtype=dtype, minval=-b, maxval=b),
    }
    if bias:
        device = device_of(params["wq"])
        for name, width in (("bq", n * h), ("bk", kv * h), ("bv", kv * h), ("bo", d_model)):
            params[name] = xp.zeros((width,), dtype=dtype, device=device)
    return params


def multi_head_attention(
    params: Mapping[str, Array],
    query: Array,
    key_value: Array | None = None,
    /,
    *,
    num_heads: int,
    num_kv_heads: int | None = None,
    mask: Array | None = None,
    bias: Array | None = None,
    is_causal: bool = False,
    causal_align: str = "top_left",
    cache: Mapping[str, Array] | None = None,
    return_weights: bool = False,
    dropout_p: float = 0.0,
    key: Array | None = None,
    block_size: int | tuple[int, int] | str | None = "auto",
) -> MultiHeadAttentionOutput:
    r"""Multi-head attention: project, split heads, attend, merge heads, project.

    ``out = concat_heads(sdpa(x_q @ wq + bq, x_kv @ wk + bk, x_kv @ wv + bv)) @ wo + bo``

    Parameters
    ----------
    params : dict
        ``wq, wk, wv, wo`` and optionally ``bq, bk, bv, bo`` (see the module docstring),
        e.g. from :func:`init_multi_head_attention` or :func:`~mlprims.from_torch_multihead`.
    query : array, shape (B..., T, E)
        The tokens that ask (and, without `key_value`, also answer).
    key_value : array, shape (B..., S, E_kv), optional
        Keys and values come from here; None means self-attention (`query` itself).
    num_heads : int
        N query heads.
    num_kv_heads : int, optional
        K key/value heads, a divisor of N (default N; K < N is GQA, K = 1 MQA).
    mask : boolean array, broadcastable to (B..., N, T, S), optional
        True = attend; with a `cache`, S is ``max_length``.
    bias : floating array, broadcastable to (B..., N, T, S), optional
        Added to the scores; with a `cache`, S is ``max_length``.
    is_causal : bool
        Query i sees only keys j <= i (aligned by `causal_align`).
    causal_align : {"top_left", "bottom_right"}
        As in :func:`~mlprims.scaled_dot_product_attention`.
    cache : dict, optional
        A KV cache from :func:`~mlprims.init_kv_cache` (self-attention only). The new keys
        and values of the T tokens of `query` are written at positions
        ``index .. index + T - 1``; the queries attend to every written position
        (``< index + T``), and with `is_causal` query i sees positions ``<= index + i``
        (bottom-right alignment over the written prefix, whatever `causal_align` says).
        Writes past ``max_length`` are dropped: keep ``index + T <= max_length`` (the index
        is an array, not checked here so that this runs under ``jax.jit`` with a traced index).
    return_weights : bool
        Also return the attention weights of every head.
    dropout_p : float in [0, 1)
        Dropout on the attention weights (see :func:`~mlprims.scaled_dot_product_attention`).
    key : mlprims.random key, optional
        Required when `dropout_p` > 0.
    block_size : int, (int, int), None or "auto"
        Tiles of (query rows, keys), as in :func:`~mlprims.scaled_dot_product_attention`.

    Returns
    -------
    MultiHeadAttentionOutput
        ``(output, weights, cache)``: `output` (B..., T, E) in the dtype of `query`; `weights`
        (B..., N, T, S) per head (torch's ``average_attn_weights=False``), None unless
        `return_weights`; `cache` the buffers with the new keys and values and ``index + T``,
        None unless a `cache` was given.

    Notes
    -----
    With :math:`W^Q_n` the columns ``n*H:(n+1)*H`` of ``wq`` (likewise :math:`W^K_g, W^V_g` of
    ``wk, wv``, biases alike) and :math:`g(n) = \lfloor n / (N/K) \rfloor` the key/value head
    of query head :math:`n = 0, \dots, N - 1`:

    .. math::

        \text{out} = \operatorname{Concat}(\text{head}_0, \dots, \text{head}_{N-1})\, W^O + b^O

    .. math::

        \text{head}_n = \operatorname{softmax}\Bigl(\frac{Q_n K_{g(n)}^\top}{\sqrt{H}}
            + B_n\Bigr) V_{g(n)}, \qquad Q_n = X_q W^Q_n + b^Q_n

    with :math:`K_g = X_{kv} W^K_g + b^K_g`, :math:`V_g = X_{kv} W^V_g + b^V_g` (with a `cache`,
    appended to the cached ones), :math:`B` the `bias`, masked scores :math:`-\infty` as in
    :func:`~mlprims.scaled_dot_product_attention`, and no dropout.

    Equals ``torch.nn.MultiheadAttention(E, N, batch_first=True)`` with the parameters of
    :func:`~mlprims.from_torch_multihead`; torch's boolean ``attn_mask`` and
    ``key_padding_mask`` mean *masked out* where ours means *attend*: pass
    ``mask = ~attn_mask``.

    References
    ----------
    - Vaswani et al. 2017, "Attention Is All You Need", https://arxiv.org/abs/1706.03762
    - https://pytorch.org/docs/stable/generated/torch.nn.MultiheadAttention.html

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> p = mlprims.init_multi_head_attention(mlprims.random.key(0), 16, 4)
    >>> x = np.ones((2, 5, 16), dtype=np.float32)             # (B, T, E)
    >>> memory = np.ones((2, 7, 16), dtype=np.float32)        # (B, S, E)
    >>> out, weights, cache = mlprims.multi_head_attention(
    ...     p, x, memory, num_heads=4, return_weights=True)
    >>> out.shape, weights.shape, cache
    ((2, 5, 16), (2, 4, 5, 7), None)
    """
    xp = namespace(query, key_value)
    check_floating(query, "query", xp=xp)
    if key_value is not None:
        check_floating(key_value, "key_value", xp=xp)
        if key_value.dtype != query.dtype:
            msg = (
                f"`key_value` must have the dtype of `query` ({query.dtype}), got {key_value.dtype}"
            )
            raise TypeError(msg)
        if cache is not None:
            msg = "`cache` is for self-attention: pass `key_value=None` with a cache"
            raise ValueError(msg)
    source = query if key_value is None else key_value
    n, kv = checks.check_heads(num_heads, num_kv_heads)
    checks.check_params(params, query, source, n, kv)
    check_bool(is_causal, "is_causal")
    check_bool(return_weights, "return_weights")
    dropout_p = check_dropout(dropout_p, key, query)

    q = split_heads(linear(query, params["wq"], params.get("bq")), n, xp=xp)  # (B..., N, T, H)
    k = split_heads(linear(source, params["wk"], params.get("bk")), kv, xp=xp)  # (B..., K, S, H)
    v = split_heads(linear(source, params["wv"], params.get("bv")), kv, xp=xp)  # (B..., K, S, Hv)

    key_limit = new_cache = None
    if cache is not None:
        index = check_cache(cache, k, v, xp=xp)
        new_cache = write_cache(cache, k, v, xp=xp)
        k, v = new_cache["k"], new_cache["v"]  # (B..., K, max_length, H): valid or not
        key_limit = new_cache["index"]  # positions >= index + T are not written yet

    dims = checks.check_inputs(q, k, v, mask, bias, xp=xp)
    offset = checks.causal_offset(is_causal, causal_align, dims)
    if cache is not None and is_causal:
        offset = index  # query i sits at position index + i
    out, weights = attend(
        q,
        k,
        v,
        dims,
        scale=checks.check_scale(None, dims.h),
        mask=mask,
        bias=bias,
        causal_offset=offset,
        key_limit=key_limit,
        dropout_p=dropout_p,
        key=key,
        return_weights=return_weights,
        block_size=checks.check_block_size(block_size, dims),
        xp=xp,
    )
    out = linear(merge_heads(out, xp=xp), params["wo"], params.get("bo"))  # (B..., T, E)
    return MultiHeadAttentionOutput(out, weights, new_cache)


def self_attention(
    params: Mapping[str, Array],
    x: Array,
    /,
    *,
    num_heads: int,
    num_kv_heads: int | None = None,
    mask: Array | None = None,
    bias: Array | None = None,
    is_causal: bool = False,
    causal_align: str = "top_left",
    cache: Mapping[str, Array] | None = None,
    return_weights: bool = False,
    dropout_p: float = 0.0,
    key: Array | None = None,
    block_size: int | tuple[int, int] | str | None = "auto",
) -> MultiHeadAttentionOutput:
    r"""Self-attention: :func:`multi_head_attention` with keys and values from `x` itself.

    Parameters
    ----------
    params : dict
        ``wq, wk, wv, wo`` and optionally ``bq, bk, bv, bo``, as in
        :func:`multi_head_attention`.
    x : array, shape (B..., T, E)
        The tokens; queries, keys and values are all projected from them (S = T, or
        ``max_length`` with a `cache`).
    num_heads : int
        N query heads.
    num_kv_heads : int, optional
        K key/value heads, a divisor of N (default N).
    mask : boolean array, broadcastable to (B..., N, T, S), optional
        True = attend.
    bias : floating array, broadcastable to (B..., N, T, S), optional
        Added to the scores.
    is_causal : bool
        Token i sees only tokens j <= i.
    causal_align : {"top_left", "bottom_right"}
        As in :func:`~mlprims.scaled_dot_product_attention`.
    cache : dict, optional
        A KV cache from :func:`~mlprims.init_kv_cache`, for decoding a few tokens at a time.
    return_weights : bool
        Also return the attention weights of every head.
    dropout_p : float in [0, 1)
        Dropout on the attention weights.
    key : mlprims.random key, optional
        Required when `dropout_p` > 0.
    block_size : int, (int, int), None or "auto"
        Tiles of (query rows, keys).

    Returns
    -------
    MultiHeadAttentionOutput
        ``(output, weights, cache)`` as in :func:`multi_head_attention`.

    Notes
    -----
    In the notation of :func:`multi_head_attention`, with :math:`X_q = X_{kv} = x` (with a
    `cache`, the keys and values of earlier calls come before those of `x`):

    .. math::

        \text{head}_n = \operatorname{softmax}\Bigl(\frac{(x W^Q_n + b^Q_n)
            (x W^K_{g(n)} + b^K_{g(n)})^\top}{\sqrt{H}} + B_n\Bigr) (x W^V_{g(n)} + b^V_{g(n)})

    References
    ----------
    - Vaswani et al. 2017, "Attention Is All You Need", https://arxiv.org/abs/1706.03762
    - https://pytorch.org/docs/stable/generated/torch.nn.MultiheadAttention.html

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> p = mlprims.init_multi_head_attention(mlprims.random.key(0), 8, 2)
    >>> x = np.ones((3, 8), dtype=np.float32)                 # (T, E)
    >>> mlprims.self_attention(p, x, num_heads=2, is_causal=True).output.shape
    (3, 8)
    """
    return multi_head_attention(
        params,
        x,
        None,
        num_heads=num_heads,
        num_kv_heads=num_kv_heads,
        mask=mask,
        bias=bias,
        is_causal=is_causal,
        causal_align=causal_align,
        cache=cache,
        return_weights=return_weights,
        dropout_p=dropout_p,
        key=key,
        block_size=block_size,
    )
