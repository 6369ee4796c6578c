"""Reductions: variance correction, NaN propagation, empty inputs, medians, accumulators."""

from __future__ import annotations

from typing import Any

from ._item import Item
from ._show import attempt, jnp, np, show, strict, torch

__all__ = ["ITEMS"]

DATA = [1.0, 2.0, 3.0, 4.0]


def _var_std(xp: Any, x: Any) -> str:
    return f"var: {show(xp.var(x))}; std: {show(xp.std(x))}"


def _nan_max(xp: Any, x: Any) -> str:
    return f"max: {show(xp.max(x))}; maximum(x, 2): {show(xp.maximum(x, xp.full_like(x, 2.0)))}"


def _empty_max(xp: Any, x: Any, initial: bool = True) -> str:
    text = f"max: {attempt(lambda: xp.max(x))}"
    if initial:
        text += f"; initial=-inf: {attempt(lambda: xp.max(x, initial=-float('inf')))}"
    return text


def _mlprims_layer_norm() -> str:
    import mlprims

    x = np().asarray(DATA, dtype="float32")
    return f"layer_norm: {show(mlprims.layer_norm(x, 4))} (biased)"


def _torch_empty_max() -> str:
    return f"max: {attempt(lambda: torch().max(torch().zeros(0)))}"


ITEMS = [
    Item(
        "var-correction",
        "reductions",
        "var and std of [1, 2, 3, 4] with default arguments",
        "torch divides by N-1 (unbiased), the others by N: porting var/std changes values",
        {
            "numpy": (
                lambda: _var_std(np(), np().asarray(DATA)),
                "var: 1.25 f64; std: 1.11803 f64",
            ),
            "torch": (
                lambda: _var_std(torch(), torch().tensor(DATA)),
                "var: 1.66667 f32; std: 1.29099 f32",
            ),
            "jax": (
                lambda: _var_std(jnp(), jnp().asarray(DATA)),
                "var: 1.25 f32; std: 1.11803 f32",
            ),
            "array_api_strict": (
                lambda: _var_std(strict(), strict().asarray(DATA)),
                "var: 1.25 f64; std: 1.11803 f64",
            ),
        },
        (_mlprims_layer_norm, "layer_norm: [-1.34164, -0.447212, 0.447212, 1.34164] f32 (biased)"),
    ),
    Item(
        "std-of-one",
        "reductions",
        "std([1.0]) (one element)",
        "torch gives NaN (N-1 = 0): a batch of one turns the loss into NaN",
        {
            "numpy": (lambda: show(np().std(np().asarray([1.0]))), "0 f64"),
            "torch": (lambda: show(torch().std(torch().tensor([1.0]))), "nan f32"),
            "jax": (lambda: show(jnp().std(jnp().asarray([1.0]))), "0 f32"),
            "array_api_strict": (lambda: show(strict().std(strict().asarray([1.0]))), "0 f64"),
        },
    ),
    Item(
        "nan-propagation",
        "reductions",
        "max([1, nan, 3]) and maximum(x, 2)",
        "max and maximum propagate NaN everywhere; use fmax / nanmax to skip NaNs",
        {
            "numpy": (
                lambda: _nan_max(np(), np().asarray([1.0, np().nan, 3.0])),
                "max: nan f64; maximum(x, 2): [2, nan, 3] f64",
            ),
            "torch": (
                lambda: _nan_max(torch(), torch().tensor([1.0, float("nan"), 3.0])),
                "max: nan f32; maximum(x, 2): [2, nan, 3] f32",
            ),
            "jax": (
                lambda: _nan_max(jnp(), jnp().asarray([1.0, float("nan"), 3.0])),
                "max: nan f32; maximum(x, 2): [2, nan, 3] f32",
            ),
            "array_api_strict": (
                lambda: _nan_max(strict(), strict().asarray([1.0, float("nan"), 3.0])),
                "max: nan f64; maximum(x, 2): [2, nan, 3] f64",
            ),
        },
        "NaN in, NaN out (no silent skipping)",
    ),
    Item(
        "empty-max",
        "reductions",
        "max of an empty array; with initial=-inf",
        "an empty mask or segment crashes; NumPy and JAX accept initial=",
        {
            "numpy": (
                lambda: _empty_max(np(), np().zeros(0)),
                "max: error: ValueError; initial=-inf: -inf f64",
            ),
            "torch": (_torch_empty_max, "max: error: RuntimeError"),
            "jax": (
                lambda: _empty_max(jnp(), jnp().zeros(0)),
                "max: error: ValueError; initial=-inf: -inf f32",
            ),
            "array_api_strict": (
                lambda: _empty_max(strict(), strict().zeros(0), initial=False),
                "max: error: ValueError",
            ),
        },
    ),
    Item(
        "median-even",
        "reductions",
        "median([1, 2, 3, 4])",
        "torch.median returns the lower middle value, not the average of the two",
        {
            "numpy": (lambda: show(np().median(np().asarray(DATA))), "2.5 f64"),
            "torch": (lambda: show(torch().median(torch().tensor(DATA))), "2 f32"),
            "jax": (lambda: show(jnp().median(jnp().asarray(DATA))), "2.5 f32"),
            "array_api_strict": "no median in the standard",
        },
    ),
    Item(
        "bool-sum",
        "reductions",
        "sum([True, True, False])",
        "counts are int32 in JAX; array_api_strict refuses to sum booleans",
        {
            "numpy": (lambda: show(np().sum(np().asarray([True, True, False]))), "2 i64"),
            "torch": (lambda: show(torch().sum(torch().tensor([True, True, False]))), "2 i64"),
            "jax": (lambda: show(jnp().sum(jnp().asarray([True, True, False]))), "2 i32"),
            "array_api_strict": (
                lambda: attempt(lambda: strict().sum(strict().asarray([True, True, False]))),
                "error: TypeError",
            ),
        },
    ),
    Item(
        "int-mean",
        "reductions",
        "mean([1, 2]) of an integer array",
        "torch.mean of integer (label) tensors raises: cast first",
        {
            "numpy": (lambda: show(np().mean(np().asarray([1, 2]))), "1.5 f64"),
            "torch": (
                lambda: attempt(lambda: torch().mean(torch().tensor([1, 2]))),
                "error: RuntimeError",
            ),
            "jax": (lambda: show(jnp().mean(jnp().asarray([1, 2]))), "1.5 f32"),
            "array_api_strict": (
                lambda: attempt(lambda: strict().mean(strict().asarray([1, 2]))),
                "error: TypeError",
            ),
        },
    ),
    Item(
        "int8-sum",
        "reductions",
        "sum of an int8 array [1, 1, 1]",
        "the accumulator differs: JAX keeps int32 (overflow at 2**31)",
        {
            "numpy": (lambda: show(np().sum(np().ones(3, "int8"))), "3 i64"),
            "torch": (lambda: show(torch().sum(torch().ones(3, dtype=torch().int8))), "3 i64"),
            "jax": (lambda: show(jnp().sum(jnp().ones(3, "int8"))), "3 i32"),
            "array_api_strict": (
                lambda: show(strict().sum(strict().ones(3, dtype=strict().int8))),
                "3 i64",
            ),
        },
    ),
]
