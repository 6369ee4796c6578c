"""load_balancing_loss (mlprims/experts/loss.py).

References: the float64 NumPy oracle of mlprims.testing.oracles.experts (counting row by row), and
transformers' load_balancing_loss_func for real (Mixtral's aux loss), its value and its gradient
with respect to the router logits.
"""

from __future__ import annotations

import numpy as np
import pytest

from mlprims import load_balancing_loss
from mlprims.testing import assert_close
from mlprims.testing.oracles.experts import load_balancing_loss_reference

E = 5
NOT_EAGER_JAX = pytest.mark.backends(exclude=("jax",), reason="jax_jit runs the same code")


def _layers(n: int = 3, rows: int = 8, dtype: str = "float64", seed: int = 0) -> list:
    """Router logits of n layers for 2 sequences of rows / 2 tokens (no near-ties)."""
    rng = np.random.default_rng(seed)
    return [(rng.normal(size=(rows, E)) * 2.0).astype(dtype) for _ in range(n)]


def _mask(rows: int = 8) -> np.ndarray:
    mask = np.ones((2, rows // 2), dtype=np.int64)
    mask[1, 2:] = 0  # the second sequence is padded after 2 tokens
    return mask


def _hf(layers: list, top_k: int, mask: np.ndarray | None = None, grad: bool = False):
    """transformers' loss of a tuple of torch layers (and their gradients when `grad`)."""
    torch = pytest.importorskip("torch")
    modeling = pytest.importorskip("transformers.models.mixtral.modeling_mixtral")
    tensors = tuple(torch.tensor(a, requires_grad=grad) for a in layers)
    m = None if mask is None else torch.from_numpy(mask)
    loss = modeling.load_balancing_loss_func(tensors, E, top_k, attention_mask=m)
    if not grad:
        return loss.item()
    loss.backward()
    return loss.item(), [t.grad.numpy() for t in tensors]


class TestLoadBalancingLoss:
    @NOT_EAGER_JAX
    @pytest.mark.parametrize("masked", [False, True], ids=["all", "mask"])
    @pytest.mark.parametrize("top_k", [1, 2])
    @pytest.mark.parametrize("dtype", ["float32", "float64"])
    def test_agreement(self, xb, dtype: str, top_k: int, masked: bool) -> None:
        layers, mask = _layers(dtype=dtype), _mask() if masked else None
        got = load_balancing_loss(
            [xb.asarray(a) for a in layers],
            num_experts=E,
            top_k=top_k,
            attention_mask=None if mask is None else xb.asarray(mask),
        )
        want = load_balancing_loss_reference(
            layers, num_experts=E, top_k=top_k, attention_mask=mask
        )
        got = xb.to_numpy(got)
        assert got.shape == () and got.dtype == np.dtype(dtype)
        assert_close(got, want, dtype)

    @pytest.mark.backends("jax", reason="the code jax_jit compiles, run eagerly once")
    def test_agreement_on_eager_jax(self, xb) -> None:
        layers, mask = _layers(), _mask()
        got = load_balancing_loss(
            [xb.asarray(a) for a in layers], num_experts=E, top_k=2, attention_mask=xb.asarray(mask)
        )
        want = load_balancing_loss_reference(layers, num_experts=E, top_k=2, attention_mask=mask)
        assert_close(xb.to_numpy(got), want)

    @pytest.mark.parametrize("masked", [False, True], ids=["all", "mask"])
    @pytest.mark.parametrize("top_k", [1, 2, 3])
    def test_equals_transformers(self, top_k: int, masked: bool) -> None:
        layers, mask = _layers(dtype="float32"), _mask() if masked else None
        want = _hf(layers, top_k, mask)
        got = load_balancing_loss(layers, num_experts=E, top_k=top_k, attention_mask=mask)
        np.testing.assert_allclose(got, want, rtol=2e-6)

    def test_float64_is_transformers_but_for_its_float32_sums(self) -> None:
        layers = _layers()
        error = abs(float(load_balancing_loss(layers, num_experts=E, top_k=2)) - _hf(layers, 2))
        assert error < 1e-6, error

    @NOT_EAGER_JAX
    def test_one_array_is_one_layer(self, xb) -> None:
        """transformers returns 0 unless given a tuple; one array here is a one-layer tuple."""
        (layer,) = _layers(1)
        got = xb.to_numpy(load_balancing_loss(xb.asarray(layer), num_experts=E, top_k=2))
        assert_close(got, load_balancing_loss_reference([layer], num_experts=E, top_k=2))
        leading = xb.asarray(layer.reshape(2, 4, E))  # (B, S, E) flattens to the same rows
        assert_close(xb.to_numpy(load_balancing_loss(leading, num_experts=E, top_k=2)), got)

    def test_layers_of_different_lengths_without_a_mask(self) -> None:
        layers = [*_layers(1, rows=8), *_layers(1, rows=3, seed=1)]
        got = load_balancing_loss(tuple(layers), num_experts=E, top_k=2)
        assert_close(got, load_balancing_loss_reference(layers, num_experts=E, top_k=2))

    def test_gradient_equals_transformers_torch(self) -> None:
        torch = pytest.importorskip("torch")
        layers, mask = _layers(dtype="float32"), _mask()
        _, want = _hf(layers, 2, mask, grad=True)
        tensors = [torch.tensor(a, requires_grad=True) for a in layers]
        loss = load_balancing_loss(tensors, num_experts=E, top_k=2,
                                   attention_mask=torch.from_numpy(mask))  # fmt: skip
        grads = torch.autograd.grad(loss, tensors)
        for got, expected in zip(grads, want, strict=True):
            np.testing.assert_allclose(got.numpy(), expected, rtol=0, atol=1e-6)

    def test_gradient_equals_transformers_jax(self) -> None:
        jax = pytest.importorskip("jax")
        layers = _layers(dtype="float32")
        _, want = _hf(layers, 2, grad=True)

        def loss(layers):
            return load_balancing_loss(layers, num_experts=E, top_k=2)

        grads = jax.jit(jax.grad(loss))([jax.numpy.asarray(a) for a in layers])
        for got, expected in zip(grads, want, strict=True):
            np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)

    def test_balanced_is_one_and_collapsed_is_near_num_experts(self) -> None:
        balanced = np.eye(E) * 50.0  # token e picks expert e with certainty
        assert_close(load_balancing_loss(balanced, num_experts=E, top_k=1), 1.0)
        collapsed = np.tile([50.0, 0.0, 0.0, 0.0, 0.0], (4, 1))  # every token picks expert 0
        assert_close(load_balancing_loss(collapsed, num_experts=E, top_k=1), float(E))

    def test_padding_rows_count_for_nothing(self) -> None:
        layers, mask = _layers(), _mask()
        got = load_balancing_loss(layers, num_experts=E, top_k=2, attention_mask=mask)
        kept = [a[mask.reshape(-1) == 1] for a in layers]
        assert_close(got, load_balancing_loss(kept, num_experts=E, top_k=2))
        boolean = load_balancing_loss(layers, num_experts=E, top_k=2, attention_mask=mask == 1)
        assert_close(boolean, got)


class TestLoadBalancingLossBadInput:
    def test_top_k_and_num_experts(self) -> None:
        layers = _layers()
        with pytest.raises(ValueError, match=r"`top_k` must be in \[1, num_experts\] = \[1, 5\]"):
            load_balancing_loss(layers, num_experts=E, top_k=6)
        with pytest.raises(ValueError, match=r"`top_k` must be in .*got 0"):
            load_balancing_loss(layers, num_experts=E, top_k=0)
        with pytest.raises(
            ValueError,
            match=r"`router_logits\[0\]` must have shape \(\.\.\., E\) with E = num_experts = 4",
        ):
            load_balancing_loss(layers, num_experts=4, top_k=1)
        with pytest.raises(TypeError, match="`num_experts` must be an int"):
            load_balancing_loss(layers, num_experts=5.0, top_k=1)

    def test_logits(self) -> None:
        with pytest.raises(ValueError, match="at least one layer's logits, got an empty"):
            load_balancing_loss([], num_experts=E, top_k=1)
        with pytest.raises(TypeError, match=r"`router_logits\[1\]` must be an array"):
            load_balancing_loss([_layers(1)[0], [[0.0] * E]], num_experts=E, top_k=1)
        with pytest.raises(TypeError, match="`router_logits` must have a real floating dtype"):
            load_balancing_loss(np.ones((3, E), dtype=np.int64), num_experts=E, top_k=1)
        with pytest.raises(TypeError, match="`router_logits` must be an array"):
            load_balancing_loss(None, num_experts=E, top_k=1)

    def test_mask(self) -> None:
        with pytest.raises(ValueError, match=r"`attention_mask` must have T values.*6 values"):
            load_balancing_loss(_layers(), num_experts=E, top_k=1, attention_mask=np.ones((2, 3)))
        torch = pytest.importorskip("torch")
        with pytest.raises(TypeError, match="`attention_mask` must be an array of the same"):
            load_balancing_loss(_layers(), num_experts=E, top_k=1,
                                attention_mask=torch.from_numpy(_mask()))  # fmt: skip
