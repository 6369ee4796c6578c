"""Every primitive that can be practised and graded: the family modules' ``SPECS``, concatenated,
and the lookup by name."""

from __future__ import annotations

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
    normalization,
    positional,
    pruning,
    quantization,
    recommendation,
    recurrent,
    retrieval,
)
from ._spec import GradeError, Spec

__all__ = ["SPECS", "names", "spec"]

#: Every primitive that can be practised, in the order ``mlprims practice`` lists them.
SPECS: list[Spec] = [
    *normalization.SPECS,
    *activations.SPECS,
    *losses.SPECS,
    *attention.SPECS,
    *convolution.SPECS,
    *image.SPECS,
    *clustering.SPECS,
    *positional.SPECS,
    *detection.SPECS,
    *decoding.SPECS,
    *adapters.SPECS,
    *experts.SPECS,
    *pruning.SPECS,
    *quantization.SPECS,
    *metrics.SPECS,
    *recommendation.SPECS,
    *recurrent.SPECS,
    *retrieval.SPECS,
]
_BY_NAME = {spec.name: spec for spec in SPECS}


def spec(name: str) -> Spec:
    """The spec of the primitive `name`; GradeError naming the known ones otherwise."""
    if name not in _BY_NAME:
        msg = f"unknown primitive {name!r}; one of: {', '.join(sorted(_BY_NAME))}"
        raise GradeError(msg)
    return _BY_NAME[name]


def names() -> list[str]:
    """The names of :data:`SPECS`, in order."""
    return [spec.name for spec in SPECS]
