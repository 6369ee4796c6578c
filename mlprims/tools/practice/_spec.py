"""What a gradable primitive is: its reference, the parameters a learner writes, its properties.

A :class:`Property` is a named way to draw :class:`Call` objects (the arguments of one call,
drawn as NumPy arrays by hypothesis) and a hint that says what a failure usually means. The
grader calls the mlprims reference on the float64 copy of each call and the learner's function
on the call converted to the learner's framework, and compares the two.

Nothing here imports hypothesis: ``mlprims practice`` reads the specs to write a template on the
base install, and only ``mlprims grade`` draws (``pip install 'mlprims[practice]'``). So a
property holds a draw function (:func:`composite` is hypothesis' ``st.composite`` without the
strategy), and ``st`` and ``hnp`` below import hypothesis at the first draw.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "Call",
    "GradeError",
    "Property",
    "Spec",
    "assume",
    "composite",
    "dtypes",
    "floats",
    "hnp",
    "single",
    "st",
]


class GradeError(Exception):
    """Bad input to the grader (unknown primitive, missing file, no such function)."""


class _Imported:
    """A module imported at the first attribute read: ``st.integers`` imports hypothesis then."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(importlib.import_module(self._name), attribute)


st: Any = _Imported("hypothesis.strategies")
hnp: Any = _Imported("hypothesis.extra.numpy")

#: A draw function: given hypothesis' ``draw``, the arguments of one call.
Draw = Callable[[Callable[[Any], Any]], "Call"]


def assume(condition: bool) -> None:
    """hypothesis' ``assume`` inside a draw function: a case where `condition` is false is
    dropped and another one drawn."""
    importlib.import_module("hypothesis").assume(condition)


def composite(draw_case: Callable[..., Call]) -> Callable[..., Draw]:
    """Like ``st.composite``: ``draw_case(draw, **options)`` becomes a factory of draw
    functions, ``_rows(dtype="float32")`` a function of ``draw`` alone (a partial)."""

    @functools.wraps(draw_case)
    def with_options(**options: Any) -> Draw:
        return functools.partial(draw_case, **options)

    return with_options


@dataclass(frozen=True)
class Call:
    """One call: positional `args` and keyword `kwargs` (NumPy arrays, numbers, strings).

    `dtype` is the floating dtype the learner's floating outputs must keep (None: not checked).
    """

    args: tuple[Any, ...]
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    dtype: str | None = None


@dataclass(frozen=True)
class Property:
    """A named claim checked on hypothesis-drawn cases, `cases` drawing one.

    `scale` multiplies the tolerance (that of :func:`mlprims.testing.compare` times the grader's
    ``SCALE``); `hint` is shown when the property fails; `compare` names the
    outputs the property is about (all of them when empty); `examples` are cases checked
    before the drawn ones, every time (hypothesis' ``@example``): the inputs that catch a
    classic mistake for sure.
    """

    name: str
    cases: Draw
    hint: str
    scale: float = 1.0
    compare: tuple[str, ...] = ()
    examples: tuple[Call, ...] = ()


def single(output: Any) -> dict[str, Any]:
    """The outputs of a primitive that returns one array."""
    return {"output": output}


@dataclass(frozen=True)
class Spec:
    """A primitive a learner can practise: the reference and what the learner writes.

    `function` is the documented mlprims function whose signature and docstring the template
    copies (restricted to `parameters`); `reference` is called as the learner's function is
    (default `function`). `outputs` names the arrays of a result (reference or learner's).
    `returns` replaces the docstring's Returns section, `notes` its Notes; `parameter_docs`
    replaces the entries of the parameters it names (an entry as numpydoc writes it: the
    ``name : type`` line, then its text indented by four spaces), where the docstring speaks
    of options the practice signature does not have.
    """

    name: str
    function: Callable[..., Any]
    parameters: tuple[str, ...]
    properties: tuple[Property, ...]
    reference: Callable[..., Any] | None = None
    outputs: Callable[[Any], dict[str, Any]] = single
    returns: str | None = None
    notes: str = ""
    parameter_docs: Mapping[str, str] = field(default_factory=dict)

    def call_reference(self, *args: Any, **kwargs: Any) -> Any:
        """Run the reference on `args` and `kwargs`."""
        return (self.reference or self.function)(*args, **kwargs)


def floats(shape: Any, dtype: str = "float64", *, bound: float = 5.0) -> Any:
    """A strategy: finite arrays in [-bound, bound] of `shape` (a tuple or a strategy),
    float32-exact."""
    elements = st.floats(-bound, bound, width=32, allow_nan=False, allow_infinity=False)
    return hnp.arrays(np.dtype(dtype), shape, elements=elements)


def dtypes() -> Any:
    """float32 or float64 (a strategy)."""
    return st.sampled_from(["float64", "float32"])
