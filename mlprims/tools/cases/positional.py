"""Check cases for the positional encodings: float64 NumPy references written from the papers."""

from __future__ import annotations

import math

import numpy as np

from ... import backends
from ...positional import (
    alibi_bias,
    apply_rope,
    learned_position_encoding,
    relative_attention,
    sinusoidal_position_encoding,
    t5_position_bias,
    t5_relative_position_bucket,
)
from ..registry import Case, register

__all__: list[str] = []

# float32 angles p·ω carry an error of about p · 6e-8 radians: a little over the default atol
_ANGLE_ATOL = {"float16": 2e-3, "float32": 1e-5, "float64": 1e-12}


def _sinusoidal(positions: np.ndarray, dim: int) -> np.ndarray:
    out = np.zeros((positions.size, dim))
    for i in range(dim // 2):
        angle = positions / 10000.0 ** (2 * i / dim)
        out[:, 2 * i], out[:, 2 * i + 1] = np.sin(angle), np.cos(angle)
    return out


register(
    Case(
        name="sinusoidal_position_encoding",
        make_inputs=lambda rng: {"positions": np.arange(3.0, 67.0)},
        run=lambda positions: sinusoidal_position_encoding(
            64, 32, positions=positions, dtype=positions.dtype
        ),
        reference=lambda positions: _sinusoidal(positions, 32),
        atol=_ANGLE_ATOL,
    )
)

register(
    Case(
        name="learned_position_encoding",
        make_inputs=lambda rng: {
            "table": rng.standard_normal((16, 8)),
            "positions": rng.integers(0, 16, size=(3, 5)),
        },
        run=lambda table, positions: learned_position_encoding(table, positions),
        reference=lambda table, positions: table[positions],
    )
)


def _rope(x: np.ndarray, style: str, rotary_dim: int) -> np.ndarray:
    out = x.copy()
    length = x.shape[-2]
    for i in range(rotary_dim // 2):
        angle = np.arange(length) / 10000.0 ** (2 * i / rotary_dim)
        a_i, b_i = (i, i + rotary_dim // 2) if style == "half" else (2 * i, 2 * i + 1)
        a, b = x[..., a_i], x[..., b_i]
        out[..., a_i] = a * np.cos(angle) - b * np.sin(angle)
        out[..., b_i] = a * np.sin(angle) + b * np.cos(angle)
    return out


for _style, _rotary in (("half", 16), ("interleaved", 16), ("half", 8)):
    register(
        Case(
            name=f"apply_rope({_style}{'' if _rotary == 16 else f', rotary_dim={_rotary}'})",
            make_inputs=lambda rng: {"x": rng.standard_normal((2, 3, 48, 16))},
            run=lambda x, s=_style, r=_rotary: apply_rope(x, style=s, rotary_dim=r),
            reference=lambda x, s=_style, r=_rotary: _rope(x, s, r),
            atol=_ANGLE_ATOL,
        )
    )


def _shaw(q, k, v, table_k, table_v, max_k: int = 2) -> np.ndarray:
    """Shaw et al. eqs. (3)-(5), causal, one (query, key) pair at a time."""
    out = np.zeros((*q.shape[:-1], v.shape[-1]))
    for b in np.ndindex(q.shape[:-2]):
        for i in range(q.shape[-2]):
            rows = [min(max(j - i, -max_k), max_k) + max_k for j in range(i + 1)]
            scores = np.array(
                [q[b][i] @ (k[b][j] + table_k[rows[j]]) for j in range(i + 1)]
            ) / math.sqrt(q.shape[-1])
            weights = np.exp(scores - scores.max())
            weights /= weights.sum()
            out[b][i] = sum(
                w * (v[b][j] + table_v[r])
                for j, (w, r) in enumerate(zip(weights, rows, strict=True))
            )
    return out


register(
    Case(
        name="relative_attention",
        make_inputs=lambda rng: {
            "q": rng.standard_normal((2, 2, 6, 4)),
            "k": rng.standard_normal((2, 2, 6, 4)),
            "v": rng.standard_normal((2, 2, 6, 3)),
            "table_k": rng.standard_normal((5, 4)),
            "table_v": rng.standard_normal((5, 3)),
        },
        run=lambda q, k, v, table_k, table_v: relative_attention(
            q, k, v, table_k, table_v, max_relative_position=2, is_causal=True
        ),
        reference=_shaw,
    )
)


def _t5_bucket(rp: int, num_buckets: int = 32, max_distance: int = 128) -> int:
    """T5's bidirectional bucket of one key-minus-query distance, in float32 like T5."""
    half = num_buckets // 2
    offset = half if rp > 0 else 0
    d, exact = abs(rp), half // 2
    if d < exact:
        return offset + d
    scaled = np.log(np.float32(d) / np.float32(exact)) / np.float32(math.log(max_distance / exact))
    return offset + min(exact + int(scaled * np.float32(half - exact)), half - 1)


register(
    Case(
        name="t5_relative_position_bucket",
        make_inputs=lambda rng: {"relative_position": np.arange(-300, 301)},
        run=lambda relative_position: t5_relative_position_bucket(relative_position),
        reference=lambda relative_position: np.array(
            [_t5_bucket(int(r)) for r in relative_position]
        ),
        dtypes=("float32",),  # integer in, integer out: one run per backend
    )
)

register(
    Case(
        name="t5_position_bias",
        make_inputs=lambda rng: {"table": rng.standard_normal((32, 4))},
        run=lambda table: t5_position_bias(table, 10, 40),
        reference=lambda table: np.stack(
            [
                [[table[_t5_bucket(j - i), h] for j in range(40)] for i in range(10)]
                for h in range(4)
            ]
        ),
    )
)


def _alibi(num_heads: int, length_q: int, length_k: int) -> np.ndarray:
    """-m_h · |j - i| with the paper's slopes (12 heads: 8 of 2^(-h), 4 of 2^(-h/2), h odd)."""
    slopes = [2.0**-h for h in range(1, 9)] + [2.0 ** (-h / 2) for h in (1, 3, 5, 7)]
    distance = np.abs(np.arange(length_k)[None, :] - np.arange(length_q)[:, None])
    return -np.array(slopes[:num_heads])[:, None, None] * distance


register(
    Case(
        name="alibi_bias",
        # no array argument: `like` only tells the case which backend and dtype to build in
        make_inputs=lambda rng: {"like": np.zeros(1)},
        run=lambda like: alibi_bias(12, 9, 20, dtype=like.dtype, backend=backends.of(like)),
        reference=lambda like: _alibi(12, 9, 20),
    )
)
