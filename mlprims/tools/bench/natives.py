"""The frameworks' own ops that ``mlprims bench`` times our primitives against.

Each function here imports its framework when called (never when this module is imported) and
returns the op as a function of the same arrays, by keyword, as our side of the case. Where a
framework has no such op, the native side is what a user of that framework writes instead: the
textbook formula in NumPy or ``jnp`` (the table names it, e.g. ``jnp formula``).

The table :data:`NATIVES` at the end names them per backend; ``mlprims bench --list`` prints it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["NATIVES", "Native"]

Op = Callable[..., Any]

# ---------------------------------------------------------------------------------- NumPy


def numpy_softmax() -> Op:
    from scipy.special import softmax

    return lambda x: softmax(x, axis=-1)


def numpy_gelu() -> Op:
    import numpy as np
    from scipy.special import erf

    return lambda x: 0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))


def numpy_layer_norm() -> Op:
    import numpy as np

    def layer_norm(x: Any, weight: Any, bias: Any) -> Any:
        mean = x.mean(axis=-1, keepdims=True)
        var = x.var(axis=-1, keepdims=True)
        return (x - mean) / np.sqrt(var + 1e-5) * weight + bias

    return layer_norm


def numpy_rms_norm() -> Op:
    import numpy as np

    def rms_norm(x: Any, weight: Any) -> Any:  # eps: torch.nn.RMSNorm's default, finfo.eps
        ms = np.mean(x * x, axis=-1, keepdims=True)
        return x / np.sqrt(ms + np.finfo(x.dtype).eps) * weight

    return rms_norm


def numpy_cross_entropy() -> Op:
    import numpy as np
    from scipy.special import log_softmax

    def cross_entropy(logits: Any, target: Any) -> Any:
        picked = np.take_along_axis(log_softmax(logits, axis=-1), target[:, None], axis=-1)
        return -picked.mean()

    return cross_entropy


def numpy_attention() -> Op:
    from scipy.special import softmax

    def attention(q: Any, k: Any, v: Any) -> Any:
        scores = q @ k.swapaxes(-1, -2) / math.sqrt(q.shape[-1])
        return softmax(scores, axis=-1) @ v

    return attention


def numpy_kmeans() -> Op:
    from sklearn.cluster import KMeans

    def kmeans(x: Any, init: Any) -> Any:
        fit = KMeans(len(init), init=init, n_init=1, max_iter=10, tol=0.0).fit(x)
        return fit.cluster_centers_

    return kmeans


# ---------------------------------------------------------------------------------- torch


def torch_softmax() -> Op:
    import torch

    return lambda x: torch.softmax(x, dim=-1)


def torch_gelu() -> Op:
    import torch.nn.functional as F

    return lambda x: F.gelu(x)


def torch_layer_norm() -> Op:
    import torch.nn.functional as F

    return lambda x, weight, bias: F.layer_norm(x, x.shape[-1:], weight, bias)


def torch_rms_norm() -> Op:
    import torch.nn.functional as F

    return lambda x, weight: F.rms_norm(x, x.shape[-1:], weight)


def torch_cross_entropy() -> Op:
    import torch.nn.functional as F

    return lambda logits, target: F.cross_entropy(logits, target)


def torch_attention() -> Op:
    import torch.nn.functional as F

    return lambda q, k, v: F.scaled_dot_product_attention(q, k, v)


def torch_conv2d() -> Op:
    import torch.nn.functional as F

    return lambda x, weight, bias: F.conv2d(x, weight, bias, padding=1)


# ------------------------------------------------------------------------------------ JAX


def jax_softmax() -> Op:
    import jax

    return lambda x: jax.nn.softmax(x, axis=-1)


def jax_gelu() -> Op:
    import jax

    return lambda x: jax.nn.gelu(x, approximate=False)


def jax_layer_norm() -> Op:
    import jax
    import jax.numpy as jnp

    def layer_norm(x: Any, weight: Any, bias: Any) -> Any:  # what one writes without Flax
        mean = jnp.mean(x, axis=-1, keepdims=True)
        var = jnp.var(x, axis=-1, keepdims=True)
        return (x - mean) * jax.lax.rsqrt(var + 1e-5) * weight + bias

    return layer_norm


def jax_rms_norm() -> Op:
    import jax
    import jax.numpy as jnp

    def rms_norm(x: Any, weight: Any) -> Any:
        ms = jnp.mean(x * x, axis=-1, keepdims=True)
        return x * jax.lax.rsqrt(ms + jnp.finfo(x.dtype).eps) * weight

    return rms_norm


def jax_cross_entropy() -> Op:
    import jax
    import jax.numpy as jnp

    def cross_entropy(logits: Any, target: Any) -> Any:
        log_p = jax.nn.log_softmax(logits, axis=-1)
        return -jnp.mean(jnp.take_along_axis(log_p, target[:, None], axis=-1))

    return cross_entropy


def jax_attention() -> Op:
    import jax

    def attention(q: Any, k: Any, v: Any) -> Any:  # (B, T, N, H) layout: see `prepare`
        return jax.nn.dot_product_attention(q, k, v)

    return attention


def jax_conv2d() -> Op:
    import jax

    def conv2d(x: Any, weight: Any, bias: Any) -> Any:
        y = jax.lax.conv_general_dilated(
            x, weight, (1, 1), ((1, 1), (1, 1)), dimension_numbers=("NCHW", "OIHW", "NCHW")
        )
        return y + bias[None, :, None, None]

    return conv2d


def heads_second_to_third(arrays: dict[str, Any]) -> dict[str, Any]:
    """(B, N, T, H) -> (B, T, N, H): jax.nn.dot_product_attention's layout (done untimed)."""
    return {name: a.swapaxes(1, 2) for name, a in arrays.items()}


@dataclass(frozen=True)
class Native:
    """A framework's own op for one case.

    Attributes
    ----------
    name : str
        What the table calls it, e.g. ``"F.layer_norm"``.
    make : callable
        ``() -> op``: imports the framework, returns the op, called with the case's arrays.
    prepare : callable, optional
        ``arrays -> arrays``, applied once before timing: the op's own layout.
    needs : tuple of str
        Modules beyond the backend's own that the op imports (``scipy``, ``sklearn``); without
        them the case does not run on that backend.
    """

    name: str
    make: Callable[[], Op]
    prepare: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    needs: tuple[str, ...] = ()


SDPA = "scaled_dot_product_attention"

#: backend -> case name -> its native op.
NATIVES: dict[str, dict[str, Native]] = {
    "numpy": {
        "softmax": Native("scipy.special.softmax", numpy_softmax, needs=("scipy",)),
        "gelu": Native("scipy.special.erf formula", numpy_gelu, needs=("scipy",)),
        "layer_norm": Native("NumPy formula", numpy_layer_norm),
        "rms_norm": Native("NumPy formula", numpy_rms_norm),
        "cross_entropy": Native("scipy log_softmax", numpy_cross_entropy, needs=("scipy",)),
        SDPA: Native("NumPy formula", numpy_attention, needs=("scipy",)),
        "kmeans": Native("sklearn KMeans", numpy_kmeans, needs=("sklearn",)),
    },
    "torch": {
        "softmax": Native("torch.softmax", torch_softmax),
        "gelu": Native("F.gelu", torch_gelu),
        "layer_norm": Native("F.layer_norm", torch_layer_norm),
        "rms_norm": Native("F.rms_norm", torch_rms_norm),
        "cross_entropy": Native("F.cross_entropy", torch_cross_entropy),
        SDPA: Native("F.scaled_dot_product_attention", torch_attention),
        "conv2d": Native("F.conv2d", torch_conv2d),
    },
    "jax": {
        "softmax": Native("jax.nn.softmax", jax_softmax),
        "gelu": Native("jax.nn.gelu", jax_gelu),
        "layer_norm": Native("jnp formula", jax_layer_norm),
        "rms_norm": Native("jnp formula", jax_rms_norm),
        "cross_entropy": Native("jax.nn.log_softmax formula", jax_cross_entropy),
        SDPA: Native("jax.nn.dot_product_attention", jax_attention, heads_second_to_third),
        "conv2d": Native("lax.conv_general_dilated", jax_conv2d),
    },
}
