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
``sdpa``        scaled_dot_product_attention
``multi_head``  multi-head attention, its parameters, torch conversion
``kv_cache``    the key/value cache of incremental decoding
``_tiled``      the math: query blocks, online softmax, dropout
``_checks``     validation of shapes, masks and options
==============  ==============================================================
"""

from .kv_cache import init_kv_cache
from .multi_head import (
    from_torch_multihead,
    init_multi_head_attention,
    multi_head_attention,
    self_attention,
)
from .sdpa import scaled_dot_product_attention

__all__: list[str] = [
    "from_torch_multihead",
    "init_kv_cache",
    "init_multi_head_attention",
    "multi_head_attention",
    "scaled_dot_product_attention",
    "self_attention",
]
