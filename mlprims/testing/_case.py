"""The one case type: a primitive, the inputs it is called on, and its float64 reference.

``mlprims check`` runs each case of :data:`mlprims.tools.cases.CASES` on every backend and
compares it with its reference; ``mlprims bench`` times cases (without references) against the
frameworks' own ops. Cases are plain values in plain lists: nothing registers itself.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Case", "Inputs"]

Inputs = Mapping[str, np.ndarray]


@dataclass(frozen=True)
class Case:
    """One primitive called on NumPy-drawn inputs, and what it must equal.

    Attributes
    ----------
    name : str
        What the tables show, e.g. ``"gelu(tanh)"``; unique within its list.
    make_inputs : callable
        ``rng -> {argument name: NumPy array}``; floating arrays are cast to each dtype checked.
    run : callable
        ``(**arrays) -> output``: calls the primitive on backend arrays (outputs may be pytrees).
    reference : callable or None
        ``(**float64 arrays) -> output`` in NumPy, the structure of `run`'s output, written
        independently of the primitive (a formula, a loop); None for a case that is only timed.
    dtypes : tuple of str
        The floating dtypes to check in. A case whose inputs hold no floating array (random
        bits, keys) has nothing to cast: it runs once, labelled by the dtype of its reference's
        output (``uint32`` for bits), whatever `dtypes` says.
    scale : float
        Multiplies the tolerance of :func:`mlprims.testing.compare` (0: exact). Outputs of a
        case without floating inputs must match exactly.
    jit : bool
        Whether `run` can be traced by ``jax.jit`` (every primitive should; say why if not).
    """

    name: str
    make_inputs: Callable[[np.random.Generator], Inputs]
    run: Callable[..., Any]
    reference: Callable[..., Any] | None = None
    dtypes: tuple[str, ...] = ("float32", "float64")
    scale: float = 1.0
    jit: bool = True

    def inputs(self, seed: int = 0) -> dict[str, np.ndarray]:
        """The NumPy inputs drawn for `seed`: the same on every backend, different per case."""
        return dict(self.make_inputs(np.random.default_rng([seed, zlib.crc32(self.name.encode())])))
