"""Absolute positional encodings: the sinusoidal table of Vaswani et al. and learned tables.

Shape legend: ``L`` sequence length, ``D`` model (or head) dimension, ``P`` rows of a table.
"""

from __future__ import annotations

import math
from typing import Any

from array_api_compat import device as array_device

from .. import random
from .._array import (
    Array,
    Namespace,
    check_array,
    check_choice,
    check_dtype,
    check_float_dtype,
    check_floating,
    check_in_range,
    check_int,
    concrete_any,
    create_namespace,
    index_dtype,
    namespace,
    shape_str,
)

__all__: list[str] = [
    "init_learned_position_table",
    "learned_position_encoding",
    "sinusoidal_position_encoding",
]


def _angle_dtype(dtype: Any, *, xp: Namespace) -> Any:
    """Angles ``position * frequency``: float64 for float64 results, else float32 (never 16-bit)."""
    return xp.float64 if dtype == xp.float64 else xp.float32


def sinusoidal_position_encoding(
    length: int,
    dim: int,
    *,
    base: float = 10000.0,
    layout: str = "interleaved",
    spacing: str = "paper",
    positions: Array | None = None,
    dtype: Any = "float32",
    backend: Any = None,
    device: Any = None,
) -> Array:
    r"""The fixed sin/cos position encoding of "Attention Is All You Need", shape ``(L, D)``.

    Parameters
    ----------
    length : int
        ``L``, the number of positions (rows).
    dim : int
        ``D``, the encoding size; must be even (one sin and one cos per frequency). For an odd
        size build ``D + 1`` columns and drop the last one (fairseq pads a zero column instead).
    base : float
        The longest wavelength is ``2π · base``; 10000 in the paper.
    layout : {"interleaved", "concat"}
        ``"interleaved"`` (the paper, Hugging Face DistilBERT): ``PE[p, 2i] = sin(p·ω_i)``,
        ``PE[p, 2i+1] = cos(p·ω_i)``. ``"concat"`` (tensor2tensor, fairseq): sines in the first
        half, cosines in the second, ``PE[p, i] = sin(p·ω_i)``, ``PE[p, D/2 + i] = cos(p·ω_i)``.
        The two differ only by a fixed permutation of the columns.
    spacing : {"paper", "endpoint"}
        The frequencies. ``"paper"``: ``ω_i = base^(-2i/D)`` for ``i < D/2``. ``"endpoint"``
        (tensor2tensor's ``get_timing_signal_1d`` and fairseq's ``SinusoidalPositionalEmbedding``):
        ``ω_i = base^(-i/(D/2 - 1))``, so the last frequency is exactly ``1/base``. A port from
        fairseq needs ``layout="concat", spacing="endpoint"`` (and fairseq's positions start at
        ``padding_idx + 1``: pass them as `positions`).
    positions : array, optional
        Integer or floating positions of shape ``(..., L)`` to encode instead of ``0 .. L-1``
        (offset, packed or fractional positions); the result is then ``(..., L, D)`` on the
        backend and device of `positions`.
    dtype : dtype or str
        Floating dtype of the result (default float32).
    backend : str or Backend, optional
        Where to create the result when `positions` is not given (default: see
        :func:`mlprims.use`).
    device : optional
        The result's device when `positions` is not given.

    Returns
    -------
    array, shape ``(L, D)`` (or ``(..., L, D)`` with `positions`)

    Notes
    -----
    With the defaults (``layout="interleaved"``, ``spacing="paper"``):

    .. math:: \mathrm{PE}(p, 2i) = \sin(p\,\omega_i), \quad
              \mathrm{PE}(p, 2i + 1) = \cos(p\,\omega_i), \quad
              \omega_i = \mathrm{base}^{-2i/D}.

    The frequencies are computed in Python (float64) and rounded once; the angles ``p·ω_i`` are
    computed in float32, or float64 when `dtype` is float64, never in 16 bits: a float16 angle
    for position 3000 would be off by a whole radian. For long sequences ask for float64: the
    float32 product ``p·ω_i`` carries an error of about ``p · 6e-8`` radians.

    ``PE(p + k)`` is a fixed rotation of ``PE(p)``: each (sin, cos) pair of frequency ω turns by
    the angle ``k·ω``, whatever ``p`` is (the property the paper gives for choosing it).

    References
    ----------
    - Vaswani et al. 2017, "Attention Is All You Need", https://arxiv.org/abs/1706.03762

    Examples
    --------
    >>> import mlprims
    >>> pe = mlprims.sinusoidal_position_encoding(3, 4)
    >>> pe.shape
    (3, 4)
    >>> [round(float(v), 3) for v in pe[1]]   # sin(1), cos(1), sin(0.01), cos(0.01)
    [0.841, 0.54, 0.01, 1.0]
    """
    length = check_int(length, "length", minimum=0)
    dim = check_int(dim, "dim", minimum=2)
    if dim % 2:
        msg = (
            f"`dim` must be even (one sin and one cos column per frequency), got {dim}; "
            f"build {dim + 1} columns and drop the last one"
        )
        raise ValueError(msg)
    base = check_in_range(base, "base", 0.0, math.inf, closed=(False, False))
    check_choice(layout, "layout", ("interleaved", "concat"))
    check_choice(spacing, "spacing", ("paper", "endpoint"))
    if positions is None:
        xp = create_namespace(backend)
    else:
        check_array(positions, "positions")
        xp = namespace(positions)
    dtype = check_float_dtype(dtype, xp=xp)
    angle_dtype = _angle_dtype(dtype, xp=xp)

    if positions is None:
        pos = xp.arange(length, dtype=angle_dtype, device=device)
    else:
        if positions.ndim == 0 or positions.shape[-1] != length:
            msg = (
                f"`positions` must have shape (..., L) with L = `length` = {length}, "
                f"got {shape_str(positions.shape)}"
            )
            raise ValueError(msg)
        check_dtype(positions, "positions", ("integral", "real floating"), xp=xp)
        pos = xp.astype(positions, angle_dtype)

    half = dim // 2
    step = 2.0 / dim if spacing == "paper" else 1.0 / max(half - 1, 1)
    inverse_frequency = xp.asarray(
        [base ** (-i * step) for i in range(half)], dtype=angle_dtype, device=array_device(pos)
    )
    angles = pos[..., None] * inverse_frequency  # (..., L, D/2)
    sin, cos = xp.sin(angles), xp.cos(angles)
    if layout == "interleaved":
        pe = xp.reshape(xp.stack([sin, cos], axis=-1), (*angles.shape[:-1], dim))  # (..., L, D)
    else:
        pe = xp.concat([sin, cos], axis=-1)
    return xp.astype(pe, dtype)


def init_learned_position_table(
    key: Array, max_length: int, dim: int, *, std: float = 0.02, dtype: Any = "float32"
) -> Array:
    """A learned absolute position table ``(P, D)`` drawn from ``N(0, std²)``.

    Parameters
    ----------
    key : array
        A key of :mod:`mlprims.random` (``mlprims.random.key(seed, backend=...)``); the table is
        created on its backend.
    max_length : int
        ``P``, the number of positions the table covers (``0 .. P-1``).
    dim : int
        ``D``, the embedding size.
    std : float
        Standard deviation. 0.02 is GPT-2's and BERT's ``initializer_range`` (Hugging Face
        ``wpe``/``position_embeddings``); ``std=1.0`` is PyTorch's ``nn.Embedding`` default.
    dtype : dtype or str
        Floating dtype of the table.

    Returns
    -------
    array, shape ``(P, D)``

    Notes
    -----
    The draws come from the portable Threefry generator, so a seed gives the same table on every
    backend (and equals ``std * jax.random.normal(key, (P, D))``).

    References
    ----------
    - Devlin et al. 2019, "BERT", https://arxiv.org/abs/1810.04805
    - https://huggingface.co/docs/transformers/model_doc/gpt2

    Examples
    --------
    >>> import mlprims
    >>> table = mlprims.init_learned_position_table(mlprims.random.key(0), 16, 8)
    >>> table.shape
    (16, 8)
    """
    max_length = check_int(max_length, "max_length", minimum=1)
    dim = check_int(dim, "dim", minimum=1)
    std = check_in_range(std, "std", 0.0, math.inf, closed=(True, False))
    return random.normal(key, (max_length, dim), dtype=dtype) * std


def learned_position_encoding(table: Array, positions: Array, /) -> Array:
    """Rows of a learned position table: ``table[positions]``, shape ``(..., D)``.

    Parameters
    ----------
    table : array, shape ``(P, D)``
        One learned vector per position (see :func:`init_learned_position_table`).
    positions : array of integers, shape ``(...)``
        Positions in ``[0, P)``; usually ``arange(L)`` or ``arange(L) + offset``.

    Returns
    -------
    array, shape ``(*positions.shape, D)``, dtype of `table`

    Raises
    ------
    ValueError
        If a position is negative or ``>= P`` (checked whenever the values are known, i.e. on
        every backend except inside ``jax.jit``). There is no silent clamping or wrap-around
        (negative positions are not counted from the end).

    Notes
    -----
    Matches ``torch.nn.functional.embedding(positions, table)`` (GPT-2's ``wpe``, BERT's
    ``position_embeddings``). Under ``jax.jit`` the values of `positions` are unknown while
    tracing, so no error can be raised: there, the rows of out-of-range positions (negative
    ones included) are NaN, so the mistake shows downstream instead of silently reusing
    another position's vector (in JAX, ``table[positions]`` clamps, and ``jnp.take`` gives NaN
    past the end but counts negative positions from the end).

    References
    ----------
    - https://pytorch.org/docs/stable/generated/torch.nn.functional.embedding.html

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> table = np.arange(6.0).reshape(3, 2)
    >>> mlprims.learned_position_encoding(table, np.array([2, 0])).tolist()
    [[4.0, 5.0], [0.0, 1.0]]
    """
    xp = namespace(table, positions)
    check_floating(table, "table", xp=xp)
    check_array(positions, "positions")
    if table.ndim != 2:
        msg = f"`table` must have shape (P, D), got {shape_str(table.shape)}"
        raise ValueError(msg)
    check_dtype(positions, "positions", "integral", xp=xp)
    rows, dim = table.shape
    outside = (positions < 0) | (positions >= rows)
    if concrete_any(outside, xp=xp):  # None (unknown) under jax.jit
        low, high = int(xp.min(positions)), int(xp.max(positions))
        msg = (
            f"`positions` must be in [0, {rows}) (the rows of `table`), got values in "
            f"[{low}, {high}]; use a longer table or fewer positions"
        )
        raise ValueError(msg)
    safe = xp.astype(xp.where(outside, 0, positions), index_dtype(xp))
    out = xp.take(table, xp.reshape(safe, (-1,)), axis=0)  # (prod(...), D)
    out = xp.reshape(out, (*positions.shape, dim))
    nan = xp.asarray(float("nan"), dtype=table.dtype, device=array_device(table))
    return xp.where(outside[..., None], nan, out)
