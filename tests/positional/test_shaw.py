"""Shaw et al. (2018) relative position representations (mlprims/positional/shaw.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import mlprims.random
from mlprims import (
    init_relative_position_tables,
    relative_attention,
    relative_position_index,
    scaled_dot_product_attention,
)
from mlprims.testing import assert_close
from mlprims.testing.oracles.attention import (
    relative_attention_reference as reference_relative_attention,
)


def reference_index(length_q: int, length_k: int, k: int, shift: int = 0) -> np.ndarray:
    out = np.zeros((length_q, length_k), dtype=np.int64)
    for i in range(length_q):
        for j in range(length_k):
            out[i, j] = min(max(j - (i + shift), -k), k) + k
    return out


def _inputs(rng, lead=(2, 2), length_q=5, length_k=7, head_dim=4, value_dim=3, max_k=2):
    q = rng.standard_normal((*lead, length_q, head_dim))
    k = rng.standard_normal((*lead, length_k, head_dim))
    v = rng.standard_normal((*lead, length_k, value_dim))
    table_k = rng.standard_normal((2 * max_k + 1, head_dim))
    table_v = rng.standard_normal((2 * max_k + 1, value_dim))
    return q, k, v, table_k, table_v


class TestRelativePositionIndex:
    @pytest.mark.parametrize(("length_q", "length_k", "k"), [(4, 4, 2), (3, 8, 3), (6, 2, 0)])
    @pytest.mark.parametrize("align", ["top_left", "bottom_right"])
    def test_clipped_key_minus_query(self, xb, length_q, length_k, k, align) -> None:
        out = xb.run(
            relative_position_index,
            length_q,
            length_k,
            k,
            causal_align=align,
            backend=xb.backend.name,
        )
        shift = 0 if align == "top_left" else length_k - length_q
        got = xb.to_numpy(out)
        assert np.issubdtype(got.dtype, np.integer)
        np.testing.assert_array_equal(got, reference_index(length_q, length_k, k, shift))

    def test_bad_arguments(self) -> None:
        with pytest.raises(ValueError, match="`max_relative_position`"):
            relative_position_index(3, 3, -1)
        with pytest.raises(ValueError, match="`length_q`"):
            relative_position_index(-3, 3, 1)
        with pytest.raises(ValueError, match="`causal_align`"):
            relative_position_index(3, 3, 1, causal_align="center")


class TestInitRelativePositionTables:
    def test_shapes_bounds_and_determinism(self, xb) -> None:
        key = mlprims.random.key(0, backend=xb.backend.name)
        table_k, table_v = init_relative_position_tables(key, 8, 16, value_dim=4)
        table_k, table_v = xb.to_numpy(table_k), xb.to_numpy(table_v)
        assert table_k.shape == (17, 16) and table_v.shape == (17, 4)
        assert table_k.dtype == np.float32
        assert np.abs(table_k).max() <= math.sqrt(6 / (17 + 16))
        assert np.abs(table_v).max() <= math.sqrt(6 / (17 + 4))
        assert np.abs(table_k).max() > 0.8 * math.sqrt(6 / (17 + 16))  # spans the interval
        again, _ = init_relative_position_tables(key, 8, 16, value_dim=4)
        np.testing.assert_array_equal(xb.to_numpy(again), table_k)
        reference, _ = init_relative_position_tables(mlprims.random.key(0), 8, 16, value_dim=4)
        assert_close(table_k, reference, "float32")  # jax.jit may fuse the rounding differently

    def test_bad_arguments(self) -> None:
        with pytest.raises(ValueError, match="`head_dim`"):
            init_relative_position_tables(mlprims.random.key(0), 2, 0)


class TestRelativeAttention:
    @pytest.mark.parametrize("dtype", ["float32", "float64"])
    def test_agrees_with_the_loop(self, xb, dtype: str) -> None:
        arrays = _inputs(np.random.default_rng(0))
        out = xb.run(
            relative_attention,
            *(xb.asarray(a.astype(dtype)) for a in arrays),
            max_relative_position=2,
        )
        assert str(xb.to_numpy(out).dtype) == dtype
        expected = reference_relative_attention(*arrays, 2)
        assert_close(xb.to_numpy(out), expected, dtype, scale=5.0)

    @pytest.mark.parametrize("align", ["top_left", "bottom_right"])
    def test_mask_causal_and_a_fully_masked_row(self, xb, align: str) -> None:
        rng = np.random.default_rng(1)
        arrays = _inputs(rng, lead=(2, 1), length_q=4, length_k=6, max_k=1)
        mask = rng.random((2, 1, 4, 6)) < 0.7
        mask[1, 0, 2] = False  # query 2 of batch 1 may attend to nothing
        out = xb.run(
            relative_attention,
            *(xb.asarray(a) for a in arrays),
            max_relative_position=1,
            mask=xb.asarray(mask),
            is_causal=True,
            causal_align=align,
            scale=0.7,
        )
        shift = 0 if align == "top_left" else 2
        causal = np.arange(6)[None, :] <= np.arange(4)[:, None] + shift
        expected = reference_relative_attention(
            *arrays, 1, allowed=mask & causal, shift=shift, scale=0.7
        )
        got = xb.to_numpy(out)
        assert_close(got, expected, "float64")
        assert not np.isnan(got).any()
        np.testing.assert_array_equal(got[1, 0, 2], 0.0)

    @pytest.mark.parametrize("is_causal", [False, True])
    def test_zero_tables_give_plain_attention(self, xb, is_causal: bool) -> None:
        q, k, v, table_k, table_v = _inputs(np.random.default_rng(2), max_k=3)
        zeros_k, zeros_v = np.zeros_like(table_k), np.zeros_like(table_v)
        ours = xb.run(
            relative_attention,
            *(xb.asarray(a) for a in (q, k, v, zeros_k, zeros_v)),
            max_relative_position=3,
            is_causal=is_causal,
        )
        plain = xb.run(
            scaled_dot_product_attention, *(xb.asarray(a) for a in (q, k, v)), is_causal=is_causal
        )
        assert_close(xb.to_numpy(ours), xb.to_numpy(plain), "float64")

    def test_float16_is_computed_in_float32(self) -> None:
        arrays = _inputs(np.random.default_rng(3))
        out = relative_attention(*(a.astype(np.float16) for a in arrays), max_relative_position=2)
        assert out.dtype == np.float16
        expected = reference_relative_attention(*(a.astype(np.float16) for a in arrays), 2)
        assert_close(out, expected, "float16", scale=4.0)

    def test_does_not_mutate_inputs(self) -> None:
        arrays = _inputs(np.random.default_rng(4))
        before = [a.copy() for a in arrays]
        relative_attention(*arrays, max_relative_position=2, is_causal=True)
        for a, b in zip(arrays, before, strict=True):
            np.testing.assert_array_equal(a, b)

    def test_bad_arguments(self) -> None:
        q, k, v, table_k, table_v = _inputs(np.random.default_rng(5))

        def call(**changes):
            args = {"q": q, "k": k, "v": v, "table_k": table_k, "table_v": table_v}
            options = {"max_relative_position": 2}
            for name, value in changes.items():
                (args if name in args else options)[name] = value
            return relative_attention(*args.values(), **options)

        with pytest.raises(ValueError, match="`table_k`"):
            call(table_k=np.zeros((4, 4)))
        with pytest.raises(ValueError, match="`table_v`"):
            call(table_v=np.zeros((5, 4)))
        with pytest.raises(ValueError, match="`table_k`"):
            call(max_relative_position=3)
        with pytest.raises(ValueError, match="`k`"):
            call(k=np.zeros((2, 2, 7, 5)))
        with pytest.raises(ValueError, match="`q`"):
            call(q=np.zeros(4))
        with pytest.raises(TypeError, match="`q`"):
            call(q=q.astype(np.int64))
        with pytest.raises(TypeError, match="`table_v`"):
            call(table_v=table_v.astype(np.float32))
        with pytest.raises(TypeError, match="`mask`"):
            call(mask=np.ones((5, 7)))
        with pytest.raises(ValueError, match=r"`mask` must broadcast to \(..., T, S\)"):
            call(mask=np.ones((5, 6), bool))
        with pytest.raises(TypeError, match="`is_causal`"):
            call(is_causal=1)
        with pytest.raises(ValueError, match="`causal_align`"):
            call(causal_align="left")
        with pytest.raises(TypeError, match="`scale`"):
            call(scale="0.5")


def test_jax_32_bit_defaults(jax_without_x64) -> None:
    """With JAX's defaults (int32 indices, float32), under jit, as users run it."""
    jax = pytest.importorskip("jax")
    jnp = pytest.importorskip("jax.numpy")

    index = relative_position_index(4, 6, 2, backend="jax")
    assert index.dtype == jnp.int32
    np.testing.assert_array_equal(np.asarray(index), reference_index(4, 6, 2))
    arrays = _inputs(np.random.default_rng(6))
    out = jax.jit(lambda *a: relative_attention(*a, max_relative_position=2, is_causal=True))(
        *(jnp.asarray(a, dtype=jnp.float32) for a in arrays)
    )
    causal = np.tril(np.ones((5, 7), bool))
    expected = reference_relative_attention(*(a.astype(np.float32) for a in arrays), 2, causal)
    assert_close(np.asarray(out), expected, "float32", scale=5.0)
