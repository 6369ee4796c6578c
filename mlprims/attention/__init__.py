"""Attention: scaled dot-product, multi-head and self-attention, GQA/MQA, KV cache.

Shape legend (``jax.nn.dot_product_attention``'s letters in PyTorch's layout), used in the
docstrings, the code and the error messages:

====  ===========================================================================
B...  batch axes (any number, broadcast between queries and keys)
N     query heads (Hq)
K     key/value heads (Hkv): N == K, or N a multiple of K (GQA; K == 1 is MQA)
T     query length
S     key/value length
H     head dim of queries and keys
Hv    head dim of values
====  ===========================================================================

==============  ==============================================================
``sdpa``        scaled_dot_product_attention; ``attend``, the core it shares
``_dense``      one tile: scores, mask, one masked softmax, ``@ v``
``_tiled``      many tiles: query blocks, the online softmax over key blocks
``_common``     what both share: allowed keys, dropout keep masks, grouped heads
``_checks``     validation of shapes, masks and options
``multi_head``  multi-head attention and its parameters
``convert``     parameters from ``torch.nn.MultiheadAttention``
``kv_cache``    the key/value cache of incremental decoding
==============  ==============================================================
"""

from .convert import from_torch_multihead
from .kv_cache import init_kv_cache
from .multi_head import (
    MultiHeadAttentionOutput,
    init_multi_head_attention,
    multi_head_attention,
    self_attention,
)
from .sdpa import scaled_dot_product_attention

__all__: list[str] = [
    "MultiHeadAttentionOutput",
    "from_torch_multihead",
    "init_kv_cache",
    "init_multi_head_attention",
    "multi_head_attention",
    "scaled_dot_product_attention",
    "self_attention",
]
