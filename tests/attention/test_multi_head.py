"""Multi-head attention, its parameters (init, torch conversion) and the KV cache."""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest

import mlprims
from mlprims import random
from mlprims.attention import _checks as _attention_checks
from mlprims.testing import assert_close
from mlprims.testing.oracles.attention import mha_reference

mha = mlprims.multi_head_attention


def random_params(rng, d_model, n, kv, h, *, d_kv=None, bias=True):
    d_kv = d_model if d_kv is None else d_kv
    shapes = {
        "wq": (d_model, n * h),
        "wk": (d_kv, kv * h),
        "wv": (d_kv, kv * h),
        "wo": (n * h, d_model),
    }
    if bias:
        shapes.update({"bq": (n * h,), "bk": (kv * h,), "bv": (kv * h,), "bo": (d_model,)})
    return {name: rng.standard_normal(s) / math.sqrt(s[0]) for name, s in shapes.items()}


class TestInitMultiHeadAttention:
    def test_shapes_bounds_and_zero_biases(self) -> None:
        p = mlprims.init_multi_head_attention(random.key(0), 32, 8, num_kv_heads=2, head_dim=6)
        assert {n: tuple(a.shape) for n, a in p.items()} == {
            "wq": (32, 48),
            "wk": (32, 12),
            "wv": (32, 12),
            "wo": (48, 32),
            "bq": (48,),
            "bk": (12,),
            "bv": (12,),
            "bo": (32,),
        }
        xavier = math.sqrt(6 / (32 + 48 + 2 * 12))  # torch's xavier over the stacked in_proj
        for name in ("wq", "wk", "wv"):
            assert np.abs(p[name]).max() <= xavier and np.abs(p[name]).max() > 0.9 * xavier
        assert 0.9 / math.sqrt(48) < np.abs(p["wo"]).max() <= 1 / math.sqrt(48)
        assert all(np.all(p[b] == 0) for b in ("bq", "bk", "bv", "bo"))
        assert p["wq"].dtype == np.float32

    def test_matches_torch_init_statistics(self) -> None:
        torch = pytest.importorskip("torch")

        torch.manual_seed(0)
        module = torch.nn.MultiheadAttention(64, 4, batch_first=True)
        ours = mlprims.init_multi_head_attention(random.key(1), 64, 4, dtype="float64")
        theirs = mlprims.from_torch_multihead(module.state_dict(), backend="numpy")
        for name in ("wq", "wk", "wv", "wo"):  # uniform: std = bound / sqrt(3)
            assert abs(ours[name].std() / theirs[name].std() - 1) < 0.1
            assert abs(np.abs(ours[name]).max() / np.abs(theirs[name]).max() - 1) < 0.05
        assert all(np.all(theirs[b] == 0) for b in ("bq", "bk", "bv", "bo"))

    def test_same_key_same_parameters_on_every_backend(self, xb) -> None:
        key = random.key(3, backend=xb.backend.name)
        p = xb.to_numpy(mlprims.init_multi_head_attention(key, 8, 2, bias=False))
        expected = mlprims.init_multi_head_attention(random.key(3), 8, 2, bias=False)
        assert sorted(p) == ["wk", "wo", "wq", "wv"]

        def same(actual, expected):
            if xb.is_jit:  # jax.jit may fuse uniform's min + (max - min) * u: one rounding apart
                assert_close(actual, expected, "float32")
            else:
                np.testing.assert_array_equal(actual, expected)

        for name in p:
            same(p[name], expected[name])
        moved = mlprims.init_multi_head_attention(random.key(3), 8, 2, backend=xb.backend.name)
        same(xb.to_numpy(moved["wq"]), expected["wq"])

    @pytest.mark.parametrize(
        ("args", "options", "error", "match"),
        [
            ((10, 4), {}, ValueError, r"`d_model` \(10\) must be divisible by `num_heads` \(4\)"),
            ((8, 4), {"num_kv_heads": 3}, ValueError, r"`num_kv_heads` \(3\) must divide"),
            ((8, 0), {}, ValueError, r"`num_heads` must be >= 1"),
            ((8, 2), {"dtype": "int32"}, TypeError, r"`dtype` must be a real floating"),
        ],
    )
    def test_bad_input(self, args, options, error, match) -> None:
        with pytest.raises(error, match=match):
            mlprims.init_multi_head_attention(random.key(0), *args, **options)


class TestMultiHeadAttention:
    @pytest.mark.parametrize("dtype", ["float32", "float64"])
    @pytest.mark.parametrize(
        ("n", "kv", "cross", "options"),
        [
            (4, 4, False, {"is_causal": True}),
            (4, 2, False, {"mask": "random", "return_weights": True}),
            (6, 1, True, {"block_size": 2}),
            (2, 2, True, {"bias": "random", "return_weights": True}),
        ],
    )
    def test_agrees_with_float64_reference(self, xb, dtype, n, kv, cross, options) -> None:
        rng = np.random.default_rng(20)
        params = random_params(rng, 12, n, kv, 3, d_kv=5 if cross else None)
        x = rng.standard_normal((2, 4, 12))
        x_kv = rng.standard_normal((2, 6, 5)) if cross else None
        s = 6 if cross else 4
        options = dict(options)
        if options.get("mask") == "random":
            options["mask"] = rng.random((2, 1, 4, s)) > 0.3
        if options.get("bias") == "random":
            options["bias"] = rng.standard_normal((n, 4, s))
        ref_options = {
            k: v for k, v in options.items() if k not in ("block_size", "return_weights")
        }
        ref_out, ref_w = mha_reference(params, x, x_kv, num_heads=n, num_kv_heads=kv, **ref_options)

        def cast(a):
            return xb.asarray(a.astype(dtype) if a.dtype != bool else a)

        arrays = {k: cast(v) if isinstance(v, np.ndarray) else v for k, v in options.items()}
        args = [{k: cast(v) for k, v in params.items()}, cast(x)]
        args += [] if x_kv is None else [cast(x_kv)]
        result = xb.to_numpy(xb.run(mha, *args, num_heads=n, num_kv_heads=kv, **arrays))
        assert isinstance(result, mlprims.MultiHeadAttentionOutput) and result.cache is None
        if options.get("return_weights"):
            assert_close(result.weights, ref_w, dtype, scale=5.0)
        else:
            assert result.weights is None
        assert result.output.dtype == np.dtype(dtype)
        assert_close(result.output, ref_out, dtype, scale=5.0)

    @pytest.mark.parametrize("case", ["self", "causal_mask", "key_padding", "cross_kdim"])
    def test_equals_torch_multihead_attention(self, case) -> None:
        torch = pytest.importorskip("torch")

        torch.manual_seed(0)
        kdim = 6 if case == "cross_kdim" else None
        module = torch.nn.MultiheadAttention(16, 4, batch_first=True, kdim=kdim, vdim=kdim).double()
        with torch.no_grad():  # torch zeroes the biases: make them count
            for name, tensor in module.named_parameters():
                if "bias" in name:
                    tensor.normal_()
        params = mlprims.from_torch_multihead(module.state_dict())
        assert all(isinstance(a, torch.Tensor) for a in params.values())
        rng = np.random.default_rng(21)
        x = torch.from_numpy(rng.standard_normal((3, 5, 16)))
        x_kv = torch.from_numpy(rng.standard_normal((3, 7, kdim))) if kdim else x
        theirs, ours = {}, {}
        if case == "causal_mask":
            allowed = torch.ones(5, 5, dtype=torch.bool).tril()
            theirs["attn_mask"], ours["mask"] = ~allowed, allowed  # torch: True = masked out
        if case == "key_padding":
            padding = torch.zeros(3, 5, dtype=torch.bool)
            padding[0, 3:] = padding[2, 1:] = True
            theirs["key_padding_mask"], ours["mask"] = padding, ~padding[:, None, None, :]
        expected, expected_w = module(x, x_kv, x_kv, average_attn_weights=False, **theirs)
        out, w, _ = mha(
            params, x, None if kdim is None else x_kv, num_heads=4, return_weights=True, **ours
        )
        assert_close(out.detach().numpy(), expected.detach().numpy(), "float64")
        assert_close(w.detach().numpy(), expected_w.detach().numpy(), "float64")

    def test_self_attention_is_multi_head_attention_of_x_with_itself(self) -> None:
        rng = np.random.default_rng(22)
        params = random_params(rng, 8, 2, 2, 4)
        x = rng.standard_normal((3, 8))  # unbatched (T, E)
        assert_close(
            mlprims.self_attention(params, x, num_heads=2, is_causal=True).output,
            mha(params, x, x, num_heads=2, is_causal=True).output,
            "float64",
        )

    def test_self_attention_has_the_options_of_multi_head_attention(self) -> None:
        ours = inspect.signature(mlprims.self_attention).parameters
        theirs = inspect.signature(mha).parameters
        assert all(p.kind is not inspect.Parameter.VAR_KEYWORD for p in ours.values())
        assert [n for n in theirs if n != "key_value"] == ["params", "query", *list(ours)[2:]]
        assert all(ours[n].default == theirs[n].default for n in list(ours)[2:])

    @pytest.mark.parametrize("block_size", [None, 2, "auto"])
    def test_queries_shared_over_the_batch(self, xb, monkeypatch, block_size) -> None:
        # One query sequence (T, E) against a batch of memories (B, S, E): learned queries.
        monkeypatch.setattr(_attention_checks, "AUTO_SINGLE_TILE", 20)  # "auto" tiles too
        monkeypatch.setattr(_attention_checks, "AUTO_TILE", (2, 2))
        rng = np.random.default_rng(33)
        params = random_params(rng, 8, 2, 2, 4)
        query, memory = rng.standard_normal((3, 8)), rng.standard_normal((2, 5, 8))
        p = {k: xb.asarray(v) for k, v in params.items()}
        out, _, _ = xb.run(
            mha, p, xb.asarray(query), xb.asarray(memory), num_heads=2, block_size=block_size
        )
        expected = mha_reference(params, query, memory, num_heads=2)[0]
        assert_close(xb.to_numpy(out), expected, "float64")

    def test_gradients_flow_in_torch(self) -> None:
        torch = pytest.importorskip("torch")

        params = {
            k: torch.from_numpy(v).requires_grad_()
            for k, v in random_params(np.random.default_rng(23), 8, 2, 1, 4).items()
        }
        x = torch.from_numpy(np.random.default_rng(24).standard_normal((2, 5, 8)))
        out = mlprims.self_attention(params, x, num_heads=2, num_kv_heads=1, is_causal=True)
        out.output.sum().backward()
        assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in params.values())

    @pytest.mark.parametrize(
        ("change", "error", "match"),
        [
            ({"wq": np.zeros((7, 8))}, ValueError, r"`params\['wq'\]` must have shape \(8, N\*H\)"),
            ({"wk": np.zeros((8, 6))}, ValueError, r"`params\['wk'\]` must have K\*H = 2\*4 = 8"),
            ({"wv": np.zeros((8, 5))}, ValueError, r"`params\['wv'\]` must have shape"),
            ({"wo": np.zeros((4, 8))}, ValueError, r"`params\['wo'\]` must have N\*Hv = 8 rows"),
            ({"wo": None}, ValueError, r"`params` is missing wo"),
        ],
    )
    def test_bad_params(self, change, error, match) -> None:
        params = random_params(np.random.default_rng(25), 8, 2, 2, 4, bias=False)
        params.update(change)
        params = {k: v for k, v in params.items() if v is not None}
        with pytest.raises(error, match=match):
            mha(params, np.zeros((3, 8)), num_heads=2)

    def test_bad_options(self) -> None:
        params = random_params(np.random.default_rng(26), 8, 2, 2, 4)
        x = np.zeros((2, 3, 8))
        with pytest.raises(ValueError, match=r"`num_kv_heads` \(3\) must divide"):
            mha(params, x, num_heads=2, num_kv_heads=3)
        with pytest.raises(TypeError, match=r"`key_value` must have the dtype of `query`"):
            mha(params, x, x.astype(np.float32), num_heads=2)
        with pytest.raises(
            ValueError, match=r"`mask` must broadcast to \(B, N, T, S\) = \(2, 2, 3, 3\)"
        ):
            mha(params, x, num_heads=2, mask=np.ones((4, 3), dtype=bool))
        with pytest.raises(TypeError, match=r"`params` must be a dict"):
            mha([1, 2], x, num_heads=2)
        with pytest.raises(ValueError, match=r"`key` is required"):
            mha(params, x, num_heads=2, dropout_p=0.1)


class TestFromTorchMultihead:
    def test_layout_and_backend(self, xb) -> None:
        torch = pytest.importorskip("torch")

        module = torch.nn.MultiheadAttention(8, 2, batch_first=True)
        state = module.state_dict()
        params = mlprims.from_torch_multihead(state, backend=xb.backend.name)
        w = state["in_proj_weight"].numpy()
        np.testing.assert_array_equal(xb.to_numpy(params["wq"]), w[:8].T)
        np.testing.assert_array_equal(xb.to_numpy(params["wv"]), w[16:].T)
        np.testing.assert_array_equal(xb.to_numpy(params["wo"]), state["out_proj.weight"].numpy().T)
        assert mlprims.backends.of(params["wk"]).name == xb.backend.name

    def test_without_bias_and_errors(self) -> None:
        torch = pytest.importorskip("torch")

        state = torch.nn.MultiheadAttention(8, 2, bias=False).state_dict()
        assert sorted(mlprims.from_torch_multihead(state)) == ["wk", "wo", "wq", "wv"]
        with pytest.raises(ValueError, match=r"add_bias_kv"):
            mlprims.from_torch_multihead(
                torch.nn.MultiheadAttention(8, 2, add_bias_kv=True).state_dict()
            )
        with pytest.raises(ValueError, match=r"neither 'in_proj_weight'"):
            mlprims.from_torch_multihead({"out_proj.weight": np.zeros((8, 8))})
        with pytest.raises(TypeError, match=r"`state_dict` must be a mapping"):
            mlprims.from_torch_multihead([np.zeros(3)])


class TestKVCache:
    def test_init(self, xb) -> None:
        cache = mlprims.init_kv_cache(
            (2, 3), 4, 16, 8, value_dim=5, dtype="float64", backend=xb.backend.name
        )
        assert tuple(cache["k"].shape) == (2, 3, 4, 16, 8)
        assert tuple(cache["v"].shape) == (2, 3, 4, 16, 5)
        assert int(xb.to_numpy(cache["index"])) == 0 and cache["index"].ndim == 0
        assert not np.any(xb.to_numpy(cache["k"]))

    @pytest.mark.parametrize(
        ("batch", "dtype", "error", "match"),
        [
            (2, "int32", TypeError, r"`dtype` must be a real floating dtype"),
            (2, "float3", ValueError, r"`dtype` must name a dtype"),
            ((2, 0), "float32", ValueError, r"`batch` must be >= 1"),
            ([2], "float32", TypeError, r"`batch` must be an int or a tuple"),
        ],
    )
    def test_init_bad_input(self, batch, dtype, error, match) -> None:
        with pytest.raises(error, match=match):
            mlprims.init_kv_cache(batch, 2, 8, 4, dtype=dtype)

    def test_decoding_token_by_token_equals_full_causal(self, xb) -> None:
        rng = np.random.default_rng(27)
        params = random_params(rng, 12, 4, 2, 3)
        x = rng.standard_normal((2, 6, 12))
        full = mha_reference(params, x, num_heads=4, num_kv_heads=2, is_causal=True)[0]
        p = {k: xb.asarray(v) for k, v in params.items()}
        cache = mlprims.init_kv_cache(2, 2, 8, 3, dtype="float64", backend=xb.backend.name)
        options = {"num_heads": 4, "num_kv_heads": 2, "is_causal": True}
        out, _, cache = xb.run(
            mlprims.self_attention, p, xb.asarray(x[:, :3]), cache=cache, **options
        )
        outputs = [xb.to_numpy(out)]  # a prompt of 3 tokens, then one token at a time
        for t in range(3, 6):
            out, _, cache = xb.run(
                mlprims.self_attention, p, xb.asarray(x[:, t : t + 1]), cache=cache, **options
            )
            outputs.append(xb.to_numpy(out))
        assert_close(np.concatenate(outputs, axis=1), full, "float64")
        assert int(xb.to_numpy(cache["index"])) == 6
        k = xb.to_numpy(cache["k"])
        expected_k = (x @ params["wk"] + params["bk"]).reshape(2, 6, 2, 3).transpose(0, 2, 1, 3)
        assert_close(k[:, :, :6], expected_k, "float64")
        assert not np.any(k[:, :, 6:])  # unwritten positions stay zero

    def test_one_compilation_with_a_traced_index(self) -> None:
        jax = pytest.importorskip("jax")
        jnp = pytest.importorskip("jax.numpy")

        rng = np.random.default_rng(28)
        params = random_params(rng, 8, 2, 1, 4)
        x = rng.standard_normal((1, 5, 8))
        full = mha_reference(params, x, num_heads=2, num_kv_heads=1, is_causal=True)[0]

        @jax.jit
        def step(p, token, cache):
            return mlprims.self_attention(
                p,
                token,
                num_heads=2,
                num_kv_heads=1,
                cache=cache,
                is_causal=True,
                return_weights=True,
            )

        p = {k: jnp.asarray(v) for k, v in params.items()}
        cache = mlprims.init_kv_cache(1, 1, 7, 4, dtype="float64", backend="jax")
        outputs = []
        for t in range(5):
            out, w, cache = step(p, jnp.asarray(x[:, t : t + 1]), cache)
            outputs.append(np.asarray(out))
            assert np.all(np.asarray(w)[..., t + 1 :] == 0)  # nothing beyond the written prefix
        assert step._cache_size() == 1
        assert_close(np.concatenate(outputs, axis=1), full, "float64")

    def test_jax_32_bit_defaults(self, jax_without_x64) -> None:
        jax = pytest.importorskip("jax")
        jnp = pytest.importorskip("jax.numpy")

        rng = np.random.default_rng(32)
        params = random_params(rng, 8, 2, 1, 4)
        x = rng.standard_normal((1, 6, 8)).astype(np.float32)
        p = {k: jnp.asarray(v, dtype=jnp.float32) for k, v in params.items()}
        cache = mlprims.init_kv_cache(1, 1, 8, 4, backend="jax")
        assert cache["index"].dtype == jnp.int32
        step = jax.jit(
            lambda p, x, c: mlprims.self_attention(
                p, x, num_heads=2, num_kv_heads=1, cache=c, is_causal=True, block_size=(2, 3)
            )
        )
        out, _, cache = step(p, jnp.asarray(x[:, :4]), cache)
        out2, _, cache = step(p, jnp.asarray(x[:, 4:]), cache)
        expected = mha_reference(params, x, num_heads=2, num_kv_heads=1, is_causal=True)[0]
        assert_close(np.concatenate([out, out2], axis=1), expected, "float32", scale=3.0)
        assert cache["index"].dtype == jnp.int32 and int(cache["index"]) == 6

    def test_mask_and_bias_cover_the_whole_buffer(self) -> None:
        rng = np.random.default_rng(29)
        params = random_params(rng, 8, 2, 2, 4)
        x = rng.standard_normal((1, 4, 8))
        cache = mlprims.init_kv_cache(1, 2, 6, 4, dtype="float64")
        mask = np.ones((4, 6), dtype=bool)
        mask[:, 1] = False  # forget token 1
        out, _, _ = mlprims.self_attention(
            params, x, num_heads=2, cache=cache, mask=mask, is_causal=True
        )
        expected = mha_reference(params, x, num_heads=2, is_causal=True, mask=mask[:, :4])[0]
        assert_close(out, expected, "float64")

    @pytest.mark.parametrize(
        ("cache", "error", "match"),
        [
            ({"k": np.zeros((2, 2, 8, 4))}, TypeError, r"`cache` must be a dict with 'k', 'v'"),
            ({"k": np.zeros((2, 3, 8, 4))}, ValueError, r"`cache\['k'\]` must have shape"),
            (
                {"v": np.zeros((2, 2, 8, 4), dtype=np.float32)},
                TypeError,
                r"`cache\['v'\]` must have",
            ),
            (
                {"index": np.zeros(1, dtype=np.int64)},
                TypeError,
                r"`cache\['index'\]` must be a 0-d",
            ),
            (
                {"k": np.zeros((2, 2, 2, 4)), "v": np.zeros((2, 2, 2, 4))},
                ValueError,
                r"more than the cache holds",
            ),
        ],
    )
    def test_bad_cache(self, cache, error, match) -> None:
        params = random_params(np.random.default_rng(30), 8, 2, 2, 4)
        full = mlprims.init_kv_cache(2, 2, 8, 4, dtype="float64")
        if "k" in cache and len(cache) == 1 and cache["k"].shape == (2, 2, 8, 4):
            full = cache  # missing entries
        else:
            full.update(cache)
        with pytest.raises(error, match=match):
            mlprims.self_attention(params, np.zeros((2, 3, 8)), num_heads=2, cache=full)

    def test_cache_is_for_self_attention(self) -> None:
        params = random_params(np.random.default_rng(31), 8, 2, 2, 4)
        cache = mlprims.init_kv_cache(2, 2, 8, 4, dtype="float64")
        with pytest.raises(ValueError, match=r"`cache` is for self-attention"):
            mha(params, np.zeros((2, 3, 8)), np.zeros((2, 3, 8)), num_heads=2, cache=cache)
