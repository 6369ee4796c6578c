"""What the relative-position modules share: the distance of every key from every query."""

from __future__ import annotations

from typing import Any

from .._array import Array, Namespace, check_choice, check_int, index_dtype

__all__ = ["ALIGNS", "relative_distances"]

#: How queries line up with keys when T != S (as ``causal_align`` in attention).
ALIGNS = ("top_left", "bottom_right")


def relative_distances(
    length_q: int, length_k: int, causal_align: str, *, xp: Namespace, device: Any
) -> Array:
    """``j - (i + shift)`` for every query ``i`` and key ``j``, shape ``(T, S)``, index dtype."""
    length_q = check_int(length_q, "length_q", minimum=0)
    length_k = check_int(length_k, "length_k", minimum=0)
    check_choice(causal_align, "causal_align", ALIGNS)
    shift = 0 if causal_align == "top_left" else length_k - length_q
    dtype = index_dtype(xp)
    query = xp.arange(length_q, dtype=dtype, device=device) + shift
    key = xp.arange(length_k, dtype=dtype, device=device)
    return key[None, :] - query[:, None]
