"""The cases of ``mlprims bench``: each primitive that a framework also offers, at two sizes.

A case draws its inputs in NumPy (float32, integer targets) at a moderate size, or a tiny one
for ``--quick``, and calls our primitive on them once they are arrays of a backend. The native
side of each case, per backend, is in :mod:`.natives`.

Default sizes are those of a small model's layer on a CPU (a BERT-base row of 768 features, 256
tokens of 8 heads of 64, a 32x32 feature map of 64 channels), so that the whole default run
takes a minute or two; ``--quick`` sizes only prove that everything runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

import mlprims

from ...testing import Case, Inputs
from .natives import SDPA

__all__ = ["CASES", "QUICK", "by_name", "size"]

Shapes = Mapping[str, tuple[int, ...]]


def _draw(shapes: Shapes, integers: Mapping[str, int]) -> Callable[[np.random.Generator], Inputs]:
    """Inputs of `shapes`: standard normal float32, or integers below their bound in `integers`
    (class targets)."""

    def make_inputs(rng: np.random.Generator) -> Inputs:
        return {
            name: rng.integers(0, integers[name], size=shape)
            if name in integers
            else rng.standard_normal(shape, dtype=np.float32)
            for name, shape in shapes.items()
        }

    return make_inputs


def size(inputs: Inputs) -> str:
    """The inputs' shapes, those of equal shape together: ``q, k, v (4, 8, 256, 64)``."""
    together: dict[tuple[int, ...], list[str]] = {}
    for name, array in inputs.items():
        together.setdefault(array.shape, []).append(name)
    return ", ".join(f"{', '.join(names)} {shape}" for shape, names in together.items())


def _kmeans(x: Any, init: Any) -> Any:
    # 10 Lloyd iterations from the given centres (tol 0), as sklearn KMeans(max_iter=10, tol=0)
    return mlprims.kmeans(x, init.shape[0], init=init, max_iter=10, tol=0.0).centers


#: name, our call on backend arrays, the default shapes, the --quick shapes, integer inputs
_TABLE: list[tuple[str, Callable[..., Any], Shapes, Shapes, Mapping[str, int]]] = [
    ("softmax", lambda x: mlprims.softmax(x), {"x": (256, 4096)}, {"x": (4, 16)}, {}),
    ("gelu", lambda x: mlprims.gelu(x), {"x": (512, 1024)}, {"x": (4, 16)}, {}),
    (
        "layer_norm",
        lambda x, weight, bias: mlprims.layer_norm(x, x.shape[-1], weight, bias),
        {"x": (32, 128, 768), "weight": (768,), "bias": (768,)},
        {"x": (2, 3, 8), "weight": (8,), "bias": (8,)},
        {},
    ),
    (
        "rms_norm",
        lambda x, weight: mlprims.rms_norm(x, x.shape[-1], weight),
        {"x": (32, 128, 768), "weight": (768,)},
        {"x": (2, 3, 8), "weight": (8,)},
        {},
    ),
    (
        "cross_entropy",
        lambda logits, target: mlprims.cross_entropy(logits, target),
        {"logits": (1024, 1000), "target": (1024,)},
        {"logits": (4, 10), "target": (4,)},
        {"target": 10},  # below the class count of both sizes
    ),
    (
        SDPA,
        lambda q, k, v: mlprims.scaled_dot_product_attention(q, k, v),
        {"q": (4, 8, 256, 64), "k": (4, 8, 256, 64), "v": (4, 8, 256, 64)},
        {"q": (1, 2, 8, 4), "k": (1, 2, 8, 4), "v": (1, 2, 8, 4)},
        {},
    ),
    (
        "conv2d",
        lambda x, weight, bias: mlprims.conv2d(x, weight, bias, padding=1),
        {"x": (16, 64, 32, 32), "weight": (64, 64, 3, 3), "bias": (64,)},
        {"x": (2, 3, 8, 8), "weight": (4, 3, 3, 3), "bias": (4,)},
        {},
    ),
    ("kmeans", _kmeans, {"x": (5_000, 8), "init": (8, 8)}, {"x": (200, 2), "init": (3, 2)}, {}),
]

#: The cases at their default size, in table order (timed only: no reference).
CASES: list[Case] = [
    Case(name, _draw(shapes, integers), run, dtypes=("float32",))
    for name, run, shapes, _, integers in _TABLE
]
#: The same cases at the ``--quick`` size.
QUICK: list[Case] = [
    Case(name, _draw(shapes, integers), run, dtypes=("float32",))
    for name, run, _, shapes, integers in _TABLE
]


def by_name(*, quick: bool = False) -> dict[str, Case]:
    """:data:`CASES` (or :data:`QUICK`) by name."""
    return {case.name: case for case in (QUICK if quick else CASES)}
