"""Quantization: affine integer quantization as torch, fake quantization, NF4 as bitsandbytes.

Affine quantization maps reals onto integers, ``q = clip(round(x / scale + zero_point), qmin,
qmax)`` and back, ``x ~ (q - zero_point) * scale``, per tensor or per channel (``axis``), with
torch.ao's parameters from min/max; fake quantization does both in one step with the
straight-through gradient of quantization-aware training; NF4 is QLoRA's 4-bit blockwise
format. Integer types are named "int8", "uint8", "int4", "uint4"; 4-bit values are stored one
a byte in int8 / uint8 arrays (NF4 packs two a byte, as bitsandbytes).

==========  ====================================================================
``affine``  QuantParams, choose_qparams, quantize, dequantize
``fake``    fake_quantize: value and straight-through gradient as torch
``nf4``     NF4Tensor, quantize_nf4, dequantize_nf4 (bitsandbytes' quantize_4bit)
``linear``  quantized_linear: int8 weight, a scale per output channel
==========  ====================================================================
"""

from .affine import QuantParams, choose_qparams, dequantize, quantize
from .fake import fake_quantize
from .linear import quantized_linear
from .nf4 import NF4Tensor, dequantize_nf4, quantize_nf4

__all__: list[str] = [
    "NF4Tensor",
    "QuantParams",
    "choose_qparams",
    "dequantize",
    "dequantize_nf4",
    "fake_quantize",
    "quantize",
    "quantize_nf4",
    "quantized_linear",
]
