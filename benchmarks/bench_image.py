"""Benchmark: mlprims.resize, grid_sample and gaussian_blur against torch, JAX and OpenCV.

    python benchmarks/bench_image.py            # N = 8, C = 3, 224 x 224
    python benchmarks/bench_image.py --quick    # N = 2, C = 3, 64 x 64

Each case is ours against a reference (timing, memory and RESULTS.md: benchmarks/harness.py),
float32 images drawn uniformly in [0, 1), the forward only:

- torch eager: ``mlprims.resize`` (two matmuls by dense interpolation matrices) against
  ``F.interpolate``: bilinear (``align_corners=False``) up 2x and down 2x without antialias,
  and bicubic up 2x;
- ``jax.jit``: ``mlprims.resize`` bilinear up 2x against ``jax.image.resize`` (method
  "linear", ``antialias=False``) under jit: both half-pixel centres, and upsampling, where
  JAX's triangle kernel renormalised at the border reads what torch's clamped bilinear does;
- torch eager: ``mlprims.grid_sample`` (bilinear, zeros padding; four ``take`` gathers)
  against ``F.grid_sample`` on the same grid, an affine one from ``F.affine_grid`` (rotation
  by 0.3 rad, scale 0.9, a small shift: some points fall outside the image);
- ``mlprims.gaussian_blur`` (kernel 5, sigma 1.0) on NumPy against ``cv2.GaussianBlur``
  (``BORDER_REFLECT_101``) looped over the N C planes into one preallocated array, and on
  torch eager against the same OpenCV loop, for reference across frameworks.

Outputs are checked to agree (1e-4) when each case is built. No targets (the issue gives
none).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from harness import Pair, main

KERNEL, SIGMA = 5, 1.0


def _sizes(quick: bool) -> tuple[int, int, int]:
    """N, C, S (images of S x S pixels)."""
    return (2, 3, 64) if quick else (8, 3, 224)


def _images(quick: bool) -> Any:
    import numpy as np

    n, c, s = _sizes(quick)
    return np.random.default_rng(0).random((n, c, s, s), dtype=np.float32)


def _check(name: str, got: Any, want: Any) -> None:
    import numpy as np

    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    if got.shape != want.shape or not np.allclose(got, want, rtol=1e-4, atol=1e-4):
        err = float(np.max(np.abs(got - want))) if got.shape == want.shape else float("nan")
        msg = f"{name}: ours and the reference differ (shapes {got.shape} and {want.shape}, "
        raise AssertionError(msg + f"max abs error {err:.3g})")


def torch_resize(quick: bool, mode: str, factor: float):
    import torch
    import torch.nn.functional as F

    from mlprims import resize

    x = torch.from_numpy(_images(quick))
    size = int(x.shape[-1] * factor)

    def ours():
        return resize(x, (size, size), mode=mode, align_corners=False)

    def native():
        return F.interpolate(x, size=(size, size), mode=mode, align_corners=False)

    _check(f"resize {mode} x{factor}, torch eager", ours().numpy(), native().numpy())
    return ours, native


def jax_resize(quick: bool):
    import jax
    import jax.numpy as jnp

    from mlprims import resize

    x = jnp.asarray(_images(quick))
    n, c, s = _sizes(quick)
    size = 2 * s
    ours = jax.jit(lambda x: resize(x, (size, size), mode="bilinear"))
    native = jax.jit(
        lambda x: jax.image.resize(x, (n, c, size, size), method="linear", antialias=False)
    )
    _check("resize bilinear x2, jax.jit", ours(x), native(x))
    return (
        lambda: ours(x).block_until_ready(),
        lambda: native(x).block_until_ready(),
    )


def torch_grid_sample(quick: bool):
    import math

    import torch
    import torch.nn.functional as F

    from mlprims import grid_sample

    x = torch.from_numpy(_images(quick))
    n = x.shape[0]
    angle, scale = 0.3, 0.9
    cos, sin = scale * math.cos(angle), scale * math.sin(angle)
    theta = torch.tensor([[cos, -sin, 0.05], [sin, cos, -0.05]]).expand(n, 2, 3)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False).contiguous()

    def ours():
        return grid_sample(x, grid, mode="bilinear", padding_mode="zeros")

    def native():
        return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)

    _check("grid_sample, torch eager", ours().numpy(), native().numpy())
    return ours, native


def _cv2_blur(x: Any) -> Any:
    """cv2.GaussianBlur over the N C planes of the NumPy images `x`, into one array."""
    import cv2
    import numpy as np

    n, c, h, w = x.shape
    planes = x.reshape(n * c, h, w)
    out = np.empty_like(planes)
    for src, dst in zip(planes, out, strict=True):
        cv2.GaussianBlur(
            src, (KERNEL, KERNEL), SIGMA, dst=dst, sigmaY=SIGMA, borderType=cv2.BORDER_REFLECT_101
        )
    return out.reshape(n, c, h, w)


def gaussian_blur_case(framework: str, quick: bool):
    from mlprims import gaussian_blur

    images = _images(quick)
    x = images
    if framework == "torch":
        import torch

        x = torch.from_numpy(images.copy())

    def ours():
        return gaussian_blur(x, kernel_size=KERNEL, sigma=SIGMA)

    _check(f"gaussian_blur, {framework}", ours(), _cv2_blur(images))
    return ours, partial(_cv2_blur, images)


def cases(args) -> list[Pair]:
    n, c, s = _sizes(args.quick)
    size = f"N={n}, C={c}, {s}x{s}"
    blur = f"gaussian_blur k={KERNEL} sigma={SIGMA} {size}"
    return [
        Pair(f"resize bilinear {size} -> x2, torch eager vs F.interpolate",
             partial(torch_resize, args.quick, "bilinear", 2)),
        Pair(f"resize bilinear {size} -> x0.5, torch eager vs F.interpolate",
             partial(torch_resize, args.quick, "bilinear", 0.5)),
        Pair(f"resize bicubic {size} -> x2, torch eager vs F.interpolate",
             partial(torch_resize, args.quick, "bicubic", 2)),
        Pair(f"resize bilinear {size} -> x2, jax.jit vs jax.image.resize (jit)",
             partial(jax_resize, args.quick)),
        Pair(f"grid_sample bilinear zeros {size}, affine grid, torch eager vs F.grid_sample",
             partial(torch_grid_sample, args.quick)),
        Pair(f"{blur}, numpy vs cv2.GaussianBlur per plane",
             partial(gaussian_blur_case, "numpy", args.quick)),
        Pair(f"{blur}, torch eager vs cv2.GaussianBlur per plane (numpy)",
             partial(gaussian_blur_case, "torch", args.quick)),
    ]  # fmt: skip


if __name__ == "__main__":
    main(__file__, __doc__, cases)
