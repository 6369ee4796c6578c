"""init_lora, lora_linear, merge_lora and unmerge_lora (mlprims/adapters/lora.py).

References: the float64 NumPy oracles of mlprims.testing.oracles.adapters, and peft's LoraLayer
for real (a torch nn.Linear wrapped by peft.get_peft_model, its lora_B set to random values since
peft initialises it to zeros)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import mlprims
from mlprims import init_lora, lora_linear, merge_lora, unmerge_lora
from mlprims.testing import assert_close
from mlprims.testing.oracles.adapters import lora_linear_reference, merge_lora_reference

torch = pytest.importorskip("torch")  # peft wraps torch modules: the reference of most tests

D_IN, D_OUT, R = 6, 5, 3
DTYPES = ("float32", "float64")
#: Eager JAX compiles every operation of a Threefry draw anew (0.4 s a test): the tests that draw
#: run the same code under jax_jit; mlprims.random's own tests run the draws on eager JAX.
DRAWS = pytest.mark.backends(exclude=("jax",), reason="jax_jit runs the same draws")


class _Wrapper(torch.nn.Module):
    """A model holding the layer peft adapts: target_modules names "proj"."""

    def __init__(self, dtype: Any = torch.float32) -> None:
        super().__init__()
        self.proj = torch.nn.Linear(D_IN, D_OUT, dtype=dtype)

    def forward(self, x: Any) -> Any:
        return self.proj(x)


def _peft_model(alpha: float, *, use_rslora: bool = False, dropout_p: float = 0.0, **kw) -> Any:
    """A peft LoRA model of rank R on _Wrapper, with random lora_B (peft's init is zeros)."""
    peft = pytest.importorskip("peft")
    torch.manual_seed(0)
    config = peft.LoraConfig(
        r=R,
        lora_alpha=alpha,
        target_modules=["proj"],
        lora_dropout=dropout_p,
        use_rslora=use_rslora,
    )
    model = peft.get_peft_model(_Wrapper(**kw), config)
    with torch.no_grad():
        model.base_model.model.proj.lora_B["default"].weight.normal_()
    return model


def _layer_arrays(model: Any) -> dict[str, np.ndarray]:
    """The peft layer's arrays in mlprims' layout: weight (D_in, D_out), A, B."""
    layer = model.base_model.model.proj
    return {
        "weight": layer.base_layer.weight.detach().numpy().T,
        "bias": layer.base_layer.bias.detach().numpy(),
        "A": layer.lora_A["default"].weight.detach().numpy().T,  # (r, D_in) -> (D_in, r)
        "B": layer.lora_B["default"].weight.detach().numpy().T,  # (D_out, r) -> (r, D_out)
    }


def _inputs(dtype: str = "float64", shape: tuple[int, ...] = (4, D_IN), seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    arrays = {
        "x": rng.normal(size=shape),
        "weight": rng.normal(size=(D_IN, D_OUT)) / math.sqrt(D_IN),
        "bias": rng.normal(size=D_OUT),
        "A": rng.uniform(-1.0, 1.0, (D_IN, R)) / math.sqrt(D_IN),
        "B": rng.normal(size=(R, D_OUT)),
    }
    return {k: v.astype(dtype) for k, v in arrays.items()}


def _on(xb, arrays: dict) -> tuple[Any, Any, Any, dict]:
    """x, weight, bias and the lora dict on the backend under test."""
    x, w, b, a, bb = (xb.asarray(arrays[k]) for k in ("x", "weight", "bias", "A", "B"))
    return x, w, b, {"A": a, "B": bb}


# --- lora_linear -------------------------------------------------------------------------


class TestLoraLinear:
    @pytest.mark.parametrize("use_rslora", [False, True], ids=["alpha/r", "rslora"])
    @pytest.mark.parametrize("dtype", DTYPES)
    def test_agreement(self, xb, dtype: str, use_rslora: bool) -> None:
        arrays = _inputs(dtype)
        got = xb.to_numpy(lora_linear(*_on(xb, arrays), alpha=8.0, use_rslora=use_rslora))
        want = lora_linear_reference(
            *(arrays[k] for k in ("x", "weight", "bias", "A", "B")),
            alpha=8.0,
            use_rslora=use_rslora,
        )
        assert got.dtype == np.dtype(dtype)
        assert_close(got, want, dtype)

    @pytest.mark.parametrize("use_rslora", [False, True], ids=["alpha/r", "rslora"])
    def test_equals_peft(self, xb, use_rslora: bool) -> None:
        model = _peft_model(12.0, use_rslora=use_rslora)
        arrays = _layer_arrays(model)
        x = np.random.default_rng(1).normal(size=(2, 3, D_IN)).astype(np.float32)
        want = model(torch.from_numpy(x)).detach().numpy()
        lora = {"A": xb.asarray(arrays["A"]), "B": xb.asarray(arrays["B"])}
        got = lora_linear(
            xb.asarray(x),
            xb.asarray(arrays["weight"]),
            xb.asarray(arrays["bias"]),
            lora,
            alpha=12.0,
            use_rslora=use_rslora,
        )
        got = xb.to_numpy(got)
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)

    def test_gradients_equal_peft_torch(self) -> None:
        model = _peft_model(12.0)
        layer = model.base_model.model.proj
        x = torch.from_numpy(np.random.default_rng(2).normal(size=(4, D_IN)).astype(np.float32))
        g = torch.from_numpy(np.random.default_rng(3).normal(size=(4, D_OUT)).astype(np.float32))
        (model(x) * g).sum().backward()
        arrays = _layer_arrays(model)
        a, b = (torch.from_numpy(arrays[k]).requires_grad_() for k in ("A", "B"))
        w, bias = (torch.from_numpy(arrays[k]) for k in ("weight", "bias"))
        y = lora_linear(x, w, bias, {"A": a, "B": b}, alpha=12.0)
        ga, gb = torch.autograd.grad((y * g).sum(), (a, b))
        np.testing.assert_allclose(ga.numpy(), layer.lora_A["default"].weight.grad.T, atol=1e-5)
        np.testing.assert_allclose(gb.numpy(), layer.lora_B["default"].weight.grad.T, atol=1e-5)

    def test_gradients_equal_peft_jax(self) -> None:
        jax = pytest.importorskip("jax")
        model = _peft_model(12.0, use_rslora=True)
        layer = model.base_model.model.proj
        x = np.random.default_rng(2).normal(size=(4, D_IN)).astype(np.float32)
        g = np.random.default_rng(3).normal(size=(4, D_OUT)).astype(np.float32)
        (model(torch.from_numpy(x)) * torch.from_numpy(g)).sum().backward()
        arrays = {k: jax.numpy.asarray(v) for k, v in _layer_arrays(model).items()}

        def loss(lora):
            y = lora_linear(x_j, arrays["weight"], arrays["bias"], lora, alpha=12.0,
                            use_rslora=True)  # fmt: skip
            return (y * g_j).sum()

        x_j, g_j = jax.numpy.asarray(x), jax.numpy.asarray(g)
        grads = jax.jit(jax.grad(loss))({"A": arrays["A"], "B": arrays["B"]})
        assert grads["A"].dtype == np.float32
        np.testing.assert_allclose(grads["A"], layer.lora_A["default"].weight.grad.T, atol=1e-5)
        np.testing.assert_allclose(grads["B"], layer.lora_B["default"].weight.grad.T, atol=1e-5)

    def test_half_precision_base_like_peft(self) -> None:
        """peft keeps the adapter of a bfloat16 layer in float32 (autocast_adapter_dtype), runs
        the branch in float32 and casts the sum back: so do we, from the same arrays."""
        model = _peft_model(8.0, dtype=torch.bfloat16)
        layer = model.base_model.model.proj
        a, b = layer.lora_A["default"].weight.detach().T, layer.lora_B["default"].weight.detach().T
        assert a.dtype == torch.float32  # peft's autocast of the adapter
        x = torch.from_numpy(np.random.default_rng(4).normal(size=(3, D_IN))).to(torch.bfloat16)
        want = model(x).detach()
        w, bias = layer.base_layer.weight.detach().T, layer.base_layer.bias.detach()
        got = lora_linear(x, w, bias, {"A": a, "B": b}, alpha=8.0)
        assert got.dtype == torch.bfloat16
        np.testing.assert_allclose(got.float().numpy(), want.float().numpy(), rtol=1e-2, atol=1e-2)

    def test_leading_axes_and_no_bias(self, xb) -> None:
        arrays = _inputs(shape=(2, 3, D_IN))
        x, w, _, lora = _on(xb, arrays)
        got = xb.to_numpy(lora_linear(x, w, None, lora, alpha=2.0))
        want = lora_linear_reference(arrays["x"], arrays["weight"], None, *_ab(arrays), alpha=2.0)
        assert_close(got, want)

    @DRAWS
    def test_zero_b_is_the_frozen_layer(self, xb) -> None:
        """init_lora's B = 0: the adapted layer starts as the frozen one, dropout or not."""
        arrays = _inputs()
        arrays["B"] = np.zeros_like(arrays["B"])
        x, w, b, lora = _on(xb, arrays)
        key = mlprims.random.key(3, backend=xb.backend)
        got = xb.to_numpy(lora_linear(x, w, b, lora, alpha=16.0, dropout_p=0.5, key=key))
        assert_close(got, arrays["x"] @ arrays["weight"] + arrays["bias"])

    def test_inputs_are_not_modified(self) -> None:
        arrays = _inputs()
        copies = {k: v.copy() for k, v in arrays.items()}
        lora = {"A": arrays["A"], "B": arrays["B"]}
        key = mlprims.random.key(0)
        lora_linear(arrays["x"], arrays["weight"], arrays["bias"], lora, alpha=4.0)
        lora_linear(arrays["x"], arrays["weight"], None, lora, alpha=4.0, dropout_p=0.3, key=key)
        merge_lora(arrays["weight"], lora, alpha=4.0)
        assert set(lora) == {"A", "B"} and lora["A"] is arrays["A"]
        for k, v in arrays.items():
            np.testing.assert_array_equal(v, copies[k])


def _ab(arrays: dict) -> tuple[np.ndarray, np.ndarray]:
    return arrays["A"], arrays["B"]


# --- several adapters in one batch -------------------------------------------------------


def _stacked(n: int = 3, seed: int = 5) -> dict[str, np.ndarray]:
    """n adapters of rank R stacked: A (n, D_in, R), B (n, R, D_out)."""
    rng = np.random.default_rng(seed)
    return {"A": rng.uniform(-1.0, 1.0, (n, D_IN, R)) / math.sqrt(D_IN),
            "B": rng.normal(size=(n, R, D_OUT))}  # fmt: skip


def _per_row_reference(arrays: dict, lora: dict, ids: np.ndarray, alphas: list) -> np.ndarray:
    """Each row through lora_linear_reference with its own adapter, or the frozen layer."""
    rows = []
    for x_row, i in zip(arrays["x"], ids, strict=True):
        a, b = (lora["A"][i], lora["B"][i]) if i >= 0 else (lora["A"][0] * 0, lora["B"][0])
        rows.append(lora_linear_reference(x_row, arrays["weight"], arrays["bias"], a, b,
                                          alpha=alphas[max(i, 0)]))  # fmt: skip
    return np.stack(rows)


class TestMixedBatch:
    def test_agreement(self, xb) -> None:
        arrays, lora = _inputs(shape=(5, 2, D_IN)), _stacked()
        ids = np.array([2, -1, 0, 2, 1])
        alphas = [4.0, 8.0, 16.0]
        x, w, bias, _ = _on(xb, arrays)
        stacked = {k: xb.asarray(v) for k, v in lora.items()}
        got = lora_linear(x, w, bias, stacked, alpha=alphas, adapter_ids=xb.asarray(ids))
        assert_close(xb.to_numpy(got), _per_row_reference(arrays, lora, ids, alphas))

    def test_equals_peft_mixed_batch(self) -> None:
        """peft's ``model(x, adapter_names=[...])`` with two adapters and "__base__" rows."""
        peft = pytest.importorskip("peft")
        model = _peft_model(12.0)
        model.add_adapter("second", peft.LoraConfig(r=R, lora_alpha=6.0, target_modules=["proj"]))
        layer = model.base_model.model.proj
        with torch.no_grad():
            layer.lora_B["second"].weight.normal_()
        names = ["second", "__base__", "default", "second"]
        x = np.random.default_rng(6).normal(size=(4, 3, D_IN)).astype(np.float32)
        model.eval()
        want = model(torch.from_numpy(x), adapter_names=names).detach().numpy()
        arrays = _layer_arrays(model)
        adapters = ("default", "second")
        lora = {
            key: torch.stack(
                [getattr(layer, f"lora_{key}")[name].weight.detach().T for name in adapters]
            )
            for key in ("A", "B")
        }
        ids = torch.tensor([1, -1, 0, 1])
        got = lora_linear(torch.from_numpy(x), torch.from_numpy(arrays["weight"]),
                          torch.from_numpy(arrays["bias"]), lora, alpha=[12.0, 6.0],
                          adapter_ids=ids)  # fmt: skip
        np.testing.assert_allclose(got.numpy(), want, rtol=0, atol=1e-5)

    def test_one_adapter_for_every_row_is_the_single_adapter(self) -> None:
        arrays, lora = _inputs(), _stacked(n=2)
        single = {"A": lora["A"][1], "B": lora["B"][1]}
        x, w, bias = arrays["x"], arrays["weight"], arrays["bias"]
        want = lora_linear(x, w, bias, single, alpha=8.0, use_rslora=True)
        got = lora_linear(x, w, bias, lora, alpha=8.0, use_rslora=True,
                          adapter_ids=np.ones(4, dtype=np.int64))  # fmt: skip
        assert_close(got, want)  # a batched matmul: the same sums, up to their order

    @pytest.mark.parametrize(
        ("change", "error", "words"),
        [
            ({"adapter_ids": np.array([0, 1])}, ValueError, "got (2) for x of shape (4, 6)"),
            ({"adapter_ids": np.array([0, 3, -1, 1])}, ValueError, "in [-1, 3)"),
            ({"adapter_ids": np.array([0, -2, 0, 0])}, ValueError, "from -2 to 0"),
            ({"adapter_ids": np.zeros(4)}, TypeError, "`adapter_ids` must have an integer dtype"),
            ({"alpha": [1.0, 2.0]}, ValueError, "one per stacked adapter (3), got 2"),
            ({"A": np.ones((D_IN, R))}, ValueError, "with adapter_ids, the adapters stacked"),
        ],
        ids=["ids-shape", "id-too-large", "id-below-minus-one", "ids-float", "alphas", "A-2d"],
    )
    def test_bad_input(self, change: dict, error: type, words: str) -> None:
        arrays, lora = _inputs(), _stacked()
        kwargs = {"alpha": 2.0, "adapter_ids": np.array([0, 1, 2, -1]), **change}
        lora = {k: change.get(k, v) for k, v in lora.items()}
        kwargs = {k: v for k, v in kwargs.items() if k not in lora}
        with pytest.raises(error) as raised:
            lora_linear(arrays["x"], arrays["weight"], arrays["bias"], lora, **kwargs)
        assert words in str(raised.value)


# --- dropout -----------------------------------------------------------------------------


class TestDropout:
    @DRAWS
    @pytest.mark.parametrize("p", [0.25, 0.5])
    def test_mask_is_mlprims_random_bernoulli_on_x(self, xb, p: float) -> None:
        """Recomputed from the same draw: keep = bernoulli(key, 1 - p, x.shape) on the LoRA
        branch's input, kept values scaled by 1 / (1 - p); the frozen layer sees x."""
        arrays = _inputs("float64", shape=(8, D_IN))
        key = mlprims.random.key(11, backend=xb.backend)
        got = lora_linear(*_on(xb, arrays), alpha=6.0, dropout_p=p, key=key)
        keep = mlprims.random.bernoulli(mlprims.random.key(11), 1.0 - p, (8, D_IN))
        assert 0 < keep.sum() < keep.size  # the draw drops some values and keeps others
        args = (arrays[k] for k in ("x", "weight", "bias", "A", "B"))
        want = lora_linear_reference(*args, alpha=6.0, keep=keep, dropout_p=p)
        assert_close(xb.to_numpy(got), want)

    @DRAWS
    def test_deterministic_per_key(self, xb) -> None:
        arrays = _inputs("float32")
        keys = mlprims.random.split(mlprims.random.key(5, backend=xb.backend), 2)
        outs = [
            xb.to_numpy(lora_linear(*_on(xb, arrays), alpha=4.0, dropout_p=0.5, key=keys[i, :]))
            for i in (0, 0, 1)
        ]
        np.testing.assert_array_equal(outs[0], outs[1])
        assert not np.array_equal(outs[0], outs[2])

    def test_mean_over_keys_is_the_output_without_dropout(self) -> None:
        """Inverted dropout is unbiased: the mean over 400 keys is within 4 standard errors."""
        arrays = _inputs("float64", shape=(2, D_IN))
        args = (arrays["x"], arrays["weight"], arrays["bias"], {"A": arrays["A"], "B": arrays["B"]})
        keys = mlprims.random.split(mlprims.random.key(0), 400)
        outs = np.stack([lora_linear(*args, alpha=3.0, dropout_p=0.3, key=k) for k in keys])
        exact = lora_linear(*args, alpha=3.0)
        error = np.abs(outs.mean(axis=0) - exact)
        assert (error <= 4 * outs.std(axis=0) / math.sqrt(len(keys)) + 1e-12).all(), error

    def test_peft_with_our_mask_equals_ours(self) -> None:
        """peft's nn.Dropout (torch's generator) replaced by our mask: its forward then equals
        ours, so peft drops the input of the LoRA branch only, by 1 / (1 - p) as we do."""
        p = 0.4
        model = _peft_model(8.0, dropout_p=p)
        layer = model.base_model.model.proj
        assert isinstance(layer.lora_dropout["default"], torch.nn.Dropout)
        assert layer.lora_dropout["default"].p == p
        key = mlprims.random.key(9, backend="torch")

        class OurMask(torch.nn.Module):
            def forward(self, x):
                keep = mlprims.random.bernoulli(key, 1.0 - p, tuple(x.shape))
                return torch.where(keep, x / (1.0 - p), torch.zeros_like(x))

        layer.lora_dropout["default"] = OurMask()
        x = torch.from_numpy(np.random.default_rng(6).normal(size=(5, D_IN)).astype(np.float32))
        want = model(x).detach().numpy()
        arrays = {k: torch.from_numpy(v) for k, v in _layer_arrays(model).items()}
        lora = {"A": arrays["A"], "B": arrays["B"]}
        w, bias = arrays["weight"], arrays["bias"]
        got = lora_linear(x, w, bias, lora, alpha=8.0, dropout_p=p, key=key)
        np.testing.assert_allclose(got.numpy(), want, rtol=0, atol=1e-5)

    def test_a_key_is_required(self) -> None:
        arrays = _inputs()
        lora = {"A": arrays["A"], "B": arrays["B"]}
        with pytest.raises(ValueError, match="`key` is required when `dropout_p` > 0"):
            lora_linear(arrays["x"], arrays["weight"], None, lora, alpha=1.0, dropout_p=0.1)
        with pytest.raises(TypeError, match="`key` must live on the backend of the inputs"):
            key = mlprims.random.key(0, backend="torch")
            x, w = arrays["x"], arrays["weight"]
            lora_linear(x, w, None, lora, alpha=1.0, dropout_p=0.1, key=key)


# --- merge_lora, unmerge_lora ------------------------------------------------------------


class TestMerge:
    @pytest.mark.parametrize("use_rslora", [False, True], ids=["alpha/r", "rslora"])
    @pytest.mark.parametrize("dtype", DTYPES)
    def test_merged_equals_unmerged(self, xb, dtype: str, use_rslora: bool) -> None:
        arrays = _inputs(dtype)
        x, w, b, lora = _on(xb, arrays)
        merged = merge_lora(w, lora, alpha=8.0, use_rslora=use_rslora)
        assert_close(
            xb.to_numpy(merged),
            merge_lora_reference(arrays["weight"], *_ab(arrays), alpha=8.0, use_rslora=use_rslora),
            dtype,
        )
        unmerged = lora_linear(x, w, b, lora, alpha=8.0, use_rslora=use_rslora)
        assert_close(xb.to_numpy(x @ merged + b), xb.to_numpy(unmerged), dtype)

    @pytest.mark.parametrize("dtype", DTYPES)
    def test_unmerge_undoes_merge(self, xb, dtype: str) -> None:
        arrays = _inputs(dtype)
        _, w, _, lora = _on(xb, arrays)
        back = unmerge_lora(merge_lora(w, lora, alpha=32.0), lora, alpha=32.0)
        assert xb.to_numpy(back).dtype == np.dtype(dtype)
        assert_close(xb.to_numpy(back), arrays["weight"], dtype, scale=4.0)

    @pytest.mark.parametrize("use_rslora", [False, True], ids=["alpha/r", "rslora"])
    def test_equals_peft_merge_and_unmerge(self, use_rslora: bool) -> None:
        model = _peft_model(12.0, use_rslora=use_rslora)
        arrays = _layer_arrays(model)
        layer = model.base_model.model.proj
        ours = merge_lora(arrays["weight"], {"A": arrays["A"], "B": arrays["B"]}, alpha=12.0,
                          use_rslora=use_rslora)  # fmt: skip
        layer.merge()
        np.testing.assert_allclose(ours, layer.base_layer.weight.detach().numpy().T, atol=1e-6)
        layer.unmerge()
        back = unmerge_lora(ours, {"A": arrays["A"], "B": arrays["B"]}, alpha=12.0,
                            use_rslora=use_rslora)  # fmt: skip
        np.testing.assert_allclose(back, layer.base_layer.weight.detach().numpy().T, atol=1e-6)

    def test_keeps_the_dtype_of_the_weight(self) -> None:
        arrays = _inputs("float32")
        w16 = torch.from_numpy(arrays["weight"]).to(torch.bfloat16)
        lora = {"A": torch.from_numpy(arrays["A"]), "B": torch.from_numpy(arrays["B"])}
        assert merge_lora(w16, lora, alpha=2.0).dtype == torch.bfloat16


# --- init_lora ---------------------------------------------------------------------------


class TestInitLora:
    @DRAWS
    def test_b_zero_a_within_the_bound(self, xb) -> None:
        lora = init_lora(mlprims.random.key(1, backend=xb.backend.name), 64, 24, 8)
        a, b = xb.to_numpy(lora["A"]), xb.to_numpy(lora["B"])
        assert a.shape == (64, 8) and b.shape == (8, 24)
        assert a.dtype == b.dtype == np.float32
        assert (b == 0).all()
        assert 0.9 / 8 < np.abs(a).max() <= 1 / 8  # 512 draws from U(-1/sqrt(64), 1/sqrt(64))

    def test_the_bound_and_the_shapes_of_peft(self) -> None:
        """The same law as peft's kaiming_uniform_(a=sqrt(5)), not the same draws (torch's
        generator): the bound torch computes, and peft's draws reaching it."""
        peft = pytest.importorskip("peft")
        config = peft.LoraConfig(r=8, lora_alpha=16, target_modules=["proj"])
        wrapper = _Wrapper()
        wrapper.proj = torch.nn.Linear(64, 24)
        layer = peft.get_peft_model(wrapper, config).base_model.model.proj
        a_peft = layer.lora_A["default"].weight.detach().numpy()
        gain = torch.nn.init.calculate_gain("leaky_relu", math.sqrt(5))
        bound = math.sqrt(3.0) * gain / math.sqrt(64)  # torch's kaiming_uniform_, fan_in = 64
        assert bound == pytest.approx(1 / 8, rel=1e-12)
        assert 0.9 * bound < np.abs(a_peft).max() <= bound
        assert (layer.lora_B["default"].weight == 0).all()
        ours = init_lora(mlprims.random.key(0), 64, 24, 8)
        assert ours["A"].shape == a_peft.T.shape
        assert ours["B"].shape == tuple(layer.lora_B["default"].weight.T.shape)
        assert 0.9 * bound < np.abs(ours["A"]).max() <= bound

    @DRAWS
    def test_same_key_same_adapter_on_every_backend(self, xb) -> None:
        want = init_lora(mlprims.random.key(7), 5, 4, 2, dtype="float64")
        got = init_lora(mlprims.random.key(7), 5, 4, 2, dtype="float64", backend=xb.backend.name)
        assert got["A"].dtype == xb.xp.float64
        np.testing.assert_array_equal(xb.to_numpy(got["A"]), want["A"])

    @pytest.mark.parametrize(
        ("args", "kwargs", "error", "words"),
        [
            ((5, 4, 0), {}, ValueError, "`r` must be >= 1, got 0"),
            ((True, 4, 2), {}, TypeError, "`in_features` must be an int, got bool"),
            ((5, 4.0, 2), {}, TypeError, "`out_features` must be an int, got float"),
            ((5, 4, 2), {"dtype": "int32"}, TypeError, "`dtype` must be a real floating dtype"),
        ],
    )
    def test_bad_input(self, args, kwargs, error, words) -> None:
        with pytest.raises(error, match=words.replace("(", r"\(").replace(")", r"\)")):
            init_lora(mlprims.random.key(0), *args, **kwargs)
        with pytest.raises(TypeError, match="`key` must be an array"):
            init_lora([0, 0], 5, 4, 2)


# --- bad input ---------------------------------------------------------------------------


def _bad(**changes: Any) -> tuple[tuple, dict]:
    """lora_linear's arguments (float64 NumPy, D_in 6, D_out 5, r 3) with `changes` made."""
    arrays = _inputs()
    lora: Any = {"A": arrays["A"], "B": arrays["B"]}
    args = {"x": arrays["x"], "weight": arrays["weight"], "bias": arrays["bias"], "lora": lora}
    kwargs: dict[str, Any] = {"alpha": 8.0}
    for name, value in changes.items():
        if name in ("A", "B"):
            lora[name] = value
        elif name in args:
            args[name] = value
        else:
            kwargs[name] = value
    return tuple(args.values()), kwargs


BAD = {
    "A rows not D_in": (
        {"A": np.ones((5, 3))},
        ValueError,
        "`lora['A']` must have shape (D_in, r) with D_in = weight.shape[0] = 6, got (5, 3)",
    ),
    "A as peft's lora_A.weight": (
        {"A": np.ones((3, 6))},
        ValueError,
        "got (3, 6) (peft's lora_A.weight is A.T)",
    ),
    "r of B not r of A": (
        {"B": np.ones((2, 5))},
        ValueError,
        (
            "`lora['B']` must have shape (r, D_out) = (3, 5) with r = lora['A'].shape[-1] and "
            "D_out = weight.shape[1], got (2, 5)"
        ),
    ),
    "B columns not D_out": ({"B": np.ones((3, 4))}, ValueError, "= (3, 5) with r"),
    "A of rank 0": ({"A": np.ones((6, 0))}, ValueError, "`lora['A']` must have shape (D_in, r)"),
    "A and B of two dtypes": (
        {"B": np.ones((3, 5), np.float32)},
        TypeError,
        "`lora['B']` must have the dtype of lora['A'] (float64), got float32",
    ),
    "lora without B": (
        {"lora": {"A": np.ones((6, 3))}},
        ValueError,
        "`lora` must have the keys 'A' and 'B', got ['A']",
    ),
    "lora a tuple": ({"lora": (1, 2)}, TypeError, "`lora` must be a dict {'A': (D_in, r)"),
    "A a list": ({"A": [[1.0]]}, TypeError, "`lora['A']` must be an array"),
    "A of another framework": (
        {"A": "torch"},
        TypeError,
        "`lora['A']` must be an array of the same framework as `weight`",
    ),
    "x not (..., D_in)": (
        {"x": np.ones((4, 5))},
        ValueError,
        "`x` must have shape (..., D_in) with D_in = weight.shape[0] = 6, got (4, 5)",
    ),
    "weight 1-d": ({"weight": np.ones(6)}, ValueError, "`weight` must have shape (D_in, D_out)"),
    "bias not (D_out,)": ({"bias": np.ones(6)}, ValueError, "`bias` must have shape (D_out,)"),
    "x of integers": ({"x": np.ones((4, 6), int)}, TypeError, "`x` must have a real floating"),
    "alpha a string": ({"alpha": "16"}, TypeError, "`alpha` must be a number, got str"),
    "alpha None": ({"alpha": None}, TypeError, "`alpha` must be a number, got NoneType"),
    "alpha infinite": ({"alpha": math.inf}, ValueError, "`alpha` must be in (-inf, inf)"),
    "use_rslora an int": ({"use_rslora": 1}, TypeError, "`use_rslora` must be True or False"),
    "dropout_p 1": ({"dropout_p": 1.0}, ValueError, "`dropout_p` must be in [0.0, 1.0)"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_names_the_argument(case: str) -> None:
    changes, error, words = BAD[case]
    torch_a = torch.ones(6, 3, dtype=torch.float64)
    changes = {k: torch_a if isinstance(v, str) and v == "torch" else v for k, v in changes.items()}
    args, kwargs = _bad(**changes)
    with pytest.raises(error) as raised:
        lora_linear(*args, **kwargs)
    assert words in str(raised.value)
    if set(changes) <= {"A", "B", "lora", "weight", "alpha", "use_rslora"}:  # merge's arguments
        with pytest.raises(error) as raised:
            merge_lora(args[1], args[3], **{k: v for k, v in kwargs.items() if k != "dropout_p"})
        assert words in str(raised.value)


def test_alpha_is_required() -> None:
    args, _ = _bad()
    with pytest.raises(TypeError, match="alpha"):
        lora_linear(*args)  # type: ignore[call-arg]
