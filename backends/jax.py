"""The JAX backend: ``jax.numpy`` is itself an array API namespace; loops and jit come from lax.

Under ``jax.jit`` shapes must be static and Python control flow cannot look at array values,
which is why mlprims primitives never branch on data and take loop bounds as Python ints.
Out-of-range indexing never raises in JAX (it clamps or drops), so bounds are checked eagerly
before tracing, in the primitives.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as xp
import numpy as np

from ._common import (
    check_segment_sum,
    check_top_k,
    fori_loop_python,
    one_zero,
    while_loop_python,
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

name = "jax"

# Capabilities (the Backend protocol): what primitives ask instead of the name.
fuses = True  # XLA compiles the traced program as a whole
fast_scatter = False  # XLA's CPU scatter-add is several times slower than a one-hot matmul
uint32_arithmetic = True
blocked = False


def asarray(obj: Any, /, dtype: Any = None, device: Any = None) -> jax.Array:
    """``jnp.asarray``; `dtype` may be a name (``"float32"``). float64 needs ``jax_enable_x64``."""
    if isinstance(dtype, str):
        dtype = getattr(xp, dtype)
    return xp.asarray(obj, dtype=dtype, device=device)


def to_numpy(x: Any, /) -> np.ndarray:
    """``np.asarray(x)``, which brings `x` to the host."""
    return np.asarray(x)


def jit(
    fn: Callable[..., Any], /, static_argnames: Sequence[str] = (), *, compile: bool = False
) -> Callable[..., Any]:
    """``jax.jit``: arguments named in `static_argnames` must be hashable Python values."""
    return jax.jit(fn, static_argnames=tuple(static_argnames))


def fori_loop(lower: int, upper: int, body: Callable[[Any, Any], Any], init: Any, /) -> Any:
    """``jax.lax.fori_loop`` when `init` is traced (one traced body, the loop runs in XLA); a
    Python loop on concrete arrays.

    Called eagerly, ``lax.fori_loop`` traces and compiles its body on every call, since the body
    is a new closure each time (40 to 180 ms per call in the tiled attention), where a Python
    loop reuses the compiled operations of the previous calls.
    """
    if _traced(init):
        return jax.lax.fori_loop(lower, upper, body, init)
    return fori_loop_python(lower, upper, body, init)


def while_loop(cond: Callable[[Any], Any], body: Callable[[Any], Any], init: Any, /) -> Any:
    """``jax.lax.while_loop`` when `init` is traced (`value` must keep its shapes and dtypes
    from step to step); a Python loop on concrete arrays, for the reason of :func:`fori_loop`."""
    if _traced(init):
        return jax.lax.while_loop(cond, body, init)
    return while_loop_python(cond, body, init)


def _traced(tree: Any) -> bool:
    """Whether an array of `tree` is traced (by ``jax.jit``, under which every array made is)."""
    return any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree_util.tree_leaves(tree))


def top_k(x: jax.Array, k: int, /) -> tuple[jax.Array, jax.Array]:
    """``jax.lax.top_k``: already sorted, lower index first among ties, NaN ranked largest.

    It ranks -0.0 below 0.0 (top-2 of ``[-0., 1., 0.]`` would be indices [1, 2]), so it ranks
    `x` with one zero and the values are taken from `x` itself.
    """
    k = check_top_k(x, k)
    _, indices = jax.lax.top_k(one_zero(x, xp=xp), k)
    return xp.take_along_axis(x, indices, axis=-1), indices


def segment_sum(data: jax.Array, segment_ids: jax.Array, num_segments: int, /) -> jax.Array:
    """``jax.ops.segment_sum`` (a scatter-add); ids out of range are dropped."""
    num_segments = check_segment_sum(data, segment_ids, num_segments)
    return jax.ops.segment_sum(data, segment_ids, num_segments=num_segments)


def stop_gradient(x: jax.Array, /) -> jax.Array:
    """``jax.lax.stop_gradient``: the same values, a zero derivative."""
    return jax.lax.stop_gradient(x)


def erf(x: jax.Array, /) -> jax.Array:
    """``jax.lax.erf``: XLA's own erf (the portable one also fuses under jit, but is longer)."""
    return jax.lax.erf(x)


def sigmoid(x: jax.Array, /) -> jax.Array:
    """``jax.nn.sigmoid`` (XLA's logistic)."""
    return jax.nn.sigmoid(x)
