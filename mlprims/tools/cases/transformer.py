"""Check cases for the Transformer layers (:mod:`mlprims.transformer`) and the tiny language
model (:mod:`mlprims.models.lm`), against the float64 references of
:mod:`mlprims.testing.oracles.transformer` (no code shared with the primitives).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ... import backends
from ...models import LMConfig, init_lm_cache, lm
from ...testing import Case
from ...testing.oracles.transformer import (
    decoder_layer_reference,
    encoder_layer_reference,
    lm_reference,
)
from ...transformer import transformer_decoder_layer, transformer_encoder_layer

__all__ = ["CASES"]

#: The check cases of this family, in table order.
CASES: list[Case] = []

Arrays = dict[str, np.ndarray]


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

CASES.append(
    Case(
        name="transformer_encoder_layer",
        make_inputs=lambda rng: _layer_inputs(rng, cross=False),
        run=lambda x, **a: transformer_encoder_layer(_nest(a), x, **_ENCODER),
        reference=lambda x, **a: encoder_layer_reference(_nest(a), x, **_ENCODER),
    )
)
CASES.append(
    Case(
        name="transformer_encoder_layer(norm_first, gelu)",
        make_inputs=lambda rng: _layer_inputs(rng, cross=False),
        run=lambda x, **a: transformer_encoder_layer(_nest(a), x, **_ENCODER_PRE),
        reference=lambda x, **a: encoder_layer_reference(_nest(a), x, **_ENCODER_PRE),
    )
)
CASES.append(
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


CASES.append(
    Case(
        name="lm",
        make_inputs=_lm_inputs,
        run=lambda tokens, **a: lm(_lm_params(a), tokens, config=_CONFIG)[0],
        reference=lambda tokens, **a: lm_reference(_lm_params(a), tokens, _CONFIG),
    )
)
CASES.append(
    Case(
        name="lm(kv_cache)",
        make_inputs=_lm_inputs,
        run=_lm_cached,
        reference=lambda tokens, **a: lm_reference(_lm_params(a), tokens, _CONFIG),
    )
)
