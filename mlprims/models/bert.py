"""BERT's encoder from mlprims' primitives, in Hugging Face ``BertModel``'s layout.

Architecture (Devlin et al. 2019; tokens (B, T) -> hidden states (B, T, E), pooled (B, E))::

    x = layer_norm(word[tokens] + position[0 .. T-1] + token_type[types])
    for each of the L layers: x = transformer_encoder_layer(x)       post-norm, exact GELU
    pooled = tanh(x[:, 0] @ pooler_w + pooler_b)                      the [CLS] token

Each layer is :func:`mlprims.transformer_encoder_layer` with ``norm_first=False`` and
``activation="gelu"`` (BERT's layer is ``nn.TransformerEncoderLayer``'s post-norm one); padding
keys are left out through its boolean mask.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from array_api_compat import device as device_of

from .._array import Array, check_array, check_int, index_dtype, namespace
from ..normalization import layer_norm
from ..transformer import transformer_encoder_layer
from ._common import embed_rows, padding_keys

__all__ = ["BertConfig", "bert"]


@dataclass(frozen=True)
class BertConfig:
    """The sizes of a :func:`bert` model (hashable).

    Parameters
    ----------
    vocab : int
        V (``vocab_size``).
    d_model : int
        E (``hidden_size``), divisible by `n_heads`.
    n_layers : int
        L (``num_hidden_layers``).
    n_heads : int
        N (``num_attention_heads``).
    d_ff : int
        The feed-forward width (``intermediate_size``).
    max_len : int
        M (``max_position_embeddings``).
    type_vocab : int
        The token types (``type_vocab_size``, 2: sentence A and B).
    norm_eps : float
        ``layer_norm_eps``.
    """

    vocab: int
    d_model: int
    n_layers: int
    n_heads: int
    d_ff: int
    max_len: int
    type_vocab: int = 2
    norm_eps: float = 1e-12

    def __post_init__(self) -> None:
        for name in ("vocab", "d_model", "n_layers", "n_heads", "d_ff", "max_len", "type_vocab"):
            object.__setattr__(self, name, check_int(getattr(self, name), name, minimum=1))
        if self.d_model % self.n_heads:
            msg = f"`d_model` ({self.d_model}) must be divisible by `n_heads` ({self.n_heads})"
            raise ValueError(msg)


def bert(
    params: Mapping[str, Any],
    input_ids: Array,
    /,
    *,
    config: BertConfig,
    attention_mask: Array | None = None,
    token_type_ids: Array | None = None,
) -> tuple[Array, Array | None]:
    """BERT's last hidden states and pooled output: ``BertModel(...)``'s two outputs.

    Parameters
    ----------
    params : dict
        ``word`` (V, E), ``position`` (M, E), ``token_type`` (types, E), ``embed_norm``
        ``{"weight", "bias"}``, ``layers`` (:func:`mlprims.transformer_encoder_layer`'s
        parameters, one per layer), and ``pooler_w`` (E, E), ``pooler_b`` if there is a pooler.
    input_ids : integer array, shape (B, T)
        T <= M.
    config : BertConfig
        The sizes.
    attention_mask : boolean or 0/1 integer array, shape (B, T), optional
        0 at padding, which no token attends to.
    token_type_ids : integer array, shape (B, T), optional
        Default all 0.

    Returns
    -------
    last_hidden_state : array, shape (B, T, E)
    pooler_output : array, shape (B, E), or None
        None without a pooler.

    References
    ----------
    - Devlin et al. 2019, "BERT", https://arxiv.org/abs/1810.04805
    - https://huggingface.co/docs/transformers/model_doc/bert
    """
    check_array(input_ids, "input_ids")
    xp = namespace(input_ids, params["word"], names=("input_ids", "params['word']"))
    batch, length = input_ids.shape
    if length > config.max_len:
        msg = f"`input_ids` has T = {length} tokens, over max_len = {config.max_len}"
        raise ValueError(msg)
    device = device_of(input_ids)
    positions = xp.broadcast_to(
        xp.arange(length, dtype=index_dtype(xp), device=device)[None, :], (batch, length)
    )
    types = xp.zeros_like(positions) if token_type_ids is None else token_type_ids
    e = config.d_model
    word, position, token_type = params["word"], params["position"], params["token_type"]
    x = embed_rows(word, input_ids, xp=xp) + embed_rows(position, positions, xp=xp)
    x = x + embed_rows(token_type, types, xp=xp)
    norm = params["embed_norm"]
    x = layer_norm(x, e, norm["weight"], norm["bias"], eps=config.norm_eps)
    mask = None
    if attention_mask is not None:
        keys = padding_keys(attention_mask, input_ids, xp=xp)
        mask = keys[:, None, None, :]  # (B, 1, 1, T): every query ignores the padding keys
    for layer in params["layers"]:
        x = transformer_encoder_layer(
            layer,
            x,
            num_heads=config.n_heads,
            mask=mask,
            norm_first=False,
            activation="gelu",
            eps=config.norm_eps,
        )
    if "pooler_w" not in params:  # a checkpoint without the pooler (BertForMaskedLM's)
        return x, None
    return x, xp.tanh(x[:, 0, :] @ params["pooler_w"] + params["pooler_b"])
