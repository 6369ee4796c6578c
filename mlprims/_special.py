"""Special functions the array API standard lacks (erf, sigmoid, ...), written portably in its
terms.

Private: primitives import what they need from here.
"""

from __future__ import annotations

from ._array import Array, check_array, check_floating, namespace, statistics_dtype

__all__: list[str] = ["erf", "erfinv", "sigmoid"]

# W. J. Cody, "Rational Chebyshev approximations for the error function", Math. Comp. 23 (1969)
# 631-638; the coefficient sets of his SPECFUN routine CALERF (netlib.org/specfun/erf), the
# same ones SciPy and many libms use. Each set is listed in CALERF's order. CALERF's third set
# (P, Q: erfc for |x| > 4) is not needed for erf: see the Notes of erf.
_A = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02,
      3.20937758913846947e03, 1.85777706184603153e-1)  # fmt: skip
_B = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03,
      2.84423683343917062e03)  # fmt: skip
_C = (5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01,
      2.98635138197400131e02, 8.81952221241769090e02, 1.71204761263407058e03,
      2.05107837782607147e03, 1.23033935479799725e03, 2.15311535474403846e-8)  # fmt: skip
_D = (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02,
      1.62138957456669019e03, 3.29079923573345963e03, 4.36261909014324716e03,
      3.43936767414372164e03, 1.23033935480374942e03)  # fmt: skip
_SMALL = 0.46875  # below: erf itself; above: erfc, then erf = 1 - erfc
_CLIP = 6.0  # erfc(6) = 2e-17 < eps(1.0) / 2: erf is exactly +-1 beyond in float64 and below


def erf(x: Array, /) -> Array:
    """The error function ``erf(x) = 2/sqrt(pi) * integral_0^x exp(-t^2) dt``, elementwise.

    Parameters
    ----------
    x : array of a real floating dtype, any shape

    Returns
    -------
    array, same shape and dtype as `x`

    Notes
    -----
    W. J. Cody's rational Chebyshev approximations (Math. Comp. 23, 1969; SPECFUN ``CALERF``),
    evaluated on both intervals and combined with ``where`` so that it runs under ``jax.jit``:

    * ``|x| <= 0.46875``: ``erf(x) = x R1(x^2)``;
    * ``0.46875 < |x|``: ``erf(y) = 1 - erfc(y)`` with ``erfc(y) = exp(-y^2) R2(y)``.

    ``|x|`` is clipped at 6 first: ``erfc(6) = 2e-17`` is below half an ulp of 1.0, so erf is
    exactly +-1 beyond in float64 (and float32), and every intermediate stays finite: no
    overflow warnings, ``erf(+-inf) = +-1``, NaN stays NaN. Cody fits ``R2`` on (0.47, 4] and
    adds a third rational for ``|x| > 4`` and a split of ``exp(-y^2)``; both serve the
    *relative* accuracy of erfc, tiny there. For erf they change nothing: ``R2`` extended to 6
    is still within 7e-13 of erfc relatively (1e-29 absolutely), and the rounding of ``y^2``
    costs at most ``eps y^2 erfc(y)`` < 3e-17. Dropping them halves the work, which counts in
    eager NumPy (each elementwise operation is one pass over memory).
    Float64 agrees with ``math.erf`` to about 1e-16 absolute; float32 to float32 rounding.
    16-bit floats are evaluated in float32 and cast back (the polynomials overflow float16).

    Examples
    --------
    >>> import numpy as np
    >>> from mlprims._special import erf
    >>> erf(np.array([0.0, 0.5, -3.0])).round(6)
    array([ 0.      ,  0.5205  , -0.999978])
    """
    check_array(x, "x")
    xp = namespace(x)
    check_floating(x, "x", xp=xp)
    dtype = x.dtype
    z = xp.astype(x, statistics_dtype(dtype, xp=xp), copy=False)
    y = xp.clip(xp.abs(z), max=_CLIP)

    # |x| <= 0.46875: erf(y) = y * P(y^2) / Q(y^2)
    t = y * y
    num, den = _A[4] * t, t
    for a, b in zip(_A[:3], _B[:3], strict=True):
        num, den = (num + a) * t, (den + b) * t
    small = y * (num + _A[3]) / (den + _B[3])

    # 0.46875 < |x| <= 6: erfc(y) = exp(-y^2) * P(y) / Q(y)
    num, den = _C[8] * y, y
    for c, d in zip(_C[:7], _D[:7], strict=True):
        num, den = (num + c) * y, (den + d) * y
    erfc = xp.exp(-t) * (num + _C[7]) / (den + _D[7])

    result = xp.where(y <= _SMALL, small, 1.0 - erfc)
    return xp.astype(xp.copysign(result, z), dtype, copy=False)


#: Giles (2010) single-precision coefficients, highest degree first, for w < 5 and w >= 5.
_ERFINV32_CENTRAL = (
    2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
    -0.00125372503, -0.00417768164, 0.246640727, 1.50140941,
)  # fmt: skip
_ERFINV32_TAIL = (
    -0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
    -0.0076224613, 0.00943887047, 1.00167406, 2.83297682,
)  # fmt: skip
#: Giles (2010) double-precision coefficients for w < 6.25, w < 16 and w >= 16.
_ERFINV64_CENTRAL = (
    -3.6444120640178196996e-21, -1.685059138182016589e-19, 1.2858480715256400167e-18,
    1.115787767802518096e-17, -1.333171662854620906e-16, 2.0972767875968561637e-17,
    6.6376381343583238325e-15, -4.0545662729752068639e-14, -8.1519341976054721522e-14,
    2.6335093153082322977e-12, -1.2975133253453532498e-11, -5.4154120542946279317e-11,
    1.051212273321532285e-09, -4.1126339803469836976e-09, -2.9070369957882005086e-08,
    4.2347877827932403518e-07, -1.3654692000834678645e-06, -1.3882523362786468719e-05,
    0.0001867342080340571352, -0.00074070253416626697512, -0.0060336708714301490533,
    0.24015818242558961693, 1.6536545626831027356,
)  # fmt: skip
_ERFINV64_MIDDLE = (
    2.2137376921775787049e-09, 9.0756561938885390979e-08, -2.7517406297064545428e-07,
    1.8239629214389227755e-08, 1.5027403968909827627e-06, -4.013867526981545969e-06,
    2.9234449089955446044e-06, 1.2475304481671778723e-05, -4.7318229009055733981e-05,
    6.8284851459573175448e-05, 2.4031110387097893999e-05, -0.0003550375203628474796,
    0.00095328937973738049703, -0.0016882755560235047313, 0.0024914420961078508066,
    -0.0037512085075692412107, 0.005370914553590063617, 1.0052589676941592334,
    3.0838856104922207635,
)  # fmt: skip
_ERFINV64_TAIL = (
    -2.7109920616438573243e-11, -2.5556418169965252055e-10, 1.5076572693500548083e-09,
    -3.7894654401267369937e-09, 7.6157012080783393804e-09, -1.4960026627149240478e-08,
    2.9147953450901080826e-08, -6.7711997758452339498e-08, 2.2900482228026654717e-07,
    -9.9298272942317002539e-07, 4.5260625972231537039e-06, -1.9681778105531670567e-05,
    7.5995277030017761139e-05, -0.00021503011930044477347, -0.00013871931833623122026,
    1.0103004648645343977, 4.8499064014085844221,
)  # fmt: skip


def _horner(coefficients: tuple[float, ...], w: Array) -> Array:
    """``c[0] * w**(n-1) + ... + c[n-1]`` by Horner's rule, in the dtype of `w`.

    Python float coefficients are rounded to the dtype of `w` first (weak scalars), exactly
    as XLA's ``FullLike(x, c)`` constants are.
    """
    p = coefficients[0] * w + coefficients[1]
    for c in coefficients[2:]:
        p = p * w + c
    return p


def erfinv(x: Array, /) -> Array:
    """The inverse error function, elementwise: ``erf(erfinv(x)) == x`` on (-1, 1).

    Parameters
    ----------
    x : array, real floating dtype, any shape
        Values in [-1, 1].

    Returns
    -------
    array, the dtype and shape of `x`
        ``erfinv(x)``; +-inf at +-1 and NaN outside [-1, 1].

    Notes
    -----
    Giles, "Approximating the erfinv function" (GPU Computing Gems, 2011): with
    ``w = -log1p(-x**2)``, ``erfinv(x) = x * p(w)`` for a polynomial ``p`` in ``w - 2.5``
    (``w < 5``) or ``sqrt(w) - 3`` (``w >= 5``) in single precision, and in ``w - 3.125``,
    ``sqrt(w) - 3.25``, ``sqrt(w) - 5`` (``w < 6.25``, ``< 16``, ``>= 16``) in double
    precision. This is the evaluation XLA uses for ``jax.lax.erf_inv`` (``ErfInv32`` and
    ``ErfInv64`` in ``xla/hlo/builder/lib/math.cc``): the same coefficients, the same Horner
    order; float16/bfloat16 are computed in float32 and rounded, as XLA does. Relative error
    about 4e-7 in float32 and 1e-15 in float64 (against ``scipy.special.erfinv``).

    Examples
    --------
    >>> import numpy as np
    >>> from mlprims._special import erfinv
    >>> erfinv(np.array([0.0, 0.5, -0.5])).round(6).tolist()
    [0.0, 0.476936, -0.476936]
    """
    check_array(x, "x")
    xp = namespace(x)
    check_floating(x, "x", xp=xp)
    if xp.finfo(x.dtype).bits < 32:  # float16 / bfloat16: computed in float32, like XLA
        return xp.astype(erfinv(xp.astype(x, xp.float32)), x.dtype)
    inside = xp.abs(x) < 1.0
    safe = xp.where(inside, x, 0.0)  # keeps log1p away from -1 and below: no warnings
    w = -xp.log1p(-safe * safe)
    if xp.finfo(x.dtype).bits == 64:
        central, middle = w < 6.25, w < 16.0
        root = xp.sqrt(w)
        t = xp.where(central, w - 3.125, xp.where(middle, root - 3.25, root - 5.0))
        p = xp.where(
            central,
            _horner(_ERFINV64_CENTRAL, t),
            xp.where(middle, _horner(_ERFINV64_MIDDLE, t), _horner(_ERFINV64_TAIL, t)),
        )
    else:
        central = w < 5.0
        t = xp.where(central, w - 2.5, xp.sqrt(w) - 3.0)
        p = xp.where(central, _horner(_ERFINV32_CENTRAL, t), _horner(_ERFINV32_TAIL, t))
    inf = xp.full_like(x, float("inf"))
    edge = xp.where(x == 1.0, inf, xp.where(x == -1.0, -inf, xp.full_like(x, float("nan"))))
    return xp.where(inside, p * safe, edge)


def sigmoid(x: Array, /) -> Array:
    """The logistic function ``1 / (1 + exp(-x))`` as ``0.5 * tanh(0.5 * x) + 0.5``.

    The tanh form never overflows (``exp(-x)`` does below -89 in float32, with a warning in
    NumPy) and is within one rounding of the exact value in absolute terms.

    Examples
    --------
    >>> import numpy as np
    >>> from mlprims._special import sigmoid
    >>> sigmoid(np.array([-1000.0, 0.0, 1000.0])).tolist()
    [0.0, 0.5, 1.0]
    """
    xp = namespace(x, names=("x",))
    check_floating(x, "x", xp=xp)
    return 0.5 * xp.tanh(0.5 * x) + 0.5
