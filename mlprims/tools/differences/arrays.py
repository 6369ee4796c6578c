"""Arrays as values or buffers: mutation, out-of-bounds indexing, scatter, aliasing, tracing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._item import Item
from ._show import attempt, jax, jnp, np, show, strict, torch

__all__ = ["ITEMS"]


def _set_item(x: Any) -> str:
    def assign() -> Any:
        x[0] = 1
        return x

    return attempt(assign)


def _jax_set_item() -> str:
    x = jnp().zeros(3)
    return f"x[0] = 1: {_set_item(x)}; x.at[0].set(1): {show(x.at[0].set(1))}"


def _out_of_bounds(array: Callable[[Any], Any]) -> str:
    x = array([0, 1, 2])
    return f"x[5]: {attempt(lambda: x[5])}; x[[0, 5]]: {attempt(lambda: x[array([0, 5])])}"


def _jax_out_of_bounds() -> str:
    x = jnp().arange(3)
    scatter = show(x.at[5].set(9))
    take, take_float = (show(jnp().take(a, jnp().asarray([5]))) for a in (x, x.astype("float32")))
    return (
        f"{_out_of_bounds(jnp().asarray)}; x.at[5].set(9): {scatter}; take(x, [5]): {take}; "
        f"on floats: {take_float}"
    )


def _duplicate_add(x: Any, index: Any) -> str:
    def add() -> Any:
        x[index] += 1
        return x

    return attempt(add)


def _numpy_scatter() -> str:
    x = np().zeros(3)
    np().add.at(x, [0, 0, 1], 1)
    return f"x[i] += 1: {_duplicate_add(np().zeros(3), np().asarray([0, 0, 1]))}; add.at: {show(x)}"


def _torch_scatter() -> str:
    t = torch()
    index = t.tensor([0, 0, 1])
    x = t.zeros(3).index_put_((index,), t.ones(3), accumulate=True)
    return f"x[i] += 1: {_duplicate_add(t.zeros(3), index)}; index_put_(accumulate): {show(x)}"


def _aliasing(convert: Callable[[Any], Any]) -> str:
    source = np().zeros(2)
    converted = convert(source)
    source[0] = 1.0
    return "shares memory" if float(converted[0]) == 1.0 else "copies"


def _boolean_mask_under_jit() -> str:
    x = jnp().asarray([-1.0, 1.0, 2.0])
    eager = show(x[x > 0])
    traced = attempt(lambda: jax().jit(lambda v: v[v > 0])(x))
    return f"eager: {eager}; jit: {traced}"


def _numpy_inside_trace() -> str:
    x = jnp().ones(2)
    to_numpy = attempt(lambda: jax().jit(lambda v: np().asarray(v))(x))
    branch = attempt(lambda: jax().jit(lambda v: v if v.sum() > 0 else -v)(x))
    return f"np.asarray in jit: {to_numpy}; if in jit: {branch}"


def _torch_numpy_with_grad() -> str:
    x = torch().ones(2, requires_grad=True)
    return f".numpy() of a tensor requiring grad: {attempt(lambda: x.numpy())}"


ITEMS = [
    Item(
        "immutability",
        "arrays",
        "x = zeros(3); x[0] = 1",
        "JAX arrays are immutable: x.at[0].set(1) returns a new array",
        {
            "numpy": (lambda: _set_item(np().zeros(3)), "[1, 0, 0] f64"),
            "torch": (lambda: _set_item(torch().zeros(3)), "[1, 0, 0] f32"),
            "jax": (_jax_set_item, "x[0] = 1: error: TypeError; x.at[0].set(1): [1, 0, 0] f32"),
            "array_api_strict": (lambda: _set_item(strict().zeros(3)), "[1, 0, 0] f64"),
        },
        "never mutates its inputs (functional, as JAX)",
    ),
    Item(
        "out-of-bounds",
        "arrays",
        "x = arange(3); x[5], x[[0, 5]], x.at[5].set(9), take(x, [5])",
        "JAX never raises: gathers clamp to the last element, scatters drop, take fills (NaN "
        "for floats, the most negative integer for integers)",
        {
            "numpy": (
                lambda: _out_of_bounds(np().asarray),
                "x[5]: error: IndexError; x[[0, 5]]: error: IndexError",
            ),
            "torch": (
                lambda: _out_of_bounds(torch().tensor),
                "x[5]: error: IndexError; x[[0, 5]]: error: IndexError",
            ),
            "jax": (
                _jax_out_of_bounds,
                (
                    "x[5]: 2 i32; x[[0, 5]]: [0, 2] i32; x.at[5].set(9): [0, 1, 2] i32; "
                    "take(x, [5]): [-2147483648] i32; on floats: [nan] f32"
                ),
            ),
            "array_api_strict": (
                lambda: _out_of_bounds(strict().asarray),
                "x[5]: error: IndexError; x[[0, 5]]: error: IndexError",
            ),
        },
        "indices are validated where they are Python ints (check_axis, check_in_range)",
    ),
    Item(
        "duplicate-scatter",
        "arrays",
        "x = zeros(3); x[[0, 0, 1]] += 1",
        "histogram and embedding-gradient code: += drops duplicates, JAX's .at[].add sums them",
        {
            "numpy": (_numpy_scatter, "x[i] += 1: [1, 1, 0] f64; add.at: [2, 1, 0] f64"),
            "torch": (
                _torch_scatter,
                "x[i] += 1: [1, 1, 0] f32; index_put_(accumulate): [2, 1, 0] f32",
            ),
            "jax": (
                lambda: show(jnp().zeros(3).at[jnp().asarray([0, 0, 1])].add(1)),
                "[2, 1, 0] f32",
            ),
            "array_api_strict": (
                lambda: _duplicate_add(strict().zeros(3), strict().asarray([0, 0, 1])),
                "error: IndexError",
            ),
        },
        "segment sums go through the backend's accumulating scatter (segment_sum)",
    ),
    Item(
        "negative-step",
        "arrays",
        "x[::-1]",
        "torch refuses negative steps: use torch.flip",
        {
            "numpy": (lambda: show(np().arange(3)[::-1]), "[2, 1, 0] i64"),
            "torch": (lambda: attempt(lambda: torch().arange(3)[::-1]), "error: ValueError"),
            "jax": (lambda: show(jnp().arange(3)[::-1]), "[2, 1, 0] i32"),
            "array_api_strict": (lambda: show(strict().arange(3)[::-1]), "[2, 1, 0] i64"),
        },
        "uses xp.flip",
    ),
    Item(
        "memory-sharing",
        "arrays",
        "convert a NumPy array, then change the NumPy array",
        "torch.from_numpy and as_tensor alias the buffer: in-place edits leak; JAX copies",
        {
            "numpy": (lambda: _aliasing(np().asarray), "shares memory"),
            "torch": (lambda: _aliasing(torch().as_tensor), "shares memory"),
            "jax": (lambda: _aliasing(jnp().asarray), "copies"),
            "array_api_strict": (lambda: _aliasing(strict().asarray), "shares memory"),
        },
        "never writes into an input, so aliasing cannot leak",
    ),
    Item(
        "boolean-mask-jit",
        "arrays",
        "x[x > 0] eagerly and under jax.jit",
        "data-dependent shapes cannot be traced: use where(x > 0, x, 0)",
        {
            "numpy": (
                lambda: show(np().asarray([-1.0, 1.0, 2.0])[np().asarray([False, True, True])]),
                "[1, 2] f64",
            ),
            "torch": (
                lambda: show(torch().tensor([-1.0, 1.0, 2.0])[torch().tensor([False, True, True])]),
                "[1, 2] f32",
            ),
            "jax": (
                _boolean_mask_under_jit,
                "eager: [1, 2] f32; jit: error: NonConcreteBooleanIndexError",
            ),
        },
        "no data-dependent shapes: every primitive runs under jax.jit",
    ),
    Item(
        "host-conversion",
        "arrays",
        "NumPy conversion or a Python if inside autograd / jax.jit",
        "np.asarray and `if x > 0` fail at trace time in JAX; torch needs .detach()",
        {
            "torch": (
                _torch_numpy_with_grad,
                ".numpy() of a tensor requiring grad: error: RuntimeError",
            ),
            "jax": (
                _numpy_inside_trace,
                (
                    "np.asarray in jit: error: TracerArrayConversionError; "
                    "if in jit: error: TracerBoolConversionError"
                ),
            ),
        },
        "no Python branching on array values inside primitives",
    ),
    Item(
        "clip-swapped-bounds",
        "arrays",
        "clip([0, 1.5, 3], min=2, max=1) (min > max)",
        "swapped bounds return max everywhere, with no error to catch the bug",
        {
            "numpy": (
                lambda: show(np().clip(np().asarray([0.0, 1.5, 3.0]), 2, 1)),
                "[1, 1, 1] f64",
            ),
            "torch": (
                lambda: show(torch().clamp(torch().tensor([0.0, 1.5, 3.0]), 2, 1)),
                "[1, 1, 1] f32",
            ),
            "jax": (
                lambda: show(jnp().clip(jnp().asarray([0.0, 1.5, 3.0]), 2, 1)),
                "[1, 1, 1] f32",
            ),
            "array_api_strict": (
                lambda: attempt(
                    lambda: strict().clip(strict().asarray([0.0, 1.5, 3.0]), min=2, max=1)
                ),
                "error: ValueError",
            ),
        },
    ),
]
