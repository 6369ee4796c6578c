"""NF4 (4-bit NormalFloat) blockwise quantization, as bitsandbytes' ``quantize_4bit``.

QLoRA's weight format (Dettmers et al. 2023): the flattened tensor is cut into blocks of
``block_size`` values, each block divided by its largest magnitude (``absmax``), and each value
replaced by the index of the nearest of 16 levels spaced as quantiles of a standard normal
(:data:`NF4_CODE`). Two 4-bit indices share a byte. Shape legend: N = x.size values, B =
ceil(N / block_size) blocks.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from array_api_compat import device as device_of

from .._array import (
    Array,
    check_dtype,
    check_int,
    floating_namespace,
    index_dtype,
    namespace,
    resolve_dtype,
    shape_str,
    statistics_dtype,
)

__all__ = ["NF4_CODE", "NF4Tensor", "dequantize_nf4", "quantize_nf4"]

#: The 16 NF4 levels, increasing, with 0 exactly representable: bitsandbytes'
#: ``get_4bit_type("nf4")`` (float32 values, ``create_normal_map(offset=0.9677083)``).
NF4_CODE = (
    -1.0,
    -0.6961928009986877,
    -0.5250730514526367,
    -0.39491748809814453,
    -0.28444138169288635,
    -0.18477343022823334,
    -0.09105003625154495,
    0.0,
    0.07958029955625534,
    0.16093020141124725,
    0.24611230194568634,
    0.33791524171829224,
    0.44070982933044434,
    0.5626170039176941,
    0.7229568362236023,
    1.0,
)
#: bitsandbytes' floor on a block's absmax (an all-zero block gives codes of 0.0).
_TINY = 1e-38


class NF4Tensor(NamedTuple):
    """What :func:`quantize_nf4` returns and :func:`dequantize_nf4` takes.

    Attributes
    ----------
    codes : array, shape (ceil(N / 2),), uint8
        The 4-bit indices into :data:`NF4_CODE` of the flattened values, two a byte, the
        first in the high half (bitsandbytes' packed layout; odd N pads with the code of 0).
    absmax : array, shape (B,)
        The largest magnitude of each block, float32 (float64 for float64 input).
    shape : tuple of int
        The shape of the quantized array.
    block_size : int
        Values per block.
    """

    codes: Array
    absmax: Array
    shape: tuple[int, ...]
    block_size: int


def quantize_nf4(x: Array, /, *, block_size: int = 64) -> NF4Tensor:
    r"""NF4 4-bit blockwise quantization of `x`, as bitsandbytes' ``quantize_4bit``.

    Matches ``bitsandbytes.functional.quantize_4bit(x, blocksize=block_size,
    quant_type="nf4")``: the same packed codes and absmax, and :func:`dequantize_nf4` equals
    its ``dequantize_4bit``.

    Parameters
    ----------
    x : array
        Real floating, not empty; flattened in C order.
    block_size : int
        Values per block, even (bitsandbytes uses 64 to 4096); the last block may be partial.

    Returns
    -------
    NF4Tensor
        ``(codes, absmax, shape, block_size)``.

    Raises
    ------
    ValueError
        An empty `x`, `block_size` not a positive even int.
    TypeError
        `x` not a real floating array, `block_size` not an int.

    Notes
    -----
    With :math:`S` the `block_size`, :math:`\ell_k` the levels of :data:`NF4_CODE` and
    :math:`b = \lfloor i / S \rfloor` the block of value :math:`i`:

    .. math::

        a_b = \max_{\lfloor j / S \rfloor = b} |x_j|, \qquad
        c_i = \operatorname*{arg\,min}_k \left| \ell_k - \operatorname{clip}\left(
            \frac{x_i}{\max(a_b, 10^{-38})}, -1, 1\right) \right|

    For each block b of the flattened `x` (the last one padded with zeros),
    ``absmax_b = max |x_i|`` and ``v_i = clip(x_i * (1 / max(absmax_b, 1e-38)), -1, 1)``;
    the code is the index of the nearest level of :data:`NF4_CODE`, found by
    ``searchsorted(midpoints, v, side="left")`` (a value at a midpoint takes the lower level,
    as bitsandbytes' ``bucketize``). Computed in float32 for float16/bfloat16/float32 input
    (bitsandbytes' own), in float64 for float64 input (which bitsandbytes refuses). Dettmers
    et al. 2023, "QLoRA: Efficient Finetuning of Quantized LLMs".

    References
    ----------
    - Dettmers et al. 2023, "QLoRA", https://arxiv.org/abs/2305.14314

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> q = mlprims.quantize_nf4(np.array([0.0, 1.0, -2.0, 0.5], dtype=np.float32))
    >>> q.codes.tolist(), q.absmax.tolist(), q.shape
    ([124, 10], [2.0], (4,))
    >>> mlprims.dequantize_nf4(q).tolist()  # levels 7, 12, 0, 10 times absmax 2
    [0.0, 0.8814196586608887, -2.0, 0.4922246038913727]
    """
    xp = floating_namespace(x)
    size = check_int(block_size, "block_size", minimum=2)
    if size % 2:
        msg = f"`block_size` must be even (two 4-bit codes a byte), got {size}"
        raise ValueError(msg)
    n = math.prod(x.shape)
    if n == 0:
        msg = f"`x` must not be empty, got shape {shape_str(x.shape)}"
        raise ValueError(msg)
    compute = statistics_dtype(x.dtype, xp=xp)
    blocks = _blocks(xp.reshape(xp.astype(x, compute, copy=False), (n,)), size, xp=xp)  # (B, S)
    absmax = xp.max(xp.abs(blocks), axis=1)  # (B,)
    inverse = 1.0 / xp.clip(absmax, min=_TINY)
    scaled = xp.clip(blocks * inverse[:, None], -1.0, 1.0)  # (B, S)
    levels = xp.asarray(NF4_CODE, dtype=compute, device=device_of(x))
    midpoints = (levels[:-1] + levels[1:]) / 2  # (15,)
    index = xp.searchsorted(midpoints, xp.reshape(scaled, (-1,)), side="left")  # (B * S,)
    index = xp.astype(index[: n + n % 2], xp.uint8)  # B * S is even: room for the pad
    codes = xp.bitwise_or(xp.bitwise_left_shift(index[0::2], 4), index[1::2])  # (ceil(N/2),)
    return NF4Tensor(codes, absmax, tuple(int(d) for d in x.shape), size)


def dequantize_nf4(q: NF4Tensor, /, *, dtype: Any = None) -> Array:
    r"""The values of an :class:`NF4Tensor`: each code's level times its block's absmax.

    Matches ``bitsandbytes.functional.dequantize_4bit`` of what ``quantize_4bit`` returned
    (bitsandbytes gives a 1-d input back as (1, N); here it keeps its shape).

    Parameters
    ----------
    q : NF4Tensor
        From :func:`quantize_nf4`.
    dtype : str or dtype, optional
        The floating dtype of the result (bitsandbytes': that of the quantized input);
        default that of ``q.absmax``.

    Returns
    -------
    array
        Of shape ``q.shape``.

    Raises
    ------
    TypeError
        `q` not an NF4Tensor, codes not uint8, absmax not floating, a non-floating `dtype`.
    ValueError
        Codes or absmax whose sizes do not fit ``q.shape`` and ``q.block_size``.

    Notes
    -----
    .. math::

        x_i = \ell_{c_i} \, a_{\lfloor i / S \rfloor},

    with :math:`\ell` the levels of :data:`NF4_CODE`, :math:`c_i` the code of value :math:`i`,
    :math:`a` the absmax of each block and :math:`S` the block size, that is
    ``x_i = NF4_CODE[code_i] * absmax_b``, the product in the dtype of absmax (float32, as
    bitsandbytes), then cast to `dtype`. A value of magnitude absmax comes back exactly; the
    others within half the gap between two levels times absmax.

    References
    ----------
    - Dettmers et al. 2023, "QLoRA", https://arxiv.org/abs/2305.14314

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> x = np.linspace(-1.0, 1.0, 6)
    >>> np.round(mlprims.dequantize_nf4(mlprims.quantize_nf4(x)), 3).tolist()
    [-1.0, -0.525, -0.185, 0.161, 0.563, 1.0]
    """
    if not isinstance(q, NF4Tensor):
        msg = f"`q` must be an NF4Tensor (from quantize_nf4), got {type(q).__name__}"
        raise TypeError(msg)
    codes, absmax = q.codes, q.absmax
    xp = namespace(codes, absmax, names=("q.codes", "q.absmax"))
    check_dtype(codes, "q.codes", "unsigned integer", xp=xp)
    check_dtype(absmax, "q.absmax", "real floating", xp=xp)
    n, size = math.prod(q.shape), q.block_size
    blocks = -(-n // size)
    if codes.shape != ((n + 1) // 2,) or absmax.shape != (blocks,):
        msg = (
            f"`q` of shape {shape_str(q.shape)} and block_size {size} needs codes of shape "
            f"({(n + 1) // 2},) and absmax of shape ({blocks},), got {shape_str(codes.shape)} "
            f"and {shape_str(absmax.shape)}"
        )
        raise ValueError(msg)
    out = absmax.dtype if dtype is None else resolve_dtype(dtype, xp=xp)
    if not xp.isdtype(out, "real floating"):
        msg = f"`dtype` must be a real floating dtype such as 'float32', got {dtype!r}"
        raise TypeError(msg)
    high, low = xp.bitwise_right_shift(codes, 4), xp.bitwise_and(codes, 15)
    index = xp.reshape(xp.stack([high, low], axis=1), (-1,))[:n]  # (N,), unpacked in order
    levels = xp.asarray(NF4_CODE, dtype=absmax.dtype, device=device_of(absmax))
    values = _blocks(xp.take(levels, xp.astype(index, index_dtype(xp))), size, xp=xp)  # (B, S)
    x = xp.reshape(values * absmax[:, None], (-1,))[:n]  # (N,)
    return xp.astype(xp.reshape(x, q.shape), out, copy=False)


def _blocks(flat: Array, size: int, *, xp: Any) -> Array:
    """(N,) -> (B, size), the last block padded with zeros."""
    n = flat.shape[0]
    pad = -n % size
    if pad:
        zeros = xp.zeros((pad,), dtype=flat.dtype, device=device_of(flat))
        flat = xp.concat([flat, zeros])
    return xp.reshape(flat, (-1, size))
