"""mlprims: machine-learning primitives written once against the Python array API.

Every primitive runs unchanged on NumPy, PyTorch, JAX (also under ``jax.jit``) and
array_api_strict; the backend is taken from the input arrays. Creation functions (no array
argument) take ``backend=`` or use the default set with :func:`use`.

>>> import numpy as np, mlprims
>>> mlprims.softmax(np.array([0.0, 0.0])).tolist()
[0.5, 0.5]
"""

from . import backends, random
from .activations import *  # noqa: F403
from .activations import __all__ as _activations
from .attention import *  # noqa: F403
from .attention import __all__ as _attention
from .backends import get_backend, use
from .losses import *  # noqa: F403
from .losses import __all__ as _losses
from .normalization import *  # noqa: F403
from .normalization import __all__ as _normalization
from .positional import *  # noqa: F403
from .positional import __all__ as _positional

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "backends",
    "get_backend",
    "random",
    "use",
    *_activations,
    *_attention,
    *_losses,
    *_normalization,
    *_positional,
]
