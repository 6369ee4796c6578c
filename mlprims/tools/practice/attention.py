"""Properties of scaled_dot_product_attention and multi_head_attention.

Legend (as in mlprims.attention): B batch, N heads, T queries, S keys, H head size, E width.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import mlprims

from ._spec import Call, Property, Spec, composite, dtypes, floats, st

__all__ = ["SPECS"]

SCALE = "the scores are q @ k^T * scale with scale = 1 / sqrt(H) by default"
POLARITY = "mask True means attend (torch SDPA, jax.nn): set the scores to -inf where it is False"


def _mask(draw: Any, t: int, s: int, *, fully_masked: bool) -> np.ndarray:
    mask = np.array(draw(st.lists(st.booleans(), min_size=t * s, max_size=t * s))).reshape(t, s)
    if fully_masked:
        mask[draw(st.integers(0, t - 1))] = False  # one query that sees no key
    else:
        mask[np.arange(t), draw(st.lists(st.integers(0, s - 1), min_size=t, max_size=t))] = True
    return mask


@composite
def _sdpa(
    draw: Any,
    *,
    scale: bool = False,
    mask: bool = False,
    fully_masked: bool = False,
    causal: bool = False,
) -> Call:
    dtype = draw(dtypes())
    b, n = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    t, s, h = draw(st.integers(1, 3)), draw(st.integers(1, 4)), draw(st.integers(2, 3))
    q, k, v = (draw(floats((b, n, length, h), dtype)) for length in (t, s, s))
    kwargs: dict[str, Any] = {}
    if scale:
        kwargs["scale"] = draw(st.sampled_from([0.1, 1.0, 2.0]))
    if mask or fully_masked:
        kwargs["mask"] = _mask(draw, t, s, fully_masked=fully_masked)
    if causal:
        kwargs["is_causal"] = True
    return Call((q, k, v), kwargs, dtype)


SDPA = Spec(
    name="scaled_dot_product_attention",
    function=mlprims.scaled_dot_product_attention,
    parameters=("q", "k", "v", "mask", "is_causal", "scale"),
    returns="output : array, shape (B, N, T, Hv), in the dtype of `q`",
    notes="``softmax(q @ k^T * scale + where(mask, 0, -inf)) @ v``, softmax over the keys.\n"
    "Here q, k, v are (B, N, T or S, H), N query heads = N key heads; `mask` is a boolean\n"
    "(T, S) array, True = attend. `is_causal`: query i sees keys j <= i (top-left, like\n"
    "torch, also when T != S). A query with no key left gets output 0, never NaN (torch SDPA).",
    properties=(
        Property("no mask, (B, N, T, H)", _sdpa(), SCALE),
        Property("explicit scale", _sdpa(scale=True), "`scale` replaces 1 / sqrt(H)"),
        Property("boolean mask (True = attend)", _sdpa(mask=True), POLARITY),
        Property(
            "fully masked rows give 0",
            _sdpa(fully_masked=True),
            "a query whose mask row is all False has output 0: softmax of all -inf is NaN, "
            "so zero those rows (torch SDPA does)",
        ),
        Property(
            "is_causal, top-left (T != S too)",
            _sdpa(causal=True),
            "query i sees keys j <= i: tril(ones(T, S)), aligned top-left",
        ),
    ),
)


def _mha_output(result: Any) -> dict[str, Any]:
    return {"output": result[0] if isinstance(result, tuple) else result}


@composite
def _mha(draw: Any, *, cross: bool = False, mask: bool = False, causal: bool = False) -> Call:
    dtype = draw(dtypes())
    b, t, n, h = (draw(st.integers(1, 2)), draw(st.integers(1, 4)), draw(st.integers(1, 2)),
                  draw(st.integers(1, 3)))  # fmt: skip
    e = n * h
    s = draw(st.integers(1, 4)) if cross else t
    weights = {name: draw(floats((e, e), dtype, bound=1.0)) for name in ("wq", "wk", "wv", "wo")}
    biases = {name: draw(floats((e,), dtype, bound=1.0)) for name in ("bq", "bk", "bv", "bo")}
    args: tuple[Any, ...] = ({**weights, **biases}, draw(floats((b, t, e), dtype)))
    if cross:
        args = (*args, draw(floats((b, s, e), dtype)))
    kwargs: dict[str, Any] = {"num_heads": n}
    if mask:
        kwargs["mask"] = _mask(draw, t, s, fully_masked=False)
    if causal:
        kwargs["is_causal"] = True
    return Call(args, kwargs, dtype)


MULTI_HEAD_ATTENTION = Spec(
    name="multi_head_attention",
    function=mlprims.multi_head_attention,
    parameters=("params", "query", "key_value", "num_heads", "mask", "is_causal"),
    outputs=_mha_output,
    returns="output : array, shape (B, T, E), in the dtype of `query`",
    parameter_docs={
        "mask": "mask : boolean array, broadcastable to (B..., N, T, S), optional\n"
        "    True = attend.",
        "is_causal": "is_causal : bool\n    Query i sees only keys j <= i (top-left aligned).",
    },
    notes="``out = merge_heads(sdpa(split(x_q @ wq + bq), split(x_kv @ wk + bk),\n"
    "split(x_kv @ wv + bv))) @ wo + bo``: split (B, T, N*H) into (B, N, T, H) (head n takes\n"
    "features n*H .. (n+1)*H - 1), merge back; scale 1 / sqrt(H). Weights are (E_in, E_out)\n"
    "(x @ w, the JAX layout: torch's in_proj_weight transposed). `mask` (T, S), True = attend.",
    properties=(
        Property(
            "self-attention",
            _mha(),
            "split the projected features into heads, attend per head with scale 1/sqrt(H), "
            "merge the heads in order, then project with wo and bo",
        ),
        Property(
            "cross-attention (key_value)",
            _mha(cross=True),
            "keys and values come from key_value, queries from query",
        ),
        Property("boolean mask (True = attend)", _mha(mask=True), POLARITY),
        Property("is_causal", _mha(causal=True), "query i sees keys j <= i"),
    ),
)

SPECS = [SDPA, MULTI_HEAD_ATTENTION]
