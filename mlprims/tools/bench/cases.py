"""The cases of ``mlprims bench``: each primitive that a framework also offers, at two sizes.

A case draws its inputs in NumPy (float32, integer targets) at a moderate size, or a tiny one
for ``--quick``, and calls our primitive on them once they are arrays of a backend. The native
side of each case, per backend, is in :mod:`.natives`.

Default sizes are those of a small model's layer on a CPU (a BERT-base row of 768 features, 256
tokens of 8 heads of 64, a 32x32 feature map of 64 channels), so that the whole default run
takes a minute or two; ``--quick`` sizes only prove that everything runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

import mlprims

from .natives import SDPA

__all__ = ["CASES", "BenchCase"]

Shapes = dict[str, tuple[int, ...]]


@dataclass(frozen=True)
class BenchCase:
    """One primitive to time against the frameworks' own ops.

    Attributes
    ----------
    name : str
        The primitive's name, as ``--primitives`` selects it.
    shapes : dict
        Input name -> shape, at the default size.
    quick : dict
        The same at the ``--quick`` size.
    ours : callable
        ``(**arrays) -> output``: our primitive on backend arrays.
    integers : dict
        Input name -> the exclusive upper bound of an integer input (class targets); the
        other inputs are standard normal float32.
    """

    name: str
    shapes: Shapes
    quick: Shapes
    ours: Callable[..., Any]
    integers: dict[str, int] | None = None

    def inputs(self, *, quick: bool = False, seed: int = 0) -> dict[str, np.ndarray]:
        """NumPy inputs at the default size (or the quick one), the same for every backend."""
        rng = np.random.default_rng(seed)
        integers = self.integers or {}
        out: dict[str, np.ndarray] = {}
        for name, shape in (self.quick if quick else self.shapes).items():
            if name in integers:
                out[name] = rng.integers(0, integers[name], size=shape)
            else:
                out[name] = rng.standard_normal(shape, dtype=np.float32)
        return out

    def size(self, *, quick: bool = False) -> str:
        """The inputs' shapes, those of equal shape together: ``q, k, v (4, 8, 256, 64)``."""
        together: dict[tuple[int, ...], list[str]] = {}
        for name, shape in (self.quick if quick else self.shapes).items():
            together.setdefault(shape, []).append(name)
        return ", ".join(f"{', '.join(names)} {shape}" for shape, names in together.items())


def _kmeans(x: Any, init: Any) -> Any:
    # 10 Lloyd iterations from the given centres (tol 0), as sklearn KMeans(max_iter=10, tol=0)
    return mlprims.kmeans(x, init.shape[0], init=init, max_iter=10, tol=0.0).centers


#: name -> case, in the order the table lists them.
CASES: dict[str, BenchCase] = {
    case.name: case
    for case in [
        BenchCase("softmax", {"x": (256, 4096)}, {"x": (4, 16)}, lambda x: mlprims.softmax(x)),
        BenchCase("gelu", {"x": (512, 1024)}, {"x": (4, 16)}, lambda x: mlprims.gelu(x)),
        BenchCase(
            "layer_norm",
            {"x": (32, 128, 768), "weight": (768,), "bias": (768,)},
            {"x": (2, 3, 8), "weight": (8,), "bias": (8,)},
            lambda x, weight, bias: mlprims.layer_norm(x, x.shape[-1], weight, bias),
        ),
        BenchCase(
            "rms_norm",
            {"x": (32, 128, 768), "weight": (768,)},
            {"x": (2, 3, 8), "weight": (8,)},
            lambda x, weight: mlprims.rms_norm(x, x.shape[-1], weight),
        ),
        BenchCase(
            "cross_entropy",
            {"logits": (1024, 1000), "target": (1024,)},
            {"logits": (4, 10), "target": (4,)},
            lambda logits, target: mlprims.cross_entropy(logits, target),
            integers={"target": 10},  # below the class count of both sizes
        ),
        BenchCase(
            SDPA,
            {"q": (4, 8, 256, 64), "k": (4, 8, 256, 64), "v": (4, 8, 256, 64)},
            {"q": (1, 2, 8, 4), "k": (1, 2, 8, 4), "v": (1, 2, 8, 4)},
            lambda q, k, v: mlprims.scaled_dot_product_attention(q, k, v),
        ),
        BenchCase(
            "conv2d",
            {"x": (16, 64, 32, 32), "weight": (64, 64, 3, 3), "bias": (64,)},
            {"x": (2, 3, 8, 8), "weight": (4, 3, 3, 3), "bias": (4,)},
            lambda x, weight, bias: mlprims.conv2d(x, weight, bias, padding=1),
        ),
        BenchCase(
            "kmeans",
            {"x": (5_000, 8), "init": (8, 8)},
            {"x": (200, 2), "init": (3, 2)},
            _kmeans,
        ),
    ]
}
