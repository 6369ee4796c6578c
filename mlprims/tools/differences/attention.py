"""Attention: all -inf rows, fully masked queries, mask polarity, causal alignment, layout."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from ._item import Item
from ._show import attempt, jax, jnp, np, show, torch, warned

__all__ = ["ITEMS"]

# One head, 2 queries, 4 keys, dimension 2, layout (batch, heads, length, dim): the same shapes
# in every snippet, so that JAX compiles dot_product_attention once per option. Query 0 may see
# no key at all; query 1 sees every key.
MASK = [[False] * 4, [True] * 4]
KEEP_FIRST = [True, False, False, False]  # for each query: key 0 only


def _qkv() -> tuple[Any, Any, Any]:
    rng = np().random.default_rng(0)
    q, k, v = (rng.standard_normal((1, 1, n, 2)).astype("float32") for n in (2, 4, 4))
    return q, k, v


@contextlib.contextmanager
def _torch_seeded() -> Iterator[None]:
    """Layers drawn from a fixed seed, the caller's global generator left as it was."""
    t = torch()
    with t.random.fork_rng(devices=[]):
        t.manual_seed(0)
        yield


def _row(out: Any, v: Any) -> str:
    """What query 0 got: 0, NaN, the mean of the values, or the numbers."""
    row, values = np().asarray(out, dtype="float64"), np().asarray(v, dtype="float64")
    if np().isnan(row).all():
        return "NaN"
    if (row == 0).all():
        return "0"
    if np().allclose(row, values.mean(axis=0), atol=1e-6):
        return "mean of V"
    return show(row.tolist())


def _softmax(xp: Any, x: Any) -> Any:
    e = xp.exp(x - xp.max(x))
    return e / xp.sum(e)


def _all_inf(array: Any) -> Any:
    return array([-float("inf"), -float("inf")])


def _torch_fully_masked() -> str:
    t = torch()
    q, k, v = (t.as_tensor(a) for a in _qkv())
    sdpa = t.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=t.tensor(MASK))
    with _torch_seeded():
        mha = t.nn.MultiheadAttention(2, 1, batch_first=True)
    masked = ~t.tensor(MASK)  # MultiheadAttention: True = masked out
    with_weights = mha(q[0], k[0], v[0], attn_mask=masked)[0]
    without = mha(q[0], k[0], v[0], attn_mask=masked, need_weights=False)[0]
    mha_v = t.nn.functional.linear(v[0, 0], mha.in_proj_weight[4:], mha.in_proj_bias[4:])
    return (
        f"SDPA: {_row(sdpa[0, 0, 0], v[0, 0])}; MultiheadAttention: "
        f"{_row(with_weights[0, 0].detach(), mha_v.detach())}, "
        f"need_weights=False: {_row(without[0, 0].detach(), mha_v.detach())}"
    )


def _jax_fully_masked() -> str:
    q, k, v = (a.transpose(0, 2, 1, 3) for a in _qkv())  # (B, T, N, H)
    out = np().asarray(jax().nn.dot_product_attention(q, k, v, mask=np().asarray([[MASK]])))
    return f"dot_product_attention: {_row(out[0, 0, 0], v[0, :, 0])}"


def _mlprims_fully_masked() -> str:
    import mlprims

    q, k, v = _qkv()
    out: Any = mlprims.scaled_dot_product_attention(q, k, v, mask=np().asarray(MASK))
    return f"scaled_dot_product_attention: {_row(out[0, 0, 0], v[0, 0])}"


def _polarity(out: Any, v: Any) -> str:
    first = np().allclose(np().asarray(out), np().asarray(v)[0], atol=1e-6)
    return "True = attend" if first else "True = masked out"


def _torch_polarity() -> str:
    t = torch()
    q, k, v = (t.as_tensor(a) for a in _qkv())
    keep_first = t.tensor([KEEP_FIRST])
    sdpa = t.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=keep_first)
    with _torch_seeded():
        mha = t.nn.MultiheadAttention(2, 1, batch_first=True)
    _, weights = mha(q[0], k[0], v[0], key_padding_mask=keep_first)
    first = float(weights[0, 0, 0])
    mha_text = {1.0: "True = attend", 0.0: "True = masked out"}.get(first, show(first))
    return f"SDPA: {_polarity(sdpa[0, 0, 0], v[0, 0])}; MultiheadAttention: {mha_text}"


def _jax_polarity() -> str:
    q, k, v = (a.transpose(0, 2, 1, 3) for a in _qkv())
    mask = np().asarray([[[KEEP_FIRST, KEEP_FIRST]]])
    out = np().asarray(jax().nn.dot_product_attention(q, k, v, mask=mask))
    return f"dot_product_attention: {_polarity(out[0, 0, 0], v[0, :, 0])}"


def _mlprims_polarity() -> str:
    import mlprims

    q, k, v = _qkv()
    out: Any = mlprims.scaled_dot_product_attention(q, k, v, mask=np().asarray([KEEP_FIRST]))
    return f"mask: {_polarity(out[0, 0, 0], v[0, 0])}"


def _alignment(causal: Any, explicit: Any) -> str:
    """Which explicit mask (top-left or bottom-right) the causal output matches."""
    for name in ("top-left", "bottom-right"):
        if np().allclose(np().asarray(causal), np().asarray(explicit(name)), atol=1e-6):
            return name
    return "neither"


def _tril(name: str) -> Any:
    return np().tril(np().ones((2, 4), dtype=bool), k=0 if name == "top-left" else 2)


def _torch_causal() -> str:
    t = torch()
    sdpa = t.nn.functional.scaled_dot_product_attention
    q, k, v = (t.as_tensor(a) for a in _qkv())
    causal = sdpa(q, k, v, is_causal=True)
    return (
        f"is_causal: {_alignment(causal, lambda n: sdpa(q, k, v, attn_mask=t.as_tensor(_tril(n))))}"
    )


def _jax_causal() -> str:
    attention = jax().nn.dot_product_attention
    q, k, v = (a.transpose(0, 2, 1, 3) for a in _qkv())
    causal = attention(q, k, v, is_causal=True)
    explicit = lambda n: attention(q, k, v, mask=_tril(n)[None, None])  # noqa: E731
    return f"is_causal: {_alignment(causal, explicit)}"


def _mlprims_causal() -> str:
    import mlprims

    sdpa = mlprims.scaled_dot_product_attention
    q, k, v = _qkv()
    explicit = lambda n: sdpa(q, k, v, mask=_tril(n))  # noqa: E731
    default = _alignment(sdpa(q, k, v, is_causal=True), explicit)
    aligned = _alignment(sdpa(q, k, v, is_causal=True, causal_align="bottom_right"), explicit)
    return f"is_causal: {default}; causal_align='bottom_right': {aligned}"


def _torch_layout() -> str:
    t = torch()
    q, k, v = (t.as_tensor(a) for a in _qkv())
    by_hand = t.softmax(q @ k.mT / 2**0.5, dim=-1) @ v
    same = t.allclose(t.nn.functional.scaled_dot_product_attention(q, k, v), by_hand, atol=1e-6)
    return f"(batch, heads, length, dim): {'matches' if same else 'differs from'} by-hand"


def _jax_layout() -> str:
    attention = jax().nn.dot_product_attention
    rng = np().random.default_rng(0)
    q, k, v = (rng.standard_normal((1, 2, 3, 4)).astype("float32") for _ in "qkv")
    right = np().asarray(attention(*(a.transpose(0, 2, 1, 3) for a in (q, k, v))))
    wrong = np().asarray(attention(q, k, v))  # (B, heads, L, D) read as (B, L, heads, D)
    difference = float(np().abs(right.transpose(0, 2, 1, 3) - wrong).max())
    return f"(batch, length, heads, dim); torch's layout runs, off by {difference:.2g}"


def _mlprims_layout() -> str:
    import mlprims

    t = torch()
    q, k, v = (t.as_tensor(a) for a in _qkv())
    ours = mlprims.scaled_dot_product_attention(q, k, v)
    same = t.allclose(ours, t.nn.functional.scaled_dot_product_attention(q, k, v), atol=1e-6)
    return f"(..., heads, length, dim): {'same as' if same else 'differs from'} torch SDPA"


def _torch_float16_fill() -> str:
    scores = torch().zeros(1, dtype=torch().float16)
    fill = attempt(lambda: scores.masked_fill(torch().tensor([True]), -1e9))
    return f"{show(torch().tensor([-1e9]).half())}; masked_fill: {fill}"


def _mlprims_float16_masked() -> str:
    import mlprims

    q, k, v = (a.astype("float16") for a in _qkv())
    out: Any = mlprims.scaled_dot_product_attention(q, k, v, mask=np().asarray(MASK))
    return f"float16, fully masked row: {_row(out[0, 0, 0], v[0, 0])}"


ITEMS = [
    Item(
        "softmax-all-inf",
        "attention",
        "softmax([-inf, -inf]) (a row with every key masked)",
        "fully masked rows become NaN and poison the gradients of the whole batch",
        {
            "numpy": (
                lambda: warned(lambda: _softmax(np(), _all_inf(np().asarray))),
                "[nan, nan] f64 warns RuntimeWarning",
            ),
            "torch": (lambda: show(torch().softmax(_all_inf(torch().tensor), 0)), "[nan, nan] f32"),
            "jax": (
                lambda: show(jax().nn.softmax(_all_inf(jnp().asarray))),
                "[nan, nan] f32",
            ),
            "array_api_strict": "no softmax in the standard",
        },
        (lambda: show(__import__("mlprims").softmax(_all_inf(np().asarray))), "[0, 0] f64"),
    ),
    Item(
        "logsumexp-all-inf",
        "attention",
        "logsumexp([-inf, -inf])",
        "the same row gives a finite-safe -inf in logsumexp but NaN in softmax",
        {
            "torch": (lambda: show(torch().logsumexp(_all_inf(torch().tensor), 0)), "-inf f32"),
            "jax": (
                lambda: show(jax().nn.logsumexp(_all_inf(jnp().asarray))),
                "-inf f32",
            ),
            "array_api_strict": "no logsumexp in the standard",
        },
        (lambda: show(__import__("mlprims").logsumexp(_all_inf(np().asarray))), "-inf f64"),
    ),
    Item(
        "fully-masked-row",
        "attention",
        "attention output of a query whose mask row is all False",
        "padding rows: torch SDPA gives 0, nn.MultiheadAttention NaN (with its default "
        "need_weights=True), JAX the mean of V: a silent difference in every padded batch",
        {
            "torch": (
                _torch_fully_masked,
                "SDPA: 0; MultiheadAttention: NaN, need_weights=False: 0",
            ),
            "jax": (_jax_fully_masked, "dot_product_attention: mean of V"),
        },
        (_mlprims_fully_masked, "scaled_dot_product_attention: 0"),
    ),
    Item(
        "mask-polarity",
        "attention",
        "boolean mask [True, False, False, False] over 4 keys",
        "nn.MultiheadAttention's masks mean the opposite of SDPA's and JAX's: flip when porting",
        {
            "torch": (
                _torch_polarity,
                "SDPA: True = attend; MultiheadAttention: True = masked out",
            ),
            "jax": (_jax_polarity, "dot_product_attention: True = attend"),
        },
        (_mlprims_polarity, "mask: True = attend"),
    ),
    Item(
        "causal-alignment",
        "attention",
        "is_causal with 2 queries and 4 keys (decoding with a KV cache)",
        "top-left alignment lets query 0 see only key 0: wrong for cached decoding, which "
        "needs bottom-right",
        {
            "torch": (_torch_causal, "is_causal: top-left"),
            "jax": (_jax_causal, "is_causal: top-left"),
        },
        (_mlprims_causal, "is_causal: top-left; causal_align='bottom_right': bottom-right"),
    ),
    Item(
        "attention-layout",
        "attention",
        "axis order of q, k, v",
        "torch's (B, heads, L, D) arrays passed to jax.nn.dot_product_attention run without "
        "error and give wrong attention",
        {
            "torch": (_torch_layout, "(batch, heads, length, dim): matches by-hand"),
            "jax": (_jax_layout, "(batch, length, heads, dim); torch's layout runs, off by 2.4"),
        },
        (_mlprims_layout, "(..., heads, length, dim): same as torch SDPA"),
    ),
    Item(
        "mask-fill-float16",
        "attention",
        "the mask constant -1e9 cast to float16, and torch's masked_fill(mask, -1e9)",
        "a -1e9 fill overflows to -inf in float16 (torch's masked_fill refuses it): fully masked "
        "rows turn NaN again",
        {
            "numpy": (
                lambda: warned(lambda: np().asarray([-1e9]).astype("float16")),
                "[-inf] f16 warns RuntimeWarning",
            ),
            "torch": (_torch_float16_fill, "[-inf] f16; masked_fill: error: RuntimeError"),
            "jax": (
                lambda: warned(lambda: jnp().asarray([-1e9], dtype="float16")),
                "[-inf] f16 warns RuntimeWarning",
            ),
            "array_api_strict": "no float16 in the standard",
        },
        (_mlprims_float16_masked, "float16, fully masked row: 0"),
    ),
]
