"""Helpers for the snippets: lazy framework imports and one short printable form of a result.

Every snippet returns a short string built with :func:`show` (``[1, 2] f32``: the values, then
the dtype), :func:`attempt` (the result, or ``error: TypeError``) and :func:`warned` (the result
followed by ``warns RuntimeWarning`` when the call emits a Python warning). Frameworks are
imported only when a snippet runs, so ``mlprims differences`` works with any subset installed.
"""

from __future__ import annotations

import importlib
import math
import os
import warnings
from collections.abc import Callable
from typing import Any

from ...testing import to_numpy

__all__ = [
    "attempt",
    "flax_linen",
    "jax",
    "jnp",
    "keras",
    "np",
    "show",
    "strict",
    "torch",
    "warned",
]

_SHORT = {
    "float16": "f16",
    "bfloat16": "bf16",
    "float32": "f32",
    "float64": "f64",
    "int8": "i8",
    "int16": "i16",
    "int32": "i32",
    "int64": "i64",
    "uint8": "u8",
    "uint32": "u32",
    "bool": "bool",
}


def np() -> Any:
    """``numpy``."""
    return importlib.import_module("numpy")


def torch() -> Any:
    """``torch``."""
    return importlib.import_module("torch")


def jax() -> Any:
    """``jax``."""
    return importlib.import_module("jax")


def jnp() -> Any:
    """``jax.numpy``."""
    return importlib.import_module("jax.numpy")


def keras() -> Any:
    """``keras`` (optional), on JAX unless ``KERAS_BACKEND`` says otherwise (Keras 3's own
    default, TensorFlow, is not among the frameworks compared here)."""
    os.environ.setdefault("KERAS_BACKEND", "jax")
    return importlib.import_module("keras")


def flax_linen() -> Any:
    """``flax.linen`` (optional)."""
    return importlib.import_module("flax.linen")


def strict() -> Any:
    """``array_api_strict``."""
    return importlib.import_module("array_api_strict")


def _number(value: Any) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    value = float(value)
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value == 0.0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    return f"{value:.6g}"


def _nested(values: Any) -> str:
    if isinstance(values, list):
        return "[" + ", ".join(_nested(v) for v in values) + "]"
    return _number(values)


def _to_numpy(x: Any) -> Any:
    """`x` as a NumPy array if it is an array of any framework, else None."""
    if not (hasattr(x, "shape") and hasattr(x, "dtype")):
        return None
    try:
        return to_numpy(x)
    except TypeError:  # an array of no backend mlprims knows
        return None


def _dtype_name(x: Any) -> str:
    name = str(getattr(x, "dtype", "")).removeprefix("torch.").removeprefix("array_api_strict.")
    return _SHORT.get(name, name)


def show(x: Any) -> str:
    """A short printable form: ``[1, 2] i64`` for an array, the value for a Python scalar.

    Arrays of every framework print their values (6 significant digits, ``nan``, ``-0``) and
    their dtype abbreviated (``f32``, ``i64``); tuples and lists of arrays print as
    ``(a, b)``; a shape (``torch.Size`` too) prints as a tuple of ints.
    """
    if isinstance(x, str):
        return x
    if type(x) in (bool, int, float):  # not NumPy's float64, a float subclass with a dtype
        return _number(x)
    if type(x).__name__ == "Size" or (isinstance(x, tuple) and all(type(v) is int for v in x)):
        return str(tuple(int(v) for v in x))
    if isinstance(x, (tuple, list)):
        return "(" + ", ".join(show(v) for v in x) + ")"
    array = _to_numpy(x)
    if array is None:
        return str(x)
    return f"{_nested(array.tolist())} {_dtype_name(x)}"


def attempt(call: Callable[[], Any]) -> str:
    """``show(call())``, or ``error: <exception type>`` if the call raises."""
    try:
        return show(call())
    except Exception as exc:
        return f"error: {type(exc).__name__}"


def warned(call: Callable[[], Any]) -> str:
    """:func:`attempt`, followed by ``warns <Category>`` for each Python warning emitted."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        text = attempt(call)
    kinds = list(dict.fromkeys(w.category.__name__ for w in caught))
    return text + "".join(f" warns {kind}" for kind in kinds)
