"""Multi-head attention, its parameters, and the KV cache; re-exported by :mod:`mlprims.attention`.

Shapes use the legend of :mod:`mlprims.attention` (B..., N, K, T, S, H, Hv) plus E = d_model.
Parameters are a plain dict of arrays in the JAX/Flax layout, ``y = x @ w + b``:

====  ================  ==========================================
wq    (E, N*H)          queries, heads side by side (head n: columns n*H:(n+1)*H)
wk    (E_kv, K*H)       keys
wv    (E_kv, K*Hv)      values
wo    (N*Hv, E)         output projection
bq, bk, bv, bo          biases, when ``bias=True``
====  ================  ==========================================
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from array_api_compat import device as device_of

from .. import backends
from .._array import (
    Array,
    Namespace,
    check_array,
    check_floating,
    check_int,
    namespace,
    resolve_dtype,
    shape_str,
)
from . import _checks as checks
from ._tiled import attend
from .kv_cache import check_cache, write_cache

__all__ = [
    "from_torch_multihead",
    "init_multi_head_attention",
    "multi_head_attention",
    "self_attention",
]

_WEIGHTS = ("wq", "wk", "wv", "wo")
_BIASES = ("bq", "bk", "bv", "bo")


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

    Examples
    --------
    >>> import mlprims
    >>> p = mlprims.init_multi_head_attention(mlprims.random.key(0), 16, 4, num_kv_heads=2)
    >>> {name: w.shape for name, w in p.items() if name.startswith("w")}
    {'wq': (16, 16), 'wk': (16, 8), 'wv': (16, 8), 'wo': (16, 16)}
    """
    from .. import random

    check_array(key, "key")
    n, kv = _check_heads(num_heads, num_kv_heads)
    d_model = check_int(d_model, "d_model", minimum=1)
    if head_dim is None:
        if d_model % n:
            msg = (
                f"`d_model` ({d_model}) must be divisible by `num_heads` ({n}), or pass `head_dim`"
            )
            raise ValueError(msg)
        head_dim = d_model // n
    h = check_int(head_dim, "head_dim", minimum=1)
    checks.check_bool(bias, "bias")
    target = backends.of(key) if backend is None else backends.get(backend)
    if target.name != backends.of(key).name:  # the bits are identical everywhere: move the key
        key = target.asarray(backends.of(key).to_numpy(key))
    xp = target.xp
    dtype = resolve_dtype(dtype, xp=xp)
    if not xp.isdtype(dtype, "real floating"):
        msg = f"`dtype` must be a real floating dtype, got {dtype}"
        raise TypeError(msg)

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
) -> Any:
    """Multi-head attention: project, split heads, attend, merge heads, project.

    ``out = concat_heads(sdpa(x_q @ wq + bq, x_kv @ wk + bk, x_kv @ wv + bv)) @ wo + bo``

    Parameters
    ----------
    params : dict
        ``wq, wk, wv, wo`` and optionally ``bq, bk, bv, bo`` (see the module docstring),
        e.g. from :func:`init_multi_head_attention` or :func:`from_torch_multihead`.
    query : array, shape (B..., T, E)
    key_value : array, shape (B..., S, E_kv), optional
        Keys and values come from here; None means self-attention (`query` itself).
    num_heads, num_kv_heads : int
        N and K (default K = N); GQA/MQA when K < N.
    mask, bias, is_causal, causal_align, return_weights, dropout_p, key, block_size
        As in :func:`scaled_dot_product_attention`; `mask` and `bias` broadcast to
        (B..., N, T, S), with S = max_length when a `cache` is given.
    cache : dict, optional
        A KV cache from :func:`init_kv_cache` (self-attention only). The new keys and values
        of the T tokens of `query` are written at positions ``index .. index + T - 1``;
        the queries attend to every written position (``< index + T``), and with
        `is_causal` query i sees positions ``<= index + i`` (bottom-right alignment over the
        written prefix, whatever `causal_align` says). Writes past ``max_length`` are dropped:
        keep ``index + T <= max_length`` (the index is an array, not checked here so that this
        runs under ``jax.jit`` with a traced index).

    Returns
    -------
    output : array, shape (B..., T, E)
    weights : array, shape (B..., N, T, S)
        Only with `return_weights`: per head (torch's ``average_attn_weights=False``).
    new_cache : dict
        Only with `cache`: the buffers with the new keys and values, ``index + T``.
        The result is ``out``, ``(out, weights)``, ``(out, new_cache)`` or
        ``(out, weights, new_cache)``.

    Notes
    -----
    Equals ``torch.nn.MultiheadAttention(E, N, batch_first=True)`` with the parameters of
    :func:`from_torch_multihead`; torch's boolean ``attn_mask`` and ``key_padding_mask``
    mean *masked out* where ours means *attend*: pass ``mask = ~attn_mask``.

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> p = mlprims.init_multi_head_attention(mlprims.random.key(0), 16, 4)
    >>> x = np.ones((2, 5, 16), dtype=np.float32)             # (B, T, E)
    >>> mlprims.self_attention(p, x, num_heads=4, is_causal=True).shape
    (2, 5, 16)
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
    n, kv = _check_heads(num_heads, num_kv_heads)
    _check_params(params, query, source, n, kv)
    checks.check_bool(is_causal, "is_causal")
    checks.check_bool(return_weights, "return_weights")
    dropout_p = checks.check_dropout(dropout_p, key, query)

    q = _split_heads(_linear(query, params["wq"], params.get("bq")), n, xp=xp)  # (B..., N, T, H)
    k = _split_heads(_linear(source, params["wk"], params.get("bk")), kv, xp=xp)  # (B..., K, S, H)
    v = _split_heads(_linear(source, params["wv"], params.get("bv")), kv, xp=xp)  # (B..., K, S, Hv)

    key_limit = None
    if cache is not None:
        index = check_cache(cache, k, v, xp=xp)
        cache = write_cache(cache, k, v, xp=xp)
        k, v = cache["k"], cache["v"]  # (B..., K, max_length, H): every position, valid or not
        key_limit = cache["index"]  # positions >= index + T are not written yet

    dims = checks.check_inputs(q, k, v, mask, bias, xp=xp)
    offset = checks.causal_offset(is_causal, causal_align, dims)
    if cache is not None and is_causal:
        offset = index  # query i sits at position index + i
    out, weights = attend(
        q,
        k,
        v,
        dims,
        scale=1.0 / math.sqrt(dims.h),
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
    out = _linear(_merge_heads(out, xp=xp), params["wo"], params.get("bo"))  # (B..., T, E)
    result = (out, weights) if return_weights else (out,)
    if cache is not None:
        result = (*result, cache)
    return result[0] if len(result) == 1 else result


def self_attention(params: Mapping[str, Array], x: Array, /, **options: Any) -> Any:
    """Self-attention: :func:`multi_head_attention` with keys and values from `x` itself.

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> p = mlprims.init_multi_head_attention(mlprims.random.key(0), 8, 2)
    >>> mlprims.self_attention(p, np.ones((3, 8), dtype=np.float32), num_heads=2).shape
    (3, 8)
    """
    return multi_head_attention(params, x, None, **options)


def from_torch_multihead(
    state_dict: Mapping[str, Any], *, backend: str | backends.Backend | None = None
) -> dict[str, Array]:
    """Parameters for :func:`multi_head_attention` from a ``torch.nn.MultiheadAttention`` state.

    torch stores ``in_proj_weight`` (3E, E) (q, k, v stacked, ``x @ W.T``) or separate
    ``q/k/v_proj_weight`` when kdim/vdim differ, ``in_proj_bias`` (3E,), ``out_proj.weight``
    (E, E) and ``out_proj.bias``. We split and transpose them to ``wq = W_q.T`` etc.

    Parameters
    ----------
    state_dict : mapping
        ``module.state_dict()`` (torch tensors, or NumPy arrays with the same names).
    backend : str or Backend, optional
        Convert the arrays to this backend; default: keep the backend (and device) of the
        state dict, so torch tensors stay torch tensors.

    Returns
    -------
    dict
        ``wq, wk, wv, wo`` and ``bq, bk, bv, bo`` when the module has biases. Use
        ``num_heads=module.num_heads``.

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> state = {"in_proj_weight": np.zeros((24, 8)), "out_proj.weight": np.zeros((8, 8))}
    >>> sorted(mlprims.from_torch_multihead(state))
    ['wk', 'wo', 'wq', 'wv']
    """
    if not isinstance(state_dict, Mapping):
        msg = (
            f"`state_dict` must be a mapping (module.state_dict()), got {type(state_dict).__name__}"
        )
        raise TypeError(msg)
    if state_dict.get("bias_k") is not None or state_dict.get("bias_v") is not None:
        msg = "`state_dict` has bias_k/bias_v (add_bias_kv=True), which is not supported"
        raise ValueError(msg)

    def convert(name: str) -> Array:
        a = state_dict[name]
        check_array(a, f"state_dict[{name!r}]")
        if backend is not None:
            a = backends.get(backend).asarray(backends.of(a).to_numpy(a))
        return a

    if state_dict.get("in_proj_weight") is not None:
        w = convert("in_proj_weight")  # (3E, E)
        e = w.shape[0] // 3
        w_q, w_k, w_v = w[:e, :], w[e : 2 * e, :], w[2 * e :, :]
    elif state_dict.get("q_proj_weight") is not None:
        w_q, w_k, w_v = (convert(f"{p}_proj_weight") for p in "qkv")
    else:
        msg = "`state_dict` has neither 'in_proj_weight' nor 'q_proj_weight' (MultiheadAttention)"
        raise ValueError(msg)
    xp = namespace(w_q)
    params = {
        "wq": xp.matrix_transpose(w_q),  # (E, E): x @ wq == x @ W_q.T
        "wk": xp.matrix_transpose(w_k),
        "wv": xp.matrix_transpose(w_v),
        "wo": xp.matrix_transpose(convert("out_proj.weight")),
    }
    if state_dict.get("in_proj_bias") is not None:
        b = convert("in_proj_bias")  # (3E,)
        e = b.shape[0] // 3
        params["bq"], params["bk"], params["bv"] = b[:e], b[e : 2 * e], b[2 * e :]
    if state_dict.get("out_proj.bias") is not None:
        params["bo"] = convert("out_proj.bias")
    return params


def _check_heads(num_heads: Any, num_kv_heads: Any) -> tuple[int, int]:
    n = check_int(num_heads, "num_heads", minimum=1)
    kv = n if num_kv_heads is None else check_int(num_kv_heads, "num_kv_heads", minimum=1)
    if n % kv:
        msg = f"`num_kv_heads` ({kv}) must divide `num_heads` ({n}) for grouped-query attention"
        raise ValueError(msg)
    return n, kv


def _check_params(params: Any, query: Array, source: Array, n: int, kv: int) -> None:
    """Shapes of the parameters against the inputs and the head counts."""
    if not isinstance(params, Mapping):
        msg = f"`params` must be a dict of arrays, got {type(params).__name__}"
        raise TypeError(msg)
    missing = [name for name in _WEIGHTS if name not in params]
    if missing:
        msg = f"`params` is missing {', '.join(missing)}; expected {', '.join(_WEIGHTS)} (+ biases)"
        raise ValueError(msg)
    wq, wk, wv, wo = (params[name] for name in _WEIGHTS)
    for name in (*_WEIGHTS, *_BIASES):
        if params.get(name) is not None:
            check_array(params[name], f"params[{name!r}]")
    checks = (("wq", wq, query, n, "N"), ("wk", wk, source, kv, "K"), ("wv", wv, source, kv, "K"))
    for name, w, x, heads, letter in checks:
        if w.ndim != 2 or w.shape[0] != x.shape[-1] or w.shape[1] % heads:
            which = "query" if name == "wq" else "key_value"
            msg = (
                f"`params['{name}']` must have shape ({x.shape[-1]}, {letter}*H) for `{which}` "
                f"of width {x.shape[-1]} and {letter} = {heads} heads, got {shape_str(w.shape)}"
            )
            raise ValueError(msg)
    h = wq.shape[1] // n
    if wk.shape[1] != kv * h:
        msg = (
            f"`params['wk']` must have K*H = {kv}*{h} = {kv * h} columns like wq, got {wk.shape[1]}"
        )
        raise ValueError(msg)
    hv = wv.shape[1] // kv
    if wo.ndim != 2 or wo.shape[0] != n * hv:
        msg = f"`params['wo']` must have N*Hv = {n * hv} rows, got shape {shape_str(wo.shape)}"
        raise ValueError(msg)


def _linear(x: Array, w: Array, b: Array | None) -> Array:
    """x @ w + b, with w (d_in, d_out)."""
    y = x @ w
    return y if b is None else y + b


def _split_heads(x: Array, heads: int, *, xp: Namespace) -> Array:
    """(B..., L, heads*D) -> (B..., heads, L, D)."""
    *batch, length, width = x.shape
    x = xp.reshape(x, (*batch, length, heads, width // heads))  # (B..., L, heads, D)
    nb = len(batch)
    return xp.permute_dims(x, (*range(nb), nb + 1, nb, nb + 2))  # (B..., heads, L, D)


def _merge_heads(x: Array, *, xp: Namespace) -> Array:
    """(B..., N, T, D) -> (B..., T, N*D)."""
    *batch, heads, length, width = x.shape
    nb = len(batch)
    x = xp.permute_dims(x, (*range(nb), nb + 1, nb, nb + 2))  # (B..., T, N, D)
    return xp.reshape(x, (*batch, length, heads * width))
