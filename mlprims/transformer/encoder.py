"""The Transformer encoder layer of Vaswani et al. (2017), equal to torch's
``nn.TransformerEncoderLayer(batch_first=True)``.

Shape legend: B batch, T tokens, E = d_model, F = d_ff, N heads. Parameters are a plain dict
(a pytree), linear weights in the ``y = x @ w + b`` layout of
:func:`~mlprims.init_multi_head_attention`:

=============  ==================  =====================================================
``self_attn``  dict                multi-head attention (``wq, wk, wv, wo``, ``bq, ...``)
``w1``, ``b1`` (E, F), (F,)        torch ``linear1.weight.T``, ``linear1.bias``
``w2``, ``b2`` (F, E), (E,)        torch ``linear2.weight.T``, ``linear2.bias``
``norm1``      dict                LayerNorm ``weight``, ``bias`` (E,) after (or before)
                                   the attention
``norm2``      dict                the same around the feed-forward block
=============  ==================  =====================================================

Biases are absent (``b1``, ``b2``) or None (norms) for ``bias=False``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import backends, random
from .._array import Array
from .._layers import creation_target
from ..attention import init_multi_head_attention, multi_head_attention
from . import _blocks as blocks

__all__ = ["init_transformer_encoder_layer", "transformer_encoder_layer"]

_PARTS = ("self_attn", "w1", "w2", "norm1", "norm2")


def init_transformer_encoder_layer(
    key: Array,
    d_model: int,
    num_heads: int,
    d_ff: int,
    *,
    bias: bool = True,
    dtype: Any = "float32",
    backend: str | backends.Backend | None = None,
) -> dict[str, Any]:
    """Parameters of :func:`transformer_encoder_layer`, initialised like torch's layer.

    Parameters
    ----------
    key : mlprims.random key
        Same key, same parameters on every backend.
    d_model : int
        E, the width of the tokens; divisible by `num_heads`.
    num_heads : int
        N attention heads.
    d_ff : int
        F, the width of the feed-forward block (torch's ``dim_feedforward``).
    bias : bool
        Whether the linear layers, the attention and the LayerNorms have biases (torch's
        ``bias``).
    dtype : str or dtype
        Floating dtype of the parameters.
    backend : str or Backend, optional
        Where to create them; default the backend of `key`.

    Returns
    -------
    dict
        ``self_attn``, ``w1``, ``b1``, ``w2``, ``b2``, ``norm1``, ``norm2`` (see the module
        docstring).

    Notes
    -----
    The attention as :func:`~mlprims.init_multi_head_attention` (torch's xavier-uniform
    ``in_proj``, zero biases), the linear layers with ``nn.Linear``'s law
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases, LayerNorms ones and zeros.

    References
    ----------
    - https://pytorch.org/docs/stable/generated/torch.nn.TransformerEncoderLayer.html

    Examples
    --------
    >>> import mlprims
    >>> p = mlprims.init_transformer_encoder_layer(mlprims.random.key(0), 8, 2, 32)
    >>> p["w1"].shape, p["w2"].shape, sorted(p["self_attn"])[:2]
    ((8, 32), (32, 8), ['bk', 'bo'])
    """
    e, n, f = blocks.check_init(d_model, num_heads, d_ff, bias)
    key, target = creation_target(key, backend)
    dtype = blocks.float_dtype(dtype, target)
    keys = random.split(key, 3)
    params: dict[str, Any] = {
        "self_attn": init_multi_head_attention(keys[0, :], e, n, bias=bias, dtype=dtype)
    }
    w1, b1 = blocks.init_linear(keys[1, :], e, f, bias=bias, dtype=dtype)
    w2, b2 = blocks.init_linear(keys[2, :], f, e, bias=bias, dtype=dtype)
    params.update({"w1": w1, "w2": w2})
    if bias:
        params.update({"b1": b1, "b2": b2})
    for name in ("norm1", "norm2"):
        params[name] = blocks.init_norm(e, bias=bias, dtype=dtype, backend=target)
    return params


def transformer_encoder_layer(
    params: Mapping[str, Any],
    x: Array,
    /,
    *,
    num_heads: int,
    mask: Array | None = None,
    is_causal: bool = False,
    norm_first: bool = False,
    activation: str = "relu",
    eps: float = 1e-5,
    dropout_p: float = 0.0,
    key: Array | None = None,
) -> Array:
    """One Transformer encoder layer: self-attention and a feed-forward block, each residual.

    Post-norm (``norm_first=False``, the original Transformer)::

        x = norm1(x + dropout(self_attn(x)))
        x = norm2(x + dropout(w2 · dropout(act(w1 · x))))

    Pre-norm (``norm_first=True``, Xiong et al. 2020)::

        x = x + dropout(self_attn(norm1(x)))
        x = x + dropout(w2 · dropout(act(w1 · norm2(x))))

    Parameters
    ----------
    params : dict
        From :func:`init_transformer_encoder_layer` or
        :func:`~mlprims.from_torch_transformer_encoder_layer`.
    x : array, shape (B, T, E)
        The tokens, batch first.
    num_heads : int
        N attention heads (torch's ``nhead``).
    mask : array, broadcastable to (B, N, T, T), optional
        Boolean: True = attend (the negation of torch's boolean ``src_mask``). Floating:
        added to the attention scores (torch's float ``src_mask``, 0 or -inf). A torch
        ``src_key_padding_mask`` (B, T), True = padding, is ``~pad[:, None, None, :]``.
    is_causal : bool
        Token i attends only to tokens j <= i.
    norm_first : bool
        Pre-norm instead of post-norm.
    activation : {"relu", "gelu"}
        Of the feed-forward block (exact erf GELU, like torch's ``"gelu"``).
    eps : float
        Of the LayerNorms (torch's ``layer_norm_eps``).
    dropout_p : float in [0, 1)
        torch's ``dropout``: on the attention weights, after the attention, after the
        activation and after the feed-forward block. 0 (default) is torch's eval mode.
    key : mlprims.random key, optional
        Required when `dropout_p` > 0; of the backend of `x`.

    Returns
    -------
    array, shape and dtype of `x`

    Notes
    -----
    Equals ``torch.nn.TransformerEncoderLayer(E, N, F, batch_first=True)`` in eval mode with the
    parameters of :func:`~mlprims.from_torch_transformer_encoder_layer` (the order of
    ``forward`` in ``torch/nn/modules/transformer.py``). Dropout draws its own masks: the
    same key gives the same masks on every backend, not torch's.

    References
    ----------
    - Vaswani et al. 2017, "Attention Is All You Need", https://arxiv.org/abs/1706.03762
    - https://pytorch.org/docs/stable/generated/torch.nn.TransformerEncoderLayer.html

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> p = mlprims.init_transformer_encoder_layer(mlprims.random.key(0), 8, 2, 16)
    >>> x = np.ones((2, 5, 8), dtype=np.float32)
    >>> mlprims.transformer_encoder_layer(p, x, num_heads=2, is_causal=True).shape
    (2, 5, 8)
    """
    xp, n = blocks.check_layer_input(params, x, "x", num_heads, _PARTS)
    p = blocks.check_options(activation, eps, dropout_p, key, norm_first, is_causal, x)
    k_attn, k_sa, k_ff1, k_ff2 = blocks.split_keys(key, p, 4)
    attn_mask, attn_bias = blocks.attention_mask(mask, "mask", xp=xp)

    def self_attention_block(h: Array) -> Array:
        out = multi_head_attention(
            params["self_attn"],
            h,
            num_heads=n,
            is_causal=is_causal,
            dropout_p=p,
            key=k_attn,
            mask=attn_mask,
            bias=attn_bias,
        ).output  # (B, T, E)
        return blocks.dropout(out, p, k_sa, xp=xp)

    def feed_forward_block(h: Array) -> Array:
        return blocks.feed_forward(params, h, activation, p, (k_ff1, k_ff2), xp=xp)

    if norm_first:
        x = x + self_attention_block(blocks.norm(params["norm1"], x, eps))
        return x + feed_forward_block(blocks.norm(params["norm2"], x, eps))
    x = blocks.norm(params["norm1"], x + self_attention_block(x), eps)
    return blocks.norm(params["norm2"], x + feed_forward_block(x), eps)
