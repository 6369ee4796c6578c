"""init_moe and moe (mlprims/experts/layer.py).

References: the float64 NumPy oracle of mlprims.testing.oracles.experts (token by token, only the
chosen experts run), and transformers' MixtralSparseMoeBlock for real (transformers 5: fused
experts), its forward and its gradients, with weights converted by from_mixtral.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import mlprims
from mlprims import from_mixtral, init_moe, moe
from mlprims.testing import assert_close
from mlprims.testing.oracles.experts import moe_reference

D, F, E = 6, 5, 4
NAMES = ("w_router", "w_gate", "w_up", "w_down")
#: Eager JAX compiles every operation anew for each shape (about 1 s a call of moe): jax_jit
#: runs the same code, and one agreement test runs it eagerly.
NOT_EAGER_JAX = pytest.mark.backends(exclude=("jax",), reason="jax_jit runs the same code")


def _params(dtype: str = "float64", seed: int = 0, e: int = E) -> dict[str, np.ndarray]:
    """A layer whose router spreads tokens clearly (logits of order 2: no near-ties)."""
    rng = np.random.default_rng(seed)
    params = {
        "w_router": rng.normal(size=(D, e)),
        "w_gate": rng.normal(size=(e, D, F)) / math.sqrt(D),
        "w_up": rng.normal(size=(e, D, F)) / math.sqrt(D),
        "w_down": rng.normal(size=(e, F, D)) / math.sqrt(F),
    }
    return {k: v.astype(dtype) for k, v in params.items()}


def _x(shape: tuple[int, ...] = (2, 3, D), dtype: str = "float64", seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=shape).astype(dtype)


def _on(xb, params: dict) -> dict:
    return {k: xb.asarray(v) for k, v in params.items()}


def _reference(params: dict, x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    return moe_reference(x, *(params[n] for n in NAMES), top_k=k)


# --- transformers' block -----------------------------------------------------------------


def _block(dtype: Any = None, *, top_k: int = 2, seed: int = 0) -> Any:
    """A MixtralSparseMoeBlock (D, F, E) with N(0, 1)-scale weights (its own init is 0.02)."""
    torch = pytest.importorskip("torch")
    modeling = pytest.importorskip("transformers.models.mixtral.modeling_mixtral")
    config = pytest.importorskip("transformers").MixtralConfig(
        hidden_size=D, intermediate_size=F, num_local_experts=E, num_experts_per_tok=top_k,
        experts_implementation="eager",
    )  # fmt: skip
    torch.manual_seed(seed)
    block = modeling.MixtralSparseMoeBlock(config).eval()
    with torch.no_grad():
        torch.nn.init.normal_(block.gate.weight)
        torch.nn.init.normal_(block.experts.gate_up_proj, std=1 / math.sqrt(D))
        torch.nn.init.normal_(block.experts.down_proj, std=1 / math.sqrt(F))
    return block.to(dtype) if dtype is not None else block


def _grads_in_our_layout(block: Any) -> dict[str, np.ndarray]:
    """The .grad of the block's parameters, converted as from_mixtral converts the weights."""
    state = {name: p.grad for name, p in block.named_parameters()}
    return {k: v.numpy() for k, v in from_mixtral(state).items()}


# --- init_moe ----------------------------------------------------------------------------


class TestInitMoe:
    @NOT_EAGER_JAX
    def test_shapes_dtype_and_the_same_draws_everywhere(self, xb) -> None:
        params = init_moe(mlprims.random.key(0, backend=xb.backend), D, F, E, dtype="float64")
        want = init_moe(mlprims.random.key(0), D, F, E, dtype="float64")
        for name, shape in zip(NAMES, [(D, E), (E, D, F), (E, D, F), (E, F, D)], strict=True):
            got = xb.to_numpy(params[name])
            assert got.shape == shape and got.dtype == np.float64
            assert_close(got, want[name])

    def test_normal_with_mixtrals_std(self) -> None:
        params = init_moe(mlprims.random.key(1), 32, 64, 8, std=0.02)
        values = np.concatenate([np.ravel(v) for v in params.values()])
        assert params["w_gate"].dtype == np.float32
        assert abs(values.mean()) < 1e-3 and abs(values.std() - 0.02) < 1e-3
        assert not np.array_equal(params["w_gate"], params["w_up"])  # a key per array

    def test_backend_option(self) -> None:
        torch = pytest.importorskip("torch")
        params = init_moe(mlprims.random.key(2), 4, 4, 2, backend="torch")
        assert all(isinstance(v, torch.Tensor) for v in params.values())

    @pytest.mark.parametrize(
        ("args", "kwargs", "error", "match"),
        [
            ((0, 4, 2), {}, ValueError, "`d_model` must be >= 1, got 0"),
            ((4, 4, 0), {}, ValueError, "`num_experts` must be >= 1, got 0"),
            ((4, 2.5, 2), {}, TypeError, "`d_ff` must be an int, got float"),
            ((4, 4, 2), {"std": -1.0}, ValueError, r"`std` must be in \[0.0, inf\)"),
            ((4, 4, 2), {"dtype": "int32"}, TypeError, "`dtype` must be a real floating"),
        ],
    )
    def test_bad_input(self, args, kwargs, error, match) -> None:
        with pytest.raises(error, match=match):
            init_moe(mlprims.random.key(0), *args, **kwargs)


# --- moe ---------------------------------------------------------------------------------


class TestMoe:
    @NOT_EAGER_JAX
    @pytest.mark.parametrize("top_k", [1, 2, E])
    @pytest.mark.parametrize("dtype", ["float32", "float64"])
    def test_agreement(self, xb, dtype: str, top_k: int) -> None:
        params, x = _params(dtype), _x(dtype=dtype)
        y, logits = moe(_on(xb, params), xb.asarray(x), top_k=top_k)
        want_y, want_logits = _reference(params, x, top_k)
        y, logits = xb.to_numpy(y), xb.to_numpy(logits)
        assert y.dtype == logits.dtype == np.dtype(dtype)
        assert y.shape == x.shape and logits.shape == (6, E)
        assert_close(y, want_y, dtype)
        assert_close(logits, want_logits, dtype)

    @pytest.mark.backends("jax", reason="the code jax_jit compiles, run eagerly once")
    def test_agreement_on_eager_jax(self, xb) -> None:
        params, x = _params(), _x()
        y, logits = moe(_on(xb, params), xb.asarray(x), top_k=2)
        want_y, want_logits = _reference(params, x, 2)
        assert_close(xb.to_numpy(y), want_y)
        assert_close(xb.to_numpy(logits), want_logits)

    @NOT_EAGER_JAX
    @pytest.mark.parametrize("top_k", [1, 2])
    def test_equals_transformers(self, xb, top_k: int) -> None:
        torch = pytest.importorskip("torch")
        block = _block(top_k=top_k)
        x = _x(dtype="float32")
        with torch.no_grad():
            want = block(torch.from_numpy(x)).numpy()
            want_logits = block.gate(torch.from_numpy(x))[0].numpy()
        params = from_mixtral(block.state_dict(), backend="numpy")
        y, logits = moe(_on(xb, params), xb.asarray(x), top_k=top_k)
        np.testing.assert_allclose(xb.to_numpy(y), want, rtol=0, atol=2e-6)
        np.testing.assert_allclose(xb.to_numpy(logits), want_logits, rtol=0, atol=2e-6)

    def test_float64_is_transformers_but_for_its_float32_router(self) -> None:
        """transformers takes the router's softmax in float32 even in float64: 1e-7 apart."""
        torch = pytest.importorskip("torch")
        block = _block(torch.float64)
        x = torch.from_numpy(_x())
        with torch.no_grad():
            want = block(x).numpy()
        got, _ = moe(from_mixtral(block.state_dict()), x, top_k=2)
        error = np.abs(got.numpy() - want).max()
        assert 0 < error < 1e-6, error

    def test_gradients_equal_transformers_torch(self) -> None:
        torch = pytest.importorskip("torch")
        block = _block()
        x = torch.from_numpy(_x(dtype="float32")).requires_grad_()
        g = torch.from_numpy(_x(dtype="float32", seed=5))
        (block(x) * g).sum().backward()
        params = {k: v.detach().clone().requires_grad_() for k, v in from_mixtral(
            block.state_dict()).items()}  # fmt: skip
        x2 = x.detach().clone().requires_grad_()
        y, _ = moe(params, x2, top_k=2)
        grads = torch.autograd.grad((y * g).sum(), (*params.values(), x2))
        want = _grads_in_our_layout(block)
        for name, got in zip(NAMES, grads, strict=False):
            np.testing.assert_allclose(got.numpy(), want[name], rtol=0, atol=1e-5, err_msg=name)
        np.testing.assert_allclose(grads[-1].numpy(), x.grad.numpy(), rtol=0, atol=1e-5)

    def test_gradients_equal_transformers_jax(self) -> None:
        torch = pytest.importorskip("torch")
        jax = pytest.importorskip("jax")
        block = _block(top_k=3)
        x, g = _x(dtype="float32"), _x(dtype="float32", seed=5)
        (block(torch.from_numpy(x)) * torch.from_numpy(g)).sum().backward()
        params = {k: jax.numpy.asarray(v) for k, v in from_mixtral(
            block.state_dict(), backend="numpy").items()}  # fmt: skip

        def loss(params):
            return (moe(params, x_j, top_k=3)[0] * g_j).sum()

        x_j, g_j = jax.numpy.asarray(x), jax.numpy.asarray(g)
        grads = jax.jit(jax.grad(loss))(params)
        want = _grads_in_our_layout(block)
        for name in NAMES:
            assert grads[name].dtype == np.float32
            np.testing.assert_allclose(grads[name], want[name], rtol=0, atol=1e-5, err_msg=name)

    def test_bfloat16_like_transformers(self) -> None:
        """Router softmax and gates in float32 for 16-bit tokens, as transformers."""
        torch = pytest.importorskip("torch")
        block = _block(torch.bfloat16)
        x = torch.from_numpy(_x()).to(torch.bfloat16)
        with torch.no_grad():
            want = block(x).float().numpy()
        got, logits = moe(from_mixtral(block.state_dict()), x, top_k=2)
        assert got.dtype == logits.dtype == torch.bfloat16
        np.testing.assert_allclose(got.float().numpy(), want, rtol=2e-2, atol=2e-2)

    @NOT_EAGER_JAX
    def test_one_expert_is_swiglu(self, xb) -> None:
        params, x = _params(e=1), _x()
        y, logits = moe(_on(xb, params), xb.asarray(x), top_k=1)
        want = mlprims.swiglu(x, params["w_gate"][0], params["w_up"][0], params["w_down"][0])
        assert_close(xb.to_numpy(y), want)
        assert xb.to_numpy(logits).shape == (6, 1)

    @NOT_EAGER_JAX
    def test_top_1_is_the_chosen_experts_output_itself(self, xb) -> None:
        """Renormalised, the single weight is 1: not the expert's probability."""
        params, x = _params(), _x((5, D))
        y = xb.to_numpy(moe(_on(xb, params), xb.asarray(x), top_k=1)[0])
        best = np.argmax(x @ params["w_router"], axis=-1)
        for t, e in enumerate(best):
            expert = {k: v[e] for k, v in params.items() if k != "w_router"}
            want = mlprims.swiglu(x[t], expert["w_gate"], expert["w_up"], expert["w_down"])
            assert_close(y[t], want)

    @NOT_EAGER_JAX
    def test_ties_go_to_the_lower_expert(self, xb) -> None:
        """Experts 1 and 2 have the same router column: every token ties them; top-2 over
        {0 < 1 = 2 < 3 ...} takes expert 1 before 2 (torch.topk's choice is unspecified)."""
        params = _params()
        params["w_router"][:, 2] = params["w_router"][:, 1]
        x = _x((4, D))
        y = xb.to_numpy(moe(_on(xb, params), xb.asarray(x), top_k=1)[0])
        assert_close(y, _reference(params, x, 1)[0])

    @NOT_EAGER_JAX
    def test_a_single_token_and_leading_axes(self, xb) -> None:
        params, x = _params(), _x((2, 3, D))
        flat = xb.to_numpy(moe(_on(xb, params), xb.asarray(x.reshape(6, D)), top_k=2)[0])
        one, logits = moe(_on(xb, params), xb.asarray(x[0, 0]), top_k=2)
        assert xb.to_numpy(one).shape == (D,) and xb.to_numpy(logits).shape == (1, E)
        assert_close(xb.to_numpy(one), flat[0])

    @NOT_EAGER_JAX
    def test_no_tokens(self, xb) -> None:
        y, logits = moe(_on(xb, _params()), xb.asarray(np.zeros((0, D))), top_k=2)
        assert xb.to_numpy(y).shape == (0, D) and xb.to_numpy(logits).shape == (0, E)

    def test_inputs_are_not_modified(self) -> None:
        params, x = _params(), _x()
        copies = {k: v.copy() for k, v in params.items()}, x.copy()
        moe(params, x, top_k=2)
        for k, v in params.items():
            np.testing.assert_array_equal(v, copies[0][k])
        np.testing.assert_array_equal(x, copies[1])


class TestMoeBadInput:
    @pytest.mark.parametrize(
        ("top_k", "error", "match"),
        [
            (0, ValueError, r"`top_k` must be in \[1, num_experts\] = \[1, 4\].*got 0"),
            (5, ValueError, r"`top_k` must be in \[1, num_experts\] = \[1, 4\].*got 5"),
            (2.0, TypeError, "`top_k` must be an int, got float"),
        ],
    )
    def test_top_k(self, top_k, error, match) -> None:
        with pytest.raises(error, match=match):
            moe(_params(), _x(), top_k=top_k)

    def test_params(self) -> None:
        x = _x()
        with pytest.raises(TypeError, match="`params` must be a dict"):
            moe([1, 2], x, top_k=1)
        with pytest.raises(ValueError, match=r"`params` must have the keys \['w_router'"):
            moe({k: v for k, v in _params().items() if k != "w_up"}, x, top_k=1)
        with pytest.raises(TypeError, match=r"`params\['w_gate'\]` must have the dtype of `x`"):
            moe({**_params(), "w_gate": _params("float32")["w_gate"]}, x, top_k=1)
        with pytest.raises(TypeError, match=r"`params\['w_down'\]` must be an array"):
            moe({**_params(), "w_down": [[1.0]]}, x, top_k=1)

    @pytest.mark.parametrize(
        ("name", "shape", "match"),
        [
            ("w_router", (D,), r"`params\['w_router'\]` must have shape \(D, E\), got \(6\)"),
            (
                "w_gate",
                (E, F, D),
                r"`params\['w_gate'\]` must have shape \(E, D, F\) = \(4, 6, F\)",
            ),
            (
                "w_up",
                (E, D, F + 1),
                r"`params\['w_up'\]` must have shape \(E, D, F\) = \(4, 6, 5\)",
            ),
            (
                "w_down",
                (E, D, F),
                r"`params\['w_down'\]` must have shape \(E, F, D\) = \(4, 5, 6\)",
            ),
        ],
    )
    def test_shapes(self, name: str, shape: tuple[int, ...], match: str) -> None:
        params = {**_params(), name: np.zeros(shape)}
        with pytest.raises(ValueError, match=match):
            moe(params, _x(), top_k=1)

    def test_x(self) -> None:
        with pytest.raises(ValueError, match=r"`x` must have shape \(\.\.\., D\) with D = .* = 6"):
            moe(_params(), _x((2, 5)), top_k=1)
        with pytest.raises(TypeError, match="`x` must have a real floating dtype"):
            moe(_params(), np.ones((2, D), dtype=np.int64), top_k=1)
