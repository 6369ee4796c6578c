"""The catalogue: every topic module's ``ITEMS``, concatenated in :data:`TOPICS` order."""

from __future__ import annotations

from collections.abc import Sequence

from . import (
    activations,
    arrays,
    attention,
    dtypes,
    gradients,
    image,
    layouts,
    normalization,
    numerics,
    positional,
    random,
    reductions,
    shapes,
    sorting,
)
from ._item import Item

__all__ = ["ITEMS", "items"]

#: Every item, in :data:`TOPICS` order.
ITEMS: list[Item] = [
    *dtypes.ITEMS,
    *numerics.ITEMS,
    *reductions.ITEMS,
    *arrays.ITEMS,
    *shapes.ITEMS,
    *sorting.ITEMS,
    *random.ITEMS,
    *gradients.ITEMS,
    *activations.ITEMS,
    *attention.ITEMS,
    *normalization.ITEMS,
    *positional.ITEMS,
    *image.ITEMS,
    *layouts.ITEMS,
]


def items(topics: Sequence[str] | None = None) -> list[Item]:
    """The catalogue, in :data:`TOPICS` order (only `topics` if given).

    Raises
    ------
    ValueError
        If two items share an id.
    """
    found = [item for item in ITEMS if topics is None or item.topic in topics]
    ids = [i.id for i in found]
    if len(ids) != len(set(ids)):
        msg = f"duplicate item ids: {sorted({i for i in ids if ids.count(i) > 1})}"
        raise ValueError(msg)
    return found
