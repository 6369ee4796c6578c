"""quantized_linear (mlprims/quantization/linear.py).

References: torch's F.linear on the dequantized weight, and the float64 oracle of
mlprims.testing.oracles.quantization."""

from __future__ import annotations

import numpy as np
import pytest

from mlprims import choose_qparams, quantize, quantized_linear
from mlprims.testing import assert_close
from mlprims.testing.oracles.quantization import quantized_linear_reference

torch = pytest.importorskip("torch")

D_IN, D_OUT = 6, 4


def _layer(dtype: str = "float64", seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "x": rng.normal(size=(2, 3, D_IN)).astype(dtype),
        "q": rng.integers(-128, 128, size=(D_IN, D_OUT)).astype(np.int8),
        "scale": rng.uniform(0.001, 0.02, D_OUT).astype(dtype),
        "bias": rng.normal(size=D_OUT).astype(dtype),
    }


class TestQuantizedLinear:
    @pytest.mark.parametrize("dtype", ["float32", "float64"])
    def test_agreement(self, xb, dtype: str) -> None:
        a = _layer(dtype)
        x, q, scale, bias = (xb.asarray(a[k]) for k in ("x", "q", "scale", "bias"))
        got = xb.to_numpy(quantized_linear(x, q, scale, bias))
        assert got.dtype == np.dtype(dtype)
        assert_close(got, quantized_linear_reference(a["x"], a["q"], a["scale"], a["bias"]), dtype)
        got = xb.to_numpy(quantized_linear(x, q, scale[0]))  # one scale for all, no bias
        assert_close(got, quantized_linear_reference(a["x"], a["q"], a["scale"][0]), dtype)

    def test_equals_torch_linear_on_the_dequantized_weight(self) -> None:
        a = {k: torch.from_numpy(v) for k, v in _layer("float32", 1).items()}
        weight = (a["q"].float() * a["scale"]).T  # torch's (out, in)
        want = torch.nn.functional.linear(a["x"], weight, a["bias"])
        got = quantized_linear(a["x"], a["q"], a["scale"], a["bias"])
        torch.testing.assert_close(got, want, rtol=1e-6, atol=1e-6)

    def test_a_quantized_float_layer(self) -> None:
        """Per-output-channel symmetric int8 of a float weight: the layer's error is at most
        sum_i |x_i| * scale_j / 2 per output j."""
        rng = np.random.default_rng(2)
        w, x = rng.normal(size=(D_IN, D_OUT)), rng.normal(size=(5, D_IN))
        scale, zero_point = choose_qparams(w, symmetric=True, axis=1)
        assert (zero_point == 0).all()
        q = quantize(w, scale, zero_point, axis=1)
        error = np.abs(quantized_linear(x, q, scale) - x @ w)
        assert np.all(error <= np.abs(x).sum(axis=1, keepdims=True) * scale / 2 + 1e-12)

    def test_half_precision_keeps_the_dtype(self) -> None:
        a = _layer("float32", 3)
        x = torch.from_numpy(a["x"]).to(torch.bfloat16)
        got = quantized_linear(x, torch.from_numpy(a["q"]), torch.from_numpy(a["scale"]))
        assert got.dtype == torch.bfloat16


BAD = {
    "float weight": ({"q": np.ones((D_IN, D_OUT))}, TypeError, "`q_weight` must have an integer"),
    "weight 1-d": (
        {"q": np.ones(D_IN, np.int8)},
        ValueError,
        "`q_weight` must have shape (D_in, D_out), got (6)",
    ),
    "x not (..., D_in)": (
        {"x": np.ones((2, D_OUT))},
        ValueError,
        "`x` must have shape (..., D_in) with D_in = q_weight.shape[0] = 6, got (2, 4)",
    ),
    "scale of D_in": (
        {"scale": np.ones(D_IN)},
        ValueError,
        "`scale` must broadcast to (D_out,) = (4), got (6)",
    ),
    "scale 2-d": ({"scale": np.ones((1, D_OUT))}, ValueError, "`scale` must have shape (D_out,)"),
    "bias of D_in": ({"bias": np.ones(D_IN)}, ValueError, "`bias` must have shape (D_out,) = (4,)"),
    "integer x": ({"x": np.ones((2, D_IN), int)}, TypeError, "`x` must have a real floating"),
    "scale of torch": ({"scale": "torch"}, TypeError, "`scale` must be an array of the same"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_names_the_argument(case: str) -> None:
    changes, error, words = BAD[case]
    a = _layer()
    a.update({k: torch.ones(D_OUT) if isinstance(v, str) else v for k, v in changes.items()})
    with pytest.raises(error) as raised:
        quantized_linear(a["x"], a["q"], a["scale"], a["bias"])
    assert words in str(raised.value)
