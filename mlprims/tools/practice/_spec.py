"""What a gradable primitive is: its reference, the parameters a learner writes, its properties.

A :class:`Property` is a named hypothesis strategy of :class:`Case` objects (the arguments of
one call, drawn as NumPy arrays) and a hint that says what a failure usually means. The grader
calls the mlprims reference on the float64 copy of each case and the learner's function on the
case converted to the learner's framework, and compares the two.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

__all__ = ["Case", "Property", "Spec", "dtypes", "floats", "single"]


@dataclass(frozen=True)
class Case:
    """One call: positional `args` and keyword `kwargs` (NumPy arrays, numbers, strings).

    `dtype` is the floating dtype the learner's floating outputs must keep (None: not checked).
    """

    args: tuple[Any, ...]
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    dtype: str | None = None


@dataclass(frozen=True)
class Property:
    """A named claim checked on hypothesis-drawn cases.

    `scale` multiplies the tolerance (float32 ``1e-4``, float64 ``1e-9``, relative to
    ``1 + max|expected|``); `hint` is shown when the property fails; `compare` names the
    outputs the property is about (all of them when empty).
    """

    name: str
    cases: st.SearchStrategy[Case]
    hint: str
    scale: float = 1.0
    compare: tuple[str, ...] = ()


def single(output: Any) -> dict[str, Any]:
    """The outputs of a primitive that returns one array."""
    return {"output": output}


@dataclass(frozen=True)
class Spec:
    """A primitive a learner can practise: the reference and what the learner writes.

    `function` is the documented mlprims function whose signature and docstring the template
    copies (restricted to `parameters`); `reference` is called as the learner's function is
    (default `function`). `outputs` names the arrays of a result (reference or learner's).
    `returns` replaces the docstring's Returns section, `notes` is added to its Notes.
    """

    name: str
    function: Callable[..., Any]
    parameters: tuple[str, ...]
    properties: tuple[Property, ...]
    reference: Callable[..., Any] | None = None
    outputs: Callable[[Any], dict[str, Any]] = single
    returns: str | None = None
    notes: str = ""

    def call_reference(self, *args: Any, **kwargs: Any) -> Any:
        """Run the reference on `args` and `kwargs`."""
        return (self.reference or self.function)(*args, **kwargs)


def floats(
    shape: Any, dtype: str = "float64", *, bound: float = 5.0
) -> st.SearchStrategy[np.ndarray]:
    """Finite arrays in [-bound, bound] of `shape` (a tuple or a strategy), float32-exact."""
    elements = st.floats(-bound, bound, width=32, allow_nan=False, allow_infinity=False)
    return hnp.arrays(np.dtype(dtype), shape, elements=elements)


def dtypes() -> st.SearchStrategy[str]:
    """float32 or float64."""
    return st.sampled_from(["float64", "float32"])
