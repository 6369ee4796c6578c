"""Check cases for mlprims.attention, against a float64 NumPy oracle written here.

The oracle repeats key/value heads for GQA (``np.repeat``), builds the whole score matrix and
applies the masked softmax row by row; it shares no code with :mod:`mlprims.attention._tiled`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ... import backends
from ...attention import init_kv_cache, multi_head_attention, scaled_dot_product_attention
from ..registry import Case, register

__all__: list[str] = []

Arrays = dict[str, np.ndarray]


def _sdpa(
    q: np.ndarray,
    k: np.ndarray,
    v: np.ndarray,
    mask: np.ndarray | None = None,
    bias: np.ndarray | None = None,
    causal_shift: int | None = None,
) -> np.ndarray:
    """float64 attention; `causal_shift` s: query i sees keys j <= i + s; empty rows give 0."""
    if q.shape[-3] != k.shape[-3]:
        group = q.shape[-3] // k.shape[-3]
        k, v = np.repeat(k, group, axis=-3), np.repeat(v, group, axis=-3)
    t, s = q.shape[-2], k.shape[-2]
    scores = np.einsum("...td,...sd->...ts", q, k) / math.sqrt(q.shape[-1])
    allowed = np.ones(scores.shape, dtype=bool)
    if bias is not None:
        allowed &= np.isfinite(bias)
        scores = scores + np.where(np.isfinite(bias), bias, 0.0)
    if mask is not None:
        allowed &= mask
    if causal_shift is not None:
        allowed &= np.arange(s)[None, :] <= np.arange(t)[:, None] + causal_shift
    top = np.max(np.where(allowed, scores, -np.inf), axis=-1, keepdims=True)
    e = np.exp(np.where(allowed, scores - np.where(np.isfinite(top), top, 0.0), -np.inf))
    total = e.sum(axis=-1, keepdims=True)
    return (e / np.where(total == 0, 1.0, total)) @ v


def _qkv(rng: np.random.Generator, n: int = 4, kv: int = 4, t: int = 6, s: int = 9) -> Arrays:
    return {
        "q": rng.normal(size=(2, n, t, 8)),
        "k": rng.normal(size=(2, kv, s, 8)),
        "v": rng.normal(size=(2, kv, s, 5)),
    }


def _masked(rng: np.random.Generator) -> Arrays:
    arrays = _qkv(rng)
    mask = rng.random((2, 1, 6, 9)) > 0.3
    mask[1, 0, 2] = False  # a query with nothing to attend to: output 0
    bias = rng.normal(size=(4, 6, 9))
    bias[:, 4, :] = -np.inf  # emptied by the bias: output 0
    return {**arrays, "mask": mask, "bias": bias}


register(
    Case(
        name="sdpa",
        make_inputs=_qkv,
        run=lambda q, k, v: scaled_dot_product_attention(q, k, v),
        reference=lambda q, k, v: _sdpa(q, k, v),
    )
)
register(
    Case(
        name="sdpa(masked)",
        make_inputs=_masked,
        run=lambda q, k, v, mask, bias: scaled_dot_product_attention(q, k, v, mask=mask, bias=bias),
        reference=_sdpa,
    )
)
register(
    Case(
        name="sdpa(causal)",
        make_inputs=_qkv,
        run=lambda q, k, v: scaled_dot_product_attention(
            q, k, v, is_causal=True, causal_align="bottom_right"
        ),
        reference=lambda q, k, v: _sdpa(q, k, v, causal_shift=9 - 6),
    )
)
register(
    Case(
        name="sdpa(gqa)",
        make_inputs=lambda rng: _qkv(rng, n=6, kv=2),
        run=lambda q, k, v: scaled_dot_product_attention(q, k, v, is_causal=True),
        reference=lambda q, k, v: _sdpa(q, k, v, causal_shift=0),
    )
)
register(
    Case(
        name="sdpa(blocked)",
        make_inputs=_masked,
        run=lambda q, k, v, mask, bias: scaled_dot_product_attention(
            q, k, v, mask=mask, bias=bias, is_causal=True, block_size=4
        ),
        reference=lambda q, k, v, mask, bias: _sdpa(q, k, v, mask, bias, causal_shift=0),
    )
)


def _mha_inputs(rng: np.random.Generator) -> Arrays:
    e, n, kv, h = 16, 4, 2, 4
    shapes = {
        "x": (2, 5, e),
        "wq": (e, n * h),
        "wk": (e, kv * h),
        "wv": (e, kv * h),
        "wo": (n * h, e),
        "bq": (n * h,),
        "bk": (kv * h,),
        "bv": (kv * h,),
        "bo": (e,),
    }
    return {name: rng.normal(size=s) / math.sqrt(s[0]) for name, s in shapes.items()}


def _mha_reference(x: np.ndarray, **p: np.ndarray) -> np.ndarray:
    def heads(
        y: np.ndarray, count: int
    ) -> np.ndarray:  # (B, T, count*4) -> (B, count, T, 4), head i = columns 4i:4i+4
        return np.stack([y[..., 4 * i : 4 * i + 4] for i in range(count)], axis=1)

    q, k, v = (heads(x @ p[f"w{c}"] + p[f"b{c}"], 4 if c == "q" else 2) for c in "qkv")
    out = _sdpa(q, k, v, causal_shift=0)  # (B, N, T, 4)
    return np.concatenate(list(np.moveaxis(out, 1, 0)), axis=-1) @ p["wo"] + p["bo"]


def _mha(x: Any, **params: Any) -> Any:
    return multi_head_attention(params, x, num_heads=4, num_kv_heads=2, is_causal=True)


def _mha_cached(x: Any, **params: Any) -> Any:
    """A 3-token prompt, then one token at a time through the KV cache."""
    backend = backends.of(x)
    cache = init_kv_cache(2, 2, 8, 4, dtype=x.dtype, backend=backend)
    xp = backend.xp
    outputs = []
    for t0, t1 in ((0, 3), (3, 4), (4, 5)):
        out, cache = multi_head_attention(
            params, x[:, t0:t1, :], num_heads=4, num_kv_heads=2, is_causal=True, cache=cache
        )
        outputs.append(out)
    return xp.concat(outputs, axis=1)


register(Case(name="mha", make_inputs=_mha_inputs, run=_mha, reference=_mha_reference))
register(
    Case(name="mha(kv_cache)", make_inputs=_mha_inputs, run=_mha_cached, reference=_mha_reference)
)
