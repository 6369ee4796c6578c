"""The KV cache of the causal models (:func:`mlprims.lm`, :func:`mlprims.models.gpt2.gpt2`),
written once: the cache, the keys each query sees, attention through it, and the step
function :func:`mlprims.generate` calls.

A cache is ``{"layers": [{"k", "v"} per block, each (B, K, C, H)], "length": (B,)}``: every
array has the batch on axis 0, so decoding may reorder its rows (beam search). Its capacity C
is the length of the sequence decoded (the buffer of :func:`mlprims.generate`), not the
model's longest: attention reads all C slots at every step.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from array_api_compat import device as device_of

from .. import backends
from .._array import Array, Namespace, check_array, check_int, index_dtype, namespace, shape_str
from ..attention import scaled_dot_product_attention
from ..attention.kv_cache import init_kv_cache, write_cache
from ._common import prompt_padding
from ._lm_checks import check_cache, check_index, concrete_int

__all__ = [
    "Plan",
    "as_index",
    "attend",
    "continue_at",
    "init_cache",
    "key_mask",
    "plan",
    "step_function",
]

#: ``forward(tokens (B, T), cache or None, index, options) -> (logits (B, T, V), cache)``,
#: `options` the model's keywords: ``attention_mask`` (B, C) and ``positions`` (B, T) for a
#: padded prompt, ``logits_to_keep``.
Forward = Callable[[Array, Any, Any, dict[str, Array]], tuple[Array, Any]]


def init_cache(
    config: Any,
    batch: int,
    capacity: int | None,
    *,
    dtype: Any,
    backend: str | backends.Backend | None,
) -> dict[str, Any]:
    """An empty cache for `config` (an LMConfig or a GPT2Config: its n_layers, n_kv_heads,
    head_dim, max_len): a zero ``{"k", "v"}`` (B, K, C, H) per block and ``length`` zeros (B,);
    C = `capacity` <= max_len (default max_len)."""
    b = check_int(batch, "batch", minimum=1)
    c = config.max_len if capacity is None else check_int(capacity, "capacity", minimum=1)
    if c > config.max_len:
        msg = f"`capacity` ({c}) must not exceed max_len ({config.max_len})"
        raise ValueError(msg)
    layers = []
    for _ in range(config.n_layers):
        kv = init_kv_cache(b, config.n_kv_heads, c, config.head_dim, dtype=dtype, backend=backend)
        layers.append({"k": kv["k"], "v": kv["v"]})
    xp = namespace(layers[0]["k"])
    length = xp.zeros((b,), dtype=index_dtype(xp), device=device_of(layers[0]["k"]))
    return {"layers": layers, "length": length}


def continue_at(
    cache: Any, index: Any, tokens: Array, config: Any, dtype: Any, *, xp: Namespace
) -> tuple[int | Array, int | None]:
    """Where `tokens` (B, T) go: the slot of ``tokens[:, 0]`` (`index`, or the tokens the
    `cache` holds) and the cache's capacity C (None without a cache), both checked."""
    batch, length = tokens.shape
    capacity = None
    if cache is not None:
        capacity = check_cache(cache, config, batch, dtype, xp=xp)
        if index is None:
            index = cache["length"][0]
    limit = config.max_len if capacity is None else capacity
    start = check_index(
        0 if index is None else index, length, limit, cached=cache is not None, xp=xp
    )
    return start, capacity


class Plan(NamedTuple):
    """How one forward pass attends, decided once for all its layers (:func:`plan`).

    Attributes
    ----------
    start : int or 0-d array
        The slot of the first new token (0 without a cache).
    filled : int or None
        The slots in use after this pass when `start` is an int: attention reads only them.
        None when `start` is traced: it reads the whole cache, the rest masked.
    mask : boolean array (T, S) or (B, 1, T, S), or None
        The keys each query sees; None with `causal`, or when a query sees every key read.
    causal : bool
        Slot j is seen by query i iff j <= i (the new tokens fill the slots from 0).
    """

    start: int | Array
    filled: int | None
    mask: Array | None
    causal: bool


def plan(
    start: int | Array,
    length: int,
    capacity: int | None,
    *,
    keys: Array | None,
    window: int | None,
    xp: Namespace,
    like: Array,
) -> Plan:
    """The attention of T = `length` new tokens at slots ``start ..``: without a cache
    (`capacity` None) over themselves, with one over the slots filled so far.

    `keys` (B, T), or (B, C) with a cache, are the keys that count (None: all); `window` W
    lets a query see only the W latest positions, itself included (Mistral). Eagerly (an int
    `start`), a prefill is plain causal attention and a one-token step sees every filled slot,
    so neither needs a mask (and torch can use its fused kernel).
    """
    begin = start if isinstance(start, int) else None
    if capacity is None:
        begin, width = 0, length
    elif begin is not None:
        width = begin + length
    else:  # traced: every slot, the unwritten ones masked
        width = capacity
    if keys is None and window is None and begin is not None:
        if begin == 0:
            return Plan(start, None if capacity is None else width, None, length > 1)
        if length == 1:
            return Plan(start, width, None, False)
    first = as_index(0 if capacity is None else start, xp=xp, like=like)
    mask = _visible(first, length, width, window, xp=xp)  # (T, width)
    if keys is not None:
        mask = mask & keys[:, None, None, :width]  # (B, 1, T, width)
    filled = width if capacity is not None and begin is not None else None
    return Plan(start, filled, mask, False)


def attend(
    q: Array,
    k: Array,
    v: Array,
    cache: Mapping[str, Array] | None,
    how: Plan,
    *,
    xp: Namespace,
) -> tuple[Array, dict[str, Array] | None]:
    """Attention of q (B, N, T, H) over k, v (B, K, T, H) as `how` says, through one layer's
    `cache` when there is one (k and v written at slots ``start .. start + T - 1`` first).
    Returns the output (B, N, T, H) and the layer's new cache (None without one)."""
    if cache is None:
        out = scaled_dot_product_attention(q, k, v, mask=how.mask, is_causal=how.causal)
        return out, None
    if how.filled is None:  # a traced start: write by selection, read every slot
        begin = as_index(how.start, xp=xp, like=q)
        new = write_cache({"k": cache["k"], "v": cache["v"], "index": begin}, k, v, xp=xp)
        written = {"k": new["k"], "v": new["v"]}
        keys, values = written["k"], written["v"]
    else:
        stop = how.filled
        written = {
            name: xp.concat(
                [cache[name][..., : how.start, :], new, cache[name][..., stop:, :]], axis=-2
            )
            for name, new in (("k", k), ("v", v))
        }
        keys, values = written["k"][..., :stop, :], written["v"][..., :stop, :]
    out = scaled_dot_product_attention(q, keys, values, mask=how.mask, is_causal=how.causal)
    return out, written


def _visible(begin: Array, length: int, width: int, window: int | None, *, xp: Namespace) -> Array:
    """(T, width): query i, in slot begin + i, sees the slots j <= begin + i, and with a
    sliding window W only j > begin + i - W (Hugging Face's sliding_window_overlay)."""
    device = device_of(begin)
    slots = xp.arange(width, dtype=begin.dtype, device=device)[None, :]  # (1, width)
    queries = (begin + xp.arange(length, dtype=begin.dtype, device=device))[:, None]  # (T, 1)
    seen = slots <= queries
    if window is not None:
        seen = seen & (slots > queries - window)
    return seen


def key_mask(mask: Any, tokens: Array, capacity: int | None) -> Array:
    """An attention mask checked and as booleans: (B, T) without a cache (`capacity` None);
    with one, (B, S <= C) padded with False to (B, C), the cache's slots."""
    check_array(mask, "attention_mask")
    xp = namespace(mask, tokens, names=("attention_mask", "tokens"))
    batch, length = tokens.shape
    width = mask.shape[-1] if mask.ndim == 2 else -1
    fits = width == length if capacity is None else length <= width <= capacity
    if mask.ndim != 2 or mask.shape[0] != batch or not fits:
        want = f"(B, T) = {shape_str(tokens.shape)}"
        if capacity is not None:
            want = f"(B, S), S <= the cache capacity {capacity}"
        msg = f"`attention_mask` must have shape {want}, got {shape_str(mask.shape)}"
        raise ValueError(msg)
    keys = mask if mask.dtype == xp.bool else mask != 0
    if capacity is None or width == capacity:
        return keys
    rest = xp.zeros((batch, capacity - width), dtype=xp.bool, device=device_of(mask))
    return xp.concat([keys, rest], axis=1)


def step_function(
    forward: Forward,
    new_cache: Callable[[int, int, backends.Backend], Any],
    embedding: Array,
    *,
    cached: bool,
    attention_mask: Array | None,
) -> Callable[[Array, Any, Any], tuple[Array, Any]]:
    """``step_fn(tokens, cache, index) -> (logits (B, V), cache)`` for :func:`mlprims.generate`
    over a model's `forward`: see :func:`mlprims.lm_step_fn`, whose behaviour this is.

    `new_cache(batch, capacity, backend)` makes an empty cache at the first call; `embedding`
    (V, E) gives the logits' width, dtype and device.
    """

    def step_fn(tokens: Array, cache: Any, index: Any) -> tuple[Array, Any]:
        xp = namespace(tokens)
        padding = _padding(attention_mask, tokens, xp=xp)  # {} or mask and positions (B, L)
        if not cached:
            logits, _ = forward(tokens, None, 0, padding)  # causal: what follows is unseen
            return _column(logits, index, xp=xp), cache
        if cache is None:
            batch, length = tokens.shape
            cache = new_cache(batch, length, backends.of(tokens))  # as long as the buffer
            start: int | None = 0
        else:
            start = concrete_int(cache["length"][0])
        stop = concrete_int(index)
        if start is None or stop is None:  # traced (jax.jit): a loop over the new tokens
            return _one_at_a_time(forward, tokens, cache, index, padding, embedding, xp=xp)
        if not 0 <= start < stop:
            msg = f"`index` ({stop}) must exceed the tokens in the cache ({start})"
            raise ValueError(msg)
        if padding:
            padding["positions"] = padding["positions"][:, start:stop]
        last = padding | {"logits_to_keep": 1}  # the head on the last position only
        logits, cache = forward(tokens[:, start:stop], cache, start, last)
        return logits[:, -1, :], cache

    return step_fn


def _one_at_a_time(
    forward: Forward,
    tokens: Array,
    cache: Any,
    index: Any,
    padding: dict[str, Array],
    embedding: Array,
    *,
    xp: Namespace,
) -> tuple[Array, Any]:
    """Feed positions ``cache["length"][0] .. index - 1`` one by one (traced bounds)."""

    def body(i: Any, carry: tuple[Any, Array]) -> tuple[Any, Array]:
        cache, _ = carry
        position = as_index(i, xp=xp, like=tokens)
        at = xp.reshape(position, (1,))
        pads = dict(padding)
        if pads:
            pads["positions"] = xp.take(pads["positions"], at, axis=1)
        logits, cache = forward(xp.take(tokens, at, axis=1), cache, position, pads)
        return cache, logits[:, 0, :]

    shape = (tokens.shape[0], embedding.shape[0])
    empty = xp.zeros(shape, dtype=embedding.dtype, device=device_of(embedding))
    start = as_index(cache["length"][0], xp=xp, like=tokens)
    stop = as_index(index, xp=xp, like=tokens)
    cache, logits = backends.of(tokens).fori_loop(start, stop, body, (cache, empty))
    return logits, cache


def _padding(prompt_mask: Any, tokens: Array, *, xp: Namespace) -> dict[str, Array]:
    """:func:`._common.prompt_padding` as the models' keyword arguments ({} without a mask)."""
    if prompt_mask is None:
        return {}
    keys, positions = prompt_padding(prompt_mask, tokens, xp=xp)
    return {"attention_mask": keys, "positions": positions}


def _column(logits: Array, index: Any, *, xp: Namespace) -> Array:
    """``logits[:, index - 1, :]`` for an int or a traced 0-d `index`: (B, L, V) -> (B, V)."""
    position = as_index(index, xp=xp, like=logits) - 1
    return xp.take(logits, xp.reshape(position, (1,)), axis=1)[:, 0, :]


def as_index(value: Any, *, xp: Namespace, like: Array) -> Array:
    """An int or a 0-d integer array as a 0-d array of the index dtype."""
    if isinstance(value, int):
        return xp.asarray(value, dtype=index_dtype(xp), device=device_of(like))
    return xp.astype(value, index_dtype(xp))
