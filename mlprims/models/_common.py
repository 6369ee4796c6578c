"""What the models share: embedding lookups and the prompt padding of batched generation."""

from __future__ import annotations

from typing import Any

from array_api_compat import device as device_of

from .._array import Array, Namespace, check_array, index_dtype, shape_str

__all__ = ["embed_rows", "padding_keys", "prompt_padding"]


def prompt_padding(prompt_mask: Any, tokens: Array, *, xp: Namespace) -> tuple[Array, Array]:
    """For a buffer `tokens` (B, L) whose prompt has `prompt_mask` (B0, P), B = B0 * beams:
    the keys that count (B, L) and Hugging Face generate's positions, ``cumsum(mask) - 1``
    with 1 at the pads (``position_ids.masked_fill_(attention_mask == 0, 1)``)."""
    check_array(prompt_mask, "attention_mask")
    batch, length = tokens.shape
    rows, prompt = prompt_mask.shape if prompt_mask.ndim == 2 else (0, 0)
    if prompt_mask.ndim != 2 or rows == 0 or batch % rows or prompt > length:
        msg = (
            f"`attention_mask` must be the prompt's (B, P), for a buffer {shape_str(tokens.shape)}"
            f", got {shape_str(prompt_mask.shape)}"
        )
        raise ValueError(msg)
    keys = prompt_mask if prompt_mask.dtype == xp.bool else prompt_mask != 0
    if batch != rows:  # beam j of row b is row b * beams + j
        keys = xp.repeat(keys, batch // rows, axis=0)
    generated = xp.ones((batch, length - prompt), dtype=xp.bool, device=device_of(tokens))
    keys = xp.concat([keys, generated], axis=1)
    counts = xp.cumulative_sum(xp.astype(keys, index_dtype(xp)), axis=1) - 1
    return keys, xp.where(keys, counts, xp.ones_like(counts))


def embed_rows(table: Array, ids: Array, *, xp: Namespace) -> Array:
    """``table[ids]`` for integer ids (B, T): rows of an embedding table, (B, T, E)."""
    batch, length = ids.shape
    flat = xp.take(table, xp.reshape(ids, (batch * length,)), axis=0)
    return xp.reshape(flat, (batch, length, table.shape[-1]))


def padding_keys(mask: Any, tokens: Array, *, xp: Namespace) -> Array:
    """An attention mask (B, T) of booleans or 0/1 integers, checked against `tokens` (B, T):
    True where a token counts as a key."""
    check_array(mask, "attention_mask")
    if tuple(mask.shape) != tuple(tokens.shape):
        msg = (
            f"`attention_mask` must have shape (B, T) = {shape_str(tokens.shape)}, got "
            f"{shape_str(mask.shape)}"
        )
        raise ValueError(msg)
    return mask if mask.dtype == xp.bool else mask != 0
