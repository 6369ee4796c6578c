"""What the MoE layer and its load-balancing loss share: the router's top-k choice."""

from __future__ import annotations

from typing import Any

from .. import backends
from .._array import Array, Namespace, check_int, statistics_dtype
from ..activations.softmax import softmax

__all__ = ["check_top_k", "route"]


def check_top_k(top_k: Any, num_experts: int) -> int:
    """`top_k` as an int in [1, E], or a TypeError / ValueError naming it."""
    k = check_int(top_k, "top_k")
    if not 1 <= k <= num_experts:
        msg = (
            f"`top_k` must be in [1, num_experts] = [1, {num_experts}] (experts per token), got {k}"
        )
        raise ValueError(msg)
    return k


def route(logits: Array, k: int, *, xp: Namespace) -> tuple[Array, Array, Array]:
    """The router's choice for each row of `logits` (T, E), as Hugging Face's Mixtral makes it.

    Returns ``probs`` (T, E), the softmax over all E experts, and ``values``, ``experts``
    (T, k): the k largest probabilities (largest first) and their expert indices, ties to the
    lower index (:meth:`Backend.top_k`). Probabilities are in float32 for 16-bit logits (as
    Hugging Face, which takes the softmax of ``router_logits.float()``), else in their dtype.
    """
    probs = softmax(xp.astype(logits, statistics_dtype(logits.dtype, xp=xp), copy=False))
    values, experts = backends.of(logits).top_k(probs, k)  # top-k of probabilities, as HF
    return probs, values, experts
