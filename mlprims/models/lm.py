"""A tiny decoder-only language model in the Llama style, from mlprims' own primitives.

Architecture (tokens (B, T) -> logits (B, T, V)), nanoGPT's letters with the attention legend::

    x = embed[tokens]                                   (B, T, E)
    for each of the L blocks (pre-norm):
        h = rms_norm(x) · attn_norm
        q, k, v = h @ wq, h @ wk, h @ wv                (B, N, T, H), (B, K, T, H) twice
        q, k = rope(q), rope(k)                         rotated by their positions
        x = x + attention(q, k, v, causal) @ wo         grouped-query when K < N
        x = x + swiglu(rms_norm(x) · mlp_norm)          silu(h @ w_gate) * (h @ w_up) @ w_down
    logits = (rms_norm(x) · norm) @ embed.T             the output head tied to the embedding

Shape legend: B batch, T tokens, V vocabulary, E = d_model, N query heads, K key/value heads,
H = E / N head size, F = d_ff, M = max_len (the cache's capacity). Parameters are a plain dict
(a pytree), weights in the ``y = x @ w`` layout, no biases (as Llama)::

    embed                 (V, E)
    layers[i]             attn_norm (E,), wq (E, N·H), wk (E, K·H), wv (E, K·H), wo (N·H, E),
                          mlp_norm (E,), w_gate (E, F), w_up (E, F), w_down (F, E)
    norm                  (E,)

The KV cache (:func:`init_lm_cache`) holds every layer's keys and values, (B, K, M, H), and
``length`` (B,), the tokens it holds: every array has the batch on axis 0, so decoding
(:func:`lm_step_fn`) may reorder its rows (beam search).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from array_api_compat import device as device_of

from .. import backends, random
from .._array import (
    Array,
    Namespace,
    check_array,
    check_bool,
    check_dtype,
    check_float_dtype,
    check_int,
    concrete_any,
    creation_target,
    index_dtype,
    merge_heads,
    namespace,
    shape_str,
    split_heads,
)
from ..activations import swiglu
from ..attention import init_kv_cache, scaled_dot_product_attention
from ..attention.kv_cache import write_cache
from ..normalization import rms_norm
from ..positional import apply_rope

__all__ = ["LMConfig", "init_lm", "init_lm_cache", "lm", "lm_step_fn"]


@dataclass(frozen=True)
class LMConfig:
    """The sizes of a :func:`lm` model (hashable: a static argument under ``jax.jit``).

    Parameters
    ----------
    vocab : int
        V, the number of token ids.
    d_model : int
        E, the width of the residual stream; divisible by `n_heads`, with an even head size
        ``d_model // n_heads`` (RoPE rotates pairs).
    n_layers : int
        L, the number of blocks.
    n_heads : int
        N query heads.
    n_kv_heads : int, optional
        K key/value heads, a divisor of N (default N; K < N is grouped-query attention).
    d_ff : int, optional
        F, the hidden width of SwiGLU; default Llama's ``8/3 · d_model`` rounded up to a
        multiple of 8.
    max_len : int
        M, the longest sequence: the KV cache's capacity and the largest T.
    rope_base : float
        RoPE's ``base`` (``rope_theta``).
    norm_eps : float
        The RMSNorms' epsilon.
    """

    vocab: int
    d_model: int = 64
    n_layers: int = 2
    n_heads: int = 4
    n_kv_heads: int | None = None
    d_ff: int | None = None
    max_len: int = 128
    rope_base: float = 10000.0
    norm_eps: float = 1e-5

    def __post_init__(self) -> None:
        for name in ("vocab", "d_model", "n_layers", "n_heads", "max_len"):  # Python ints
            object.__setattr__(self, name, check_int(getattr(self, name), name, minimum=1))
        if self.d_model % self.n_heads or (self.d_model // self.n_heads) % 2:
            msg = (
                f"`d_model` ({self.d_model}) must be divisible by `n_heads` ({self.n_heads}) "
                "into an even head size (RoPE rotates pairs of features)"
            )
            raise ValueError(msg)
        kv = self.n_heads if self.n_kv_heads is None else self.n_kv_heads
        kv = check_int(kv, "n_kv_heads", minimum=1)
        if self.n_heads % kv:
            msg = f"`n_kv_heads` ({kv}) must divide `n_heads` ({self.n_heads})"
            raise ValueError(msg)
        object.__setattr__(self, "n_kv_heads", kv)  # resolved defaults: equal configs compare equal
        if self.d_ff is None:
            object.__setattr__(self, "d_ff", 8 * math.ceil(8 * self.d_model / 3 / 8))
        object.__setattr__(self, "d_ff", check_int(self.d_ff, "d_ff", minimum=1))
        if not (isinstance(self.rope_base, (int, float)) and self.rope_base > 0):
            msg = f"`rope_base` must be a positive number, got {self.rope_base!r}"
            raise ValueError(msg)
        if not (isinstance(self.norm_eps, (int, float)) and self.norm_eps >= 0):
            msg = f"`norm_eps` must be a number >= 0, got {self.norm_eps!r}"
            raise ValueError(msg)

    @property
    def head_dim(self) -> int:
        """H = d_model // n_heads."""
        return self.d_model // self.n_heads


def init_lm(
    key: Array,
    config: LMConfig,
    *,
    dtype: Any = "float32",
    backend: str | backends.Backend | None = None,
) -> dict[str, Any]:
    """Parameters of :func:`lm`, initialised as GPT-2.

    Parameters
    ----------
    key : mlprims.random key
        Same key, same parameters on every backend.
    config : LMConfig
        The sizes.
    dtype : str or dtype
        Floating dtype of the parameters.
    backend : str or Backend, optional
        Where to create them; default the backend of `key`.

    Returns
    -------
    dict
        ``embed``, ``layers`` (a list of dicts), ``norm`` (see the module docstring).

    Notes
    -----
    Every matrix from N(0, 0.02²), the two that write into the residual stream (``wo``,
    ``w_down``) scaled by ``1 / sqrt(2 L)`` (GPT-2, Radford et al. 2019); RMSNorm weights ones.

    Examples
    --------
    >>> import mlprims
    >>> config = mlprims.LMConfig(vocab=50, d_model=16, n_heads=4, n_kv_heads=2)
    >>> p = mlprims.init_lm(mlprims.random.key(0), config)
    >>> p["embed"].shape, p["layers"][0]["wk"].shape, len(p["layers"])
    ((50, 16), (16, 8), 2)
    """
    _check_config(config)
    check_array(key, "key")
    key, target = creation_target(key, backend)
    xp = target.xp
    dtype = check_float_dtype(dtype, xp=xp)
    e, f, h = config.d_model, int(config.d_ff or 0), config.head_dim
    n, kv = config.n_heads, _kv_heads(config)
    shapes = {
        "wq": (e, n * h),
        "wk": (e, kv * h),
        "wv": (e, kv * h),
        "wo": (n * h, e),
        "w_gate": (e, f),
        "w_up": (e, f),
        "w_down": (f, e),
    }
    residual = 1.0 / math.sqrt(2 * config.n_layers)
    keys = random.split(key, config.n_layers + 1)

    def normal(k: Array, shape: tuple[int, ...], scale: float = 1.0) -> Array:
        return random.normal(k, shape, dtype=dtype) * (0.02 * scale)

    layers = []
    for i in range(config.n_layers):
        layer_keys = random.split(keys[i + 1, :], len(shapes))
        layer = {
            name: normal(layer_keys[j, :], s, residual if name in ("wo", "w_down") else 1.0)
            for j, (name, s) in enumerate(shapes.items())
        }
        device = device_of(layer["wq"])
        layer["attn_norm"] = xp.ones((e,), dtype=dtype, device=device)
        layer["mlp_norm"] = xp.ones((e,), dtype=dtype, device=device)
        layers.append(layer)
    embed = normal(keys[0, :], (config.vocab, e))
    return {"embed": embed, "layers": layers, "norm": xp.ones((e,), dtype=dtype)}


def init_lm_cache(
    config: LMConfig,
    batch: int,
    *,
    dtype: Any = "float32",
    backend: str | backends.Backend | None = None,
) -> dict[str, Any]:
    """An empty KV cache for :func:`lm` and :func:`lm_step_fn`.

    Parameters
    ----------
    config : LMConfig
        The sizes.
    batch : int
        B, the rows decoded together.
    dtype : str or dtype
        The parameters' dtype.
    backend : str or Backend, optional
        Where to create it (default: see :func:`mlprims.use`).

    Returns
    -------
    dict
        ``layers``: one ``{"k", "v"}`` per block, each (B, K, M, H) zeros; ``length``: (B,)
        zeros, the tokens held.

    Examples
    --------
    >>> import mlprims
    >>> config = mlprims.LMConfig(vocab=50, d_model=16, n_heads=4, max_len=32)
    >>> cache = mlprims.init_lm_cache(config, 3)
    >>> cache["layers"][0]["k"].shape, cache["length"].tolist()
    ((3, 4, 32, 4), [0, 0, 0])
    """
    _check_config(config)
    b = check_int(batch, "batch", minimum=1)
    layers = []
    for _ in range(config.n_layers):
        kv = init_kv_cache(
            b, _kv_heads(config), config.max_len, config.head_dim, dtype=dtype, backend=backend
        )
        layers.append({"k": kv["k"], "v": kv["v"]})
    xp = namespace(layers[0]["k"])
    length = xp.zeros((b,), dtype=index_dtype(xp), device=device_of(layers[0]["k"]))
    return {"layers": layers, "length": length}


def lm(
    params: Mapping[str, Any],
    tokens: Array,
    /,
    *,
    config: LMConfig,
    cache: Mapping[str, Any] | None = None,
    index: int | Array | None = None,
) -> tuple[Array, dict[str, Any] | None]:
    """The language model's logits for every token of `tokens`, with or without a KV cache.

    Parameters
    ----------
    params : dict
        From :func:`init_lm`.
    tokens : integer array, shape (B, T)
        Token ids in ``[0, vocab)`` (checked when the values can be read, i.e. not under
        ``jax.jit``), T <= ``config.max_len``.
    config : LMConfig
        The sizes.
    cache : dict, optional
        From :func:`init_lm_cache` or a previous call: `tokens` continue the sequences it
        holds. Without one, `tokens` are whole sequences from position `index` (default 0).
    index : int or 0-d integer array, optional
        The position of ``tokens[:, 0]``; with a `cache`, default ``cache["length"][0]``.
        ``index + T`` must not exceed ``max_len`` (checked when readable).

    Returns
    -------
    logits : array, shape (B, T, V)
        Scores of the token after each position, in the parameters' dtype.
    cache : dict or None
        With a `cache`: this call's keys and values written at positions
        ``index .. index + T - 1`` and ``length = index + T``; else None.

    Notes
    -----
    Token i attends to the positions ``<= index + i`` (causal), through the cache when there
    is one; so feeding a sequence in chunks through the cache gives the logits of one
    uncached call, to rounding. RoPE uses Hugging Face Llama's ``"half"`` pairing.

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> config = mlprims.LMConfig(vocab=10, d_model=8, n_heads=2, max_len=16)
    >>> p = mlprims.init_lm(mlprims.random.key(0), config)
    >>> tokens = np.array([[1, 2, 3, 4]])
    >>> full, _ = mlprims.lm(p, tokens, config=config)
    >>> cache = mlprims.init_lm_cache(config, 1)
    >>> first, cache = mlprims.lm(p, tokens[:, :3], config=config, cache=cache)
    >>> last, cache = mlprims.lm(p, tokens[:, 3:], config=config, cache=cache)
    >>> full.shape, bool(np.allclose(full[:, 3], last[:, 0], atol=1e-6)), cache["length"].tolist()
    ((1, 4, 10), True, [4])
    """
    _check_config(config)
    xp = _check_tokens(params, tokens, config)
    batch, length = tokens.shape
    if cache is not None:
        _check_cache(cache, config, batch, params["embed"].dtype, xp=xp)
        if index is None:
            index = cache["length"][0]
    start = _check_index(0 if index is None else index, length, config, xp=xp)

    flat = xp.reshape(tokens, (batch * length,))
    x = xp.reshape(xp.take(params["embed"], flat, axis=0), (batch, length, config.d_model))
    new_layers = []
    for i, layer in enumerate(params["layers"]):
        layer_cache = None if cache is None else cache["layers"][i]
        x, layer_cache = _block(layer, x, layer_cache, start, config, xp=xp)
        new_layers.append(layer_cache)
    x = rms_norm(x, config.d_model, params["norm"], eps=config.norm_eps)
    logits = x @ xp.matrix_transpose(params["embed"])  # (B, T, V): the tied output head
    if cache is None:
        return logits, None
    filled = _as_index(start, xp=xp, like=tokens) + length
    return logits, {"layers": new_layers, "length": xp.broadcast_to(filled, (batch,))}


def lm_step_fn(
    params: Mapping[str, Any], config: LMConfig, *, cached: bool = True
) -> Callable[[Array, Any, Any], tuple[Array, Any]]:
    """A step function of :func:`lm` for :func:`mlprims.generate`.

    Parameters
    ----------
    params : dict
        From :func:`init_lm`.
    config : LMConfig
        The sizes.
    cached : bool
        Decode with a KV cache (default); False recomputes the whole buffer at every step
        (the reference the cache must equal, and what a model without a cache does).

    Returns
    -------
    callable
        ``step_fn(tokens, cache, index) -> (logits, cache)``: `tokens` the whole (B, L)
        buffer (L <= ``max_len``), `index` the positions filled (an int, or a 0-d integer
        array, traced under ``jax.jit``), `logits` (B, V) the scores of the token at position
        `index`. With `cached`, the cache (None at the first call: it is built then, or one
        from :func:`init_lm_cache`) receives only the tokens not yet in it: the whole prompt
        at the first call, one token at each later one.

    Notes
    -----
    How many tokens are new (``index - cache["length"]``) sets the shape of the model's
    input, so it must be known. At the first call it is (an empty cache, ``index = P`` an
    int): the prompt goes in one call, also under ``jax.jit``. Later, eagerly, it is too; under
    ``jax.jit`` the index and the cache are traced, and the new tokens go one at a time in a
    backend ``fori_loop`` from the cache's length to `index` (one iteration per step). Both
    give the same logits. The column ``index - 1`` is picked with ``take`` and an index
    array, never a Python slice, so a traced `index` works.

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> config = mlprims.LMConfig(vocab=10, d_model=8, n_heads=2, max_len=8)
    >>> step = mlprims.lm_step_fn(mlprims.init_lm(mlprims.random.key(0), config), config)
    >>> mlprims.generate(step, np.array([[3, 1, 4]]), 5).shape     # prompt of 3, 5 more
    (1, 8)
    >>> logits, cache = step(np.array([[3, 1, 4, 0]]), None, 3)    # one step by hand
    >>> logits.shape, cache["length"].tolist()
    ((1, 10), [3])
    """
    _check_config(config)
    check_bool(cached, "cached")

    def step_fn(tokens: Array, cache: Any, index: Any) -> tuple[Array, Any]:
        xp = _check_tokens(params, tokens, config)
        if not cached:
            logits, _ = lm(params, tokens, config=config)  # (B, L, V), causal: pads unseen
            return _column(logits, index, xp=xp), cache
        if cache is None:
            embed = params["embed"]
            backend = backends.of(tokens)
            cache = init_lm_cache(config, tokens.shape[0], dtype=embed.dtype, backend=backend)
            start: int | None = 0
        else:
            start = _concrete_int(cache["length"][0])
        stop = _concrete_int(index)
        if start is None or stop is None:  # traced (jax.jit): a loop over the new tokens
            return _one_at_a_time(params, tokens, cache, index, config, xp=xp)
        if not 0 <= start < stop:
            msg = f"`index` ({stop}) must exceed the tokens in the cache ({start})"
            raise ValueError(msg)
        logits, cache = lm(params, tokens[:, start:stop], config=config, cache=cache, index=start)
        return logits[:, -1, :], cache

    return step_fn


def _one_at_a_time(
    params: Mapping[str, Any],
    tokens: Array,
    cache: Any,
    index: Any,
    config: LMConfig,
    *,
    xp: Namespace,
) -> tuple[Array, Any]:
    """Feed positions ``cache["length"][0] .. index - 1`` one by one (traced bounds)."""

    def body(i: Any, carry: tuple[Any, Array]) -> tuple[Any, Array]:
        cache, _ = carry
        position = _as_index(i, xp=xp, like=tokens)
        token = xp.take(tokens, xp.reshape(position, (1,)), axis=1)  # (B, 1)
        logits, cache = lm(params, token, config=config, cache=cache, index=position)
        return cache, logits[:, 0, :]

    batch = tokens.shape[0]
    embed = params["embed"]
    empty = xp.zeros((batch, config.vocab), dtype=embed.dtype, device=device_of(embed))
    start = _as_index(cache["length"][0], xp=xp, like=tokens)
    stop = _as_index(index, xp=xp, like=tokens)
    cache, logits = backends.of(tokens).fori_loop(start, stop, body, (cache, empty))
    return logits, cache


def _block(
    layer: Mapping[str, Array],
    x: Array,
    cache: Mapping[str, Array] | None,
    start: int | Array,
    config: LMConfig,
    *,
    xp: Namespace,
) -> tuple[Array, dict[str, Array] | None]:
    """One pre-norm block: x + attention(norm(x)), then x + swiglu(norm(x))."""
    n, kv, e = config.n_heads, _kv_heads(config), config.d_model
    h = rms_norm(x, e, layer["attn_norm"], eps=config.norm_eps)
    q = split_heads(h @ layer["wq"], n, xp=xp)  # (B, N, T, H)
    k = split_heads(h @ layer["wk"], kv, xp=xp)  # (B, K, T, H)
    v = split_heads(h @ layer["wv"], kv, xp=xp)  # (B, K, T, H)
    q = apply_rope(q, offset=start, base=config.rope_base)
    k = apply_rope(k, offset=start, base=config.rope_base)
    new_cache = None
    if cache is None:
        out = scaled_dot_product_attention(q, k, v, is_causal=True)
    else:
        begin = _as_index(start, xp=xp, like=x)
        written = write_cache({"k": cache["k"], "v": cache["v"], "index": begin}, k, v, xp=xp)
        new_cache = {"k": written["k"], "v": written["v"]}  # (B, K, M, H)
        out = scaled_dot_product_attention(
            q, written["k"], written["v"], mask=_causal_mask(begin, q.shape[-2], config, xp=xp)
        )
    x = x + merge_heads(out, xp=xp) @ layer["wo"]
    h = rms_norm(x, e, layer["mlp_norm"], eps=config.norm_eps)
    return x + swiglu(h, layer["w_gate"], layer["w_up"], layer["w_down"]), new_cache


def _causal_mask(begin: Array, length: int, config: LMConfig, *, xp: Namespace) -> Array:
    """(T, M): query i, at position begin + i, sees the cache positions <= begin + i."""
    device = device_of(begin)
    keys = xp.arange(config.max_len, dtype=begin.dtype, device=device)  # (M,)
    queries = begin + xp.arange(length, dtype=begin.dtype, device=device)  # (T,)
    return keys[None, :] <= queries[:, None]


def _column(logits: Array, index: Any, *, xp: Namespace) -> Array:
    """``logits[:, index - 1, :]`` for an int or a traced 0-d `index`: (B, L, V) -> (B, V)."""
    position = _as_index(index, xp=xp, like=logits) - 1
    return xp.take(logits, xp.reshape(position, (1,)), axis=1)[:, 0, :]


def _as_index(value: Any, *, xp: Namespace, like: Array) -> Array:
    """An int or a 0-d integer array as a 0-d array of the index dtype."""
    if isinstance(value, int):
        return xp.asarray(value, dtype=index_dtype(xp), device=device_of(like))
    return xp.astype(value, index_dtype(xp))


def _concrete_int(value: Any) -> int | None:
    """`value` as a Python int, or None while it is traced (``jax.jit``)."""
    if isinstance(value, int):
        return value
    try:
        return int(value)
    except TypeError:  # jax's ConcretizationTypeError and TracerIntegerConversionError
        return None


def _kv_heads(config: LMConfig) -> int:
    """K (``n_kv_heads``, resolved to N by LMConfig when not given)."""
    return config.n_kv_heads or config.n_heads


def _check_config(config: Any) -> None:
    if not isinstance(config, LMConfig):
        msg = f"`config` must be an LMConfig, got {type(config).__name__}"
        raise TypeError(msg)


def _check_tokens(params: Any, tokens: Array, config: LMConfig) -> Namespace:
    """`tokens` (B, T) integer ids of a known vocabulary; `params` of this config."""
    if not isinstance(params, Mapping) or any(p not in params for p in ("embed", "layers")):
        msg = "`params` must be a dict with 'embed', 'layers' and 'norm' (see init_lm)"
        raise TypeError(msg)
    check_array(tokens, "tokens")
    xp = namespace(tokens, params["embed"], names=("tokens", "params['embed']"))
    check_dtype(tokens, "tokens", ("integral",), xp=xp)
    if tokens.ndim != 2:
        msg = f"`tokens` must have shape (B, T), got {shape_str(tokens.shape)}"
        raise ValueError(msg)
    want = (config.vocab, config.d_model)
    if tuple(params["embed"].shape) != want or len(params["layers"]) != config.n_layers:
        msg = (
            f"`params` must hold embed {shape_str(want)} and {config.n_layers} layers for this "
            f"config, got embed {shape_str(params['embed'].shape)} and "
            f"{len(params['layers'])} layers"
        )
        raise ValueError(msg)
    if tokens.shape[1] > config.max_len:
        msg = f"`tokens` has T = {tokens.shape[1]} tokens, over max_len = {config.max_len}"
        raise ValueError(msg)
    if concrete_any((tokens < 0) | (tokens >= config.vocab), xp=xp):
        msg = f"`tokens` must be ids in [0, {config.vocab}) (the vocabulary), got one outside"
        raise ValueError(msg)
    return xp


def _check_index(index: Any, length: int, config: LMConfig, *, xp: Namespace) -> int | Array:
    """`index` an int or a 0-d integer array with ``index + T <= max_len`` when readable."""
    if isinstance(index, bool) or not (
        isinstance(index, int) or (hasattr(index, "ndim") and index.ndim == 0)
    ):
        msg = f"`index` must be an int or a 0-d integer array, got {index!r}"
        raise TypeError(msg)
    if not isinstance(index, int) and not xp.isdtype(index.dtype, "integral"):
        msg = f"`index` must be an integer, got dtype {index.dtype}"
        raise TypeError(msg)
    value = _concrete_int(index)
    if value is not None and not 0 <= value <= config.max_len - length:
        msg = (
            f"`index` + T = {value} + {length} must lie in [0, max_len = {config.max_len}]: "
            "the sequence is longer than the model (and its cache) holds"
        )
        raise ValueError(msg)
    return index


def _check_cache(cache: Any, config: LMConfig, batch: int, dtype: Any, *, xp: Namespace) -> None:
    if not isinstance(cache, Mapping) or "layers" not in cache or "length" not in cache:
        msg = "`cache` must be a dict with 'layers' and 'length' (see init_lm_cache)"
        raise TypeError(msg)
    want = (batch, config.n_kv_heads, config.max_len, config.head_dim)
    for i, layer in enumerate(cache["layers"]):
        for name in ("k", "v"):
            got = layer[name]
            if tuple(got.shape) != want or got.dtype != dtype:
                msg = (
                    f"`cache['layers'][{i}]['{name}']` must be {shape_str(want)} {dtype} "
                    f"(B, K, M, H), got {shape_str(got.shape)} {got.dtype}"
                )
                raise ValueError(msg)
    if len(cache["layers"]) != config.n_layers:
        msg = f"`cache` must hold {config.n_layers} layers, got {len(cache['layers'])}"
        raise ValueError(msg)
