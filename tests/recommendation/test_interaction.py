"""fm_interaction (mlprims/recommendation/interaction.py).

References: the float64 NumPy oracle of mlprims.testing.oracles.recommendation (the O(F^2 K) sum
over the pairs of fields), and the same pairwise sum written in torch for the gradients."""

from __future__ import annotations

import numpy as np
import pytest

from mlprims import fm_interaction
from mlprims.testing import assert_close
from mlprims.testing.oracles.recommendation import fm_interaction_reference

NO_EAGER_JAX = pytest.mark.backends(exclude=("jax",), reason="jax_jit runs the same code")


def _fields(shape: tuple[int, ...] = (4, 6, 3), seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=shape)


class TestFmInteraction:
    @NO_EAGER_JAX
    @pytest.mark.parametrize("dtype", ["float32", "float64"])
    def test_agreement_with_the_pairwise_sum(self, xb, dtype: str) -> None:
        v = _fields().astype(dtype)
        got = xb.to_numpy(fm_interaction(xb.asarray(v)))
        assert got.shape == (4,) and got.dtype == np.dtype(dtype)
        assert_close(got, fm_interaction_reference(v), dtype)

    def test_leading_axes_and_one_field(self) -> None:
        v = _fields((2, 3, 5, 4))
        assert_close(fm_interaction(v), fm_interaction_reference(v))
        assert (fm_interaction(_fields((3, 1, 4))) == 0).all()  # no pair

    def test_half_precision_sums_in_float32(self) -> None:
        v = _fields((8, 10, 16), seed=1)
        got = fm_interaction(v.astype(np.float16))
        assert got.dtype == np.float16
        want = fm_interaction_reference(v.astype(np.float16))
        np.testing.assert_allclose(got.astype(np.float64), want, rtol=2e-3, atol=2e-2)

    def test_gradient_equals_torch_autograd_of_the_pairwise_sum(self) -> None:
        torch = pytest.importorskip("torch")
        v = torch.tensor(_fields(seed=2), requires_grad=True)
        g = torch.tensor(np.random.default_rng(3).normal(size=4))
        (ours,) = torch.autograd.grad((fm_interaction(v) * g).sum(), v)
        f = v.shape[1]
        pairs = sum((v[:, i] * v[:, j]).sum(-1) for i in range(f) for j in range(i + 1, f))
        (want,) = torch.autograd.grad((pairs * g).sum(), v)
        # d/dv_f = sum_{j != f} v_j = (sum v) - v_f, scaled by the output's gradient
        np.testing.assert_allclose(ours.numpy(), want.numpy(), rtol=0, atol=1e-12)
        closed = (v.sum(1, keepdim=True) - v) * g[:, None, None]
        np.testing.assert_allclose(ours.numpy(), closed.detach().numpy(), rtol=0, atol=1e-12)

    def test_inputs_are_not_modified_and_bad_input(self) -> None:
        v = _fields()
        copy = v.copy()
        fm_interaction(v)
        np.testing.assert_array_equal(v, copy)
        with pytest.raises(ValueError, match=r"`v` must have shape \(..., F, K\)"):
            fm_interaction(v[0, 0])
        with pytest.raises(TypeError, match="`v` must have a real floating dtype, got int64"):
            fm_interaction(np.ones((2, 3, 4), dtype=np.int64))
        with pytest.raises(TypeError, match="`v` must be an array"):
            fm_interaction([[1.0, 2.0]])
