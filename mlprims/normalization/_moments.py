"""Internals of :mod:`mlprims.normalization`: shifted two-pass statistics and argument checks.

Private: only :mod:`mlprims.normalization` imports it. The mean and variance of every
normalisation come from :func:`shifted_moments`. Why not the textbook formulas:

* **One pass, E[x²] - E[x]²** (what naive code and Flax's ``use_fast_variance=True`` do)
  subtracts two nearly equal large numbers when ``|mean| >> std``: on float32 rows with mean 1e4
  and std 1e-2, E[x²] ≈ 1e8 carries an absolute rounding error of about 4 while the variance is
  1e-4, so the "variance" is noise or negative.
* **Two passes, mean then E[(x - mean)²]**, is far better but still loses the last digits: the
  float32 mean of values near 1e4 is rounded to a multiple of 2⁻¹⁰ ≈ 1e-3, so ``x - mean`` is
  off by up to 5e-4, that is 5% of a standard deviation of 1e-2 (measured: 0.086 absolute error
  in layer_norm's output, against 0.13-0.19 for torch's own float32 layer_norm).
* **Shifted two passes** (used here): first subtract one element ``s`` of each normalised group
  (its first element), then run the two passes on ``d = x - s``. When ``x`` and ``s`` are within a
  factor of two of each other the subtraction is exact (Sterbenz lemma), so ``d`` holds the
  spread of the data at full precision and its mean is small; the centred values
  ``d - mean(d)`` and the variance are then accurate to a few float32 ulps of the *spread*
  (measured: 5e-7 absolute error in the normalised output, the target being 1e-5). The output is
  built from ``d`` (as ``d - mean(d)``, or ``d * scale - mean(d) * scale``), never from
  ``x - (s + mean(d))``, which would reintroduce the rounding of the large mean.

The rounding errors are thus relative to ``max |x - s|``, the spread of the group, and never to
``|mean|``; since one element is at most ``sqrt(n - 1)`` standard deviations from the mean of
``n`` values, even an outlier as the shift costs at most that factor over the ideal.

**Memory plan: one new full-size array.** On CPU, eager torch and NumPy spend most of a
normalisation in allocating full-size arrays (each new page is faulted in by the kernel:
measured 10.6 ms for a (32, 512, 768) float32 array, against 0.9 ms for an in-place pass over
the same array), so :func:`shifted_moments` computes ``x - s``, then the centred values, then
their squares in place in one `scratch` array, and the output is written back into it, refilled
from `x` (:func:`centered`, :func:`scaled`): two reductions and about eight in-place passes
instead of three to five new arrays. Under ``jax.jit`` the in-place updates are plain rebinding
and the refill reads `x` again instead of keeping ``x - mean``: XLA on CPU writes to memory
every array that a reduction shares with another consumer, so batch_norm, whose output is one
multiply-add of ``x - shift`` (:func:`scaled`), stores one intermediate array like plain
``jnp`` code (it stored two: measured 1.03x plain jnp, from 1.28x), and layer_norm stays one
fused loop (with :func:`centered`; with :func:`scaled` XLA split it, 1.4x).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import array_api_extra as xpx

from .._array import (
    Array,
    Namespace,
    check_array,
    check_axis,
    check_bool,
    check_float_dtype,
    check_floating,
    check_in_range,
    check_same_framework,
    check_shape,
    create_namespace,
    namespace,
    shape_str,
)

__all__ = [
    "Moments",
    "affine",
    "centered",
    "check_batch_norm",
    "check_param",
    "check_trailing",
    "creation",
    "scaled",
    "shape_argument",
    "shifted_moments",
]


class Moments(NamedTuple):
    """Statistics of the groups of `x` reduced over some axes (all with those axes kept as 1).

    shift : one element of each group (its first), subtracted before anything else
    offset : ``mean(x - shift)``, so the mean is ``shift + offset`` (never formed in the output)
    var : the biased variance, ``mean(((x - shift) - offset) ** 2)``
    scratch : the full-size array the statistics were computed in (it holds the squared
        deviations), free for the caller to overwrite with the output
    """

    shift: Array
    offset: Array
    var: Array
    scratch: Array

    @property
    def mean(self) -> Array:
        """The mean of each group, ``shift + offset``."""
        return self.shift + self.offset


def shifted_moments(x: Array, axes: Sequence[int], *, xp: Namespace) -> Moments:
    """Shift, offset and biased variance of `x` over `axes` by shifted two passes.

    `axes` are non-negative and sorted; each group (one index of the remaining axes) is shifted
    by its own first element, a basic slice, so this is jit-safe and standard-only. Allocates
    one full-size array, returned as ``scratch`` for the output (see the module notes).
    """
    axes = tuple(axes)
    first = tuple(slice(0, 1) if i in axes else slice(None) for i in range(x.ndim))
    shift = x[first]  # one element per group, reduced axes kept as size 1
    scratch = x - shift  # exact when x and shift are within a factor 2 (Sterbenz)
    offset = xp.mean(scratch, axis=axes, keepdims=True)
    scratch -= offset  # the centred values; in place on our own array, JAX rebinds
    scratch **= 2  # (torch autograd keeps what the backward needs: pow_ saves a copy)
    var = xp.mean(scratch, axis=axes, keepdims=True)
    return Moments(shift, offset, var, scratch)


def centered(x: Array, moments: Moments) -> Array:
    """``(x - shift) - offset``, the centred values, written into ``moments.scratch``.

    The same operations as in :func:`shifted_moments`, so the same values to the last bit;
    never ``x - mean``, which would round the large mean (see the module notes).
    """
    y = xpx.at(moments.scratch)[...].set(x)  # in place where arrays are mutable
    y -= moments.shift
    y -= moments.offset
    return y


def scaled(x: Array, moments: Moments, scale: Array, bias: Array | None) -> Array:
    """``(x - mean) * scale + bias`` as one multiply-add, written into ``moments.scratch``.

    `scale` and `bias` broadcast to the statistics' shape (one value per group, like
    batch_norm's per-channel ``weight / sqrt(var + eps)``). Computed as
    ``(x - shift) * scale + (bias - offset * scale)``: both products are of the size of the
    spread, so this is as accurate as scaling the centred values (measured on rows with mean 1e4
    and std 1e-2: 5.15e-7 against 5.12e-7 from the float64 result) and saves a pass.
    """
    y = xpx.at(moments.scratch)[...].set(x)
    y -= moments.shift
    y *= scale
    y += -moments.offset * scale if bias is None else bias - moments.offset * scale
    return y


# --- argument checks and the affine step shared by the normalisations ---------------------


def shape_argument(normalized_shape: Any) -> tuple[int, ...]:
    """`normalized_shape` as a non-empty tuple of positive ints."""
    return check_shape(normalized_shape, "normalized_shape", minimum=1, nonempty=True)


def check_trailing(x: Array, normalized_shape: Any) -> tuple[Namespace, tuple[int, ...]]:
    """Check `x` and that its trailing shape is `normalized_shape`; return (xp, S)."""
    check_array(x, "x")
    xp = namespace(x)
    check_floating(x, "x", xp=xp)
    shape = shape_argument(normalized_shape)
    if x.ndim < len(shape) or tuple(x.shape[x.ndim - len(shape) :]) != shape:
        msg = (
            f"`normalized_shape` {shape_str(shape)} must equal the trailing shape of `x`, "
            f"got x.shape = {shape_str(x.shape)}"
        )
        raise ValueError(msg)
    return xp, shape


def check_batch_norm(
    x: Array,
    running_mean: Array | None,
    running_var: Array | None,
    weight: Array | None,
    bias: Array | None,
    training: Any,
    momentum: Any,
    eps: Any,
    axis: Any,
) -> tuple[Namespace, int, int, float, float]:
    """Validate batch_norm's arguments; return (xp, channel axis, values per channel n,
    momentum, eps)."""
    check_array(x, "x")
    xp = namespace(
        x,
        running_mean,
        running_var,
        weight,
        bias,
        names=("x", "running_mean", "running_var", "weight", "bias"),
    )
    check_floating(x, "x", xp=xp)
    check_bool(training, "training")  # a Python bool: it picks the code path
    if momentum is None:
        msg = (
            "`momentum` None (torch's cumulative moving average) is not supported; pass "
            "momentum=1 / (t + 1) at training step t = 0, 1, ... for the same running statistics"
        )
        raise TypeError(msg)
    momentum = check_in_range(momentum, "momentum", 0.0, 1.0)
    eps = check_in_range(eps, "eps", 0.0, math.inf)
    if x.ndim < 2:
        msg = f"`x` must have at least 2 dimensions (N, C, ...), got shape {shape_str(x.shape)}"
        raise ValueError(msg)
    ax = check_axis(axis, x.ndim)
    channels = x.shape[ax]
    if (running_mean is None) != (running_var is None):
        msg = "`running_mean` and `running_var` must both be arrays or both be None"
        raise ValueError(msg)
    if running_mean is None and not training:
        msg = "`running_mean` is needed when `training=False` (evaluation uses running statistics)"
        raise ValueError(msg)
    why = f"C = x.shape[{axis}]"
    for name, p in [
        ("running_mean", running_mean),
        ("running_var", running_var),
        ("weight", weight),
        ("bias", bias),
    ]:
        check_param(p, name, (channels,), why, xp=xp)
    n = math.prod(x.shape) // channels if channels else 0
    if training and n <= 1:
        msg = (
            f"`x` needs more than 1 value per channel when training, got shape {shape_str(x.shape)}"
        )
        raise ValueError(msg)
    return xp, ax, n, momentum, eps


def check_param(
    p: Array | None, name: str, shape: Sequence[int], why: str, *, xp: Namespace
) -> None:
    """A weight/bias/statistic must be a floating array of `shape` (None passes)."""
    if p is None:
        return
    check_same_framework(p, name, xp=xp)
    check_floating(p, name, xp=xp)
    if tuple(p.shape) != tuple(shape):
        msg = f"`{name}` must have shape {shape_str(shape)} ({why}), got {shape_str(p.shape)}"
        raise ValueError(msg)


def affine(
    y: Array, weight: Array | None, bias: Array | None, shape: Sequence[int], *, xp: Namespace
) -> Array:
    """``y * weight + bias``, the parameters reshaped to `shape` and cast to y's dtype.

    Updates `y` in place, so `y` must be a new array of the caller, never an input. Why: in
    eager torch and NumPy each new full-size array costs a page-faulting allocation (measured:
    12 ms for a (32, 512, 768) float32 product, against 1.8 ms into an existing buffer), which
    is most of a normalisation's time. JAX has no in-place operators: ``y *= w`` rebinds `y`.
    torch autograd accepts both updates (neither overwrites a value saved for the backward).
    """
    if weight is not None:
        y *= xp.reshape(xp.astype(weight, y.dtype, copy=False), tuple(shape))
    if bias is not None:
        y += xp.reshape(xp.astype(bias, y.dtype, copy=False), tuple(shape))
    return y


def creation(dtype: Any, backend: Any) -> tuple[Namespace, Any]:
    """The namespace of `backend` and `dtype` resolved in it (a real floating dtype)."""
    xp = create_namespace(backend)
    return xp, check_float_dtype(dtype, xp=xp)
