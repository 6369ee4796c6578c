"""clip_loss and info_nce_loss (mlprims/losses/contrastive.py): the float64 oracles on every
backend mode, transformers' CLIP loss for real (``image_text_contrastive_loss`` and a tiny
CLIPModel's ``return_loss``), F.normalize + F.cross_entropy for one-way InfoNCE, gradients,
invariants, bad input."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest

from mlprims import clip_loss, info_nce_loss
from mlprims.testing import assert_close
from mlprims.testing.oracles.losses import clip_loss_reference, info_nce_loss_reference

N, D = 5, 8
#: Eager JAX compiles cross_entropy's operations anew for each shape (0.5 s a test): jax_jit runs
#: the same code, and cross_entropy's own tests run it on eager JAX.
NOT_EAGER_JAX = pytest.mark.backends(exclude=("jax",), reason="jax_jit runs the same code")


def _logits(dtype: str = "float64", seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(scale=4.0, size=(N, N)).astype(dtype)


def _pair(dtype: str = "float64", seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(N, D)).astype(dtype), rng.normal(size=(N, D)).astype(dtype)


def _clip() -> Any:
    """transformers' CLIP loss function (transformers 5: image_text_contrastive_loss)."""
    pytest.importorskip("torch")
    modeling_clip = pytest.importorskip("transformers.models.clip.modeling_clip")
    return modeling_clip.image_text_contrastive_loss


class TestClipLoss:
    @NOT_EAGER_JAX
    @pytest.mark.parametrize("dtype", ["float32", "float64"])
    def test_agreement(self, xb, dtype: str) -> None:
        logits = _logits(dtype)
        got = xb.to_numpy(clip_loss(xb.asarray(logits)))
        assert got.dtype == np.dtype(dtype) and got.shape == ()
        assert_close(got, clip_loss_reference(logits), dtype)

    def test_equals_transformers(self) -> None:
        torch = pytest.importorskip("torch")
        logits = _logits("float32", seed=1)
        want = _clip()(torch.from_numpy(logits))
        np.testing.assert_allclose(clip_loss(logits), want.numpy(), rtol=1e-6)
        np.testing.assert_allclose(clip_loss(torch.from_numpy(logits)), want, rtol=1e-6)

    def test_equals_a_clip_models_own_loss(self) -> None:
        torch = pytest.importorskip("torch")
        transformers = pytest.importorskip("transformers")
        small = {"hidden_size": 8, "intermediate_size": 16, "num_hidden_layers": 1,
                 "num_attention_heads": 2}  # fmt: skip
        config = transformers.CLIPConfig(
            text_config={**small, "vocab_size": 40, "max_position_embeddings": 6,
                         "bos_token_id": 0, "eos_token_id": 1, "pad_token_id": 1},
            vision_config={**small, "image_size": 8, "patch_size": 4},
            projection_dim=8,
        )  # fmt: skip
        torch.manual_seed(0)
        model = transformers.CLIPModel(config).eval()
        ids, pixels = torch.randint(2, 40, (3, 6)), torch.randn(3, 3, 8, 8)
        out = model(input_ids=ids, pixel_values=pixels, return_loss=True)
        got = clip_loss(out.logits_per_text)
        torch.testing.assert_close(got, out.loss, rtol=1e-6, atol=1e-7)
        (ours,) = torch.autograd.grad(got, model.logit_scale, retain_graph=True)
        (theirs,) = torch.autograd.grad(out.loss, model.logit_scale)
        torch.testing.assert_close(ours, theirs)

    def test_gradients_equal_transformers_torch_and_jax(self) -> None:
        torch = pytest.importorskip("torch")
        jax = pytest.importorskip("jax")
        logits = _logits("float64", seed=2)
        x = torch.from_numpy(logits).requires_grad_()
        (want,) = torch.autograd.grad(_clip()(x), x)
        (ours,) = torch.autograd.grad(clip_loss(x), x)
        np.testing.assert_allclose(ours.numpy(), want.numpy(), rtol=1e-12, atol=1e-15)
        got = jax.jit(jax.grad(clip_loss))(logits)
        np.testing.assert_allclose(np.asarray(got), want.numpy(), rtol=1e-12, atol=1e-15)

    def test_perfect_separation_and_symmetry(self) -> None:
        assert float(clip_loss(np.eye(4) * 100.0)) < 1e-40
        logits = _logits(seed=3)
        np.testing.assert_allclose(clip_loss(logits), clip_loss(logits.T), rtol=1e-14)
        np.testing.assert_allclose(clip_loss(np.zeros((4, 4))), np.log(4.0), rtol=1e-14)

    @pytest.mark.parametrize("shape", [(3, 4), (4,), (0, 0), (2, 2, 2)])
    def test_bad_shape(self, shape: tuple[int, ...]) -> None:
        with pytest.raises(ValueError, match=re.escape("must be a square (N, N) matrix")):
            clip_loss(np.zeros(shape))

    def test_bad_dtype(self) -> None:
        with pytest.raises(TypeError, match="`logits_per_text` must have a real floating"):
            clip_loss(np.eye(3, dtype=int))


class TestInfoNceLoss:
    @NOT_EAGER_JAX
    @pytest.mark.parametrize("symmetric", [True, False], ids=["symmetric", "one-way"])
    @pytest.mark.parametrize("dtype", ["float32", "float64"])
    def test_agreement(self, xb, dtype: str, symmetric: bool) -> None:
        a, b = _pair(dtype)
        got = info_nce_loss(xb.asarray(a), xb.asarray(b), temperature=0.1, symmetric=symmetric)
        got = xb.to_numpy(got)
        assert got.dtype == np.dtype(dtype) and got.shape == ()
        want = info_nce_loss_reference(a, b, temperature=0.1, symmetric=symmetric)
        assert_close(got, want, dtype, scale=4.0)

    def test_symmetric_is_clip_on_cosines_and_one_way_is_cross_entropy(self) -> None:
        torch = pytest.importorskip("torch")
        F = pytest.importorskip("torch.nn.functional")
        a, b = (torch.from_numpy(x) for x in _pair("float64", seed=1))
        logits = F.normalize(a) @ F.normalize(b).T / 0.07
        want = _clip()(logits)
        np.testing.assert_allclose(info_nce_loss(a, b), want, rtol=1e-12)
        one_way = F.cross_entropy(logits, torch.arange(N))
        np.testing.assert_allclose(info_nce_loss(a, b, symmetric=False), one_way, rtol=1e-12)

    def test_gradients_equal_torch_and_jax(self) -> None:
        torch = pytest.importorskip("torch")
        jax = pytest.importorskip("jax")
        F = pytest.importorskip("torch.nn.functional")
        a_np, b_np = _pair("float64", seed=2)
        a, b = torch.from_numpy(a_np).requires_grad_(), torch.from_numpy(b_np).requires_grad_()
        want = torch.autograd.grad(_clip()(F.normalize(a) @ F.normalize(b).T / 0.5), (a, b))
        ours = torch.autograd.grad(info_nce_loss(a, b, temperature=0.5), (a, b))
        got = jax.jit(jax.grad(lambda x, y: info_nce_loss(x, y, temperature=0.5), (0, 1)))(
            a_np, b_np
        )
        for w, o, g in zip(want, ours, got, strict=True):
            np.testing.assert_allclose(o.numpy(), w.numpy(), rtol=1e-10, atol=1e-13)
            np.testing.assert_allclose(np.asarray(g), w.numpy(), rtol=1e-10, atol=1e-13)

    def test_invariants(self) -> None:
        a, b = _pair(seed=3)
        loss = info_nce_loss(a, b)
        scale = np.array([[2.0], [0.5], [3.0], [1.0], [10.0]])
        np.testing.assert_allclose(info_nce_loss(a * scale, b), loss, rtol=1e-12)  # cosines
        np.testing.assert_allclose(info_nce_loss(b, a), loss, rtol=1e-12)  # both directions
        one_way = info_nce_loss(a, b, symmetric=False) + info_nce_loss(b, a, symmetric=False)
        np.testing.assert_allclose(loss, one_way / 2, rtol=1e-12)
        zero = np.zeros((2, 3))  # F.normalize's eps: a zero row stays zero, no NaN
        np.testing.assert_allclose(info_nce_loss(zero, zero), np.log(2.0), rtol=1e-14)

    @pytest.mark.parametrize(
        ("args", "kwargs", "error", "words"),
        [
            ((np.zeros((3, 2)), np.zeros((4, 2))), {}, ValueError,
             "`a` and `b` must be two (N, D) batches of one shape with N >= 1, got (3, 2) and"),
            ((np.zeros(3), np.zeros(3)), {}, ValueError, "two (N, D) batches"),
            ((np.zeros((3, 2)), np.zeros((3, 2))), {"temperature": 0.0}, ValueError,
             "`temperature` must be in (0.0, inf), got 0.0"),
            ((np.zeros((3, 2)), np.zeros((3, 2))), {"symmetric": "yes"}, TypeError,
             "`symmetric` must be True or False, got 'yes'"),
            ((np.zeros((3, 2)), np.zeros((3, 2), dtype=int)), {}, TypeError,
             "`b` must have a real floating dtype"),
        ],
    )  # fmt: skip
    def test_bad_input(self, args: tuple, kwargs: dict, error: type, words: str) -> None:
        with pytest.raises(error, match=re.escape(words)):
            info_nce_loss(*args, **kwargs)
