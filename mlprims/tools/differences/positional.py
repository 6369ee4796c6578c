"""Rotary position embeddings: which features are rotated together."""

from __future__ import annotations

from ._item import Item
from ._show import np, show, torch

__all__ = ["ITEMS"]

X = [1.0, 2.0, 3.0, 4.0]  # one head of dimension 4, at position 1


def _torch_complex() -> str:
    """Meta's reference Llama: pairs (x0, x1), (x2, x3) as complex numbers times e^{i p θ}."""
    t = torch()
    theta = 1.0 / 10000.0 ** (t.arange(0, 4, 2).float() / 4)
    rotation = t.polar(t.ones(2), theta * 1)
    pairs = t.view_as_complex(t.tensor(X).reshape(2, 2))
    return f"view_as_complex (Meta Llama): {show(t.view_as_real(pairs * rotation).reshape(4))}"


def _numpy_rotate_half() -> str:
    """Hugging Face Llama, GPT-NeoX: pairs (x0, x2), (x1, x3): x * cos + rotate_half(x) * sin."""
    n = np()
    theta = 1.0 / 10000.0 ** (n.arange(0, 4, 2, dtype="float32") / 4)
    angles = n.concatenate([theta, theta])
    x = n.asarray(X, dtype="float32")
    rotated = n.concatenate([-x[2:], x[:2]])
    return f"rotate_half (HF Llama): {show(x * n.cos(angles) + rotated * n.sin(angles))}"


def _mlprims_rope() -> str:
    import mlprims

    x, positions = np().asarray([X], dtype="float32"), np().asarray([1])
    half = mlprims.apply_rope(x, positions)[0]
    interleaved = mlprims.apply_rope(x, positions, style="interleaved")[0]
    return f"style='half': {show(half)}; style='interleaved': {show(interleaved)}"


ITEMS = [
    Item(
        "rope-pairing",
        "positional",
        "RoPE of x = [1, 2, 3, 4] at position 1: half-split vs interleaved pairs",
        "checkpoints converted between the two conventions need their q/k rows permuted, "
        "or attention silently degrades",
        {
            "numpy": (
                _numpy_rotate_half,
                "rotate_half (HF Llama): [-1.98411, 1.9599, 2.46238, 4.0198] f32",
            ),
            "torch": (
                _torch_complex,
                "view_as_complex (Meta Llama): [-1.14264, 1.92208, 2.95985, 4.0298] f32",
            ),
            "jax": "no RoPE in JAX core",
        },
        (
            _mlprims_rope,
            (
                "style='half': [-1.98411, 1.9599, 2.46238, 4.0198] f32; "
                "style='interleaved': [-1.14264, 1.92208, 2.95985, 4.0298] f32"
            ),
        ),
    ),
]
