"""T5 bucketed relative bias and ALiBi (mlprims/positional/bias.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mlprims import (
    alibi_bias,
    alibi_slopes,
    scaled_dot_product_attention,
    t5_position_bias,
    t5_relative_position_bucket,
)
from mlprims.testing import assert_close
from mlprims.testing.oracles.attention import sdpa_reference
from mlprims.testing.oracles.positional import (
    alibi_bias_reference,
    alibi_slopes_reference,
    t5_position_bias_reference,
    t5_relative_position_bucket_reference,
)

torch = pytest.importorskip("torch")  # the references are torch code

T5_CONFIGS = [(True, 32, 128), (False, 32, 128), (True, 64, 256), (False, 16, 50), (True, 320, 800)]


def hf_t5_bucket(relative_position, bidirectional=True, num_buckets=32, max_distance=128):
    """transformers T5Attention._relative_position_bucket, transcribed (torch)."""
    relative_buckets = 0
    if bidirectional:
        num_buckets //= 2
        relative_buckets += (relative_position > 0).to(torch.long) * num_buckets
        relative_position = torch.abs(relative_position)
    else:
        relative_position = -torch.min(relative_position, torch.zeros_like(relative_position))
    max_exact = num_buckets // 2
    is_small = relative_position < max_exact
    relative_position_if_large = max_exact + (
        torch.log(relative_position.float() / max_exact)
        / math.log(max_distance / max_exact)
        * (num_buckets - max_exact)
    ).to(torch.long)
    relative_position_if_large = torch.min(
        relative_position_if_large, torch.full_like(relative_position_if_large, num_buckets - 1)
    )
    relative_buckets += torch.where(is_small, relative_position, relative_position_if_large)
    return relative_buckets


def hf_bloom_slopes(num_heads: int) -> torch.Tensor:
    """The slopes of transformers' build_alibi_tensor (BLOOM), transcribed."""
    closest = 2 ** math.floor(math.log2(num_heads))
    base = torch.tensor(2 ** (-(2 ** -(math.log2(closest) - 3))), dtype=torch.float32)
    slopes = torch.pow(base, torch.arange(1, 1 + closest, dtype=torch.int32))
    if closest != num_heads:
        extra_base = torch.tensor(2 ** (-(2 ** -(math.log2(2 * closest) - 3))), dtype=torch.float32)
        remaining = min(closest, num_heads - closest)
        extra_powers = torch.arange(1, 1 + 2 * remaining, 2, dtype=torch.int32)
        slopes = torch.cat([slopes, torch.pow(extra_base, extra_powers)], dim=0)
    return slopes


def assert_toeplitz(bias: np.ndarray) -> None:
    """bias[..., i, j] depends only on j - i."""
    np.testing.assert_array_equal(bias[..., 1:, 1:], bias[..., :-1, :-1])


class TestT5RelativePositionBucket:
    @pytest.mark.parametrize(("bidirectional", "num_buckets", "max_distance"), T5_CONFIGS)
    def test_matches_hugging_face(self, xb, bidirectional, num_buckets, max_distance) -> None:
        positions = np.arange(-1000, 1001)  # includes the borders d = 16, 32, 64, 128, ...
        out = xb.run(
            t5_relative_position_bucket,
            xb.asarray(positions),
            bidirectional=bidirectional,
            num_buckets=num_buckets,
            max_distance=max_distance,
        )
        expected = hf_t5_bucket(
            torch.from_numpy(positions), bidirectional, num_buckets, max_distance
        )
        np.testing.assert_array_equal(xb.to_numpy(out), expected.numpy())

    @pytest.mark.parametrize(("bidirectional", "num_buckets", "max_distance"), T5_CONFIGS)
    def test_oracle_matches_hugging_face(self, bidirectional, num_buckets, max_distance) -> None:
        """The NumPy oracle that `mlprims check` uses buckets exactly as transformers does."""
        positions = np.arange(-1000, 1001)
        options = {
            "bidirectional": bidirectional,
            "num_buckets": num_buckets,
            "max_distance": max_distance,
        }
        expected = hf_t5_bucket(torch.from_numpy(positions), **options)
        oracle = t5_relative_position_bucket_reference(positions, **options)
        np.testing.assert_array_equal(oracle, expected.numpy())

    def test_keeps_int32_and_shape(self, xb) -> None:
        positions = np.arange(-40, 40, dtype=np.int32).reshape(8, 10)
        got = xb.to_numpy(xb.run(t5_relative_position_bucket, xb.asarray(positions)))
        assert got.dtype == np.int32 and got.shape == (8, 10)
        assert got.min() >= 0 and got.max() < 32

    def test_known_buckets(self) -> None:
        got = t5_relative_position_bucket(np.array([-200, -20, -1, 0, 1, 20]))
        assert got.tolist() == [15, 10, 1, 0, 17, 26]
        causal = t5_relative_position_bucket(np.array([-200, -1, 0, 5]), bidirectional=False)
        assert causal.tolist() == [31, 1, 0, 0]  # keys after the query share bucket 0

    def test_bad_arguments(self) -> None:
        with pytest.raises(TypeError, match="`relative_position`"):
            t5_relative_position_bucket(np.array([1.0]))
        with pytest.raises(TypeError, match="`relative_position`"):
            t5_relative_position_bucket(np.array([1], dtype=np.uint8))
        with pytest.raises(ValueError, match="`num_buckets`"):
            t5_relative_position_bucket(np.array([1]), num_buckets=2)
        with pytest.raises(ValueError, match="`max_distance`"):
            t5_relative_position_bucket(np.array([1]), num_buckets=32, max_distance=8)
        with pytest.raises(TypeError, match="`bidirectional`"):
            t5_relative_position_bucket(np.array([1]), bidirectional="yes")


class TestT5PositionBias:
    @pytest.mark.parametrize("dtype", ["float32", "float64"])
    @pytest.mark.parametrize("bidirectional", [True, False])
    def test_is_the_table_row_of_each_bucket(self, xb, dtype: str, bidirectional: bool) -> None:
        table = np.random.default_rng(0).standard_normal((32, 3)).astype(dtype)
        out = xb.run(t5_position_bias, xb.asarray(table), 20, 150, bidirectional=bidirectional)
        got = xb.to_numpy(out)
        assert got.shape == (3, 20, 150) and str(got.dtype) == dtype
        distances = torch.arange(150)[None, :] - torch.arange(20)[:, None]
        buckets = hf_t5_bucket(distances, bidirectional).numpy()
        np.testing.assert_array_equal(got, table[buckets].transpose(2, 0, 1))
        assert_toeplitz(got)

    @pytest.mark.parametrize("causal_align", ["top_left", "bottom_right"])
    def test_agrees_with_the_oracle(self, xb, causal_align: str) -> None:
        table = np.random.default_rng(4).standard_normal((16, 2))
        options = {"bidirectional": False, "max_distance": 20, "causal_align": causal_align}
        out = xb.run(t5_position_bias, xb.asarray(table), 7, 30, **options)
        expected = t5_position_bias_reference(table, 7, 30, **options)
        np.testing.assert_array_equal(xb.to_numpy(out), expected)

    def test_bottom_right_is_the_last_rows_of_the_square_bias(self, xb) -> None:
        table = xb.asarray(np.random.default_rng(1).standard_normal((32, 2)))
        square = xb.to_numpy(xb.run(t5_position_bias, table, 9, 9, bidirectional=False))
        last = xb.run(
            t5_position_bias, table, 3, 9, bidirectional=False, causal_align="bottom_right"
        )
        np.testing.assert_array_equal(xb.to_numpy(last), square[:, -3:, :])

    def test_as_attention_bias(self, xb) -> None:
        rng = np.random.default_rng(2)
        q, k, v = rng.standard_normal((3, 2, 4, 6, 8))  # (B, N, T, H), T = S = 6
        table = rng.standard_normal((32, 4))
        bias = xb.run(t5_position_bias, xb.asarray(table), 6, 6)
        out = xb.run(
            scaled_dot_product_attention, *(xb.asarray(a) for a in (q, k, v)), bias=bias, scale=1.0
        )
        expected, _ = sdpa_reference(q, k, v, bias=xb.to_numpy(bias), scale=1.0)  # T5: no scale
        assert_close(xb.to_numpy(out), expected, "float64")

    def test_bad_arguments(self) -> None:
        with pytest.raises(ValueError, match="`table`"):
            t5_position_bias(np.zeros(32), 3, 3)
        with pytest.raises(ValueError, match="`num_buckets`"):
            t5_position_bias(np.zeros((32, 2)), 3, 3, num_buckets=16)
        with pytest.raises(TypeError, match="`table`"):
            t5_position_bias(np.zeros((32, 2), dtype=np.int64), 3, 3)
        with pytest.raises(ValueError, match="`length_k`"):
            t5_position_bias(np.zeros((32, 2)), 3, -1)


class TestAlibiSlopes:
    @pytest.mark.parametrize("num_heads", [*range(1, 34), 48, 96])
    def test_matches_the_paper_code(self, num_heads: int) -> None:
        ours = alibi_slopes(num_heads, dtype="float64")
        np.testing.assert_allclose(ours, alibi_slopes_reference(num_heads), rtol=1e-15)

    @pytest.mark.parametrize("num_heads", [1, 6, 8, 12, 40, 71])
    def test_matches_hugging_face_bloom(self, xb, num_heads: int) -> None:
        ours = xb.run(alibi_slopes, num_heads, backend=xb.backend.name)
        assert_close(xb.to_numpy(ours), hf_bloom_slopes(num_heads).numpy(), "float32")

    def test_eight_heads(self) -> None:
        assert alibi_slopes(8).tolist() == [2.0**-i for i in range(1, 9)]

    def test_bad_arguments(self) -> None:
        with pytest.raises(ValueError, match="`num_heads`"):
            alibi_slopes(0)
        with pytest.raises(TypeError, match="`num_heads`"):
            alibi_slopes(4.0)


class TestAlibiBias:
    @pytest.mark.parametrize("dtype", ["float32", "float64"])
    @pytest.mark.parametrize(("length_q", "length_k"), [(5, 5), (3, 7), (7, 3)])
    @pytest.mark.parametrize("align", ["top_left", "bottom_right"])
    def test_minus_slope_times_distance(self, xb, dtype, length_q, length_k, align) -> None:
        out = xb.run(
            alibi_bias,
            6,
            length_q,
            length_k,
            causal_align=align,
            dtype=dtype,
            backend=xb.backend.name,
        )
        got = xb.to_numpy(out)
        expected = alibi_bias_reference(6, length_q, length_k, causal_align=align)
        assert str(got.dtype) == dtype
        assert_close(got, expected, dtype)
        assert_toeplitz(got)

    def test_causal_part_is_the_paper_linear_bias(self) -> None:
        bias = alibi_bias(4, 6, 6, dtype="float64")
        slopes = alibi_slopes(4, dtype="float64")
        for i in range(6):  # paper: m * [-(i), ..., -2, -1, 0] on keys 0..i
            np.testing.assert_array_equal(bias[:, i, : i + 1], slopes[:, None] * np.arange(-i, 1))

    def test_causal_attention_equals_bloom_bias(self, xb) -> None:
        # BLOOM adds slope * j: a constant per row away from ours, so the weights are equal
        rng = np.random.default_rng(3)
        q, k, v = rng.standard_normal((3, 2, 4, 5, 8))  # (B, N, T, H)
        bias = xb.run(alibi_bias, 4, 5, 5, dtype="float64", backend=xb.backend.name)
        ours = xb.run(
            scaled_dot_product_attention,
            *(xb.asarray(a) for a in (q, k, v)),
            bias=bias,
            is_causal=True,
        )
        bloom = hf_bloom_slopes(4).double().numpy()[:, None, None] * np.arange(5)[None, None, :]
        expected, _ = sdpa_reference(q, k, v, bias=bloom, is_causal=True)
        assert_close(xb.to_numpy(ours), expected, "float32")  # BLOOM's slopes are float32

    def test_bad_arguments(self) -> None:
        with pytest.raises(ValueError, match="`causal_align`"):
            alibi_bias(2, 3, 3, causal_align="bottom")
        with pytest.raises(TypeError, match="`dtype`"):
            alibi_bias(2, 3, 3, dtype="int32")
        with pytest.raises(ValueError, match="`length_q`"):
            alibi_bias(2, -3, 3)


def test_jax_32_bit_defaults(jax_without_x64) -> None:
    """With JAX's defaults (int32 indices, float32), under jit, as users run it."""
    jax = pytest.importorskip("jax")
    jnp = pytest.importorskip("jax.numpy")

    table = jnp.asarray(np.random.default_rng(0).standard_normal((32, 2)), dtype=jnp.float32)
    bias = jax.jit(lambda t: t5_position_bias(t, 5, 300, bidirectional=False))(table)
    distances = torch.arange(300)[None, :] - torch.arange(5)[:, None]
    expected = np.asarray(table)[hf_t5_bucket(distances, False).numpy()].transpose(2, 0, 1)
    np.testing.assert_array_equal(np.asarray(bias), expected)
    alibi = alibi_bias(3, 4, 4, backend="jax")
    assert alibi.dtype == jnp.float32
    assert_close(np.asarray(alibi), alibi_bias(3, 4, 4), "float32")


class TestCreationDtype:
    """A creation function given a non-floating dtype raises; it used to round silently."""

    @pytest.mark.parametrize("dtype", ["int32", "int64", "bool"])
    def test_alibi_slopes_refuses_integer_dtypes(self, xb, dtype: str) -> None:
        # before: alibi_slopes(4, dtype="int32") returned [0 0 0 0]
        with pytest.raises(TypeError, match="`dtype` must be a real floating dtype"):
            alibi_slopes(4, dtype=dtype, backend=xb.backend.name)

    def test_alibi_slopes_unknown_name(self) -> None:
        with pytest.raises(ValueError, match="`dtype` must name a dtype"):
            alibi_slopes(4, dtype="float31")

    def test_bidirectional_must_be_a_bool(self) -> None:
        with pytest.raises(TypeError, match="`bidirectional` must be True or False, got 1"):
            t5_relative_position_bucket(np.arange(3), bidirectional=1)  # type: ignore[arg-type]
