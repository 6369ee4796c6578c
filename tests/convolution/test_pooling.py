"""max_pool2d, avg_pool2d, adaptive_max_pool2d, adaptive_avg_pool2d
(mlprims/convolution/pooling.py, adaptive_pooling.py).

References: the float64 loop oracles of mlprims.testing.oracles.convolution and
torch.nn.functional's pools."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlprims import adaptive_avg_pool2d, adaptive_max_pool2d, avg_pool2d, max_pool2d
from mlprims.testing import assert_close
from mlprims.testing.oracles.convolution import (
    adaptive_avg_pool2d_reference,
    adaptive_max_pool2d_reference,
    avg_pool2d_reference,
    max_pool2d_reference,
)

torch = pytest.importorskip("torch")
F = pytest.importorskip("torch.nn.functional")

DTYPES = ("float32", "float64")


def _x(shape: tuple[int, ...], dtype: str = "float64", seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=shape).astype(dtype)


@st.composite
def _window(draw: Any, *, dilated: bool) -> dict[str, Any]:
    """Hyper-parameters torch accepts: padding <= kernel // 2, a window inside the padded
    input, and (with ceil_mode) at least one output."""
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = draw(st.one_of(st.none(), st.tuples(st.integers(1, 3), st.integers(1, 3))))
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) if dilated else (1, 1)
    size = tuple(
        draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), 9))
        for k, p, d in zip(kernel, padding, dilation, strict=True)
    )
    params = {"kernel": kernel, "stride": stride, "padding": padding, "size": size}
    params["ceil_mode"] = draw(st.booleans())
    if dilated:
        params["dilation"] = dilation
    return params


# --- max_pool2d ------------------------------------------------------------------------


class TestMaxPool2d:
    CASES: ClassVar[list[dict[str, Any]]] = [
        {"kernel_size": 2},
        {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
        {"kernel_size": (3, 2), "stride": (2, 3), "padding": (1, 1), "dilation": (2, 1)},
        {"kernel_size": 3, "stride": 2, "padding": 1, "dilation": 2, "ceil_mode": True},
    ]

    @pytest.mark.parametrize("case", range(len(CASES)))
    @pytest.mark.parametrize("dtype", DTYPES)
    def test_agreement(self, xb, dtype: str, case: int) -> None:
        kw = dict(self.CASES[case])
        k = kw.pop("kernel_size")
        x = _x((2, 3, 9, 8), dtype)
        got, index = xb.to_numpy(max_pool2d(xb.asarray(x), k, return_indices=True, **kw))
        want, want_index = max_pool2d_reference(x, k, **kw)
        assert got.dtype == np.dtype(dtype)
        assert_close(got, want, dtype)
        np.testing.assert_array_equal(index, want_index)
        plain = xb.to_numpy(max_pool2d(xb.asarray(x), k, **kw))
        assert_close(plain, want, dtype)

    def test_unbatched(self, xb) -> None:
        x = _x((3, 7, 6))
        got, index = xb.to_numpy(max_pool2d(xb.asarray(x), 3, stride=2, return_indices=True))
        want, want_index = max_pool2d_reference(x[None], 3, stride=2)
        assert_close(got, want[0], "float64")
        np.testing.assert_array_equal(index, want_index[0])

    def test_nan_and_ties(self, xb) -> None:
        x = np.zeros((1, 1, 4, 4))
        x[0, 0, 0, 1] = x[0, 0, 1, 0] = np.nan  # two NaNs in the first window: the last wins
        x[0, 0, 2:, 2:] = 7.0  # a tie: the first maximum wins
        got, index = xb.to_numpy(max_pool2d(xb.asarray(x), 2, return_indices=True))
        want, want_index = F.max_pool2d(torch.from_numpy(x), 2, return_indices=True)
        np.testing.assert_array_equal(got, want.numpy())  # NaN equal to NaN
        np.testing.assert_array_equal(index, want_index.numpy())
        assert np.isnan(got[0, 0, 0, 0]) and index[0, 0, 0, 0] == 4

    @given(params=_window(dilated=True), seed=st.integers(0, 2**16))
    def test_torch_reference(self, params: dict[str, Any], seed: int) -> None:
        x = _x((2, 2, *params.pop("size")), seed=seed)
        k = params.pop("kernel")
        got, index = max_pool2d(x, k, return_indices=True, **params)
        want, want_index = F.max_pool2d(torch.from_numpy(x), k, return_indices=True, **params)
        assert_close(got, want.numpy(), "float64")
        np.testing.assert_array_equal(index, want_index.numpy())

    def test_torch_gradient(self) -> None:
        x = np.round(_x((2, 3, 8, 7)), 1)  # rounding makes ties
        kw = {"stride": 2, "padding": 1, "ceil_mode": True}
        ours, theirs = (torch.tensor(x, requires_grad=True) for _ in range(2))
        g = torch.from_numpy(_x((2, 3, 5, 4), seed=1))
        (max_pool2d(ours, 3, **kw) * g).sum().backward()
        (F.max_pool2d(theirs, 3, **kw) * g).sum().backward()
        assert_close(ours.grad.numpy(), theirs.grad.numpy(), "float64")

    @pytest.mark.parametrize("kind", ["max", "avg"])
    def test_jax_gradient(self, kind: str) -> None:
        # jax.grad through ours equals jax.grad through lax.reduce_window (distinct values:
        # no ties, whose gradient lax may route differently)
        jax = pytest.importorskip("jax")
        x = jax.numpy.asarray(np.random.default_rng(3).permutation(2 * 3 * 8 * 7) / 10.0)
        x = x.reshape(2, 3, 8, 7)
        g = jax.numpy.asarray(_x((2, 3, 4, 4), seed=1))
        window, strides, pads = (1, 1, 3, 3), (1, 1, 2, 2), ((0, 0), (0, 0), (1, 1), (1, 1))
        if kind == "max":
            ours = lambda v: max_pool2d(v, 3, stride=2, padding=1)  # noqa: E731
            theirs = lambda v: jax.lax.reduce_window(  # noqa: E731
                v, -np.inf, jax.lax.max, window, strides, pads
            )
        else:
            ours = lambda v: avg_pool2d(v, 3, stride=2, padding=1)  # noqa: E731
            theirs = lambda v: (  # noqa: E731
                jax.lax.reduce_window(v, 0.0, jax.lax.add, window, strides, pads) / 9.0
            )
        got = jax.grad(lambda v: (ours(v) * g).sum())(x)
        want = jax.grad(lambda v: (theirs(v) * g).sum())(x)
        assert_close(np.asarray(got), np.asarray(want), "float64")

    @pytest.mark.parametrize("pool", [max_pool2d, avg_pool2d], ids=["max", "avg"])
    def test_ceil_mode_drops_window_starting_in_padding(self, xb, pool: Any) -> None:
        # H = 5, k = 3, s = 3, p = 1: ceil((5 + 2 - 3) / 3) + 1 = 3 windows, the third would
        # start at 6 - 1 = 5, inside the right padding, so torch keeps 2
        x = _x((1, 2, 5, 5))
        got = xb.to_numpy(pool(xb.asarray(x), 3, stride=3, padding=1, ceil_mode=True))
        want = getattr(F, pool.__name__)(torch.from_numpy(x), 3, 3, 1, ceil_mode=True)
        assert got.shape == (1, 2, 2, 2)
        assert_close(got, want.numpy(), "float64")

    def test_shift_equivariance(self) -> None:
        # stride 2: shifting the input by 2 pixels shifts the output by 1
        x = _x((1, 2, 10, 10))
        shifted = max_pool2d(x[:, :, 2:, 2:], 2)
        assert_close(shifted, max_pool2d(x, 2)[:, :, 1:, 1:], "float64")

    def test_does_not_mutate(self) -> None:
        x = _x((2, 2, 5, 5))
        before = x.copy()
        max_pool2d(x, 3, padding=1, return_indices=True)
        np.testing.assert_array_equal(x, before)

    @pytest.mark.parametrize(
        ("args", "kwargs", "name"),
        [
            ((0,), {}, "kernel_size"),
            ((2,), {"stride": 0}, "stride"),
            ((3,), {"padding": 2}, "padding"),
            ((2,), {"padding": -1}, "padding"),
            ((2,), {"dilation": 0}, "dilation"),
            ((7,), {}, "kernel_size"),
        ],
    )
    def test_bad_input(self, args: tuple[Any, ...], kwargs: dict[str, Any], name: str) -> None:
        with pytest.raises(ValueError, match=f"`{name}`"):
            max_pool2d(_x((1, 1, 5, 5)), *args, **kwargs)

    def test_bad_ndim_and_dtype(self) -> None:
        with pytest.raises(ValueError, match="`x`"):
            max_pool2d(_x((5, 5)), 2)
        with pytest.raises(TypeError, match="`x`"):
            max_pool2d(np.zeros((1, 1, 4, 4), dtype=np.int64), 2)
        with pytest.raises(TypeError, match="`return_indices`"):
            max_pool2d(_x((1, 1, 4, 4)), 2, return_indices=1)


# --- avg_pool2d ------------------------------------------------------------------------


class TestAvgPool2d:
    CASES: ClassVar[list[dict[str, Any]]] = [
        {"kernel_size": 2},
        {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
        {"kernel_size": (3, 2), "stride": (2, 3), "padding": (1, 1), "count_include_pad": False},
        {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "divisor_override": 4},
        {"kernel_size": 3, "padding": 1, "ceil_mode": True, "count_include_pad": False},
    ]

    @pytest.mark.parametrize("case", range(len(CASES)))
    @pytest.mark.parametrize("dtype", DTYPES)
    def test_agreement(self, xb, dtype: str, case: int) -> None:
        kw = dict(self.CASES[case])
        k = kw.pop("kernel_size")
        x = _x((2, 3, 9, 8), dtype)
        got = xb.to_numpy(avg_pool2d(xb.asarray(x), k, **kw))
        assert got.dtype == np.dtype(dtype)
        assert_close(got, avg_pool2d_reference(x, k, **kw), dtype)

    def test_unbatched(self, xb) -> None:
        x = _x((3, 7, 6))
        got = xb.to_numpy(avg_pool2d(xb.asarray(x), 3, stride=2, padding=1))
        assert_close(got, avg_pool2d_reference(x[None], 3, stride=2, padding=1)[0], "float64")

    @given(
        params=_window(dilated=False),
        count_include_pad=st.booleans(),
        divisor_override=st.one_of(st.none(), st.integers(1, 5)),
        seed=st.integers(0, 2**16),
    )
    def test_torch_reference(
        self, params: dict[str, Any], count_include_pad: bool, divisor_override: Any, seed: int
    ) -> None:
        x = _x((2, 2, *params.pop("size")), seed=seed)
        k = params.pop("kernel")
        params.update(count_include_pad=count_include_pad, divisor_override=divisor_override)
        got = avg_pool2d(x, k, **params)
        want = F.avg_pool2d(torch.from_numpy(x), k, **params)
        assert_close(got, want.numpy(), "float64")

    def test_torch_gradient(self) -> None:
        x = _x((2, 3, 8, 7))
        kw = {"stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False}
        ours, theirs = (torch.tensor(x, requires_grad=True) for _ in range(2))
        g = torch.from_numpy(_x((2, 3, 5, 4), seed=1))
        (avg_pool2d(ours, 3, **kw) * g).sum().backward()
        (F.avg_pool2d(theirs, 3, **kw) * g).sum().backward()
        assert_close(ours.grad.numpy(), theirs.grad.numpy(), "float64")

    def test_linear_and_constant(self) -> None:
        x, y = _x((1, 2, 6, 6)), _x((1, 2, 6, 6), seed=1)
        assert_close(
            avg_pool2d(2 * x - y, 3, stride=1),
            2 * avg_pool2d(x, 3, stride=1) - avg_pool2d(y, 3, stride=1),
            "float64",
        )
        ones = np.ones((1, 1, 5, 5))
        assert_close(
            avg_pool2d(ones, 3, stride=1, padding=1, count_include_pad=False), ones, "float64"
        )

    @pytest.mark.parametrize(
        ("kwargs", "name", "error"),
        [
            ({"stride": 0}, "stride", ValueError),
            ({"padding": 2}, "padding", ValueError),
            ({"divisor_override": 0}, "divisor_override", ValueError),
            ({"count_include_pad": None}, "count_include_pad", TypeError),
            ({"ceil_mode": "yes"}, "ceil_mode", TypeError),
        ],
    )
    def test_bad_input(self, kwargs: dict[str, Any], name: str, error: type) -> None:
        with pytest.raises(error, match=f"`{name}`"):
            avg_pool2d(_x((1, 1, 5, 5)), 3, **kwargs)


# --- adaptive pools --------------------------------------------------------------------

SIZES = [1, (4, 3), (5, None), (9, 8), (7, 5)]


class TestAdaptiveMaxPool2d:
    @pytest.mark.parametrize("output_size", SIZES, ids=str)
    def test_agreement(self, xb, output_size: Any) -> None:
        x = _x((2, 3, 9, 8))
        x[0, 0, 1, 1] = x[0, 0, 2, 1] = np.nan
        x[1, 1, 3, :] = 5.0
        got, index = xb.to_numpy(
            adaptive_max_pool2d(xb.asarray(x), output_size, return_indices=True)
        )
        size = tuple(8 if s is None else s for s in np.broadcast_to(output_size, 2))
        want, want_index = adaptive_max_pool2d_reference(x, size)
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(index, want_index)
        assert_close(xb.to_numpy(adaptive_max_pool2d(xb.asarray(x), output_size)), want, "float64")

    @given(h=st.integers(1, 9), w=st.integers(1, 9), oh=st.integers(1, 9), ow=st.integers(1, 9))
    def test_torch_reference(self, h: int, w: int, oh: int, ow: int) -> None:
        x = np.round(_x((2, 3, h, w)), 1)
        got, index = adaptive_max_pool2d(x[0], (oh, ow), return_indices=True)
        want, want_index = F.adaptive_max_pool2d(torch.from_numpy(x[0]), (oh, ow), True)
        np.testing.assert_array_equal(got, want.numpy())
        np.testing.assert_array_equal(index, want_index.numpy())

    def test_torch_gradient(self) -> None:
        x = np.round(_x((2, 3, 8, 7)), 1)
        ours, theirs = (torch.tensor(x, requires_grad=True) for _ in range(2))
        g = torch.from_numpy(_x((2, 3, 3, 5), seed=1))
        (adaptive_max_pool2d(ours, (3, 5)) * g).sum().backward()
        (F.adaptive_max_pool2d(theirs, (3, 5)) * g).sum().backward()
        assert_close(ours.grad.numpy(), theirs.grad.numpy(), "float64")

    @pytest.mark.parametrize("output_size", [0, (2, 0), (1, 2, 3)], ids=str)
    def test_bad_output_size(self, output_size: Any) -> None:
        with pytest.raises(ValueError, match="`output_size`"):
            adaptive_max_pool2d(_x((1, 4, 4)), output_size)


class TestAdaptiveAvgPool2d:
    @pytest.mark.parametrize("output_size", SIZES, ids=str)
    @pytest.mark.parametrize("dtype", DTYPES)
    def test_agreement(self, xb, dtype: str, output_size: Any) -> None:
        x = _x((2, 3, 9, 8), dtype)
        got = xb.to_numpy(adaptive_avg_pool2d(xb.asarray(x), output_size))
        size = tuple(8 if s is None else s for s in np.broadcast_to(output_size, 2))
        assert got.dtype == np.dtype(dtype)
        assert_close(got, adaptive_avg_pool2d_reference(x, size), dtype)

    @given(h=st.integers(1, 9), w=st.integers(1, 9), oh=st.integers(1, 9), ow=st.integers(1, 9))
    def test_torch_reference(self, h: int, w: int, oh: int, ow: int) -> None:
        x = _x((3, h, w))
        want = F.adaptive_avg_pool2d(torch.from_numpy(x), (oh, ow))
        assert_close(adaptive_avg_pool2d(x, (oh, ow)), want.numpy(), "float64")

    def test_global_pool_is_mean(self, xb) -> None:
        x = _x((2, 3, 5, 7))
        got = xb.to_numpy(adaptive_avg_pool2d(xb.asarray(x), 1))
        assert_close(got, x.mean(axis=(2, 3), keepdims=True), "float64")

    @pytest.mark.parametrize(
        ("args", "name", "error"),
        [((_x((4, 4)), 2), "x", ValueError), ((_x((1, 4, 4)), -1), "output_size", ValueError)],
    )
    def test_bad_input(self, args: tuple[Any, ...], name: str, error: type) -> None:
        with pytest.raises(error, match=f"`{name}`"):
            adaptive_avg_pool2d(*args)
