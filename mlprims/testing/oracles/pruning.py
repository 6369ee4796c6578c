"""Float64 NumPy oracles for :mod:`mlprims.pruning`, written independently of the primitives:
the entries (or slices) sorted by Python's ``sorted`` on (magnitude, index) pairs, the first
``k`` pruned; slice norms by ``np.linalg.norm`` of each flattened slice. Shared by ``tests/``
and ``mlprims check``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["magnitude_prune_reference", "prune_reference", "structured_prune_reference"]


def _count(amount, size):
    """torch's ``_compute_nparams_toprune``: an int is a count, a float ``round(amount * size)``
    (Python's round: half to even)."""
    return amount if isinstance(amount, (int, np.integer)) else round(amount * size)


def _pruned(scores, k):
    """The indices of the `k` smallest `scores`, the lower index first among equal ones."""
    ranked = sorted(range(len(scores)), key=lambda i: (scores[i], i))
    return ranked[:k]


def magnitude_prune_reference(w, *, amount):
    """l1_unstructured's mask as booleans: False at the k smallest |w| (ties: lower index)."""
    w = np.asarray(w, dtype=np.float64)
    flat = [abs(float(x)) for x in w.reshape(-1)]
    keep = np.ones(len(flat), dtype=bool)
    keep[_pruned(flat, _count(amount, len(flat)))] = False
    return keep.reshape(w.shape)


def structured_prune_reference(w, *, amount, n=2, axis=0):
    """ln_structured's mask as booleans: False on the k slices along `axis` of smallest
    L`n` norm (ties: lower index)."""
    w = np.asarray(w, dtype=np.float64)
    slices = np.moveaxis(w, axis, 0).reshape(w.shape[axis], -1)
    norms = [float(np.linalg.norm(s, ord=n)) if s.size else 0.0 for s in slices]
    keep = np.ones(len(norms), dtype=bool)
    keep[_pruned(norms, _count(amount, len(norms)))] = False
    shape = [1] * w.ndim
    shape[axis] = len(norms)
    return np.broadcast_to(keep.reshape(shape), w.shape).copy()


def prune_reference(w, mask):
    """``w`` where `mask` is true (or 1), else 0, element by element: torch's
    ``weight_orig * weight_mask`` for finite weights."""
    w = np.asarray(w, dtype=np.float64)
    kept = np.broadcast_to(np.asarray(mask).astype(bool), w.shape)
    return np.where(kept, w, 0.0)
