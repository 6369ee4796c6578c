"""Tie order of argsort and top-k, and where NaN ranks."""

from __future__ import annotations

from typing import Any

from ._item import Item
from ._show import jax, jnp, np, show, strict, torch

__all__ = ["ITEMS"]

TIES = [1.0, 3.0, 3.0, 2.0, 3.0]


def _ints() -> Any:
    """2000 integers in 0..3: many ties."""
    return np().random.default_rng(0).integers(0, 4, 2000)


def _stable(default: Any, stable: Any) -> str:
    return f"default == stable: {bool((np().asarray(default) == np().asarray(stable)).all())}"


def _numpy_stable() -> str:
    x = _ints()
    return _stable(np().argsort(x), np().argsort(x, kind="stable"))


def _torch_stable() -> str:
    x = torch().as_tensor(_ints())
    return _stable(torch().argsort(x), torch().argsort(x, stable=True))


def _jax_stable() -> str:
    x = jnp().asarray(_ints())
    return _stable(jnp().argsort(x), jnp().argsort(x, stable=True))


def _strict_stable() -> str:
    x = strict().asarray(_ints())
    return _stable(strict().argsort(x), strict().argsort(x, stable=True))


def _numpy_descending() -> str:
    x = np().asarray([1, 2, 2, 0])
    return f"argsort(x)[::-1]: {show(np().argsort(x, kind='stable')[::-1])}"


def _mlprims_top_k(values: list[float], k: int) -> str:
    import mlprims

    _, indices = mlprims.backends.of(torch().zeros(1)).top_k(torch().tensor(values), k)
    return f"on torch: {show(indices)}"


def _torch_topk(values: list[float], k: int) -> str:
    return show(torch().topk(torch().tensor(values), k).indices)


def _jax_topk(values: list[float], k: int) -> str:
    return show(jax().lax.top_k(jnp().asarray(values), k)[1])


ITEMS = [
    Item(
        "argsort-stable",
        "sorting",
        "argsort of 2000 ints in 0..3: default order == stable order?",
        "NumPy's and torch's default sort is not stable: tie order differs across frameworks",
        {
            "numpy": (_numpy_stable, "default == stable: False"),
            "torch": (_torch_stable, "default == stable: False"),
            "jax": (_jax_stable, "default == stable: True"),
            "array_api_strict": (_strict_stable, "default == stable: True"),
        },
        "asks for stable=True wherever ties matter",
    ),
    Item(
        "argsort-descending",
        "sorting",
        "descending argsort of [1, 2, 2, 0]",
        "argsort(x)[::-1] reverses the tie order that descending=True keeps",
        {
            "numpy": (_numpy_descending, "argsort(x)[::-1]: [2, 1, 0, 3] i64"),
            "torch": (
                lambda: show(
                    torch().argsort(torch().tensor([1, 2, 2, 0]), descending=True, stable=True)
                ),
                "[1, 2, 0, 3] i64",
            ),
            "jax": (
                lambda: show(
                    jnp().argsort(jnp().asarray([1, 2, 2, 0]), descending=True, stable=True)
                ),
                "[1, 2, 0, 3] i32",
            ),
            "array_api_strict": (
                lambda: show(strict().argsort(strict().asarray([1, 2, 2, 0]), descending=True)),
                "[1, 2, 0, 3] i64",
            ),
        },
    ),
    Item(
        "top-k-ties",
        "sorting",
        "indices of the top 2 of [1, 3, 3, 2, 3]",
        "torch.topk breaks ties arbitrarily, not by lowest index: beam search and "
        "nucleus sampling differ across frameworks",
        {
            "numpy": (
                lambda: show(np().argpartition(-np().asarray(TIES), 1)[:2]),
                "[1, 2] i64",
            ),
            "torch": (lambda: _torch_topk(TIES, 2), "[2, 4] i64"),
            "jax": (lambda: _jax_topk(TIES, 2), "[1, 2] i32"),
            "array_api_strict": "no top-k in the standard",
        },
        (lambda: _mlprims_top_k(TIES, 2), "on torch: [1, 2] i64"),
    ),
    Item(
        "top-k-nan",
        "sorting",
        "index of the top 1 of [1, nan, 3]",
        "np.argpartition(-x) ranks NaN last; torch.topk and lax.top_k rank it first",
        {
            "numpy": (
                lambda: show(np().argpartition(-np().asarray([1.0, np().nan, 3.0]), 0)[:1]),
                "[2] i64",
            ),
            "torch": (lambda: _torch_topk([1.0, float("nan"), 3.0], 1), "[1] i64"),
            "jax": (lambda: _jax_topk([1.0, float("nan"), 3.0], 1), "[1] i32"),
            "array_api_strict": "no top-k in the standard",
        },
        (lambda: _mlprims_top_k([1.0, float("nan"), 3.0], 1), "on torch: [1] i64"),
    ),
]
