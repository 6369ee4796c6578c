"""mlprims.random: Threefry-2x32 equal to jax.random on every backend, plus statistics.

References are the installed ``jax.random`` (in its default partitionable Threefry mode) and
the NumPy Threefry of mlprims.testing.oracles.random, written from the Random123 specification
and checked here against its known answers and against jax.random, so a change in JAX's streams
shows up as a failure here (and the oracles ``mlprims check`` uses stay right).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mlprims
from mlprims import random
from mlprims._array import namespace
from mlprims._special import erfinv
from mlprims.random import _threefry
from mlprims.testing import assert_close
from mlprims.testing.oracles.random import (
    bernoulli_reference,
    bits_reference,
    categorical_reference,
    fold_in_reference,
    normal_reference,
    permutation_reference,
    split_reference,
    threefry2x32_reference,
    uniform_reference,
)

jax = pytest.importorskip("jax")  # jax.random is the reference of every test here
jnp = pytest.importorskip("jax.numpy")
jr = jax.random
SEEDS = (0, 1, 42, 2**32 - 1)
SHAPES = ((), (1,), (7,), (2, 3), (3, 1, 5), (0,), (4, 0))
M32 = 0xFFFFFFFF


def _jkey(seed: int) -> jax.Array:
    return jr.PRNGKey(seed)


def _key(xb, seed: int):
    """The key of `seed` on the backend under test (built from JAX's own PRNGKey)."""
    return xb.asarray(np.asarray(_jkey(seed)))


def _np(x) -> np.ndarray:
    return np.asarray(x)


def _assert_equal(actual, expected) -> None:
    """Bit equality, shape included; integer dtypes may differ in width (int32 vs int64)."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    if expected.dtype.kind == "f":
        assert actual.dtype == expected.dtype, (actual.dtype, expected.dtype)
    np.testing.assert_array_equal(actual, expected)


KNOWN_ANSWERS = [  # Random123 kat_vectors, threefry2x32 with 20 rounds: (key, counter, out)
    ((0, 0), (0, 0), (0x6B200159, 0x99BA4EFE)),
    ((M32, M32), (M32, M32), (0x1CB996FC, 0xBB002BE7)),
    ((0x13198A2E, 0x03707344), (0x243F6A88, 0x85A308D3), (0xC4923A9C, 0x483DF7A0)),
]


class TestThreefry:
    @pytest.mark.parametrize(("key", "counter", "expected"), KNOWN_ANSWERS)
    def test_known_answers_of_the_oracle(self, key, counter, expected) -> None:
        y0, y1 = threefry2x32_reference(key, counter[0], counter[1])
        assert (int(y0), int(y1)) == expected

    def test_known_answers_on_every_backend(self, xb) -> None:
        keys = np.array([k for k, _, _ in KNOWN_ANSWERS], dtype=np.uint32)  # (3, 2)
        counters = np.array([c for _, c, _ in KNOWN_ANSWERS], dtype=np.uint32)

        def run(k, c):
            xp = namespace(k)
            words = _threefry.words_for(k, xp)
            k, c = words.from_user(k), words.from_user(c)
            y0, y1 = _threefry.threefry2x32(k[:, 0], k[:, 1], c[:, 0], c[:, 1], words=words)
            return words.to_user(xp.stack([y0, y1], axis=1))

        out = xb.to_numpy(xb.run(run, xb.asarray(keys), xb.asarray(counters)))
        _assert_equal(out, np.array([e for _, _, e in KNOWN_ANSWERS], dtype=np.uint32))

    def test_fold_in_zero_is_the_hash_of_counter_zero(self) -> None:
        assert random.fold_in(random.key(0), 0).tolist() == [0x6B200159, 0x99BA4EFE]


class TestOracles:
    """The NumPy oracles (which ``mlprims check`` compares every backend with) give jax.random's
    streams, in both float widths."""

    @pytest.mark.parametrize("seed", SEEDS)
    def test_keys_and_bits_equal_jax(self, seed: int) -> None:
        key = np.asarray(_jkey(seed))
        _assert_equal(bits_reference(key, (3, 5)), jr.bits(_jkey(seed), (3, 5), jnp.uint32))
        _assert_equal(split_reference(key, 3), jr.split(_jkey(seed), 3))
        _assert_equal(fold_in_reference(key, 12345), jr.fold_in(_jkey(seed), 12345))
        _assert_equal(permutation_reference(key, 300), jr.permutation(_jkey(seed), 300))

    @pytest.mark.parametrize("seed", SEEDS)
    @pytest.mark.parametrize("dtype", ["float32", "float64"])
    def test_floats_equal_jax(self, seed: int, dtype: str) -> None:
        key, jkey = np.asarray(_jkey(seed)), _jkey(seed)
        uniform = uniform_reference(key, (4, 6), dtype=dtype)
        np.testing.assert_array_equal(uniform, jr.uniform(jkey, (4, 6), dtype=dtype))
        p = np.linspace(0.0, 1.0, 6, dtype=dtype)
        expected = jr.bernoulli(jkey, p, (4, 6))
        _assert_equal(bernoulli_reference(key, p, (4, 6), dtype=dtype), expected)
        logits = np.random.default_rng(seed % 2**32).standard_normal((50, 6)).astype(dtype)
        _assert_equal(categorical_reference(key, logits, dtype=dtype), jr.categorical(jkey, logits))

    def test_normal_within_float32_rounding_of_jax(self) -> None:
        expected = jr.normal(_jkey(3), (50,), dtype=jnp.float32)
        assert_close(normal_reference(np.asarray(_jkey(3)), (50,)), np.asarray(expected), "float32")


class TestKey:
    @pytest.mark.parametrize("seed", [0, 1, 42, 2**32 - 1, 2**32 + 5, -1, 2**63 - 1, -(2**63)])
    def test_equals_jax_prngkey(self, xb, seed: int) -> None:
        key = random.key(seed, backend=xb.backend.name)
        _assert_equal(xb.to_numpy(key), _jkey(seed))  # jax_enable_x64 is on in the tests
        assert mlprims.backends.of(key).name == xb.backend.name
        assert str(key.dtype).endswith("uint32")

    def test_default_backend_and_uint64_seeds(self) -> None:
        assert isinstance(random.key(3), np.ndarray)
        assert random.key(2**64 - 1).tolist() == random.key(-1).tolist() == [M32, M32]

    @pytest.mark.parametrize(("seed", "error"), [(1.0, TypeError), (True, TypeError),
                                                 ("3", TypeError), (2**64, ValueError),
                                                 (-(2**63) - 1, ValueError)])  # fmt: skip
    def test_bad_seed(self, seed, error) -> None:
        with pytest.raises(error, match="`seed`"):
            random.key(seed)

    @pytest.mark.parametrize(
        ("bad", "error"),
        [
            (np.zeros(2, dtype=np.int64), TypeError),
            (np.zeros(2, dtype=np.float32), TypeError),
            (np.zeros(3, dtype=np.uint32), ValueError),
            (np.zeros((2, 2), dtype=np.uint32), ValueError),
            ([0, 0], TypeError),
        ],
    )
    def test_bad_keys_are_rejected_everywhere(self, bad, error) -> None:
        for fn in (random.split, random.bits, random.uniform, random.normal, random.gumbel):
            with pytest.raises(error, match="`key`"):
                fn(bad)
        with pytest.raises(error, match="`key`"):
            random.fold_in(bad, 1)

    def test_typed_jax_key_needs_key_data(self) -> None:
        with pytest.raises(TypeError, match="key_data"):
            random.uniform(jr.key(0), (2,))
        _assert_equal(random.bits(jr.key_data(jr.key(0)), (3,)), jr.bits(jr.key(0), (3,), "uint32"))


class TestArguments:
    def test_numpy_integers_are_ints(self) -> None:
        key = random.key(np.int64(5))
        assert random.fold_in(key, np.uint32(3)).tolist() == random.fold_in(key, 3).tolist()
        assert random.permutation(key, np.int64(6)).tolist() == random.permutation(key, 6).tolist()
        assert random.bits(key, (np.int64(2), 3)).shape == (2, 3)

    def test_mixed_backends_are_a_type_error(self) -> None:
        torch = pytest.importorskip("torch")

        key = random.key(0, backend="torch")
        with pytest.raises(TypeError, match="mixed"):
            random.categorical(key, np.zeros(3))
        with pytest.raises(TypeError, match="mixed"):
            random.bernoulli(key, np.full(3, 0.5))
        with pytest.raises(TypeError, match="mixed"):
            random.uniform(key, (3,), minval=np.zeros(3))
        assert random.bernoulli(key, torch.full((3,), 0.5)).dtype == torch.bool

    def test_inputs_are_not_modified(self, xb) -> None:
        key = _key(xb, 9)
        before = xb.to_numpy(key).copy()
        xb.run(random.split, key, 3)
        xb.run(random.uniform, key, (4,))
        np.testing.assert_array_equal(xb.to_numpy(key), before)


class TestSplit:
    @pytest.mark.parametrize("num", [2, 3, (2, 3), 1, 0])
    def test_equals_jax(self, xb, num) -> None:
        for seed in SEEDS[:2]:
            out = xb.to_numpy(xb.run(random.split, _key(xb, seed), num))
            _assert_equal(out, jr.split(_jkey(seed), num))
            assert out.dtype == np.uint32

    def test_keys_are_usable_and_distinct(self, xb) -> None:
        keys = xb.run(random.split, _key(xb, 0), 4)
        draws = [xb.to_numpy(random.bits(keys[i, ...], (8,))) for i in range(4)]
        assert len({d.tobytes() for d in draws}) == 4

    def test_bad_num(self) -> None:
        with pytest.raises(ValueError, match="`num`"):
            random.split(random.key(0), -1)
        with pytest.raises(TypeError, match="`num`"):
            random.split(random.key(0), 2.0)


class TestFoldIn:
    @pytest.mark.parametrize("data", [0, 1, 7, 123456, 2**32 - 1])
    def test_equals_jax(self, xb, data: int) -> None:
        out = xb.to_numpy(xb.run(random.fold_in, _key(xb, 42), data))
        _assert_equal(out, jr.fold_in(_jkey(42), data))

    def test_array_data_can_be_traced(self, xb) -> None:
        step = xb.asarray(np.asarray(5, dtype=np.int32))
        out = xb.to_numpy(xb.run(random.fold_in, _key(xb, 1), step))
        _assert_equal(out, jr.fold_in(_jkey(1), 5))

    @pytest.mark.parametrize(("data", "error"), [(-1, ValueError), (2**32, ValueError),
                                                 (1.5, TypeError), (np.arange(2), TypeError),
                                                 (np.float32(1.0), TypeError)])  # fmt: skip
    def test_bad_data(self, data, error) -> None:
        with pytest.raises(error, match="`data`"):
            random.fold_in(random.key(0), data)


class TestBits:
    @pytest.mark.parametrize("shape", SHAPES)
    def test_equals_jax(self, xb, shape) -> None:
        for seed in SEEDS:
            out = xb.to_numpy(xb.run(random.bits, _key(xb, seed), shape))
            _assert_equal(out, jr.bits(_jkey(seed), shape, dtype=jnp.uint32))
            assert out.dtype == np.uint32

    @given(seed=st.integers(0, 2**64 - 1), size=st.integers(0, 70))
    def test_equals_the_oracle(self, seed: int, size: int) -> None:
        key = random.key(seed)
        assert random.bits(key, size).tolist() == bits_reference(key, (size,)).tolist()

    @pytest.mark.parametrize(("shape", "error"), [((2, -1), ValueError), (-3, ValueError),
                                                  ((2.0,), TypeError), ("3", TypeError),
                                                  ((True,), TypeError)])  # fmt: skip
    def test_bad_shape(self, shape, error) -> None:
        with pytest.raises(error, match="`shape`"):
            random.bits(random.key(0), shape)

    def test_too_many_values(self) -> None:
        with pytest.raises(ValueError, match="2\\*\\*32"):
            random.bits(random.key(0), (2**16, 2**16 + 1))


class TestUniform:
    @pytest.mark.parametrize("shape", SHAPES)
    def test_float32_equals_jax(self, xb, shape) -> None:
        for seed in SEEDS:
            out = xb.to_numpy(xb.run(random.uniform, _key(xb, seed), shape))
            _assert_equal(out, jr.uniform(_jkey(seed), shape, dtype=jnp.float32))

    def test_float64_equals_jax(self, xb) -> None:
        out = xb.to_numpy(xb.run(random.uniform, _key(xb, 3), (5, 7), dtype="float64"))
        _assert_equal(out, jr.uniform(_jkey(3), (5, 7), dtype=jnp.float64))

    def test_16_bit_floats_equal_jax(self) -> None:
        torch = pytest.importorskip("torch")

        key = np.array(_jkey(3))  # a writable copy for torch
        for dtype in ("float16", "bfloat16"):
            expected = np.asarray(jr.uniform(_jkey(3), (64,), dtype=dtype), dtype=np.float32)
            for k in (torch.asarray(key), jnp.asarray(key), key):
                if dtype == "bfloat16" and isinstance(k, np.ndarray):
                    continue  # NumPy has no bfloat16
                out = random.uniform(k, (64,), dtype=dtype)
                if isinstance(out, torch.Tensor):
                    out = out.float()
                _assert_equal(np.asarray(out).astype(np.float32), expected)

    def test_bounds_within_one_ulp_of_jax(self, xb) -> None:
        # XLA fuses u * (max - min) + min into an FMA; the other backends round twice.
        out = xb.to_numpy(xb.run(random.uniform, _key(xb, 0), (1000,), minval=-3.3, maxval=7.1))
        expected = np.asarray(jr.uniform(_jkey(0), (1000,), jnp.float32, -3.3, 7.1))
        np.testing.assert_allclose(out, expected, rtol=0, atol=np.spacing(np.float32(8)))
        assert out.min() >= np.float32(-3.3) and out.max() < np.float32(7.1)

    def test_array_bounds_broadcast(self, xb) -> None:
        lo = xb.asarray(np.array([[0.0], [10.0]], dtype=np.float32))
        out = xb.to_numpy(xb.run(random.uniform, _key(xb, 2), (2, 4), minval=lo, maxval=20.0))
        expected = jr.uniform(_jkey(2), (2, 4), jnp.float32, jnp.array([[0.0], [10.0]]), 20.0)
        np.testing.assert_allclose(out, expected, rtol=0, atol=np.spacing(np.float32(20)))
        assert (out[1] >= 10.0).all()

    def test_moments(self) -> None:
        u = random.uniform(random.key(7), (200_000,)).astype(np.float64)
        assert abs(u.mean() - 0.5) < 3e-3 and abs(u.var() - 1 / 12) < 1e-3
        assert u.min() >= 0.0 and u.max() < 1.0

    @pytest.mark.parametrize("dtype", ["int32", "uint32", "bool", "complex64"])
    def test_bad_dtype(self, dtype: str) -> None:
        # A dtype that is not floating is a TypeError, as in every creation function (it was a
        # ValueError here and a TypeError in init_batch_norm); an unknown name a ValueError.
        for draw in (random.uniform, random.normal, random.gumbel):
            with pytest.raises(TypeError, match="`dtype` must be a real floating dtype"):
                draw(random.key(0), (2,), dtype=dtype)
        with pytest.raises(ValueError, match="`dtype` must name a dtype"):
            random.uniform(random.key(0), (2,), dtype="float31")

    def test_bounds_of_the_wrong_shape(self) -> None:
        with pytest.raises(ValueError, match="`minval`"):
            random.uniform(random.key(0), (2,), minval=np.zeros(3, np.float32))


class TestNormal:
    def test_float32_within_1e6_of_jax(self, xb) -> None:
        for seed in SEEDS[:2]:
            out = xb.to_numpy(xb.run(random.normal, _key(xb, seed), (64, 64)))
            expected = np.asarray(jr.normal(_jkey(seed), (64, 64), dtype=jnp.float32))
            assert out.dtype == np.float32
            np.testing.assert_allclose(out, expected, rtol=0, atol=1e-6)
            if xb.is_jit:  # the same XLA kernels: bit for bit
                _assert_equal(out, expected)

    def test_float64_equals_jax(self, xb) -> None:
        out = xb.to_numpy(xb.run(random.normal, _key(xb, 1), (4096,), dtype="float64"))
        expected = np.asarray(jr.normal(_jkey(1), (4096,), dtype=jnp.float64))
        np.testing.assert_allclose(out, expected, rtol=0, atol=1e-14)

    def test_shapes_and_dtype(self, xb) -> None:
        for shape in ((), (0,), (3, 1, 2)):
            assert xb.to_numpy(xb.run(random.normal, _key(xb, 0), shape)).shape == shape

    def test_moments(self) -> None:
        z = random.normal(random.key(11), (200_000,)).astype(np.float64)
        assert abs(z.mean()) < 0.01 and abs(z.var() - 1.0) < 0.01
        assert abs(np.mean(z**3)) < 0.03 and abs(np.mean(z**4) - 3.0) < 0.06


class TestGumbel:
    def test_close_to_jax(self, xb) -> None:
        out = xb.to_numpy(xb.run(random.gumbel, _key(xb, 5), (33, 7)))
        expected = np.asarray(jr.gumbel(_jkey(5), (33, 7), dtype=jnp.float32))
        assert_close(out, expected, "float32")
        if xb.is_jit:
            _assert_equal(out, expected)

    def test_moments(self) -> None:
        g = random.gumbel(random.key(3), (200_000,)).astype(np.float64)
        assert abs(g.mean() - 0.5772156649) < 0.01 and abs(g.var() - math.pi**2 / 6) < 0.03


class TestCategorical:
    LOGITS = np.log(np.random.default_rng(0).dirichlet(np.ones(6), size=(5,))).astype(np.float32)

    def test_equals_jax(self, xb) -> None:
        logits = xb.asarray(self.LOGITS)
        for seed in SEEDS:
            out = xb.to_numpy(xb.run(random.categorical, _key(xb, seed), logits))
            _assert_equal(out, jr.categorical(_jkey(seed), self.LOGITS))

    def test_axis_and_sample_shape_equal_jax(self, xb) -> None:
        logits = xb.asarray(self.LOGITS)
        out = xb.to_numpy(xb.run(random.categorical, _key(xb, 9), logits, axis=0, shape=(4, 6)))
        _assert_equal(out, jr.categorical(_jkey(9), self.LOGITS, axis=0, shape=(4, 6)))

    def test_frequencies_chi_square(self) -> None:
        p = np.array([0.05, 0.1, 0.15, 0.3, 0.4])
        n = 20_000
        draws = random.categorical(random.key(1), np.log(p), shape=(n,))
        counts = np.bincount(draws, minlength=p.size)
        chi2 = np.sum((counts - n * p) ** 2 / (n * p))
        assert chi2 < 18.47  # the 0.999 quantile of chi-square with 4 degrees of freedom

    def test_minus_inf_is_never_drawn(self, xb) -> None:
        logits = xb.asarray(np.array([0.0, -np.inf, 0.0, -np.inf], dtype=np.float32))
        out = xb.to_numpy(xb.run(random.categorical, _key(xb, 4), logits, shape=(200,)))
        assert set(np.unique(out)) <= {0, 2}

    def test_bad_logits(self) -> None:
        with pytest.raises(TypeError, match="`logits`"):
            random.categorical(random.key(0), np.zeros(3, dtype=np.int64))
        with pytest.raises(ValueError, match="`logits`"):
            random.categorical(random.key(0), np.float32(0.0).reshape(()))
        with pytest.raises(ValueError, match="`logits`"):
            random.categorical(random.key(0), np.zeros((2, 3)), shape=(3,))
        with pytest.raises(ValueError, match="`axis`"):
            random.categorical(random.key(0), np.zeros((2, 3)), axis=2)


class TestBernoulli:
    def test_equals_jax(self, xb) -> None:
        for p in (0.0, 0.3, 0.5, 1.0):
            out = xb.to_numpy(xb.run(random.bernoulli, _key(xb, 8), p, (6, 5)))
            _assert_equal(out, jr.bernoulli(_jkey(8), np.float32(p), (6, 5)))

    def test_array_p_equals_jax(self, xb) -> None:
        p = np.linspace(0, 1, 7)  # float64: uniforms drawn in float64
        out = xb.to_numpy(xb.run(random.bernoulli, _key(xb, 2), xb.asarray(p), (3, 7)))
        _assert_equal(out, jr.bernoulli(_jkey(2), jnp.asarray(p), (3, 7)))
        assert out[:, 0].sum() == 0 and out[:, -1].all()

    def test_mean(self) -> None:
        assert abs(random.bernoulli(random.key(0), 0.2, (100_000,)).mean() - 0.2) < 0.005

    @pytest.mark.parametrize(
        ("p", "shape", "error"),
        [
            (1.5, (2,), ValueError),
            (-0.1, (2,), ValueError),
            ("0.5", (2,), TypeError),
            (np.zeros(3, np.int64), None, TypeError),
            (np.zeros(3), (2,), ValueError),
        ],
    )
    def test_bad_p(self, p, shape, error) -> None:
        with pytest.raises(error, match="`p`"):
            random.bernoulli(random.key(0), p, shape)


class TestPermutation:
    @pytest.mark.parametrize("n", [0, 1, 5, 100, 2000])  # 2000 takes two sorting rounds
    def test_equals_jax(self, xb, n: int) -> None:
        out = xb.to_numpy(xb.run(random.permutation, _key(xb, 3), n))
        _assert_equal(out, jr.permutation(_jkey(3), n))
        np.testing.assert_array_equal(np.sort(out), np.arange(n))

    def test_array_along_an_axis_equals_jax(self, xb) -> None:
        x = np.arange(24.0).reshape(2, 12)
        out = xb.to_numpy(xb.run(random.permutation, _key(xb, 4), xb.asarray(x), axis=1))
        _assert_equal(out, jr.permutation(_jkey(4), x, axis=1))

    def test_bad_input(self) -> None:
        with pytest.raises(ValueError, match="`x`"):
            random.permutation(random.key(0), -2)
        with pytest.raises(ValueError, match="`x` must be an int or an array with at least one"):
            random.permutation(random.key(0), np.float64(3.0).reshape(()))  # was a TypeError
        with pytest.raises(ValueError, match="`a` must be a non-negative int or an array with"):
            random.choice(random.key(0), np.float64(3.0).reshape(()), replace=False)


class TestChoice:
    def test_equals_jax(self, xb) -> None:
        out = xb.to_numpy(xb.run(random.choice, _key(xb, 6), 50, (2, 3), replace=False))
        _assert_equal(out, jr.choice(_jkey(6), 50, (2, 3), replace=False))
        assert len(set(out.ravel().tolist())) == 6

    def test_from_an_array(self, xb) -> None:
        a = np.arange(30.0).reshape(10, 3)
        out = xb.to_numpy(xb.run(random.choice, _key(xb, 1), xb.asarray(a), (4,), replace=False))
        _assert_equal(out, jr.choice(_jkey(1), a, (4,), replace=False))

    def test_bad_input(self) -> None:
        with pytest.raises(ValueError, match="`replace`"):
            random.choice(random.key(0), 5, (2,), replace=True)
        with pytest.raises(ValueError, match="`shape`"):
            random.choice(random.key(0), 3, (4,), replace=False)


@pytest.mark.usefixtures("jax_without_x64")
class TestJaxDefaults:
    """JAX users' setting: no 64-bit types at all; the words stay uint32."""

    def test_everything_equals_jax(self) -> None:
        key = jnp.asarray(np.asarray(_jkey(5)))
        jk = _jkey(5)

        def ours(k):
            return (random.bits(k, (3, 5)), random.split(k, 3), random.fold_in(k, 9),
                    random.uniform(k, (11,)), random.normal(k, (11,)), random.permutation(k, 9),
                    random.bernoulli(k, 0.25, (11,)), random.gumbel(k, (11,)))  # fmt: skip

        expected = (jr.bits(jk, (3, 5), jnp.uint32), jr.split(jk, 3), jr.fold_in(jk, 9),
                    jr.uniform(jk, (11,)), jr.normal(jk, (11,)), jr.permutation(jk, 9),
                    jr.bernoulli(jk, 0.25, (11,)), jr.gumbel(jk, (11,)))  # fmt: skip
        for got, want in zip(ours(key), expected, strict=True):  # eager
            assert got.dtype == want.dtype, (got.dtype, want.dtype)
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)
        for got, want in zip(jax.jit(ours)(key), expected, strict=True):
            assert got.dtype == want.dtype, (got.dtype, want.dtype)
            _assert_equal(got, want)  # jit: bit for bit, normal and gumbel included
        assert random.key(7, backend="jax").dtype == jnp.uint32

    def test_float64_request_follows_jax(self) -> None:
        with pytest.warns(UserWarning, match="float64"):
            out = random.uniform(jnp.asarray(np.asarray(_jkey(0))), (4,), dtype="float64")
        with pytest.warns(UserWarning, match="float64"):
            expected = jr.uniform(_jkey(0), (4,), dtype=jnp.float64)
        _assert_equal(out, expected)


class TestErfinv:
    def test_inverts_erf(self) -> None:
        x = np.linspace(-0.999, 0.999, 2001)
        back = np.array([math.erf(v) for v in erfinv(x)])
        np.testing.assert_allclose(back, x, rtol=0, atol=2e-15)
        assert_close(erfinv(x.astype(np.float32)), erfinv(x), "float32", scale=4)

    def test_edges(self, xb) -> None:
        x = np.array([-1.0, 1.0, 1.5, np.nan, 0.0, -0.0], dtype=np.float32)
        out = xb.to_numpy(xb.run(erfinv, xb.asarray(x)))
        np.testing.assert_array_equal(out, [-np.inf, np.inf, np.nan, np.nan, 0.0, 0.0])

    def test_float32_equals_xla_under_jit(self) -> None:
        x = jnp.linspace(-1, 1, 100_001, dtype=jnp.float32)[1:-1]
        _assert_equal(jax.jit(erfinv)(x), jax.jit(jax.lax.erf_inv)(x))
        np.testing.assert_allclose(erfinv(np.asarray(x)), jax.lax.erf_inv(x), rtol=0, atol=5e-7)

    def test_rejects_integers(self) -> None:
        with pytest.raises(TypeError, match="`x`"):
            erfinv(np.arange(3))
