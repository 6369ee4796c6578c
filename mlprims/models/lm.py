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
H head size (E / N unless the config says), F = d_ff, M = max_len, C <= M the cache's capacity.
Parameters are a plain dict (a pytree), weights in the ``y = x @ w`` layout, no biases (as
Llama; Qwen2's ``bq``, ``bk``, ``bv`` when present)::

    embed                 (V, E)
    layers[i]             attn_norm (E,), wq (E, N·H), wk (E, K·H), wv (E, K·H), wo (N·H, E),
                          mlp_norm (E,), w_gate (E, F), w_up (E, F), w_down (F, E)
    norm                  (E,)

The KV cache (:func:`init_lm_cache`) holds every layer's keys and values, (B, K, C, H), and
``length`` (B,), the tokens it holds: every array has the batch on axis 0, so decoding
(:func:`lm_step_fn`) may reorder its rows (beam search).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .. import backends
from .._array import (
    Array,
    Namespace,
    check_bool,
    check_int,
    shape_str,
)
from .._layers import linear, merge_heads, split_heads
from ..activations import swiglu
from ..normalization import rms_norm
from ..positional import apply_rope
from ._cache import Plan, as_index, attend, continue_at, key_mask, plan, step_function
from ._lm_checks import check_tokens
from .lm_config import LMConfig, check_config, kv_heads
from .lm_init import init_lm_cache

__all__ = ["lm", "lm_step_fn"]


def lm(
    params: Mapping[str, Any],
    tokens: Array,
    /,
    *,
    config: LMConfig,
    cache: Mapping[str, Any] | None = None,
    index: int | Array | None = None,
    attention_mask: Array | None = None,
    positions: Array | None = None,
    logits_to_keep: int = 0,
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
        ``index + T`` must not exceed ``max_len``, or the cache's capacity C (checked when
        readable).
    attention_mask : boolean or 0/1 integer array, optional
        The tokens that count as keys (False or 0: padding), as Hugging Face takes it: (B, T)
        without a cache; with one, (B, S) for the cache positions ``0 .. S - 1`` (S <= C,
        covering ``index + T``; later positions are unseen anyway).
    positions : integer array, shape (B, T), optional
        RoPE positions of the tokens (default ``index .. index + T - 1``, also with a mask, as
        Hugging Face's forward); a left-padded row's positions start after its padding, as
        Hugging Face's generate computes them (see :func:`lm_step_fn`).
    logits_to_keep : int
        Compute the logits of the last `logits_to_keep` positions only (default 0: all), as
        transformers' argument: decoding needs only the last, and the head (E x V) is the
        largest matmul of a prefill.

    Returns
    -------
    logits : array, shape (B, T, V)
        Scores of the token after each position, in the parameters' dtype ((B, k, V) for
        ``logits_to_keep = k``).
    cache : dict or None
        With a `cache`: this call's keys and values written at positions
        ``index .. index + T - 1`` and ``length = index + T``; else None.

    Notes
    -----
    Token i attends to the positions ``<= index + i`` (causal), through the cache when there
    is one; so feeding a sequence in chunks through the cache gives the logits of one
    uncached call, to rounding. RoPE uses Hugging Face Llama's ``"half"`` pairing.

    References
    ----------
    - Touvron et al. 2023, "LLaMA", https://arxiv.org/abs/2302.13971
    - https://huggingface.co/docs/transformers/model_doc/llama
    - nanoGPT, whose shape letters the module docstring uses: https://github.com/karpathy/nanoGPT

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
    check_config(config)
    xp = check_tokens(params, tokens, config)
    batch, length = tokens.shape
    start, capacity = continue_at(cache, index, tokens, config, params["embed"].dtype, xp=xp)
    check_int(logits_to_keep, "logits_to_keep", minimum=0)
    keys = None
    if attention_mask is not None:
        keys = key_mask(attention_mask, tokens, capacity)
    if positions is not None and tuple(positions.shape) != (batch, length):
        msg = f"`positions` must have shape {shape_str((batch, length))}, got {positions.shape}"
        raise ValueError(msg)

    window = config.sliding_window
    how = plan(start, length, capacity, keys=keys, window=window, xp=xp, like=tokens)
    flat = xp.reshape(tokens, (batch * length,))
    x = xp.reshape(xp.take(params["embed"], flat, axis=0), (batch, length, config.d_model))
    new_layers = []
    for i, layer in enumerate(params["layers"]):
        layer_cache = None if cache is None else cache["layers"][i]
        x, layer_cache = _block(layer, x, layer_cache, how, config, positions=positions, xp=xp)
        new_layers.append(layer_cache)
    if logits_to_keep:  # the head, the largest matmul, on the last positions only
        x = x[:, -logits_to_keep:, :]
    x = rms_norm(x, config.d_model, params["norm"], eps=config.norm_eps)
    head = xp.matrix_transpose(params["embed"]) if config.tie_embeddings else params["head"]
    logits = x @ head  # (B, T, V)
    if cache is None:
        return logits, None
    filled = as_index(start, xp=xp, like=tokens) + length
    return logits, {"layers": new_layers, "length": xp.broadcast_to(filled, (batch,))}


def lm_step_fn(
    params: Mapping[str, Any],
    config: LMConfig,
    *,
    cached: bool = True,
    attention_mask: Array | None = None,
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
    attention_mask : boolean or 0/1 integer array, shape (B, P), optional
        The prompt's padding (0: a pad, on the left): as Hugging Face's generate, padding is
        never attended to and a row's positions count its tokens only
        (``cumsum(mask) - 1``); the generated tokens all count. With beam search the step
        sees B * num_beams rows: each row's mask is repeated for its beams.

    Returns
    -------
    callable
        ``step_fn(tokens, cache, index) -> (logits, cache)``: `tokens` the whole (B, L)
        buffer (L <= ``max_len``), `index` the positions filled (an int, or a 0-d integer
        array, traced under ``jax.jit``), `logits` (B, V) the scores of the token at position
        `index`. With `cached`, the cache (None at the first call: it is built then, its
        capacity the buffer's length L; or one from :func:`init_lm_cache`) receives only the
        tokens not yet in it: the whole prompt at the first call, one token at each later one.

    Notes
    -----
    How many tokens are new (``index - cache["length"]``) sets the shape of the model's
    input, so it must be known. At the first call it is (an empty cache, ``index = P`` an
    int): the prompt goes in one call, also under ``jax.jit``. Later, eagerly, it is too; under
    ``jax.jit`` the index and the cache are traced, and the new tokens go one at a time in a
    backend ``fori_loop`` from the cache's length to `index` (one iteration per step). Both
    give the same logits. The column ``index - 1`` is picked with ``take`` and an index
    array, never a Python slice, so a traced `index` works.

    References
    ----------
    - Decoding with a KV cache: https://huggingface.co/docs/transformers/kv_cache
    - ``GenerationMixin.generate``: https://huggingface.co/docs/transformers/main_classes/text_generation

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
    check_config(config)
    check_bool(cached, "cached")

    def forward(tokens: Array, cache: Any, index: Any, padding: dict[str, Array]) -> Any:
        return lm(params, tokens, config=config, cache=cache, index=index, **padding)

    def new_cache(batch: int, capacity: int, backend: backends.Backend) -> dict[str, Any]:
        dtype = params["embed"].dtype
        return init_lm_cache(config, batch, capacity=capacity, dtype=dtype, backend=backend)

    embed = params["embed"]
    return step_function(forward, new_cache, embed, cached=cached, attention_mask=attention_mask)


def _block(
    layer: Mapping[str, Array],
    x: Array,
    cache: Mapping[str, Array] | None,
    how: Plan,
    config: LMConfig,
    *,
    positions: Array | None = None,
    xp: Namespace,
) -> tuple[Array, dict[str, Array] | None]:
    """One pre-norm block: x + attention(norm(x)) as `how` plans it, then x + swiglu(norm(x));
    `positions` (B, T) RoPE's (default from the plan's start)."""
    n, kv, e = config.n_heads, kv_heads(config), config.d_model
    h = rms_norm(x, e, layer["attn_norm"], eps=config.norm_eps)
    q = split_heads(linear(h, layer["wq"], layer.get("bq")), n, xp=xp)  # (B, N, T, H)
    k = split_heads(linear(h, layer["wk"], layer.get("bk")), kv, xp=xp)  # (B, K, T, H)
    v = split_heads(linear(h, layer["wv"], layer.get("bv")), kv, xp=xp)  # (B, K, T, H)
    base, scaling = config.rope_base, config.scaling
    if positions is None:
        q = apply_rope(q, offset=how.start, base=base, scaling=scaling)
        k = apply_rope(k, offset=how.start, base=base, scaling=scaling)
    else:  # (B, 1, T): one row of positions for every head
        q = apply_rope(q, positions[:, None, :], base=base, scaling=scaling)
        k = apply_rope(k, positions[:, None, :], base=base, scaling=scaling)
    out, new_cache = attend(q, k, v, cache, how, xp=xp)
    x = x + merge_heads(out, xp=xp) @ layer["wo"]
    h = rms_norm(x, e, layer["mlp_norm"], eps=config.norm_eps)
    return x + swiglu(h, layer["w_gate"], layer["w_up"], layer["w_down"]), new_cache
