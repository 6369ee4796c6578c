"""Validation for :mod:`mlprims.attention`: shapes, dtypes and options only, never array values,
so it runs unchanged under ``jax.jit``. Private; the legend is :mod:`mlprims.attention`'s.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .._array import (
    Array,
    Namespace,
    broadcast_shapes,
    check_array,
    check_bool,
    check_broadcasts_to,
    check_choice,
    check_floating,
    check_int,
    check_number,
    shape_str,
)

__all__ = [
    "AUTO_SINGLE_TILE",
    "AUTO_TILE",
    "BIASES",
    "CAUSAL_ALIGNS",
    "WEIGHTS",
    "Dims",
    "auto_block_size",
    "causal_offset",
    "check_block_size",
    "check_heads",
    "check_inputs",
    "check_mask_and_bias",
    "check_params",
    "check_scale",
    "legend",
]

#: ``block_size="auto"``: one tile while the scores of all heads, prod(B..., N) * T * S, fit in
#: AUTO_SINGLE_TILE elements (16 MiB in float32); beyond, tiles of AUTO_TILE (queries, keys),
#: which with 32 heads hold 2 MiB of scores: small enough to stay in the CPU cache.
AUTO_SINGLE_TILE = 2**22
AUTO_TILE = (128, 128)


@dataclass(frozen=True)
class Dims:
    """The sizes of one attention call, found by validation (see the legend above)."""

    lead: tuple[int, ...]  # (B..., N): the output's axes before (T, Hv)
    n: int  # N query heads (1 when q has no head axis)
    kv: int  # K key/value heads
    t: int  # T
    s: int  # S
    h: int  # H
    hv: int  # Hv

    @property
    def group(self) -> int:
        """G > 1 when query heads share key/value heads (GQA/MQA through a reshape), else 1."""
        return self.n // self.kv if self.kv > 1 and self.n > self.kv else 1


def check_inputs(
    q: Array, k: Array, v: Array, mask: Array | None, bias: Array | None, *, xp: Namespace
) -> Dims:
    """Validate the arrays of an attention call (shapes and dtypes only) and return its Dims."""
    for name, a in (("q", q), ("k", k), ("v", v)):
        check_floating(a, name, xp=xp)
        if a.ndim < 2:
            letters = "(..., T, H)" if name == "q" else "(..., S, H)"
            msg = f"`{name}` must have at least 2 axes {letters}, got shape {shape_str(a.shape)}"
            raise ValueError(msg)
    for name, a in (("k", k), ("v", v)):
        if a.dtype != q.dtype:
            msg = f"`{name}` must have the dtype of `q` ({q.dtype}), got {a.dtype}"
            raise TypeError(msg)
    t, h = q.shape[-2:]
    s = k.shape[-2]
    if h == 0:
        msg = f"`q` must have a head dim H >= 1 (last axis), got shape {shape_str(q.shape)}"
        raise ValueError(msg)
    if k.shape[-1] != h:
        msg = f"`k` must have the head dim H = {h} of `q` (last axis), got {k.shape[-1]}"
        raise ValueError(msg)
    if v.shape[-2] != s:
        msg = f"`v` must have the S = {s} keys of `k` (axis -2), got {v.shape[-2]}"
        raise ValueError(msg)
    if v.shape[:-2] != k.shape[:-2]:
        msg = (
            f"`v` must have the batch and head axes (B..., K) of `k`, {shape_str(k.shape[:-2])}, "
            f"got {shape_str(v.shape[:-2])}"
        )
        raise ValueError(msg)
    if s == 0:
        msg = "`k` must have at least one key (S >= 1), got S = 0"
        raise ValueError(msg)

    n = q.shape[-3] if q.ndim >= 3 else 1
    kv = k.shape[-3] if k.ndim >= 3 else 1
    has_heads = q.ndim >= 3 and k.ndim >= 3
    if has_heads and n not in (kv, 1) and kv != 1 and n % kv != 0:
        msg = (
            f"`q` has N = {n} heads and `k` has K = {kv} (axis -3): N must equal K or be a "
            "multiple of it (grouped-query attention)"
        )
        raise ValueError(msg)
    grouped = has_heads and kv > 1 and n > kv
    try:
        if grouped:  # (B..., N) from q's batch axes and k's, with N heads
            lead = (*broadcast_shapes(q.shape[:-3], k.shape[:-3]), n)
        else:
            lead = broadcast_shapes(q.shape[:-2], k.shape[:-2])
    except ValueError:
        msg = (
            f"`q` and `k` must have broadcastable batch axes B...: got q {shape_str(q.shape)} "
            f"and k {shape_str(k.shape)}"
        )
        raise ValueError(msg) from None
    dims = Dims(lead=lead, n=n if has_heads else 1, kv=kv, t=t, s=s, h=h, hv=v.shape[-1])
    check_mask_and_bias(mask, bias, dims, xp=xp)
    return dims


def check_mask_and_bias(
    mask: Array | None, bias: Array | None, dims: Dims, *, xp: Namespace
) -> None:
    """`mask` (bool) and `bias` (floating) must broadcast to (B..., N, T, S)."""
    target = (*dims.lead, dims.t, dims.s)
    for name, a in (("mask", mask), ("bias", bias)):
        if a is None:
            continue
        check_array(a, name)
        if name == "mask" and a.dtype != xp.bool:
            msg = f"`mask` must be boolean (True = attend), got {a.dtype}; float masks go in `bias`"
            raise TypeError(msg)
        if name == "bias" and not xp.isdtype(a.dtype, "real floating"):
            msg = f"`bias` must have a real floating dtype (added to the scores), got {a.dtype}"
            raise TypeError(msg)
        check_broadcasts_to(a.shape, target, name, target_name=legend(len(target), "S"))


CAUSAL_ALIGNS = ("top_left", "bottom_right")


def causal_offset(is_causal: bool, causal_align: str, dims: Dims) -> int | None:
    """Query i may see keys j <= i + offset (None: not causal); validates both options."""
    check_bool(is_causal, "is_causal")
    check_choice(causal_align, "causal_align", CAUSAL_ALIGNS)
    if not is_causal:
        return None
    return 0 if causal_align == "top_left" else dims.s - dims.t


def check_scale(scale: Any, h: int) -> float:
    """`scale` as a float; None means 1 / sqrt(H)."""
    return 1.0 / math.sqrt(h) if scale is None else check_number(scale, "scale")


def check_block_size(block_size: Any, dims: Dims) -> tuple[int, int] | None:
    """(query rows, keys) per tile: None (one tile), an int or a pair >= 1, or "auto"."""
    if block_size is None:
        return None
    if isinstance(block_size, str):
        if block_size == "auto":
            return auto_block_size(dims)
        msg = (
            f"`block_size` must be an int >= 1, a pair of them, None or 'auto'; got {block_size!r}"
        )
        raise ValueError(msg)
    if isinstance(block_size, tuple) and len(block_size) == 2:
        return check_int(block_size[0], "block_size", minimum=1), check_int(
            block_size[1], "block_size", minimum=1
        )
    size = check_int(block_size, "block_size", minimum=1)
    return size, size


def legend(ndim: int, last: str) -> str:
    """The letters of a (B..., N, T, `last`) shape with `ndim` axes, e.g. ``(B, N, T, S)``."""
    tail = ["N", "T", last][-ndim:] if ndim <= 3 else ["N", "T", last]
    batch = ndim - len(tail)
    heads = ["B"] if batch == 1 else [f"B{i + 1}" for i in range(batch)]
    return "(" + ", ".join([*heads[:batch], *tail]) + ")"


def auto_block_size(dims: Dims) -> tuple[int, int] | None:
    """The tile of ``block_size="auto"``: None (one) for small problems, else AUTO_TILE."""
    if math.prod(dims.lead) * dims.t * dims.s <= AUTO_SINGLE_TILE:
        return None
    return AUTO_TILE


# --- multi-head attention: head counts and parameters ------------------------------------------

#: The weights of multi-head attention, and their biases (see :mod:`.multi_head`).
WEIGHTS = ("wq", "wk", "wv", "wo")
BIASES = ("bq", "bk", "bv", "bo")


def check_heads(num_heads: Any, num_kv_heads: Any) -> tuple[int, int]:
    """(N, K): `num_heads` and `num_kv_heads` (default N), K a divisor of N."""
    n = check_int(num_heads, "num_heads", minimum=1)
    kv = n if num_kv_heads is None else check_int(num_kv_heads, "num_kv_heads", minimum=1)
    if n % kv:
        msg = f"`num_kv_heads` ({kv}) must divide `num_heads` ({n}) for grouped-query attention"
        raise ValueError(msg)
    return n, kv


def check_params(params: Any, query: Array, source: Array, n: int, kv: int) -> None:
    """Shapes of the parameters against the inputs (`source`: keys and values) and heads."""
    if not isinstance(params, Mapping):
        msg = f"`params` must be a dict of arrays, got {type(params).__name__}"
        raise TypeError(msg)
    missing = [name for name in WEIGHTS if name not in params]
    if missing:
        msg = f"`params` is missing {', '.join(missing)}; expected {', '.join(WEIGHTS)} (+ biases)"
        raise ValueError(msg)
    wq, wk, wv, wo = (params[name] for name in WEIGHTS)
    for name in (*WEIGHTS, *BIASES):
        if params.get(name) is not None:
            check_array(params[name], f"params[{name!r}]")
    inputs = (("wq", wq, query, n, "N"), ("wk", wk, source, kv, "K"), ("wv", wv, source, kv, "K"))
    for name, w, x, heads, letter in inputs:
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
