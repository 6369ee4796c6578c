"""Resizing images: the cubic kernel and the nearest pixel each framework picks."""

from __future__ import annotations

from typing import Any

from ._item import Item
from ._show import jax, jnp, np, show, torch

__all__ = ["ITEMS"]

SPIKE = [0.0, 0.0, 1.0, 0.0, 0.0]  # one bright pixel: the resized row is the kernel itself
RAMP = [0.0, 1.0, 2.0, 3.0]  # pixel values equal to their indices: the output shows the picks


def _torch_resize(values: list[float], size: int, mode: str) -> Any:
    x = torch().tensor(values).reshape(1, 1, 1, -1)
    return torch().nn.functional.interpolate(x, size=(1, size), mode=mode)[0, 0, 0]


def _torch_cubic() -> str:
    return f"bicubic (a = -0.75): {show(_torch_resize(SPIKE, 10, 'bicubic')[1:5])}"


def _jax_cubic() -> str:
    row = jax().image.resize(jnp().asarray(SPIKE), (10,), "cubic")
    return f"cubic (a = -0.5): {show(row[1:5])}"


def _mlprims_cubic() -> str:
    import mlprims

    row = mlprims.resize(np().asarray([[[SPIKE]]], dtype="float32"), (1, 10), mode="bicubic")
    return f"bicubic (a = -0.75): {show(row[0, 0, 0, 1:5])}"


def _torch_nearest() -> str:
    legacy = _torch_resize(RAMP, 3, "nearest")
    exact = _torch_resize(RAMP, 3, "nearest-exact")
    return f"nearest: {show(legacy)}; nearest-exact: {show(exact)}"


def _jax_nearest() -> str:
    return f"nearest: {show(jax().image.resize(jnp().asarray(RAMP), (3,), 'nearest'))}"


def _mlprims_nearest() -> str:
    import mlprims

    row = mlprims.resize(np().asarray([[[RAMP]]], dtype="float32"), (1, 3), mode="nearest")
    return f"nearest: {show(row[0, 0, 0])}"


TORCH_CUBIC = "bicubic (a = -0.75): [-0.0351562, -0.105469, 0.261719, 0.878906] f32"
JAX_CUBIC = "cubic (a = -0.5): [-0.0218978, -0.0687023, 0.226562, 0.867188] f32"

ITEMS = [
    Item(
        "resize-cubic",
        "image",
        "upsampling [0, 0, 1, 0, 0] to 10 pixels with a cubic kernel (outputs 1 to 4)",
        "the cubic kernel's a differs (torch and OpenCV -0.75, JAX and PIL -0.5): images "
        "resized in one framework do not match the other's, and the undershoot differs",
        {
            "numpy": "no resize in NumPy",
            "torch": (_torch_cubic, TORCH_CUBIC),
            "jax": (_jax_cubic, JAX_CUBIC),
            "array_api_strict": "no resize in the standard",
        },
        (_mlprims_cubic, TORCH_CUBIC),
    ),
    Item(
        "resize-nearest",
        "image",
        "downsampling [0, 1, 2, 3] to 3 pixels with 'nearest'",
        "torch's legacy 'nearest' takes floor(i * scale), shifting the picture by half a pixel; "
        "jax.image.resize's 'nearest' takes the pixel under each output centre (torch's "
        "'nearest-exact'): a segmentation mask resized by each lands on different pixels",
        {
            "numpy": "no resize in NumPy",
            "torch": (_torch_nearest, "nearest: [0, 1, 2] f32; nearest-exact: [0, 2, 3] f32"),
            "jax": (_jax_nearest, "nearest: [0, 2, 3] f32"),
            "array_api_strict": "no resize in the standard",
        },
        (_mlprims_nearest, "nearest: [0, 1, 2] f32"),
    ),
]
