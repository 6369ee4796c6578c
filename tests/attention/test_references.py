"""scaled_dot_product_attention against the native ops: torch SDPA (masks, causal, GQA, scale,
gradients, half precision) and jax.nn.dot_product_attention (its (B, T, N, H) layout)."""

from __future__ import annotations

import numpy as np
import pytest

import mlprims
from mlprims.testing import assert_close
from mlprims.testing.oracles.attention import sdpa_reference

sdpa = mlprims.scaled_dot_product_attention


class TestReferences:
    @pytest.mark.parametrize(
        "case", ["plain", "bool_mask", "float_mask", "causal", "gqa", "scale", "gqa_causal_mask"]
    )
    def test_torch_sdpa(self, case) -> None:
        torch = pytest.importorskip("torch")
        F = pytest.importorskip("torch.nn.functional")

        rng = np.random.default_rng(5)
        n, kv = (6, 2) if case.startswith("gqa") else (4, 4)
        q = torch.from_numpy(rng.standard_normal((2, n, 5, 8), dtype=np.float32))
        k = torch.from_numpy(rng.standard_normal((2, kv, 7, 8), dtype=np.float32))
        v = torch.from_numpy(rng.standard_normal((2, kv, 7, 3), dtype=np.float32))
        mask = torch.from_numpy(rng.random((2, 1, 5, 7)) > 0.4)
        float_mask = torch.from_numpy(rng.standard_normal((n, 5, 7), dtype=np.float32))
        ours, theirs = {}, {"enable_gqa": case.startswith("gqa")}
        if case in ("bool_mask", "gqa_causal_mask"):
            ours["mask"] = theirs["attn_mask"] = mask
        if case == "float_mask":
            ours["bias"] = theirs["attn_mask"] = float_mask
        if case in ("causal", "gqa_causal_mask"):
            ours["is_causal"] = True
            if "attn_mask" in theirs:  # torch takes is_causal without a mask only
                theirs["attn_mask"] = theirs["attn_mask"] & torch.ones(5, 7, dtype=bool).tril()
            else:
                theirs["is_causal"] = True
        if case == "scale":
            ours["scale"] = theirs["scale"] = 0.37
        expected = F.scaled_dot_product_attention(q, k, v, **theirs)
        assert_close(sdpa(q, k, v, **ours).numpy(), expected.numpy(), "float32", scale=3.0)

    def test_torch_bottom_right_causal(self) -> None:
        torch = pytest.importorskip("torch")
        F = pytest.importorskip("torch.nn.functional")
        causal_lower_right = pytest.importorskip("torch.nn.attention.bias").causal_lower_right

        rng = np.random.default_rng(6)
        q, k, v = (torch.from_numpy(rng.standard_normal((1, 2, t, 4))) for t in (3, 6, 6))
        expected = F.scaled_dot_product_attention(q, k, v, attn_mask=causal_lower_right(3, 6))
        out = sdpa(q, k, v, is_causal=True, causal_align="bottom_right")
        assert_close(out.numpy(), expected.numpy(), "float64")

    def test_torch_gradients_match_sdpa(self) -> None:
        torch = pytest.importorskip("torch")
        F = pytest.importorskip("torch.nn.functional")

        rng = np.random.default_rng(14)
        q, k, v = (torch.from_numpy(rng.standard_normal((2, 4, 7, 3))) for _ in "qkv")
        mask = torch.from_numpy(rng.random((7, 7)) > 0.3) | torch.eye(7, dtype=torch.bool)
        grads = []
        for fn in (
            lambda q, k, v: sdpa(q, k, v, mask=mask, block_size=(3, 2)),  # online softmax tiles
            lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=mask),
        ):
            args = [a.clone().requires_grad_() for a in (q, k, v)]
            (fn(*args) * torch.arange(3.0, dtype=torch.float64)).sum().backward()
            grads.append([a.grad.numpy() for a in args])
        for ours, theirs in zip(*grads, strict=True):
            assert_close(ours, theirs, "float64")

    def test_gradients_are_finite_with_an_empty_row(self) -> None:
        jax = pytest.importorskip("jax")
        jnp = pytest.importorskip("jax.numpy")

        rng = np.random.default_rng(15)
        q, k, v = (jnp.asarray(rng.standard_normal((2, 5, 3))) for _ in "qkv")
        mask = jnp.ones((5, 5), dtype=bool).at[2].set(False)

        def loss(q, k, v, block_size):
            return jnp.sum(sdpa(q, k, v, mask=mask, block_size=block_size) ** 2)

        grad = jax.jit(jax.grad(loss, argnums=(0, 1, 2)), static_argnums=3)
        tiled, whole = grad(q, k, v, (2, 2)), grad(q, k, v, None)  # tiles: through lax.fori_loop
        for a, b in zip(tiled, whole, strict=True):
            assert np.isfinite(np.asarray(a)).all()
            assert_close(np.asarray(a), np.asarray(b), "float64")

    @pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
    def test_half_precision_matches_sdpa_in_float32(self, dtype) -> None:
        torch = pytest.importorskip("torch")
        F = pytest.importorskip("torch.nn.functional")

        rng = np.random.default_rng(7)
        q, k, v = (
            torch.from_numpy(rng.standard_normal((2, 4, 16, 8), dtype=np.float32)) for _ in "qkv"
        )
        half = getattr(torch, dtype)
        out = sdpa(q.to(half), k.to(half), v.to(half), is_causal=True)
        expected = F.scaled_dot_product_attention(
            *(a.to(half).float() for a in (q, k, v)), is_causal=True
        )
        assert out.dtype == half
        assert_close(out.float().numpy(), expected.numpy(), dtype)

    def test_half_precision_numpy_and_jax(self) -> None:
        jnp = pytest.importorskip("jax.numpy")

        rng = np.random.default_rng(8)
        q, k, v = (rng.standard_normal((2, 3, 12, 8)).astype(np.float16) for _ in "qkv")
        expected = sdpa_reference(q, k, v, is_causal=True)[0]
        assert_close(sdpa(q, k, v, is_causal=True), expected, "float16")
        bf16 = sdpa(*(jnp.asarray(a, dtype=jnp.bfloat16) for a in (q, k, v)), is_causal=True)
        assert bf16.dtype == jnp.bfloat16
        assert_close(np.asarray(bf16, dtype=np.float32), expected, "bfloat16")

    @pytest.mark.parametrize("case", ["plain", "mask_bias", "causal", "gqa"])
    def test_jax_dot_product_attention(self, case) -> None:
        jax = pytest.importorskip("jax")
        jnp = pytest.importorskip("jax.numpy")

        rng = np.random.default_rng(9)
        n, kv = (4, 2) if case == "gqa" else (2, 2)
        # jax.nn computes its logits in float32 (preferred_element_type): compare in float32.
        q = jnp.asarray(rng.standard_normal((2, 5, n, 8), dtype=np.float32))  # (B, T, N, H)
        k, v = (jnp.asarray(rng.standard_normal((2, 6, kv, 8), dtype=np.float32)) for _ in "kv")
        mask = jnp.asarray(rng.random((2, n, 5, 6)) > 0.3) | jnp.eye(5, 6, dtype=bool)
        bias = jnp.asarray(rng.standard_normal((2, n, 5, 6), dtype=np.float32))
        options = {"mask": mask, "bias": bias} if case == "mask_bias" else {}
        if case == "causal":
            options["is_causal"] = True
        expected = jax.nn.dot_product_attention(q, k, v, **options)
        ours = sdpa(*(jnp.swapaxes(a, 1, 2) for a in (q, k, v)), **options)  # (B, N, T, H)
        assert_close(
            np.asarray(jnp.swapaxes(ours, 1, 2)), np.asarray(expected), "float32", scale=3.0
        )
