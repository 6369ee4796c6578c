"""Small models built from the primitives: parameters as a plain dict of arrays, one function.

=======  ==================================================================
``cnn``  init_cnn, cnn: the classic two-block CNN of the PyTorch MNIST example
=======  ==================================================================
"""

from .cnn import cnn, init_cnn

__all__: list[str] = [
    "cnn",
    "init_cnn",
]
