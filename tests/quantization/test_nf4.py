"""quantize_nf4 and dequantize_nf4 (mlprims/quantization/nf4.py).

References: bitsandbytes' quantize_4bit / dequantize_4bit (quant_type="nf4", their CPU
kernels) called for real, and the float64 oracles of mlprims.testing.oracles.quantization
(the nearest level by distance)."""

from __future__ import annotations

import numpy as np
import pytest

from mlprims import NF4Tensor, dequantize_nf4, quantize_nf4
from mlprims.quantization.nf4 import NF4_CODE
from mlprims.testing import assert_close
from mlprims.testing.oracles.quantization import (
    NF4_LEVELS,
    dequantize_nf4_reference,
    quantize_nf4_reference,
)

torch = pytest.importorskip("torch")

#: The shapes bitsandbytes is checked on: full blocks, a partial last block, an odd size.
SHAPES = [(130,), (3, 50), (4, 64), (5, 7), (2, 3, 10)]


#: Where bitsandbytes' CPU dequantize (a C kernel, taken for an even last axis) disagrees with
#: its own quantize: blocks longer than a row of 4 rows or more take the wrong absmax. Its
#: pure-torch kernel (``backends/default/ops.py``, the blockwise formula its CUDA kernel
#: computes too) equals mlprims there.
CPU_KERNEL_MISREADS = {((4, 64), 128)}


@pytest.fixture(scope="module")
def bnb():
    return pytest.importorskip("bitsandbytes.functional")


def _bnb_torch_kernel(packed, absmax, block_size, shape):
    """bitsandbytes' pure-torch ``_dequantize_4bit_compute``, line for line without its
    torch.compile (1.5 s a call here): the high half-byte first, each level times the absmax
    of its block of the flattened array."""
    from bitsandbytes.functional import get_4bit_type

    code = get_4bit_type("nf4", device="cpu")
    flat = packed.reshape(-1).to(torch.int64)
    index = torch.stack([flat >> 4, flat & 15], dim=1).reshape(-1)[: np.prod(shape)]
    blocks = torch.arange(index.numel()) // block_size
    return (code[index] * absmax[blocks]).reshape(shape).numpy()


def _x(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).normal(size=shape).astype(np.float32)
    x.flat[::9] = 0.0  # the level 0 exactly
    return x


class TestBitsandbytes:
    @pytest.mark.parametrize("block_size", [64, 128])
    @pytest.mark.parametrize("shape", SHAPES, ids=str)
    def test_codes_absmax_and_values_equal_bitsandbytes(self, bnb, shape, block_size) -> None:
        x = _x(shape)
        packed, state = bnb.quantize_4bit(torch.from_numpy(x), blocksize=block_size,
                                          quant_type="nf4")  # fmt: skip
        q = quantize_nf4(x, block_size=block_size)
        np.testing.assert_array_equal(q.codes, packed.numpy().reshape(-1))
        np.testing.assert_array_equal(q.absmax, state.absmax.numpy())
        assert q.shape == shape and q.block_size == block_size
        got = dequantize_nf4(q)
        assert got.dtype == np.float32 and got.shape == shape
        want = _bnb_torch_kernel(packed, state.absmax, block_size, shape)
        np.testing.assert_array_equal(got, want)
        if shape[-1] % 2 == 0:  # its C kernel (odd last axes fall back to the torch one)
            want = bnb.dequantize_4bit(packed, state).numpy().reshape(shape)  # 1-d as (1, N)
            assert np.array_equal(got, want) != ((shape, block_size) in CPU_KERNEL_MISREADS)

    def test_the_code_table_is_bitsandbytes(self, bnb) -> None:
        table = bnb.get_4bit_type("nf4", device="cpu")
        np.testing.assert_array_equal(np.array(NF4_CODE, dtype=np.float32), table.numpy())
        np.testing.assert_array_equal(NF4_LEVELS.astype(np.float32), table.numpy())

    @pytest.mark.parametrize("half", ["float16", "bfloat16"])
    def test_half_precision(self, bnb, half: str) -> None:
        """bitsandbytes computes in float32 and casts the values back to the input's dtype."""
        x = torch.from_numpy(_x((3, 50), 1)).to(getattr(torch, half))
        packed, state = bnb.quantize_4bit(x, blocksize=64, quant_type="nf4")
        q = quantize_nf4(x)
        assert q.absmax.dtype == torch.float32
        assert torch.equal(q.codes, packed.reshape(-1))
        got = dequantize_nf4(q, dtype=x.dtype)
        assert got.dtype == x.dtype
        assert torch.equal(got, bnb.dequantize_4bit(packed, state))

    def test_ties_take_the_lower_level(self, bnb) -> None:
        """A value exactly at a midpoint of two levels (float32) takes the lower one, as
        bitsandbytes' bucketize; the absmax value 1 keeps the scale at 1."""
        levels = np.array(NF4_CODE, dtype=np.float32)
        midpoints = (levels[:-1] + levels[1:]) / np.float32(2)
        x = np.concatenate([midpoints, [1.0]]).astype(np.float32)
        packed, _ = bnb.quantize_4bit(torch.from_numpy(x), blocksize=64, quant_type="nf4")
        q = quantize_nf4(x)
        np.testing.assert_array_equal(q.codes, packed.numpy().reshape(-1))
        high, low = (q.codes >> 4).tolist(), (q.codes & 15).tolist()  # midpoint i: level i
        assert high == [0, 2, 4, 6, 8, 10, 12, 14] and low == [1, 3, 5, 7, 9, 11, 13, 15]


#: Eager JAX compiles each of NF4's thirty-odd operations for each shape (1 s a test); jax_jit
#: runs the same code.
EAGER_JAX = pytest.mark.backends(exclude=("jax",), reason="jax_jit runs the same code")


class TestRoundTrip:
    @EAGER_JAX
    @pytest.mark.parametrize("dtype", ["float32", "float64"])
    def test_agreement(self, xb, dtype: str) -> None:
        x = _x((3, 25), 2).astype(dtype) * 3
        q = xb.to_numpy(quantize_nf4(xb.asarray(x), block_size=16))
        codes, absmax = quantize_nf4_reference(x, block_size=16)
        assert q.absmax.dtype == np.dtype(dtype) and q.codes.dtype == np.uint8
        assert_close(q.absmax, absmax, dtype)
        unpacked = np.stack([q.codes >> 4, q.codes & 15], axis=1).reshape(-1)[: x.size]
        np.testing.assert_array_equal(unpacked, codes)
        got = xb.to_numpy(dequantize_nf4(quantize_nf4(xb.asarray(x), block_size=16)))
        want = dequantize_nf4_reference(codes, absmax, x.shape, block_size=16)
        assert_close(got, want, dtype)

    def test_error_within_half_a_gap_and_absmax_exact(self) -> None:
        x = np.random.default_rng(3).standard_t(3, size=(7, 33))
        q = quantize_nf4(x, block_size=32)
        back = dequantize_nf4(q)
        gaps = np.diff(NF4_LEVELS).max() / 2  # the widest half gap, between -1 and -0.696
        scale = np.repeat(q.absmax, 32)[: x.size].reshape(x.shape)
        assert np.all(np.abs(x - back) <= gaps * scale * (1 + 1e-12))
        tops = np.abs(x).reshape(-1)[: 32 * 7].reshape(7, 32).argmax(axis=1) + 32 * np.arange(7)
        np.testing.assert_array_equal(back.reshape(-1)[tops], x.reshape(-1)[tops])

    def test_a_block_of_zeros_comes_back_as_zeros(self) -> None:
        x = np.zeros(10)
        x[8:] = [1.0, -2.0]
        q = quantize_nf4(x, block_size=8)
        assert q.absmax.tolist() == [0.0, 2.0]
        assert dequantize_nf4(q).tolist()[:8] == [0.0] * 8


BAD = {
    "odd block": (lambda: quantize_nf4(np.ones(4), block_size=3), ValueError, "must be even"),
    "block 0": (lambda: quantize_nf4(np.ones(4), block_size=0), ValueError, ">= 2, got 0"),
    "empty": (lambda: quantize_nf4(np.ones((0, 2))), ValueError, "`x` must not be empty"),
    "integers": (lambda: quantize_nf4(np.ones(3, int)), TypeError, "real floating dtype"),
    "not a NF4Tensor": (
        lambda: dequantize_nf4((np.ones(2, np.uint8), np.ones(1), (4,), 64)),
        TypeError,
        "`q` must be an NF4Tensor (from quantize_nf4), got tuple",
    ),
    "codes do not fit": (
        lambda: dequantize_nf4(NF4Tensor(np.ones(3, np.uint8), np.ones(1), (4,), 64)),
        ValueError,
        (
            "`q` of shape (4) and block_size 64 needs codes of shape (2,) and absmax of shape "
            "(1,), got (3) and (1)"
        ),
    ),
    "int8 codes": (
        lambda: dequantize_nf4(NF4Tensor(np.ones(2, np.int8), np.ones(1), (4,), 64)),
        TypeError,
        "`q.codes` must have an unsigned integer dtype, got int8",
    ),
    "integer dtype": (
        lambda: dequantize_nf4(quantize_nf4(np.ones(4)), dtype="int32"),
        TypeError,
        "`dtype` must be a real floating dtype",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_names_the_argument(case: str) -> None:
    call, error, words = BAD[case]
    with pytest.raises(error) as raised:
        call()
    assert words in str(raised.value)
