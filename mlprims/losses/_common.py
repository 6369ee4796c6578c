"""What the loss modules share: the names of the reductions, their arithmetic, a stable
log-sigmoid."""

from __future__ import annotations

import math

from .._array import Array, Namespace

__all__ = ["REDUCTIONS", "log_sigmoid", "reduce"]

REDUCTIONS = ("none", "mean", "sum")


def log_sigmoid(x: Array, *, xp: Namespace) -> Array:
    """``log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|))``: never forms ``exp(|x|)``, so
    logits of +-1000 give finite values and no warnings (torch's ``F.logsigmoid``)."""
    return xp.clip(x, max=0.0) - xp.log1p(xp.exp(-xp.abs(x)))


def reduce(loss: Array, reduction: str, *, xp: Namespace) -> Array:
    """`loss` as it is ("none"), its sum, or its mean over its elements (NaN when there are
    none: torch's 0 / 0)."""
    if reduction == "none":
        return loss
    total = xp.sum(loss)
    if reduction == "sum":
        return total
    count = math.prod(loss.shape)
    return total / count if count else xp.full_like(total, xp.nan)
