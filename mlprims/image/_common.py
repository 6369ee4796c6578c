"""What the image modules share: the (N, C, H, W) check, pairs of sizes, OpenCV's border rule
and a separable filter along one axis.

Shape legend: N images of C channels, H rows and W columns (NCHW, torch's layout).
"""

from __future__ import annotations

from typing import Any

from array_api_compat import device as device_of

from .._array import Array, Namespace, check_dtype, check_int, index_dtype, shape_str

__all__ = ["as_pair", "check_image", "filter_along", "reflect_101"]


def check_image(
    x: Array, name: str, *, xp: Namespace, kinds: str | tuple[str, ...] = "real floating"
) -> tuple[int, int, int, int]:
    """(N, C, H, W) of `x`: a TypeError unless its dtype is of `kinds`, a ValueError unless it
    has 4 axes with H, W >= 1."""
    check_dtype(x, name, kinds, xp=xp)
    if x.ndim != 4 or x.shape[2] < 1 or x.shape[3] < 1:
        msg = (
            f"`{name}` must be a batch of images of shape (N, C, H, W) with H, W >= 1, got "
            f"{shape_str(x.shape)} (add the batch axis with x[None] for one image)"
        )
        raise ValueError(msg)
    n, c, h, w = x.shape
    return n, c, h, w


def as_pair(value: Any, name: str, *, minimum: int = 1) -> tuple[int, int]:
    """`value` (an int, or a pair (for H, for W)) as a pair of ints >= `minimum`."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            msg = f"`{name}` must be an int or a pair (H, W), got {tuple(value)!r}"
            raise ValueError(msg)
        h, w = (check_int(v, name, minimum=minimum) for v in value)
        return h, w
    v = check_int(value, name, minimum=minimum)
    return v, v


def reflect_101(p: int, n: int) -> int:
    """OpenCV's ``BORDER_REFLECT_101`` (``borderInterpolate``): position `p` of an axis of `n`
    pixels mirrored about its first and last pixels, which are not repeated (``gfedcb|abcdefgh|
    gfedcba``); repeated for positions more than a length away. torch's "reflect" padding."""
    if n == 1:
        return 0
    while not 0 <= p < n:
        p = -p if p < 0 else 2 * (n - 1) - p
    return p


def filter_along(x: Array, taps: list[float], axis: int, *, xp: Namespace) -> Array:
    """The correlation of `x` with the odd-length `taps` along `axis`, border reflect-101:
    ``y[i] = sum_k taps[k] * x[reflect_101(i + k - r)]``, r = len(taps) // 2.

    The border is one ``take`` of the mirrored positions (Python ints: the shape is static),
    then each nonzero tap adds one shifted slice: K slices of the image, never a K-times
    larger array.
    """
    n, r = x.shape[axis], len(taps) // 2
    positions = [reflect_101(p, n) for p in range(-r, n + r)]
    at = xp.asarray(positions, dtype=index_dtype(xp), device=device_of(x))
    padded = xp.take(x, at, axis=axis)  # n + 2r along `axis`
    out = None
    for k, tap in enumerate(taps):
        if tap == 0.0:
            continue
        window = [slice(None)] * x.ndim
        window[axis] = slice(k, k + n)
        term = padded[tuple(window)] * tap
        out = term if out is None else out + term
    return xp.zeros_like(x) if out is None else out
