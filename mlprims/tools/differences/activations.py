"""Activation defaults: GELU's approximation, leaky ReLU's slope."""

from __future__ import annotations

import inspect
from typing import Any

from ._item import Item
from ._show import flax_linen, jax, jnp, keras, np, show, torch

__all__ = ["ITEMS"]


def _value(x: Any) -> str:
    return show(float(np().asarray(x)))


def _default(function: Any, name: str) -> str:
    return show(inspect.signature(function).parameters[name].default)


def _torch_gelu() -> str:
    gelu = torch().nn.functional.gelu
    return f"F.gelu(1): {_value(gelu(torch().tensor(1.0)))} (exact erf)"


def _jax_gelu() -> str:
    gelu = jax().nn.gelu
    return (
        f"approximate={_default(gelu, 'approximate')}; gelu(1): {_value(gelu(jnp().asarray(1.0)))}"
    )


def _keras_gelu() -> str:
    gelu = keras().activations.gelu
    return f"approximate={_default(gelu, 'approximate')}"


def _flax_gelu() -> str:
    gelu = flax_linen().gelu
    return f"approximate={_default(gelu, 'approximate')}"


def _mlprims_gelu() -> str:
    import mlprims

    return f"approximate='none'; gelu(1): {_value(mlprims.gelu(np().asarray(1.0)))}"


def _mlprims_leaky() -> str:
    import mlprims

    return f"leaky_relu(-1): {_value(mlprims.leaky_relu(np().asarray(-1.0)))}"


ITEMS = [
    Item(
        "gelu-default",
        "activations",
        "gelu(1.0) with default arguments",
        "jax.nn.gelu (and Flax) default to the tanh approximation, torch to the exact erf: "
        "up to 5e-4 apart, enough to fail a port's comparison",
        {
            "torch": (_torch_gelu, "F.gelu(1): 0.841345 (exact erf)"),
            "jax": (_jax_gelu, "approximate=True; gelu(1): 0.841192"),
            "keras": (_keras_gelu, "approximate=False"),
            "flax": (_flax_gelu, "approximate=True"),
        },
        (_mlprims_gelu, "approximate='none'; gelu(1): 0.841345"),
    ),
    Item(
        "leaky-relu-slope",
        "activations",
        "leaky ReLU's default negative slope",
        "Keras' LeakyReLU layer defaults to 0.3, torch and JAX to 0.01",
        {
            "torch": (
                lambda: f"leaky_relu(-1): {_value(torch().nn.LeakyReLU()(torch().tensor(-1.0)))}",
                "leaky_relu(-1): -0.01",
            ),
            "jax": (
                lambda: f"leaky_relu(-1): {_value(jax().nn.leaky_relu(jnp().asarray(-1.0)))}",
                "leaky_relu(-1): -0.01",
            ),
            "keras": (
                lambda: (
                    f"LeakyReLU().negative_slope: {show(keras().layers.LeakyReLU().negative_slope)}"
                ),
                "LeakyReLU().negative_slope: 0.3",
            ),
        },
        (_mlprims_leaky, "leaky_relu(-1): -0.01"),
    ),
]
