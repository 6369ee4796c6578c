"""Every primitive that can be practised and graded, by name, and the lookup by name."""

from __future__ import annotations

from . import (
    activations,
    attention,
    clustering,
    convolution,
    decoding,
    detection,
    losses,
    normalization,
    positional,
)
from ._spec import GradeError, Spec

__all__ = ["SPECS", "spec"]

#: Every primitive that can be practised, by name.
SPECS: dict[str, Spec] = {
    name: spec
    for module in (
        normalization,
        activations,
        losses,
        attention,
        convolution,
        clustering,
        positional,
        detection,
        decoding,
    )
    for name, spec in module.SPECS.items()
}


def spec(name: str) -> Spec:
    """The spec of the primitive `name`; GradeError naming the known ones otherwise."""
    if name not in SPECS:
        msg = f"unknown primitive {name!r}; one of: {', '.join(sorted(SPECS))}"
        raise GradeError(msg)
    return SPECS[name]
