"""Positional primitives against the code of Hugging Face ``transformers`` itself, imported and
called on the same inputs: T5's relative position buckets, BLOOM's ALiBi tensor, Llama's RoPE
(frequencies with the default, linear and Llama 3 scalings, ``LlamaRotaryEmbedding`` +
``apply_rotary_pos_emb``) and GPT-J's interleaved RoPE. Configurations are built in memory;
nothing is downloaded.

tests/positional/test_bias.py and test_rope.py compare every backend with transcriptions of this
code; here the transcriptions' source answers.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlprims import (
    alibi_bias,
    alibi_slopes,
    apply_rope,
    rope_frequencies,
    scaled_dot_product_attention,
    t5_relative_position_bucket,
)
from mlprims.testing import assert_close

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
rope_utils = pytest.importorskip("transformers.modeling_rope_utils")
llama = pytest.importorskip("transformers.models.llama.modeling_llama")
gptj = pytest.importorskip("transformers.models.gptj.modeling_gptj")
t5 = pytest.importorskip("transformers.models.t5.modeling_t5")
bloom = pytest.importorskip("transformers.models.bloom.modeling_bloom")

#: Llama 3.1's rope_parameters; the head sizes below meet all three of its regimes.
LLAMA3 = {
    "rope_type": "llama3",
    "factor": 8.0,
    "low_freq_factor": 1.0,
    "high_freq_factor": 4.0,
    "original_max_position_embeddings": 8192,
}
SCALINGS = {"default": None, "linear": {"rope_type": "linear", "factor": 4.0}, "llama3": LLAMA3}


# ------------------------------------------------------------------------------------------ T5


@st.composite
def t5_options(draw: st.DrawFn) -> dict:
    """T5 bucket settings that mlprims accepts: more distance than exact buckets."""
    bidirectional = draw(st.booleans())
    num_buckets = draw(st.integers(4 if bidirectional else 2, 96))
    max_exact = (num_buckets // 2 if bidirectional else num_buckets) // 2
    max_distance = draw(st.integers(max_exact + 1, 1200))
    return dict(bidirectional=bidirectional, num_buckets=num_buckets, max_distance=max_distance)


@given(options=t5_options())
def test_t5_buckets(options: dict) -> None:
    """Every distance up to 2000 either way, borders included, on torch and NumPy."""
    positions = torch.arange(-2000, 2001)
    theirs = t5.T5Attention._relative_position_bucket(positions, **options)
    assert_close(t5_relative_position_bucket(positions, **options).numpy(), theirs.numpy())
    assert_close(t5_relative_position_bucket(positions.numpy(), **options), theirs.numpy())


@pytest.mark.parametrize("bidirectional", [True, False])
def test_t5_buckets_of_a_position_matrix(bidirectional: bool) -> None:
    """T5Attention.compute_bias's distances, memory minus context: an encoder and a decoder."""
    context = torch.arange(7)[:, None]
    memory = torch.arange(300)[None, :]
    relative = memory - context  # (T, S)
    theirs = t5.T5Attention._relative_position_bucket(relative, bidirectional=bidirectional)
    ours = t5_relative_position_bucket(relative, bidirectional=bidirectional)
    assert_close(ours.numpy(), theirs.numpy())


# -------------------------------------------------------------------------------- BLOOM ALiBi


def _bloom_alibi(num_heads: int, length: int) -> torch.Tensor:
    """build_alibi_tensor for one unpadded sequence: ``slope_h · j``, shape (N, 1, S)."""
    mask = torch.ones(1, length, dtype=torch.long)
    return bloom.build_alibi_tensor(mask, num_heads, dtype=torch.float32)


@pytest.mark.parametrize("num_heads", [1, 2, 5, 8, 12, 16, 40, 71, 112])
def test_alibi_slopes(num_heads: int) -> None:
    """The slopes are BLOOM's bias at key 1; powers of two and the interleaved rest."""
    theirs = _bloom_alibi(num_heads, 2)[:, 0, 1]
    assert_close(alibi_slopes(num_heads, backend="torch").numpy(), theirs.numpy())


def test_causal_alibi_attention_equals_bloom() -> None:
    """BLOOM adds ``slope · j``, mlprims ``-slope · (i - j)``: a constant per query row apart,
    which softmax ignores, so causal attention is the same."""
    rng = np.random.default_rng(2)
    q, k, v = torch.from_numpy(rng.standard_normal((3, 2, 6, 7, 8), dtype=np.float32))
    theirs = scaled_dot_product_attention(q, k, v, bias=_bloom_alibi(6, 7), is_causal=True)
    ours = scaled_dot_product_attention(
        q, k, v, bias=alibi_bias(6, 7, 7, backend="torch"), is_causal=True
    )
    assert_close(ours.numpy(), theirs.numpy(), scale=5)


# --------------------------------------------------------------------------------- Llama RoPE


def _llama_config(head_dim: int, base: float, scaling: dict | None, partial: float = 1.0):
    rope = {"rope_type": "default", **(scaling or {}), "rope_theta": base}
    if partial != 1.0:
        rope["partial_rotary_factor"] = partial
    return transformers.LlamaConfig(
        hidden_size=2 * head_dim,
        num_attention_heads=2,
        head_dim=head_dim,
        max_position_embeddings=131072,  # above llama3's original 8192
        rope_parameters=rope,
    )


def _hf_inverse_frequencies(config) -> torch.Tensor:
    kind = config.rope_parameters["rope_type"]
    if kind == "default":
        inv_freq, attention_factor = llama.LlamaRotaryEmbedding.compute_default_rope_parameters(
            config
        )
    else:
        inv_freq, attention_factor = rope_utils.ROPE_INIT_FUNCTIONS[kind](config)
    assert attention_factor == 1.0  # nothing multiplies cos and sin in these three
    return inv_freq


@pytest.mark.parametrize("kind", SCALINGS)
@pytest.mark.parametrize(("head_dim", "base"), [(16, 10000.0), (64, 10000.0), (128, 500000.0)])
def test_frequencies(kind: str, head_dim: int, base: float) -> None:
    config = _llama_config(head_dim, base, SCALINGS[kind])
    ours = rope_frequencies(head_dim, base=base, scaling=SCALINGS[kind], backend="torch")
    assert_close(ours.numpy(), _hf_inverse_frequencies(config).numpy())  # HF rounds in float32


@pytest.mark.parametrize("kind", ["linear", "llama3"])
def test_frequencies_of_a_partial_rotation(kind: str) -> None:
    """``partial_rotary_factor`` 0.25 of a 128 head: mlprims' ``rotary_dim=32``."""
    config = _llama_config(128, 500000.0, SCALINGS[kind], partial=0.25)
    ours = rope_frequencies(
        128, base=500000.0, rotary_dim=32, scaling=SCALINGS[kind], backend="torch"
    )
    assert_close(ours.numpy(), _hf_inverse_frequencies(config).numpy())


def test_llama3_scaling_meets_every_regime() -> None:
    """The comparison above is worth something: unchanged, divided and blended frequencies."""
    ratio = rope_frequencies(128, base=500000.0, dtype="float64") / rope_frequencies(
        128, base=500000.0, scaling=LLAMA3, dtype="float64"
    )
    assert np.isclose(ratio, 1).any() and np.isclose(ratio, 8).any()
    assert ((ratio > 1.01) & (ratio < 7.99)).any()


@given(
    kind=st.sampled_from(tuple(SCALINGS)),
    batch=st.integers(1, 2),
    heads=st.integers(1, 3),
    length=st.integers(1, 9),
    half_dim=st.integers(1, 8),
    start=st.integers(0, 500),
    seed=st.integers(0, 2**16),
)
def test_llama_rotary_embedding(
    kind: str, batch: int, heads: int, length: int, half_dim: int, start: int, seed: int
) -> None:
    """LlamaRotaryEmbedding's cos/sin, then apply_rotary_pos_emb, on float32 (B, N, L, D)
    queries and keys; each sequence has its own positions (a left-padded batch)."""
    head_dim, base = 2 * half_dim, 10000.0
    generator = torch.Generator().manual_seed(seed)
    q = torch.randn(batch, heads, length, head_dim, generator=generator)
    k = torch.randn(batch, heads, length, head_dim, generator=generator)
    starts = torch.randint(0, start + 1, (batch, 1), generator=generator)
    position_ids = starts + torch.arange(length)  # (B, L)
    rotary = llama.LlamaRotaryEmbedding(_llama_config(head_dim, base, SCALINGS[kind]))
    cos, sin = rotary(q, position_ids)
    q_theirs, k_theirs = llama.apply_rotary_pos_emb(q, k, cos, sin)
    for x, theirs in ((q, q_theirs), (k, k_theirs)):
        ours = apply_rope(x, position_ids[:, None, :], base=base, scaling=SCALINGS[kind])
        # float32 angles p · ω: ω rounded once here, computed in float32 by HF, each within
        # 6e-8 · ω (ω <= 1) of the exact value, so the angles differ by up to p · 1.2e-7
        angle = float(position_ids.max()) * 1.2e-7
        assert_close(ours.numpy(), theirs.numpy(), atol=2e-5 + angle * float(x.abs().max()))


def test_rotate_half_is_the_quarter_turn() -> None:
    """HF's rotate_half is apply_rope by 90 degrees: one pair at position 1 with ω = π/2."""
    x = torch.randn(3, 2, 8, generator=torch.Generator().manual_seed(0))
    quarter = apply_rope(x.double(), torch.full((3, 2), torch.pi / 2, dtype=torch.float64),
                         base=1.0)  # fmt: skip  # base 1: every ω is 1
    assert_close(quarter.numpy(), llama.rotate_half(x.double()).numpy(), atol=1e-15)


# -------------------------------------------------------------------------------- GPT-J RoPE


@pytest.mark.parametrize(("head_dim", "rotary_dim"), [(8, None), (16, 16), (16, 8), (12, 4)])
def test_gptj_interleaved(head_dim: int, rotary_dim: int | None) -> None:
    """GPT-J's create_sinusoidal_positions and apply_rotary_pos_emb (rotate_every_two), layout
    (B, L, N, D); its attention rotates the first `rotary_dim` features and passes the rest."""
    r = rotary_dim or head_dim
    batch, length, heads = 2, 11, 3
    x = torch.randn(batch, length, heads, head_dim, generator=torch.Generator().manual_seed(r))
    position_ids = torch.arange(3, 3 + length)[None].expand(batch, -1)
    sincos = gptj.create_sinusoidal_positions(64, r)[position_ids]  # (B, L, R)
    sin, cos = torch.split(sincos, r // 2, dim=-1)
    rotated = gptj.apply_rotary_pos_emb(x[..., :r], sin, cos)
    theirs = torch.cat([rotated, x[..., r:]], dim=-1)
    ours = apply_rope(
        x.transpose(1, 2), position_ids[:, None, :], style="interleaved", rotary_dim=rotary_dim
    ).transpose(1, 2)
    assert_close(ours.numpy(), theirs.numpy(), atol=1e-5)
