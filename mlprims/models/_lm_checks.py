"""Checks of the language model's inputs: tokens, parameters, the cache and its index."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._array import Array, Namespace, check_array, check_dtype, concrete_any, namespace, shape_str
from .lm_config import LMConfig

__all__ = ["check_cache", "check_index", "check_tokens", "concrete_int"]


def concrete_int(value: Any) -> int | None:
    """`value` as a Python int, or None while it is traced (``jax.jit``)."""
    if isinstance(value, int):
        return value
    try:
        return int(value)
    except TypeError:  # jax's ConcretizationTypeError and TracerIntegerConversionError
        return None


def check_tokens(params: Any, tokens: Array, config: LMConfig) -> Namespace:
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
    if not config.tie_embeddings and tuple(getattr(params.get("head"), "shape", ())) != want[::-1]:
        msg = f"`params` must hold its own head {shape_str(want[::-1])} (tie_embeddings=False)"
        raise ValueError(msg)
    if tokens.shape[1] > config.max_len:
        msg = f"`tokens` has T = {tokens.shape[1]} tokens, over max_len = {config.max_len}"
        raise ValueError(msg)
    if concrete_any((tokens < 0) | (tokens >= config.vocab), xp=xp):
        msg = f"`tokens` must be ids in [0, {config.vocab}) (the vocabulary), got one outside"
        raise ValueError(msg)
    return xp


def check_index(
    index: Any, length: int, capacity: int, *, cached: bool, xp: Namespace
) -> int | Array:
    """`index` an int or a 0-d integer array with ``index + T <= capacity`` when readable
    (``max_len``, or the capacity of the cache when `cached`)."""
    if isinstance(index, bool) or not (
        isinstance(index, int) or (hasattr(index, "ndim") and index.ndim == 0)
    ):
        msg = f"`index` must be an int or a 0-d integer array, got {index!r}"
        raise TypeError(msg)
    if not isinstance(index, int) and not xp.isdtype(index.dtype, "integral"):
        msg = f"`index` must be an integer, got dtype {index.dtype}"
        raise TypeError(msg)
    value = concrete_int(index)
    if value is not None and not 0 <= value <= capacity - length:
        msg = (
            f"`index` + T = {value} + {length} must lie in "
            f"[0, {'the cache capacity' if cached else 'max_len'} = {capacity}]: "
            "the sequence is longer than the model (or its cache) holds"
        )
        raise ValueError(msg)
    return index


def check_cache(cache: Any, config: Any, batch: int, dtype: Any, *, xp: Namespace) -> int:
    """`cache` as :func:`init_lm_cache` makes it for this config (an LMConfig or a
    GPT2Config: their n_layers, n_kv_heads, head_dim, max_len), batch and dtype; returns its
    capacity C (<= ``max_len``)."""
    if not isinstance(cache, Mapping) or "layers" not in cache or "length" not in cache:
        msg = "`cache` must be a dict with 'layers' and 'length' (see init_lm_cache)"
        raise TypeError(msg)
    if len(cache["layers"]) != config.n_layers:
        msg = f"`cache` must hold {config.n_layers} layers, got {len(cache['layers'])}"
        raise ValueError(msg)
    first = cache["layers"][0]["k"].shape
    capacity = min(first[2], config.max_len) if len(first) == 4 else config.max_len
    want = (batch, config.n_kv_heads, capacity, config.head_dim)
    for i, layer in enumerate(cache["layers"]):
        for name in ("k", "v"):
            got = layer[name]
            if tuple(got.shape) != want or got.dtype != dtype:
                msg = (
                    f"`cache['layers'][{i}]['{name}']` must be {shape_str(want)} {dtype} "
                    f"(B, K, C, H), got {shape_str(got.shape)} {got.dtype}"
                )
                raise ValueError(msg)
    return int(capacity)
