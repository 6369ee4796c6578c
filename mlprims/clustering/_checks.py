"""Argument checks shared by the k-means functions (shapes and Python values; array values only
on eager arrays, see :func:`mlprims._array.concrete_any`)."""

from __future__ import annotations

from typing import Any

from .._array import (
    Array,
    Namespace,
    check_array,
    check_int,
    concrete_any,
    floating_namespace,
    shape_str,
)

__all__ = ["check_centers", "check_data", "check_key", "check_sample_weight"]


def check_data(x: Any, n_clusters: Any) -> Namespace:
    """The namespace of `x` after checking it: 2-d, real floating, finite (when eager), and
    `n_clusters` in ``[1, n_samples]`` (unless None)."""
    xp = floating_namespace(x, "x")
    if x.ndim != 2:
        msg = f"`x` must be 2-d (n_samples, n_features), got shape {shape_str(x.shape)}"
        raise ValueError(msg)
    if n_clusters is None:  # kmeans_step, kmeans_predict: the centres give k
        pass
    elif check_int(n_clusters, "n_clusters", minimum=1) > x.shape[0]:
        msg = f"`n_clusters` must be <= n_samples = {x.shape[0]}, got {n_clusters}"
        raise ValueError(msg)
    if concrete_any(~xp.isfinite(x), xp=xp):
        msg = "`x` must be finite, got NaN or infinity"
        raise ValueError(msg)
    return xp


def check_sample_weight(sample_weight: Any, x: Array, *, xp: Namespace) -> Array:
    """`sample_weight` as an array of `x`'s dtype, shape (n_samples,), non-negative (checked
    when eager); all ones when None."""
    n = int(x.shape[0])
    if sample_weight is None:
        return xp.ones_like(x[:, 0])  # chunked as `x`'s rows on Dask
    check_array(sample_weight, "sample_weight")
    if tuple(sample_weight.shape) != (n,):
        msg = (
            f"`sample_weight` must have shape (n_samples,) = ({n},), "
            f"got {shape_str(sample_weight.shape)}"
        )
        raise ValueError(msg)
    weights = xp.astype(xp.asarray(sample_weight), x.dtype)
    if concrete_any((weights < 0) | ~xp.isfinite(weights), xp=xp):
        msg = "`sample_weight` must be finite and >= 0, got a negative or non-finite weight"
        raise ValueError(msg)
    return weights


def check_centers(
    centers: Any, x: Array, n_clusters: int | None, *, name: str, xp: Namespace
) -> Array:
    """`centers` as an array of `x`'s dtype after checking its shape ``(k, n_features)``."""
    check_array(centers, name)
    k = n_clusters if n_clusters is not None else (centers.shape[0] if centers.ndim else 0)
    expected = (k, int(x.shape[1]))
    if tuple(centers.shape) != expected or (n_clusters is None and k < 1):
        msg = (
            f"`{name}` must have shape (n_clusters, n_features) = {shape_str(expected)}, "
            f"got {shape_str(centers.shape)}"
        )
        raise ValueError(msg)
    if not xp.isdtype(centers.dtype, ("real floating", "integral")):
        msg = f"`{name}` must have a real floating dtype, got {centers.dtype}"
        raise TypeError(msg)
    return xp.astype(xp.asarray(centers), x.dtype)


def check_key(key: Any, x: Array, *, xp: Namespace) -> None:
    """TypeError unless `key` is an mlprims.random key (shape (2,)); ValueError when missing."""
    if key is None:
        msg = (
            "`key` is required by init='k-means++' and init='random' "
            "(an mlprims.random.key(seed) of the backend of `x`); got None"
        )
        raise ValueError(msg)
    check_array(key, "key")
    if tuple(key.shape) != (2,):
        msg = f"`key` must be an mlprims.random key of shape (2,), got {shape_str(key.shape)}"
        raise ValueError(msg)
