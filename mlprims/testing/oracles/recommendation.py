"""Float64 NumPy oracles for :mod:`mlprims.recommendation`, written independently of the
primitives: the factorization machine's term as the O(F^2 K) sum over the pairs of fields (the
primitive uses Rendle's O(F K) identity), and embedding bags one bag at a time, with torch's
rules (padding rows left out, empty bags zero). Shared by ``tests/`` and ``mlprims check``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["embedding_bag_reference", "fm_interaction_reference"]


def fm_interaction_reference(v):
    """``sum_{i<j} <v_i, v_j>`` over the fields (axis -2), pair by pair."""
    v = np.asarray(v, dtype=np.float64)
    f = v.shape[-2]
    out = np.zeros(v.shape[:-2])
    for i in range(f):
        for j in range(i + 1, f):
            out += np.sum(v[..., i, :] * v[..., j, :], axis=-1)
    return out


def embedding_bag_reference(
    indices, weight, offsets=None, *, mode="mean", per_sample_weights=None, padding_idx=None
):
    """torch's ``F.embedding_bag``, bag by bag: (B, L) indices, or (N,) cut at `offsets`."""
    indices, weight = np.asarray(indices), np.asarray(weight, dtype=np.float64)
    scale = None if per_sample_weights is None else np.asarray(per_sample_weights, np.float64)
    if indices.ndim == 2:
        bags = [list(range(i * indices.shape[1], (i + 1) * indices.shape[1]))
                for i in range(indices.shape[0])]  # fmt: skip
        indices = indices.reshape(-1)
        scale = None if scale is None else scale.reshape(-1)
    else:
        ends = [*np.asarray(offsets)[1:].tolist(), len(indices)]
        bags = [list(range(a, b)) for a, b in zip(np.asarray(offsets).tolist(), ends, strict=True)]
    if padding_idx is not None:
        padding_idx %= weight.shape[0]
    out = np.zeros((len(bags), weight.shape[1]))
    for b, positions in enumerate(bags):
        kept = [p for p in positions if indices[p] != padding_idx]
        if not kept:
            continue  # an empty bag (or padding only): zeros
        rows = np.stack([weight[indices[p]] * (1.0 if scale is None else scale[p]) for p in kept])
        if mode == "sum":
            out[b] = rows.sum(axis=0)
        elif mode == "mean":
            out[b] = rows.sum(axis=0) / len(kept)
        else:
            out[b] = rows.max(axis=0)
    return out
