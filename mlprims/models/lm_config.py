"""The sizes of the tiny language model (:class:`LMConfig`), checked once when made."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .._array import check_int

__all__ = ["LMConfig", "check_config", "kv_heads"]


@dataclass(frozen=True)
class LMConfig:
    """The sizes of a :func:`lm` model (hashable: a static argument under ``jax.jit``).

    Parameters
    ----------
    vocab : int
        V, the number of token ids.
    d_model : int
        E, the width of the residual stream.
    n_layers : int
        L, the number of blocks.
    n_heads : int
        N query heads.
    n_kv_heads : int, optional
        K key/value heads, a divisor of N (default N; K < N is grouped-query attention).
    d_ff : int, optional
        F, the hidden width of SwiGLU; default Llama's ``8/3 · d_model`` rounded up to a
        multiple of 8.
    max_len : int
        M, the longest sequence: the KV cache's capacity and the largest T.
    rope_base : float
        RoPE's ``base`` (``rope_theta``).
    norm_eps : float
        The RMSNorms' epsilon.
    tie_embeddings : bool
        The output head is the transposed embedding (default, as GPT-2 and small Llamas);
        False: the parameters hold their own ``head`` (E, V) (Hugging Face's ``lm_head``).
    rope_scaling : mapping, optional
        RoPE's frequency scaling, as :func:`mlprims.apply_rope`'s ``scaling`` (Hugging Face's
        ``rope_scaling``: ``{"rope_type": "llama3", "factor": ..., ...}``); kept as a sorted
        tuple of items so the config stays hashable.
    sliding_window : int, optional
        W: a token sees only the W latest positions, itself included (Mistral); None: all.
    head_dim : int, optional
        H, each head's size, even (RoPE rotates pairs); default ``d_model // n_heads``, which
        must then divide evenly. Given, N·H may differ from E (Qwen3, Gemma: Hugging Face's
        ``head_dim``): q is (E, N·H) and the output projection (N·H, E).
    """

    vocab: int
    d_model: int = 64
    n_layers: int = 2
    n_heads: int = 4
    n_kv_heads: int | None = None
    d_ff: int | None = None
    max_len: int = 128
    rope_base: float = 10000.0
    norm_eps: float = 1e-5
    tie_embeddings: bool = True
    rope_scaling: Any = None
    sliding_window: int | None = None
    head_dim: int = None  # type: ignore[assignment]  # resolved to an int in __post_init__

    def __post_init__(self) -> None:
        for name in ("vocab", "d_model", "n_layers", "n_heads", "max_len"):  # Python ints
            object.__setattr__(self, name, check_int(getattr(self, name), name, minimum=1))
        if self.head_dim is None:
            if self.d_model % self.n_heads or (self.d_model // self.n_heads) % 2:
                msg = (
                    f"`d_model` ({self.d_model}) must be divisible by `n_heads` ({self.n_heads}) "
                    "into an even head size (RoPE rotates pairs of features), or `head_dim` given"
                )
                raise ValueError(msg)
            object.__setattr__(self, "head_dim", self.d_model // self.n_heads)
        head_dim = check_int(self.head_dim, "head_dim", minimum=2)
        if head_dim % 2:
            msg = f"`head_dim` ({head_dim}) must be even (RoPE rotates pairs of features)"
            raise ValueError(msg)
        object.__setattr__(self, "head_dim", head_dim)
        kv = self.n_heads if self.n_kv_heads is None else self.n_kv_heads
        kv = check_int(kv, "n_kv_heads", minimum=1)
        if self.n_heads % kv:
            msg = f"`n_kv_heads` ({kv}) must divide `n_heads` ({self.n_heads})"
            raise ValueError(msg)
        object.__setattr__(self, "n_kv_heads", kv)  # resolved defaults: equal configs compare equal
        if self.d_ff is None:
            object.__setattr__(self, "d_ff", 8 * math.ceil(8 * self.d_model / 3 / 8))
        object.__setattr__(self, "d_ff", check_int(self.d_ff, "d_ff", minimum=1))
        if not (isinstance(self.rope_base, (int, float)) and self.rope_base > 0):
            msg = f"`rope_base` must be a positive number, got {self.rope_base!r}"
            raise ValueError(msg)
        if self.sliding_window is not None:
            window = check_int(self.sliding_window, "sliding_window", minimum=1)
            object.__setattr__(self, "sliding_window", window)
        if not isinstance(self.tie_embeddings, bool):
            msg = f"`tie_embeddings` must be True or False, got {self.tie_embeddings!r}"
            raise TypeError(msg)
        if isinstance(self.rope_scaling, Mapping):  # hashable: a static argument of jax.jit
            object.__setattr__(self, "rope_scaling", tuple(sorted(self.rope_scaling.items())))
        elif self.rope_scaling is not None and not isinstance(self.rope_scaling, tuple):
            msg = f"`rope_scaling` must be a mapping or None, got {self.rope_scaling!r}"
            raise TypeError(msg)
        if not (isinstance(self.norm_eps, (int, float)) and self.norm_eps >= 0):
            msg = f"`norm_eps` must be a number >= 0, got {self.norm_eps!r}"
            raise ValueError(msg)

    @property
    def scaling(self) -> dict[str, Any] | None:
        """`rope_scaling` as the mapping :func:`mlprims.apply_rope` takes."""
        return None if self.rope_scaling is None else dict(self.rope_scaling)


def kv_heads(config: LMConfig) -> int:
    """K (``n_kv_heads``, resolved to N by LMConfig when not given)."""
    return config.n_kv_heads or config.n_heads


def check_config(config: Any) -> None:
    """TypeError unless `config` is an :class:`LMConfig`."""
    if not isinstance(config, LMConfig):
        msg = f"`config` must be an LMConfig, got {type(config).__name__}"
        raise TypeError(msg)
