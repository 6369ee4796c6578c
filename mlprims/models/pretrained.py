"""Hugging Face checkpoints as mlprims models: ``from_pretrained`` and ``from_transformers``.

A checkpoint directory as ``save_pretrained`` writes it (``config.json`` and
``model.safetensors``, or shards listed in ``model.safetensors.index.json``) is read with the
``safetensors`` package's NumPy API (no torch needed), its ``model_type`` chooses the
architecture, and every tensor is renamed to mlprims' parameter dict and transposed to its
``x @ w`` layout; then the arrays move to the chosen backend. Architectures so far: ``llama``,
``qwen2`` (biases on q, k and v) and ``mistral`` (a sliding attention window) on
:func:`mlprims.lm`, ``gpt2`` on :func:`mlprims.models.gpt2.gpt2`.

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
from .bert import BertConfig, bert
from .gpt2 import GPT2Config, gpt2, gpt2_step_fn
from .lm import lm, lm_step_fn
from .lm_config import LMConfig

__all__ = ["CausalLM", "Encoder", "from_pretrained", "from_transformers"]

#: Tensors a checkpoint may hold that the model does not use: rotary caches of old Llama
#: checkpoints.
_IGNORED = ("rotary_emb.inv_freq", ".attn.bias", ".attn.masked_bias")  # GPT-2: mask buffers


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
        if isinstance(self.config, GPT2Config):
            return gpt2(self.params, input_ids, config=self.config, attention_mask=attention_mask)
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
        if isinstance(self.config, GPT2Config):
            step = gpt2_step_fn(self.params, self.config, attention_mask=attention_mask)
        else:
            step = lm_step_fn(self.params, self.config, attention_mask=attention_mask)
        return decode(
            step, input_ids, max_new_tokens, eos_token_id=eos, pad_token_id=pad, **options
        )


def _first(token_id: Any) -> int | None:
    """A token id of a config: the first of a list (transformers stops at any of them; here
    the first)."""
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


def from_pretrained(
    path: str | Path, *, backend: str | backends.Backend | None = None, dtype: Any = None
) -> CausalLM | Encoder:
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
    CausalLM or Encoder
        An :class:`Encoder` for ``bert``, a :class:`CausalLM` for the language models.

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
) -> CausalLM | Encoder:
    """A model from an in-memory ``transformers`` model (its config and ``state_dict``).

    Parameters
    ----------
    model : transformers.PreTrainedModel
        E.g. a ``LlamaForCausalLM`` or a ``BertModel``.
    backend : str or Backend, optional
        Where the parameters go (default: see :func:`mlprims.use`).
    dtype : str, optional
        The parameters' floating dtype (default: the model's).

    Returns
    -------
    CausalLM or Encoder
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
        import safetensors  # noqa: F401 (the reader of _load_shard)
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
        tensors.update(_load_shard(file))
    return tensors


def _load_shard(file: Path) -> dict[str, np.ndarray]:
    """The tensors of one safetensors file, as NumPy arrays; bfloat16 ones (most Llama-family
    checkpoints; NumPy has no bfloat16) widened exactly to float32 from their raw bits."""
    from safetensors import safe_open

    header_size = int.from_bytes(_head(file, 8), "little")  # the format: u64, JSON, the data
    header = json.loads(_head(file, 8 + header_size)[8:])
    tensors = {}
    with safe_open(file, framework="numpy") as f:
        for name, entry in header.items():
            if name == "__metadata__":
                continue
            if entry["dtype"] != "BF16":
                tensors[name] = f.get_tensor(name)
                continue
            start, stop = entry["data_offsets"]
            raw = np.fromfile(file, np.uint16, (stop - start) // 2, offset=8 + header_size + start)
            wide = raw.astype(np.uint32) << 16  # bfloat16 is the top half of a float32
            tensors[name] = wide.view(np.float32).reshape(entry["shape"])
    return tensors


def _head(file: Path, size: int) -> bytes:
    """The first `size` bytes of `file`."""
    with file.open("rb") as f:
        return f.read(size)


def _build(
    hf_config: Mapping[str, Any],
    tensors: Mapping[str, np.ndarray],
    *,
    backend: str | backends.Backend | None,
    dtype: Any,
) -> CausalLM | Encoder:
    config, convert = _architecture(hf_config)
    params = convert(_without_prefix(tensors), config)
    target = backends.resolve(backend)
    first = next(iter(params.values()))  # an embedding table
    chosen = dtype or str(first.dtype)
    on_backend = _tree_map(lambda a: target.asarray(a, dtype=chosen), params)
    kind = Encoder if isinstance(config, BertConfig) else CausalLM
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
    """Names without the ``model.``, ``transformer.`` or ``bert.`` of a ``*ForCausalLM``,
    ``GPT2LMHeadModel`` or ``BertFor*`` (a bare ``*Model`` has none)."""
    return {
        name.removeprefix("model.").removeprefix("transformer.").removeprefix("bert."): array
        for name, array in tensors.items()
        if not name.endswith(_IGNORED)
    }


def _tree_map(fn: Callable[[np.ndarray], Any], tree: Any) -> Any:
    if isinstance(tree, dict):
        return {k: _tree_map(fn, v) for k, v in tree.items()}
    if isinstance(tree, list):
        return [_tree_map(fn, v) for v in tree]
    return fn(tree)
