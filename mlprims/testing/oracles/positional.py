"""Float64 NumPy oracles for :mod:`mlprims.positional`, written from the papers independently of
the primitives: sinusoids and rotations one column (pair) at a time, RoPE once more as complex
multiplication, T5's buckets one distance at a time (in float32, as T5 computes them), ALiBi's
slopes by the paper's own code. Shaw et al.'s attention is in :mod:`.attention`. Shared by
``tests/`` and ``mlprims check``.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "alibi_bias_reference",
    "alibi_slopes_reference",
    "apply_rope_complex_reference",
    "apply_rope_reference",
    "learned_position_encoding_reference",
    "rope_frequencies_reference",
    "sinusoidal_position_encoding_reference",
    "t5_position_bias_reference",
    "t5_relative_position_bucket_reference",
]


def sinusoidal_position_encoding_reference(
    positions, dim, *, base=10000.0, layout="interleaved", spacing="paper"
):
    """The paper's sines and cosines, column by column; matches ``sinusoidal_position_encoding``."""
    positions = np.asarray(positions, dtype=np.float64)
    out = np.zeros((*positions.shape, dim))
    half = dim // 2
    for i in range(half):
        if spacing == "paper":
            omega = 1.0 / base ** (2 * i / dim)
        else:  # "endpoint": fairseq / tensor2tensor, frequencies from 1 down to 1 / base
            omega = math.exp(-i * math.log(base) / max(half - 1, 1))
        sin_col, cos_col = (2 * i, 2 * i + 1) if layout == "interleaved" else (i, half + i)
        out[..., sin_col] = np.sin(positions * omega)
        out[..., cos_col] = np.cos(positions * omega)
    return out


def learned_position_encoding_reference(table, positions):
    """`table`'s rows at `positions` by NumPy indexing; matches ``learned_position_encoding``."""
    return np.asarray(table, dtype=np.float64)[np.asarray(positions)]


def rope_frequencies_reference(rotary_dim, *, base=10000.0):
    """base^(-2i / rotary_dim) for i < rotary_dim / 2; matches unscaled ``rope_frequencies``."""
    return np.array([base ** (-2.0 * i / rotary_dim) for i in range(rotary_dim // 2)])


def apply_rope_reference(x, positions, *, style="half", rotary_dim=None, base=10000.0):
    """Each pair rotated by position * omega_i, one pair at a time; matches ``apply_rope``.

    `positions` broadcasts against ``x.shape[:-1]``; pairs are (i, i + r/2) for ``style="half"``
    (GPT-NeoX, Hugging Face Llama) and (2i, 2i + 1) for ``"interleaved"`` (Meta Llama, GPT-J).
    """
    x = np.asarray(x, dtype=np.float64)
    r = x.shape[-1] if rotary_dim is None else rotary_dim
    omega = rope_frequencies_reference(r, base=base)
    angles = np.asarray(positions, dtype=np.float64)[..., None] * omega  # (..., L, r/2)
    out = np.broadcast_to(x, np.broadcast_shapes(x.shape, (*angles.shape[:-1], 1))).copy()
    source = out.copy()
    for i in range(r // 2):
        first, second = (i, i + r // 2) if style == "half" else (2 * i, 2 * i + 1)
        a, b = source[..., first], source[..., second]
        c, s = np.cos(angles[..., i]), np.sin(angles[..., i])
        out[..., first] = a * c - b * s
        out[..., second] = a * s + b * c
    return out


def apply_rope_complex_reference(x, positions, *, base=10000.0):
    """Pairs as complex numbers times e^(i p omega_i), as Meta Llama; matches interleaved RoPE."""
    x = np.asarray(x, dtype=np.float64)
    omega = rope_frequencies_reference(x.shape[-1], base=base)
    z = x[..., 0::2] + 1j * x[..., 1::2]
    z = z * np.exp(1j * np.asarray(positions, dtype=np.float64)[..., None] * omega)
    return np.stack([z.real, z.imag], axis=-1).reshape((*z.shape[:-1], x.shape[-1]))


def _t5_bucket(distance, bidirectional, num_buckets, max_distance):
    """The bucket of one key-minus-query distance, in float32 like T5 (mesh TF, transformers)."""
    bucket = 0
    if bidirectional:
        num_buckets //= 2
        bucket += num_buckets if distance > 0 else 0
        distance = abs(distance)
    else:
        distance = max(-distance, 0)
    exact = num_buckets // 2
    if distance < exact:
        return bucket + distance
    f32 = np.float32
    scaled = np.log(f32(distance) / f32(exact)) / f32(math.log(max_distance / exact))
    return bucket + min(exact + int(scaled * f32(num_buckets - exact)), num_buckets - 1)


def t5_relative_position_bucket_reference(
    relative_position, *, bidirectional=True, num_buckets=32, max_distance=128
):
    """Each distance's T5 bucket, one by one; matches ``t5_relative_position_bucket``."""
    d = np.asarray(relative_position)
    buckets = [_t5_bucket(int(r), bidirectional, num_buckets, max_distance) for r in d.reshape(-1)]
    return np.array(buckets, dtype=np.int64).reshape(d.shape)


def t5_position_bias_reference(
    table,
    length_q,
    length_k,
    *,
    bidirectional=True,
    num_buckets=None,
    max_distance=128,
    causal_align="top_left",
):
    """table[bucket(j - i - shift), h] at each (h, i, j); matches ``t5_position_bias``."""
    table = np.asarray(table, dtype=np.float64)
    buckets = table.shape[0] if num_buckets is None else num_buckets
    shift = 0 if causal_align == "top_left" else length_k - length_q
    out = np.zeros((table.shape[1], length_q, length_k))
    for i in range(length_q):
        for j in range(length_k):
            bucket = _t5_bucket(j - (i + shift), bidirectional, buckets, max_distance)
            out[:, i, j] = table[bucket]
    return out


def alibi_slopes_reference(num_heads):
    """The paper's get_slopes (ofirpress/attention_with_linear_biases); matches ``alibi_slopes``."""

    def power_of_2(n):
        start = 2 ** (-(2 ** -(math.log2(n) - 3)))
        return [start * start**i for i in range(n)]

    if math.log2(num_heads).is_integer():
        return np.array(power_of_2(num_heads))
    closest = 2 ** math.floor(math.log2(num_heads))
    extra = alibi_slopes_reference(2 * closest)[0::2][: num_heads - closest]
    return np.array(power_of_2(closest) + list(extra))


def alibi_bias_reference(num_heads, length_q, length_k, *, causal_align="top_left"):
    """-m_h |j - (i + shift)| with the paper's slopes, entry by entry; matches ``alibi_bias``."""
    slopes = alibi_slopes_reference(num_heads)
    shift = 0 if causal_align == "top_left" else length_k - length_q
    return np.array(
        [
            [[-m * abs(j - (i + shift)) for j in range(length_k)] for i in range(length_q)]
            for m in slopes
        ]
    )
