"""Float64 NumPy oracles for :mod:`mlprims.adapters`, written independently of the primitives:
the LoRA layer as the frozen layer applied to a merged weight, ``x @ (W + s A B) + b`` (the
primitive computes the branch ``(x @ A) @ B`` apart), with peft's scaling and inverted dropout
from a given keep mask. Shared by ``tests/`` and ``mlprims check``.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["lora_linear_reference", "lora_scaling_reference", "merge_lora_reference"]


def lora_scaling_reference(alpha, r, *, use_rslora=False):
    """peft's ``LoraLayer.scaling``: lora_alpha / r, or lora_alpha / sqrt(r) with rsLoRA."""
    return alpha / math.sqrt(r) if use_rslora else alpha / r


def merge_lora_reference(weight, a, b, *, alpha, use_rslora=False, sign=1.0):
    """``W + sign * s * A @ B`` in float64, element by element of the rank-r sum."""
    weight, a, b = (np.asarray(v, dtype=np.float64) for v in (weight, a, b))
    s = lora_scaling_reference(alpha, a.shape[1], use_rslora=use_rslora)
    delta = sum(np.outer(a[:, k], b[k, :]) for k in range(a.shape[1]))  # the r rank-1 terms
    return weight + sign * s * delta


def lora_linear_reference(
    x, weight, bias, a, b, *, alpha, use_rslora=False, keep=None, dropout_p=0.0
):
    """``x @ W + bias + (drop(x) @ A) @ B * s``; matches ``lora_linear``.

    Without dropout (`keep` None) this is the frozen layer on the merged weight. With a
    boolean `keep` mask of the shape of `x`, the LoRA branch sees
    ``where(keep, x / (1 - dropout_p), 0)`` and the frozen layer sees `x`.
    """
    x = np.asarray(x, dtype=np.float64)
    weight = np.asarray(weight, dtype=np.float64)
    out = 0.0 if bias is None else np.asarray(bias, dtype=np.float64)
    if keep is None:
        return x @ merge_lora_reference(weight, a, b, alpha=alpha, use_rslora=use_rslora) + out
    dropped = np.where(np.asarray(keep, dtype=bool), x / (1.0 - dropout_p), 0.0)
    a64, b64 = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    s = lora_scaling_reference(alpha, a64.shape[1], use_rslora=use_rslora)
    return x @ weight + out + s * (dropped @ (a64 @ b64))
