"""The tiled path of attention: causal block skipping (which key blocks a query block computes,
and that skipping them changes nothing), against the untiled computation."""

from __future__ import annotations

import numpy as np
import pytest

import mlprims
from mlprims import random
from mlprims.attention import _checks, _tiled
from mlprims.attention._common import Rules
from mlprims.testing import assert_close
from mlprims.testing.oracles.attention import mha_reference, sdpa_reference

sdpa = mlprims.scaled_dot_product_attention

B, N = 2, 3


def problem(t, s, seed, *, h=4):
    """q (B, N, T, H), k and v (B, N, S, H), a mask (B, 1, T, S) and a bias (N, T, S)."""
    rng = np.random.default_rng(seed)
    q, k, v = rng.standard_normal((B, N, t, h)), *rng.standard_normal((2, B, N, s, h))
    mask = rng.random((B, 1, t, s)) > 0.2
    bias = rng.standard_normal((N, t, s))
    return q, k, v, mask, bias


def run(xb, q, k, v, mask=None, bias=None, **options):
    arrays = [None if a is None else xb.asarray(a) for a in (q, k, v, mask, bias)]
    q, k, v, mask, bias = arrays
    return xb.to_numpy(sdpa(q, k, v, mask=mask, bias=bias, **options))


def computed_tiles(monkeypatch, *args, **options):
    """The (first query, first key, whole) of every tile a NumPy call computes, in order."""
    tiles = []
    fold_tile = _tiled._fold_tile

    def counting(*a, **kw):
        tiles.append((kw["t0"], kw["s0"], kw.get("whole", False)))
        return fold_tile(*a, **kw)

    monkeypatch.setattr(_tiled, "_fold_tile", counting)
    sdpa(*args, **options)
    return tiles


def rules(t, s, *, causal_offset=None, key_limit=None):
    dims = _checks.Dims(lead=(B, N), n=N, kv=N, t=t, s=s, h=4, hv=4)
    return Rules(dims, causal_offset, key_limit, 0.0, None, np.int64, "cpu", np, fori_loop=None)


#: Each shape with the block sizes that matter for it: blocks that do not divide T or S,
#: taller and wider than square, and one key block wider than S.
SHAPES = [(9, 9, (2, 3)), (9, 9, (4, 5)), (7, 12, (3, 2)), (7, 12, (5, 12)), (12, 7, (4, 5))]


def equals_the_untiled_computation(xb, monkeypatch, t, s, align, block_size, max_unrolled):
    # Whole key blocks through fori_loop (lax.fori_loop under jax.jit, gathered at a traced
    # offset) or unrolled. The head dim differs, so that jax_jit's cached traces of one
    # setting are not reused for the other.
    monkeypatch.setattr(_tiled, "MAX_UNROLLED", max_unrolled)
    q, k, v, mask, bias = problem(t, s, seed=t * s, h=4 if max_unrolled else 5)
    options = {"is_causal": True, "causal_align": align}
    for extra in ({}, {"mask": mask}, {"bias": bias}, {"mask": mask, "bias": bias}):
        tiled = run(xb, q, k, v, **extra, block_size=block_size, **options)
        dense = run(xb, q, k, v, **extra, block_size=None, **options)
        assert_close(tiled, dense, "float64")
        assert_close(tiled, sdpa_reference(q, k, v, **extra, **options)[0], "float64")


class TestCausalSkipping:
    @pytest.mark.parametrize(("t", "s", "block_size"), SHAPES)
    @pytest.mark.parametrize("align", ["top_left", "bottom_right"])
    def test_equals_the_untiled_computation(self, xb, monkeypatch, t, s, align, block_size):
        equals_the_untiled_computation(xb, monkeypatch, t, s, align, block_size, 64)

    @pytest.mark.backends(
        "numpy",
        "jax_jit",
        reason="only a trace makes fori_loop more than a Python loop (backends.jax runs "
        "lax.fori_loop on traced arrays alone): elsewhere it is the unrolled test's loop",
    )
    @pytest.mark.parametrize(("t", "s", "block_size"), SHAPES)
    @pytest.mark.parametrize("align", ["top_left", "bottom_right"])
    def test_equals_the_untiled_computation_through_fori_loop(
        self, xb, monkeypatch, t, s, align, block_size
    ) -> None:
        equals_the_untiled_computation(xb, monkeypatch, t, s, align, block_size, 0)

    def test_float32_and_fully_masked_rows(self, xb) -> None:
        # Bottom-right with T > S: the first T - S queries see no key (output 0); a bias of
        # -inf and a mask empty more rows, in tiles that are skipped, masked and whole.
        q, k, v, mask, bias = problem(13, 8, seed=5)
        bias[:, 2] = -np.inf
        mask[:, :, 11] = False
        options = {"is_causal": True, "causal_align": "bottom_right", "mask": mask}
        args = [a.astype(np.float32) for a in (q, k, v)]
        out = run(xb, *args, bias=bias.astype(np.float32), block_size=(3, 2), **options)
        assert np.all(out[:, :, [0, 1, 2, 3, 4, 11]] == 0) and np.isfinite(out).all()
        ref = sdpa_reference(q, k, v, bias=bias, **options)[0]
        assert_close(out, ref, "float32")

    @pytest.mark.parametrize("align", ["top_left", "bottom_right"])
    def test_dropout_draws_the_same_tiles(self, xb, align) -> None:
        # The keep mask of the tile of queries t0.., keys s0.. is the documented draw; the
        # tiles that skipping leaves out hold only removed keys. So the output is the untiled
        # computation with the keep masks of all tiles put together.
        t, s, (bq, bk), p = 7, 10, (3, 4), 0.4
        q, k, v, mask, bias = problem(t, s, seed=8)
        key = random.key(3, backend=xb.backend.name)
        options = {"is_causal": True, "causal_align": align, "mask": mask, "bias": bias}
        out = run(xb, q, k, v, dropout_p=p, key=key, block_size=(bq, bk), **options)
        rows = []
        for t0 in range(0, t, bq):
            tiles = []
            for s0 in range(0, s, bk):
                tile_key = random.fold_in(random.fold_in(random.key(3), t0), s0)
                keep = random.bernoulli(tile_key, 1 - p, (B, N, min(bq, t - t0), bk))
                tiles.append(keep[..., : min(bk, s - s0)])
            rows.append(np.concatenate(tiles, axis=-1))
        keep = np.concatenate(rows, axis=-2)
        assert 0.3 < keep.mean() < 0.8
        ref = sdpa_reference(q, k, v, keep=keep, dropout_p=p, **options)[0]
        assert_close(out, ref, "float64")

    @pytest.mark.parametrize("max_unrolled", [0, 64])
    def test_kv_cache_with_key_tiles(self, xb, monkeypatch, max_unrolled) -> None:
        # The cache index (traced under jax.jit) hides the diagonal: every block is used and
        # masked, through fori_loop or unrolled; the buffer (13 keys) is not a multiple of 3.
        monkeypatch.setattr(_tiled, "MAX_UNROLLED", max_unrolled)
        rng = np.random.default_rng(6)
        h = 3 if max_unrolled else 2  # no reuse of jax_jit's cached traces across settings
        shapes = {"wq": (6, 2 * h), "wk": (6, h), "wv": (6, h), "wo": (2 * h, 6)}
        params = {name: rng.standard_normal(shape) / 3 for name, shape in shapes.items()}
        x = rng.standard_normal((2, 9, 6))
        options = {"num_heads": 2, "num_kv_heads": 1, "is_causal": True}
        full = mha_reference(params, x, **options)[0]
        p = {name: xb.asarray(a) for name, a in params.items()}
        cache = mlprims.init_kv_cache(2, 1, 13, h, dtype="float64", backend=xb.backend.name)
        outputs = []
        for t0, t1 in ((0, 5), (5, 6), (6, 9)):  # a prompt, then a token, then three
            out, _, cache = mlprims.self_attention(
                p, xb.asarray(x[:, t0:t1]), cache=cache, block_size=(2, 3), **options
            )
            outputs.append(xb.to_numpy(out))
        assert_close(np.concatenate(outputs, axis=1), full, "float64")

    @pytest.mark.parametrize(("t", "s", "align"), [(7, 7, "top_left"), (5, 11, "bottom_right")])
    def test_torch_gradients_match_sdpa(self, t, s, align) -> None:
        # Blocks of q, k and v come from one unstack each (one stack in the backward pass).
        torch = pytest.importorskip("torch")
        F = pytest.importorskip("torch.nn.functional")
        q, k, v, _, _ = problem(t, s, seed=9)
        causal = torch.ones(t, s, dtype=torch.bool).tril(s - t if align == "bottom_right" else 0)
        grads = []
        for fn in (
            lambda q, k, v: sdpa(q, k, v, is_causal=True, causal_align=align, block_size=(2, 3)),
            lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=causal),
        ):
            args = [torch.from_numpy(a).requires_grad_() for a in (q, k, v)]
            (fn(*args) * torch.arange(4.0, dtype=torch.float64)).sum().backward()
            grads.append([a.grad.numpy() for a in args])
        for ours, theirs in zip(*grads, strict=True):
            assert_close(ours, theirs, "float64")

    def test_computes_about_half_the_tiles(self, monkeypatch) -> None:
        t = s = 64
        bq = bk = 8
        q, k, v, _, _ = problem(t, s, seed=1)
        every = (t // bq) * (s // bk)
        plain = computed_tiles(monkeypatch, q, k, v, block_size=(bq, bk))
        assert len(plain) == every and all(whole for _, _, whole in plain)
        causal = computed_tiles(monkeypatch, q, k, v, is_causal=True, block_size=(bq, bk))
        assert len(causal) == 8 * 9 // 2 < every  # 36 of 64: the diagonal and below
        assert {(t0, s0) for t0, s0, _ in causal} == {
            (t0, s0) for t0 in range(0, t, bq) for s0 in range(0, t0 + 1, bk)
        }
        # A causal mask is built only on the diagonal: the tiles below are seen whole.
        assert [(t0, s0) for t0, s0, whole in causal if not whole] == [
            (t0, t0) for t0 in range(0, t, bq)
        ]

    def test_counts_with_blocks_that_do_not_divide(self, monkeypatch) -> None:
        # T = 10 queries after S - T = 20 cached keys (bottom-right), blocks (4, 6).
        q, k, v, _, _ = problem(10, 30, seed=2)
        options = {"is_causal": True, "causal_align": "bottom_right", "block_size": (4, 6)}
        tiles = computed_tiles(monkeypatch, q, k, v, **options)
        # queries 0-3 see keys 0-23, 4-7 keys 0-27, 8-9 keys 0-29 (of 5 blocks of 6 keys)
        assert [(t0, s0) for t0, s0, _ in tiles] == [
            *((0, s0) for s0 in range(0, 24, 6)),
            *((4, s0) for s0 in range(0, 30, 6)),
            *((8, s0) for s0 in range(0, 30, 6)),
        ]
        assert len(tiles) == 14 < 3 * 5
        assert [(t0, s0) for t0, s0, whole in tiles if not whole] == [(0, 18), (4, 24), (8, 24)]

    def test_key_blocks(self) -> None:
        assert _tiled.key_blocks(rules(8, 8), 0, 4, 3) == (3, 3)  # not causal: every block
        assert _tiled.key_blocks(rules(8, 8, causal_offset=0), 0, 4, 3) == (0, 2)
        assert _tiled.key_blocks(rules(8, 8, causal_offset=0), 4, 8, 3) == (1, 3)
        # A static KV cache limit: keys >= 5 unused.
        assert _tiled.key_blocks(rules(8, 8, key_limit=5), 0, 4, 2) == (2, 3)
        assert _tiled.key_blocks(rules(8, 8, causal_offset=3, key_limit=5), 0, 2, 2) == (2, 3)
        # Queries that see no key at all (bottom-right, T > S).
        assert _tiled.key_blocks(rules(8, 4, causal_offset=-4), 0, 4, 2) == (0, 0)
        # An index held in an array (a KV cache's, traced under jax.jit): no skipping.
        index = np.asarray(2)
        assert _tiled.key_blocks(rules(8, 8, causal_offset=index), 0, 4, 3) == (0, 3)
        assert _tiled.key_blocks(rules(8, 8, key_limit=index), 0, 4, 3) == (0, 3)
