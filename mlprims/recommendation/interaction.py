"""The factorization machine's second-order term, in O(F K) instead of O(F^2 K).

Shape legend: ``...`` leading axes (B, the batch), F fields, K the embedding width. ``v`` holds
one embedding per field (the field's feature vector times its value, as a factorization machine
or DeepFM feeds them).
"""

from __future__ import annotations

from .._array import Array, floating_namespace, shape_str, statistics_dtype

__all__ = ["fm_interaction"]


def fm_interaction(v: Array, /) -> Array:
    r"""The pairwise interactions of a factorization machine, ``sum_{i<j} <v_i, v_j>``.

    Parameters
    ----------
    v : array (..., F, K), real floating
        F field embeddings of width K per example.

    Returns
    -------
    array (...)
        One value per example, in the dtype of `v`.

    Raises
    ------
    ValueError
        `v` with fewer than 2 axes.
    TypeError
        `v` not a real floating array.

    Notes
    -----
    Rendle's identity (Rendle 2010, "Factorization Machines", lemma 3.1):

    .. math::

        \sum_{i=1}^{F} \sum_{j=i+1}^{F} \langle v_i, v_j \rangle
        = \frac12 \sum_{k=1}^{K} \left( \Big(\sum_{f=1}^{F} v_{f,k}\Big)^2
        - \sum_{f=1}^{F} v_{f,k}^2 \right)

    each unordered pair of fields once (the sum over ordered pairs is twice this), the
    square of the sum taking every pair and the sum of squares taking the diagonal out:
    O(F K) work instead of the O(F^2 K) pairwise sum, as the FM component of DeepFM (Guo et
    al. 2017) computes it. Float16 and bfloat16 inputs are summed in float32 (the difference
    of two squares cancels) and cast back.

    References
    ----------
    - Rendle 2010, "Factorization Machines", https://doi.org/10.1109/ICDM.2010.127

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> v = np.array([[[1.0, 2.0], [3.0, 0.5], [-1.0, 1.0]]])  # B = 1, F = 3, K = 2
    >>> mlprims.fm_interaction(v).tolist()  # <v0,v1> + <v0,v2> + <v1,v2> = 4 + 1 - 2.5
    [2.5]
    """
    xp = floating_namespace(v, "v")
    if v.ndim < 2:
        msg = f"`v` must have shape (..., F, K): F embeddings of width K, got {shape_str(v.shape)}"
        raise ValueError(msg)
    x = xp.astype(v, statistics_dtype(v.dtype, xp=xp), copy=False)
    total = xp.sum(x, axis=-2)  # (..., K) the sum over fields
    squares = xp.sum(x * x, axis=-2)  # (..., K)
    return xp.astype(0.5 * xp.sum(total * total - squares, axis=-1), v.dtype, copy=False)
