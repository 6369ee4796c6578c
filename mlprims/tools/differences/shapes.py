"""Same name, different meaning: split, repeat, squeeze, .T, pad, dot, max, size, linspace."""

from __future__ import annotations

from typing import Any

from ._item import Item
from ._show import attempt, jnp, np, show, strict, torch

__all__ = ["ITEMS"]


def _sizes(parts: Any) -> str:
    return str([int(p.shape[0]) for p in parts])


def _torch_split() -> str:
    x = torch().arange(6)
    return f"split: {_sizes(torch().split(x, 3))}; chunk: {_sizes(torch().chunk(x, 3))}"


def _torch_repeat() -> str:
    x = torch().tensor([1, 2])
    return f"x.repeat(2): {show(x.repeat(2))}; repeat_interleave: {show(x.repeat_interleave(2))}"


def _shape(call: Any) -> str:
    try:
        return show(tuple(call().shape))
    except Exception as exc:
        return f"error: {type(exc).__name__}"


def _dot_matmul(xp: Any, a: Any, b: Any) -> str:
    return f"dot: {_shape(lambda: xp.dot(a, b))}; matmul: {_shape(lambda: xp.matmul(a, b))}"


def _max_axis(xp: Any, x: Any) -> str:
    return attempt(lambda: xp.max(x, 1))


def _torch_size() -> str:
    x = torch().zeros((2, 3))
    return f"x.size is a method; x.size() = {show(x.size())}"


ITEMS = [
    Item(
        "split-int",
        "shapes",
        "split(arange(6), 3): chunk sizes",
        "torch.split's int is the chunk size, NumPy's the number of sections (torch.chunk)",
        {
            "numpy": (lambda: _sizes(np().split(np().arange(6), 3)), "[2, 2, 2]"),
            "torch": (_torch_split, "split: [3, 3]; chunk: [2, 2, 2]"),
            "jax": (lambda: _sizes(jnp().split(jnp().arange(6), 3)), "[2, 2, 2]"),
            "array_api_strict": "no split in the standard",
        },
    ),
    Item(
        "repeat",
        "shapes",
        "repeat([1, 2], 2)",
        "torch's Tensor.repeat tiles; NumPy's repeat is torch.repeat_interleave",
        {
            "numpy": (lambda: show(np().repeat(np().asarray([1, 2]), 2)), "[1, 1, 2, 2] i64"),
            "torch": (
                _torch_repeat,
                "x.repeat(2): [1, 2, 1, 2] i64; repeat_interleave: [1, 1, 2, 2] i64",
            ),
            "jax": (lambda: show(jnp().repeat(jnp().asarray([1, 2]), 2)), "[1, 1, 2, 2] i32"),
            "array_api_strict": (
                lambda: show(strict().repeat(strict().asarray([1, 2]), 2)),
                "[1, 1, 2, 2] i64",
            ),
        },
    ),
    Item(
        "squeeze-non-unit",
        "shapes",
        "squeeze(x, axis=0) with x of shape (2, 3)",
        "torch silently does nothing where the others raise: shape bugs hide in torch",
        {
            "numpy": (
                lambda: _shape(lambda: np().squeeze(np().zeros((2, 3)), axis=0)),
                "error: ValueError",
            ),
            "torch": (lambda: _shape(lambda: torch().squeeze(torch().zeros((2, 3)), 0)), "(2, 3)"),
            "jax": (
                lambda: _shape(lambda: jnp().squeeze(jnp().zeros((2, 3)), axis=0)),
                "error: ValueError",
            ),
            "array_api_strict": (
                lambda: _shape(lambda: strict().squeeze(strict().zeros((2, 3)), axis=0)),
                "error: ValueError",
            ),
        },
    ),
    Item(
        "transpose-3d",
        "shapes",
        "x.T with x of shape (2, 3, 4)",
        "NumPy, JAX and torch reverse every axis (torch deprecates it); array_api_strict raises",
        {
            "numpy": (lambda: _shape(lambda: np().zeros((2, 3, 4)).T), "(4, 3, 2)"),
            "torch": (lambda: _shape(lambda: torch().zeros((2, 3, 4)).T), "(4, 3, 2)"),
            "jax": (lambda: _shape(lambda: jnp().zeros((2, 3, 4)).T), "(4, 3, 2)"),
            "array_api_strict": (
                lambda: _shape(lambda: strict().zeros((2, 3, 4)).T),
                "error: ValueError",
            ),
        },
        "uses x.mT and permute_dims",
    ),
    Item(
        "pad-spec",
        "shapes",
        "pad with (1, 0) of a (2, 3) array",
        "torch's F.pad pairs start from the last axis; np.pad's (1, 0) pads every axis",
        {
            "numpy": (lambda: _shape(lambda: np().pad(np().zeros((2, 3)), (1, 0))), "(3, 4)"),
            "torch": (
                lambda: _shape(lambda: torch().nn.functional.pad(torch().zeros((2, 3)), (1, 0))),
                "(2, 4)",
            ),
            "jax": (lambda: _shape(lambda: jnp().pad(jnp().zeros((2, 3)), (1, 0))), "(3, 4)"),
            "array_api_strict": "no pad in the standard",
        },
        "padding arguments name (before, after) per spatial axis, first axis first",
    ),
    Item(
        "dot-nd",
        "shapes",
        "dot and matmul of (2, 3, 4) and (2, 4, 5) arrays",
        "np.dot on N-D arrays is an outer batch product (2, 3, 2, 5); torch.dot is 1-D only",
        {
            "numpy": (
                lambda: _dot_matmul(np(), np().zeros((2, 3, 4)), np().zeros((2, 4, 5))),
                "dot: (2, 3, 2, 5); matmul: (2, 3, 5)",
            ),
            "torch": (
                lambda: _dot_matmul(torch(), torch().zeros((2, 3, 4)), torch().zeros((2, 4, 5))),
                "dot: error: RuntimeError; matmul: (2, 3, 5)",
            ),
            "jax": (
                lambda: _dot_matmul(jnp(), jnp().zeros((2, 3, 4)), jnp().zeros((2, 4, 5))),
                "dot: (2, 3, 2, 5); matmul: (2, 3, 5)",
            ),
            "array_api_strict": (
                lambda: _dot_matmul(strict(), strict().zeros((2, 3, 4)), strict().zeros((2, 4, 5))),
                "dot: error: AttributeError; matmul: (2, 3, 5)",
            ),
        },
        "uses matmul (@) only",
    ),
    Item(
        "max-second-argument",
        "shapes",
        "max(x, 1) with x = [[1, 5], [7, 2]]",
        "torch.max(x, 1) returns (values, indices); elsewhere the 2nd argument is the axis",
        {
            "numpy": (
                lambda: _max_axis(np(), np().asarray([[1.0, 5.0], [7.0, 2.0]])),
                "[5, 7] f64",
            ),
            "torch": (
                lambda: _max_axis(torch(), torch().tensor([[1.0, 5.0], [7.0, 2.0]])),
                "([5, 7] f32, [1, 0] i64)",
            ),
            "jax": (
                lambda: _max_axis(jnp(), jnp().asarray([[1.0, 5.0], [7.0, 2.0]])),
                "[5, 7] f32",
            ),
            "array_api_strict": (
                lambda: _max_axis(strict(), strict().asarray([[1.0, 5.0], [7.0, 2.0]])),
                "error: TypeError",
            ),
        },
    ),
    Item(
        "size",
        "shapes",
        "x.size with x of shape (2, 3)",
        "torch's .size is a method returning a torch.Size; elsewhere an int attribute",
        {
            "numpy": (lambda: show(np().zeros((2, 3)).size), "6"),
            "torch": (_torch_size, "x.size is a method; x.size() = (2, 3)"),
            "jax": (lambda: show(jnp().zeros((2, 3)).size), "6"),
            "array_api_strict": (lambda: show(strict().zeros((2, 3)).size), "6"),
        },
    ),
    Item(
        "linspace-default",
        "shapes",
        "linspace(0, 1) without a number of points",
        "torch and the standard have no default number of points; NumPy and JAX use 50",
        {
            "numpy": (lambda: show(np().linspace(0, 1).shape[0]), "50"),
            "torch": (lambda: attempt(lambda: torch().linspace(0, 1)), "error: TypeError"),
            "jax": (lambda: show(jnp().linspace(0, 1).shape[0]), "50"),
            "array_api_strict": (
                lambda: attempt(lambda: strict().linspace(0, 1)),
                "error: TypeError",
            ),
        },
    ),
]
