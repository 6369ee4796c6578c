"""Normalisation layers as functions: batch_norm, layer_norm, rms_norm, group_norm.

Every function matches ``torch.nn.functional`` on the same arguments; state (BatchNorm's running
statistics) is passed in and returned, never stored or mutated. Means and variances come from a
shifted two-pass algorithm (``_moments``), so inputs with a large mean and a small spread keep
their precision where ``E[x²] - E[x]²`` (or even torch's own float32 kernels) lose it.
Half-precision inputs are normalised in float32 and the result is cast back.

============  =========================================================
``batch``     batch_norm (and its running statistics), init_batch_norm
``layer``     layer_norm, rms_norm, group_norm, init_layer_norm
``_moments``  shifted two-pass statistics and the shared checks
============  =========================================================
"""

from .batch import BatchNormOutput, batch_norm, init_batch_norm
from .layer import group_norm, init_layer_norm, layer_norm, rms_norm

__all__: list[str] = [
    "BatchNormOutput",
    "batch_norm",
    "group_norm",
    "init_batch_norm",
    "init_layer_norm",
    "layer_norm",
    "rms_norm",
]
