"""The registry of check cases: each primitive registers how to run it and its float64 reference.

A case draws its inputs in NumPy, runs the primitive on a backend, and compares the result with
a float64 NumPy reference written independently of the primitive (a formula, a direct loop).
``mlprims check`` runs every registered case on every installed backend.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Case", "cases", "register"]

Inputs = Mapping[str, np.ndarray]


@dataclass(frozen=True)
class Case:
    """One check: `run` on a backend must match `reference` on float64 NumPy inputs.

    Attributes
    ----------
    name : str
        What the table shows, e.g. ``"gelu(tanh)"``.
    make_inputs : callable
        ``rng -> {argument name: NumPy array}``; floating arrays are cast to each dtype checked.
    run : callable
        ``(**arrays) -> output``: calls the primitive on backend arrays (outputs may be tuples).
    reference : callable
        ``(**float64 arrays) -> output`` in NumPy, with the same structure as `run`'s output.
    dtypes : tuple of str
        The floating dtypes to check in. A case whose inputs hold no floating array (random
        bits, keys) has nothing to cast: it runs once, labelled by the dtype of its reference's
        output (``uint32`` for bits), whatever `dtypes` says.
    atol : dict
        Absolute tolerance per dtype, scaled by ``1 + max|reference|``; outputs of a case
        without floating inputs must match exactly.
    jit : bool
        Whether `run` can be traced by ``jax.jit`` (every primitive should; say why if not).
    """

    name: str
    make_inputs: Callable[[np.random.Generator], Inputs]
    run: Callable[..., Any]
    reference: Callable[..., Any]
    dtypes: tuple[str, ...] = ("float32", "float64")
    atol: Mapping[str, float] = field(
        default_factory=lambda: {"float16": 2e-3, "float32": 2e-6, "float64": 1e-12}
    )
    jit: bool = True


_CASES: dict[str, Case] = {}


def register(case: Case) -> Case:
    """Add `case` to the registry (names are unique)."""
    if case.name in _CASES:
        msg = f"a check case named {case.name!r} is already registered"
        raise ValueError(msg)
    _CASES[case.name] = case
    return case


def cases() -> dict[str, Case]:
    """Every registered case, after importing the modules that register them."""
    from . import cases as _  # noqa: F401 (importing registers)

    return dict(_CASES)
