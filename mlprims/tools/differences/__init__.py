"""``mlprims differences``: an executable catalogue of where NumPy, PyTorch, JAX and
array_api_strict disagree, in the places machine-learning code trips.

Each :class:`Item` holds, per framework, a tiny snippet run live on what is installed and the
result recorded on the pinned versions (numpy 2.4, torch 2.13.0 CPU, jax 0.10.2,
array_api_strict 2.6; the facts come from ``DIFFERENCES-CATALOGUE.md``, the image topic's from
runs on those versions), what mlprims does (run live where mlprims has the primitive) and why
it matters. ``tests/tools/test_differences.py`` asserts every recorded result, so the
catalogue cannot rot.
"""

from ._catalogue import ITEMS, items
from ._item import (
    FRAMEWORKS,
    LEGEND,
    MLPRIMS,
    NOT_INSTALLED,
    OPTIONAL,
    PINNED,
    TOPICS,
    Item,
    Result,
    installed,
    run,
    run_item,
)

__all__ = [
    "FRAMEWORKS",
    "ITEMS",
    "LEGEND",
    "MLPRIMS",
    "NOT_INSTALLED",
    "OPTIONAL",
    "PINNED",
    "TOPICS",
    "Item",
    "Result",
    "installed",
    "items",
    "run",
    "run_item",
]
