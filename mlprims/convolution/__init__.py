"""Convolution and pooling over 1 and 2 spatial dimensions, with torch's semantics.

=============  ====================================================================
``conv``       conv2d, conv1d (shift-and-matmul; NCHW/OIHW and NHWC/HWIO)
``transpose``  conv_transpose2d (the adjoint of conv2d, by zero-spreading and conv2d)
``pooling``    max_pool2d, avg_pool2d, adaptive_max_pool2d, adaptive_avg_pool2d
``_geometry``  padding, stride, dilation and output-size rules shared with pooling
=============  ====================================================================
"""

from .conv import conv1d, conv2d
from .pooling import adaptive_avg_pool2d, adaptive_max_pool2d, avg_pool2d, max_pool2d
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
