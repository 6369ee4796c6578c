"""Check cases for mlprims.image, against the float64 oracles of
:mod:`mlprims.testing.oracles.image` (shared with the tests)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...image import (
    gaussian_blur,
    grid_sample,
    histogram_equalize,
    resize,
    rgb_to_grayscale,
    sobel,
)
from ...testing import Case
from ...testing.oracles.image import (
    gaussian_blur_reference,
    grid_sample_reference,
    histogram_equalize_reference,
    resize_reference,
    rgb_to_grayscale_reference,
    sobel_reference,
)

__all__ = ["CASES"]

#: The check cases of this family, in table order.
CASES: list[Case] = []


def _images(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {"x": rng.normal(size=(2, 3, 7, 6))}


_RESIZES: list[tuple[str, tuple[int, int], dict[str, Any]]] = [
    ("resize(nearest)", (11, 4), {"mode": "nearest"}),
    ("resize(bilinear)", (11, 4), {"mode": "bilinear"}),
    ("resize(bicubic,align_corners)", (11, 4), {"mode": "bicubic", "align_corners": True}),
    ("resize(bicubic,antialias)", (3, 2), {"mode": "bicubic", "antialias": True}),
]
for _name, _size, _options in _RESIZES:
    CASES.append(
        Case(
            name=_name,
            make_inputs=_images,
            run=lambda x, s=_size, o=_options: resize(x, s, **o),
            reference=lambda x, s=_size, o=_options: resize_reference(x, s, **o),
        )
    )


def _grid_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Points inside and up to a half-image outside, the border of every padding mode."""
    return {"x": rng.normal(size=(2, 3, 5, 6)), "grid": rng.uniform(-1.5, 1.5, (2, 4, 3, 2))}


for _mode, _padding, _aligned in (("bilinear", "zeros", False), ("nearest", "reflection", True)):
    CASES.append(
        Case(
            name=f"grid_sample({_mode},{_padding}{',align_corners' if _aligned else ''})",
            make_inputs=_grid_inputs,
            run=lambda x, grid, m=_mode, p=_padding, a=_aligned: grid_sample(
                x, grid, mode=m, padding_mode=p, align_corners=a
            ),
            reference=lambda x, grid, m=_mode, p=_padding, a=_aligned: grid_sample_reference(
                x, grid, mode=m, padding_mode=p, align_corners=a
            ),
        )
    )

CASES.append(
    Case(
        name="gaussian_blur(5x3,sigma)",
        make_inputs=_images,
        run=lambda x: gaussian_blur(x, kernel_size=(5, 3), sigma=(1.5, 0.8)),
        reference=lambda x: gaussian_blur_reference(x, kernel_size=(5, 3), sigma=(1.5, 0.8)),
    )
)
CASES.append(
    Case(
        name="sobel(dx=1,dy=1)",
        make_inputs=_images,
        run=lambda x: sobel(x, dx=1, dy=1),
        reference=lambda x: sobel_reference(x, dx=1, dy=1),
    )
)
CASES.append(
    Case(
        name="rgb_to_grayscale",
        make_inputs=lambda rng: {"x": rng.uniform(0.0, 1.0, (2, 3, 4, 5))},
        run=lambda x: rgb_to_grayscale(x),
        reference=rgb_to_grayscale_reference,
    )
)
CASES.append(
    Case(
        name="histogram_equalize",
        make_inputs=lambda rng: {
            "x": (rng.uniform(0.0, 1.0, (2, 3, 8, 9)) ** 2 * 180 + 20).astype(np.uint8)
        },
        run=lambda x: histogram_equalize(x),
        reference=histogram_equalize_reference,
    )
)
