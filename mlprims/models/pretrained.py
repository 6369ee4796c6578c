"""Hugging Face checkpoints as mlprims models: ``from_pretrained`` and ``from_transformers``.

A checkpoint directory as ``save_pretrained`` writes it (``config.json`` and
``model.safetensors``, or shards listed in ``model.safetensors.index.json``) is read with the
``safetensors`` package's NumPy API (no torch needed), its ``model_type`` chooses the
architecture, and every tensor is renamed to mlprims' parameter dict and transposed to its
``x @ w`` layout; then the arrays move to the chosen backend. Architectures so far: ``llama``,
``qwen2`` (biases on q, k and v) and ``mistral`` (a sliding attention window) on
:func:`mlprims.lm`, ``gpt2`` on :func:`mlprims.models.gpt2.gpt2`, ``bert`` on
:func:`mlprims.models.bert.bert`, ``resnet`` on :func:`mlprims.models.resnet.resnet`.

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
from ._convert import ARCHITECTURES
from ._safetensors import read_tensors
from .bert import BertConfig, bert
from .gpt2 import GPT2Config, gpt2, gpt2_step_fn
from .lm import lm, lm_step_fn
from .lm_config import LMConfig
from .resnet import ResNetConfig, resnet

__all__ = ["CausalLM", "Encoder", "ImageClassifier", "from_pretrained", "from_transformers"]

#: Tensors a checkpoint may hold that the model does not use: rotary caches of old Llama
#: checkpoints, GPT-2's mask buffers, the batch norms' step counters (ResNet).
_IGNORED = ("rotary_emb.inv_freq", ".attn.bias", ".attn.masked_bias", ".num_batches_tracked")


@dataclass(frozen=True)
class CausalLM:
    """A causal language model loaded from a checkpoint.

    Attributes
    ----------
    config : LMConfig or GPT2Config
        The sizes, from ``config.json``.
    params : dict
        The parameters (a plain pytree of arrays on one backend), as :func:`mlprims.lm` takes.
    model_type : str
        ``config.json``'s ``model_type`` (``"llama"``, ``"qwen2"``).
    hf_config : dict
        ``config.json`` as read (token ids, names).
    """

    config: LMConfig | GPT2Config
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
        forward: Callable[..., tuple[Array, Any]] = (
            gpt2 if isinstance(self.config, GPT2Config) else lm
        )
        logits, _ = forward(
            self.params, input_ids, config=self.config, attention_mask=attention_mask
        )
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
        ``pad_token_id`` default to the checkpoint's generation config (a list of
        end-of-sequence ids: any of them ends a row), a missing pad to the (first)
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
        eos = options.pop("eos_token_id", self.hf_config.get("eos_token_id"))
        pad = options.pop("pad_token_id", self.hf_config.get("pad_token_id"))
        if pad is None:  # transformers: the (first) end-of-sequence id
            pad = _first(eos) if eos is not None else 0
        if options.get("num_beams", 1) > 1:  # transformers: beams mean beam search
            options.setdefault("strategy", "beam")
        if isinstance(self.config, GPT2Config):
            step = gpt2_step_fn(self.params, self.config, attention_mask=attention_mask)
        else:
            step = lm_step_fn(self.params, self.config, attention_mask=attention_mask)
        return decode(
            step, input_ids, max_new_tokens, eos_token_id=eos, pad_token_id=pad, **options
        )


def _first(token_id: Any) -> int | None:
    """A token id, or the first of a list of them (Llama 3's end-of-sequence ids)."""
    return token_id[0] if isinstance(token_id, list) and token_id else token_id


@dataclass(frozen=True)
class Encoder:
    """An encoder loaded from a checkpoint (BERT).

    Attributes
    ----------
    config : BertConfig
        The sizes, from ``config.json``.
    params : dict
        The parameters, as :func:`mlprims.models.bert.bert` takes them.
    model_type : str
        ``"bert"``.
    hf_config : dict
        ``config.json`` as read.
    """

    config: BertConfig
    params: dict[str, Any]
    model_type: str
    hf_config: Mapping[str, Any] = field(default_factory=dict)

    def __call__(
        self,
        input_ids: Array,
        attention_mask: Array | None = None,
        token_type_ids: Array | None = None,
    ) -> tuple[Array, Array | None]:
        """``BertModel(input_ids, attention_mask, token_type_ids)``'s two outputs.

        Parameters
        ----------
        input_ids : integer array, shape (B, T)
        attention_mask : boolean or 0/1 integer array, shape (B, T), optional
            0 at padding.
        token_type_ids : integer array, shape (B, T), optional
            Default all 0.

        Returns
        -------
        last_hidden_state : array, shape (B, T, E)
        pooler_output : array, shape (B, E), or None
            None for a checkpoint without a pooler.
        """
        return bert(
            self.params,
            input_ids,
            config=self.config,
            attention_mask=attention_mask,
            token_type_ids=token_type_ids,
        )


@dataclass(frozen=True)
class ImageClassifier:
    """An image classifier loaded from a checkpoint (ResNet).

    Attributes
    ----------
    config : ResNetConfig
        The sizes, from ``config.json``.
    params : dict
        The parameters, as :func:`mlprims.models.resnet.resnet` takes them.
    model_type : str
        ``"resnet"``.
    hf_config : dict
        ``config.json`` as read (``id2label``: the class names).
    """

    config: ResNetConfig
    params: dict[str, Any]
    model_type: str
    hf_config: Mapping[str, Any] = field(default_factory=dict)

    def __call__(self, pixel_values: Array) -> Array:
        """``ResNetForImageClassification(pixel_values).logits`` (eval mode).

        Parameters
        ----------
        pixel_values : array, shape (B, C, H, W)
            Images, NCHW, of the dtype of the parameters.

        Returns
        -------
        array, shape (B, num_labels)
            The pooled features (B, C_last) for a checkpoint without labels.
        """
        return resnet(self.params, pixel_values, config=self.config)


def from_pretrained(
    path: str | Path, *, backend: str | backends.Backend | None = None, dtype: Any = None
) -> CausalLM | Encoder | ImageClassifier:
    """A model from a directory written by ``transformers``' ``save_pretrained``.

    Parameters
    ----------
    path : str or Path
        The directory: ``config.json`` and ``model.safetensors`` (or its shards and
        ``model.safetensors.index.json``).
    backend : str or Backend, optional
        Where the parameters go (default: see :func:`mlprims.use`).
    dtype : str, optional
        The parameters' floating dtype (default: the checkpoint's; float32 for bfloat16, which
        NumPy lacks: the widening is exact).

    Returns
    -------
    CausalLM, Encoder or ImageClassifier
        An :class:`Encoder` for ``bert``, an :class:`ImageClassifier` for ``resnet``, a
        :class:`CausalLM` for the language models.

    Raises
    ------
    ValueError
        For a missing file, an unknown ``model_type``, or a tensor missing, left over or of
        the wrong shape: nothing is loaded then.

    References
    ----------
    - ``save_pretrained`` and ``from_pretrained``: https://huggingface.co/docs/transformers/main_classes/model
    - https://huggingface.co/docs/safetensors/index
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
    return _build(hf_config, read_tensors(folder), backend=backend, dtype=dtype)


def from_transformers(
    model: Any, *, backend: str | backends.Backend | None = None, dtype: Any = None
) -> CausalLM | Encoder | ImageClassifier:
    """A model from an in-memory ``transformers`` model (its config and ``state_dict``).

    Parameters
    ----------
    model : transformers.PreTrainedModel
        E.g. a ``LlamaForCausalLM``, a ``BertModel`` or a ``ResNetForImageClassification``.
    backend : str or Backend, optional
        Where the parameters go (default: see :func:`mlprims.use`).
    dtype : str, optional
        The parameters' floating dtype (default: the model's).

    Returns
    -------
    CausalLM, Encoder or ImageClassifier

    References
    ----------
    - https://huggingface.co/docs/transformers/main_classes/model
    """
    tensors = {
        name: tensor.detach().cpu().float().numpy()
        if str(tensor.dtype) == "torch.bfloat16"
        else tensor.detach().cpu().numpy()
        for name, tensor in model.state_dict().items()
    }
    return _build(model.config.to_dict(), tensors, backend=backend, dtype=dtype)


def _build(
    hf_config: Mapping[str, Any],
    tensors: Mapping[str, np.ndarray],
    *,
    backend: str | backends.Backend | None,
    dtype: Any,
) -> CausalLM | Encoder | ImageClassifier:
    config, convert = _architecture(hf_config)
    params = convert(_without_prefix(tensors), config)
    target = backends.resolve(backend)
    first: Any = params  # the first array: an embedding table, ResNet's stem conv
    while isinstance(first, (dict, list)):
        first = next(iter(first.values())) if isinstance(first, dict) else first[0]
    chosen = dtype or str(first.dtype)  # every array, batch norm statistics too
    on_backend = _tree_map(lambda a: target.asarray(a, dtype=chosen), params)
    kinds: dict[type, type] = {BertConfig: Encoder, ResNetConfig: ImageClassifier}
    kind = kinds.get(type(config), CausalLM)
    return kind(config, on_backend, str(hf_config["model_type"]), dict(hf_config))


def _architecture(hf_config: Mapping[str, Any]) -> tuple[Any, Callable[..., Any]]:
    """The model's config and its tensor converter, chosen by ``model_type``."""
    model_type = hf_config.get("model_type")
    if model_type not in ARCHITECTURES:
        known = ", ".join(sorted(ARCHITECTURES))
        msg = f"model_type {model_type!r} is not supported; supported: {known}"
        raise ValueError(msg)
    try:
        return ARCHITECTURES[model_type](hf_config)
    except KeyError as exc:
        msg = f"config.json of a {model_type} model has no {exc.args[0]!r}"
        raise ValueError(msg) from None


def _without_prefix(tensors: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Names without the ``model.``, ``transformer.``, ``bert.`` or ``resnet.`` of a
    ``*ForCausalLM``, ``GPT2LMHeadModel``, ``BertFor*`` or ``ResNetFor*`` (a bare ``*Model``
    has none)."""
    return {
        name.removeprefix("model.")
        .removeprefix("transformer.")
        .removeprefix("bert.")
        .removeprefix("resnet."): array
        for name, array in tensors.items()
        if not name.endswith(_IGNORED)
    }


def _tree_map(fn: Callable[[np.ndarray], Any], tree: Any) -> Any:
    if isinstance(tree, dict):
        return {k: _tree_map(fn, v) for k, v in tree.items()}
    if isinstance(tree, list):
        return [_tree_map(fn, v) for v in tree]
    return fn(tree)
