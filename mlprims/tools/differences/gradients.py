"""Gradients at kinks and ties: which subgradient each framework picks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._item import Item
from ._show import jax, jnp, show, torch

__all__ = ["ITEMS"]


def _torch_grad(f: Callable[[Any], Any], values: list[float]) -> str:
    x = torch().tensor(values, requires_grad=True)
    f(x).sum().backward()
    return show(x.grad)


def _jax_grad(f: Callable[[Any], Any], values: list[float]) -> str:
    return show(jax().grad(lambda x: f(x).sum())(jnp().asarray(values)))


def _kinks(grad: Callable[[Callable[[Any], Any], list[float]], str], xp: Any, relu: Any) -> str:
    return f"d|x|: {grad(xp.abs, [0.0])}; d relu: {grad(relu, [0.0])}"


ITEMS = [
    Item(
        "abs-relu-grad-at-0",
        "gradients",
        "derivative of |x| and relu(x) at x = 0",
        "subgradient conventions differ: d|x|/dx at 0 is 0 in torch, 1 in JAX",
        {
            "torch": (
                lambda: _kinks(_torch_grad, torch(), torch().relu),
                "d|x|: [0] f32; d relu: [0] f32",
            ),
            "jax": (
                lambda: _kinks(_jax_grad, jnp(), jax().nn.relu),
                "d|x|: [1] f32; d relu: [0] f32",
            ),
        },
        "gradients are the backend's autodiff of the array API code",
    ),
    Item(
        "clip-grad-at-bounds",
        "gradients",
        "gradient of clip(x, 0, 1) at x = [0, 1] (on the bounds)",
        "torch passes the gradient through at the bounds, JAX splits it in half",
        {
            "torch": (
                lambda: _torch_grad(lambda x: torch().clamp(x, 0.0, 1.0), [0.0, 1.0]),
                "[1, 1] f32",
            ),
            "jax": (
                lambda: _jax_grad(lambda x: jnp().clip(x, 0.0, 1.0), [0.0, 1.0]),
                "[0.5, 0.5] f32",
            ),
        },
    ),
    Item(
        "norm-grad-at-0",
        "gradients",
        "gradient of the Euclidean norm at x = [0, 0]",
        "JAX's gradient is NaN (0/0) where torch returns 0: a zero vector poisons training",
        {
            "torch": (lambda: _torch_grad(torch().linalg.vector_norm, [0.0, 0.0]), "[0, 0] f32"),
            "jax": (lambda: _jax_grad(jnp().linalg.norm, [0.0, 0.0]), "[nan, nan] f32"),
        },
        "norms add eps inside the square root (rms_norm, layer_norm)",
    ),
]
