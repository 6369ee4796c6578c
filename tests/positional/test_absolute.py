"""Absolute position encodings: sinusoidal and learned tables (mlprims/positional.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import mlprims.random
from mlprims import (
    init_learned_position_table,
    learned_position_encoding,
    sinusoidal_position_encoding,
)
from mlprims.testing import assert_close
from mlprims.testing.oracles.positional import (
    learned_position_encoding_reference,
    sinusoidal_position_encoding_reference,
)

torch = pytest.importorskip("torch")  # the references are torch code


class TestSinusoidalPositionEncoding:
    @pytest.mark.parametrize("dtype", ["float32", "float64"])
    @pytest.mark.parametrize(
        ("layout", "spacing"),
        [("interleaved", "paper"), ("concat", "paper"), ("concat", "endpoint")],
    )
    def test_agrees_with_the_formula(self, xb, dtype: str, layout: str, spacing: str) -> None:
        out = xb.run(
            sinusoidal_position_encoding,
            50,
            16,
            layout=layout,
            spacing=spacing,
            dtype=dtype,
            backend=xb.backend.name,
        )
        assert str(xb.to_numpy(out).dtype) == dtype
        expected = sinusoidal_position_encoding_reference(
            np.arange(50), 16, layout=layout, spacing=spacing
        )
        assert_close(xb.to_numpy(out), expected, dtype, scale=4.0)

    @pytest.mark.parametrize("dtype", ["float32", "float64"])
    def test_explicit_positions_batch_and_base(self, xb, dtype: str) -> None:
        positions = np.array([[7, 8, 9, 10], [0, 3, 1, 2]], dtype=np.int64)
        out = xb.run(
            sinusoidal_position_encoding,
            4,
            6,
            positions=xb.asarray(positions),
            base=100.0,
            dtype=dtype,
        )
        expected = sinusoidal_position_encoding_reference(positions, 6, base=100.0)
        assert_close(xb.to_numpy(out), expected, dtype)

    def test_float16_result_uses_float32_angles(self, xb_half) -> None:
        xb = xb_half
        positions = np.arange(3000, 3008, dtype=np.float32)
        out = xb.run(
            sinusoidal_position_encoding, 8, 8, positions=xb.asarray(positions), dtype="float16"
        )
        got = xb.to_numpy(out)
        assert got.dtype == np.float16
        # float16 angles near 3000 would be off by up to a radian; float32 ones by 1e-4
        assert_close(got, sinusoidal_position_encoding_reference(positions, 8), "float16")

    def test_concat_is_a_column_permutation_of_interleaved(self) -> None:
        inter = sinusoidal_position_encoding(9, 10, dtype="float64")
        concat = sinusoidal_position_encoding(9, 10, layout="concat", dtype="float64")
        np.testing.assert_array_equal(concat, np.concatenate([inter[:, 0::2], inter[:, 1::2]], 1))

    @pytest.mark.parametrize("shift", [1, 5, 37])
    def test_shift_is_a_fixed_rotation(self, shift: int) -> None:
        dim, base = 12, 10000.0
        pe = sinusoidal_position_encoding(200, dim, dtype="float64")
        rotation = np.zeros((dim, dim))  # PE(p + k) = PE(p) @ rotation, the same for every p
        for i in range(dim // 2):
            angle = shift / base ** (2 * i / dim)
            c, s = math.cos(angle), math.sin(angle)
            rotation[2 * i : 2 * i + 2, 2 * i : 2 * i + 2] = [[c, -s], [s, c]]
        np.testing.assert_allclose(pe[:-shift] @ rotation, pe[shift:], atol=1e-12)
        np.testing.assert_allclose(rotation @ rotation.T, np.eye(dim), atol=1e-15)

    def test_matches_fairseq_sinusoidal_embedding(self) -> None:
        # fairseq SinusoidalPositionalEmbedding.get_embedding, transcribed in torch (float32)
        num, dim = 20, 8
        half = dim // 2
        scale = math.log(10000) / (half - 1)
        freq = torch.exp(torch.arange(half, dtype=torch.float) * -scale)
        angles = torch.arange(num, dtype=torch.float).unsqueeze(1) * freq.unsqueeze(0)
        fairseq = torch.cat([torch.sin(angles), torch.cos(angles)], dim=1).numpy()
        ours = sinusoidal_position_encoding(
            num, dim, layout="concat", spacing="endpoint", backend="torch"
        )
        assert_close(ours.numpy(), fairseq, "float32")

    def test_no_positions_and_zero_length(self) -> None:
        assert sinusoidal_position_encoding(0, 4).shape == (0, 4)

    @pytest.mark.parametrize(
        ("kwargs", "error", "match"),
        [
            ({"length": 3, "dim": 5}, ValueError, "`dim` must be even"),
            ({"length": 3, "dim": 0}, ValueError, "`dim`"),
            ({"length": -1, "dim": 4}, ValueError, "`length`"),
            ({"length": 3.0, "dim": 4}, TypeError, "`length`"),
            ({"length": 3, "dim": 4, "layout": "blocks"}, ValueError, "`layout`"),
            ({"length": 3, "dim": 4, "spacing": "log"}, ValueError, "`spacing`"),
            ({"length": 3, "dim": 4, "base": 0.0}, ValueError, "`base`"),
            ({"length": 3, "dim": 4, "base": math.inf}, ValueError, "`base`"),
            ({"length": 3, "dim": 4, "dtype": "int32"}, TypeError, "`dtype`"),
            ({"length": 3, "dim": 4, "dtype": "float31"}, ValueError, "`dtype`"),
            ({"length": 3, "dim": 4, "positions": np.arange(4)}, ValueError, "`positions`"),
            (
                {"length": 2, "dim": 4, "positions": np.array([True, False])},
                TypeError,
                "`positions`",
            ),
            ({"length": 2, "dim": 4, "positions": [0, 1]}, TypeError, "`positions`"),
        ],
    )
    def test_bad_arguments(self, kwargs: dict, error: type, match: str) -> None:
        with pytest.raises(error, match=match):
            sinusoidal_position_encoding(**kwargs)


class TestLearnedPositionEncoding:
    @pytest.mark.parametrize("dtype", ["float32", "float64"])
    def test_looks_up_rows(self, xb, dtype: str) -> None:
        rng = np.random.default_rng(0)
        table = rng.standard_normal((10, 5)).astype(dtype)
        positions = np.array([[0, 9, 3], [3, 3, 1]])
        out = xb.run(learned_position_encoding, xb.asarray(table), xb.asarray(positions))
        expected = learned_position_encoding_reference(table, positions)
        assert_close(xb.to_numpy(out), expected, dtype, rtol=0, atol=0)

    def test_scalar_position_and_int32_positions(self, xb) -> None:
        table = np.arange(12.0).reshape(4, 3)
        out = xb.run(learned_position_encoding, xb.asarray(table), xb.asarray(np.int32(2)))
        np.testing.assert_array_equal(xb.to_numpy(out), table[2])
        out = xb.run(
            learned_position_encoding, xb.asarray(table), xb.asarray(np.array([3, 0], np.int32))
        )
        np.testing.assert_array_equal(xb.to_numpy(out), table[[3, 0]])

    def test_matches_torch_embedding(self) -> None:
        table = torch.randn(16, 4, generator=torch.Generator().manual_seed(0))
        positions = torch.tensor([[1, 15, 0], [2, 2, 7]])
        expected = torch.nn.functional.embedding(positions, table)
        torch.testing.assert_close(learned_position_encoding(table, positions), expected)

    @pytest.mark.parametrize("bad", [5, -1])
    def test_out_of_range_raises_eagerly_and_is_nan_under_jit(self, xb, bad: int) -> None:
        table = xb.asarray(np.ones((5, 2)))
        positions = xb.asarray(np.array([0, bad, 4]))
        if xb.is_jit:  # values unknown while tracing: the row becomes NaN, never another row
            out = xb.to_numpy(xb.run(learned_position_encoding, table, positions))
            assert np.isnan(out[1]).all() and not np.isnan(out[[0, 2]]).any()
            return
        with pytest.raises(ValueError, match=r"`positions` must be in \[0, 5\)"):
            learned_position_encoding(table, positions)

    def test_bad_arguments(self) -> None:
        with pytest.raises(TypeError, match="`positions`"):
            learned_position_encoding(np.ones((4, 2)), np.array([0.0, 1.0]))
        with pytest.raises(TypeError, match="`positions`"):
            learned_position_encoding(np.ones((4, 2)), np.array([True]))
        with pytest.raises(ValueError, match="`table`"):
            learned_position_encoding(np.ones(4), np.array([0]))
        with pytest.raises(TypeError, match="`table`"):
            learned_position_encoding(np.ones((4, 2), dtype=np.int64), np.array([0]))


class TestInitLearnedPositionTable:
    def test_shape_dtype_and_std(self, xb) -> None:
        key = mlprims.random.key(3, backend=xb.backend.name)
        table = xb.to_numpy(init_learned_position_table(key, 512, 64, std=0.02))
        assert table.shape == (512, 64) and table.dtype == np.float32
        assert abs(table.std() - 0.02) < 0.001 and abs(table.mean()) < 0.001

    def test_same_table_on_every_backend(self, xb) -> None:
        key = mlprims.random.key(7, backend=xb.backend.name)
        table = xb.to_numpy(init_learned_position_table(key, 4, 3, std=1.0, dtype="float64"))
        reference = init_learned_position_table(
            mlprims.random.key(7), 4, 3, std=1.0, dtype="float64"
        )
        np.testing.assert_allclose(table, reference, rtol=1e-6)  # log's last bit may differ

    def test_bad_arguments(self) -> None:
        key = mlprims.random.key(0)
        with pytest.raises(ValueError, match="`max_length`"):
            init_learned_position_table(key, 0, 4)
        with pytest.raises(ValueError, match="`std`"):
            init_learned_position_table(key, 4, 4, std=-1.0)


def test_jax_32_bit_defaults(jax_without_x64) -> None:
    """With JAX's defaults (int32 positions, float32), under jit."""
    jax = pytest.importorskip("jax")
    jnp = pytest.importorskip("jax.numpy")

    table = jnp.asarray(np.arange(12.0).reshape(6, 2), dtype=jnp.float32)
    positions = jnp.asarray([5, 0, 2], dtype=jnp.int32)
    out = jax.jit(learned_position_encoding)(table, positions)
    np.testing.assert_array_equal(np.asarray(out), np.asarray(table)[[5, 0, 2]])
    pe = jax.jit(lambda p: sinusoidal_position_encoding(3, 4, positions=p))(positions)
    expected = sinusoidal_position_encoding_reference(np.array([5, 0, 2]), 4)
    assert_close(np.asarray(pe), expected, "float32")


class TestArgumentTypes:
    """A non-number where a number belongs is a TypeError, out of range a ValueError."""

    @pytest.mark.parametrize("base", ["10000", None])
    def test_sinusoidal_base_must_be_a_number(self, base) -> None:
        # before: ValueError
        with pytest.raises(TypeError, match="`base` must be a number"):
            sinusoidal_position_encoding(3, 4, base=base)

    @pytest.mark.parametrize("std", ["0.02", None])
    def test_learned_std_must_be_a_number(self, std) -> None:
        # before: ValueError
        with pytest.raises(TypeError, match="`std` must be a number"):
            init_learned_position_table(mlprims.random.key(0), 4, 4, std=std)

    @pytest.mark.parametrize("std", [-1.0, math.inf, math.nan])
    def test_learned_std_must_be_non_negative_and_finite(self, std: float) -> None:
        with pytest.raises(ValueError, match=r"`std` must be in \[0.0, inf\)"):
            init_learned_position_table(mlprims.random.key(0), 4, 4, std=std)

    @pytest.mark.parametrize("dtype", ["int32", "bool"])
    def test_integer_dtypes_are_type_errors(self, dtype: str) -> None:
        with pytest.raises(TypeError, match="`dtype` must be a real floating dtype"):
            sinusoidal_position_encoding(3, 4, dtype=dtype)
        with pytest.raises(TypeError, match="`dtype` must be a real floating dtype"):
            init_learned_position_table(mlprims.random.key(0), 4, 4, dtype=dtype)
