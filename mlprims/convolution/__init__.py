"""Convolution and pooling over 1 and 2 spatial dimensions, with torch's semantics.

====================  ============================================================
``conv``              conv2d, conv1d (shift-and-matmul; NCHW/OIHW and NHWC/HWIO)
``transpose``         conv_transpose2d (the adjoint of conv2d, by zero-spreading)
``pooling``           max_pool2d, avg_pool2d (fixed windows, padding, ceil_mode)
``adaptive_pooling``  adaptive_max_pool2d, adaptive_avg_pool2d (windows tiling the input)
``_geometry``         padding, stride, dilation and output-size rules shared by all
====================  ============================================================
"""

from .adaptive_pooling import adaptive_avg_pool2d, adaptive_max_pool2d
from .conv import conv1d, conv2d
from .pooling import avg_pool2d, max_pool2d
from .transpose import conv_transpose2d

__all__: list[str] = [
    "adaptive_avg_pool2d",
    "adaptive_max_pool2d",
    "avg_pool2d",
    "conv1d",
    "conv2d",
    "conv_transpose2d",
    "max_pool2d",
]
