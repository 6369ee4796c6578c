"""Transformer layers equal to torch's, weight for weight.

==============  ===================================================================
``encoder``     init_transformer_encoder_layer, transformer_encoder_layer
``decoder``     init_transformer_decoder_layer, transformer_decoder_layer
``convert``     parameters from ``nn.TransformerEncoderLayer`` / ``DecoderLayer``
``_blocks``     what both layers share: linear, dropout, feed-forward, masks
==============  ===================================================================
"""

from .convert import from_torch_transformer_decoder_layer, from_torch_transformer_encoder_layer
from .decoder import init_transformer_decoder_layer, transformer_decoder_layer
from .encoder import init_transformer_encoder_layer, transformer_encoder_layer

__all__: list[str] = [
    "from_torch_transformer_decoder_layer",
    "from_torch_transformer_encoder_layer",
    "init_transformer_decoder_layer",
    "init_transformer_encoder_layer",
    "transformer_decoder_layer",
    "transformer_encoder_layer",
]
