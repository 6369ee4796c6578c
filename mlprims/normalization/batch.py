"""Batch normalisation as a function: the output and the updated running statistics.

Matches ``torch.nn.functional.batch_norm`` and ``nn.BatchNorm1d/2d/3d``; state (the running
statistics) is passed in and returned, never stored or mutated. Shape legend: ``N`` batch,
``C`` channels, ``*`` any further (spatial) axes.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from .. import backends
from .._array import (
    Array,
    check_bool,
    check_int,
    statistics_dtype,
)
from ._moments import (
    check_batch_norm,
    creation,
    scaled,
    shifted_moments,
)

__all__: list[str] = ["BatchNormOutput", "batch_norm", "init_batch_norm"]


class BatchNormOutput(NamedTuple):
    """What :func:`batch_norm` returns: the output and the (possibly updated) running statistics.

    Attributes
    ----------
    output : array
        The normalised input, shape and dtype of `x`.
    running_mean : array of shape (C,) or None
        Updated when training, passed through otherwise; None when not tracked.
    running_var : array of shape (C,) or None
        The same for the (unbiased) running variance.
    """

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
    r"""Batch normalisation with PyTorch's conventions; running statistics are returned.

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

    .. math:: y = \frac{x - \mu_B}{\sqrt{\sigma_B^2 + \epsilon}} \gamma + \beta, \qquad
              \hat\mu \leftarrow (1 - m)\,\hat\mu + m\,\mu_B, \qquad
              \hat\sigma^2 \leftarrow (1 - m)\,\hat\sigma^2 + m\,\frac{n}{n - 1}\,\sigma_B^2.

    The output uses the *biased* batch variance, the running variance stores the *unbiased* one
    (torch's convention). Evaluation computes ``(x - running_mean) / sqrt(running_var + eps)``.
    The returned running statistics are state, never differentiated: no gradient flows into
    them (the backend's ``stop_gradient``), as torch updates its buffers outside autograd.
    Training needs ``n > 1``. torch's ``momentum=None`` (a cumulative average using the module's
    ``num_batches_tracked``) is not supported, as that counter would be one more piece of state:
    passing ``momentum=1 / (t + 1)`` at training step ``t = 0, 1, ...`` gives the same numbers
    (under ``jax.jit`` each new value recompiles, as momentum is static).

    Statistics are computed with shifted two passes: subtract each channel's first value (exact
    by the Sterbenz lemma when values are within a factor 2), then take the mean and the mean
    squared deviation of the differences. The one-pass ``E[x²] - E[x]²`` cancels catastrophically
    when ``|mean| >> std`` (float32 data around 1e4 with std 1e-2 get a variance that is pure
    rounding noise; Flax's default ``use_fast_variance=True`` is that formula, clipped at 0);
    see :mod:`mlprims.normalization._moments`.

    The same layer in the conventions of Keras 3 and Flax (their momentum weighs the *old*
    value, so torch 0.1 is their 0.9):

    =====================  ==================  ========================  ========================
    setting                torch / mlprims     Keras 3                   Flax linen
    =====================  ==================  ========================  ========================
    update                 (1-m) r + m b       m r + (1-m) b             m r + (1-m) b
    this layer's momentum  ``momentum=0.1``    ``momentum=0.9``          ``momentum=0.9``
    default momentum       0.1                 0.99                      0.99
    default eps            1e-5                1e-3                      1e-5
    mode                   ``training=True``   ``training=True``         ``use_running_average``
                                                                         ``=False``
    running variance       unbiased (n-1)      biased (n)                biased (n)
    channel axis           1                   -1                        -1
    parameter names        weight, bias,       gamma, beta,              scale, bias,
                           running_mean/var    moving_mean/variance      batch_stats mean/var
    =====================  ==================  ========================  ========================

    A stored Keras/Flax moving variance is the biased one; loading it here is a plain copy (only
    the training history differs, by the factor n/(n-1) on each batch's contribution).

    References
    ----------
    - Ioffe & Szegedy, "Batch Normalization", https://arxiv.org/abs/1502.03167
    - https://pytorch.org/docs/stable/generated/torch.nn.functional.batch_norm.html

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
    w = None if weight is None else xp.reshape(xp.astype(weight, dtype, copy=False), per_channel)
    b = None if bias is None else xp.reshape(xp.astype(bias, dtype, copy=False), per_channel)
    new_mean, new_var = running_mean, running_var
    if training:
        others = tuple(i for i in range(x.ndim) if i != ax)
        moments = shifted_moments(xc, others, xp=xp)
        scale = 1.0 / xp.sqrt(moments.var + eps)  # (1, C, 1, 1)
        # the affine folds into the per-channel scale: one multiply-add per value
        y = scaled(xc, moments, scale if w is None else scale * w, b)
        if running_mean is not None and running_var is not None:
            batch_mean = xp.astype(xp.reshape(moments.mean, (channels,)), running_mean.dtype)
            var = xp.reshape(moments.var, (channels,))
            unbiased = xp.astype(var * (n / (n - 1)), running_var.dtype)
            new_mean = (1.0 - momentum) * running_mean + momentum * batch_mean
            new_var = (1.0 - momentum) * running_var + momentum * unbiased
            # State, not a function of the loss: on torch a statistic that kept the graph
            # would make the next step's backward() fail and memory grow with every step.
            stop_gradient = backends.of(x).stop_gradient
            new_mean, new_var = stop_gradient(new_mean), stop_gradient(new_var)
    else:
        mu = xp.reshape(xp.astype(running_mean, dtype), per_channel)
        scale = 1.0 / xp.sqrt(xp.reshape(xp.astype(running_var, dtype), per_channel) + eps)
        y = xc - mu  # subtract first: x * scale - mu * scale would cancel when |mu| >> std
        y *= scale if w is None else scale * w  # in place on our own new array
        if b is not None:
            y += b
    return BatchNormOutput(xp.astype(y, x.dtype, copy=False), new_mean, new_var)


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

    Parameters
    ----------
    num_features : int
        ``C``, the number of channels.
    dtype : dtype or str
        Floating dtype of the arrays (default float32).
    backend : str or Backend, optional
        Where to create them (default: see :func:`mlprims.use`).
    affine : bool
        Whether the layer has a weight and a bias (torch's ``affine``, default True).
    track_running_stats : bool
        Whether it keeps running statistics (torch's ``track_running_stats``, default True).

    Returns
    -------
    dict of str to array of shape (C,) or None
        ``{"weight": ones, "bias": zeros, "running_mean": zeros, "running_var": ones}``; the
        weight and bias are None unless `affine`, the running statistics None unless
        `track_running_stats` (the arguments :func:`batch_norm` takes).

    References
    ----------
    - https://pytorch.org/docs/stable/generated/torch.nn.BatchNorm2d.html

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
    check_bool(affine, "affine")
    stats = check_bool(track_running_stats, "track_running_stats")
    return {
        "weight": xp.ones((c,), dtype=dt) if affine else None,
        "bias": xp.zeros((c,), dtype=dt) if affine else None,
        "running_mean": xp.zeros((c,), dtype=dt) if stats else None,
        "running_var": xp.ones((c,), dtype=dt) if stats else None,
    }
