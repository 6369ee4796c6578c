"""Small models built from the primitives: parameters as a plain dict of arrays, one function.

=======  ==================================================================
``cnn``  init_cnn, cnn: the classic two-block CNN of the PyTorch MNIST example
=======  ==================================================================
"""

from .cnn import cnn, init_cnn
from .lm import LMConfig, init_lm, init_lm_cache, lm, lm_step_fn

__all__: list[str] = [
    "LMConfig",
    "cnn",
    "init_cnn",
    "init_lm",
    "init_lm_cache",
    "lm",
    "lm_step_fn",
]
