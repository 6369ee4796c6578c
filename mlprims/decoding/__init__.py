"""Decoding: turning a model's next-token scores into text, batched and jit-compiled.

==================  =========================================================================
``processors.py``   logits processors with Hugging Face's semantics: :func:`apply_temperature`,
                    :func:`top_k_filter`, :func:`top_p_filter`, :func:`min_p_filter`,
                    :func:`repetition_penalty`
``sampling.py``     :func:`sample_next_token`: the warpers, then a Gumbel-max draw from a
                    portable key (the same token on every backend)
``generate.py``     :func:`generate`: greedy, sample or beam decoding over a step function,
                    with fixed-size buffers (one compiled loop under ``jax.jit``)
``beam.py``         Hugging Face's beam search, vectorised (used by :func:`generate`)
``_common.py``      the loop driver, buffer writes and checks the loops share (private)
==================  =========================================================================
"""

from .generate import generate
from .processors import (
    apply_temperature,
    min_p_filter,
    repetition_penalty,
    top_k_filter,
    top_p_filter,
)
from .sampling import sample_next_token

__all__ = [
    "apply_temperature",
    "generate",
    "min_p_filter",
    "repetition_penalty",
    "sample_next_token",
    "top_k_filter",
    "top_p_filter",
]
