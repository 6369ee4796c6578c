"""Rotary position embeddings (mlprims/rope.py): pairings, partial rotation, scaling, weights."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlprims import apply_rope, convert_rope_weights, rope_frequencies
from mlprims.testing import assert_close
from mlprims.testing.oracles.positional import (
    apply_rope_complex_reference,
    apply_rope_reference,
    rope_frequencies_reference,
)

torch = pytest.importorskip("torch")  # the references are torch code

LLAMA3 = {
    "rope_type": "llama3",
    "factor": 8.0,
    "low_freq_factor": 1.0,
    "high_freq_factor": 4.0,
    "original_max_position_embeddings": 8192,
}


class TestRopeFrequencies:
    def test_values_and_partial_rotation(self) -> None:
        np.testing.assert_allclose(
            rope_frequencies(64, dtype="float64"), rope_frequencies_reference(64), rtol=1e-15
        )
        np.testing.assert_allclose(
            rope_frequencies(64, rotary_dim=16, base=500000.0, dtype="float64"),
            rope_frequencies_reference(16, base=500000.0),
            rtol=1e-15,
        )

    def test_linear_scaling_divides_frequencies(self) -> None:
        scaled = rope_frequencies(32, scaling={"type": "linear", "factor": 4.0}, dtype="float64")
        np.testing.assert_allclose(scaled, rope_frequencies_reference(32) / 4.0, rtol=1e-15)
        assert_close(
            rope_frequencies(32, scaling={"rope_type": "default"}), rope_frequencies_reference(32)
        )

    def test_llama3_scaling_matches_hugging_face(self) -> None:
        # transformers' _compute_llama3_parameters, transcribed (torch, float32)
        dim, base = 128, 500000.0
        inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))
        factor, low, high, old = 8.0, 1.0, 4.0, 8192
        low_wavelen, high_wavelen = old / low, old / high
        wavelen = 2 * math.pi / inv_freq
        llama = torch.where(wavelen > low_wavelen, inv_freq / factor, inv_freq)
        smooth = (old / wavelen - low) / (high - low)
        smoothed = (1 - smooth) * llama / factor + smooth * llama
        medium = ~(wavelen < high_wavelen) * ~(wavelen > low_wavelen)
        expected = torch.where(medium, smoothed, llama).numpy()
        ours = rope_frequencies(dim, base=base, scaling=LLAMA3, backend="torch").numpy()
        np.testing.assert_allclose(ours, expected, rtol=2e-6)
        # all three regimes occur
        scale = rope_frequencies_reference(dim, base=base) / ours
        assert np.isclose(scale, 1).any() and np.isclose(scale, 8).any()
        assert ((scale > 1.01) & (scale < 7.99)).any()

    @pytest.mark.parametrize(
        ("kwargs", "error", "match"),
        [
            ({"head_dim": 7}, ValueError, "`head_dim` must be even"),
            ({"head_dim": 8, "rotary_dim": 10}, ValueError, "`rotary_dim`"),
            ({"head_dim": 8, "rotary_dim": 3}, ValueError, "`rotary_dim`"),
            ({"head_dim": 8, "base": -1.0}, ValueError, "`base`"),
            ({"head_dim": 8, "scaling": 4.0}, TypeError, "`scaling`"),
            ({"head_dim": 8, "scaling": {"type": "yarn", "factor": 2.0}}, ValueError, "`scaling"),
            ({"head_dim": 8, "scaling": {"type": "linear"}}, ValueError, "`scaling`"),
            ({"head_dim": 8, "scaling": {"type": "linear", "factor": 0}}, ValueError, "factor"),
            (
                {"head_dim": 8, "scaling": {**LLAMA3, "high_freq_factor": 0.5}},
                ValueError,
                "high_freq_factor",
            ),
        ],
    )
    def test_bad_arguments(self, kwargs: dict, error: type, match: str) -> None:
        with pytest.raises(error, match=match):
            rope_frequencies(**kwargs)


class TestApplyRope:
    @pytest.mark.parametrize("dtype", ["float32", "float64"])
    @pytest.mark.parametrize("style", ["half", "interleaved"])
    def test_agrees_with_the_formula(self, xb, dtype: str, style: str) -> None:
        x = np.random.default_rng(0).standard_normal((2, 3, 20, 8)).astype(dtype)
        out = xb.to_numpy(xb.run(apply_rope, xb.asarray(x), style=style))
        assert out.dtype == x.dtype
        expected = apply_rope_reference(x, np.arange(20), style=style)
        assert_close(out, expected, dtype, scale=4.0)

    @pytest.mark.parametrize("style", ["half", "interleaved"])
    def test_positions_offset_and_partial_rotation(self, xb, style: str) -> None:
        rng = np.random.default_rng(1)
        x = rng.standard_normal((2, 2, 5, 12))
        positions = rng.integers(0, 1000, size=(2, 1, 5))  # per sequence, shared by the heads
        out = xb.run(
            apply_rope,
            xb.asarray(x),
            xb.asarray(positions),
            offset=xb.asarray(np.int64(3)),
            style=style,
            rotary_dim=8,
            base=500.0,
        )
        expected = apply_rope_reference(x, positions + 3, style=style, rotary_dim=8, base=500.0)
        assert_close(xb.to_numpy(out), expected, "float64")
        np.testing.assert_array_equal(xb.to_numpy(out)[..., 8:], x[..., 8:])

    def test_integer_offset_equals_shifted_positions(self, xb) -> None:
        x = xb.asarray(np.random.default_rng(2).standard_normal((4, 6)))
        shifted = xb.run(apply_rope, x, offset=7)
        explicit = xb.run(apply_rope, x, xb.asarray(np.arange(7, 11)))
        assert_close(xb.to_numpy(shifted), xb.to_numpy(explicit), "float64")

    def test_interleaved_is_complex_multiplication(self, xb) -> None:
        x = np.random.default_rng(3).standard_normal((3, 7, 16))
        out = xb.run(apply_rope, xb.asarray(x), style="interleaved")
        assert_close(xb.to_numpy(out), apply_rope_complex_reference(x, np.arange(7)), "float64")

    def test_float16_keeps_dtype_and_rotates_in_float32(self, xb_half) -> None:
        xb = xb_half
        x = np.random.default_rng(4).standard_normal((6, 8)).astype(np.float16)
        out = xb.to_numpy(xb.run(apply_rope, xb.asarray(x), offset=2000))
        assert out.dtype == np.float16
        assert_close(out, apply_rope_reference(x, np.arange(2000, 2006)), "float16")

    def test_linear_scaling_is_position_interpolation(self, xb) -> None:
        x = xb.asarray(np.random.default_rng(5).standard_normal((9, 8)))
        scaled = xb.run(apply_rope, x, scaling={"type": "linear", "factor": 4.0})
        squeezed = xb.run(apply_rope, x, xb.asarray(np.arange(9) / 4.0))
        assert_close(xb.to_numpy(scaled), xb.to_numpy(squeezed), "float64")

    @given(
        m=st.integers(0, 5000),
        n=st.integers(0, 5000),
        shift=st.integers(-2000, 2000),
        style=st.sampled_from(["half", "interleaved"]),
    )
    def test_scores_depend_only_on_relative_position(
        self, xb, m: int, n: int, shift: int, style: str
    ) -> None:
        rng = np.random.default_rng(m + n)
        q, k = rng.standard_normal((2, 1, 16))
        shift = max(shift, -min(m, n))
        queries = xb.run(
            apply_rope,
            xb.asarray(np.repeat(q, 2, 0)),
            xb.asarray(np.array([m, m + shift])),
            style=style,
        )
        keys = xb.run(
            apply_rope,
            xb.asarray(np.repeat(k, 2, 0)),
            xb.asarray(np.array([n, n + shift])),
            style=style,
        )
        scores = np.sum(xb.to_numpy(queries) * xb.to_numpy(keys), axis=-1)
        np.testing.assert_allclose(scores[0], scores[1], rtol=1e-9, atol=1e-9)
        # norms are preserved, pair by pair
        np.testing.assert_allclose(
            np.linalg.norm(xb.to_numpy(queries), axis=-1), np.linalg.norm(q), rtol=1e-12
        )

    def test_matches_hugging_face_llama(self) -> None:
        # transformers LlamaRotaryEmbedding + apply_rotary_pos_emb, transcribed (float32)
        batch, heads, length, dim, base = 2, 3, 40, 16, 10000.0
        q = torch.randn(batch, heads, length, dim, generator=torch.Generator().manual_seed(0))
        position_ids = torch.arange(5, 5 + length)[None].expand(batch, -1)
        inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))
        freqs = (inv_freq[None, :, None] @ position_ids[:, None, :].float()).transpose(1, 2)
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos()[:, None], emb.sin()[:, None]
        rotate_half = torch.cat((-q[..., dim // 2 :], q[..., : dim // 2]), dim=-1)
        expected = q * cos + rotate_half * sin
        ours = apply_rope(q, position_ids[:, None, :], style="half")
        torch.testing.assert_close(ours, expected, rtol=1e-5, atol=2e-5)

    def test_matches_meta_llama(self) -> None:
        # Meta's llama/model.py precompute_freqs_cis + apply_rotary_emb, layout (B, L, N, D)
        batch, length, heads, dim, theta = 2, 30, 2, 8, 10000.0
        xq = torch.randn(batch, length, heads, dim, generator=torch.Generator().manual_seed(1))
        freqs = 1.0 / (theta ** (torch.arange(0, dim, 2)[: dim // 2].float() / dim))
        freqs_cis = torch.polar(
            torch.ones(length, dim // 2), torch.outer(torch.arange(length).float(), freqs)
        )
        xq_ = torch.view_as_complex(xq.float().reshape(*xq.shape[:-1], -1, 2))
        expected = torch.view_as_real(xq_ * freqs_cis[None, :, None, :]).flatten(3)
        ours = apply_rope(xq.transpose(1, 2), style="interleaved").transpose(1, 2)
        torch.testing.assert_close(ours, expected, rtol=1e-5, atol=2e-5)

    def test_does_not_mutate_inputs(self) -> None:
        x = np.random.default_rng(6).standard_normal((3, 4))
        before = x.copy()
        apply_rope(x, style="interleaved", rotary_dim=2)
        np.testing.assert_array_equal(x, before)

    @pytest.mark.parametrize(
        ("x", "kwargs", "error", "match"),
        [
            (np.ones(4), {}, ValueError, "`x`"),
            (np.ones((2, 4), dtype=np.int64), {}, TypeError, "`x`"),
            (np.ones((2, 5)), {}, ValueError, r"`x.shape\[-1\]` must be even"),
            (np.ones((2, 4)), {"rotary_dim": 6}, ValueError, "`rotary_dim`"),
            (np.ones((2, 4)), {"style": "neox"}, ValueError, "`style`"),
            (np.ones((2, 4)), {"positions": np.arange(3)}, ValueError, "`positions`"),
            (np.ones((2, 4)), {"positions": np.zeros((3, 2))}, ValueError, "`positions`"),
            (np.ones((2, 4)), {"positions": np.array([True, False])}, TypeError, "`positions`"),
            (np.ones((2, 4)), {"offset": 1.5}, TypeError, "`offset`"),
            (np.ones((2, 4)), {"offset": np.array([1, 2])}, TypeError, "`offset`"),
            (np.ones((2, 4)), {"base": 0}, ValueError, "`base`"),
        ],
    )
    def test_bad_arguments(self, x: np.ndarray, kwargs: dict, error: type, match: str) -> None:
        with pytest.raises(error, match=match):
            apply_rope(x, **kwargs)


def hf_permute(w: torch.Tensor, n_heads: int) -> torch.Tensor:
    """transformers' convert_llama_weights_to_hf.permute on a torch (d_out, d_in) weight."""
    dim1, dim2 = w.shape
    return w.view(n_heads, dim1 // n_heads // 2, 2, dim2).transpose(1, 2).reshape(dim1, dim2)


class TestConvertRopeWeights:
    def test_matches_hugging_face_permute_and_inverts(self, xb) -> None:
        w = torch.randn(4 * 8, 12, generator=torch.Generator().manual_seed(0))  # (d_out, d_in)
        ours = xb.run(convert_rope_weights, xb.asarray(w.numpy().T), num_heads=4, to="half")
        np.testing.assert_array_equal(xb.to_numpy(ours).T, hf_permute(w, 4).numpy())
        back = xb.run(convert_rope_weights, ours, num_heads=4, to="interleaved")
        np.testing.assert_array_equal(xb.to_numpy(back), w.numpy().T)

    @pytest.mark.parametrize("rotary_dim", [None, 4])
    def test_half_rope_of_converted_weights_equals_interleaved_rope(self, xb, rotary_dim) -> None:
        rng = np.random.default_rng(0)
        heads, head_dim, length = 2, 8, 6
        x = rng.standard_normal((length, 10))
        w_q, w_k = rng.standard_normal((2, 10, heads * head_dim))  # trained interleaved

        def project(w: np.ndarray, style: str) -> np.ndarray:
            if style == "half":
                w = xb.to_numpy(
                    xb.run(
                        convert_rope_weights,
                        xb.asarray(w),
                        num_heads=heads,
                        to="half",
                        rotary_dim=rotary_dim,
                    )
                )
            h = (x @ w).reshape(length, heads, head_dim).transpose(1, 0, 2)  # (N, L, D)
            return xb.to_numpy(
                xb.run(apply_rope, xb.asarray(h), style=style, rotary_dim=rotary_dim)
            )

        r = head_dim if rotary_dim is None else rotary_dim
        per_head = [*range(0, r, 2), *range(1, r, 2), *range(r, head_dim)]
        q_half, q_inter = project(w_q, "half"), project(w_q, "interleaved")
        assert_close(q_half, q_inter[..., per_head], "float64")
        k_half, k_inter = project(w_k, "half"), project(w_k, "interleaved")
        scores_half = q_half @ k_half.transpose(0, 2, 1)
        assert_close(scores_half, q_inter @ k_inter.transpose(0, 2, 1), "float64")

    def test_bias_vectors(self) -> None:
        bias = np.arange(8)
        np.testing.assert_array_equal(
            convert_rope_weights(bias, num_heads=2, to="half"), [0, 2, 1, 3, 4, 6, 5, 7]
        )

    def test_bad_arguments(self) -> None:
        with pytest.raises(ValueError, match="`w`"):
            convert_rope_weights(np.ones((3, 10)), num_heads=4, to="half")
        with pytest.raises(ValueError, match="`to`"):
            convert_rope_weights(np.ones((3, 8)), num_heads=2, to="neox")
        with pytest.raises(ValueError, match="`rotary_dim`"):
            convert_rope_weights(np.ones((3, 8)), num_heads=2, to="half", rotary_dim=6)
        with pytest.raises(ValueError, match="must be even"):
            convert_rope_weights(np.ones((3, 6)), num_heads=2, to="half")


def test_jax_32_bit_defaults(jax_without_x64) -> None:
    """With JAX's defaults (int32 positions, float32), under jit, with a traced offset."""
    jax = pytest.importorskip("jax")
    jnp = pytest.importorskip("jax.numpy")

    x = np.random.default_rng(7).standard_normal((2, 5, 8)).astype(np.float32)
    step = jax.jit(lambda x, offset: apply_rope(x, offset=offset, style="interleaved"))
    out = step(jnp.asarray(x), jnp.asarray(11, dtype=jnp.int32))
    assert out.dtype == jnp.float32
    expected = apply_rope_reference(x, np.arange(11, 16), style="interleaved")
    assert_close(np.asarray(out), expected, "float32")


class TestArgumentTypes:
    """A non-floating dtype and a non-number where a number belongs are TypeErrors."""

    @pytest.mark.parametrize("dtype", ["int32", "int64", "bool"])
    def test_rope_frequencies_refuses_integer_dtypes(self, xb, dtype: str) -> None:
        # before: rope_frequencies(4, dtype="int32") returned [1 0]
        with pytest.raises(TypeError, match="`dtype` must be a real floating dtype"):
            rope_frequencies(4, dtype=dtype, backend=xb.backend.name)

    @pytest.mark.parametrize("base", ["10000", None, [10000.0]])
    def test_base_must_be_a_number(self, base) -> None:
        # before: ValueError
        with pytest.raises(TypeError, match="`base` must be a number"):
            rope_frequencies(4, base=base)
        with pytest.raises(TypeError, match="`base` must be a number"):
            apply_rope(np.zeros((2, 4)), base=base)

    @pytest.mark.parametrize("base", [0.0, -1.0, math.inf, math.nan])
    def test_base_must_be_positive_and_finite(self, base: float) -> None:
        with pytest.raises(ValueError, match=r"`base` must be in \(0.0, inf\)"):
            rope_frequencies(4, base=base)

    def test_scaling_values_must_be_numbers(self) -> None:
        with pytest.raises(TypeError, match=r"`scaling\['factor'\]` must be a number"):
            rope_frequencies(4, scaling={"type": "linear", "factor": "2"})
        halved = rope_frequencies(4, scaling={"type": "linear", "factor": np.float32(2)})
        np.testing.assert_array_equal(halved, rope_frequencies(4) / 2)
