"""Check cases for the Transformer layers (:mod:`mlprims.transformer`) and the tiny language
model (:mod:`mlprims.models.lm`), against float64 references composed here from the NumPy
oracles of :mod:`mlprims.testing.oracles` (attention with whole score matrices, norms by their
formulas, RoPE pair by pair): no code shared with the primitives.

The references are public in this module so that tests can use them too
(``tests/transformer``, ``tests/models/test_lm.py``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ... import backends
from ...models.lm import LMConfig, init_lm_cache, lm
from ...testing.oracles.activations import gelu_reference, relu_reference, swiglu_reference
from ...testing.oracles.attention import mha_reference, sdpa_reference
from ...testing.oracles.normalization import layer_norm_reference, rms_norm_reference
from ...testing.oracles.positional import apply_rope_reference
from ...transformer import transformer_decoder_layer, transformer_encoder_layer
from ..registry import Case, register

__all__ = ["decoder_layer_reference", "encoder_layer_reference", "lm_reference"]

Arrays = dict[str, np.ndarray]


def _attention(params: Any, x: Any, memory: Any, num_heads: int, mask: Any, causal: bool) -> Any:
    options: dict[str, Any] = {"is_causal": causal}
    if mask is not None:
        options["mask" if np.asarray(mask).dtype == bool else "bias"] = mask
    return mha_reference(params, x, memory, num_heads=num_heads, **options)[0]


def _norm(params: Any, x: Any, eps: float) -> Any:
    return layer_norm_reference(x, x.shape[-1], params["weight"], params.get("bias"), eps=eps)


def _feed_forward(params: Any, x: Any, activation: str) -> Any:
    act = relu_reference if activation == "relu" else gelu_reference
    h = act(x @ params["w1"] + params.get("b1", 0.0))
    return h @ params["w2"] + params.get("b2", 0.0)


def encoder_layer_reference(
    params: Any,
    x: Any,
    *,
    num_heads: int,
    mask: Any = None,
    is_causal: bool = False,
    norm_first: bool = False,
    activation: str = "relu",
    eps: float = 1e-5,
) -> np.ndarray:
    """float64: torch's TransformerEncoderLayer.forward, line by line (eval mode)."""
    x = np.asarray(x, dtype=np.float64)

    def sa(h: Any) -> Any:
        return _attention(params["self_attn"], h, None, num_heads, mask, is_causal)

    if norm_first:
        x = x + sa(_norm(params["norm1"], x, eps))
        return x + _feed_forward(params, _norm(params["norm2"], x, eps), activation)
    x = _norm(params["norm1"], x + sa(x), eps)
    return _norm(params["norm2"], x + _feed_forward(params, x, activation), eps)


def decoder_layer_reference(
    params: Any,
    x: Any,
    memory: Any,
    *,
    num_heads: int,
    mask: Any = None,
    memory_mask: Any = None,
    is_causal: bool = False,
    norm_first: bool = False,
    activation: str = "relu",
    eps: float = 1e-5,
) -> np.ndarray:
    """float64: torch's TransformerDecoderLayer.forward, line by line (eval mode)."""
    x = np.asarray(x, dtype=np.float64)

    def sa(h: Any) -> Any:
        return _attention(params["self_attn"], h, None, num_heads, mask, is_causal)

    def ca(h: Any) -> Any:
        return _attention(params["cross_attn"], h, memory, num_heads, memory_mask, False)

    if norm_first:
        x = x + sa(_norm(params["norm1"], x, eps))
        x = x + ca(_norm(params["norm2"], x, eps))
        return x + _feed_forward(params, _norm(params["norm3"], x, eps), activation)
    x = _norm(params["norm1"], x + sa(x), eps)
    x = _norm(params["norm2"], x + ca(x), eps)
    return _norm(params["norm3"], x + _feed_forward(params, x, activation), eps)


def lm_reference(params: Any, tokens: Any, config: LMConfig) -> np.ndarray:
    """float64 logits (B, T, V) of the whole sequences, every head cut out column by column."""
    tokens = np.asarray(tokens)
    n, kv, h = config.n_heads, config.n_kv_heads or config.n_heads, config.head_dim
    positions = np.arange(tokens.shape[1])
    embed = np.asarray(params["embed"], dtype=np.float64)
    x = embed[tokens]  # (B, T, E)

    def heads(y: Any, count: int) -> Any:  # (B, T, count*H) -> (B, count, T, H)
        return np.stack([y[..., i * h : (i + 1) * h] for i in range(count)], axis=1)

    for layer in params["layers"]:
        p = {k: np.asarray(v, dtype=np.float64) for k, v in layer.items()}
        a = rms_norm_reference(x, x.shape[-1], p["attn_norm"], eps=config.norm_eps)
        q = apply_rope_reference(heads(a @ p["wq"], n), positions, base=config.rope_base)
        k = apply_rope_reference(heads(a @ p["wk"], kv), positions, base=config.rope_base)
        out = sdpa_reference(q, k, heads(a @ p["wv"], kv), is_causal=True)[0]  # (B, N, T, H)
        x = x + np.concatenate([out[:, i] for i in range(n)], axis=-1) @ p["wo"]
        m = rms_norm_reference(x, x.shape[-1], p["mlp_norm"], eps=config.norm_eps)
        x = x + swiglu_reference(m, p["w_gate"], p["w_up"], p["w_down"])
    norm = np.asarray(params["norm"], dtype=np.float64)
    return rms_norm_reference(x, x.shape[-1], norm, eps=config.norm_eps) @ embed.T


# ------------------------------------------------------------------ the layers' cases

E, N, F = 8, 2, 12


def _layer_inputs(rng: np.random.Generator, *, cross: bool) -> Arrays:
    """Flat arrays: ``sa_wq``... (self-attention), ``ca_*`` (cross), ``n1_w``..., x, memory."""
    arrays: Arrays = {"x": rng.normal(size=(2, 5, E))}
    for prefix in ("sa", "ca") if cross else ("sa",):
        for name in ("wq", "wk", "wv", "wo"):
            arrays[f"{prefix}_{name}"] = rng.normal(size=(E, E)) / math.sqrt(E)
        for name in ("bq", "bk", "bv", "bo"):
            arrays[f"{prefix}_{name}"] = rng.normal(size=(E,))
    arrays.update(w1=rng.normal(size=(E, F)) / math.sqrt(E), b1=rng.normal(size=(F,)))
    arrays.update(w2=rng.normal(size=(F, E)) / math.sqrt(F), b2=rng.normal(size=(E,)))
    for i in (1, 2, 3) if cross else (1, 2):
        arrays[f"n{i}_w"] = 1.0 + 0.2 * rng.normal(size=(E,))
        arrays[f"n{i}_b"] = 0.2 * rng.normal(size=(E,))
    if cross:
        arrays["memory"] = rng.normal(size=(2, 7, E))
        mask = rng.random((2, 1, 5, 7)) > 0.3
        mask[..., 0] = True
        arrays["memory_mask"] = mask
    return arrays


def _nest(arrays: dict[str, Any]) -> dict[str, Any]:
    """The layer's parameter dict from the flat arrays of :func:`_layer_inputs`."""
    params: dict[str, Any] = {}
    for flat, name in (("sa", "self_attn"), ("ca", "cross_attn")):
        attn = {k[3:]: v for k, v in arrays.items() if k.startswith(f"{flat}_")}
        if attn:
            params[name] = attn
    for i in (1, 2, 3):
        if f"n{i}_w" in arrays:
            params[f"norm{i}"] = {"weight": arrays[f"n{i}_w"], "bias": arrays[f"n{i}_b"]}
    params.update({k: arrays[k] for k in ("w1", "b1", "w2", "b2")})
    return params


_ENCODER: dict[str, Any] = {
    "num_heads": N,
    "is_causal": True,
    "norm_first": False,
    "activation": "relu",
}
_ENCODER_PRE: dict[str, Any] = {"num_heads": N, "norm_first": True, "activation": "gelu"}

register(
    Case(
        name="transformer_encoder_layer",
        make_inputs=lambda rng: _layer_inputs(rng, cross=False),
        run=lambda x, **a: transformer_encoder_layer(_nest(a), x, **_ENCODER),
        reference=lambda x, **a: encoder_layer_reference(_nest(a), x, **_ENCODER),
    )
)
register(
    Case(
        name="transformer_encoder_layer(norm_first, gelu)",
        make_inputs=lambda rng: _layer_inputs(rng, cross=False),
        run=lambda x, **a: transformer_encoder_layer(_nest(a), x, **_ENCODER_PRE),
        reference=lambda x, **a: encoder_layer_reference(_nest(a), x, **_ENCODER_PRE),
    )
)
register(
    Case(
        name="transformer_decoder_layer",
        make_inputs=lambda rng: _layer_inputs(rng, cross=True),
        run=lambda x, memory, memory_mask, **a: transformer_decoder_layer(
            _nest(a), x, memory, num_heads=N, is_causal=True, memory_mask=memory_mask
        ),
        reference=lambda x, memory, memory_mask, **a: decoder_layer_reference(
            _nest(a), x, memory, num_heads=N, is_causal=True, memory_mask=memory_mask
        ),
    )
)

# ------------------------------------------------------------------ the language model's cases

_CONFIG = LMConfig(vocab=11, d_model=8, n_layers=2, n_heads=2, n_kv_heads=1, d_ff=12, max_len=8)
_LAYER_SHAPES = {
    "wq": (8, 8),
    "wk": (8, 4),
    "wv": (8, 4),
    "wo": (8, 8),
    "w_gate": (8, 12),
    "w_up": (8, 12),
    "w_down": (12, 8),
    "attn_norm": (8,),
    "mlp_norm": (8,),
}


def _lm_inputs(rng: np.random.Generator) -> Arrays:
    arrays: Arrays = {"tokens": rng.integers(0, _CONFIG.vocab, size=(2, 6))}
    arrays["embed"] = rng.normal(size=(_CONFIG.vocab, 8))
    arrays["norm"] = 1.0 + 0.2 * rng.normal(size=(8,))
    for i in range(_CONFIG.n_layers):
        for name, shape in _LAYER_SHAPES.items():
            if name.endswith("norm"):
                arrays[f"l{i}_{name}"] = 1.0 + 0.2 * rng.normal(size=shape)
            else:
                arrays[f"l{i}_{name}"] = rng.normal(size=shape) / math.sqrt(shape[0])
    return arrays


def _lm_params(arrays: dict[str, Any]) -> dict[str, Any]:
    layers = [
        {name: arrays[f"l{i}_{name}"] for name in _LAYER_SHAPES} for i in range(_CONFIG.n_layers)
    ]
    return {"embed": arrays["embed"], "norm": arrays["norm"], "layers": layers}


def _lm_cached(tokens: Any, **arrays: Any) -> Any:
    """A 3-token prompt, then one token, then two, through the KV cache."""
    params = _lm_params(arrays)
    backend = backends.of(tokens)
    cache: Any = init_lm_cache(_CONFIG, 2, dtype=params["embed"].dtype, backend=backend)
    outputs = []
    for t0, t1 in ((0, 3), (3, 4), (4, 6)):
        logits, cache = lm(params, tokens[:, t0:t1], config=_CONFIG, cache=cache)
        outputs.append(logits)
    return backend.xp.concat(outputs, axis=1)


register(
    Case(
        name="lm",
        make_inputs=_lm_inputs,
        run=lambda tokens, **a: lm(_lm_params(a), tokens, config=_CONFIG)[0],
        reference=lambda tokens, **a: lm_reference(_lm_params(a), tokens, _CONFIG),
    )
)
register(
    Case(
        name="lm(kv_cache)",
        make_inputs=_lm_inputs,
        run=_lm_cached,
        reference=lambda tokens, **a: lm_reference(_lm_params(a), tokens, _CONFIG),
    )
)
