"""scaled_dot_product_attention: agreement with the float64 oracle, tiles, invariants, dropout,
bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import mlprims
from mlprims import random
from mlprims.attention import _checks as _attention_checks
from mlprims.attention._dense import masked_softmax
from mlprims.testing import assert_close
from mlprims.testing.oracles.attention import sdpa_reference
from mlprims.testing.strategies import float_arrays

sdpa = mlprims.scaled_dot_product_attention


@st.composite
def attention_problems(draw, *, half=False):
    """Small q, k, v (GQA and MQA included), an optional mask and bias, and causal options."""
    batch = draw(st.sampled_from([(), (2,), (2, 1)]))
    kv = draw(st.sampled_from([1, 2]))
    n = kv * draw(st.sampled_from([1, 2]))
    t, s = draw(st.integers(1, 5)), draw(st.integers(1, 6))
    h, hv = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    q = draw(float_arrays((*batch, n, t, h), bound=3.0))
    k = draw(float_arrays((*batch, kv, s, h), bound=3.0))
    v = draw(float_arrays((*batch, kv, s, hv), bound=3.0))
    mask_shape = draw(st.sampled_from([None, (t, s), (n, 1, s), (*batch, n, t, s)]))
    mask = None if mask_shape is None else draw(hnp.arrays(bool, mask_shape))
    bias = draw(st.none() | float_arrays((t, s), bound=2.0))
    options = {
        "is_causal": draw(st.booleans()),
        "causal_align": draw(st.sampled_from(["top_left", "bottom_right"])),
        "block_size": draw(st.sampled_from([None, 2, (2, 3), "auto"])),
    }
    return q, k, v, mask, bias, options


def run_sdpa(xb, q, k, v, mask=None, bias=None, dtype="float64", **options):
    arrays = [None if a is None else xb.asarray(np.asarray(a, dtype=dtype)) for a in (q, k, v)]
    mask = None if mask is None else xb.asarray(mask)
    bias = None if bias is None else xb.asarray(np.asarray(bias, dtype=dtype))
    return xb.to_numpy(xb.run(sdpa, *arrays, mask=mask, bias=bias, **options))


class TestScaledDotProductAttention:
    @pytest.mark.parametrize("dtype", ["float32", "float64"])
    @given(problem=attention_problems())
    def test_agrees_with_float64_reference(self, xb, dtype, problem) -> None:
        q, k, v, mask, bias, options = problem
        out = run_sdpa(xb, q, k, v, mask, bias, dtype, **options)
        block_size = options.pop("block_size")
        ref_out, ref_weights = sdpa_reference(q, k, v, mask=mask, bias=bias, **options)
        assert out.dtype == np.dtype(dtype)
        assert_close(out, ref_out, dtype, scale=5.0)
        if block_size is None:  # the weights, once per problem
            _, weights = run_sdpa(xb, q, k, v, mask, bias, dtype, return_weights=True, **options)
            assert_close(weights, ref_weights, dtype, scale=5.0)

    @pytest.mark.parametrize(
        ("q_shape", "k_shape", "v_shape"),
        [
            ((4, 3), (5, 3), (5, 2)),  # no head axis: (T, H)
            ((2, 3, 2, 4, 3), (2, 3, 2, 5, 3), (2, 3, 2, 5, 2)),  # two batch axes
            ((1, 4, 3, 2), (2, 1, 5, 2), (2, 1, 5, 2)),  # batch broadcast, MQA
            ((2, 6, 3, 2), (2, 3, 5, 2), (2, 3, 5, 4)),  # GQA, G = 2, Hv != H
            ((2, 1, 3, 2), (2, 3, 5, 2), (2, 3, 5, 2)),  # one query head broadcast over K
        ],
    )
    def test_shapes_and_broadcasting(self, xb, q_shape, k_shape, v_shape) -> None:
        rng = np.random.default_rng(0)
        q, k, v = (rng.standard_normal(s) for s in (q_shape, k_shape, v_shape))
        out = run_sdpa(xb, q, k, v, is_causal=True, causal_align="bottom_right")
        assert_close(out, sdpa_reference(q, k, v, is_causal=True, causal_align="bottom_right")[0])

    @pytest.mark.parametrize("block_size", [1, 3, (2, 4), (7, 2), (3, 9)])
    def test_blocked_equals_full(self, xb, block_size) -> None:
        rng = np.random.default_rng(1)
        q, k, v = rng.standard_normal((2, 4, 7, 3)), *rng.standard_normal((2, 2, 2, 9, 3))
        mask = rng.random((2, 1, 7, 9)) > 0.3
        bias = rng.standard_normal((4, 7, 9))
        options = {"is_causal": True, "causal_align": "bottom_right"}
        out = run_sdpa(xb, q, k, v, mask, bias, block_size=block_size, **options)
        ref, ref_w = run_sdpa(
            xb, q, k, v, mask, bias, block_size=None, return_weights=True, **options
        )
        assert_close(out, ref, "float64")
        # Weights need whole rows: the queries are still blocked, the keys are not.
        _, w = run_sdpa(
            xb, q, k, v, mask, bias, block_size=block_size, return_weights=True, **options
        )
        assert_close(w, ref_w, "float64")

    def test_auto_block_size_tiles_long_sequences(self, monkeypatch) -> None:
        dims = _attention_checks.Dims(lead=(4, 8), n=8, kv=8, t=4096, s=4096, h=64, hv=64)
        assert _attention_checks.auto_block_size(dims) == _attention_checks.AUTO_TILE
        small = _attention_checks.Dims(lead=(2, 4), n=4, kv=4, t=128, s=128, h=64, hv=64)
        assert _attention_checks.auto_block_size(small) is None
        # A tiny budget forces automatic tiles on a small problem: same result.
        monkeypatch.setattr(_attention_checks, "AUTO_SINGLE_TILE", 20)
        monkeypatch.setattr(_attention_checks, "AUTO_TILE", (2, 4))
        rng = np.random.default_rng(2)
        q, k, v = rng.standard_normal((3, 2, 6, 5))
        assert_close(sdpa(q, k, v, is_causal=True), sdpa_reference(q, k, v, is_causal=True)[0])

    @pytest.mark.parametrize("block_size", [2, (1, 3), (3, 2), "auto"])
    def test_queries_broadcast_against_the_keys_batch_axes(
        self, xb, monkeypatch, block_size
    ) -> None:
        # q (T, H) shared by every (B, K) of the keys: the tiles' running state must have the
        # batch axes of the scores from the start (lax.fori_loop keeps its carry's shape).
        monkeypatch.setattr(_attention_checks, "AUTO_SINGLE_TILE", 20)  # "auto" tiles too
        monkeypatch.setattr(_attention_checks, "AUTO_TILE", (2, 2))
        rng = np.random.default_rng(16)
        for q_shape, kv_shape in (((2, 3, 4), (2, 2, 5, 4)), ((3, 4), (2, 5, 4))):
            q, k, v = rng.standard_normal(q_shape), *rng.standard_normal((2, *kv_shape))
            mask = rng.random((3, 5)) > 0.3
            out = run_sdpa(xb, q, k, v, mask, is_causal=True, block_size=block_size)
            assert out.shape == (*kv_shape[:-2], 3, 4)
            expected = sdpa_reference(q, k, v, mask=mask, is_causal=True)[0]
            assert_close(out, expected, "float64")

    def test_fully_masked_rows_give_zero_not_nan(self, xb) -> None:
        rng = np.random.default_rng(3)
        q, k, v = rng.standard_normal((3, 2, 4, 5, 3))
        mask = np.ones((5, 5), dtype=bool)
        mask[1] = False
        bias = np.zeros((5, 5))
        bias[3] = -np.inf  # -inf from the bias also empties a row
        for block_size in (None, 2):
            out, w = run_sdpa(xb, q, k, v, mask, bias, block_size=block_size, return_weights=True)
            assert np.all(out[:, :, [1, 3]] == 0) and np.all(w[:, :, [1, 3]] == 0)
            assert np.isfinite(out).all()
            assert_close(w.sum(-1)[:, :, [0, 2, 4]], np.ones((2, 4, 3)))
        out = run_sdpa(xb, q, k, v, mask, bias, block_size=(2, 2))  # online softmax over key tiles
        assert np.all(out[:, :, [1, 3]] == 0) and np.isfinite(out).all()

    def test_scalar_mask_and_bias_broadcast(self, xb) -> None:
        rng = np.random.default_rng(13)
        q, k, v = rng.standard_normal((3, 2, 5, 4))
        out = run_sdpa(xb, q, k, v, np.array(True), np.array(0.5), block_size=(2, 2))
        assert_close(out, sdpa_reference(q, k, v)[0], "float64")
        out = run_sdpa(xb, q, k, v, np.array(False), block_size=(2, 2))
        assert np.all(out == 0)

    def test_scale_may_be_a_numpy_scalar(self) -> None:
        q, k, v = np.random.default_rng(17).standard_normal((3, 2, 4, 3))
        assert_close(sdpa(q, k, v, scale=np.float32(0.5)), sdpa(q, k, v, scale=0.5), "float64")

    def test_bottom_right_causal_with_more_queries_than_keys(self, xb) -> None:
        rng = np.random.default_rng(4)
        q, k, v = rng.standard_normal((1, 6, 2)), *rng.standard_normal((2, 1, 4, 2))
        out = run_sdpa(xb, q, k, v, is_causal=True, causal_align="bottom_right")
        assert np.all(out[:, :2] == 0)  # queries 0, 1 sit before the first key
        assert_close(out, sdpa_reference(q, k, v, is_causal=True, causal_align="bottom_right")[0])


class TestInvariants:
    @given(problem=attention_problems(), seed=st.integers(0, 2**32 - 1))
    def test_permuting_keys_and_values_together(self, problem, seed) -> None:
        q, k, v, _, _, options = problem
        order = np.random.default_rng(seed).permutation(k.shape[-2])
        out = sdpa(q, k, v, block_size=options["block_size"])
        permuted = sdpa(q, k[..., order, :], v[..., order, :], block_size=options["block_size"])
        assert_close(permuted, out, "float64")

    def test_causal_output_ignores_later_tokens(self, xb) -> None:
        rng = np.random.default_rng(10)
        q, k, v = rng.standard_normal((3, 2, 3, 8, 4))
        out = run_sdpa(xb, q, k, v, is_causal=True, block_size=3)
        changed = [a.copy() for a in (q, k, v)]
        for a in changed:
            a[..., 5:, :] = rng.standard_normal(a[..., 5:, :].shape)
        out2 = run_sdpa(xb, *changed, is_causal=True, block_size=3)
        assert_close(out2[..., :5, :], out[..., :5, :], "float64")
        assert not np.allclose(out2[..., 5:, :], out[..., 5:, :])

    @given(problem=attention_problems())
    def test_weight_rows_sum_to_one_or_zero(self, problem) -> None:
        q, k, v, mask, bias, options = problem
        _, w = sdpa(q, k, v, mask=mask, bias=bias, return_weights=True, **options)
        sums = w.sum(axis=-1)
        assert np.all((np.abs(sums - 1) < 1e-12) | (sums == 0))
        assert np.all(w >= 0)

    def test_masked_softmax(self, xb) -> None:
        scores = np.array([[1.0, 2.0, -np.inf], [-np.inf, -np.inf, -np.inf], [0.0, 0.0, 0.0]])
        mask = np.array([True, True, False])
        w = xb.to_numpy(xb.run(masked_softmax, xb.asarray(scores), xb.asarray(mask), xp=xb.xp))
        e = np.exp([1.0 - 2.0, 0.0])
        assert_close(w[0], np.array([e[0] / e.sum(), e[1] / e.sum(), 0.0]))
        assert_close(w[1], np.zeros(3))
        assert_close(w[2], np.array([0.5, 0.5, 0.0]))


class TestDropout:
    def test_same_key_same_mask_on_every_backend(self, xb) -> None:
        rng = np.random.default_rng(11)
        q, k, v = rng.standard_normal((3, 2, 4, 6, 5))
        p = 0.3
        key = random.key(7, backend=xb.backend.name)
        out, w = xb.run(
            sdpa, *map(xb.asarray, (q, k, v)), dropout_p=p, key=key, return_weights=True
        )
        # The documented draw: the tile of queries from t0, keys from s0 uses
        # fold_in(fold_in(key, t0), s0); one tile here: shape (B, N, T, S).
        tile_key = random.fold_in(random.fold_in(random.key(7), 0), 0)
        keep = random.bernoulli(tile_key, 1 - p, (2, 4, 6, 6))
        ref_out, ref_w = sdpa_reference(q, k, v, keep=keep, dropout_p=p)
        assert 0 < keep.mean() < 1
        assert_close(xb.to_numpy(out), ref_out, "float64")
        assert_close(xb.to_numpy(w), ref_w, "float64")

    def test_dropout_with_gqa_and_blocks_is_deterministic(self, xb) -> None:
        rng = np.random.default_rng(12)
        q, k, v = rng.standard_normal((2, 4, 6, 3)), *rng.standard_normal((2, 2, 2, 6, 3))
        key = random.key(1, backend=xb.backend.name)
        args = [xb.asarray(a) for a in (q, k, v)]
        options = {"dropout_p": 0.5, "key": key, "block_size": 4, "return_weights": True}
        out, w = map(xb.to_numpy, xb.run(sdpa, *args, **options))
        _, w_plain = sdpa(q, k, v, return_weights=True, block_size=4)
        kept = w != 0
        assert 0.2 < kept.mean() < 0.8
        assert_close(w[kept], w_plain[kept] / 0.5, "float64")  # survivors scaled by 1 / (1 - p)
        assert_close(xb.to_numpy(xb.run(sdpa, *args, **options)[0]), out, "float64")
        # Key tiles (online softmax) draw per tile: the same on every backend as on NumPy.
        options.update(block_size=(4, 4), return_weights=False)
        tiled = xb.to_numpy(xb.run(sdpa, *args, **options))
        options["key"] = random.key(1)
        assert_close(tiled, sdpa(q, k, v, **options), "float64")
        assert not np.allclose(tiled, out)


class TestBadInput:
    q = np.zeros((2, 4, 6, 8))
    k = np.zeros((2, 4, 9, 8))

    @pytest.mark.parametrize(
        ("args", "options", "error", "match"),
        [
            ((q, np.zeros((2, 4, 9, 6)), k), {}, ValueError, r"`k` must have the head dim H = 8"),
            ((q, k, np.zeros((2, 4, 8, 8))), {}, ValueError, r"`v` must have the S = 9 keys"),
            ((q, k, np.zeros((2, 3, 9, 8))), {}, ValueError, r"`v` must have the batch and head"),
            (
                (np.zeros((2, 6, 6, 8)), np.zeros((2, 4, 9, 8)), np.zeros((2, 4, 9, 8))),
                {},
                ValueError,
                r"`q` has N = 6 heads and `k` has K = 4",
            ),
            (
                (np.zeros((3, 4, 6, 8)), k, k),
                {},
                ValueError,
                r"`q` and `k` must have broadcastable",
            ),
            (
                (q, k, k),
                {"mask": np.ones((2, 6, 8), dtype=bool)},
                ValueError,
                r"`mask` must broadcast to \(B, N, T, S\) = \(2, 4, 6, 9\), got \(2, 6, 8\)",
            ),
            ((q, k, k), {"bias": np.zeros((3, 6, 9))}, ValueError, r"`bias` must broadcast to"),
            ((q, k, k), {"mask": np.ones((6, 9))}, TypeError, r"`mask` must be boolean"),
            (
                (q, k, k),
                {"bias": np.ones((6, 9), dtype=bool)},
                TypeError,
                r"`bias` must have a real",
            ),
            (
                (q, k, k),
                {"causal_align": "bottom-right"},
                ValueError,
                r"`causal_align` must be one",
            ),
            ((q, k, k), {"is_causal": 1}, TypeError, r"`is_causal` must be True or False"),
            ((q, k, k), {"dropout_p": 0.1}, ValueError, r"`key` is required when `dropout_p` > 0"),
            ((q, k, k), {"dropout_p": 1.0}, ValueError, r"`dropout_p` must be in"),
            ((q, k, k), {"block_size": 0}, ValueError, r"`block_size` must be >= 1"),
            ((q, k, k), {"block_size": "big"}, ValueError, r"`block_size` must be an int"),
            ((q, k, k), {"block_size": (4, 0)}, ValueError, r"`block_size` must be >= 1"),
            ((q, k, k), {"scale": np.float64(2.0)[()] * np.ones(1)}, TypeError, r"`scale` must be"),
            ((np.zeros(8), k, k), {}, ValueError, r"`q` must have at least 2 axes"),
            (
                (np.zeros((2, 3, 0)), np.zeros((2, 5, 0)), np.zeros((2, 5, 3))),
                {},
                ValueError,
                r"`q` must have a head dim H >= 1 \(last axis\), got shape \(2, 3, 0\)",
            ),
            ((q, k.astype(np.float32), k), {}, TypeError, r"`k` must have the dtype of `q`"),
            ((q.astype(int), k, k), {}, TypeError, r"`q` must have a real floating dtype"),
            (
                (q, np.zeros((2, 4, 0, 8)), np.zeros((2, 4, 0, 8))),
                {},
                ValueError,
                r"`k` must have at",
            ),
        ],
    )
    def test_errors_name_the_argument(self, args, options, error, match) -> None:
        with pytest.raises(error, match=match):
            sdpa(*args, **options)

    def test_dropout_key_from_another_backend(self) -> None:
        with pytest.raises(
            TypeError, match=r"`key` must live on the backend of the inputs \(numpy\)"
        ):
            sdpa(self.q, self.k, self.k, dropout_p=0.1, key=random.key(0, backend="torch"))

    def test_errors_on_every_backend(self, xb) -> None:
        q, k = xb.asarray(self.q), xb.asarray(self.k)
        with pytest.raises(ValueError, match=r"`mask` must broadcast"):
            sdpa(q, k, k, mask=xb.asarray(np.ones((2, 6, 8), dtype=bool)))
        with pytest.raises(TypeError, match=r"`mask` must be boolean"):
            sdpa(q, k, k, mask=xb.asarray(np.ones((6, 9))))
