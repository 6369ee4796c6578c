"""What an item of the catalogue is (:class:`Item`), and running its snippets (:func:`run`).

JAX snippets run with ``jax_enable_x64`` off, JAX's default, whatever the process set.
Keras and Flax are optional: their snippets run when they are installed, and their cells read
``not installed`` otherwise.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import sys
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "FRAMEWORKS",
    "LEGEND",
    "MLPRIMS",
    "NOT_INSTALLED",
    "OPTIONAL",
    "PINNED",
    "TOPICS",
    "Item",
    "Result",
    "installed",
    "run",
    "run_item",
]

#: The frameworks every item is run on, in table order.
FRAMEWORKS = ("numpy", "torch", "jax", "array_api_strict")
#: Frameworks some items also run on when they are installed (never required).
OPTIONAL = ("keras", "flax")
#: The topics, one module each, in table order.
TOPICS = (
    "dtypes",
    "numerics",
    "reductions",
    "arrays",
    "shapes",
    "sorting",
    "random",
    "gradients",
    "activations",
    "attention",
    "normalization",
    "positional",
    "image",
    "layouts",
)
NOT_INSTALLED = "not installed"
#: The versions the recorded results were measured on.
PINNED = "numpy 2.4, torch 2.13.0 (CPU), jax 0.10.2 (jax_enable_x64 off), array_api_strict 2.6"
#: What the cells of a report mean.
LEGEND = (
    "cells: `value dtype` (f32 = float32, i64 = int64); `error: T`: raised T; "
    "`warns W`: emitted the warning W; - nothing to run"
)
MLPRIMS = "mlprims"

#: A snippet: no arguments, a short printable result.
Snippet = Callable[[], str]
#: A framework's entry: (snippet, its result recorded on the pinned versions), or a sentence
#: shown as it is (``"no RoPE in torch"``): nothing to run.
Entry = tuple[Snippet, str] | str


@dataclass(frozen=True)
class Item:
    """One difference: what each framework does, what mlprims does, why it matters.

    Attributes
    ----------
    id : str
        Short unique name, e.g. ``"default-float"``.
    topic : str
        One of :data:`TOPICS`.
    title : str
        The situation, with the input, e.g. ``"array([1.0, 2.0])"``.
    why : str
        Why it matters for machine-learning code.
    frameworks : mapping of str to (snippet, claim) or str
        Per framework of :data:`FRAMEWORKS` or :data:`OPTIONAL`: the snippet and its recorded
        result, or a sentence shown as it is.
    mlprims : (snippet, claim) or str
        The same for mlprims; a sentence where mlprims has no primitive to run.
    """

    id: str
    topic: str
    title: str
    why: str
    frameworks: Mapping[str, Entry] = field(default_factory=dict)
    mlprims: Entry = "-"

    def __post_init__(self) -> None:
        unknown = set(self.frameworks) - set(FRAMEWORKS) - set(OPTIONAL)
        if unknown or self.topic not in TOPICS:
            msg = f"item {self.id!r}: unknown frameworks {sorted(unknown)} or topic {self.topic!r}"
            raise ValueError(msg)

    def entries(self) -> dict[str, Entry]:
        """Every entry, the frameworks' then mlprims' (under ``"mlprims"``)."""
        return {**self.frameworks, MLPRIMS: self.mlprims}

    def claims(self) -> dict[str, str]:
        """The recorded result of each entry that runs a snippet."""
        return {name: e[1] for name, e in self.entries().items() if not isinstance(e, str)}


@dataclass(frozen=True)
class Result:
    """An item run here: the text of each entry (``not installed`` for a missing framework)."""

    item: Item
    outputs: Mapping[str, str]

    def holds(self, name: str) -> bool | None:
        """Whether entry `name` printed its recorded result (None: nothing recorded or run)."""
        claim = self.item.claims().get(name)
        if claim is None or self.outputs.get(name) == NOT_INSTALLED:
            return None
        return self.outputs.get(name) == claim

    def as_dict(self) -> dict[str, Any]:
        """The result for JSON: the item's texts, the live outputs, the claims, the verdicts."""
        item = self.item
        names = [*item.frameworks, MLPRIMS]
        return {
            "id": item.id,
            "topic": item.topic,
            "title": item.title,
            "why": item.why,
            "outputs": dict(self.outputs),
            "claims": item.claims(),
            "holds": {name: self.holds(name) for name in names},
        }


def installed(framework: str) -> bool:
    """Whether `framework` (``numpy``, ..., ``keras``, ``flax``, ``mlprims``) can be imported."""
    return importlib.util.find_spec(framework) is not None


@contextlib.contextmanager
def _defaults(framework: str) -> Iterator[None]:
    """Warnings silenced unless a snippet records them; JAX's default 32-bit mode."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if framework in ("jax", "flax") or "jax" in sys.modules:
            jax = importlib.import_module("jax")
            with jax.enable_x64(False):
                yield
        else:
            yield


def _output(framework: str, entry: Entry) -> str:
    if isinstance(entry, str):
        return entry
    if not installed(framework):
        return NOT_INSTALLED
    snippet, _ = entry
    try:
        with _defaults(framework):
            return snippet()
    except Exception as exc:  # a snippet that raises shows the exception type, as attempt()
        return f"error: {type(exc).__name__}"


def run_item(item: Item) -> Result:
    """Run every snippet of `item` once on what is installed."""
    return Result(item, {name: _output(name, e) for name, e in item.entries().items()})


def run(chosen: Sequence[Item], *, progress: Callable[[str], None] | None = None) -> list[Result]:
    """Run `chosen` items; `progress` is told each item's id before it runs."""
    results = []
    for item in chosen:
        if progress is not None:
            progress(item.id)
        results.append(run_item(item))
    return results
