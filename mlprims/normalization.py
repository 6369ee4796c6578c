"""Normalisation layers as functions: batch_norm, layer_norm, rms_norm, group_norm.

Every function matches ``torch.nn.functional`` on the same arguments; state (BatchNorm's running
statistics) is passed in and returned, never stored or mutated. Means and variances come from a
shifted two-pass algorithm (:mod:`mlprims._moments`), so inputs with a large mean and a small
spread keep their precision where ``E[x²] - E[x]²`` (or even torch's own float32 kernels) lose it.
Half-precision inputs are normalised in float32 and the result is cast back.

Shape legend: ``N`` batch, ``C`` channels, ``G`` groups, ``*`` any further (spatial) axes,
``S`` the normalised trailing shape of layer_norm / rms_norm.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

from ._array import (
    Array,
    check_array,
    check_floating,
    check_in_range,
    check_int,
    namespace,
    shape_str,
    statistics_dtype,
)
from ._moments import (
    affine,
    check_batch_norm,
    check_param,
    check_trailing,
    creation,
    shape_argument,
    shifted_moments,
)

__all__: list[str] = [
    "BatchNormOutput",
    "batch_norm",
    "group_norm",
    "init_batch_norm",
    "init_layer_norm",
    "layer_norm",
    "rms_norm",
]


class BatchNormOutput(NamedTuple):
    """What :func:`batch_norm` returns: the output and the (possibly updated) running statistics."""

    output: Array
    running_mean: Array | None
    running_var: Array | None


def batch_norm(
    x: Array,
    running_mean: Array | None,
    running_var: Array | None,
    /,
    weight: Array | None = None,
    bias: Array | None = None,
    *,
    training: bool,
    momentum: float = 0.1,
    eps: float = 1e-5,
    axis: int = 1,
) -> BatchNormOutput:
    """Batch normalisation with PyTorch's conventions; running statistics are returned.

    Matches ``torch.nn.functional.batch_norm`` and ``torch.nn.BatchNorm1d/2d/3d`` step for step
    (including their running statistics), without mutating anything.

    Parameters
    ----------
    x : array, shape (N, C), (N, C, L), (N, C, H, W), ... or channels-last with ``axis=-1``
        Real floating input.
    running_mean, running_var : array of shape (C,) or None
        The running statistics. ``None`` for both means no tracking (torch's
        ``track_running_stats=False``): batch statistics are used and ``None`` is returned.
    weight, bias : array of shape (C,), optional
        The affine parameters (gamma and beta).
    training : bool
        True: normalise with the batch statistics and return updated running statistics.
        False: normalise with the running statistics and return them unchanged.
    momentum : float in [0, 1]
        Weight of the *new batch* in the running average (torch meaning, default 0.1).
    eps : float
        Added to the variance before the square root.
    axis : int
        The channel axis (1 like torch; -1 for channels-last data).

    Returns
    -------
    BatchNormOutput
        ``(output, running_mean, running_var)``; output has the shape and dtype of `x`.

    Notes
    -----
    Training, per channel over the ``n`` values of all other axes::

        y = (x - mean) / sqrt(var_biased + eps) * weight + bias
        running_mean <- (1 - momentum) * running_mean + momentum * mean
        running_var  <- (1 - momentum) * running_var  + momentum * var_biased * n / (n - 1)

    The output uses the *biased* batch variance, the running variance stores the *unbiased* one
    (torch's convention). Evaluation computes ``(x - running_mean) / sqrt(running_var + eps)``.
    Training needs ``n > 1``. torch's ``momentum=None`` (a cumulative average using the module's
    ``num_batches_tracked``) is not supported, as that counter would be one more piece of state:
    passing ``momentum=1 / (t + 1)`` at training step ``t = 0, 1, ...`` gives the same numbers
    (under ``jax.jit`` each new value recompiles, as momentum is static).

    Statistics are computed with shifted two passes: subtract each channel's first value (exact
    by the Sterbenz lemma when values are within a factor 2), then take the mean and the mean
    squared deviation of the differences. The one-pass ``E[x²] - E[x]²`` cancels catastrophically
    when ``|mean| >> std`` (float32 data around 1e4 with std 1e-2 get a variance that is pure
    rounding noise; Flax's default ``use_fast_variance=True`` is that formula, clipped at 0);
    see :mod:`mlprims._moments`.

    The same layer in the conventions of Keras 3 and Flax (their momentum weighs the *old*
    value, so torch 0.1 is their 0.9):

    ====================  ==================  ========================  ========================
    setting               torch / mlprims     Keras 3                   Flax linen
    ====================  ==================  ========================  ========================
    update                (1-m) r + m b       m r + (1-m) b             m r + (1-m) b
    this layer's momentum ``momentum=0.1``    ``momentum=0.9``          ``momentum=0.9``
    default momentum      0.1                 0.99                      0.99
    default eps           1e-5                1e-3                      1e-5
    mode                  ``training=True``   ``training=True``         ``use_running_average``
                                                                        ``=False``
    running variance      unbiased (n-1)      biased (n)                biased (n)
    channel axis          1                   -1                        -1
    parameter names       weight, bias,       gamma, beta,              scale, bias,
                          running_mean/var    moving_mean/variance      batch_stats mean/var
    ====================  ==================  ========================  ========================

    A stored Keras/Flax moving variance is the biased one; loading it here is a plain copy (only
    the training history differs, by the factor n/(n-1) on each batch's contribution).

    Examples
    --------
    >>> import numpy as np
    >>> from mlprims import batch_norm
    >>> x = np.array([[1.0, 10.0], [3.0, 30.0]])
    >>> y, mean, var = batch_norm(x, np.zeros(2), np.ones(2), training=True)
    >>> y.round(3).tolist(), mean.tolist(), var.tolist()
    ([[-1.0, -1.0], [1.0, 1.0]], [0.2, 2.0], [1.1, 20.9])
    """
    xp, ax, n, momentum, eps = check_batch_norm(
        x, running_mean, running_var, weight, bias, training, momentum, eps, axis
    )
    channels = x.shape[ax]
    dtype = statistics_dtype(x.dtype, xp=xp)
    xc = xp.astype(x, dtype, copy=False)
    per_channel = tuple(channels if i == ax else 1 for i in range(x.ndim))  # (1, C, 1, 1)
    new_mean, new_var = running_mean, running_var
    if training:
        others = tuple(i for i in range(x.ndim) if i != ax)
        mean, centered, var = shifted_moments(xc, others, xp=xp)
        y = centered * (1.0 / xp.sqrt(var + eps))
        if running_mean is not None and running_var is not None:
            batch_mean = xp.astype(xp.reshape(mean, (channels,)), running_mean.dtype)
            unbiased = xp.astype(xp.reshape(var, (channels,)) * (n / (n - 1)), running_var.dtype)
            new_mean = (1.0 - momentum) * running_mean + momentum * batch_mean
            new_var = (1.0 - momentum) * running_var + momentum * unbiased
    else:
        mu = xp.reshape(xp.astype(running_mean, dtype), per_channel)
        var = xp.reshape(xp.astype(running_var, dtype), per_channel)
        y = xc - mu
        y *= 1.0 / xp.sqrt(var + eps)  # in place on our own new array (see _moments.affine)
    y = affine(y, weight, bias, per_channel, xp=xp)
    return BatchNormOutput(xp.astype(y, x.dtype, copy=False), new_mean, new_var)


def layer_norm(
    x: Array,
    normalized_shape: int | Sequence[int],
    /,
    weight: Array | None = None,
    bias: Array | None = None,
    *,
    eps: float = 1e-5,
) -> Array:
    """Layer normalisation over the trailing `normalized_shape` axes.

    Matches ``torch.nn.functional.layer_norm`` (Ba et al. 2016), and is more accurate on data
    with a large mean: see Notes.

    Parameters
    ----------
    x : array, shape (..., *S)
        Real floating input.
    normalized_shape : int or sequence of int
        ``S``, the trailing shape to normalise over.
    weight, bias : array of shape S, optional
        Elementwise affine parameters.
    eps : float
        Added to the variance before the square root.

    Returns
    -------
    array, shape and dtype of `x`

    Notes
    -----
    ``y = (x - mean) / sqrt(var + eps) * weight + bias`` with the mean and the biased variance of
    each group of ``prod(S)`` values, computed by shifted two passes (subtract the group's first
    value, exact by the Sterbenz lemma, then mean and mean squared deviation of the
    differences). On float32 rows with mean 1e4 and std 1e-2 this is within 5e-7 of the float64
    result, where the plain two-pass algorithm errs by 0.09 and torch's float32 layer_norm by
    0.13 to 0.19 (tests/test_normalization.py measures it).

    Examples
    --------
    >>> import numpy as np
    >>> from mlprims import layer_norm
    >>> layer_norm(np.array([[1.0, 3.0], [10.0, 30.0]]), 2).round(3).tolist()
    [[-1.0, 1.0], [-1.0, 1.0]]
    """
    xp, shape = check_trailing(x, normalized_shape)
    eps = check_in_range(eps, "eps", 0.0, math.inf)
    check_param(weight, "weight", shape, "normalized_shape", xp=xp)
    check_param(bias, "bias", shape, "normalized_shape", xp=xp)
    xc = xp.astype(x, statistics_dtype(x.dtype, xp=xp), copy=False)
    axes = tuple(range(x.ndim - len(shape), x.ndim))
    _, centered, var = shifted_moments(xc, axes, xp=xp)
    y = affine(centered * (1.0 / xp.sqrt(var + eps)), weight, bias, shape, xp=xp)
    return xp.astype(y, x.dtype, copy=False)


def rms_norm(
    x: Array,
    normalized_shape: int | Sequence[int],
    /,
    weight: Array | None = None,
    *,
    eps: float | None = None,
) -> Array:
    """Root-mean-square normalisation over the trailing `normalized_shape` axes.

    Matches ``torch.nn.functional.rms_norm`` / ``torch.nn.RMSNorm`` (Zhang & Sennrich 2019).

    Parameters
    ----------
    x : array, shape (..., *S)
        Real floating input.
    normalized_shape : int or sequence of int
        ``S``, the trailing shape to normalise over.
    weight : array of shape S, optional
        Elementwise scale.
    eps : float, optional
        Added to the mean square. None (default) means the machine epsilon of the dtype the
        statistics are computed in, like torch: ``finfo(x.dtype).eps`` for float32/float64 and
        float32's 1.19e-7 for float16/bfloat16 inputs (which are computed in float32).

    Returns
    -------
    array, shape and dtype of `x`

    Notes
    -----
    ``y = x / sqrt(mean(x²) + eps) * weight``, the mean over the ``prod(S)`` trailing values.
    No mean is subtracted, so no cancellation can occur.

    Examples
    --------
    >>> import numpy as np
    >>> from mlprims import rms_norm
    >>> rms_norm(np.array([3.0, 4.0]), 2, eps=0.0).round(4).tolist()
    [0.8485, 1.1314]
    """
    xp, shape = check_trailing(x, normalized_shape)
    dtype = statistics_dtype(x.dtype, xp=xp)
    eps = float(xp.finfo(dtype).eps) if eps is None else check_in_range(eps, "eps", 0.0, math.inf)
    check_param(weight, "weight", shape, "normalized_shape", xp=xp)
    xc = xp.astype(x, dtype, copy=False)
    axes = tuple(range(x.ndim - len(shape), x.ndim))
    mean_square = xp.mean(xc * xc, axis=axes, keepdims=True)
    y = affine(xc * (1.0 / xp.sqrt(mean_square + eps)), weight, None, shape, xp=xp)
    return xp.astype(y, x.dtype, copy=False)


def group_norm(
    x: Array,
    num_groups: int,
    /,
    weight: Array | None = None,
    bias: Array | None = None,
    *,
    eps: float = 1e-5,
) -> Array:
    """Group normalisation: the channels split into `num_groups` groups, each normalised per sample.

    Matches ``torch.nn.functional.group_norm`` (Wu & He 2018). ``num_groups=1`` is layer norm
    over (C, *) with per-channel affine parameters; ``num_groups=C`` is instance norm.

    Parameters
    ----------
    x : array, shape (N, C, *)
        Real floating input, channels on axis 1.
    num_groups : int
        ``G``; must divide ``C``.
    weight, bias : array of shape (C,), optional
        Per-channel affine parameters.
    eps : float
        Added to the variance before the square root.

    Returns
    -------
    array, shape and dtype of `x`

    Notes
    -----
    Each sample's channels ``[g C/G, (g + 1) C/G)`` with all their spatial positions form one
    group, normalised with its mean and biased variance (shifted two passes, as layer_norm),
    then ``y * weight[c] + bias[c]``.

    Examples
    --------
    >>> import numpy as np
    >>> from mlprims import group_norm
    >>> group_norm(np.array([[1.0, 3.0, 10.0, 30.0]]), 2).round(3).tolist()
    [[-1.0, 1.0, -1.0, 1.0]]
    """
    check_array(x, "x")
    xp = namespace(x, weight, bias, names=("x", "weight", "bias"))
    check_floating(x, "x", xp=xp)
    groups = check_int(num_groups, "num_groups", minimum=1)
    eps = check_in_range(eps, "eps", 0.0, math.inf)
    if x.ndim < 2:
        msg = f"`x` must have at least 2 dimensions (N, C, *), got shape {shape_str(x.shape)}"
        raise ValueError(msg)
    batch, channels = x.shape[0], x.shape[1]
    if channels % groups:
        msg = f"`num_groups` must divide the channels C = x.shape[1] = {channels}, got {groups}"
        raise ValueError(msg)
    check_param(weight, "weight", (channels,), "C = x.shape[1]", xp=xp)
    check_param(bias, "bias", (channels,), "C = x.shape[1]", xp=xp)
    xc = xp.astype(x, statistics_dtype(x.dtype, xp=xp), copy=False)
    per_group = math.prod(x.shape[1:]) // groups
    grouped = xp.reshape(xc, (batch, groups, per_group))  # (N, G, C/G * prod(*))
    _, centered, var = shifted_moments(grouped, (2,), xp=xp)
    y = xp.reshape(centered * (1.0 / xp.sqrt(var + eps)), x.shape)  # (N, C, *)
    per_channel = (1, channels, *(1 for _ in x.shape[2:]))
    y = affine(y, weight, bias, per_channel, xp=xp)
    return xp.astype(y, x.dtype, copy=False)


def init_batch_norm(
    num_features: int,
    /,
    *,
    dtype: Any = "float32",
    backend: Any = None,
    affine: bool = True,
    track_running_stats: bool = True,
) -> dict[str, Array | None]:
    """Parameters and state of a BatchNorm layer, initialised like ``torch.nn.BatchNorm2d``.

    Returns ``{"weight": ones, "bias": zeros, "running_mean": zeros, "running_var": ones}``,
    each of shape (C,) = (num_features,); the weight and bias are None unless `affine`, the
    running statistics None unless `track_running_stats`. `backend` is a backend name (default:
    the one set with ``mlprims.use``).

    Examples
    --------
    >>> import numpy as np
    >>> from mlprims import batch_norm, init_batch_norm
    >>> p = init_batch_norm(2, dtype="float64")
    >>> out = batch_norm(np.array([[1.0, 2.0], [3.0, 6.0]]), p["running_mean"],
    ...                  p["running_var"], p["weight"], p["bias"], training=True)
    >>> out.running_var.round(6).tolist()
    [1.1, 1.7]
    """
    c = check_int(num_features, "num_features", minimum=1)
    xp, dt = creation(dtype, backend)
    stats = track_running_stats
    return {
        "weight": xp.ones((c,), dtype=dt) if affine else None,
        "bias": xp.zeros((c,), dtype=dt) if affine else None,
        "running_mean": xp.zeros((c,), dtype=dt) if stats else None,
        "running_var": xp.ones((c,), dtype=dt) if stats else None,
    }


def init_layer_norm(
    normalized_shape: int | Sequence[int],
    /,
    *,
    dtype: Any = "float32",
    backend: Any = None,
    elementwise_affine: bool = True,
    bias: bool = True,
) -> dict[str, Array | None]:
    """Parameters of a LayerNorm layer, initialised like ``torch.nn.LayerNorm``.

    Returns ``{"weight": ones(S), "bias": zeros(S)}``; None entries when not
    `elementwise_affine` (or no `bias`). Also the weight of an RMSNorm (use ``["weight"]``).

    Examples
    --------
    >>> from mlprims import init_layer_norm
    >>> p = init_layer_norm(3)
    >>> p["weight"].tolist(), p["bias"].tolist()
    ([1.0, 1.0, 1.0], [0.0, 0.0, 0.0])
    """
    shape = shape_argument(normalized_shape)
    xp, dt = creation(dtype, backend)
    return {
        "weight": xp.ones(shape, dtype=dt) if elementwise_affine else None,
        "bias": xp.zeros(shape, dtype=dt) if elementwise_affine and bias else None,
    }
