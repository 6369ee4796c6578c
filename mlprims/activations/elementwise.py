"""Elementwise activation functions, each matching ``torch.nn.functional`` (differences are in
Notes): relu, leaky_relu, gelu, silu, elu, sigmoid, tanh, softplus.

Every function takes arrays of a real floating dtype (integer arrays are a TypeError: cast
first), returns the input's dtype, never warns about overflow (``sigmoid(1000.0)`` is 1,
``softplus(-1000.0)`` is 0) and runs under ``jax.jit``. Infinite inputs give the function's
limit, where torch sometimes gives NaN (``gelu(-inf)``, ``silu(-inf)``: torch NaN, here 0).
"""

from __future__ import annotations

from .. import backends
from .._array import (
    Array,
    Namespace,
    check_choice,
    check_in_range,
    floating_namespace,
    statistics_dtype,
)

__all__: list[str] = [
    "elu",
    "gelu",
    "leaky_relu",
    "relu",
    "sigmoid",
    "silu",
    "softplus",
    "tanh",
]

_SQRT_HALF = 0.7071067811865476  # 1/sqrt(2)
_SQRT_2_OVER_PI = 0.7978845608028654  # sqrt(2/pi)


def _upcast(x: Array, *, xp: Namespace) -> Array:
    """`x` in float32 if it is float16/bfloat16 (as torch's CPU kernels compute), else `x`.

    exp(20) already overflows float16, and erf's polynomials do too.
    """
    return xp.astype(x, statistics_dtype(x.dtype, xp=xp), copy=False)


def _number(value: float, name: str) -> float:
    """`value` as a finite float, or a TypeError/ValueError naming it."""
    return check_in_range(value, name, closed=(False, False))


def relu(x: Array, /) -> Array:
    """Rectified linear unit ``max(x, 0)``; matches ``torch.nn.functional.relu``.

    Parameters
    ----------
    x : array (...), real floating

    Returns
    -------
    array (...), dtype of `x`. NaN stays NaN.

    References
    ----------
    - https://pytorch.org/docs/stable/generated/torch.nn.functional.relu.html

    Examples
    --------
    >>> import numpy as np
    >>> relu(np.array([-1.0, 0.0, 2.0]))
    array([0., 0., 2.])
    """
    xp = floating_namespace(x)
    return xp.maximum(x, xp.zeros_like(x))  # maximum, not where(x > 0, ...): keeps NaN


def leaky_relu(x: Array, /, *, negative_slope: float = 0.01) -> Array:
    r"""``x`` where ``x > 0``, else ``negative_slope * x``; matches ``F.leaky_relu``.

    Parameters
    ----------
    x : array (...), real floating
    negative_slope : float
        Slope for negative inputs (torch's default 0.01; ``jax.nn.leaky_relu`` uses 0.01 too).

    Returns
    -------
    array (...), dtype of `x`.

    Notes
    -----
    With :math:`a` the `negative_slope`:

    .. math::

        y = \begin{cases} x & x > 0 \\ a\,x & \text{otherwise} \end{cases}

    References
    ----------
    - https://pytorch.org/docs/stable/generated/torch.nn.functional.leaky_relu.html

    Examples
    --------
    >>> import numpy as np
    >>> leaky_relu(np.array([-2.0, 3.0]), negative_slope=0.1)
    array([-0.2,  3. ])
    """
    xp = floating_namespace(x)
    slope = _number(negative_slope, "negative_slope")
    return xp.where(x > 0, x, x * slope)


def gelu(x: Array, /, *, approximate: str = "none") -> Array:
    r"""Gaussian error linear unit ``x * Phi(x)`` (Hendrycks & Gimpel, 2016); matches ``F.gelu``.

    Parameters
    ----------
    x : array (...), real floating
    approximate : {"none", "tanh"}
        ``"none"``: the exact ``0.5 x (1 + erf(x / sqrt(2)))``, with the backend's erf
        (``torch.special.erf``, ``jax.lax.erf``; elsewhere mlprims' portable one, W. J. Cody's
        rational approximations, 2e-16 absolute in float64). ``"tanh"``:
        ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``, the GPT-2/BERT approximation.

    Returns
    -------
    array (...), dtype of `x`.

    Notes
    -----
    .. math:: \operatorname{gelu}(x) = x \, \Phi(x)
              = \frac{x}{2} \left(1 + \operatorname{erf}\left(\frac{x}{\sqrt{2}}\right)\right),
              \quad\text{tanh form: }
              \frac{x}{2} \left(1 + \tanh\left(\sqrt{2/\pi}\,(x + 0.044715\,x^3)\right)\right).

    Matches ``torch.nn.functional.gelu`` and ``jax.nn.gelu(approximate=False/True)`` (JAX's
    default is the tanh form, torch's the exact one, like ours). ``gelu(-inf)`` is 0 (torch: NaN).

    erf is the one function here the array API standard lacks; it comes from the backend
    (:func:`mlprims.backends.Backend.erf`) because the portable form is some fifty elementwise
    operations, which eager torch runs as fifty passes over memory (100 times ``F.gelu``).

    References
    ----------
    - Hendrycks & Gimpel, "Gaussian Error Linear Units (GELUs)", https://arxiv.org/abs/1606.08415
    - https://pytorch.org/docs/stable/generated/torch.nn.functional.gelu.html

    Examples
    --------
    >>> import numpy as np
    >>> gelu(np.array([-1.0, 0.0, 1.0])).round(4)
    array([-0.1587,  0.    ,  0.8413])
    """
    xp = floating_namespace(x)
    check_choice(approximate, "approximate", ("none", "tanh"))
    # Below -40 gelu is 0 to every float precision: clipping there avoids -inf * 0 = NaN.
    z = xp.clip(_upcast(x, xp=xp), min=-40.0)
    if approximate == "none":
        out = 0.5 * z * (1.0 + backends.of(x).erf(z * _SQRT_HALF))
    else:
        # tanh saturates to +-1 long before |x| = 20; clipping keeps x^3 from overflowing.
        c = xp.clip(z, min=-20.0, max=20.0)
        out = 0.5 * z * (1.0 + xp.tanh(_SQRT_2_OVER_PI * (c + 0.044715 * (c * c * c))))
    return xp.astype(out, x.dtype, copy=False)


def sigmoid(x: Array, /) -> Array:
    r"""The logistic function ``1 / (1 + exp(-x))``; matches ``torch.sigmoid``.

    Parameters
    ----------
    x : array (...), real floating

    Returns
    -------
    array (...), dtype of `x`, in [0, 1].

    Notes
    -----
    .. math::

        \sigma(x) = \frac{1}{1 + e^{-x}}
            = \begin{cases} \frac{1}{1 + e^{-|x|}} & x \ge 0 \\[2pt]
            \frac{e^{-|x|}}{1 + e^{-|x|}} & x < 0 \end{cases}

    Computed from ``e = exp(-|x|)`` (never overflows): ``1 / (1 + e)`` for ``x >= 0`` and
    ``e / (1 + e)`` for ``x < 0``, so ``sigmoid(+-1000)`` is 1 and 0 with no warning.

    References
    ----------
    - https://pytorch.org/docs/stable/generated/torch.sigmoid.html

    Examples
    --------
    >>> import numpy as np
    >>> sigmoid(np.array([-1000.0, 0.0, 1000.0]))
    array([0. , 0.5, 1. ])
    """
    xp = floating_namespace(x)
    return xp.astype(_sigmoid(_upcast(x, xp=xp), xp=xp), x.dtype, copy=False)


def _sigmoid(x: Array, *, xp: Namespace) -> Array:
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def silu(x: Array, /) -> Array:
    r"""Sigmoid linear unit (swish) ``x * sigmoid(x)``; matches ``torch.nn.functional.silu``.

    Parameters
    ----------
    x : array (...), real floating

    Returns
    -------
    array (...), dtype of `x`. ``silu(-inf)`` is 0 (torch: NaN).

    Notes
    -----
    .. math::

        \operatorname{silu}(x) = x\,\sigma(x) = \frac{x}{1 + e^{-x}}

    References
    ----------
    - https://pytorch.org/docs/stable/generated/torch.nn.functional.silu.html

    Examples
    --------
    >>> import numpy as np
    >>> silu(np.array([-1.0, 0.0, 1.0])).round(4)
    array([-0.2689,  0.    ,  0.7311])
    """
    xp = floating_namespace(x)
    z = xp.clip(_upcast(x, xp=xp), min=-1e4)  # silu(-1e4) is already 0: no -inf * 0 = NaN
    return xp.astype(z * _sigmoid(z, xp=xp), x.dtype, copy=False)


def elu(x: Array, /, *, alpha: float = 1.0) -> Array:
    r"""Exponential linear unit: ``x`` where ``x > 0``, else ``alpha (exp(x) - 1)``.

    Matches ``torch.nn.functional.elu`` (Clevert et al., 2016).

    Parameters
    ----------
    x : array (...), real floating
    alpha : float
        The value approached as ``x -> -inf`` is ``-alpha``.

    Returns
    -------
    array (...), dtype of `x`.

    Notes
    -----
    .. math::

        y = \begin{cases} x & x > 0 \\ \alpha\,(e^{x} - 1) & \text{otherwise} \end{cases}

    with :math:`e^x - 1` computed by ``expm1`` (accurate near 0).

    References
    ----------
    - Clevert et al. 2016, "Fast and Accurate Deep Network Learning by Exponential Linear Units
      (ELUs)", https://arxiv.org/abs/1511.07289
    - https://pytorch.org/docs/stable/generated/torch.nn.functional.elu.html

    Examples
    --------
    >>> import numpy as np
    >>> elu(np.array([-1000.0, 0.0, 2.0]))
    array([-1.,  0.,  2.])
    """
    xp = floating_namespace(x)
    a = _number(alpha, "alpha")
    # expm1 of min(x, 0): exact near 0, and no overflow in the branch that where() discards.
    negative = a * xp.expm1(xp.clip(_upcast(x, xp=xp), max=0.0))
    return xp.where(x > 0, x, xp.astype(negative, x.dtype, copy=False))


def tanh(x: Array, /) -> Array:
    """Hyperbolic tangent; matches ``torch.tanh`` (here for completeness of the family).

    Parameters
    ----------
    x : array (...), real floating

    Returns
    -------
    array (...), dtype of `x`, in [-1, 1].

    References
    ----------
    - https://pytorch.org/docs/stable/generated/torch.tanh.html

    Examples
    --------
    >>> import numpy as np
    >>> tanh(np.array([-1000.0, 0.0])).tolist()
    [-1.0, 0.0]
    """
    xp = floating_namespace(x)
    return xp.tanh(x)


def softplus(x: Array, /, *, beta: float = 1.0, threshold: float = 20.0) -> Array:
    r"""``log(1 + exp(beta x)) / beta``, linear above the threshold; matches ``F.softplus``.

    Parameters
    ----------
    x : array (...), real floating
    beta : float
        Sharpness, > 0.
    threshold : float
        Where ``beta * x > threshold`` the result is ``x`` itself, exactly as torch (the
        error is below ``exp(-threshold) / beta``).

    Returns
    -------
    array (...), dtype of `x`.

    Notes
    -----
    With :math:`t` the `threshold`:

    .. math::

        y = \begin{cases} \frac{1}{\beta} \log\left(1 + e^{\beta x}\right) & \beta x \le t \\
            x & \beta x > t \end{cases}

    Torch's semantics; ``jax.nn.softplus`` is ``logaddexp(x, 0)`` with no threshold, which
    differs from this by at most ``exp(-threshold) / beta`` (2e-9 for the defaults).

    References
    ----------
    - https://pytorch.org/docs/stable/generated/torch.nn.functional.softplus.html

    Examples
    --------
    >>> import numpy as np
    >>> softplus(np.array([-1000.0, 0.0, 30.0])).round(4)
    array([ 0.    ,  0.6931, 30.    ])
    """
    xp = floating_namespace(x)
    b = check_in_range(beta, "beta", 0.0, float("inf"), closed=(False, False))
    t = _number(threshold, "threshold")
    # torch's test is beta * x > threshold; clipping x first keeps beta * x finite (the
    # linear branch or a 0 is taken there anyway), and exp sees at most the threshold.
    z = _upcast(x, xp=xp)
    limit = float(xp.finfo(z.dtype).max) / max(b, 1.0)
    bz = b * xp.clip(z, min=-limit, max=limit)
    soft = xp.log1p(xp.exp(xp.clip(bz, max=t))) / b
    return xp.where(bz > t, x, xp.astype(soft, x.dtype, copy=False))
