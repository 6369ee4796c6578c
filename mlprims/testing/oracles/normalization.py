"""Float64 NumPy oracles for :mod:`mlprims.normalization`, written independently of the
primitives: NumPy's own mean and (two-pass) variance in float64 over the axes each
normalization reduces, with torch's conventions (biased variance to normalise, unbiased in the
running one). Shared by ``tests/`` and ``mlprims check``.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "batch_norm_reference",
    "group_norm_reference",
    "layer_norm_reference",
    "rms_norm_reference",
]


def _trailing_axes(x, normalized_shape):
    count = 1 if isinstance(normalized_shape, int) else len(tuple(normalized_shape))
    return tuple(range(x.ndim - count, x.ndim))


def _affine(y, weight, bias):
    y = y if weight is None else y * np.asarray(weight, dtype=np.float64)
    return y if bias is None else y + np.asarray(bias, dtype=np.float64)


def batch_norm_reference(
    x,
    running_mean,
    running_var,
    weight=None,
    bias=None,
    *,
    training,
    momentum=0.1,
    eps=1e-5,
    axis=1,
):
    """torch's BatchNorm per channel: (y, running_mean, running_var); matches ``batch_norm``."""
    xm = np.moveaxis(np.asarray(x, dtype=np.float64), axis, -1)  # (..., C)
    flat = xm.reshape(-1, xm.shape[-1])
    rm = None if running_mean is None else np.asarray(running_mean, dtype=np.float64)
    rv = None if running_var is None else np.asarray(running_var, dtype=np.float64)
    if training:
        n = flat.shape[0]
        mean, var = flat.mean(axis=0), flat.var(axis=0)
        if rm is not None and rv is not None:
            rm = (1 - momentum) * rm + momentum * mean
            rv = (1 - momentum) * rv + momentum * var * n / (n - 1)
    else:
        mean, var = rm, rv
    y = _affine((xm - mean) / np.sqrt(var + eps), weight, bias)
    return np.moveaxis(y, -1, axis), rm, rv


def layer_norm_reference(x, normalized_shape, weight=None, bias=None, *, eps=1e-5):
    """(x - mean) / sqrt(var + eps) over the trailing axes, then affine; matches ``layer_norm``."""
    x = np.asarray(x, dtype=np.float64)
    axes = _trailing_axes(x, normalized_shape)
    mean, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
    return _affine((x - mean) / np.sqrt(var + eps), weight, bias)


def rms_norm_reference(x, normalized_shape, weight=None, *, eps):
    """x / sqrt(mean(x^2) + eps) over the trailing axes, times weight; matches ``rms_norm``."""
    x = np.asarray(x, dtype=np.float64)
    axes = _trailing_axes(x, normalized_shape)
    return _affine(x / np.sqrt((x**2).mean(axis=axes, keepdims=True) + eps), weight, None)


def group_norm_reference(x, num_groups, weight=None, bias=None, *, eps=1e-5):
    """Normalise each group of C / G consecutive channels, then affine; matches ``group_norm``."""
    x = np.asarray(x, dtype=np.float64)
    n, c = x.shape[:2]
    grouped = x.reshape(n, num_groups, -1)
    mean, var = grouped.mean(-1, keepdims=True), grouped.var(-1, keepdims=True)
    y = ((grouped - mean) / np.sqrt(var + eps)).reshape(x.shape)
    channel = (1, c) + (1,) * (x.ndim - 2)
    w = None if weight is None else np.reshape(weight, channel)
    b = None if bias is None else np.reshape(bias, channel)
    return _affine(y, w, b)
