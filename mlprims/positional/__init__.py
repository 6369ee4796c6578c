"""Positional encodings: absolute (sinusoidal, learned), relative (Shaw; T5 buckets; ALiBi) and
rotary (RoPE).

============  ====================================================================
``absolute``  sinusoidal_position_encoding, learned position tables
``rope``      rope_frequencies, apply_rope, convert_rope_weights
``shaw``      Shaw et al. relative attention and its clipped index
``bias``      T5's bucketed position bias and ALiBi
``_common``   the query-key distances that shaw and bias share (private)
============  ====================================================================
"""

from .absolute import (
    init_learned_position_table,
    learned_position_encoding,
    sinusoidal_position_encoding,
)
from .bias import alibi_bias, alibi_slopes, t5_position_bias, t5_relative_position_bucket
from .rope import apply_rope, convert_rope_weights, rope_frequencies
from .shaw import init_relative_position_tables, relative_attention, relative_position_index

__all__: list[str] = [
    "alibi_bias",
    "alibi_slopes",
    "apply_rope",
    "convert_rope_weights",
    "init_learned_position_table",
    "init_relative_position_tables",
    "learned_position_encoding",
    "relative_attention",
    "relative_position_index",
    "rope_frequencies",
    "sinusoidal_position_encoding",
    "t5_position_bias",
    "t5_relative_position_bucket",
]
