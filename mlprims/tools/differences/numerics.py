"""Integer division, rounding, overflow, casts and silent NaNs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._item import Item
from ._show import attempt, jnp, np, show, strict, torch, warned

__all__ = ["ITEMS"]


def _divisions(xp: Any, a: Any, b: Any) -> str:
    return f"//: {show(a // b)}; %: {show(a % b)}"


def _torch_divisions() -> str:
    t = torch()
    a, b = t.tensor([-7, 7]), t.tensor([2, -2])
    trunc = t.div(a, b, rounding_mode="trunc")
    return f"{_divisions(t, a, b)}; div: {show(t.div(a, b))}; div(trunc): {show(trunc)}"


def _by_zero(array: Callable[[list[int]], Any]) -> str:
    x = array([1, -1])
    return f"//0: {warned(lambda: x // 0)}; %0: {warned(lambda: x % 0)}"


def _negative_power(array: Callable[[list[int]], Any]) -> str:
    return attempt(lambda: array([2]) ** array([-1]))


def _casts(array: Callable[[list[float]], Any], cast: Callable[[Any, str], Any]) -> str:
    to_int32 = warned(lambda: cast(array([float("nan"), float("inf"), -1.5, 3e9]), "int32"))
    to_uint8 = warned(lambda: cast(array([-1.0, 300.0]), "uint8"))
    return f"int32: {to_int32}; uint8: {to_uint8}"


def _fp16_cumsum(xp: Any, dtype: Any) -> str:
    x = xp.full((100_000,), 0.1, dtype=dtype)
    return f"sum: {show(xp.sum(x))}; cumsum[-1]: {show(xp.cumsum(x, 0)[-1])}"


ITEMS = [
    Item(
        "integer-division",
        "numerics",
        "[-7, 7] // [2, -2] and %",
        "all floor-divide (Python's rule); torch.div of integers is true division",
        {
            "numpy": (
                lambda: _divisions(np(), np().asarray([-7, 7]), np().asarray([2, -2])),
                "//: [-4, -4] i64; %: [1, -1] i64",
            ),
            "torch": (
                _torch_divisions,
                "//: [-4, -4] i64; %: [1, -1] i64; div: [-3.5, -3.5] f32; div(trunc): [-3, -3] i64",
            ),
            "jax": (
                lambda: _divisions(jnp(), jnp().asarray([-7, 7]), jnp().asarray([2, -2])),
                "//: [-4, -4] i32; %: [1, -1] i32",
            ),
            "array_api_strict": (
                lambda: _divisions(strict(), strict().asarray([-7, 7]), strict().asarray([2, -2])),
                "//: [-4, -4] i64; %: [1, -1] i64",
            ),
        },
    ),
    Item(
        "integer-division-by-zero",
        "numerics",
        "[1, -1] // 0 and % 0",
        "NumPy returns 0 with a warning, torch raises, JAX returns garbage silently",
        {
            "numpy": (
                lambda: _by_zero(np().asarray),
                "//0: [0, 0] i64 warns RuntimeWarning; %0: [0, 0] i64 warns RuntimeWarning",
            ),
            "torch": (
                lambda: _by_zero(torch().tensor),
                "//0: error: RuntimeError; %0: error: RuntimeError",
            ),
            "jax": (lambda: _by_zero(jnp().asarray), "//0: [-2, -2] i32; %0: [0, 0] i32"),
            "array_api_strict": (
                lambda: _by_zero(strict().asarray),
                "//0: [0, 0] i64 warns RuntimeWarning; %0: [0, 0] i64 warns RuntimeWarning",
            ),
        },
    ),
    Item(
        "integer-negative-power",
        "numerics",
        "[2] ** [-1] (integer arrays)",
        "torch and JAX silently return 0; NumPy and array_api_strict raise",
        {
            "numpy": (lambda: _negative_power(np().asarray), "error: ValueError"),
            "torch": (lambda: _negative_power(torch().tensor), "[0] i64"),
            "jax": (lambda: _negative_power(jnp().asarray), "[0] i32"),
            "array_api_strict": (lambda: _negative_power(strict().asarray), "error: ValueError"),
        },
    ),
    Item(
        "round-half-even",
        "numerics",
        "round([0.5, 1.5, 2.5, -0.5, -2.5])",
        "all round half to even, not away from zero as C's round() and most textbooks",
        {
            "numpy": (
                lambda: show(np().round(np().asarray([0.5, 1.5, 2.5, -0.5, -2.5]))),
                "[0, 2, 2, -0, -2] f64",
            ),
            "torch": (
                lambda: show(torch().round(torch().tensor([0.5, 1.5, 2.5, -0.5, -2.5]))),
                "[0, 2, 2, -0, -2] f32",
            ),
            "jax": (
                lambda: show(jnp().round(jnp().asarray([0.5, 1.5, 2.5, -0.5, -2.5]))),
                "[0, 2, 2, -0, -2] f32",
            ),
            "array_api_strict": (
                lambda: show(strict().round(strict().asarray([0.5, 1.5, 2.5, -0.5, -2.5]))),
                "[0, 2, 2, -0, -2] f64",
            ),
        },
    ),
    Item(
        "silent-nan",
        "numerics",
        "log(0.0) and 0.0 / 0.0 on arrays",
        "NumPy warns; torch and JAX are silent: NaNs appear unannounced",
        {
            "numpy": (
                lambda: warned(lambda: (np().log(np().zeros(1)), np().zeros(1) / 0.0)),
                "([-inf] f64, [nan] f64) warns RuntimeWarning",
            ),
            "torch": (
                lambda: warned(lambda: (torch().log(torch().zeros(1)), torch().zeros(1) / 0.0)),
                "([-inf] f32, [nan] f32)",
            ),
            "jax": (
                lambda: warned(lambda: (jnp().log(jnp().zeros(1)), jnp().zeros(1) / 0.0)),
                "([-inf] f32, [nan] f32)",
            ),
            "array_api_strict": (
                lambda: warned(lambda: (strict().log(strict().zeros(1)), strict().zeros(1) / 0.0)),
                "([-inf] f64, [nan] f64) warns RuntimeWarning",
            ),
        },
    ),
    Item(
        "exp-overflow",
        "numerics",
        "exp(100.0) in float32",
        "only NumPy warns; float32 logits overflow silently elsewhere",
        {
            "numpy": (
                lambda: warned(lambda: np().exp(np().full(1, 100.0, "float32"))),
                "[inf] f32 warns RuntimeWarning",
            ),
            "torch": (lambda: warned(lambda: torch().exp(torch().full((1,), 100.0))), "[inf] f32"),
            "jax": (lambda: warned(lambda: jnp().exp(jnp().full(1, 100.0))), "[inf] f32"),
            "array_api_strict": (
                lambda: warned(
                    lambda: strict().exp(strict().full(1, 100.0, dtype=strict().float32))
                ),
                "[inf] f32 warns RuntimeWarning",
            ),
        },
        "softmax and logsumexp subtract the maximum first: no overflow",
    ),
    Item(
        "float-to-int-cast",
        "numerics",
        "[nan, inf, -1.5, 3e9] to int32; [-1, 300] to uint8",
        "label and pixel casts: INT_MIN and wraparound, or saturation in JAX",
        {
            "numpy": (
                lambda: _casts(np().asarray, lambda x, d: x.astype(d)),
                (
                    "int32: [-2147483648, -2147483648, -1, -2147483648] i32 warns RuntimeWarning; "
                    "uint8: [255, 44] u8"
                ),
            ),
            "torch": (
                lambda: _casts(torch().tensor, lambda x, d: x.to(getattr(torch(), d))),
                "int32: [-2147483648, -2147483648, -1, -2147483648] i32; uint8: [255, 44] u8",
            ),
            "jax": (
                lambda: _casts(jnp().asarray, lambda x, d: x.astype(d)),
                "int32: [0, 2147483647, -1, 2147483647] i32; uint8: [0, 255] u8",
            ),
        },
    ),
    Item(
        "float16-cumsum",
        "numerics",
        "sum and cumsum of 100000 x float16(0.1) (exact: 9997.56)",
        "NumPy's cumsum accumulates in float16 and stalls at 256; JAX's is inexact too",
        {
            "numpy": (
                lambda: _fp16_cumsum(np(), "float16"),
                "sum: 10000 f16; cumsum[-1]: 256 f16",
            ),
            "torch": (
                lambda: _fp16_cumsum(torch(), torch().float16),
                "sum: 10000 f16; cumsum[-1]: 10000 f16",
            ),
            "jax": (
                lambda: _fp16_cumsum(jnp(), "float16"),
                "sum: 10000 f16; cumsum[-1]: 9968 f16",
            ),
        },
        "statistics of float16/bfloat16 inputs accumulate in float32",
    ),
]
