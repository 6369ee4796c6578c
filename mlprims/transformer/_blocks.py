"""What the encoder and the decoder layer share: linear layers, dropout, the feed-forward block,
masks in mlprims' or torch's convention, and the checks of the options. Private to
:mod:`mlprims.transformer`.

Shape legend: B batch, T target (query) length, S source (key) length, E = d_model,
F = d_ff, N heads.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from .. import random
from .._array import (
    Array,
    check_array,
    check_bool,
    check_choice,
    check_float_dtype,
    check_floating,
    check_in_range,
    check_int,
    namespace,
    shape_str,
)
from .._layers import check_dropout, dropout, linear
from ..activations import gelu, relu
from ..normalization import init_layer_norm, layer_norm

__all__ = [
    "ACTIVATIONS",
    "attention_mask",
    "check_layer_input",
    "check_options",
    "dropout",
    "feed_forward",
    "init_linear",
    "norm",
    "split_keys",
]

ACTIVATIONS = ("relu", "gelu")


def init_linear(
    key: Array, d_in: int, d_out: int, *, bias: bool, dtype: Any
) -> tuple[Array, Array | None]:
    """``nn.Linear(d_in, d_out)``'s law: weight (d_in, d_out) and bias from U(-1/√d_in, 1/√d_in)."""
    bound = 1.0 / math.sqrt(d_in)
    keys = random.split(key, 2)
    w = random.uniform(keys[0, :], (d_in, d_out), dtype=dtype, minval=-bound, maxval=bound)
    if not bias:
        return w, None
    return w, random.uniform(keys[1, :], (d_out,), dtype=dtype, minval=-bound, maxval=bound)


def init_norm(d_model: int, *, bias: bool, dtype: Any, backend: Any) -> dict[str, Array | None]:
    """``nn.LayerNorm(d_model, bias=bias)``: weight ones, bias zeros."""
    return init_layer_norm(d_model, dtype=dtype, backend=backend, bias=bias)


def check_init(d_model: Any, num_heads: Any, d_ff: Any, bias: Any) -> tuple[int, int, int]:
    """The sizes of a layer: E divisible by N (torch's MultiheadAttention requires it)."""
    e = check_int(d_model, "d_model", minimum=1)
    n = check_int(num_heads, "num_heads", minimum=1)
    f = check_int(d_ff, "d_ff", minimum=1)
    check_bool(bias, "bias")
    if e % n:
        msg = f"`d_model` ({e}) must be divisible by `num_heads` ({n})"
        raise ValueError(msg)
    return e, n, f


def float_dtype(dtype: Any, target: Any) -> Any:
    return check_float_dtype(dtype, xp=target.xp)


def check_options(
    activation: Any, eps: Any, dropout_p: Any, key: Any, norm_first: Any, is_causal: Any, x: Array
) -> float:
    """The keyword options every layer shares; returns the checked `dropout_p`."""
    check_choice(activation, "activation", ACTIVATIONS)
    check_in_range(eps, "eps", 0.0, math.inf)
    check_bool(norm_first, "norm_first")
    check_bool(is_causal, "is_causal")
    return check_dropout(dropout_p, key, x)


def check_layer_input(
    params: Any, x: Array, name: str, num_heads: Any, parts: tuple[str, ...]
) -> tuple[Any, int]:
    """`x` (B, T, E) floating with E the width of the parameters; returns (xp, N)."""
    if not isinstance(params, Mapping) or any(p not in params for p in parts):
        msg = (
            f"`params` must be a dict with {', '.join(repr(p) for p in parts)} "
            "(see the init_ and from_torch_ functions of this layer)"
        )
        raise TypeError(msg)
    check_array(x, name)
    xp = namespace(x)
    check_floating(x, name, xp=xp)
    n = check_int(num_heads, "num_heads", minimum=1)
    e = params["w1"].shape[0]
    if x.ndim != 3 or x.shape[-1] != e:
        msg = f"`{name}` must have shape (B, L, E) with E = d_model = {e}, got {shape_str(x.shape)}"
        raise ValueError(msg)
    if e % n:
        msg = f"`d_model` ({e}) must be divisible by `num_heads` ({n})"
        raise ValueError(msg)
    return xp, n


def attention_mask(mask: Array | None, name: str, *, xp: Any) -> tuple[Array | None, Array | None]:
    """``(mask, bias)`` of :func:`~mlprims.multi_head_attention` from a layer's mask.

    A boolean mask means True = attend (mlprims' convention, the negation of torch's boolean
    masks); a floating one is added to the scores (torch's float masks: 0 or -inf).
    """
    if mask is None:
        return None, None
    check_array(mask, name)
    if xp.isdtype(mask.dtype, "bool"):
        return mask, None
    if xp.isdtype(mask.dtype, "real floating"):
        return None, mask
    msg = f"`{name}` must be boolean (True = attend) or floating (added), got {mask.dtype}"
    raise TypeError(msg)


def split_keys(key: Array | None, p: float, count: int) -> list[Array | None]:
    """`count` independent dropout keys, or Nones without dropout."""
    if p == 0.0 or key is None:
        return [None] * count
    keys = random.split(key, count)
    return [keys[i, :] for i in range(count)]


def norm(params: Mapping[str, Any], x: Array, eps: float) -> Array:
    """``nn.LayerNorm(E)`` over the last axis."""
    return layer_norm(x, x.shape[-1], params.get("weight"), params.get("bias"), eps=eps)


def feed_forward(
    params: Mapping[str, Any],
    x: Array,
    activation: str,
    p: float,
    keys: tuple[Array | None, Array | None],
    *,
    xp: Any,
) -> Array:
    """``dropout(linear2(dropout(act(linear1(x)))))``: torch's ``_ff_block``, (B, T, E)."""
    h = linear(x, params["w1"], params.get("b1"))  # (B, T, F)
    h = relu(h) if activation == "relu" else gelu(h)
    h = dropout(h, p, keys[0], xp=xp)
    y = linear(h, params["w2"], params.get("b2"))  # (B, T, E)
    return dropout(y, p, keys[1], xp=xp)
