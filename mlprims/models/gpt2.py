"""GPT-2 from mlprims' primitives, in Hugging Face ``GPT2LMHeadModel``'s layout.

Architecture (tokens (B, T) -> logits (B, T, V)), Radford et al. 2019::

    x = wte[tokens] + wpe[positions]                       learned positions
    for each of the L blocks (pre-norm):
        q, k, v = split(layer_norm(x) @ c_attn + b)        one fused (E, 3E) projection
        x = x + attention(q, k, v, causal) @ c_proj + b
        x = x + gelu_tanh(layer_norm(x) @ c_fc + b) @ mlp_proj + b
    logits = layer_norm(x) @ wte.T                         the head tied to the embedding

Hugging Face stores GPT-2's linear layers as ``Conv1D`` with (in, out) weights, which is
mlprims' ``x @ w`` layout already: nothing is transposed. Decoding recomputes the buffer at each
step (:func:`gpt2_step_fn`, no KV cache yet).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from array_api_compat import device as device_of

from .._array import Array, check_array, check_int, index_dtype, namespace
from .._layers import linear, merge_heads, split_heads
from ..activations import gelu
from ..attention import scaled_dot_product_attention
from ..normalization import layer_norm
from ._common import embed_rows, padding_keys, prompt_padding

__all__ = ["GPT2Config", "gpt2", "gpt2_step_fn"]


@dataclass(frozen=True)
class GPT2Config:
    """The sizes of a :func:`gpt2` model (hashable).

    Parameters
    ----------
    vocab : int
        V.
    d_model : int
        E (``n_embd``), divisible by `n_heads`.
    n_layers : int
        L (``n_layer``).
    n_heads : int
        N (``n_head``).
    max_len : int
        M (``n_positions``): the rows of the position table.
    d_ff : int
        The MLP's width (``n_inner``, default 4E).
    norm_eps : float
        ``layer_norm_epsilon``.
    """

    vocab: int
    d_model: int
    n_layers: int
    n_heads: int
    max_len: int
    d_ff: int
    norm_eps: float = 1e-5

    def __post_init__(self) -> None:
        for name in ("vocab", "d_model", "n_layers", "n_heads", "max_len", "d_ff"):
            object.__setattr__(self, name, check_int(getattr(self, name), name, minimum=1))
        if self.d_model % self.n_heads:
            msg = f"`d_model` ({self.d_model}) must be divisible by `n_heads` ({self.n_heads})"
            raise ValueError(msg)


def gpt2(
    params: Mapping[str, Any],
    tokens: Array,
    /,
    *,
    config: GPT2Config,
    attention_mask: Array | None = None,
    positions: Array | None = None,
) -> Array:
    """GPT-2's logits for every token: ``GPT2LMHeadModel(tokens, attention_mask).logits``.

    Parameters
    ----------
    params : dict
        ``wte`` (V, E), ``wpe`` (M, E), ``layers`` (one dict per block: ``ln_1``/``ln_2``
        ``{"weight", "bias"}``, ``c_attn_w`` (E, 3E), ``c_attn_b``, ``c_proj_w`` (E, E),
        ``c_proj_b``, ``c_fc_w`` (E, F), ``c_fc_b``, ``mlp_proj_w`` (F, E), ``mlp_proj_b``),
        ``ln_f``.
    tokens : integer array, shape (B, T)
        T <= M.
    config : GPT2Config
        The sizes.
    attention_mask : boolean or 0/1 integer array, shape (B, T), optional
        The tokens that count as keys (0: padding).
    positions : integer array, shape (B, T), optional
        Rows of ``wpe`` (default ``0 .. T - 1``, as transformers' forward).

    Returns
    -------
    array, shape (B, T, V)
    """
    check_array(tokens, "tokens")
    xp = namespace(tokens, params["wte"], names=("tokens", "params['wte']"))
    batch, length = tokens.shape
    if length > config.max_len:
        msg = f"`tokens` has T = {length} tokens, over max_len = {config.max_len}"
        raise ValueError(msg)
    device = device_of(tokens)
    if positions is None:
        positions = xp.broadcast_to(
            xp.arange(length, dtype=index_dtype(xp), device=device)[None, :], (batch, length)
        )
    e = config.d_model
    x = embed_rows(params["wte"], tokens, xp=xp) + embed_rows(params["wpe"], positions, xp=xp)
    mask = xp.tril(xp.ones((length, length), dtype=xp.bool, device=device))  # causal (T, T)
    if attention_mask is not None:
        keys = padding_keys(attention_mask, tokens, xp=xp)
        mask = mask & keys[:, None, None, :]  # (B, 1, T, T)
    for layer in params["layers"]:
        h = layer_norm(x, e, layer["ln_1"]["weight"], layer["ln_1"]["bias"], eps=config.norm_eps)
        qkv = linear(h, layer["c_attn_w"], layer["c_attn_b"])  # (B, T, 3E)
        q, k, v = (
            split_heads(qkv[..., i * e : (i + 1) * e], config.n_heads, xp=xp) for i in range(3)
        )
        out = scaled_dot_product_attention(q, k, v, mask=mask)
        x = x + linear(merge_heads(out, xp=xp), layer["c_proj_w"], layer["c_proj_b"])
        h = layer_norm(x, e, layer["ln_2"]["weight"], layer["ln_2"]["bias"], eps=config.norm_eps)
        h = gelu(linear(h, layer["c_fc_w"], layer["c_fc_b"]), approximate="tanh")
        x = x + linear(h, layer["mlp_proj_w"], layer["mlp_proj_b"])
    x = layer_norm(x, e, params["ln_f"]["weight"], params["ln_f"]["bias"], eps=config.norm_eps)
    return x @ xp.matrix_transpose(params["wte"])


def gpt2_step_fn(
    params: Mapping[str, Any], config: GPT2Config, *, attention_mask: Array | None = None
) -> Callable[[Array, Any, Any], tuple[Array, Any]]:
    """A step function of :func:`gpt2` for :func:`mlprims.generate`, without a KV cache.

    Parameters
    ----------
    params : dict
        As :func:`gpt2` takes them.
    config : GPT2Config
        The sizes.
    attention_mask : boolean or 0/1 integer array, shape (B, P), optional
        The prompt's left padding: never attended to, and positions counted from each row's
        first token (transformers' generate); repeated for beams.

    Returns
    -------
    callable
        ``step_fn(tokens, cache, index) -> (logits, cache)``: the whole (B, L) buffer is run
        (causal: the positions not yet written are unseen) and the scores of the token after
        position ``index - 1`` returned; `cache` passes through untouched.
    """

    def step_fn(tokens: Array, cache: Any, index: Any) -> tuple[Array, Any]:
        xp = namespace(tokens)
        keys, positions = None, None
        if attention_mask is not None:
            keys, positions = prompt_padding(attention_mask, tokens, xp=xp)
        logits = gpt2(params, tokens, config=config, attention_mask=keys, positions=positions)
        at = xp.reshape(xp.astype(xp.asarray(index), index_dtype(xp)) - 1, (1,))
        return xp.take(logits, at, axis=1)[:, 0, :], cache

    return step_fn
