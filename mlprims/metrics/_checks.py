"""The checks and the vocabulary the ranking metrics share: labels, scores, the result dtype.

Shapes and dtypes are checked always; values (NaN scores, a third label, negative gains) only
on eager arrays (:func:`mlprims._array.concrete_any`), where a bad value would otherwise be a
silent wrong number. Under ``jax.jit`` the metric documents what it returns instead (NaN).
"""

from __future__ import annotations

from array_api_compat import device as device_of

from .._array import (
    Array,
    Namespace,
    check_dtype,
    check_int,
    concrete_any,
    shape_str,
)

__all__ = [
    "REAL",
    "check_k",
    "check_matrix_pair",
    "check_no_nan",
    "check_vector",
    "float_dtype",
    "positive_labels",
]

#: The dtypes of labels and scores: bool, integers and real floats.
REAL = ("bool", "integral", "real floating")


def check_vector(x: Array, name: str, n: int | None, *, xp: Namespace) -> int:
    """ValueError unless `x` is 1-d (N,) with N >= 1 (N = `n` when given); returns N."""
    check_dtype(x, name, REAL, xp=xp)
    expected = "(N,)" if n is None else f"(N,) = ({n},), one per row of `y_true`"
    if x.ndim != 1 or (n is not None and x.shape[0] != n):
        msg = f"`{name}` must have shape {expected}, got {shape_str(x.shape)}"
        raise ValueError(msg)
    if x.shape[0] == 0:
        msg = f"`{name}` must have at least one row, got {shape_str(x.shape)}"
        raise ValueError(msg)
    return int(x.shape[0])


def check_matrix_pair(y_true: Array, y_score: Array, *, xp: Namespace) -> tuple[int, int]:
    """(B, L): `y_true` and `y_score` of one 2-d shape, B queries (rows) of L items, L >= 2."""
    check_dtype(y_true, "y_true", REAL, xp=xp)
    check_dtype(y_score, "y_score", REAL[1:], xp=xp)
    if y_true.ndim != 2:
        msg = f"`y_true` must have shape (B, L): B rows of L items, got {shape_str(y_true.shape)}"
        raise ValueError(msg)
    if tuple(y_score.shape) != tuple(y_true.shape):
        msg = (
            f"`y_score` must have the shape of `y_true` (B, L) = {shape_str(y_true.shape)}, "
            f"got {shape_str(y_score.shape)}"
        )
        raise ValueError(msg)
    b, length = y_true.shape
    if length < 2:
        msg = (
            f"`y_true` must have L >= 2 items per row (as scikit-learn's ndcg_score), got "
            f"{shape_str(y_true.shape)}"
        )
        raise ValueError(msg)
    return int(b), int(length)


def check_k(k: object, length: int) -> int:
    """`k` as an int >= 1, capped at L (a cut below the last rank changes nothing)."""
    return min(check_int(k, "k", minimum=1), length)


def check_no_nan(y_score: Array, *, xp: Namespace) -> Array:
    """ValueError if eager `y_score` holds NaN (scikit-learn refuses it too); the NaN mask's
    ``any`` is returned, for the metric to turn into NaN under ``jax.jit``."""
    nan = xp.isnan(y_score) if xp.isdtype(y_score.dtype, "real floating") else None
    if nan is None:
        return xp.zeros((), dtype=xp.bool, device=device_of(y_score))
    if concrete_any(nan, xp=xp):
        msg = f"`y_score` must hold no NaN, got {int(xp.sum(xp.astype(nan, xp.int32)))}"
        raise ValueError(msg)
    return xp.any(nan)


def positive_labels(y_true: Array, *, xp: Namespace) -> Array:
    """The positive rows, ``y_true == max(y_true)``: the greater of the two labels, as
    scikit-learn's binary ``roc_auc_score`` (1 of 0/1, 1 of -1/1, True of bool).

    ValueError on eager labels of more than two values (scikit-learn takes those as multiclass).
    """
    if xp.isdtype(y_true.dtype, "bool"):
        return y_true  # True is the greater label
    low, high = xp.min(y_true), xp.max(y_true)
    third = (y_true != low) & (y_true != high)
    if concrete_any(third, xp=xp):
        at = int(xp.argmax(xp.astype(third, xp.int32)))
        msg = (
            "`y_true` must hold binary labels (two values), got a third one between "
            f"{float(low):g} and {float(high):g}: {float(y_true[at]):g} at position {at}"
        )
        raise ValueError(msg)
    return y_true == high


def float_dtype(*arrays: Array | None, xp: Namespace) -> object:
    """The floating dtype a metric computes in: that of its floating arrays (promoted), else
    the backend's default floating dtype (float64 for integer scores on NumPy)."""
    floating = [a.dtype for a in arrays if a is not None and xp.isdtype(a.dtype, "real floating")]
    if floating:
        return xp.result_type(*floating)
    return xp.__array_namespace_info__().default_dtypes()["real floating"]
