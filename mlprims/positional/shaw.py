"""Relative position representations of Shaw, Uszkoreit and Vaswani (2018).

Key ``j`` is described relative to query ``i`` by the distance ``j - i`` (key minus query, the
convention of Shaw et al. and of T5's ``memory_position - context_position``; see also
:mod:`mlprims.positional.bias` for T5 and ALiBi). Queries and keys line up like ``is_causal`` in
:func:`mlprims.scaled_dot_product_attention`: ``causal_align="top_left"`` puts query ``i`` at
position ``i``; ``"bottom_right"`` puts it at ``i + S - T``, so that the last query sits at the
last key (decoding with a KV cache).

Shape legend: ``N`` heads, ``T`` query length, ``S`` key length, ``H`` head dimension,
``K`` the maximum relative distance, ``R = 2K + 1`` rows of the tables.
"""

from __future__ import annotations

import math
from typing import Any

import array_api_extra as xpx
from array_api_compat import device as array_device

from .. import random
from .._array import (
    Array,
    broadcast_shapes,
    check_broadcasts_to,
    check_floating,
    check_int,
    check_number,
    create_namespace,
    namespace,
    shape_str,
    statistics_dtype,
)
from ..attention import scaled_dot_product_attention
from ._common import relative_distances

__all__: list[str] = [
    "init_relative_position_tables",
    "relative_attention",
    "relative_position_index",
]

# --- Shaw et al. (2018) -------------------------------------------------------------------------


def relative_position_index(
    length_q: int,
    length_k: int,
    max_relative_position: int,
    *,
    causal_align: str = "top_left",
    backend: Any = None,
    device: Any = None,
) -> Array:
    """Rows of the Shaw et al. tables for each (query, key) pair: ``clip(j - i, -K, K) + K``.

    Parameters
    ----------
    length_q : int
        T, the number of queries.
    length_k : int
        S, the number of keys.
    max_relative_position : int
        K >= 0: distances are clipped to ``[-K, K]``.
    causal_align : {"top_left", "bottom_right"}
        Query i sits at position i (``"top_left"``) or i + S - T (``"bottom_right"``).
    backend : str or Backend, optional
        Where to create the array; default the default backend (:func:`mlprims.use`).
    device : device, optional
        The device of the array; default the backend's.

    Returns
    -------
    array of the backend's index dtype, shape ``(T, S)``, values in ``[0, 2K]``
        Row ``K`` is distance 0; rows ``0`` and ``2K`` collect every distance ``<= -K`` and
        ``>= K`` (Shaw et al., section 3.2; tensor2tensor's
        ``_generate_relative_positions_matrix``).

    References
    ----------
    - Shaw et al. 2018, "Self-Attention with Relative Position Representations",
      https://arxiv.org/abs/1803.02155

    Examples
    --------
    >>> import mlprims
    >>> mlprims.relative_position_index(3, 3, 1).tolist()
    [[1, 2, 2], [0, 1, 2], [0, 0, 1]]
    """
    max_relative_position = check_int(max_relative_position, "max_relative_position", minimum=0)
    xp = create_namespace(backend)
    distance = relative_distances(length_q, length_k, causal_align, xp=xp, device=device)
    k = max_relative_position
    return xp.clip(distance, -k, k) + k


def init_relative_position_tables(
    key: Array,
    max_relative_position: int,
    head_dim: int,
    *,
    value_dim: int | None = None,
    dtype: Any = "float32",
) -> tuple[Array, Array]:
    """The two learned tables of Shaw et al., ``(table_k, table_v)``, shapes ``(2K+1, H)``.

    Drawn from Glorot-uniform ``U(-a, a)``, ``a = sqrt(6 / (2K + 1 + H))``: what tensor2tensor's
    ``tf.get_variable`` gives the tables of ``_generate_relative_positions_embeddings``.

    Parameters
    ----------
    key : mlprims.random key
        Split once, one half per table; the same key gives the same tables on every backend
        (the backend of the key is the backend of the tables).
    max_relative_position : int
        K >= 0: the tables have 2K + 1 rows.
    head_dim : int
        H, the width of ``table_k``.
    value_dim : int, optional
        Hv, the width of ``table_v`` (default `head_dim`).
    dtype : str or dtype
        Floating dtype of the tables (default float32).

    Returns
    -------
    table_k : array, shape ``(2K+1, H)``
        ``a^K``, for :func:`relative_attention`.
    table_v : array, shape ``(2K+1, Hv)``
        ``a^V``.

    References
    ----------
    - Shaw et al. 2018, "Self-Attention with Relative Position Representations",
      https://arxiv.org/abs/1803.02155

    Examples
    --------
    >>> import mlprims
    >>> table_k, table_v = mlprims.init_relative_position_tables(mlprims.random.key(0), 4, 8)
    >>> table_k.shape, table_v.shape
    ((9, 8), (9, 8))
    """
    max_relative_position = check_int(max_relative_position, "max_relative_position", minimum=0)
    head_dim = check_int(head_dim, "head_dim", minimum=1)
    value_dim = head_dim if value_dim is None else check_int(value_dim, "value_dim", minimum=1)
    rows = 2 * max_relative_position + 1
    keys = random.split(key)  # (2, 2): one key per table
    tables = []
    for sub, width in ((keys[0, ...], head_dim), (keys[1, ...], value_dim)):
        limit = math.sqrt(6.0 / (rows + width))
        tables.append(random.uniform(sub, (rows, width), dtype=dtype, minval=-limit, maxval=limit))
    return tables[0], tables[1]


def relative_attention(
    q: Array,
    k: Array,
    v: Array,
    table_k: Array,
    table_v: Array,
    /,
    *,
    max_relative_position: int,
    mask: Array | None = None,
    is_causal: bool = False,
    causal_align: str = "top_left",
    scale: float | None = None,
) -> Array:
    r"""Self-attention with relative position representations (Shaw, Uszkoreit, Vaswani 2018).

    Parameters
    ----------
    q : array, shape ``(..., T, H)``
        Queries.
    k : array, shape ``(..., S, H)``
        Keys, in the dtype of `q`.
    v : array, shape ``(..., S, Hv)``
        Values. The leading axes of `q`, `k` and `v` (batch, heads) broadcast as in ``matmul``.
    table_k : array, shape ``(2K+1, H)``
        ``a^K``: one vector per clipped distance, added to the keys.
    table_v : array, shape ``(2K+1, Hv)``
        ``a^V``: one vector per clipped distance, added to the values.
    max_relative_position : int
        ``K``: distances are clipped to ``[-K, K]`` (see :func:`relative_position_index`).
    mask : boolean array, optional
        Broadcastable to ``(..., T, S)``; True means "may attend" (torch SDPA convention).
    is_causal : bool
        Also forbid keys after the query (aligned by `causal_align`).
    causal_align : {"top_left", "bottom_right"}
        Where queries sit among keys, for distances and the causal mask alike.
    scale : float, optional
        Multiplies the scores, both terms; default ``1/sqrt(H)``.

    Returns
    -------
    array, shape ``(..., T, Hv)``
        In the dtype of `q`.

    Notes
    -----
    With ``r(i, j) = clip(j - i, -K, K) + K``, equations (3)-(5) of the paper::

        e_ij = scale · q_i · (k_j + a^K[r(i, j)])
        w_ij = softmax_j(e_ij)                      (over the allowed keys)
        out_i = Σ_j w_ij (v_j + a^V[r(i, j)])

    that is, with :math:`A_i` the keys query :math:`i` may attend, :math:`s` the `scale`, and
    :math:`i` read as :math:`i + S - T` with ``causal_align="bottom_right"``:

    .. math::

        e_{ij} = s\, q_i \cdot \bigl(k_j + a^K_{r(i, j)}\bigr), \qquad
        r(i, j) = \operatorname{clip}(j - i, -K, K) + K

    .. math::

        \text{out}_i = \sum_{j \in A_i} w_{ij} \bigl(v_j + a^V_{r(i, j)}\bigr), \qquad
        w_{ij} = \frac{\exp e_{ij}}{\sum_{l \in A_i} \exp e_{il}}

    This is :func:`~mlprims.scaled_dot_product_attention` with the key term
    ``scale · q_i · a^K[r(i, j)]`` as its `bias`, plus the value term ``Σ_j w_ij a^V[r(i, j)]``
    from its weights. Neither term materialises a ``(T, S, H)`` tensor: ``q · a^K`` is
    ``(..., T, 2K+1)``, then gathered per ``(i, j)``; the weights are summed per distance
    bucket first (a one-hot ``(T, S, 2K+1)`` product). Memory therefore grows with ``T · S``
    per batch and head, plus ``T · S · (2K+1)`` once: like unblocked attention, not for very
    long sequences. A query whose keys are all masked gets weights 0 and output 0, never NaN
    (like torch SDPA). float16/bfloat16 inputs are computed in float32 and the result cast
    back. With zero tables this is plain scaled dot-product attention.

    References
    ----------
    - Shaw et al. 2018, "Self-Attention with Relative Position Representations",
      https://arxiv.org/abs/1803.02155

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> q = k = v = np.ones((2, 4))
    >>> tk = tv = np.zeros((3, 4))
    >>> mlprims.relative_attention(q, k, v, tk, tv, max_relative_position=1).tolist()
    [[1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0]]
    """
    xp = namespace(
        q, k, v, table_k, table_v, mask, names=("q", "k", "v", "table_k", "table_v", "mask")
    )
    for name, a in (("q", q), ("k", k), ("v", v), ("table_k", table_k), ("table_v", table_v)):
        check_floating(a, name, xp=xp)
        if a.dtype != q.dtype:
            msg = f"`{name}` must have the dtype of `q` ({q.dtype}), got {a.dtype}"
            raise TypeError(msg)
    max_relative_position = check_int(max_relative_position, "max_relative_position", minimum=0)
    rows = 2 * max_relative_position + 1
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2:
        msg = (
            "`q`, `k` and `v` must have shapes (..., T, H), (..., S, H) and (..., S, Hv), "
            f"got {shape_str(q.shape)}, {shape_str(k.shape)} and {shape_str(v.shape)}"
        )
        raise ValueError(msg)
    head_dim, length_q, length_k = q.shape[-1], q.shape[-2], k.shape[-2]
    if head_dim == 0:
        msg = f"`q` must have a head dim H >= 1 (last axis), got shape {shape_str(q.shape)}"
        raise ValueError(msg)
    if k.shape[-1] != head_dim or v.shape[-2] != length_k:
        msg = (
            "`k` must have shape (..., S, H) with H = q.shape[-1] and `v` (..., S, Hv); got "
            f"q {shape_str(q.shape)}, k {shape_str(k.shape)}, v {shape_str(v.shape)}"
        )
        raise ValueError(msg)
    lead = broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2], names=("q", "k", "v"))
    for name, table, width in (("table_k", table_k, head_dim), ("table_v", table_v, v.shape[-1])):
        if tuple(table.shape) != (rows, width):
            msg = (
                f"`{name}` must have shape (2K+1, {'H' if name == 'table_k' else 'Hv'}) = "
                f"{shape_str((rows, width))} for max_relative_position={max_relative_position}, "
                f"got {shape_str(table.shape)}"
            )
            raise ValueError(msg)
    scale = 1.0 / math.sqrt(head_dim) if scale is None else check_number(scale, "scale")
    if mask is not None:
        if mask.dtype != xp.bool:
            msg = f"`mask` must be a boolean array (True = attend), got dtype {mask.dtype}"
            raise TypeError(msg)
        check_broadcasts_to(
            mask.shape, (*lead, length_q, length_k), "mask", target_name="(..., T, S)"
        )

    distance = relative_distances(length_q, length_k, causal_align, xp=xp, device=array_device(q))
    index = xp.clip(distance, -max_relative_position, max_relative_position) + max_relative_position

    # 16-bit inputs are computed in float32 throughout, like scaled_dot_product_attention
    out_dtype, work = q.dtype, statistics_dtype(q.dtype, xp=xp)
    q, k, v, table_k, table_v = (xp.astype(a, work) for a in (q, k, v, table_k, table_v))
    # matmul's broadcasting of the leading axes; sdpa would read axis -3 as heads (GQA)
    k = xp.broadcast_to(k, (*lead, length_k, head_dim))  # (..., S, H)
    v = xp.broadcast_to(v, (*lead, length_k, v.shape[-1]))  # (..., S, Hv)

    # Key term: scale · q_i · a^K[r(i, j)], a bias on the scores scale · q_i · k_j
    q_table = xp.matmul(q, xp.matrix_transpose(table_k))  # (..., T, R): q_i · a^K[r]
    gather = xp.broadcast_to(index, (*q_table.shape[:-1], length_k))  # (..., T, S)
    bias = xp.take_along_axis(q_table, gather, axis=-1) * scale  # (..., T, S)
    out, weights = scaled_dot_product_attention(
        q,
        k,
        v,
        mask=mask,
        bias=bias,
        is_causal=is_causal,
        causal_align=causal_align,
        scale=scale,
        return_weights=True,
        block_size=None,
    )  # (..., T, Hv), (..., T, S); a masked-out row is 0

    # Value term: Σ_j w_ij a^V[r(i, j)], the weights summed per distance bucket r first
    bucket = xpx.one_hot(index, rows, dtype=work, xp=xp)  # (T, S, R)
    per_distance = xp.matmul(weights[..., None, :], bucket)[..., 0, :]  # (..., T, R)
    out = out + xp.matmul(per_distance, table_v)  # (..., T, Hv)
    return xp.astype(out, out_dtype)
