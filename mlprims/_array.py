"""Helpers every primitive shares: the namespace of the inputs, dtypes, and argument checks.

Checks look only at shapes, dtypes and Python values, never at array contents, so they run
unchanged under ``jax.jit`` (where contents are unknown until run time).
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Sequence
from typing import Any

from array_api_compat import array_namespace, is_array_api_obj, is_lazy_array

from . import backends

__all__ = [
    "Array",
    "Namespace",
    "broadcast_shapes",
    "broadcasts_to",
    "check_array",
    "check_axes",
    "check_axis",
    "check_bool",
    "check_broadcasts_to",
    "check_choice",
    "check_dtype",
    "check_float_dtype",
    "check_floating",
    "check_in_range",
    "check_int",
    "check_number",
    "check_same_framework",
    "check_shape",
    "concrete_any",
    "create_namespace",
    "finfo_eps",
    "floating_namespace",
    "index_dtype",
    "namespace",
    "python_int",
    "resolve_dtype",
    "shape_str",
    "statistics_dtype",
]

Array = Any
"""An array of any supported backend (NumPy, PyTorch, JAX, array_api_strict)."""
Namespace = Any
"""An array API namespace (``xp``)."""


def namespace(*arrays: Array | None, names: Sequence[str] = ()) -> Namespace:
    """The array API namespace of `arrays` (``None`` entries are skipped).

    `names` (the arguments' names, in order) make the errors name the culprit: a list or
    scalar where an array belongs, or an array of another framework than the first one.
    """
    given = [(a, names[i] if i < len(names) else f"argument {i}") for i, a in enumerate(arrays)]
    given = [(a, name) for a, name in given if a is not None]
    for a, name in given:
        check_array(a, name)
    (first, first_name), *others = given
    xp = array_namespace(first)
    for a, name in others:
        if array_namespace(a) is not xp:
            msg = (
                f"`{name}` must be an array of the same framework as `{first_name}` "
                f"({type(first).__name__}), got {type(a).__module__}.{type(a).__name__}"
            )
            raise TypeError(msg)
    return xp


def create_namespace(backend: str | backends.Backend | None) -> Namespace:
    """The namespace creation functions use: `backend` (a name or Backend) or the default."""
    return backends.resolve(backend).xp


def shape_str(shape: Sequence[int | None]) -> str:
    """``(2, 3)`` for messages; 1-tuples print without the trailing comma's confusion."""
    return "(" + ", ".join(str(s) for s in shape) + ")"


def check_array(x: Any, name: str) -> None:
    """TypeError unless `x` is an array of a supported backend (not a list or a scalar)."""
    if not is_array_api_obj(x):
        msg = (
            f"`{name}` must be an array (NumPy, PyTorch, JAX or array_api_strict), "
            f"got {type(x).__name__}"
        )
        raise TypeError(msg)


def check_same_framework(a: Any, name: str, *, xp: Namespace, like: str = "x") -> None:
    """TypeError unless `a` is an array of namespace `xp`, the framework of argument `like`."""
    if namespace(a, names=(name,)) is not xp:
        msg = f"`{name}` must be an array of the same framework as `{like}`, got {type(a).__name__}"
        raise TypeError(msg)


_KINDS = {
    "bool": "a boolean",
    "integral": "an integer",
    "signed integer": "a signed integer",
    "unsigned integer": "an unsigned integer",
    "real floating": "a real floating",
}


def check_dtype(
    x: Any, name: str, kinds: str | tuple[str, ...], *, xp: Namespace, why: str = ""
) -> None:
    """TypeError unless `x` is an array whose dtype is of one of `kinds` (``xp.isdtype`` kinds:
    ``"integral"`` excludes bool). `why` is added after "dtype" in the message."""
    check_array(x, name)
    kinds = (kinds,) if isinstance(kinds, str) else tuple(kinds)
    if not xp.isdtype(x.dtype, kinds):
        wanted = " or ".join(_KINDS.get(kind, kind) for kind in kinds)
        msg = f"`{name}` must have {wanted} dtype{why}, got {x.dtype}"
        raise TypeError(msg)


def check_floating(x: Any, name: str, *, xp: Namespace) -> None:
    """TypeError unless `x` is an array of a real floating dtype."""
    check_dtype(x, name, "real floating", xp=xp)


def floating_namespace(x: Array, name: str = "x") -> Namespace:
    """The namespace of `x`, after checking it is a real floating array."""
    check_array(x, name)
    xp = namespace(x)
    check_floating(x, name, xp=xp)
    return xp


def check_int(value: Any, name: str, *, minimum: int | None = None) -> int:
    """`value` as a Python int, or TypeError / ValueError naming `name`.

    Anything with ``__index__`` is an integer (``operator.index``): Python and NumPy integers,
    a 0-d integer array; not a bool (True is an int to Python, but here a mistake), nor a float.
    """
    if isinstance(value, bool):
        msg = f"`{name}` must be an int, got bool"
        raise TypeError(msg)
    try:
        value = operator.index(value)
    except TypeError:
        msg = f"`{name}` must be an int, got {type(value).__name__}"
        raise TypeError(msg) from None
    if minimum is not None and value < minimum:
        msg = f"`{name}` must be >= {minimum}, got {value}"
        raise ValueError(msg)
    return value


def python_int(value: Any) -> Any:
    """A NumPy integer scalar as a Python int (it is one to the caller); anything else as it
    is. For arguments that may be an int or an array: an ``np.int64`` must not count as a
    NumPy array next to torch or JAX arrays."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    return value


def check_bool(value: Any, name: str) -> bool:
    """`value` if it is True or False, else a TypeError naming `name`.

    Only Python bools: an option that picks a code path must be known while ``jax.jit``
    traces, and a 0-d array or the int 1 usually means a mistake.
    """
    if not isinstance(value, bool):
        msg = f"`{name}` must be True or False, got {value!r}"
        raise TypeError(msg)
    return value


def check_number(value: Any, name: str) -> float:
    """`value` as a float if it is a real number (Python or NumPy scalar, not a bool), else a
    TypeError naming `name`. NaN and infinities pass: ranges are :func:`check_in_range`'s job."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        msg = f"`{name}` must be a number, got {type(value).__name__}"
        raise TypeError(msg)
    return float(value)


def check_in_range(
    value: Any,
    name: str,
    low: float = -math.inf,
    high: float = math.inf,
    *,
    closed: tuple[bool, bool] = (True, True),
) -> float:
    """`value` as a float inside [low, high] (ends open per `closed`).

    A non-number is a TypeError, a number outside the interval (or NaN) a ValueError; both
    name `name`. ``check_in_range(x, "x", closed=(False, False))`` asks for a finite number.
    """
    value = check_number(value, name)
    low_ok = value >= low if closed[0] else value > low
    high_ok = value <= high if closed[1] else value < high
    if not (low_ok and high_ok):
        interval = f"{'[' if closed[0] else '('}{low}, {high}{']' if closed[1] else ')'}"
        msg = f"`{name}` must be in {interval}, got {value}"
        raise ValueError(msg)
    return value


def check_shape(
    shape: Any, name: str = "shape", *, minimum: int = 0, nonempty: bool = False
) -> tuple[int, ...]:
    """`shape` (an int for a 1-d shape, or a sequence of ints) as a tuple of ints.

    A value that is not a shape is a TypeError; a size below `minimum`, or ``()`` when
    `nonempty`, a ValueError. NumPy integers count as ints, bools do not.
    """
    items = (shape,) if hasattr(shape, "__index__") else shape
    dims = None
    if isinstance(items, Sequence) and not isinstance(items, str):
        if not any(isinstance(d, bool) for d in items):
            try:
                dims = tuple(operator.index(d) for d in items)
            except TypeError:
                dims = None
    if dims is None:
        msg = f"`{name}` must be an int or a tuple of ints, got {shape!r}"
        raise TypeError(msg)
    if nonempty and not dims:
        msg = f"`{name}` must have at least one size, got ()"
        raise ValueError(msg)
    if any(d < minimum for d in dims):
        msg = f"`{name}` must have sizes >= {minimum}, got {shape_str(dims)}"
        raise ValueError(msg)
    return dims


def check_choice(value: Any, name: str, choices: Sequence[Any]) -> Any:
    """ValueError unless `value` is one of `choices`."""
    if value not in choices:
        options = ", ".join(repr(c) for c in choices)
        msg = f"`{name}` must be one of {options}; got {value!r}"
        raise ValueError(msg)
    return value


def check_axis(axis: Any, ndim: int, name: str = "axis") -> int:
    """`axis` normalised to [0, ndim), or a clear error."""
    check_int(axis, name)
    if not -ndim <= axis < ndim:
        msg = (
            f"`{name}` must be in [{-ndim}, {ndim}) for an array with {ndim} dimensions, got {axis}"
        )
        raise ValueError(msg)
    return int(axis) % ndim


def check_axes(axis: Any, ndim: int, name: str = "axis") -> tuple[int, ...]:
    """`axis` (an int, a sequence of distinct ints, or None for all) as sorted axes in [0, ndim)."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, Sequence) and not isinstance(axis, str):
        axes = tuple(check_axis(a, ndim, name) for a in axis)
        if len(set(axes)) != len(axes):
            msg = f"`{name}` must not repeat an axis, got {tuple(axis)}"
            raise ValueError(msg)
        return tuple(sorted(axes))
    return (check_axis(axis, ndim, name),)


def broadcast_shapes(*shapes: Sequence[int], names: Sequence[str] = ()) -> tuple[int, ...]:
    """The shape that `shapes` broadcast to (the standard's rule), or a ValueError naming them.

    Shapes are static even under ``jax.jit``, so this is plain Python. (array-api-extra's
    ``broadcast_shapes`` is deprecated since 0.11 for the standard's ``xp.broadcast_shapes``,
    which needs a namespace that creation functions do not have.)
    """
    ndim = max([0, *(len(s) for s in shapes)])  # no `default=`: torch.compile cannot trace it
    padded = [(1,) * (ndim - len(s)) + tuple(s) for s in shapes]
    out = []
    for sizes in zip(*padded, strict=True):
        big = {n for n in sizes if n != 1}
        if len(big) > 1:
            given = [
                f"`{names[i]}` {shape_str(s)}" if i < len(names) else shape_str(s)
                for i, s in enumerate(shapes)
            ]
            msg = f"shapes do not broadcast together: {', '.join(given)}"
            raise ValueError(msg)
        out.append(big.pop() if big else 1)
    return tuple(out)


def broadcasts_to(shape: Sequence[int], target: Sequence[int]) -> bool:
    """Whether an array of `shape` broadcasts to exactly `target` (without enlarging it)."""
    try:
        return broadcast_shapes(shape, target) == tuple(target)
    except ValueError:
        return False


def check_broadcasts_to(
    shape: Sequence[int], target: Sequence[int], name: str, *, target_name: str | None = None
) -> None:
    """ValueError unless an array of `shape` broadcasts to exactly `target`.

    The message reads ``` `mask` must broadcast to (B, N, T, S) = (2, 4, 6, 9), got (2, 6, 8) ```
    when `target_name` is ``"(B, N, T, S)"``, else ``` ... must broadcast to (2, 4, 6, 9) ... ```.
    """
    if not broadcasts_to(shape, target):
        what = f"{target_name} = {shape_str(target)}" if target_name else shape_str(target)
        msg = f"`{name}` must broadcast to {what}, got {shape_str(shape)}"
        raise ValueError(msg)


def resolve_dtype(dtype: Any, *, xp: Namespace, name: str = "dtype") -> Any:
    """`dtype` as a dtype of `xp`: a name (``"float32"``) or a dtype object of `xp`."""
    if isinstance(dtype, str):
        resolved = getattr(xp, dtype, None)
        if resolved is None or dtype.startswith("_"):
            msg = f"`{name}` must name a dtype of the array API (e.g. 'float32'), got {dtype!r}"
            raise ValueError(msg)
        return resolved
    if hasattr(dtype, "__name__") and hasattr(xp, dtype.__name__):
        return getattr(xp, dtype.__name__)  # numpy scalar types such as np.float32
    return dtype


def check_float_dtype(dtype: Any, *, xp: Namespace, name: str = "dtype") -> Any:
    """`dtype` (a name such as ``"float32"`` or a dtype object) as a real floating dtype of `xp`.

    An unknown name is a ValueError (:func:`resolve_dtype`); a dtype that is not real floating
    (``"int32"``, ``"bool"``, ``"complex64"``, or not a dtype at all) is a TypeError.
    """
    resolved = resolve_dtype(dtype, xp=xp, name=name)
    try:  # (JAX reads None as its default float dtype)
        is_float = resolved is not None and bool(xp.isdtype(resolved, "real floating"))
    except (TypeError, ValueError, AttributeError):  # not a dtype of `xp`
        is_float = False
    if not is_float:
        msg = f"`{name}` must be a real floating dtype such as 'float32', got {dtype!r}"
        raise TypeError(msg)
    return resolved


def statistics_dtype(dtype: Any, *, xp: Namespace) -> Any:
    """The dtype to accumulate statistics in: float32 for 16-bit floats, else `dtype` itself.

    Sums of many float16/bfloat16 values lose everything past 8 to 11 significant bits
    (a float16 running sum of 0.1 stalls at 256), so softmax, norms and variances of
    half-precision inputs are computed in float32 and cast back.
    """
    if xp.isdtype(dtype, "real floating") and xp.finfo(dtype).bits < 32:
        return xp.float32
    return dtype


def index_dtype(xp: Namespace) -> Any:
    """The backend's default index dtype (int64; int32 on JAX without x64)."""
    return xp.__array_namespace_info__().default_dtypes()["indexing"]


def finfo_eps(dtype: Any, *, xp: Namespace) -> float:
    """Machine epsilon of `dtype` as a Python float."""
    return float(xp.finfo(dtype).eps)


def concrete_any(condition: Array, *, xp: Namespace) -> bool | None:
    """``bool(xp.any(condition))``, or None while the values are unknown (``jax.jit`` tracing).

    Only for checks whose failure would otherwise be a silent wrong value (an index outside a
    table, a class outside [0, C)): they run on eager arrays and are skipped under tracing,
    where the primitive documents what happens instead. Never for control flow.
    """
    try:
        return bool(xp.any(condition))
    except TypeError:  # jax.errors.ConcretizationTypeError is a TypeError
        if is_lazy_array(condition):
            return None
        raise
