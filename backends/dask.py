"""The Dask backend: arrays chunked across a cluster, for data that outgrows one machine.

``xp`` is ``array_api_compat.dask.array``. Operations build a lazy graph; nothing runs until a
value is needed. Loops are Python loops: after each step the loop state is *persisted* (computed
and kept on the workers, which a ``distributed.Client`` makes the cluster's), so the graph does
not grow with the step count, and ``while_loop`` then computes its condition, one small value,
on the client. ``top_k`` and ``segment_sum`` are the portable forms (a stable argsort, a
one-hot matmul whose reduction over row blocks Dask performs as a tree).

Not in :data:`mlprims.backends.NAMES`: it is reached by name (``backends.get("dask")``) and from
Dask arrays (``backends.of``), and is meant for the primitives that stream over rows
(:func:`mlprims.kmeans`), not for every primitive.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import array_api_compat.dask.array
import dask
import numpy as np

from mlprims._special import erf as portable_erf
from mlprims._special import sigmoid as portable_sigmoid

from ._common import (
    check_segment_sum,
    check_top_k,
    one_zero,
)

__all__ = [
    "asarray",
    "blocked",
    "erf",
    "fast_scatter",
    "fori_loop",
    "fuses",
    "jit",
    "name",
    "segment_sum",
    "sigmoid",
    "stop_gradient",
    "to_numpy",
    "top_k",
    "uint32_arithmetic",
    "while_loop",
    "xp",
]

#: The array API namespace of Dask arrays, from array-api-compat.
xp: Any = array_api_compat.dask.array

name = "dask"

# Capabilities (the Backend protocol): what primitives ask instead of the name.
fuses = False
fast_scatter = False  # a one-hot matmul keeps each step blockwise
uint32_arithmetic = True
blocked = True  # Dask splits arrays into blocks it schedules


def asarray(obj: Any, /, dtype: Any = None, device: Any = None) -> Any:
    """A Dask array of `obj` (Dask's automatic chunks); `dtype` may be a name (``"float32"``).

    For data chunked by rows, build it with ``dask.array.from_array(x, chunks=(rows, -1))``.
    """
    if isinstance(dtype, str):
        dtype = getattr(xp, dtype)
    return xp.asarray(obj, dtype=dtype, device=device)


def to_numpy(x: Any, /) -> np.ndarray:
    """``np.asarray(x.compute())``: computes `x` and brings it to the client."""
    return np.asarray(dask.compute(x)[0])


def jit(
    fn: Callable[..., Any], /, static_argnames: Sequence[str] = (), *, compile: bool = False
) -> Callable[..., Any]:
    """Dask needs no compilation: the graph is optimised when computed."""
    return fn


def _persisted(value: Any) -> Any:
    """`value` (a tuple tree of arrays and Python values) with its Dask arrays persisted."""
    leaves: list[Any] = []

    def collect(v: Any) -> None:
        if isinstance(v, tuple):
            for item in v:
                collect(item)
        elif dask.is_dask_collection(v):
            leaves.append(v)

    collect(value)
    done = iter(dask.persist(*leaves))

    def rebuild(v: Any) -> Any:
        if isinstance(v, tuple):
            items = [rebuild(item) for item in v]
            return type(v)(*items) if hasattr(v, "_fields") else tuple(items)
        return next(done) if dask.is_dask_collection(v) else v

    return rebuild(value)


def fori_loop(lower: int, upper: int, body: Callable[[Any, Any], Any], init: Any, /) -> Any:
    """``for i in range(lower, upper): value = body(i, value)``, the state persisted each step."""
    value = init
    for i in range(lower, upper):
        value = _persisted(body(i, value))
    return value


def while_loop(cond: Callable[[Any], Any], body: Callable[[Any], Any], init: Any, /) -> Any:
    """``while cond(value): value = body(value)``; the state is persisted each step and the
    condition computed (a 0-d value brought to the client)."""
    value = _persisted(init)
    while bool(dask.compute(cond(value))[0]):
        value = _persisted(body(value))
    return value


def top_k(x: Any, k: int, /) -> tuple[Any, Any]:
    """The k largest values along the last axis (stable descending argsort: lower index first).

    Dask sorts an axis in one block, so the last axis is gathered on one worker (for k-means,
    the n distances once per step: n floats, not n * d).
    """
    k = check_top_k(x, k)
    indices = xp.argsort(one_zero(x, xp=xp), axis=-1, descending=True, stable=True)[..., :k]
    n = x.shape[-1]
    rows = xp.reshape(xp.arange(x.size // n, dtype=indices.dtype), (*x.shape[:-1], 1))
    values = xp.take(xp.reshape(x, (-1,)), xp.reshape(rows * n + indices, (-1,)))
    return xp.reshape(values, indices.shape), indices


def segment_sum(data: Any, segment_ids: Any, num_segments: int, /) -> Any:
    """Segment sum as a one-hot matmul: each row block gives (num_segments, ...) partial sums,
    reduced as a tree; ids out of range are dropped."""
    num_segments = check_segment_sum(data, segment_ids, num_segments)
    # The segment numbers are a NumPy constant: a Dask arange would get the same key in every
    # step, and the scheduler warns when a key comes back fused into another task.
    segments = np.arange(num_segments, dtype=np.int64)[:, None]
    one_hot = xp.astype(segments == xp.astype(segment_ids, xp.int64)[None, :], data.dtype)
    flat = xp.reshape(data, (data.shape[0], -1))  # (N, F)
    return xp.reshape(one_hot @ flat, (num_segments, *data.shape[1:]))


def stop_gradient(x: Any, /) -> Any:
    """`x` itself: Dask has no autodiff."""
    return x


def erf(x: Any, /) -> Any:
    """mlprims' portable erf (Cody's rational approximations): Dask has none of its own."""
    return portable_erf(x)


def sigmoid(x: Any, /) -> Any:
    """The logistic function as ``0.5 * tanh(0.5 * x) + 0.5``: Dask has none of its own."""
    return portable_sigmoid(x)
