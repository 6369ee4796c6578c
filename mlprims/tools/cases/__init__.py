"""The cases of ``mlprims check``: one module per family, each exporting its list ``CASES``.

:data:`CASES` is their concatenation, in table order. Nothing registers itself: a new case is
an entry in its family's list, a new family a module here and a line below.
"""

from ...testing import Case
from . import (
    activations,
    adapters,
    attention,
    clustering,
    convolution,
    decoding,
    detection,
    experts,
    image,
    losses,
    metrics,
    models,
    normalization,
    positional,
    pruning,
    quantization,
    random,
    recommendation,
    recurrent,
    retrieval,
    transformer,
)

__all__ = ["CASES"]

#: Every check case, in table order (the families alphabetically).
CASES: list[Case] = [
    *activations.CASES,
    *adapters.CASES,
    *attention.CASES,
    *clustering.CASES,
    *convolution.CASES,
    *decoding.CASES,
    *detection.CASES,
    *experts.CASES,
    *image.CASES,
    *losses.CASES,
    *metrics.CASES,
    *models.CASES,
    *normalization.CASES,
    *positional.CASES,
    *pruning.CASES,
    *quantization.CASES,
    *random.CASES,
    *recommendation.CASES,
    *recurrent.CASES,
    *retrieval.CASES,
    *transformer.CASES,
]
