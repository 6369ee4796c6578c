"""The Transformer decoder layer of Vaswani et al. (2017), equal to torch's
``nn.TransformerDecoderLayer(batch_first=True)``.

Shape legend: B batch, T target tokens, S memory tokens, E = d_model, F = d_ff, N heads.
Parameters: those of :mod:`mlprims.transformer.encoder` plus

==============  ======  =======================================================
``cross_attn``  dict    attention from the targets to the memory (torch's
                        ``multihead_attn``)
``norm3``       dict    LayerNorm around the feed-forward block (``norm2`` is
                        around the cross-attention here, as in torch)
==============  ======  =======================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import backends, random
from .._array import Array, check_array, check_floating, shape_str
from .._layers import creation_target
from ..attention import init_multi_head_attention, multi_head_attention
from . import _blocks as blocks

__all__ = ["init_transformer_decoder_layer", "transformer_decoder_layer"]

_PARTS = ("self_attn", "cross_attn", "w1", "w2", "norm1", "norm2", "norm3")


def init_transformer_decoder_layer(
    key: Array,
    d_model: int,
    num_heads: int,
    d_ff: int,
    *,
    bias: bool = True,
    dtype: Any = "float32",
    backend: str | backends.Backend | None = None,
) -> dict[str, Any]:
    """Parameters of :func:`transformer_decoder_layer`, initialised like torch's layer.

    Parameters
    ----------
    key : mlprims.random key
        Same key, same parameters on every backend.
    d_model : int
        E, the width of the targets and of the memory; divisible by `num_heads`.
    num_heads : int
        N attention heads.
    d_ff : int
        F, the width of the feed-forward block (torch's ``dim_feedforward``).
    bias : bool
        Whether the linear layers, the attentions and the LayerNorms have biases.
    dtype : str or dtype
        Floating dtype of the parameters.
    backend : str or Backend, optional
        Where to create them; default the backend of `key`.

    Returns
    -------
    dict
        ``self_attn``, ``cross_attn``, ``w1``, ``b1``, ``w2``, ``b2``, ``norm1``, ``norm2``,
        ``norm3`` (see the module docstring).

    Notes
    -----
    As :func:`~mlprims.init_transformer_encoder_layer`, with a second attention.

    References
    ----------
    - https://pytorch.org/docs/stable/generated/torch.nn.TransformerDecoderLayer.html

    Examples
    --------
    >>> import mlprims
    >>> p = mlprims.init_transformer_decoder_layer(mlprims.random.key(0), 8, 2, 32)
    >>> sorted(p)
    ['b1', 'b2', 'cross_attn', 'norm1', 'norm2', 'norm3', 'self_attn', 'w1', 'w2']
    """
    e, n, f = blocks.check_init(d_model, num_heads, d_ff, bias)
    key, target = creation_target(key, backend)
    dtype = blocks.float_dtype(dtype, target)
    keys = random.split(key, 4)
    params: dict[str, Any] = {
        "self_attn": init_multi_head_attention(keys[0, :], e, n, bias=bias, dtype=dtype),
        "cross_attn": init_multi_head_attention(keys[1, :], e, n, bias=bias, dtype=dtype),
    }
    w1, b1 = blocks.init_linear(keys[2, :], e, f, bias=bias, dtype=dtype)
    w2, b2 = blocks.init_linear(keys[3, :], f, e, bias=bias, dtype=dtype)
    params.update({"w1": w1, "w2": w2})
    if bias:
        params.update({"b1": b1, "b2": b2})
    for name in ("norm1", "norm2", "norm3"):
        params[name] = blocks.init_norm(e, bias=bias, dtype=dtype, backend=target)
    return params


def transformer_decoder_layer(
    params: Mapping[str, Any],
    x: Array,
    memory: Array,
    /,
    *,
    num_heads: int,
    mask: Array | None = None,
    memory_mask: Array | None = None,
    is_causal: bool = False,
    norm_first: bool = False,
    activation: str = "relu",
    eps: float = 1e-5,
    dropout_p: float = 0.0,
    key: Array | None = None,
) -> Array:
    """One Transformer decoder layer: self-attention, cross-attention to `memory`, feed-forward.

    Post-norm (``norm_first=False``)::

        x = norm1(x + dropout(self_attn(x)))
        x = norm2(x + dropout(cross_attn(x, memory)))
        x = norm3(x + dropout(w2 · dropout(act(w1 · x))))

    Pre-norm (``norm_first=True``)::

        x = x + dropout(self_attn(norm1(x)))
        x = x + dropout(cross_attn(norm2(x), memory))
        x = x + dropout(w2 · dropout(act(w1 · norm3(x))))

    Parameters
    ----------
    params : dict
        From :func:`init_transformer_decoder_layer` or
        :func:`~mlprims.from_torch_transformer_decoder_layer`.
    x : array, shape (B, T, E)
        The target tokens, batch first.
    memory : array, shape (B, S, E)
        The encoder's output, dtype of `x`.
    num_heads : int
        N attention heads (torch's ``nhead``).
    mask : array, broadcastable to (B, N, T, T), optional
        Of the self-attention. Boolean: True = attend (the negation of torch's boolean
        ``tgt_mask``); floating: added to the scores (torch's float masks). A torch
        ``tgt_key_padding_mask`` (B, T), True = padding, is ``~pad[:, None, None, :]``.
    memory_mask : array, broadcastable to (B, N, T, S), optional
        Of the cross-attention, the same way (torch's ``memory_mask`` and
        ``memory_key_padding_mask``).
    is_causal : bool
        Target i attends only to targets j <= i (torch's ``tgt_is_causal`` with its
        ``generate_square_subsequent_mask``).
    norm_first : bool
        Pre-norm instead of post-norm.
    activation : {"relu", "gelu"}
        Of the feed-forward block.
    eps : float
        Of the LayerNorms.
    dropout_p : float in [0, 1)
        torch's ``dropout``, at its six places (the weights of both attentions, after each
        attention, after the activation, after the feed-forward block).
    key : mlprims.random key, optional
        Required when `dropout_p` > 0.

    Returns
    -------
    array, shape and dtype of `x`

    Notes
    -----
    Equals ``torch.nn.TransformerDecoderLayer(E, N, F, batch_first=True)`` in eval mode with
    the parameters of :func:`~mlprims.from_torch_transformer_decoder_layer`.

    References
    ----------
    - Vaswani et al. 2017, "Attention Is All You Need", https://arxiv.org/abs/1706.03762
    - https://pytorch.org/docs/stable/generated/torch.nn.TransformerDecoderLayer.html

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> p = mlprims.init_transformer_decoder_layer(mlprims.random.key(0), 8, 2, 16)
    >>> x, memory = np.ones((2, 3, 8), np.float32), np.ones((2, 5, 8), np.float32)
    >>> mlprims.transformer_decoder_layer(p, x, memory, num_heads=2, is_causal=True).shape
    (2, 3, 8)
    """
    xp, n = blocks.check_layer_input(params, x, "x", num_heads, _PARTS)
    check_array(memory, "memory")
    check_floating(memory, "memory", xp=xp)
    if memory.ndim != 3 or memory.shape[-1] != x.shape[-1] or memory.shape[0] != x.shape[0]:
        msg = (
            f"`memory` must have shape (B, S, E) = ({x.shape[0]}, S, {x.shape[-1]}), "
            f"got {shape_str(memory.shape)}"
        )
        raise ValueError(msg)
    if memory.dtype != x.dtype:
        msg = f"`memory` must have the dtype of `x` ({x.dtype}), got {memory.dtype}"
        raise TypeError(msg)
    p = blocks.check_options(activation, eps, dropout_p, key, norm_first, is_causal, x)
    k_sw, k_sa, k_cw, k_ca, k_ff1, k_ff2 = blocks.split_keys(key, p, 6)
    self_mask, self_bias = blocks.attention_mask(mask, "mask", xp=xp)
    cross_mask, cross_bias = blocks.attention_mask(memory_mask, "memory_mask", xp=xp)

    def self_attention_block(h: Array) -> Array:
        out = multi_head_attention(
            params["self_attn"],
            h,
            num_heads=n,
            is_causal=is_causal,
            dropout_p=p,
            key=k_sw,
            mask=self_mask,
            bias=self_bias,
        ).output  # (B, T, E)
        return blocks.dropout(out, p, k_sa, xp=xp)

    def cross_attention_block(h: Array) -> Array:
        out = multi_head_attention(
            params["cross_attn"],
            h,
            memory,
            num_heads=n,
            dropout_p=p,
            key=k_cw,
            mask=cross_mask,
            bias=cross_bias,
        ).output  # (B, T, E)
        return blocks.dropout(out, p, k_ca, xp=xp)

    def feed_forward_block(h: Array) -> Array:
        return blocks.feed_forward(params, h, activation, p, (k_ff1, k_ff2), xp=xp)

    if norm_first:
        x = x + self_attention_block(blocks.norm(params["norm1"], x, eps))
        x = x + cross_attention_block(blocks.norm(params["norm2"], x, eps))
        return x + feed_forward_block(blocks.norm(params["norm3"], x, eps))
    x = blocks.norm(params["norm1"], x + self_attention_block(x), eps)
    x = blocks.norm(params["norm2"], x + cross_attention_block(x), eps)
    return blocks.norm(params["norm3"], x + feed_forward_block(x), eps)
