"""Check cases for the positional encodings, against the float64 oracles of
:mod:`mlprims.testing.oracles.positional` and, for Shaw et al.'s attention,
:mod:`mlprims.testing.oracles.attention` (shared with the tests)."""

from __future__ import annotations

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
from ...testing import Case
from ...testing.oracles.attention import relative_attention_reference
from ...testing.oracles.positional import (
    alibi_bias_reference,
    apply_rope_reference,
    learned_position_encoding_reference,
    sinusoidal_position_encoding_reference,
    t5_position_bias_reference,
    t5_relative_position_bucket_reference,
)

__all__ = ["CASES"]

#: The check cases of this family, in table order.
CASES: list[Case] = []

# float32 angles p·ω carry an error of about p · 6e-8 radians: a little over the default tolerance
_ANGLE_SCALE = 5.0


CASES.append(
    Case(
        name="sinusoidal_position_encoding",
        make_inputs=lambda rng: {"positions": np.arange(3.0, 67.0)},
        run=lambda positions: sinusoidal_position_encoding(
            64, 32, positions=positions, dtype=positions.dtype
        ),
        reference=lambda positions: sinusoidal_position_encoding_reference(positions, 32),
        scale=_ANGLE_SCALE,
    )
)

CASES.append(
    Case(
        name="learned_position_encoding",
        make_inputs=lambda rng: {
            "table": rng.standard_normal((16, 8)),
            "positions": rng.integers(0, 16, size=(3, 5)),
        },
        run=lambda table, positions: learned_position_encoding(table, positions),
        reference=learned_position_encoding_reference,
    )
)


for _style, _rotary in (("half", 16), ("interleaved", 16), ("half", 8)):
    CASES.append(
        Case(
            name=f"apply_rope({_style}{'' if _rotary == 16 else f', rotary_dim={_rotary}'})",
            make_inputs=lambda rng: {"x": rng.standard_normal((2, 3, 48, 16))},
            run=lambda x, s=_style, r=_rotary: apply_rope(x, style=s, rotary_dim=r),
            reference=lambda x, s=_style, r=_rotary: apply_rope_reference(
                x, np.arange(x.shape[-2]), style=s, rotary_dim=r
            ),
            scale=_ANGLE_SCALE,
        )
    )


CASES.append(
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
        reference=lambda q, k, v, table_k, table_v: relative_attention_reference(
            q, k, v, table_k, table_v, 2, allowed=np.tril(np.ones((6, 6), dtype=bool))
        ),
    )
)


CASES.append(
    Case(
        name="t5_relative_position_bucket",
        make_inputs=lambda rng: {"relative_position": np.arange(-300, 301)},
        run=lambda relative_position: t5_relative_position_bucket(relative_position),
        reference=t5_relative_position_bucket_reference,
        dtypes=("float32",),  # integer in, integer out: one run per backend
    )
)

CASES.append(
    Case(
        name="t5_position_bias",
        make_inputs=lambda rng: {"table": rng.standard_normal((32, 4))},
        run=lambda table: t5_position_bias(table, 10, 40),
        reference=lambda table: t5_position_bias_reference(table, 10, 40),
    )
)


CASES.append(
    Case(
        name="alibi_bias",
        # no array argument: `like` only tells the case which backend and dtype to build in
        make_inputs=lambda rng: {"like": np.zeros(1)},
        run=lambda like: alibi_bias(12, 9, 20, dtype=like.dtype, backend=backends.of(like)),
        reference=lambda like: alibi_bias_reference(12, 9, 20),
    )
)
