"""The shared helpers of mlprims/_array.py: namespaces, errors that name the argument."""

from __future__ import annotations

import numpy as np
import pytest

import mlprims
from mlprims._array import (
    check_axes,
    check_bool,
    check_broadcasts_to,
    check_dtype,
    check_float_dtype,
    check_in_range,
    check_int,
    check_number,
    check_shape,
    concrete_any,
    namespace,
    resolve_dtype,
    statistics_dtype,
)


class TestNamespace:
    def test_skips_none_and_returns_the_common_namespace(self, xb) -> None:
        x = xb.asarray(np.zeros(2))
        assert namespace(x, None, x) is namespace(x)

    def test_a_list_is_named(self) -> None:
        with pytest.raises(TypeError, match="`mask` must be an array"):
            namespace(np.zeros(2), [True, False], names=("x", "mask"))

    def test_mixed_frameworks_name_the_second_argument(self) -> None:
        torch = pytest.importorskip("torch")
        with pytest.raises(TypeError, match="`k` must be an array of the same framework as `q`"):
            namespace(np.zeros(2), torch.zeros(2), names=("q", "k"))


class TestConcreteAny:
    def test_eager_values_are_read(self, xb) -> None:
        if xb.is_jit:
            jax = pytest.importorskip("jax")
            values = jax.jit(lambda c: jax.numpy.asarray(concrete_any(c, xp=xb.xp) is None))(
                xb.asarray(np.array([True]))
            )
            assert bool(values)  # unknown while tracing
            return
        assert concrete_any(xb.asarray(np.array([False, True])), xp=xb.xp) is True
        assert concrete_any(xb.asarray(np.array([False, False])), xp=xb.xp) is False


class TestDtypes:
    def test_statistics_dtype(self, xb) -> None:
        xp = xb.xp
        assert statistics_dtype(xp.float64, xp=xp) == xp.float64
        assert statistics_dtype(xp.float32, xp=xp) == xp.float32
        if hasattr(xp, "float16"):  # the standard (and array_api_strict) has no float16
            assert statistics_dtype(xp.float16, xp=xp) == xp.float32

    def test_resolve_dtype(self, xb) -> None:
        xp = xb.xp
        assert resolve_dtype("float32", xp=xp) == xp.float32
        assert resolve_dtype(np.float64, xp=xp) == xp.float64
        with pytest.raises(ValueError, match="`dtype` must name a dtype"):
            resolve_dtype("float33", xp=xp)


class TestFloatDtype:
    """Creation functions resolve `dtype` here: an unknown name is a ValueError, a dtype that is
    not real floating a TypeError, the same everywhere."""

    def test_names_and_objects(self, xb) -> None:
        xp = xb.xp
        assert check_float_dtype("float32", xp=xp) == xp.float32
        assert check_float_dtype(xp.float64, xp=xp) == xp.float64

    @pytest.mark.parametrize("dtype", ["int32", "uint32", "bool", "complex64", None, 3])
    def test_not_floating_is_a_type_error(self, xb, dtype) -> None:
        with pytest.raises(TypeError, match="`dtype` must be a real floating dtype"):
            check_float_dtype(dtype, xp=xb.xp)

    def test_unknown_name_is_a_value_error(self, xb) -> None:
        with pytest.raises(ValueError, match="`table_dtype` must name a dtype"):
            check_float_dtype("float31", xp=xb.xp, name="table_dtype")


class TestArrayDtype:
    def test_kinds(self, xb) -> None:
        xp = xb.xp
        check_dtype(xb.asarray(np.arange(3)), "positions", ("integral", "real floating"), xp=xp)
        with pytest.raises(
            TypeError, match="`positions` must have an integer or a real floating dtype, got"
        ):
            check_dtype(
                xb.asarray(np.ones(3, bool)), "positions", ("integral", "real floating"), xp=xp
            )
        with pytest.raises(TypeError, match=r"`d` must have a signed integer dtype \(k - q\), got"):
            check_dtype(xb.asarray(np.ones(3)), "d", "signed integer", xp=xp, why=" (k - q)")
        with pytest.raises(TypeError, match="`d` must be an array"):
            check_dtype([1, 2], "d", "integral", xp=xp)


class TestScalars:
    def test_bool(self) -> None:
        assert check_bool(True, "flag") is True
        for value in (1, 0, None, "yes", np.bool_(True)):
            with pytest.raises(TypeError, match=r"`flag` must be True or False, got"):
                check_bool(value, "flag")

    def test_int(self) -> None:
        assert type(check_int(np.int64(3), "dim")) is int  # NumPy integers too, as numbers
        with pytest.raises(TypeError, match="`dim` must be an int, got float"):
            check_int(3.0, "dim")
        with pytest.raises(TypeError, match="`dim` must be an int, got bool"):
            check_int(True, "dim")
        with pytest.raises(ValueError, match="`dim` must be >= 1, got 0"):
            check_int(np.int32(0), "dim", minimum=1)

    def test_number(self) -> None:
        assert check_number(2, "std") == 2.0
        assert check_number(np.float32(0.5), "std") == 0.5
        for value in ("1", None, True, np.zeros(1), [1.0]):
            with pytest.raises(TypeError, match="`std` must be a number, got"):
                check_number(value, "std")

    def test_in_range(self) -> None:
        assert check_in_range(1.0, "base", 0.0, closed=(False, False)) == 1.0
        with pytest.raises(TypeError, match="`base` must be a number"):
            check_in_range("10000", "base", 0.0)
        for value in (0.0, -1.0, float("inf"), float("nan")):
            with pytest.raises(ValueError, match=r"`base` must be in \(0.0, inf\), got"):
                check_in_range(value, "base", 0.0, closed=(False, False))


class TestAxesAndShapes:
    def test_axes(self) -> None:
        assert check_axes(None, 3) == (0, 1, 2)
        assert check_axes(-1, 3) == (2,)
        assert check_axes((2, 0), 3) == (0, 2)
        with pytest.raises(ValueError, match="`axis` must not repeat an axis"):
            check_axes((1, -2), 3)
        with pytest.raises(ValueError, match=r"`axis` must be in \[-3, 3\)"):
            check_axes((0, 3), 3)
        with pytest.raises(TypeError, match="`axis` must be an int"):
            check_axes(1.0, 3)

    def test_shape(self) -> None:
        assert check_shape(3) == (3,)
        assert check_shape((np.int64(2), 0)) == (2, 0)
        assert check_shape(()) == ()
        for bad in (2.0, (2, True), "23", None, (2, 3.0)):
            with pytest.raises(TypeError, match="`shape` must be an int or a tuple of ints"):
                check_shape(bad)
        with pytest.raises(ValueError, match=r"`shape` must have sizes >= 0, got \(2, -1\)"):
            check_shape((2, -1))
        with pytest.raises(ValueError, match=r"`S` must have sizes >= 1, got \(3, 0\)"):
            check_shape((3, 0), "S", minimum=1)
        with pytest.raises(ValueError, match="`S` must have at least one size"):
            check_shape((), "S", nonempty=True)

    def test_broadcasts_to(self) -> None:
        check_broadcasts_to((5,), (8, 5), "weight")
        check_broadcasts_to((1, 5), (8, 5), "weight")
        for shape in ((5, 1), (2, 8, 5), (4,)):
            with pytest.raises(ValueError, match=r"`weight` must broadcast to \(8, 5\)"):
                check_broadcasts_to(shape, (8, 5), "weight")


# NumPy integer scalars are ints (operator.index) wherever a Python int is expected: counts,
# sizes and options read from arrays (``k = labels.max() + 1``) must not need ``int(...)``.
_X = np.random.default_rng(0).normal(size=(20, 2))
_Q = np.random.default_rng(1).normal(size=(1, 2, 4, 8))
_INT_CALLS = {
    "kmeans n_clusters": lambda n: mlprims.kmeans(_X, n(3), key=mlprims.random.key(0)).labels,
    "kmeans_plusplus": lambda n: mlprims.kmeans_plusplus(_X, n(3), key=mlprims.random.key(0))[1],
    "sinusoidal length, dim": lambda n: mlprims.sinusoidal_position_encoding(n(4), n(6)),
    "apply_rope offset": lambda n: mlprims.apply_rope(_Q, offset=n(3)),
    "init_kv_cache sizes": lambda n: mlprims.init_kv_cache(n(2), n(2), n(4), n(8))["k"],
    "top_k_filter k": lambda n: mlprims.top_k_filter(_X, n(1)),
    "t5 buckets": lambda n: mlprims.t5_relative_position_bucket(
        np.arange(4)[:, None] - np.arange(4), num_buckets=n(8), max_distance=n(16)
    ),
    "multi_head_attention num_heads": lambda n: (
        mlprims.multi_head_attention(
            mlprims.init_multi_head_attention(mlprims.random.key(0), n(8), n(2)),
            np.ones((1, 3, 8)),
            num_heads=n(2),
        ).output
    ),
    "conv2d stride, padding": lambda n: mlprims.conv2d(
        np.ones((1, 1, 5, 5)), np.ones((1, 1, 3, 3)), stride=n(2), padding=n(1)
    ),
    "sdpa block_size": lambda n: mlprims.scaled_dot_product_attention(_Q, _Q, _Q, block_size=n(2)),
    "nms_padded max_output": lambda n: mlprims.nms_padded(
        np.array([[0.0, 0.0, 1.0, 1.0]]), np.array([1.0]), 0.5, max_output=n(3)
    )[0],
    "random.split": lambda n: mlprims.random.split(mlprims.random.key(0), n(3)),
    "backend top_k": lambda n: mlprims.backends.get("numpy").top_k(_X[:, 0], n(4))[1],
    "LMConfig": lambda n: np.asarray(
        mlprims.LMConfig(vocab=n(10), d_model=n(16), n_layers=n(1), n_heads=n(2)).d_ff
    ),
}


@pytest.mark.parametrize("call", list(_INT_CALLS))
def test_numpy_integer_scalars_are_ints(call: str) -> None:
    expected = _INT_CALLS[call](int)
    for kind in (np.int64, np.int32, np.uint8):
        np.testing.assert_array_equal(_INT_CALLS[call](kind), expected)


def test_floats_and_bools_are_not_ints() -> None:
    with pytest.raises(TypeError, match="`n_clusters` must be an int, got float"):
        mlprims.kmeans(_X, 3.0, key=mlprims.random.key(0))
    with pytest.raises(TypeError, match="`k` must be an int, got bool"):
        mlprims.backends.get("numpy").top_k(_X[:, 0], True)
