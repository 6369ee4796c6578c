"""mlprims.activations.glu: swiglu against its float64 oracle and torch's Llama MLP,
bad shapes and dtypes."""

from __future__ import annotations

import math

import numpy as np
import pytest

import mlprims
from mlprims import swiglu
from mlprims.testing import FLOAT_DTYPES, assert_close
from mlprims.testing.oracles.activations import swiglu_reference


def _swiglu_inputs(dtype: str) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(1)
    d, h, o = 8, 16, 5
    return {
        "x": rng.normal(size=(2, 3, d)).astype(dtype),
        "w_gate": (rng.normal(size=(d, h)) / math.sqrt(d)).astype(dtype),
        "w_up": (rng.normal(size=(d, h)) / math.sqrt(d)).astype(dtype),
        "w_down": (rng.normal(size=(h, o)) / math.sqrt(h)).astype(dtype),
    }


class TestSwiglu:
    @pytest.mark.parametrize("dtype", FLOAT_DTYPES)
    @pytest.mark.parametrize("with_down", [True, False])
    def test_agrees_with_float64_reference(self, xb, dtype: str, with_down: bool) -> None:
        a = _swiglu_inputs(dtype)
        if not with_down:
            del a["w_down"]
        got = xb.to_numpy(xb.run(swiglu, *(xb.asarray(v) for v in a.values())))
        assert got.dtype == np.dtype(dtype)
        assert got.shape == ((2, 3, 5) if with_down else (2, 3, 16))
        expected = swiglu_reference(*a.values())
        assert_close(got, expected, dtype, scale=5.0)

    def test_matches_torch_llama_mlp(self, xb) -> None:
        torch = pytest.importorskip("torch")
        F = pytest.importorskip("torch.nn.functional")

        a = _swiglu_inputs("float32")
        got = xb.to_numpy(xb.run(swiglu, *(xb.asarray(v) for v in a.values())))
        # torch nn.Linear keeps (out, in) weights: x @ W.T, so pass the transposes
        x, wg, wu, wd = (torch.from_numpy(v) for v in a.values())
        expected = F.linear(F.silu(F.linear(x, wg.T)) * F.linear(x, wu.T), wd.T)
        assert_close(got, expected.numpy(), scale=5.0)

    def test_down_projection_is_applied_last(self) -> None:
        a = _swiglu_inputs("float64")
        hidden = swiglu(a["x"], a["w_gate"], a["w_up"])
        assert_close(swiglu(*a.values()), hidden @ a["w_down"])

    def test_shape_errors_name_the_argument(self) -> None:
        a = _swiglu_inputs("float64")
        x, wg, wu, wd = a.values()
        with pytest.raises(ValueError, match=r"`w_gate` must have shape \(D, H\) with D = 8"):
            swiglu(x, wg.T, wu)
        with pytest.raises(ValueError, match="`w_up` must have the shape of `w_gate`"):
            swiglu(x, wg, wu[:, :4])
        with pytest.raises(ValueError, match=r"`w_down` must have shape \(H, O\) with H = 16"):
            swiglu(x, wg, wu, wd.T)
        with pytest.raises(ValueError, match="`x` must have shape"):
            swiglu(np.ones(()), wg, wu)

    def test_dtype_errors_name_the_argument(self) -> None:
        torch = pytest.importorskip("torch")

        x, wg, wu, wd = _swiglu_inputs("float64").values()
        with pytest.raises(TypeError, match="`w_up` must have the dtype of `x`"):
            swiglu(x, wg, wu.astype(np.float32))
        with pytest.raises(TypeError, match="`x`"):
            swiglu(x.astype(np.int64), wg, wu)
        with pytest.raises(TypeError, match="`w_down` must be an array of the same framework"):
            swiglu(x, wg, wu, torch.from_numpy(wd))
        with pytest.raises(TypeError, match="`w_gate` must be an array"):
            swiglu(x, wg.tolist(), wu)


def test_exported_from_the_top_level() -> None:
    for name in ("swiglu",):
        assert getattr(mlprims, name) is globals()[name]
