"""mlprims: machine-learning primitives written once against the Python array API.

Every primitive runs unchanged on NumPy, PyTorch, JAX (also under ``jax.jit``) and
array_api_strict; the backend is taken from the input arrays. Creation functions (no array
argument) take ``backend=`` or use the default set with :func:`use`.

The public path of every primitive is ``mlprims.<name>`` (random numbers:
``mlprims.random.<name>``); the family folders (``mlprims/attention/``, ...) hold the code.

>>> import numpy as np, mlprims
>>> mlprims.softmax(np.array([0.0, 0.0])).tolist()
[0.5, 0.5]
"""

from . import backends, random
from .activations import (
    elu,
    gelu,
    leaky_relu,
    log_softmax,
    logsumexp,
    relu,
    sigmoid,
    silu,
    softmax,
    softplus,
    swiglu,
    tanh,
)
from .attention import (
    MultiHeadAttentionOutput,
    from_torch_multihead,
    init_kv_cache,
    init_multi_head_attention,
    multi_head_attention,
    scaled_dot_product_attention,
    self_attention,
)
from .backends import get_backend, use
from .convolution import (
    adaptive_avg_pool2d,
    adaptive_max_pool2d,
    avg_pool2d,
    conv1d,
    conv2d,
    conv_transpose2d,
    max_pool2d,
)
from .losses import binary_cross_entropy_with_logits, cross_entropy
from .normalization import (
    BatchNormOutput,
    batch_norm,
    group_norm,
    init_batch_norm,
    init_layer_norm,
    layer_norm,
    rms_norm,
)
from .positional import (
    alibi_bias,
    alibi_slopes,
    apply_rope,
    convert_rope_weights,
    init_learned_position_table,
    init_relative_position_tables,
    learned_position_encoding,
    relative_attention,
    relative_position_index,
    rope_frequencies,
    sinusoidal_position_encoding,
    t5_position_bias,
    t5_relative_position_bucket,
)

__version__ = "0.1.0"

__all__ = [
    "BatchNormOutput",
    "MultiHeadAttentionOutput",
    "__version__",
    "adaptive_avg_pool2d",
    "adaptive_max_pool2d",
    "alibi_bias",
    "alibi_slopes",
    "apply_rope",
    "avg_pool2d",
    "backends",
    "batch_norm",
    "binary_cross_entropy_with_logits",
    "conv1d",
    "conv2d",
    "conv_transpose2d",
    "convert_rope_weights",
    "cross_entropy",
    "elu",
    "from_torch_multihead",
    "gelu",
    "get_backend",
    "group_norm",
    "init_batch_norm",
    "init_kv_cache",
    "init_layer_norm",
    "init_learned_position_table",
    "init_multi_head_attention",
    "init_relative_position_tables",
    "layer_norm",
    "leaky_relu",
    "learned_position_encoding",
    "log_softmax",
    "logsumexp",
    "max_pool2d",
    "multi_head_attention",
    "random",
    "relative_attention",
    "relative_position_index",
    "relu",
    "rms_norm",
    "rope_frequencies",
    "scaled_dot_product_attention",
    "self_attention",
    "sigmoid",
    "silu",
    "sinusoidal_position_encoding",
    "softmax",
    "softplus",
    "swiglu",
    "t5_position_bias",
    "t5_relative_position_bucket",
    "tanh",
    "use",
]
