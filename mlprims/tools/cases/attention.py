"""Check cases for mlprims.attention, against the float64 oracles of
:mod:`mlprims.testing.oracles.attention` (shared with the tests): they repeat key/value heads
for GQA, build the whole score matrix and apply the masked softmax row by row, sharing no code
with :mod:`mlprims.attention`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ... import backends
from ...attention import init_kv_cache, multi_head_attention, scaled_dot_product_attention
from ...testing import Case
from ...testing.oracles.attention import mha_reference, sdpa_reference

__all__ = ["CASES"]

#: The check cases of this family, in table order.
CASES: list[Case] = []

Arrays = dict[str, np.ndarray]


def _sdpa(q: np.ndarray, k: np.ndarray, v: np.ndarray, **options: Any) -> np.ndarray:
    """The float64 output of attention (without the weights)."""
    return sdpa_reference(q, k, v, **options)[0]


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


CASES.append(
    Case(
        name="scaled_dot_product_attention",
        make_inputs=_qkv,
        run=lambda q, k, v: scaled_dot_product_attention(q, k, v),
        reference=_sdpa,
    )
)
CASES.append(
    Case(
        name="scaled_dot_product_attention(masked)",
        make_inputs=_masked,
        run=lambda q, k, v, mask, bias: scaled_dot_product_attention(q, k, v, mask=mask, bias=bias),
        reference=lambda q, k, v, mask, bias: _sdpa(q, k, v, mask=mask, bias=bias),
    )
)
CASES.append(
    Case(
        name="scaled_dot_product_attention(causal)",
        make_inputs=_qkv,
        run=lambda q, k, v: scaled_dot_product_attention(
            q, k, v, is_causal=True, causal_align="bottom_right"
        ),
        reference=lambda q, k, v: _sdpa(q, k, v, is_causal=True, causal_align="bottom_right"),
    )
)
CASES.append(
    Case(
        name="scaled_dot_product_attention(gqa)",
        make_inputs=lambda rng: _qkv(rng, n=6, kv=2),
        run=lambda q, k, v: scaled_dot_product_attention(q, k, v, is_causal=True),
        reference=lambda q, k, v: _sdpa(q, k, v, is_causal=True),
    )
)
CASES.append(
    Case(
        name="scaled_dot_product_attention(blocked)",
        make_inputs=_masked,
        run=lambda q, k, v, mask, bias: scaled_dot_product_attention(
            q, k, v, mask=mask, bias=bias, is_causal=True, block_size=4
        ),
        reference=lambda q, k, v, mask, bias: _sdpa(q, k, v, mask=mask, bias=bias, is_causal=True),
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


def _mha_reference(x: np.ndarray, **params: np.ndarray) -> np.ndarray:
    return mha_reference(params, x, num_heads=4, num_kv_heads=2, is_causal=True)[0]


def _mha(x: Any, **params: Any) -> Any:
    return multi_head_attention(params, x, num_heads=4, num_kv_heads=2, is_causal=True).output


def _mha_cached(x: Any, **params: Any) -> Any:
    """A 3-token prompt, then one token at a time through the KV cache."""
    backend = backends.of(x)
    cache: dict[str, Any] | None = init_kv_cache(2, 2, 8, 4, dtype=x.dtype, backend=backend)
    xp = backend.xp
    outputs = []
    for t0, t1 in ((0, 3), (3, 4), (4, 5)):
        out, _, cache = multi_head_attention(
            params, x[:, t0:t1, :], num_heads=4, num_kv_heads=2, is_causal=True, cache=cache
        )
        outputs.append(out)
    return xp.concat(outputs, axis=1)


CASES.append(
    Case(name="multi_head_attention", make_inputs=_mha_inputs, run=_mha, reference=_mha_reference)
)
CASES.append(
    Case(
        name="multi_head_attention(kv_cache)",
        make_inputs=_mha_inputs,
        run=_mha_cached,
        reference=_mha_reference,
    )
)
