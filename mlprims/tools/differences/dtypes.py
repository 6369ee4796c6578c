"""Default dtypes and type promotion (NEP 50 in NumPy 2, JAX's 32-bit default)."""

from __future__ import annotations

from typing import Any

from ._item import Item
from ._show import attempt, jnp, np, show, strict, torch, warned

__all__ = ["ITEMS"]


def _mlprims_created_dtype() -> str:
    import mlprims

    key = mlprims.random.key(0, backend="numpy")
    return f"created arrays: {_dtype(mlprims.random.uniform(key, (1,)))}"


def _dtype(x: Any) -> str:
    return show(x).rsplit(" ", 1)[-1]


def _torch_f64_into_f32_layer() -> str:
    t = torch()
    layer = t.nn.Linear(2, 1)
    return attempt(lambda: layer(t.as_tensor(np().ones((1, 2)))))


def _jax_f64_into_f32_layer() -> str:
    w = jnp().ones((2, 1), dtype=jnp().float32)
    return _dtype(jnp().asarray(np().ones((1, 2))) @ w)


ITEMS = [
    Item(
        "default-float",
        "dtypes",
        "array([1.0, 2.0])",
        "data from NumPy arrives in torch as float64; JAX silently makes it float32",
        {
            "numpy": (lambda: show(np().asarray([1.0, 2.0])), "[1, 2] f64"),
            "torch": (lambda: show(torch().tensor([1.0, 2.0])), "[1, 2] f32"),
            "jax": (lambda: show(jnp().asarray([1.0, 2.0])), "[1, 2] f32"),
            "array_api_strict": (lambda: show(strict().asarray([1.0, 2.0])), "[1, 2] f64"),
        },
        (_mlprims_created_dtype, "created arrays: f32"),
    ),
    Item(
        "default-int",
        "dtypes",
        "array([1, 2])",
        "index and label arrays are int32 in JAX (overflow past 2**31), int64 elsewhere",
        {
            "numpy": (lambda: show(np().asarray([1, 2])), "[1, 2] i64"),
            "torch": (lambda: show(torch().tensor([1, 2])), "[1, 2] i64"),
            "jax": (lambda: show(jnp().asarray([1, 2])), "[1, 2] i32"),
            "array_api_strict": (lambda: show(strict().asarray([1, 2])), "[1, 2] i64"),
        },
        "indices in the backend's default integer dtype",
    ),
    Item(
        "int32-plus-float32",
        "dtypes",
        "int32 array + float32 array",
        "NumPy widens to float64 (twice the memory, slower); array_api_strict refuses",
        {
            "numpy": (lambda: _dtype(np().ones(2, "int32") + np().ones(2, "float32")), "f64"),
            "torch": (
                lambda: _dtype(torch().ones(2, dtype=torch().int32) + torch().ones(2)),
                "f32",
            ),
            "jax": (lambda: _dtype(jnp().ones(2, "int32") + jnp().ones(2, "float32")), "f32"),
            "array_api_strict": (
                lambda: attempt(lambda: strict().ones(2, dtype=strict().int32) + strict().ones(2)),
                "error: TypeError",
            ),
        },
        "no mixed-kind arithmetic inside primitives (array API rules)",
    ),
    Item(
        "int64-times-python-float",
        "dtypes",
        "int64 array * 1.5",
        "the result follows the framework's default float dtype",
        {
            "numpy": (lambda: show(np().asarray([1, 2]) * 1.5), "[1.5, 3] f64"),
            "torch": (lambda: show(torch().tensor([1, 2]) * 1.5), "[1.5, 3] f32"),
            "jax": (lambda: show(jnp().asarray([1, 2]) * 1.5), "[1.5, 3] f32"),
            "array_api_strict": (
                lambda: attempt(lambda: strict().asarray([1, 2]) * 1.5),
                "error: TypeError",
            ),
        },
    ),
    Item(
        "float32-plus-float64",
        "dtypes",
        "float32 array + float64 array",
        "JAX (x64 off) cannot hold float64: the float64 operand is made float32 with only a "
        "warning, and mixed-precision code computes in float32",
        {
            "numpy": (lambda: _dtype(np().ones(2, "float32") + np().ones(2)), "f64"),
            "torch": (
                lambda: _dtype(torch().ones(2) + torch().ones(2, dtype=torch().float64)),
                "f64",
            ),
            "jax": (
                lambda: warned(lambda: jnp().ones(2, "float32") + jnp().ones(2, "float64")),
                "[2, 2] f32 warns UserWarning",
            ),
            "array_api_strict": (
                lambda: _dtype(strict().ones(2) + strict().ones(2, dtype=strict().float64)),
                "f64",
            ),
        },
    ),
    Item(
        "float32-plus-0d-float64",
        "dtypes",
        "float32 array + 0-d float64 array",
        "NumPy 2 (NEP 50) lets a 0-d float64 array upcast; torch's 0-d tensors do not",
        {
            "numpy": (lambda: _dtype(np().ones(2, "float32") + np().asarray(1.0)), "f64"),
            "torch": (
                lambda: _dtype(torch().ones(2) + torch().tensor(1.0, dtype=torch().float64)),
                "f32",
            ),
            "jax": (lambda: _dtype(jnp().ones(2, "float32") + jnp().asarray(1.0)), "f32"),
            "array_api_strict": (
                lambda: _dtype(strict().ones(2) + strict().asarray(1.0, dtype=strict().float64)),
                "f64",
            ),
        },
    ),
    Item(
        "float32-times-numpy-scalar",
        "dtypes",
        "float32 array * np.sqrt(2.0) (a NumPy float64 scalar)",
        "a NumPy scalar constant silently turns NumPy float32 math into float64",
        {
            "numpy": (lambda: _dtype(np().ones(2, "float32") * np().sqrt(2.0)), "f64"),
            "torch": (lambda: _dtype(torch().ones(2) * np().sqrt(2.0)), "f32"),
            "jax": (lambda: _dtype(jnp().ones(2, "float32") * np().sqrt(2.0)), "f32"),
            "array_api_strict": (
                lambda: attempt(lambda: strict().ones(2) * np().sqrt(2.0)),
                "error: TypeError",
            ),
        },
    ),
    Item(
        "explicit-float64",
        "dtypes",
        "zeros(2, dtype=float64)",
        "JAX truncates to float32 with only a warning unless jax_enable_x64 is on",
        {
            "numpy": (lambda: show(np().zeros(2, "float64")), "[0, 0] f64"),
            "torch": (lambda: show(torch().zeros(2, dtype=torch().float64)), "[0, 0] f64"),
            "jax": (
                lambda: warned(lambda: jnp().zeros(2, "float64")),
                "[0, 0] f32 warns UserWarning",
            ),
            "array_api_strict": (
                lambda: show(strict().zeros(2, dtype=strict().float64)),
                "[0, 0] f64",
            ),
        },
        "float64 tests of the JAX backend turn jax_enable_x64 on",
    ),
    Item(
        "convert-float64-numpy",
        "dtypes",
        "asarray(np.zeros(2)) (a float64 NumPy array)",
        "JAX downcasts a converted float64 array without any warning",
        {
            "numpy": (lambda: _dtype(np().asarray(np().zeros(2))), "f64"),
            "torch": (lambda: _dtype(torch().as_tensor(np().zeros(2))), "f64"),
            "jax": (lambda: warned(lambda: jnp().asarray(np().zeros(2))), "[0, 0] f32"),
            "array_api_strict": (lambda: _dtype(strict().asarray(np().zeros(2))), "f64"),
        },
    ),
    Item(
        "float64-into-float32-layer",
        "dtypes",
        "a float64 NumPy batch fed to a float32 linear layer",
        "torch raises a dtype mismatch; JAX silently computes in float32",
        {
            "torch": (_torch_f64_into_f32_layer, "error: RuntimeError"),
            "jax": (_jax_f64_into_f32_layer, "f32"),
        },
        "computes in the promoted dtype of its inputs (array API promotion)",
    ),
    Item(
        "uint32-plus-int32",
        "dtypes",
        "uint32 array + int32 array",
        "mixing unsigned and signed: widening, an error, or 32-bit results",
        {
            "numpy": (lambda: _dtype(np().ones(2, "uint32") + np().ones(2, "int32")), "i64"),
            "torch": (
                lambda: attempt(
                    lambda: (
                        torch().ones(2, dtype=torch().uint32) + torch().ones(2, dtype=torch().int32)
                    )
                ),
                "error: RuntimeError",
            ),
            "jax": (lambda: _dtype(jnp().ones(2, "uint32") + jnp().ones(2, "int32")), "i32"),
            "array_api_strict": (
                lambda: _dtype(
                    strict().ones(2, dtype=strict().uint32) + strict().ones(2, dtype=strict().int32)
                ),
                "i64",
            ),
        },
        "random bits are uint32 and stay uint32 (Threefry works in 32-bit words)",
    ),
    Item(
        "int8-plus-1000",
        "dtypes",
        "int8 array + 1000 (a Python int out of int8's range)",
        "NumPy and array_api_strict raise; torch and JAX wrap the scalar silently",
        {
            "numpy": (
                lambda: attempt(lambda: np().ones(1, "int8") + 1000),
                "error: OverflowError",
            ),
            "torch": (lambda: show(torch().ones(1, dtype=torch().int8) + 1000), "[-23] i8"),
            "jax": (lambda: show(jnp().ones(1, "int8") + 1000), "[-23] i8"),
            "array_api_strict": (
                lambda: attempt(lambda: strict().ones(1, dtype=strict().int8) + 1000),
                "error: OverflowError",
            ),
        },
    ),
    Item(
        "python-int-2-31",
        "dtypes",
        "asarray(2**31) (a Python int past int32)",
        "JAX (x64 off) cannot represent it: large ids and counters fail",
        {
            "numpy": (lambda: show(np().asarray(2**31)), "2147483648 i64"),
            "torch": (lambda: show(torch().tensor(2**31)), "2147483648 i64"),
            "jax": (lambda: attempt(lambda: jnp().asarray(2**31)), "error: OverflowError"),
            "array_api_strict": (lambda: show(strict().asarray(2**31)), "2147483648 i64"),
        },
    ),
]
