"""Float64 references for :mod:`mlprims.transformer` and :mod:`mlprims.models.lm`, composed
from the other oracles (attention with whole score matrices, norms by their formulas, RoPE pair
by pair): torch's ``TransformerEncoderLayer`` / ``TransformerDecoderLayer.forward`` line by line
in eval mode, and the tiny LM with every head cut out column by column.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .activations import gelu_reference, relu_reference, swiglu_reference
from .attention import mha_reference, sdpa_reference
from .normalization import layer_norm_reference, rms_norm_reference
from .positional import apply_rope_reference

__all__ = ["decoder_layer_reference", "encoder_layer_reference", "lm_reference"]


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


def lm_reference(params: Any, tokens: Any, config: Any) -> np.ndarray:
    """float64 logits (B, T, V) of the whole sequences, every head cut out column by column
    (`config`: an :class:`mlprims.LMConfig`)."""
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
