"""Hugging Face checkpoints -> mlprims' parameters, one converter per ``model_type``.

Each architecture is a function of ``config.json`` returning mlprims' config and the tensor
converter; a converter takes every tensor by its name (the ``model.``/``transformer.`` prefix
removed), checks its shape, transposes ``nn.Linear`` weights to the ``x @ w`` layout, and fails
on a tensor it does not use (:class:`_Taker`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .bert import BertConfig
from .gpt2 import GPT2Config
from .lm_config import LMConfig, kv_heads
from .resnet import ResNetConfig

__all__ = ["ARCHITECTURES"]


# ------------------------------------------------------------------------------ Llama, Qwen2


def _llama_config(hf: Mapping[str, Any]) -> tuple[LMConfig, Callable[..., dict[str, Any]]]:
    rope = dict(hf.get("rope_parameters") or {})  # transformers 5
    theta = rope.pop("rope_theta", hf.get("rope_theta", 10000.0))
    scaling = hf.get("rope_scaling") or rope  # what is left of rope_parameters: its scaling
    if scaling.get("rope_type", scaling.get("type", "default")) == "default":
        scaling = None
    heads = hf["num_attention_heads"]
    window = hf.get("sliding_window") if hf["model_type"] == "mistral" else None
    if hf.get("use_sliding_window") or "sliding_attention" in (hf.get("layer_types") or ()):
        msg = "sliding-window layers in a qwen2 model are not supported yet"
        raise ValueError(msg)
    config = LMConfig(
        vocab=hf["vocab_size"],
        d_model=hf["hidden_size"],
        n_layers=hf["num_hidden_layers"],
        n_heads=heads,
        n_kv_heads=hf.get("num_key_value_heads") or heads,
        d_ff=hf["intermediate_size"],
        max_len=hf.get("max_position_embeddings", 2048),
        rope_base=float(theta),
        norm_eps=float(hf.get("rms_norm_eps", 1e-6)),
        tie_embeddings=bool(hf.get("tie_word_embeddings", False)),
        rope_scaling=scaling,
        sliding_window=window,
        head_dim=hf.get("head_dim") or hf["hidden_size"] // heads,
    )
    return config, _llama_params


def _llama_params(tensors: Mapping[str, np.ndarray], config: LMConfig) -> dict[str, Any]:
    """Hugging Face Llama/Qwen2 names -> mlprims.lm's dict, weights transposed to (in, out)."""
    take = _Taker(tensors)
    assert config.d_ff is not None  # resolved by LMConfig
    e, v, f = config.d_model, config.vocab, config.d_ff
    q_width, kv_width = config.n_heads * config.head_dim, kv_heads(config) * config.head_dim

    params: dict[str, Any] = {"embed": take("embed_tokens.weight", (v, e)), "layers": []}
    for i in range(config.n_layers):
        at = f"layers.{i}."
        layer = {
            "attn_norm": take(at + "input_layernorm.weight", (e,)),
            "wq": take(at + "self_attn.q_proj.weight", (e, q_width), transpose=True),
            "wk": take(at + "self_attn.k_proj.weight", (e, kv_width), transpose=True),
            "wv": take(at + "self_attn.v_proj.weight", (e, kv_width), transpose=True),
            "wo": take(at + "self_attn.o_proj.weight", (q_width, e), transpose=True),
            "mlp_norm": take(at + "post_attention_layernorm.weight", (e,)),
            "w_gate": take(at + "mlp.gate_proj.weight", (e, f), transpose=True),
            "w_up": take(at + "mlp.up_proj.weight", (e, f), transpose=True),
            "w_down": take(at + "mlp.down_proj.weight", (f, e), transpose=True),
        }
        for proj, width in (("q", q_width), ("k", kv_width), ("v", kv_width)):
            name = f"{at}self_attn.{proj}_proj.bias"
            if take.has(name):  # Qwen2
                layer[f"b{proj}"] = take(name, (width,))
        params["layers"].append(layer)
    params["norm"] = take("norm.weight", (e,))
    if not config.tie_embeddings:
        params["head"] = take("lm_head.weight", (e, v), transpose=True)
    take.done(optional=("lm_head.weight",))  # a tied checkpoint may store the copy
    return params


# -------------------------------------------------------------------------------------- GPT-2


def _gpt2_config(hf: Mapping[str, Any]) -> tuple[GPT2Config, Callable[..., dict[str, Any]]]:
    e = hf["n_embd"]
    config = GPT2Config(
        vocab=hf["vocab_size"],
        d_model=e,
        n_layers=hf["n_layer"],
        n_heads=hf["n_head"],
        max_len=hf["n_positions"],
        d_ff=hf.get("n_inner") or 4 * e,
        norm_eps=float(hf.get("layer_norm_epsilon", 1e-5)),
    )
    if hf.get("activation_function", "gelu_new") not in ("gelu_new", "gelu_pytorch_tanh"):
        msg = f"GPT-2 with activation {hf['activation_function']!r} is not supported yet"
        raise ValueError(msg)
    return config, _gpt2_params


def _gpt2_params(tensors: Mapping[str, np.ndarray], config: GPT2Config) -> dict[str, Any]:
    """Hugging Face GPT-2 names -> :func:`mlprims.models.gpt2.gpt2`'s dict (Conv1D weights are
    (in, out) already: nothing is transposed)."""
    take = _Taker(tensors)
    e, f = config.d_model, config.d_ff

    def norm(name: str) -> dict[str, np.ndarray]:
        return {"weight": take(name + ".weight", (e,)), "bias": take(name + ".bias", (e,))}

    params: dict[str, Any] = {
        "wte": take("wte.weight", (config.vocab, e)),
        "wpe": take("wpe.weight", (config.max_len, e)),
        "layers": [],
    }
    for i in range(config.n_layers):
        at = f"h.{i}."
        params["layers"].append(
            {
                "ln_1": norm(at + "ln_1"),
                "c_attn_w": take(at + "attn.c_attn.weight", (e, 3 * e)),
                "c_attn_b": take(at + "attn.c_attn.bias", (3 * e,)),
                "c_proj_w": take(at + "attn.c_proj.weight", (e, e)),
                "c_proj_b": take(at + "attn.c_proj.bias", (e,)),
                "ln_2": norm(at + "ln_2"),
                "c_fc_w": take(at + "mlp.c_fc.weight", (e, f)),
                "c_fc_b": take(at + "mlp.c_fc.bias", (f,)),
                "mlp_proj_w": take(at + "mlp.c_proj.weight", (f, e)),
                "mlp_proj_b": take(at + "mlp.c_proj.bias", (e,)),
            }
        )
    params["ln_f"] = norm("ln_f")
    take.done(optional=("lm_head.weight",))  # the tied head, when a checkpoint stores it
    return params


# --------------------------------------------------------------------------------------- BERT


def _bert_config(hf: Mapping[str, Any]) -> tuple[BertConfig, Callable[..., dict[str, Any]]]:
    if hf.get("hidden_act", "gelu") != "gelu":
        msg = f"BERT with hidden_act {hf['hidden_act']!r} is not supported yet (only 'gelu')"
        raise ValueError(msg)
    if hf.get("position_embedding_type", "absolute") != "absolute":
        msg = "BERT with relative position embeddings is not supported yet"
        raise ValueError(msg)
    config = BertConfig(
        vocab=hf["vocab_size"],
        d_model=hf["hidden_size"],
        n_layers=hf["num_hidden_layers"],
        n_heads=hf["num_attention_heads"],
        d_ff=hf["intermediate_size"],
        max_len=hf["max_position_embeddings"],
        type_vocab=hf.get("type_vocab_size", 2),
        norm_eps=float(hf.get("layer_norm_eps", 1e-12)),
    )
    return config, _bert_params


def _bert_params(tensors: Mapping[str, np.ndarray], config: BertConfig) -> dict[str, Any]:
    """Hugging Face BERT names -> :func:`mlprims.models.bert.bert`'s dict; each layer as
    :func:`mlprims.transformer_encoder_layer` takes it (weights transposed to (in, out)). The
    heads of other tasks (``cls.*``) and the ``position_ids`` buffer are left out."""
    take = _Taker({k: v for k, v in tensors.items() if not k.startswith("cls.")})
    e, f = config.d_model, config.d_ff

    def norm(name: str) -> dict[str, np.ndarray]:
        return {"weight": take(name + ".weight", (e,)), "bias": take(name + ".bias", (e,))}

    def dense(name: str, d_in: int, d_out: int) -> tuple[np.ndarray, np.ndarray]:
        return take(name + ".weight", (d_in, d_out), transpose=True), take(name + ".bias", (d_out,))

    params: dict[str, Any] = {
        "word": take("embeddings.word_embeddings.weight", (config.vocab, e)),
        "position": take("embeddings.position_embeddings.weight", (config.max_len, e)),
        "token_type": take("embeddings.token_type_embeddings.weight", (config.type_vocab, e)),
        "embed_norm": norm("embeddings.LayerNorm"),
        "layers": [],
    }
    for i in range(config.n_layers):
        at = f"encoder.layer.{i}."
        attention = {}
        for ours, theirs in (("q", "query"), ("k", "key"), ("v", "value")):
            w, b = dense(f"{at}attention.self.{theirs}", e, e)
            attention[f"w{ours}"], attention[f"b{ours}"] = w, b
        attention["wo"], attention["bo"] = dense(at + "attention.output.dense", e, e)
        w1, b1 = dense(at + "intermediate.dense", e, f)
        w2, b2 = dense(at + "output.dense", f, e)
        params["layers"].append(
            {
                "self_attn": attention,
                "norm1": norm(at + "attention.output.LayerNorm"),
                "w1": w1,
                "b1": b1,
                "w2": w2,
                "b2": b2,
                "norm2": norm(at + "output.LayerNorm"),
            }
        )
    if take.has("pooler.dense.weight"):  # BertForMaskedLM and the like have none
        params["pooler_w"], params["pooler_b"] = dense("pooler.dense", e, e)
    take.done(optional=("embeddings.position_ids",))
    return params


# ------------------------------------------------------------------------------------- ResNet

#: ``config.json``'s fields that :class:`~mlprims.models.resnet.ResNetConfig` takes as they are.
_RESNET_FIELDS = (
    "num_channels",
    "embedding_size",
    "hidden_sizes",
    "depths",
    "layer_type",
    "downsample_in_first_stage",
    "downsample_in_bottleneck",
)
#: A batch norm's tensors: ours <- transformers' (``nn.BatchNorm2d``'s names).
_RESNET_NORM = {"weight": "weight", "bias": "bias", "mean": "running_mean", "var": "running_var"}


def _resnet_config(hf: Mapping[str, Any]) -> tuple[ResNetConfig, Callable[..., dict[str, Any]]]:
    if hf.get("hidden_act", "relu") != "relu":
        msg = f"ResNet with hidden_act {hf['hidden_act']!r} is not supported yet (only 'relu')"
        raise ValueError(msg)
    labels = hf.get("id2label")  # transformers counts the labels there; 2 without the map
    num_labels = len(labels) if labels is not None else hf.get("num_labels")
    num_labels = 2 if num_labels is None else num_labels
    # A missing field has transformers' default, which is ResNetConfig's.
    config = ResNetConfig(**{k: hf[k] for k in _RESNET_FIELDS if k in hf}, num_labels=num_labels)
    return config, _resnet_params


def _resnet_params(tensors: Mapping[str, np.ndarray], config: ResNetConfig) -> dict[str, Any]:
    """Hugging Face ResNet names -> :func:`mlprims.models.resnet.resnet`'s dict: each
    ``ResNetConvLayer`` (conv and batch norm) a unit, the classifier transposed to (in, out).
    The batch norms' ``num_batches_tracked`` counters are left out by the loader."""
    take = _Taker(tensors)

    def unit(name: str, c_in: int, c_out: int, kernel: int) -> dict[str, Any]:
        conv = take(name + ".convolution.weight", (c_out, c_in, kernel, kernel))
        at = name + ".normalization."
        norm = {ours: take(at + theirs, (c_out,)) for ours, theirs in _RESNET_NORM.items()}
        return {"conv": conv, "norm": norm}

    def convs(at: str, c_in: int, c_out: int) -> list[dict[str, Any]]:
        if config.layer_type == "basic":
            shapes = [(c_in, c_out, 3), (c_out, c_out, 3)]
        else:  # a quarter of the width inside (transformers' reduction = 4)
            width = c_out // 4
            shapes = [(c_in, width, 1), (width, width, 3), (width, c_out, 1)]
        return [unit(f"{at}layer.{k}", *shape) for k, shape in enumerate(shapes)]

    params: dict[str, Any] = {
        "stem": unit("embedder.embedder", config.num_channels, config.embedding_size, 7),
        "stages": [],
    }
    c_in = config.embedding_size
    for i, (c_out, depth, stride) in enumerate(
        zip(config.hidden_sizes, config.depths, config.strides, strict=True)
    ):
        stage = []
        for j in range(depth):
            at = f"encoder.stages.{i}.layers.{j}."
            layer: dict[str, Any] = {"convs": convs(at, c_in, c_out)}
            if c_in != c_out or (j == 0 and stride != 1):
                layer["shortcut"] = unit(at + "shortcut", c_in, c_out, 1)
            stage.append(layer)
            c_in = c_out
        params["stages"].append(stage)
    labels = config.num_labels
    if labels:  # none: transformers' head is nn.Identity
        params["classifier_w"] = take("classifier.1.weight", (c_in, labels), transpose=True)
        params["classifier_b"] = take("classifier.1.bias", (labels,))
    take.done()
    return params


ARCHITECTURES: dict[str, Callable[[Mapping[str, Any]], tuple[Any, Callable[..., Any]]]] = {
    "llama": _llama_config,
    "qwen2": _llama_config,
    "mistral": _llama_config,
    "gpt2": _gpt2_config,
    "bert": _bert_config,
    "resnet": _resnet_config,
}


class _Taker:
    """Takes tensors out of a checkpoint by name, checking each shape; :meth:`done` fails on
    what is left over."""

    def __init__(self, tensors: Mapping[str, np.ndarray]) -> None:
        self.remaining = dict(tensors)

    def __call__(self, name: str, shape: tuple[int, ...], *, transpose: bool = False) -> Any:
        if name not in self.remaining:
            msg = f"the checkpoint has no tensor {name!r}"
            raise ValueError(msg)
        array = self.remaining.pop(name)
        want = shape[::-1] if transpose else shape
        if tuple(array.shape) != want:
            msg = f"tensor {name!r} has shape {tuple(array.shape)}, expected {want}"
            raise ValueError(msg)
        return np.ascontiguousarray(array.T) if transpose else array

    def has(self, name: str) -> bool:
        return name in self.remaining

    def done(self, *, optional: tuple[str, ...] = ()) -> None:
        for name in optional:
            self.remaining.pop(name, None)
        if self.remaining:
            names = sorted(self.remaining)
            msg = "the checkpoint has tensors the model does not use: "
            msg += ", ".join(names[:5]) + (" ..." if len(names) > 5 else "")
            raise ValueError(msg)
