"""conv2d and conv1d (mlprims/convolution/conv.py).

References: the float64 loop oracle of mlprims.testing.oracles.convolution on every backend,
torch.nn.functional.conv2d / conv1d over hypothesis-drawn hyper-parameters, and
jax.lax.conv_general_dilated for the channels-last layouts and "same" padding."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlprims import conv1d, conv2d
from mlprims.testing import assert_close
from mlprims.testing.oracles.convolution import conv2d_reference

torch = pytest.importorskip("torch")
F = pytest.importorskip("torch.nn.functional")

DTYPES = ("float32", "float64")
CONFIGS = [
    {},
    {"stride": 2, "padding": 1},
    {"stride": (2, 1), "padding": ((1, 0), (2, 1)), "dilation": (1, 2), "groups": 2},
    {"padding": "same", "dilation": 2},
]


@st.composite
def conv_problems(draw):
    """Input, weight, bias and torch-expressible options for one conv2d."""
    groups = draw(st.sampled_from([1, 2, 3]))
    cin, cout = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dh, dw = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    h = draw(st.integers(max(dh * (kh - 1) + 1 - 2 * ph, 1), 8))
    w = draw(st.integers(max(dw * (kw - 1) + 1 - 2 * pw, 1), 8))
    padding = draw(st.sampled_from([(ph, pw), ph if ph == pw else (ph, pw), "valid"]))
    if padding == "valid":
        h, w = max(h, dh * (kh - 1) + 1), max(w, dw * (kw - 1) + 1)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    arrays = (
        rng.normal(size=(2, cin, h, w)),
        rng.normal(size=(cout, cin // groups, kh, kw)),
        rng.normal(size=cout) if draw(st.booleans()) else None,
    )
    options = {"stride": (sh, sw), "padding": padding, "dilation": (dh, dw), "groups": groups}
    return arrays, options


def _torch(a):
    return None if a is None else torch.from_numpy(a)


class TestConv2d:
    @pytest.mark.parametrize("dtype", DTYPES)
    @pytest.mark.parametrize("options", CONFIGS)
    def test_matches_the_oracle(self, xb, dtype, options):
        rng = np.random.default_rng(0)
        x, w, b = rng.normal(size=(2, 4, 7, 6)), rng.normal(size=(6, 2, 3, 2)), rng.normal(size=6)
        options = {"groups": 2, **options}
        out = conv2d(xb.asarray(x, dtype), xb.asarray(w, dtype), xb.asarray(b, dtype), **options)
        if options.get("padding") == "same":  # stride 1: total padding d*(k-1), extra at the end
            options = {**options, "padding": ((2, 2), (1, 1))}
        assert_close(xb.to_numpy(out), conv2d_reference(x, w, b, **options), dtype)

    @given(conv_problems())
    def test_matches_torch(self, problem):
        (x, w, b), options = problem
        expected = F.conv2d(_torch(x), _torch(w), _torch(b), **options).numpy()
        assert_close(conv2d(x, w, b, **options), expected)

    @pytest.mark.parametrize("stride", [1, 2, 3])
    def test_nhwc_and_same_match_lax(self, stride):
        jax = pytest.importorskip("jax")
        rng = np.random.default_rng(1)
        x, w = rng.normal(size=(2, 7, 8, 4)), rng.normal(size=(3, 2, 2, 6))  # NHWC, HWIO
        for padding, lax_padding in (("same", "SAME"), (((1, 2), (0, 1)), ((1, 2), (0, 1)))):
            expected = jax.lax.conv_general_dilated(
                x,
                w,
                (stride, stride),
                lax_padding,
                rhs_dilation=(1, 2),
                feature_group_count=2,
                dimension_numbers=("NHWC", "HWIO", "NHWC"),
            )
            out = conv2d(
                x, w, stride=stride, padding=padding, dilation=(1, 2), groups=2, data_format="NHWC"
            )
            assert_close(out, np.asarray(expected))

    def test_linear_in_x_and_in_weight(self, xb):
        rng = np.random.default_rng(2)
        x1, x2 = rng.normal(size=(2, 2, 2, 6, 5))
        w1, w2 = rng.normal(size=(2, 3, 2, 3, 2))
        a = xb.asarray
        opts = {"stride": 2, "padding": 1}
        lhs = xb.to_numpy(conv2d(a(2.0 * x1 - 3.0 * x2), a(w1), **opts))
        rhs = 2.0 * xb.to_numpy(conv2d(a(x1), a(w1), **opts)) - 3.0 * xb.to_numpy(
            conv2d(a(x2), a(w1), **opts)
        )
        assert_close(lhs, rhs)
        lhs = xb.to_numpy(conv2d(a(x1), a(w1 + 0.5 * w2), **opts))
        rhs = xb.to_numpy(conv2d(a(x1), a(w1), **opts)) + 0.5 * xb.to_numpy(
            conv2d(a(x1), a(w2), **opts)
        )
        assert_close(lhs, rhs)

    def test_translation_equivariant_at_stride_1(self, xb):
        rng = np.random.default_rng(3)
        x, w = rng.normal(size=(1, 2, 9, 9)), rng.normal(size=(3, 2, 3, 3))
        shifted = np.roll(x, (2, 1), axis=(2, 3))
        out = xb.to_numpy(conv2d(xb.asarray(x), xb.asarray(w)))
        out_shifted = xb.to_numpy(conv2d(xb.asarray(shifted), xb.asarray(w)))
        assert_close(out_shifted[:, :, 2:, 1:], out[:, :, :-2, :-1])

    def test_torch_autograd_matches_f_conv2d(self):
        rng = np.random.default_rng(4)
        x, w, b = rng.normal(size=(2, 4, 6, 7)), rng.normal(size=(4, 2, 3, 2)), rng.normal(size=4)
        grads = []
        for fn in (conv2d, F.conv2d):
            ts = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
            out = fn(*ts, stride=2, padding=1, dilation=(2, 1), groups=2)
            (
                out * torch.from_numpy(np.cos(np.arange(out.numel())).reshape(out.shape))
            ).sum().backward()
            grads.append([t.grad.numpy() for t in ts])
        for ours, theirs in zip(*grads, strict=True):
            assert_close(ours, theirs)

    def test_jax_grad_matches_lax_conv(self):
        jax = pytest.importorskip("jax")
        rng = np.random.default_rng(5)
        x, w = rng.normal(size=(2, 6, 5, 4)), rng.normal(size=(3, 2, 2, 4))

        def ours(x, w):
            return (conv2d(x, w, stride=2, padding="same", groups=2, data_format="NHWC") ** 2).sum()

        def lax(x, w):
            out = jax.lax.conv_general_dilated(
                x,
                w,
                (2, 2),
                "SAME",
                feature_group_count=2,
                dimension_numbers=("NHWC", "HWIO", "NHWC"),
            )
            return (out**2).sum()

        for a, b in zip(jax.grad(ours, (0, 1))(x, w), jax.grad(lax, (0, 1))(x, w), strict=True):
            assert_close(np.asarray(a), np.asarray(b))

    @pytest.mark.parametrize(
        ("x_shape", "w_shape", "options", "match"),
        [
            ((1, 3, 5, 5), (4, 3, 3, 3), {"groups": 2}, "groups"),
            ((1, 4, 5, 5), (3, 2, 3, 3), {"groups": 2}, "groups"),
            ((1, 4, 5, 5), (4, 3, 3, 3), {}, "weight"),
            ((1, 4, 5, 5), (4, 4, 7, 3), {"padding": 0}, "weight"),
            ((1, 4, 5, 5), (4, 4, 3, 3), {"stride": 0}, "stride"),
            ((1, 4, 5, 5), (4, 4, 3, 3), {"padding": -1}, "padding"),
            ((1, 4, 5, 5), (4, 4, 3, 3), {"padding": "full"}, "padding"),
            ((4, 5, 5), (4, 4, 3, 3), {}, "x"),
            ((1, 4, 5, 5), (4, 4, 3), {}, "weight"),
            ((1, 4, 5, 5), (4, 4, 3, 3), {"data_format": "NCWH"}, "data_format"),
        ],
    )
    def test_bad_input(self, xb, x_shape, w_shape, options, match):
        x, w = xb.asarray(np.ones(x_shape)), xb.asarray(np.ones(w_shape))
        with pytest.raises(ValueError, match=f"`{match}`"):
            conv2d(x, w, **options)


class TestConv1d:
    @pytest.mark.parametrize("dtype", DTYPES)
    def test_matches_the_oracle(self, xb, dtype):
        rng = np.random.default_rng(6)
        x, w, b = rng.normal(size=(2, 4, 9)), rng.normal(size=(6, 2, 3)), rng.normal(size=6)
        out = conv1d(
            xb.asarray(x, dtype),
            xb.asarray(w, dtype),
            xb.asarray(b, dtype),
            stride=2,
            padding=1,
            dilation=2,
            groups=2,
        )
        expected = conv2d_reference(
            x[:, :, None],
            w[:, :, None],
            b,
            stride=(1, 2),
            padding=(0, 1),
            dilation=(1, 2),
            groups=2,
        )[:, :, 0]
        assert_close(xb.to_numpy(out), expected, dtype)

    def test_matches_torch_and_lax(self):
        jax = pytest.importorskip("jax")
        rng = np.random.default_rng(7)
        x, w = rng.normal(size=(2, 3, 10)), rng.normal(size=(4, 3, 3))
        expected = F.conv1d(_torch(x), _torch(w), stride=3, padding=2).numpy()
        assert_close(conv1d(x, w, stride=3, padding=2), expected)
        nlc, wio = np.moveaxis(x, 1, 2), np.transpose(w, (2, 1, 0))
        expected = jax.lax.conv_general_dilated(
            nlc, wio, (2,), "SAME", dimension_numbers=("NWC", "WIO", "NWC")
        )
        assert_close(
            conv1d(nlc, wio, stride=2, padding="same", data_format="NLC"), np.asarray(expected)
        )

    def test_padding_forms(self):
        jax = pytest.importorskip("jax")
        rng = np.random.default_rng(8)
        x, w = rng.normal(size=(2, 3, 7)), rng.normal(size=(4, 3, 3))
        padded = F.pad(_torch(x), (1, 2))  # 1 zero on the left, 2 on the right
        expected = F.conv1d(padded, _torch(w), stride=2).numpy()
        for padding in ((1, 2), [1, 2], ((1, 2),)):
            assert_close(conv1d(x, w, stride=2, padding=padding), expected)
        lax = jax.lax.conv_general_dilated(x, w, (2,), [(1, 2)])  # NCW, OIW by default
        assert_close(conv1d(x, w, stride=2, padding=(1, 2)), np.asarray(lax))
        expected = F.conv1d(_torch(x), _torch(w), padding=(2,)).numpy()  # torch's (p,)
        assert_close(conv1d(x, w, padding=(2,)), expected)

    def test_bad_input(self, xb):
        with pytest.raises(ValueError, match="`x`"):
            conv1d(xb.asarray(np.ones((2, 3, 4, 4))), xb.asarray(np.ones((1, 3, 3))))
        x, w = xb.asarray(np.ones((2, 3, 6))), xb.asarray(np.ones((1, 3, 3)))
        for padding in ((1, -1), (1, 2, 3), ((1, 2), (3, 4))):
            with pytest.raises(ValueError, match="`padding`"):
                conv1d(x, w, padding=padding)


@pytest.mark.parametrize("channels", [1, 6])
@pytest.mark.parametrize("groups", [1, 2])
def test_im2col_and_shift_and_matmul_agree(xb, monkeypatch, channels, groups) -> None:
    """Both algorithms (im2col on eager backends, shift-and-matmul under JAX) equal the float64
    loop, with stride, dilation, padding and groups."""
    conv_module = importlib.import_module("mlprims.convolution.conv")  # the module, not conv2d
    rng = np.random.default_rng(channels * 10 + groups)
    x = rng.normal(size=(2, channels * groups, 9, 8))
    w = rng.normal(size=(4, channels, 3, 2))
    b = rng.normal(size=(4,))
    options = {"stride": (2, 1), "padding": (1, 2), "dilation": (1, 2), "groups": groups}
    expected = conv2d_reference(x, w, b, **options)
    for im2col in (False, True):  # False: shift-and-matmul everywhere; True: im2col where eager
        monkeypatch.setattr(conv_module, "IM2COL_WHEN_EAGER", im2col)
        out = conv2d(xb.asarray(x), xb.asarray(w), xb.asarray(b), **options)
        assert_close(xb.to_numpy(out), expected, "float64")


def test_batch_chunks_agree_with_the_whole_batch(xb, monkeypatch) -> None:
    """Eager backends convolve the batch in chunks; one sample per chunk gives the same output
    as the whole batch at once and as the float64 loop, with either algorithm."""
    conv_module = importlib.import_module("mlprims.convolution.conv")
    rng = np.random.default_rng(7)
    x = rng.normal(size=(5, 4, 6, 5))
    w = rng.normal(size=(6, 2, 3, 3))
    b = rng.normal(size=(6,))
    options = {"stride": (1, 2), "padding": 1, "groups": 2}
    expected = conv2d_reference(x, w, b, **options)
    for im2col in (False, True):
        monkeypatch.setattr(conv_module, "IM2COL_WHEN_EAGER", im2col)
        for chunk_bytes in (1, 2**40):  # one sample per chunk; the whole batch
            monkeypatch.setattr(conv_module, "BATCH_CHUNK_BYTES", chunk_bytes)
            out = conv2d(xb.asarray(x), xb.asarray(w), xb.asarray(b), **options)
            assert_close(xb.to_numpy(out), expected, "float64")


@pytest.mark.filterwarnings("ignore:Dynamo detected a call to a `functools.lru_cache`")
@pytest.mark.filterwarnings("ignore:`torch.jit.script_method` is deprecated:DeprecationWarning")
def test_torch_compile_with_bias_and_a_second_shape() -> None:
    """torch.compile traces conv2d again for new shapes, then with dynamic sizes; Inductor
    failed ("Invalid ranges [0:-1]") when the bias was added to the grouped (M, G, Og, P)
    block, so it is added to the (M, C_out, oH, oW) output of each chunk."""
    compiled = torch.compile(conv2d)
    rng = np.random.default_rng(3)
    layers = (((4, 16, 14, 14), (16, 16, 3, 3), 1), ((8, 1, 28, 28), (10, 1, 5, 5), 0))
    for shape, weight_shape, padding in layers:
        x, w, b = (
            torch.asarray(rng.normal(size=size), dtype=torch.float32)
            for size in (shape, weight_shape, weight_shape[0])
        )
        expected = F.conv2d(x, w, b, padding=padding)
        fan_in = w[0].numel()  # float32 sums of up to 144 products, in another order
        assert_close(compiled(x, w, b, padding=padding), expected, "float32", scale=fan_in**0.5)
