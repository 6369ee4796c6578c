"""batch_norm and init_batch_norm (mlprims/normalization/batch.py).

References are the float64 NumPy oracles of mlprims.testing.oracles.normalization,
torch.nn.functional and the torch.nn BatchNorm modules; the Keras/Flax BatchNorm update rule is
written out as well, to prove the momentum conversion documented in batch_norm.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mlprims
from mlprims import (
    batch_norm,
    group_norm,
    init_batch_norm,
    init_layer_norm,
    layer_norm,
)
from mlprims.testing import assert_close
from mlprims.testing.oracles.normalization import batch_norm_reference
from mlprims.testing.strategies import float_arrays

torch = pytest.importorskip("torch")  # torch.nn is the reference of most tests here
F = pytest.importorskip("torch.nn.functional")

DTYPES = ("float32", "float64")

# (shape, channel axis): (N, C), (N, C, L), (N, C, H, W) and channels-last (N, H, W, C).
LAYOUTS = {
    "NC": ((8, 3), 1),
    "NCL": ((4, 3, 5), 1),
    "NCHW": ((3, 4, 3, 2), 1),
    "NHWC": ((3, 3, 2, 4), -1),
}


# --- inputs ----------------------------------------------------------------------------


def _params(rng, c, dtype):
    """running_mean, running_var, weight, bias of length c, rounded to `dtype`."""
    arrays = rng.normal(size=c), rng.uniform(0.5, 2.0, c), rng.normal(size=c), rng.normal(size=c)
    return tuple(a.astype(dtype) for a in arrays)


def _t(a: Any) -> Any:
    return None if a is None else torch.from_numpy(np.array(a))


# --- batch_norm ------------------------------------------------------------------------


class TestBatchNorm:
    @pytest.mark.parametrize("layout", list(LAYOUTS))
    @pytest.mark.parametrize("dtype", DTYPES)
    def test_agreement_training_and_eval(self, xb, dtype: str, layout: str) -> None:
        shape, axis = LAYOUTS[layout]
        rng = np.random.default_rng(0)
        x = (3.0 + 2.0 * rng.standard_normal(shape)).astype(dtype)
        rm, rv, w, b = _params(rng, shape[axis], dtype)
        arrays = [xb.asarray(a) for a in (x, rm, rv, w, b)]
        for training in (True, False):
            out = xb.to_numpy(
                xb.run(batch_norm, *arrays, training=training, momentum=0.3, axis=axis)
            )
            want = batch_norm_reference(x, rm, rv, w, b, training=training, momentum=0.3, axis=axis)
            assert type(out).__name__ == "BatchNormOutput"
            for got, expected in zip(out, want, strict=True):
                assert got.dtype == np.dtype(dtype)
                assert_close(got, expected, dtype)

    def test_without_running_stats(self, xb) -> None:
        x = np.random.default_rng(1).normal(5.0, 3.0, (6, 4, 3))
        out = xb.run(batch_norm, xb.asarray(x), None, None, training=True)
        assert out.running_mean is None and out.running_var is None
        want = batch_norm_reference(x, None, None, training=True)[0]
        assert_close(xb.to_numpy(out.output), want)

    @pytest.mark.parametrize("backend", ["numpy", "torch", "jax"])  # strict has no float16
    def test_half_precision_is_computed_in_float32(self, backend: str) -> None:
        be = mlprims.backends.get(backend)
        x = np.random.default_rng(2).normal(100.0, 1.0, (16, 3, 4)).astype(np.float16)
        rm, rv, w, b = _params(np.random.default_rng(3), 3, "float32")
        out = batch_norm(be.asarray(x), *map(be.asarray, (rm, rv, w, b)), training=True)
        got = [be.to_numpy(a) for a in out]
        assert got[0].dtype == np.float16 and got[1].dtype == np.float32
        want = batch_norm_reference(x, rm, rv, w, b, training=True)
        assert_close(got[0], want[0], "float16")
        assert_close(got[2], want[2], "float32", scale=10)

    def test_jax_32_bit_defaults_keep_float32(self, jax_without_x64) -> None:
        jax = pytest.importorskip("jax")
        jnp = pytest.importorskip("jax.numpy")

        x = jnp.asarray(np.random.default_rng(8).normal(size=(6, 3, 2)), dtype=jnp.float32)
        stats = jnp.zeros(3, dtype=jnp.float32), jnp.ones(3, dtype=jnp.float32)
        out = jax.jit(lambda *a: batch_norm(*a, training=True))(x, *stats)
        assert [a.dtype for a in out] == [np.float32] * 3
        assert layer_norm(x, (3, 2)).dtype == np.float32
        assert group_norm(x, 3).dtype == np.float32

    def test_large_mean_accuracy(self, xb) -> None:
        """Channels with mean 1e4 and std 1e-2 in float32: the affine folded into one
        multiply-add, ``(x - shift) * scale + (bias - offset * scale)``, keeps the shifted
        two-pass accuracy (measured 5e-7 here); folding with the mean itself,
        ``x * scale + (bias - mean * scale)``, errs by about 0.1."""
        rng = np.random.default_rng(5)
        x = (1e4 + 1e-2 * rng.standard_normal((64, 3, 12))).astype(np.float32)
        rm, rv, w, b = _params(rng, 3, "float32")
        exact = batch_norm_reference(x, rm, rv, w, b, training=True)[0]
        got = xb.run(batch_norm, *map(xb.asarray, (x, rm, rv, w, b)), training=True).output
        got = xb.to_numpy(got)
        assert got.dtype == np.float32
        assert np.abs(got - exact).max() < 1e-5 * np.abs(w).max()

    def test_torch_gradients_match(self) -> None:
        """Autograd flows through the in-place updates of our own buffer (the squares, the
        refill from x, the folded multiply-add), in training and in evaluation."""
        rng = np.random.default_rng(6)
        x, w, b = (_t(rng.normal(size=s)).requires_grad_() for s in ((4, 3, 5), (3,), (3,)))
        before = x.detach().clone()
        g = _t(rng.normal(size=(4, 3, 5)))
        rm, rv = _t(rng.normal(size=3)), _t(rng.uniform(0.5, 2.0, 3))
        for training in (True, False):
            ours = batch_norm(x, rm, rv, w, b, training=training).output
            want = F.batch_norm(x, rm.clone(), rv.clone(), w, b, training)
            got = torch.autograd.grad((ours * g).sum(), (x, w, b))
            expected = torch.autograd.grad((want * g).sum(), (x, w, b))
            for a, e in zip(got, expected, strict=True):
                assert_close(a.numpy(), e.numpy())
        torch.testing.assert_close(x.detach(), before, rtol=0, atol=0)

    @pytest.mark.parametrize("layout", list(LAYOUTS))
    def test_matches_torch_functional(self, layout: str) -> None:
        shape, axis = LAYOUTS[layout]
        rng = np.random.default_rng(4)
        x = rng.normal(size=shape)
        rm, rv, w, b = _params(rng, shape[axis], "float64")
        for training in (True, False):
            t_rm, t_rv = _t(rm), _t(rv)  # torch updates these in place
            xt = torch.movedim(_t(x), -1, 1) if axis == -1 else _t(x)
            want = F.batch_norm(xt, t_rm, t_rv, _t(w), _t(b), training, 0.2, 1e-3)
            want = torch.movedim(want, 1, -1) if axis == -1 else want
            got = batch_norm(x, rm, rv, w, b, training=training, momentum=0.2, eps=1e-3, axis=axis)
            assert_close(got.output, want.numpy())
            assert_close(got.running_mean, t_rm.numpy())
            assert_close(got.running_var, t_rv.numpy())

    @pytest.mark.parametrize("layout", ["NC", "NCL", "NCHW"])
    def test_matches_torch_modules_over_training_then_eval(self, xb, layout: str) -> None:
        shape, _ = LAYOUTS[layout]
        module = (torch.nn.BatchNorm2d if len(shape) == 4 else torch.nn.BatchNorm1d)(
            shape[1], momentum=0.25, dtype=torch.float64
        )
        state = {k: xb.asarray(v) for k, v in init_batch_norm(shape[1], dtype="float64").items()}
        module.weight.data.uniform_(0.5, 1.5)  # non-trivial affine parameters
        state["weight"] = xb.asarray(module.weight.detach().numpy())
        rng = np.random.default_rng(5)
        for step in range(4):
            x = rng.normal(step, 1.0 + step, shape)
            want = module.train()(_t(x)).detach().numpy()
            out = xb.run(
                batch_norm, xb.asarray(x), state["running_mean"], state["running_var"],
                state["weight"], state["bias"], training=True, momentum=0.25,
            )  # fmt: skip
            assert_close(xb.to_numpy(out.output), want)
            state["running_mean"], state["running_var"] = out.running_mean, out.running_var
        assert_close(xb.to_numpy(state["running_mean"]), module.running_mean.numpy())
        assert_close(xb.to_numpy(state["running_var"]), module.running_var.numpy())
        x = rng.normal(1.0, 2.0, shape)
        want = module.eval()(_t(x)).detach().numpy()
        out = xb.run(
            batch_norm, xb.asarray(x), state["running_mean"], state["running_var"],
            state["weight"], state["bias"], training=False,
        )  # fmt: skip
        assert_close(xb.to_numpy(out.output), want)
        assert_close(xb.to_numpy(out.running_var), module.running_var.numpy())

    def test_torch_momentum_none_is_momentum_one_over_step(self) -> None:
        module = torch.nn.BatchNorm1d(3, momentum=None, dtype=torch.float64)
        rm, rv = np.zeros(3), np.ones(3)
        rng = np.random.default_rng(6)
        for t in range(4):
            x = rng.normal(t, 2.0, (5, 3))
            module.train()(_t(x))
            _, rm, rv = batch_norm(x, rm, rv, training=True, momentum=1 / (t + 1))
        assert_close(rm, module.running_mean.numpy())
        assert_close(rv, module.running_var.numpy())

    def test_keras_flax_conversion(self) -> None:
        """torch momentum m here is Keras/Flax momentum 1 - m; they store the biased variance."""

        def keras_flax_step(x, moving_mean, moving_var, momentum):
            # Keras 3 BatchNormalization / flax.linen.BatchNorm: mean and *biased* variance
            # over all axes but the last, the moving averages weigh the old value by momentum.
            mean, var = x.mean(axis=0), x.var(axis=0)
            moving_mean = momentum * moving_mean + (1 - momentum) * mean
            moving_var = momentum * moving_var + (1 - momentum) * var
            return (x - mean) / np.sqrt(var + 1e-3), moving_mean, moving_var

        rng = np.random.default_rng(7)
        n = 6
        ours_m, keras_m = np.zeros(4), np.zeros(4)
        ours_v, keras_v, bessel_v = np.ones(4), np.ones(4), np.ones(4)
        for _ in range(5):
            x = rng.normal(2.0, 3.0, (n, 4))
            y, ours_m, ours_v = batch_norm(
                x, ours_m, ours_v, training=True, momentum=0.1, eps=1e-3, axis=-1
            )
            y_keras, keras_m, keras_v = keras_flax_step(x, keras_m, keras_v, momentum=0.9)
            # the same rule fed the unbiased variance: what torch stores
            bessel_v = 0.9 * bessel_v + 0.1 * x.var(axis=0, ddof=1)
            assert_close(y, y_keras)
            assert_close(ours_m, keras_m)
            assert_close(ours_v, bessel_v)
        assert np.all(ours_v > keras_v)  # biased storage: the one real difference
        x = rng.normal(size=(3, 4))
        keras_eval = (x - keras_m) / np.sqrt(keras_v + 1e-3)  # a Keras checkpoint, loaded as is
        got = batch_norm(x, keras_m, keras_v, training=False, eps=1e-3, axis=-1).output
        assert_close(got, keras_eval)

    @given(
        x=float_arrays(shape=(5, 3, 4), dtype="float64"),
        shift=st.lists(st.floats(-1e3, 1e3), min_size=3, max_size=3),
    )
    def test_training_is_invariant_to_a_per_channel_shift(self, x, shift) -> None:
        x = x + np.linspace(0.0, 1.0, x.size).reshape(x.shape)  # no constant channel
        shifted = x + np.asarray(shift)[:, None]
        a = batch_norm(x, np.zeros(3), np.ones(3), training=True)
        b = batch_norm(shifted, np.zeros(3), np.ones(3), training=True)
        assert_close(b.output, a.output, scale=1e3)
        assert_close(b.running_var, a.running_var, scale=1e3)
        assert_close(b.running_mean - a.running_mean, 0.1 * np.asarray(shift), scale=1e3)

    def test_inputs_are_not_mutated(self) -> None:
        x, rm, rv = np.ones((4, 2)), np.zeros(2), np.ones(2)
        x[0] = 3.0
        copies = [a.copy() for a in (x, rm, rv)]
        batch_norm(x, rm, rv, training=True)
        for a, before in zip((x, rm, rv), copies, strict=True):
            np.testing.assert_array_equal(a, before)

    @pytest.mark.parametrize(
        ("kwargs", "error", "name"),
        [
            ({"running_mean": np.zeros(4)}, ValueError, "running_mean"),
            ({"weight": np.ones(2)}, ValueError, "weight"),
            ({"bias": np.ones((3, 1))}, ValueError, "bias"),
            ({"momentum": 1.5}, ValueError, "momentum"),
            ({"momentum": -0.1}, ValueError, "momentum"),
            ({"momentum": None}, TypeError, "momentum"),
            ({"x": np.ones((4, 3), dtype=np.int64)}, TypeError, "x"),
            ({"x": np.ones(3)}, ValueError, "x"),
            ({"x": np.ones((1, 3))}, ValueError, "x"),
            ({"x": [[1.0, 2.0, 3.0]]}, TypeError, "x"),
            ({"training": 1}, TypeError, "training"),
            ({"axis": 2}, ValueError, "axis"),
            ({"eps": -1e-5}, ValueError, "eps"),
            ({"running_var": None}, ValueError, "running_var"),
            (
                {"running_mean": None, "running_var": None, "training": False},
                ValueError,
                "running_mean",
            ),
            ({"running_mean": np.zeros(3, dtype=np.int64)}, TypeError, "running_mean"),
        ],
    )
    def test_bad_input(self, kwargs, error, name) -> None:
        args = {"x": np.ones((4, 3)), "running_mean": np.zeros(3), "running_var": np.ones(3)}
        args.update(kwargs)
        x, rm, rv = args.pop("x"), args.pop("running_mean"), args.pop("running_var")
        options = {"training": True, **args}
        with pytest.raises(error, match=f"`{name}`"):
            batch_norm(x, rm, rv, **options)


class TestInitBatchNorm:
    def test_batch_norm_state_like_torch(self, xb) -> None:
        state = init_batch_norm(3, dtype="float64", backend=xb.backend.name)
        torch_state = torch.nn.BatchNorm2d(3, dtype=torch.float64).state_dict()
        for name, value in state.items():
            assert mlprims.backends.of(value).name == xb.backend.name
            np.testing.assert_array_equal(xb.to_numpy(value), torch_state[name].numpy())
        assert xb.to_numpy(state["weight"]).dtype == np.float64

    def test_options(self) -> None:
        state = init_batch_norm(2, affine=False, track_running_stats=False)
        assert all(v is None for v in state.values())

    def test_bad_input(self) -> None:
        with pytest.raises(ValueError, match="`num_features`"):
            init_batch_norm(0)
        with pytest.raises(TypeError, match="`dtype`"):
            init_batch_norm(3, dtype="int32")


class TestCreationArguments:
    """The creation functions check `dtype` and their switches as every family does."""

    @pytest.mark.parametrize("dtype", ["int32", "bool"])
    def test_dtype_is_checked_like_random(self, dtype: str) -> None:
        message = "`dtype` must be a real floating dtype such as 'float32'"  # random's wording
        with pytest.raises(TypeError, match=message):
            mlprims.random.normal(mlprims.random.key(0), (2,), dtype=dtype)
        for create in (init_batch_norm, init_layer_norm):
            with pytest.raises(TypeError, match=message):
                create(2, dtype=dtype)

    @pytest.mark.parametrize(
        ("create", "option"),
        [
            (init_batch_norm, "affine"),
            (init_batch_norm, "track_running_stats"),
            (init_layer_norm, "elementwise_affine"),
            (init_layer_norm, "bias"),
        ],
    )
    def test_switches_are_bools(self, create, option: str) -> None:
        with pytest.raises(TypeError, match=f"`{option}` must be True or False, got 1"):
            create(2, **{option: 1})

    def test_training_is_a_bool(self) -> None:
        with pytest.raises(TypeError, match="`training` must be True or False, got 1"):
            batch_norm(np.ones((2, 2)), np.zeros(2), np.ones(2), training=1)


class TestRunningStatisticsCarryNoGradient:
    """Running statistics are state: torch updates its buffers outside autograd. Ours kept the
    graph of every past `x` (memory grew each step), and a backward() through an evaluation
    step after a training step raised "Trying to backward through the graph a second time"."""

    def test_training_steps_with_backward_on_torch(self) -> None:
        weight = torch.ones(3, requires_grad=True)
        bias = torch.zeros(3, requires_grad=True)
        mean, var = torch.zeros(3), torch.ones(3)
        module = torch.nn.BatchNorm1d(3)
        for step, training in enumerate([True, True, False]):
            x = torch.randn(8, 3, generator=torch.Generator().manual_seed(step))
            x.requires_grad_(True)
            out, mean, var = batch_norm(x, mean, var, weight, bias, training=training)
            assert not mean.requires_grad and not var.requires_grad
            (out**2).sum().backward()  # the evaluation step raised
            module.train(training)
            module(x.detach())
        torch.testing.assert_close(mean, module.running_mean)
        torch.testing.assert_close(var, module.running_var)
        assert weight.grad is not None and bias.grad is not None

    def test_no_gradient_reaches_x_through_the_statistics_on_jax(self) -> None:
        jax = pytest.importorskip("jax")
        x = jax.numpy.asarray(np.random.default_rng(0).standard_normal((8, 3)))

        def through_statistics(x):
            _, mean, var = batch_norm(x, jax.numpy.zeros(3), jax.numpy.ones(3), training=True)
            return mean.sum() + var.sum()

        np.testing.assert_array_equal(np.asarray(jax.grad(through_statistics)(x)), 0.0)
