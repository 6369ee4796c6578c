"""Adaptive pooling over 2 spatial dimensions with torch's semantics: `output_size` windows
that tile the input, of sizes that differ by at most one.

Window i along an axis of size H covers ``[floor(i H / oH), ceil((i + 1) H / oH))``. The
windows differ in size, so the pools are separable: a pass along W (one ``take`` per tap of the
widest window) then the same along H.

Adaptive max pooling keeps a value when it is greater than the running maximum or NaN, torch's
rule: the first maximum wins a tie (its index, its gradient) and any NaN in the window
propagates.
"""

from __future__ import annotations

from typing import Any

from array_api_compat import device as device_of

from .._array import Array, check_bool, check_int, floating_namespace, index_dtype
from ._geometry import batched_nchw

__all__ = ["adaptive_avg_pool2d", "adaptive_max_pool2d"]


def _adaptive_sizes(x: Array, output_size: Any) -> tuple[int, int]:
    """`output_size` (an int, or a pair whose None entries keep the input size) as two ints."""
    if isinstance(output_size, (tuple, list)):
        if len(output_size) != 2:
            msg = f"`output_size` must be an int or 2 ints (or None), got {output_size!r}"
            raise ValueError(msg)
        sizes = tuple(
            x.shape[-2 + i] if s is None else check_int(s, "output_size", minimum=1)
            for i, s in enumerate(output_size)
        )
        return sizes[0], sizes[1]
    size = check_int(output_size, "output_size", minimum=1)
    return size, size


def _adaptive_taps(size: int, out: int) -> tuple[list[list[int]], list[list[bool]]]:
    """For each tap t of the widest adaptive window: the input index every output position
    reads (clipped to its window) and whether that tap lies inside the window. Window i is
    ``[floor(i size / out), ceil((i + 1) size / out))``."""
    windows = [(i * size // out, -(-(i + 1) * size // out)) for i in range(out)]
    widest = max(end - start for start, end in windows)
    index = [[min(start + t, end - 1) for start, end in windows] for t in range(widest)]
    valid = [[start + t < end for start, end in windows] for t in range(widest)]
    return index, valid


def _adaptive_max_axis(
    x: Array, index: Array | None, out: int, axis: int, xp: Any, *, width: int = 0
) -> tuple[Array, Array]:
    """Adaptive max along `axis` (-1 or -2): the maxima and, per output, the position along
    `axis` (torch's rule: first maximum, last NaN). `index` (positions along the other axis,
    same shape as `x`) is carried along with the winner when given, making the positions
    flat indices ``h * width + w``."""
    taps, _ = _adaptive_taps(x.shape[axis], out)
    idt = index_dtype(xp)
    best = None
    where_at = None
    for row in taps:
        at = xp.asarray(row, dtype=idt, device=device_of(x))
        value = xp.take(x, at, axis=axis)
        shape = [1] * x.ndim
        shape[axis] = out
        position = xp.reshape(at, tuple(shape))
        if index is not None:
            position = position * width + xp.take(index, at, axis=axis)
        if best is None:
            best, where_at = value, xp.broadcast_to(position, value.shape)
            continue
        take = (value > best) | xp.isnan(value)
        best = xp.where(take, value, best)
        where_at = xp.where(take, position, where_at)
    assert best is not None and where_at is not None
    return best, where_at


def adaptive_max_pool2d(
    x: Array, output_size: Any, /, *, return_indices: bool = False
) -> Array | tuple[Array, Array]:
    r"""Maximum over `output_size` windows that tile the last two axes.

    Parameters
    ----------
    x : array
        Real floating input, (N, C, H, W) or unbatched (C, H, W).
    output_size : int or (int or None, int or None)
        (oH, oW); ``None`` keeps that input size.
    return_indices : bool, optional
        Also return each maximum's flat index ``h * W + w`` into the input plane.

    Returns
    -------
    array or (array, array)
        (N, C, oH, oW) (or (C, oH, oW)) maxima, and with `return_indices` their indices.

    Notes
    -----
    Window i along an axis of size H covers ``[floor(i H / oH), ceil((i + 1) H / oH))``:

    .. math::

        y_{ncij} = \max_{h \in [\lfloor iH/o_H \rfloor,\ \lceil (i+1)H/o_H \rceil),\
            w \in [\lfloor jW/o_W \rfloor,\ \lceil (j+1)W/o_W \rceil)} x_{nchw}

    NaN propagates and ties pick the first maximum in row-major order. Matches
    ``torch.nn.functional.adaptive_max_pool2d``.

    References
    ----------
    - https://pytorch.org/docs/stable/generated/torch.nn.functional.adaptive_max_pool2d.html

    Examples
    --------
    >>> import numpy as np
    >>> from mlprims import adaptive_max_pool2d
    >>> x = np.arange(9.0).reshape(1, 3, 3)
    >>> adaptive_max_pool2d(x, 2)[0]
    array([[4., 5.],
           [7., 8.]])
    """
    xp = floating_namespace(x)
    return_indices = check_bool(return_indices, "return_indices")
    x4, unbatched = batched_nchw(x, xp)
    out_h, out_w = _adaptive_sizes(x4, output_size)
    along_w, col = _adaptive_max_axis(x4, None, out_w, -1, xp)
    best, index = _adaptive_max_axis(along_w, col, out_h, -2, xp, width=x4.shape[-1])
    if unbatched:
        best, index = best[0, ...], index[0, ...]
    return (best, index) if return_indices else best


def _adaptive_mean_axis(x: Array, out: int, axis: int, xp: Any) -> Array:
    """Adaptive mean along `axis` (-1 or -2)."""
    taps, valid = _adaptive_taps(x.shape[axis], out)
    shape = [1] * x.ndim
    shape[axis] = out
    total = None
    for row, inside in zip(taps, valid, strict=True):
        value = xp.take(x, xp.asarray(row, dtype=index_dtype(xp), device=device_of(x)), axis=axis)
        if not all(inside):
            mask = xp.reshape(xp.asarray(inside, device=device_of(x)), tuple(shape))
            value = xp.where(mask, value, xp.zeros_like(value))
        total = value if total is None else total + value
    counts = [sum(column) for column in zip(*valid, strict=True)]
    divisor = xp.reshape(xp.asarray(counts, dtype=x.dtype, device=device_of(x)), tuple(shape))
    return total / divisor


def adaptive_avg_pool2d(x: Array, output_size: Any, /) -> Array:
    r"""Mean over `output_size` windows that tile the last two axes.

    Parameters
    ----------
    x : array
        Real floating input, (N, C, H, W) or unbatched (C, H, W).
    output_size : int or (int or None, int or None)
        (oH, oW); ``None`` keeps that input size.

    Returns
    -------
    array
        (N, C, oH, oW) (or (C, oH, oW)) means.

    Notes
    -----
    Window i along an axis of size H covers ``[floor(i H / oH), ceil((i + 1) H / oH))``, the
    output its mean:

    .. math::

        y_{ncij} = \frac{1}{|R_i|\,|C_j|} \sum_{h \in R_i} \sum_{w \in C_j} x_{nchw},
        \qquad R_i = [\lfloor iH/o_H \rfloor,\ \lceil (i+1)H/o_H \rceil)

    (:math:`C_j` likewise along W). Matches ``torch.nn.functional.adaptive_avg_pool2d``.

    References
    ----------
    - https://pytorch.org/docs/stable/generated/torch.nn.functional.adaptive_avg_pool2d.html

    Examples
    --------
    >>> import numpy as np
    >>> from mlprims import adaptive_avg_pool2d
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> adaptive_avg_pool2d(x, 1)[0, 0]
    array([[7.5]])
    """
    xp = floating_namespace(x)
    x4, unbatched = batched_nchw(x, xp)
    out_h, out_w = _adaptive_sizes(x4, output_size)
    out = _adaptive_mean_axis(_adaptive_mean_axis(x4, out_w, -1, xp), out_h, -2, xp)
    return out[0, ...] if unbatched else out
