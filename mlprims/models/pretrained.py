"""Hugging Face checkpoints as mlprims models: ``from_pretrained`` and ``from_transformers``.

A checkpoint directory as ``save_pretrained`` writes it (``config.json`` and
``model.safetensors``, or shards listed in ``model.safetensors.index.json``) is read with the
``safetensors`` package's NumPy API (no torch needed), its ``model_type`` chooses the
architecture, and every tensor is renamed to mlprims' parameter dict and transposed to its
``x @ w`` layout; then the arrays move to the chosen backend. Architectures so far, all on
:func:`mlprims.lm`: ``llama``, ``qwen2`` (biases on q, k and v) and ``mistral`` (a sliding
attention window).

Loading is all or nothing: a missing file, an unknown ``model_type``, a tensor missing, left
over or of the wrong shape is a ``ValueError`` naming it, before any array is made.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import backends
from .._array import Array
from ..decoding.generate import generate as decode
from .lm import lm, lm_step_fn
from .lm_config import LMConfig, kv_heads

__all__ = ["CausalLM", "from_pretrained", "from_transformers"]

#: Tensors a checkpoint may hold that the model does not use: rotary caches of old Llama
#: checkpoints.
_IGNORED = ("rotary_emb.inv_freq",)


@dataclass(frozen=True)
class CausalLM:
    """A causal language model loaded from a checkpoint.

    Attributes
    ----------
    config : LMConfig
        The sizes, from ``config.json``.
    params : dict
        The parameters (a plain pytree of arrays on one backend), as :func:`mlprims.lm` takes.
    model_type : str
        ``config.json``'s ``model_type`` (``"llama"``, ``"qwen2"``).
    hf_config : dict
        ``config.json`` as read (token ids, names).
    """

    config: LMConfig
    params: dict[str, Any]
    model_type: str
    hf_config: Mapping[str, Any] = field(default_factory=dict)

    def __call__(self, input_ids: Array, attention_mask: Array | None = None) -> Array:
        """The logits of every position: ``model(input_ids, attention_mask).logits`` of
        ``transformers``.

        Parameters
        ----------
        input_ids : integer array, shape (B, T)
            On the backend of the parameters; positions are ``0 .. T - 1`` (as transformers'
            forward, padding or not).
        attention_mask : boolean or 0/1 integer array, shape (B, T), optional
            The tokens that count as keys (0: padding). The logits of a padding position
            are meaningless (transformers' differ).

        Returns
        -------
        array, shape (B, T, V)
        """
        logits, _ = lm(self.params, input_ids, config=self.config, attention_mask=attention_mask)
        return logits

    def generate(
        self,
        input_ids: Array,
        max_new_tokens: int,
        *,
        attention_mask: Array | None = None,
        **options: Any,
    ) -> Array:
        """Extend every row of `input_ids` by `max_new_tokens`: ``transformers``' generate.

        Decoding runs with the KV cache through :func:`mlprims.generate` (greedy by default;
        ``strategy="sample"`` or ``num_beams``, as its options). ``eos_token_id`` and
        ``pad_token_id`` default to the checkpoint's generation config, a missing pad to the
        end-of-sequence id, as ``transformers`` does; a row that ends is padded, and the result
        always has P + N columns (``transformers`` stops when every row has ended: the same
        tokens, then padding).

        Parameters
        ----------
        input_ids : integer array, shape (B, P)
            Prompts, left-padded to one length when `attention_mask` says so.
        max_new_tokens : int
            N; P + N must not exceed ``config.max_len``.
        attention_mask : boolean or 0/1 integer array, shape (B, P), optional
            0 at the padding: never attended to, and each row's positions count its own
            tokens only, as transformers' generate (:func:`mlprims.lm_step_fn`).
        **options
            Passed to :func:`mlprims.generate`.

        Returns
        -------
        integer array, shape (B, P + N)
        """
        eos = options.pop("eos_token_id", _first(self.hf_config.get("eos_token_id")))
        pad = options.pop("pad_token_id", _first(self.hf_config.get("pad_token_id")))
        pad = (eos if eos is not None else 0) if pad is None else pad
        if options.get("num_beams", 1) > 1:  # transformers: beams mean beam search
            options.setdefault("strategy", "beam")
        step = lm_step_fn(self.params, self.config, attention_mask=attention_mask)
        return decode(
            step, input_ids, max_new_tokens, eos_token_id=eos, pad_token_id=pad, **options
        )


def _first(token_id: Any) -> int | None:
    """A token id of a config: the first of a list (transformers stops at any of them; here
    the first)."""
    return token_id[0] if isinstance(token_id, list) and token_id else token_id


def from_pretrained(
    path: str | Path, *, backend: str | backends.Backend | None = None, dtype: Any = None
) -> CausalLM:
    """A model from a directory written by ``transformers``' ``save_pretrained``.

    Parameters
    ----------
    path : str or Path
        The directory: ``config.json`` and ``model.safetensors`` (or its shards and
        ``model.safetensors.index.json``).
    backend : str or Backend, optional
        Where the parameters go (default: see :func:`mlprims.use`).
    dtype : str, optional
        The parameters' floating dtype (default: the checkpoint's).

    Returns
    -------
    CausalLM

    Raises
    ------
    ValueError
        For a missing file, an unknown ``model_type``, or a tensor missing, left over or of
        the wrong shape: nothing is loaded then.
    """
    folder = Path(path)
    config_file = folder / "config.json"
    if not config_file.is_file():
        msg = f"{config_file}: no such file (a checkpoint directory holds config.json)"
        raise ValueError(msg)
    hf_config = json.loads(config_file.read_text())
    generation = folder / "generation_config.json"  # its token ids win, as in transformers
    if generation.is_file():
        hf_config |= {
            k: v
            for k, v in json.loads(generation.read_text()).items()
            if k in ("bos_token_id", "eos_token_id", "pad_token_id") and v is not None
        }
    _architecture(hf_config)  # an unknown model_type or a bad config before reading weights
    return _build(hf_config, _read_tensors(folder), backend=backend, dtype=dtype)


def from_transformers(
    model: Any, *, backend: str | backends.Backend | None = None, dtype: Any = None
) -> CausalLM:
    """A model from an in-memory ``transformers`` model (its config and ``state_dict``).

    Parameters
    ----------
    model : transformers.PreTrainedModel
        E.g. a ``LlamaForCausalLM``.
    backend : str or Backend, optional
        Where the parameters go (default: see :func:`mlprims.use`).
    dtype : str, optional
        The parameters' floating dtype (default: the model's).

    Returns
    -------
    CausalLM
    """
    tensors = {
        name: tensor.detach().cpu().float().numpy()
        if str(tensor.dtype) == "torch.bfloat16"
        else tensor.detach().cpu().numpy()
        for name, tensor in model.state_dict().items()
    }
    return _build(model.config.to_dict(), tensors, backend=backend, dtype=dtype)


def _read_tensors(folder: Path) -> dict[str, np.ndarray]:
    try:
        from safetensors.numpy import load_file
    except ImportError as exc:
        msg = "reading a checkpoint needs safetensors: pip install 'mlprims[hf]'"
        raise ImportError(msg) from exc

    index = folder / "model.safetensors.index.json"
    if index.is_file():
        shards = sorted(set(json.loads(index.read_text())["weight_map"].values()))
    else:
        shards = ["model.safetensors"]
    tensors: dict[str, np.ndarray] = {}
    for shard in shards:
        file = folder / shard
        if not file.is_file():
            msg = f"{file}: no such file (the checkpoint's weights)"
            raise ValueError(msg)
        tensors.update(load_file(file))
    return tensors


def _build(
    hf_config: Mapping[str, Any],
    tensors: Mapping[str, np.ndarray],
    *,
    backend: str | backends.Backend | None,
    dtype: Any,
) -> CausalLM:
    config, convert = _architecture(hf_config)
    params = convert(_without_prefix(tensors), config)
    target = backends.resolve(backend)
    chosen = dtype or str(params["embed"].dtype)
    on_backend = _tree_map(lambda a: target.asarray(a, dtype=chosen), params)
    return CausalLM(config, on_backend, str(hf_config["model_type"]), dict(hf_config))


def _architecture(hf_config: Mapping[str, Any]) -> tuple[LMConfig, Callable[..., Any]]:
    """The model's config and its tensor converter, chosen by ``model_type``."""
    model_type = hf_config.get("model_type")
    if model_type not in _ARCHITECTURES:
        known = ", ".join(sorted(_ARCHITECTURES))
        msg = f"model_type {model_type!r} is not supported; supported: {known}"
        raise ValueError(msg)
    try:
        return _ARCHITECTURES[model_type](hf_config)
    except KeyError as exc:
        msg = f"config.json of a {model_type} model has no {exc.args[0]!r}"
        raise ValueError(msg) from None


def _without_prefix(tensors: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Names without the ``model.`` of a ``*ForCausalLM`` (a bare ``*Model`` has none)."""
    return {
        name.removeprefix("model."): array
        for name, array in tensors.items()
        if not name.endswith(_IGNORED)
    }


def _tree_map(fn: Callable[[np.ndarray], Any], tree: Any) -> Any:
    if isinstance(tree, dict):
        return {k: _tree_map(fn, v) for k, v in tree.items()}
    if isinstance(tree, list):
        return [_tree_map(fn, v) for v in tree]
    return fn(tree)


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
    head_dim = hf.get("head_dim") or hf["hidden_size"] // heads
    if head_dim * heads != hf["hidden_size"]:
        msg = (
            f"head_dim {head_dim} x {heads} heads != hidden_size {hf['hidden_size']}: "
            "not supported yet"
        )
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
    )
    return config, _llama_params


def _llama_params(tensors: Mapping[str, np.ndarray], config: LMConfig) -> dict[str, Any]:
    """Hugging Face Llama/Qwen2 names -> mlprims.lm's dict, weights transposed to (in, out)."""
    remaining = dict(tensors)
    assert config.d_ff is not None  # resolved by LMConfig
    e, v, f = config.d_model, config.vocab, config.d_ff
    q_width, kv_width = config.n_heads * config.head_dim, kv_heads(config) * config.head_dim

    def take(name: str, shape: tuple[int, ...], *, transpose: bool = False) -> np.ndarray:
        if name not in remaining:
            msg = f"the checkpoint has no tensor {name!r}"
            raise ValueError(msg)
        array = remaining.pop(name)
        want = shape[::-1] if transpose else shape
        if tuple(array.shape) != want:
            msg = f"tensor {name!r} has shape {tuple(array.shape)}, expected {want}"
            raise ValueError(msg)
        return np.ascontiguousarray(array.T) if transpose else array

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
            if name in remaining:  # Qwen2
                layer[f"b{proj}"] = take(name, (width,))
        params["layers"].append(layer)
    params["norm"] = take("norm.weight", (e,))
    if not config.tie_embeddings:
        params["head"] = take("lm_head.weight", (e, v), transpose=True)
    remaining.pop("lm_head.weight", None)  # a tied checkpoint may store the copy
    if remaining:
        msg = "the checkpoint has tensors the model does not use: "
        msg += ", ".join(sorted(remaining)[:5]) + (" ..." if len(remaining) > 5 else "")
        raise ValueError(msg)
    return params


_ARCHITECTURES: dict[str, Callable[[Mapping[str, Any]], tuple[LMConfig, Callable[..., Any]]]] = {
    "llama": _llama_config,
    "qwen2": _llama_config,
    "mistral": _llama_config,
}
