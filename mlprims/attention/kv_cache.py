"""The KV cache of multi-head attention: fixed-size key/value buffers written at a traced index.

Decoding appends a few keys and values per step; buffers of a fixed size (max_length) keep every
shape static, so a decoding step compiles once under ``jax.jit``. Private; re-exported by
:mod:`mlprims.attention` (``init_kv_cache``) and used by :mod:`mlprims.attention.multi_head`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from array_api_compat import device as device_of

from .. import backends
from .._array import (
    Array,
    Namespace,
    check_array,
    check_float_dtype,
    check_int,
    create_namespace,
    index_dtype,
    python_int,
    shape_str,
)

__all__ = ["check_cache", "init_kv_cache", "write_cache"]


def init_kv_cache(
    batch: int | tuple[int, ...],
    num_kv_heads: int,
    max_length: int,
    head_dim: int,
    *,
    value_dim: int | None = None,
    dtype: Any = "float32",
    backend: str | backends.Backend | None = None,
) -> dict[str, Array]:
    """An empty KV cache: fixed-size key/value buffers and the next write position.

    Parameters
    ----------
    batch : int or tuple of int
        The batch axes B... of the inputs (``()`` for unbatched inputs).
    num_kv_heads, max_length, head_dim : int
        K, the capacity M in tokens, and H.
    value_dim : int, optional
        Hv (default H).
    dtype : str or dtype
        Floating dtype of the buffers (default float32).
    backend : str or Backend, optional
        Where to create them; default the default backend (:func:`mlprims.use`).

    Returns
    -------
    dict
        ``k`` (B..., K, M, H) and ``v`` (B..., K, M, Hv) zeros, ``index`` a 0-d integer
        array (0). Pass it as ``cache=`` to :func:`multi_head_attention` and use the cache it
        returns; the shapes never change, so a decoding step compiles once under ``jax.jit``.

    References
    ----------
    - Decoding with a KV cache: https://huggingface.co/docs/transformers/kv_cache

    Examples
    --------
    >>> import mlprims
    >>> cache = mlprims.init_kv_cache(2, 4, 16, 8)
    >>> cache["k"].shape, int(cache["index"])
    ((2, 4, 16, 8), 0)
    """
    batch = python_int(batch)
    batch_axes = (batch,) if isinstance(batch, int) and not isinstance(batch, bool) else batch
    if not isinstance(batch_axes, tuple):
        msg = f"`batch` must be an int or a tuple of ints, got {type(batch).__name__}"
        raise TypeError(msg)
    batch_axes = tuple(check_int(b, "batch", minimum=1) for b in batch_axes)
    kv = check_int(num_kv_heads, "num_kv_heads", minimum=1)
    m = check_int(max_length, "max_length", minimum=1)
    h = check_int(head_dim, "head_dim", minimum=1)
    hv = h if value_dim is None else check_int(value_dim, "value_dim", minimum=1)
    xp = create_namespace(backend)
    dtype = check_float_dtype(dtype, xp=xp)
    return {
        "k": xp.zeros((*batch_axes, kv, m, h), dtype=dtype),
        "v": xp.zeros((*batch_axes, kv, m, hv), dtype=dtype),
        "index": xp.asarray(0, dtype=index_dtype(xp)),
    }


def check_cache(cache: Any, k: Array, v: Array, *, xp: Namespace) -> Array:
    """The buffers must hold (B..., K, M, H) / (B..., K, M, Hv) in the dtype of the inputs."""
    if not isinstance(cache, Mapping) or any(name not in cache for name in ("k", "v", "index")):
        msg = "`cache` must be a dict with 'k', 'v' and 'index' (see init_kv_cache)"
        raise TypeError(msg)
    index = cache["index"]
    check_array(index, "cache['index']")
    if index.ndim != 0 or not xp.isdtype(index.dtype, "integral"):
        msg = f"`cache['index']` must be a 0-d integer array, got {index.dtype} {index.shape}"
        raise TypeError(msg)
    for name, new in (("k", k), ("v", v)):
        buf = cache[name]
        check_array(buf, f"cache[{name!r}]")
        want = (*new.shape[:-2], "M", new.shape[-1])
        if (
            buf.ndim != new.ndim
            or buf.shape[:-2] != new.shape[:-2]
            or buf.shape[-1] != new.shape[-1]
        ):
            msg = (
                f"`cache['{name}']` must have shape (B..., K, M, {'H' if name == 'k' else 'Hv'}) = "
                f"{shape_str(want)} for these inputs, got {shape_str(buf.shape)}"
            )
            raise ValueError(msg)
        if buf.dtype != new.dtype:
            msg = f"`cache['{name}']` must have the inputs' dtype {new.dtype}, got {buf.dtype}"
            raise TypeError(msg)
        if new.shape[-2] > buf.shape[-2]:
            msg = (
                f"`query` has T = {new.shape[-2]} tokens, more than the cache holds "
                f"(max_length = {buf.shape[-2]})"
            )
            raise ValueError(msg)
    return index


def write_cache(
    cache: Mapping[str, Array], k: Array, v: Array, *, xp: Namespace
) -> dict[str, Array]:
    """Write k, v (B..., K, L, X) at positions index .. index + L - 1 of the buffers.

    The standard has no dynamic_update_slice, so every position of the buffer picks either
    its old value or new row (position - index): a gather and a select, which compile under
    jax.jit with a traced index.
    """
    index = cache["index"]
    length, m = k.shape[-2], cache["k"].shape[-2]
    positions = xp.arange(m, dtype=index.dtype, device=device_of(index))  # (M,)
    offset = positions - index  # row of the new block each position would take
    fresh = (offset >= 0) & (offset < length)  # (M,): positions written now
    rows = xp.astype(xp.clip(offset, 0, length - 1), index_dtype(xp))  # valid everywhere for take
    new = {"index": index + length}
    for name, block in (("k", k), ("v", v)):
        spread = xp.take(block, rows, axis=-2)  # (B..., K, M, X): new row for every position
        new[name] = xp.where(fresh[:, None], spread, cache[name])
    return new
