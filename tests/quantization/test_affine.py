"""choose_qparams, quantize and dequantize (mlprims/quantization/affine.py).

References: torch.ao's MinMaxObserver / PerChannelMinMaxObserver (``calculate_qparams``) and
torch.quantize_per_tensor / quantize_per_channel (``int_repr()``, ``dequantize()``) called for
real, the 4-bit ranges as qint8 / quint8 with quant_min / quant_max; and the float64 oracles of
mlprims.testing.oracles.quantization."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlprims import choose_qparams, dequantize, quantize
from mlprims.testing import assert_close
from mlprims.testing.oracles.quantization import (
    RANGES,
    choose_qparams_reference,
    dequantize_reference,
    quantize_reference,
)
from mlprims.testing.strategies import float_arrays

torch = pytest.importorskip("torch")

DTYPES = ("int8", "uint8", "int4", "uint4")
#: torch's quantized dtype and custom range for each of ours (4-bit: an 8-bit type, narrowed).
TORCH = {
    "int8": (torch.qint8, {}),
    "uint8": (torch.quint8, {}),
    "int4": (torch.qint8, {"quant_min": -8, "quant_max": 7}),
    "uint4": (torch.quint8, {"quant_min": 0, "quant_max": 15}),
}


def _quiet(fn: Any, *args: Any) -> Any:
    """A torch quantized-tensor call without its deprecation warning (torch 2.13)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return fn(*args)


def _observed(x: np.ndarray, dtype: str, symmetric: bool, axis: int | None) -> tuple[Any, Any]:
    """torch.ao's calculate_qparams after observing `x` (float32)."""
    observers = pytest.importorskip("torch.ao.quantization")
    MinMaxObserver, PerChannelMinMaxObserver = (
        observers.MinMaxObserver,
        observers.PerChannelMinMaxObserver,
    )

    qdtype, qrange = TORCH[dtype]
    if axis is None:
        scheme = torch.per_tensor_symmetric if symmetric else torch.per_tensor_affine
        observer = MinMaxObserver(dtype=qdtype, qscheme=scheme, **qrange)
    else:
        scheme = torch.per_channel_symmetric if symmetric else torch.per_channel_affine
        observer = PerChannelMinMaxObserver(ch_axis=axis, dtype=qdtype, qscheme=scheme, **qrange)
    observer(torch.from_numpy(x))
    return observer.calculate_qparams()


def _signed_channels(seed: int = 0) -> np.ndarray:
    """(3, 4, 5) float32: channel 1 positive only, channel 2 negative only, the rest mixed."""
    x = np.random.default_rng(seed).normal(size=(3, 4, 5)) * [[[1.0], [2.0], [0.5], [3.0]]]
    x[:, 1] = np.abs(x[:, 1]) + 0.5
    x[:, 2] = -np.abs(x[:, 2]) - 0.25
    return x.astype(np.float32)


def _ties(dtype: str = "float32") -> tuple[np.ndarray, float]:
    """Values on the grid of scale / 4 (scale 2**-3): exact ties x / scale = k + 1/2 among them,
    and values beyond every range; the same in float32 and float64."""
    k = np.arange(-1100, 1100, 11)  # x / scale from -275 to 274.25 in steps of 2.75
    return (k * 2.0**-5).astype(dtype), 2.0**-3


# --- choose_qparams ----------------------------------------------------------------------


class TestChooseQparams:
    @pytest.mark.parametrize("axis", [None, 1], ids=["per-tensor", "per-channel"])
    @pytest.mark.parametrize("symmetric", [False, True], ids=["affine", "symmetric"])
    @pytest.mark.parametrize("dtype", DTYPES)
    def test_equals_torch_observers(self, dtype: str, symmetric: bool, axis: int | None) -> None:
        x = _signed_channels()
        scale, zero_point = choose_qparams(x, dtype=dtype, symmetric=symmetric, axis=axis)
        want_scale, want_zero = _observed(x, dtype, symmetric, axis)
        assert scale.dtype == np.float32 and zero_point.dtype == np.int64
        np.testing.assert_array_equal(np.reshape(scale, -1), want_scale.numpy())
        np.testing.assert_array_equal(np.reshape(zero_point, -1), want_zero.numpy())

    @pytest.mark.parametrize("dtype", ["float32", "float64"])
    def test_agreement(self, xb, dtype: str) -> None:
        x = _signed_channels(1).astype(dtype)
        for options in ({"dtype": "uint8"}, {"dtype": "int4", "symmetric": True, "axis": -2}):
            got = xb.to_numpy(choose_qparams(xb.asarray(x), **options))
            want = choose_qparams_reference(x, **options)
            assert got.scale.dtype == np.dtype(dtype)
            assert_close(got.scale, want[0], dtype)
            np.testing.assert_array_equal(got.zero_point, want[1])

    @pytest.mark.parametrize("dtype", DTYPES)
    def test_all_zeros_and_one_sign(self, dtype: str) -> None:
        """min and max include 0: zeros give scale eps and zero point qmin (torch's too); a
        positive tensor gets zero point qmin, a negative one qmax."""
        qmin, qmax = RANGES[dtype]
        for x, zero in ((np.zeros(4), qmin), (np.array([0.5, 2.0]), qmin), (-np.ones(3), qmax)):
            x32 = x.astype(np.float32)
            scale, zero_point = choose_qparams(x32, dtype=dtype)
            want_scale, want_zero = _observed(x32, dtype, False, None)
            assert int(zero_point) == zero == int(want_zero[0])
            assert float(scale) == float(want_scale[0])
        assert float(choose_qparams(np.zeros(3), dtype=dtype).scale) == 2.0**-23

    def test_half_precision_in_float32(self) -> None:
        x = torch.from_numpy(_signed_channels()).to(torch.float16)
        scale, zero_point = choose_qparams(x, dtype="uint8", axis=1)
        want_scale, want_zero = _observed(x.float().numpy(), "uint8", False, 1)
        assert scale.dtype == torch.float32
        assert torch.equal(scale, want_scale)
        assert zero_point.tolist() == want_zero.tolist()  # torch's are int32 here

    def test_one_dimensional_per_channel(self) -> None:
        """axis 0 of a 1-d x: every value its own channel (torch's observer needs 2-d)."""
        x = np.array([-2.0, 0.0, 3.0], dtype=np.float32)
        scale, zero_point = choose_qparams(x, axis=0)
        want_scale, want_zero = _observed(x[:, None], "int8", False, 0)
        np.testing.assert_array_equal(scale, want_scale.numpy())
        np.testing.assert_array_equal(zero_point, want_zero.numpy())


# --- quantize, dequantize ----------------------------------------------------------------


class TestQuantize:
    @pytest.mark.parametrize("dtype", ["int8", "uint8"])
    def test_equals_torch_quantize_per_tensor(self, dtype: str) -> None:
        """Random values, exact ties and values beyond the range, odd and even zero points."""
        qdtype = TORCH[dtype][0]
        rng = np.random.default_rng(2)
        ties, tie_scale = _ties()
        for x, scale in ((rng.normal(size=500).astype(np.float32) * 3, 0.0371), (ties, tie_scale)):
            for zero_point in (0, 3, 10):
                q = quantize(x, scale, zero_point, dtype=dtype)
                t = _quiet(
                    torch.quantize_per_tensor, torch.from_numpy(x), scale, zero_point, qdtype
                )
                np.testing.assert_array_equal(q, t.int_repr().numpy())
                assert q.dtype == np.dtype(dtype)
                np.testing.assert_array_equal(dequantize(q, scale, zero_point), t.dequantize())

    def test_quantizes_each_value_of_every_observed_range_as_torch(self) -> None:
        """choose_qparams then quantize, both torch.ao's: the extreme values included (where the
        product x * (1 / scale) rounds onto -127.5 under symmetric uint8)."""
        for seed in range(8):
            x = _signed_channels(seed)
            for symmetric in (False, True):
                for dtype in ("int8", "uint8"):
                    scale, zero_point = choose_qparams(x, dtype=dtype, symmetric=symmetric)
                    t = _quiet(torch.quantize_per_tensor, torch.from_numpy(x), float(scale),
                               int(zero_point), TORCH[dtype][0])  # fmt: skip
                    want = t.int_repr().numpy()
                    np.testing.assert_array_equal(quantize(x, scale, zero_point, dtype=dtype), want)

    def test_per_channel_as_torch_but_for_its_rounded_product(self) -> None:
        """quantize_per_channel rounds x * (1 / scale) to float32 before adding the zero point;
        quantize_per_tensor (and mlprims) round the sum once: they differ exactly where the two
        roundings differ, e.g. at the most negative value of symmetric uint8."""
        differ = 0
        for seed in range(8):
            x = _signed_channels(seed)
            scale, zero_point = choose_qparams(x, dtype="uint8", symmetric=True, axis=1)
            got = quantize(x, scale, zero_point, dtype="uint8", axis=1)
            t = _quiet(torch.quantize_per_channel, torch.from_numpy(x), torch.from_numpy(scale),
                       torch.from_numpy(zero_point), 1, torch.quint8)  # fmt: skip
            s, z = scale[:, None], zero_point[:, None].astype(np.float32)
            inverse = np.float32(1.0) / s
            twice = np.clip(np.round(x * inverse + z), 0, 255)  # NumPy rounds each operation
            once = np.clip(
                np.round((x.astype(np.float64) * inverse + z).astype(np.float32)), 0, 255
            )
            np.testing.assert_array_equal(t.int_repr().numpy(), twice)
            np.testing.assert_array_equal(got, once)
            differ += int(np.sum(once != twice))
            np.testing.assert_array_equal(
                t.dequantize().numpy(), dequantize(t.int_repr().numpy(), scale, zero_point, axis=1)
            )
        assert differ > 0  # the seeds include such values

    @pytest.mark.parametrize("dtype", DTYPES)
    def test_agreement(self, xb, dtype: str) -> None:
        """float64 random values against the oracle; float32 on the grid of exact ties."""
        rng = np.random.default_rng(3)
        x64 = rng.normal(size=(3, 4, 2)) * 4
        scale, zero_point = rng.uniform(0.05, 0.5, 4), rng.integers(*RANGES[dtype], size=4)
        got = quantize(xb.asarray(x64), xb.asarray(scale), xb.asarray(zero_point), dtype=dtype,
                       axis=1)  # fmt: skip
        want = quantize_reference(x64, scale, zero_point, dtype=dtype, axis=1)
        np.testing.assert_array_equal(xb.to_numpy(got), want)
        ties, tie_scale = _ties()
        got = xb.to_numpy(quantize(xb.asarray(ties), tie_scale, 3, dtype=dtype))
        assert got.dtype == np.dtype("int8" if dtype.startswith("int") else "uint8")
        np.testing.assert_array_equal(got, quantize_reference(ties, tie_scale, 3, dtype=dtype))
        back = dequantize(xb.asarray(got), xb.asarray(np.float32(tie_scale)), 3)
        assert_close(xb.to_numpy(back), dequantize_reference(got, tie_scale, 3), "float32")

    def test_the_zero_point_is_added_before_rounding(self) -> None:
        """x / scale = 0.5 with zero point 1: round(1.5) = 2, not round(0.5) + 1 = 1."""
        x = np.array([0.25, 0.75, -0.25], dtype=np.float32)
        got = quantize(x, 0.5, 1)
        want = _quiet(torch.quantize_per_tensor, torch.from_numpy(x), 0.5, 1, torch.qint8)
        assert got.tolist() == want.int_repr().tolist() == [2, 2, 0]

    @pytest.mark.parametrize("dtype", DTYPES)
    def test_four_bit_ranges_clip(self, dtype: str) -> None:
        qmin, qmax = RANGES[dtype]
        q = quantize(
            np.array([-1e6, -3.0, 0.0, 3.0, 1e6, math.inf, -math.inf]), 1.0, 0, dtype=dtype
        )
        assert q.tolist() == [qmin, max(-3, qmin), 0, 3, qmax, qmax, qmin]


@given(
    x=float_arrays(shape=(4, 6), bound=50.0),
    dtype=st.sampled_from(DTYPES),
    symmetric=st.booleans(),
    axis=st.sampled_from([None, 0, 1]),
)
def test_round_trip_within_half_a_step(x, dtype, symmetric, axis) -> None:
    """|x - dequantize(quantize(x))| <= scale / 2 inside the range: choose_qparams' range
    [(qmin - z) s, (qmax - z) s], widened by half a step at each end, holds every value of x
    (the ends may round inwards: min / scale is rounded to an integer zero point, and a
    symmetric range is one step longer on one side)."""
    scale, zero_point = choose_qparams(x, dtype=dtype, symmetric=symmetric, axis=axis)
    back = dequantize(quantize(x, scale, zero_point, dtype=dtype, axis=axis), scale, zero_point,
                      axis=axis)  # fmt: skip
    shape = (-1,) + (1,) * (x.ndim - 1 - axis) if axis is not None else ()
    s, z = np.reshape(scale, shape), np.reshape(zero_point, shape)
    qmin, qmax = RANGES[dtype]
    slack = 1e-9 * s * (abs(qmin - z) + abs(qmax - z) + 1)  # float64 rounding of the ends
    assert np.all(x >= (qmin - z - 0.5) * s - slack) and np.all(x <= (qmax - z + 0.5) * s + slack)
    assert np.all(np.abs(x - back) <= s / 2 + slack)


# --- bad input ---------------------------------------------------------------------------

X = np.ones((2, 3))
BAD = {
    "unknown dtype": (
        lambda: quantize(X, 0.1, 0, dtype="int16"),
        ValueError,
        "`dtype` must be one of 'int8', 'uint8', 'int4', 'uint4'; got 'int16'",
    ),
    "x of integers": (
        lambda: quantize(np.ones(3, int), 0.1, 0),
        TypeError,
        "`x` must have a real floating dtype, got int64",
    ),
    "scale zero": (
        lambda: quantize(X, 0.0, 0),
        ValueError,
        "`scale` must be in (0.0, inf), got 0.0",
    ),
    "scale a string": (lambda: quantize(X, "1", 0), TypeError, "`scale` must be an array"),
    "zero point a float": (
        lambda: quantize(X, 0.1, 1.5),
        TypeError,
        "`zero_point` must be an int, got float",
    ),
    "zero point float array": (
        lambda: quantize(X, 0.1, np.zeros(1)),
        TypeError,
        "`zero_point` must have an integer dtype, got float64",
    ),
    "per-tensor scale of 3": (
        lambda: quantize(X, np.ones(3), np.zeros(3, int)),
        ValueError,
        (
            "`scale` must have shape () or (1,) (one tensor; give `axis` for one scale per "
            "channel), got (3)"
        ),
    ),
    "per-channel scale of 2": (
        lambda: quantize(X, np.ones(2), np.zeros(3, int), axis=1),
        ValueError,
        "`scale` must have shape (C,) = (3,) with C = x.shape[axis], got (2)",
    ),
    "per-channel number": (
        lambda: dequantize(np.ones(3, np.int8), 0.5, 0, axis=0),
        ValueError,
        "`scale` must be an array of shape (C,) = (3,) with C = q.shape[axis], got a number",
    ),
    "axis out of range": (
        lambda: quantize(X, np.ones(2), np.zeros(2, int), axis=2),
        ValueError,
        "`axis` must be in [-2, 2) for an array with 2 dimensions, got 2",
    ),
    "scale of torch": (
        lambda: quantize(X, torch.ones(()), 0),
        TypeError,
        "`scale` must be an array of the same framework as `x`",
    ),
    "dequantize floats": (
        lambda: dequantize(X, 0.5, 0),
        TypeError,
        "`q` must have an integer dtype, got float64",
    ),
    "dequantize integer scale": (
        lambda: dequantize(np.ones(3, np.int8), np.ones((), int), 0),
        TypeError,
        "`scale` must have a real floating dtype, got int64",
    ),
    "symmetric 1": (
        lambda: choose_qparams(X, symmetric=1),
        TypeError,
        "`symmetric` must be True or False, got 1",
    ),
    "empty": (lambda: choose_qparams(np.ones((2, 0))), ValueError, "`x` must not be empty"),
    "axis of 0-d": (
        lambda: choose_qparams(np.ones(()), axis=0),
        ValueError,
        "`axis` needs an `x` with at least one dimension, got shape ()",
    ),
    "choose from a list": (lambda: choose_qparams([1.0]), TypeError, "`x` must be an array"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_names_the_argument(case: str) -> None:
    call, error, words = BAD[case]
    with pytest.raises(error) as raised:
        call()
    assert words in str(raised.value)


def test_jax_without_x64(jax_without_x64) -> None:
    """32-bit JAX has no float64 to form the product in: the sum is rounded as JAX rounds it
    (the same as NumPy on values whose products are exact) and zero points are int32."""
    jnp = pytest.importorskip("jax.numpy")
    x, scale = _ties()
    params = choose_qparams(jnp.asarray(x), dtype="uint8")
    assert params.zero_point.dtype == jnp.int32 and params.scale.dtype == jnp.float32
    q = quantize(jnp.asarray(x), scale, 3, dtype="uint8")
    np.testing.assert_array_equal(np.asarray(q), quantize(x, scale, 3, dtype="uint8"))
    back = dequantize(q, jnp.asarray(params.scale), params.zero_point)
    assert back.dtype == jnp.float32
