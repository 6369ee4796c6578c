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
from .adapters import from_peft, init_lora, lora_linear, merge_lora, unmerge_lora
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
from .clustering import KMeansResult, kmeans, kmeans_plusplus, kmeans_predict, kmeans_step
from .convolution import (
    adaptive_avg_pool2d,
    adaptive_max_pool2d,
    avg_pool2d,
    conv1d,
    conv2d,
    conv_transpose2d,
    max_pool2d,
)
from .decoding import (
    apply_temperature,
    generate,
    min_p_filter,
    repetition_penalty,
    sample_next_token,
    top_k_filter,
    top_p_filter,
)
from .detection import (
    batched_nms,
    box_area,
    box_convert,
    box_iou,
    complete_box_iou,
    distance_box_iou,
    generalized_box_iou,
    nms,
    nms_padded,
)
from .losses import binary_cross_entropy_with_logits, cross_entropy
from .models import LMConfig, cnn, init_cnn, init_lm, init_lm_cache, lm, lm_step_fn
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
from .transformer import (
    from_torch_transformer_decoder_layer,
    from_torch_transformer_encoder_layer,
    init_transformer_decoder_layer,
    init_transformer_encoder_layer,
    transformer_decoder_layer,
    transformer_encoder_layer,
)

__version__ = "0.1.0"

__all__ = [
    "BatchNormOutput",
    "KMeansResult",
    "LMConfig",
    "MultiHeadAttentionOutput",
    "__version__",
    "adaptive_avg_pool2d",
    "adaptive_max_pool2d",
    "alibi_bias",
    "alibi_slopes",
    "apply_rope",
    "apply_temperature",
    "avg_pool2d",
    "backends",
    "batch_norm",
    "batched_nms",
    "binary_cross_entropy_with_logits",
    "box_area",
    "box_convert",
    "box_iou",
    "cnn",
    "complete_box_iou",
    "conv1d",
    "conv2d",
    "conv_transpose2d",
    "convert_rope_weights",
    "cross_entropy",
    "distance_box_iou",
    "elu",
    "from_peft",
    "from_torch_multihead",
    "from_torch_transformer_decoder_layer",
    "from_torch_transformer_encoder_layer",
    "gelu",
    "generalized_box_iou",
    "generate",
    "get_backend",
    "group_norm",
    "init_batch_norm",
    "init_cnn",
    "init_kv_cache",
    "init_layer_norm",
    "init_learned_position_table",
    "init_lm",
    "init_lm_cache",
    "init_lora",
    "init_multi_head_attention",
    "init_relative_position_tables",
    "init_transformer_decoder_layer",
    "init_transformer_encoder_layer",
    "kmeans",
    "kmeans_plusplus",
    "kmeans_predict",
    "kmeans_step",
    "layer_norm",
    "leaky_relu",
    "learned_position_encoding",
    "lm",
    "lm_step_fn",
    "log_softmax",
    "logsumexp",
    "lora_linear",
    "max_pool2d",
    "merge_lora",
    "min_p_filter",
    "multi_head_attention",
    "nms",
    "nms_padded",
    "random",
    "relative_attention",
    "relative_position_index",
    "relu",
    "repetition_penalty",
    "rms_norm",
    "rope_frequencies",
    "sample_next_token",
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
    "top_k_filter",
    "top_p_filter",
    "transformer_decoder_layer",
    "transformer_encoder_layer",
    "unmerge_lora",
    "use",
]
