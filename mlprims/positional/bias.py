"""Position biases added to attention scores: T5's learned buckets and ALiBi's linear penalty.

Both return ``(N, T, S)`` arrays to pass as ``bias=`` to
:func:`mlprims.scaled_dot_product_attention`. Distances are key minus query, ``j - i``, and
queries line up with keys by `causal_align` exactly as in the attention (see
:mod:`mlprims.positional.shaw`).

Shape legend: ``N`` heads, ``T`` query length, ``S`` key length.
"""

from __future__ import annotations

import math
from typing import Any

from array_api_compat import device as array_device

from .._array import (
    Array,
    check_bool,
    check_dtype,
    check_float_dtype,
    check_floating,
    check_int,
    create_namespace,
    namespace,
    shape_str,
)
from ._common import relative_distances

__all__: list[str] = [
    "alibi_bias",
    "alibi_slopes",
    "t5_position_bias",
    "t5_relative_position_bucket",
]


# --- T5 -----------------------------------------------------------------------------------------


def _check_t5_buckets(bidirectional: bool, num_buckets: int, max_distance: int) -> int:
    check_bool(bidirectional, "bidirectional")
    num_buckets = check_int(num_buckets, "num_buckets", minimum=4 if bidirectional else 2)
    max_distance = check_int(max_distance, "max_distance", minimum=1)
    max_exact = (num_buckets // 2 if bidirectional else num_buckets) // 2
    if max_distance <= max_exact:
        msg = (
            f"`max_distance` must exceed the {max_exact} exact buckets (num_buckets="
            f"{num_buckets}, bidirectional={bidirectional}), got {max_distance}"
        )
        raise ValueError(msg)
    return max_exact


def t5_relative_position_bucket(
    relative_position: Array,
    /,
    *,
    bidirectional: bool = True,
    num_buckets: int = 32,
    max_distance: int = 128,
) -> Array:
    r"""T5's bucket of each relative position ``key - query``, in ``[0, num_buckets)``.

    Parameters
    ----------
    relative_position : array of signed integers
        ``memory_position - context_position``, i.e. key minus query (negative: the key is
        in the past).
    bidirectional : bool
        True for the encoder (half the buckets for keys after the query), False for the
        decoder (every key after the query shares bucket 0 with distance 0).
    num_buckets, max_distance : int
        T5's defaults 32 and 128.

    Returns
    -------
    array, same shape and dtype as `relative_position`

    Notes
    -----
    Exactly Hugging Face ``T5Attention._relative_position_bucket`` (and Mesh TensorFlow's
    ``_relative_position_bucket``): with ``n = num_buckets`` (halved when bidirectional, keys
    after the query then offset by ``n``) and ``d`` the distance looked at (``|rp|``, or
    ``max(-rp, 0)`` when not bidirectional), ``m = n // 2`` exact buckets hold ``d < m``;
    larger ``d`` get ``m + int(log(d / m) / log(max_distance / m) · (n - m))``, capped at
    ``n - 1``. The logarithm is taken in float32 like T5 (bucket borders such as d = 64 land
    where T5's land) and only of ``max(d, m) >= 1``, so there is no ``log(0)``. With
    :math:`r` = `relative_position` and :math:`D` = `max_distance` (the first term only when
    bidirectional):

    .. math::

        \operatorname{bucket}(r) = n\,\mathbb{1}[r > 0] + \begin{cases} d, & d < m \\
            \min\bigl(m + \bigl\lfloor \frac{\log(d / m)}{\log(D / m)}\,(n - m) \bigr\rfloor,
            \ n - 1\bigr), & d \ge m \end{cases}

    References
    ----------
    - Raffel et al. 2020, "Exploring the Limits of Transfer Learning with a Unified Text-to-Text
      Transformer", https://arxiv.org/abs/1910.10683

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> mlprims.t5_relative_position_bucket(np.array([-200, -20, -1, 0, 1, 20])).tolist()
    [15, 10, 1, 0, 17, 26]
    """
    xp = namespace(relative_position, names=("relative_position",))
    check_dtype(
        relative_position, "relative_position", "signed integer", xp=xp, why=" (key - query)"
    )
    max_exact = _check_t5_buckets(bidirectional, num_buckets, max_distance)
    dtype = relative_position.dtype
    n = num_buckets
    if bidirectional:
        n //= 2
        offset = xp.astype(relative_position > 0, dtype) * n  # keys after the query
        d = xp.abs(relative_position)
    else:
        offset = 0
        d = -xp.minimum(relative_position, 0)
    # Only d >= max_exact uses the logarithm: clamp the others so log never sees 0.
    ratio = xp.astype(xp.maximum(d, max_exact), xp.float32) / float(max_exact)
    scaled = xp.log(ratio) / math.log(max_distance / max_exact) * float(n - max_exact)
    large = xp.minimum(max_exact + xp.astype(scaled, dtype), n - 1)
    return xp.astype(offset + xp.where(d < max_exact, d, large), dtype)


def t5_position_bias(
    table: Array,
    /,
    length_q: int,
    length_k: int,
    *,
    bidirectional: bool = True,
    num_buckets: int | None = None,
    max_distance: int = 128,
    causal_align: str = "top_left",
) -> Array:
    r"""T5's learned relative attention bias, shape ``(N, T, S)``: ``table[bucket(j - i), h]``.

    Parameters
    ----------
    table : array, shape ``(num_buckets, N)``
        T5's ``relative_attention_bias.weight`` (an ``nn.Embedding(num_buckets, n_heads)``).
    length_q, length_k : int
        ``T`` and ``S``.
    bidirectional : bool
        As in :func:`t5_relative_position_bucket` (encoder True, decoder False).
    num_buckets : int, optional
        Defaults to ``table.shape[0]``; if given it must equal it.
    max_distance : int
        As in :func:`t5_relative_position_bucket` (T5's default 128).
    causal_align : {"top_left", "bottom_right"}
        ``"bottom_right"`` gives the rows Hugging Face keeps when decoding with a cache
        (``position_bias[:, :, -T:, :]`` of the full ``S x S`` bias).

    Returns
    -------
    array, shape ``(N, T, S)``, dtype of `table`
        Pass it as ``bias=`` to :func:`mlprims.scaled_dot_product_attention` (it broadcasts
        over the batch). T5 does not scale its scores by ``1/sqrt(H)``: use ``scale=1.0`` to
        reproduce T5 itself.

    Notes
    -----
    With :math:`p_i` the position of query :math:`i` among the keys (:math:`i` with
    ``causal_align="top_left"``, :math:`i + S - T` with ``"bottom_right"``):

    .. math::

        B_{hij} = \text{table}_{\operatorname{bucket}(j - p_i),\,h}

    with the bucket of :func:`t5_relative_position_bucket`.

    References
    ----------
    - Raffel et al. 2020, "Exploring the Limits of Transfer Learning with a Unified Text-to-Text
      Transformer", https://arxiv.org/abs/1910.10683

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> table = np.arange(64.0).reshape(32, 2)
    >>> mlprims.t5_position_bias(table, 2, 3).shape
    (2, 2, 3)
    """
    xp = namespace(table)
    check_floating(table, "table", xp=xp)
    if table.ndim != 2:
        msg = f"`table` must have shape (num_buckets, N), got {shape_str(table.shape)}"
        raise ValueError(msg)
    if num_buckets is None:
        num_buckets = table.shape[0]
    elif check_int(num_buckets, "num_buckets") != table.shape[0]:
        msg = f"`num_buckets` = {num_buckets} must equal the rows of `table`, got {table.shape[0]}"
        raise ValueError(msg)
    distance = relative_distances(
        length_q, length_k, causal_align, xp=xp, device=array_device(table)
    )
    buckets = t5_relative_position_bucket(
        distance, bidirectional=bidirectional, num_buckets=num_buckets, max_distance=max_distance
    )
    values = xp.take(table, xp.reshape(buckets, (-1,)), axis=0)  # (T*S, N)
    values = xp.reshape(values, (length_q, length_k, table.shape[1]))  # (T, S, N)
    return xp.permute_dims(values, (2, 0, 1))  # (N, T, S)


# --- ALiBi --------------------------------------------------------------------------------------


def _slopes(n: int) -> list[float]:
    """Press et al.'s slopes: ``2^(-8/n)`` to the powers ``1..n`` when n is a power of two;
    otherwise those of the power of two below, then every other slope of twice that size."""
    if n & (n - 1) == 0:
        start = 2.0 ** (-8.0 / n)
        return [start ** (i + 1) for i in range(n)]
    below = 1 << (n.bit_length() - 1)
    return _slopes(below) + _slopes(2 * below)[0::2][: n - below]


def alibi_slopes(
    num_heads: int, *, dtype: Any = "float32", backend: Any = None, device: Any = None
) -> Array:
    r"""ALiBi's per-head slopes ``m_h``, shape ``(N,)`` (Press, Smith, Lewis 2022).

    For ``N`` a power of two the slopes are the geometric sequence ``2^(-8h/N)``,
    ``h = 1..N`` (8 heads: 1/2, 1/4, ..., 1/256). Otherwise, with ``P`` the largest power of two
    below ``N``: the ``P`` slopes of ``P`` heads, then the odd-numbered slopes
    (``2^(-4h/P)``, ``h = 1, 3, 5, ...``) of ``2P`` heads up to ``N`` in all. Matches
    ``get_slopes`` of ofirpress/attention_with_linear_biases and Hugging Face's
    ``build_alibi_tensor`` (BLOOM, Falcon, MPT).

    Parameters
    ----------
    num_heads : int
        ``N``, at least 1.
    dtype : dtype or str
        Floating dtype of the result (default float32).
    backend : str or Backend, optional
        Where to create the result (default: see :func:`mlprims.use`).
    device : optional
        The result's device.

    Returns
    -------
    array, shape ``(N,)``
        Positive and decreasing: head 0 has the steepest penalty.

    Notes
    -----
    With :math:`P = 2^{\lfloor \log_2 N \rfloor}` (:math:`P = N` for a power of two), the
    slope of head :math:`h = 1, \dots, N` (element ``h - 1``):

    .. math::

        m_h = \begin{cases} 2^{-8h/P}, & h \le P \\
            2^{-4(2(h - P) - 1)/P}, & P < h \le N \end{cases}

    References
    ----------
    - Press et al. 2022, "Train Short, Test Long", https://arxiv.org/abs/2108.12409

    Examples
    --------
    >>> import mlprims
    >>> mlprims.alibi_slopes(4).tolist()
    [0.25, 0.0625, 0.015625, 0.00390625]
    """
    num_heads = check_int(num_heads, "num_heads", minimum=1)
    xp = create_namespace(backend)
    dtype = check_float_dtype(dtype, xp=xp)
    return xp.asarray(_slopes(num_heads), dtype=dtype, device=device)


def alibi_bias(
    num_heads: int,
    length_q: int,
    length_k: int,
    *,
    causal_align: str = "top_left",
    dtype: Any = "float32",
    backend: Any = None,
    device: Any = None,
) -> Array:
    r"""ALiBi's attention bias ``-m_h · |j - i|``, shape ``(N, T, S)``.

    Parameters
    ----------
    num_heads : int
        ``N``; head ``h`` has the slope ``m_h`` of :func:`alibi_slopes`.
    length_q, length_k : int
        ``T`` and ``S``.
    causal_align : {"top_left", "bottom_right"}
        How queries line up with keys (see Notes); ``"bottom_right"`` for decoding with a KV
        cache.
    dtype : dtype or str
        Floating dtype of the result (default float32).
    backend : str or Backend, optional
        Where to create the result (default: see :func:`mlprims.use`).
    device : optional
        The result's device.

    Returns
    -------
    array, shape ``(N, T, S)``
        Pass it as ``bias=`` to :func:`mlprims.scaled_dot_product_attention`, with the same
        `causal_align` (and usually ``is_causal=True``).

    Notes
    -----
    .. math::

        B_{hij} = -m_h\, \lvert j - p_i \rvert

    The distance is ``|j - p_i|`` between key ``j`` and the query's position ``p_i`` (``i``
    with ``causal_align="top_left"``, ``i + S - T`` with ``"bottom_right"``, the alignment of
    a KV cache where the last query is the last key). On the keys a causal mask keeps
    (``j <= p_i``) this is the paper's ``m · (j - p_i)``, i.e. ``m · [-(p_i), ..., -1, 0]``.
    Keys after the query (non-causal use) are penalised by their distance too: the symmetric
    variant the ALiBi authors suggest for bidirectional models.

    BLOOM/Falcon add ``m · j`` instead, which differs from ``m · (j - p_i)`` by a constant per
    row: the attention weights are identical (softmax ignores row constants), the raw scores
    are not.

    References
    ----------
    - Press et al. 2022, "Train Short, Test Long", https://arxiv.org/abs/2108.12409

    Examples
    --------
    >>> import mlprims
    >>> mlprims.alibi_bias(1, 2, 3)[0].tolist()
    [[0.0, -0.00390625, -0.0078125], [-0.00390625, 0.0, -0.00390625]]
    """
    num_heads = check_int(num_heads, "num_heads", minimum=1)
    xp = create_namespace(backend)
    dtype = check_float_dtype(dtype, xp=xp)
    distance = relative_distances(length_q, length_k, causal_align, xp=xp, device=device)
    slopes = alibi_slopes(num_heads, dtype=dtype, backend=backend, device=device)
    return slopes[:, None, None] * xp.astype(-xp.abs(distance), dtype)[None, :, :]  # (N, T, S)
