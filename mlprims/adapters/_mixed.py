"""Several LoRA adapters in one batch, one chosen per row (peft's mixed-batch inference).

peft's ``_mixed_batch_forward`` loops over the adapters named in ``adapter_names`` and updates
the rows of each sub-batch in place; here each row gathers its own A and B and the update is
one batched matmul, so the shapes never depend on which adapters are present (jit-safe).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from array_api_compat import device as device_of

from .._array import Array, Namespace, check_dtype, concrete_any, shape_str

__all__ = ["alphas", "per_row_update"]


def alphas(alpha: Any, n: int) -> list[Any]:
    """One alpha per stacked adapter: `alpha` itself n times, or a sequence of n."""
    if not isinstance(alpha, Sequence) or isinstance(alpha, str):
        return [alpha] * n
    if len(alpha) != n:
        msg = f"`alpha` must be one number or one per stacked adapter ({n}), got {len(alpha)}"
        raise ValueError(msg)
    return list(alpha)


def per_row_update(
    h: Array, a: Array, b: Array, ids: Array, scalings: Sequence[float], *, xp: Namespace
) -> Array:
    """``(h_i @ A[id_i]) @ B[id_i] * s[id_i]`` for each row i of `h` (B, ..., D_in); zero where
    ``id_i = -1``. A is (n, D_in, r), B (n, r, D_out); the result is (B, ..., D_out)."""
    _check_ids(ids, h, a.shape[0], xp=xp)
    used = ids >= 0
    safe = xp.where(used, ids, xp.zeros_like(ids))  # -1 gathers adapter 0, then scaled by 0
    rows = h.shape[0]
    flat = xp.reshape(h, (rows, -1, h.shape[-1]))  # (B, M, D_in), M the middle axes
    delta = (flat @ xp.take(a, safe, axis=0)) @ xp.take(b, safe, axis=0)  # (B, M, D_out)
    s = xp.asarray(scalings, dtype=a.dtype, device=device_of(a))
    s_rows = xp.where(used, xp.take(s, safe, axis=0), xp.zeros_like(s[:1]))  # (B,)
    return xp.reshape(delta * s_rows[:, None, None], (*h.shape[:-1], b.shape[-1]))


def _check_ids(ids: Array, h: Array, n: int, *, xp: Namespace) -> None:
    """`ids` of shape (B,) for `h` (B, ..., D_in), integers in [-1, n) where they are known."""
    check_dtype(ids, "adapter_ids", "integral", xp=xp)
    if h.ndim < 2 or tuple(ids.shape) != (h.shape[0],):
        msg = (
            "`adapter_ids` must have shape (B,) for x of shape (B, ..., D_in), one id per row, "
            f"got {shape_str(ids.shape)} for x of shape {shape_str(h.shape)}"
        )
        raise ValueError(msg)
    if concrete_any((ids < -1) | (ids >= n), xp=xp):
        low, high = int(xp.min(ids)), int(xp.max(ids))
        msg = (
            f"`adapter_ids` must be in [-1, {n}) (-1: no adapter, peft's '__base__'), got "
            f"values from {low} to {high}"
        )
        raise ValueError(msg)
