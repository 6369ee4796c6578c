"""conv_transpose2d (mlprims/convolution/transpose.py).

References: the float64 scatter oracle of mlprims.testing.oracles.convolution on every backend,
torch.nn.functional.conv_transpose2d over hypothesis-drawn hyper-parameters, and the adjoint
identity <conv2d(x), y> = <x, conv_transpose2d(y)>."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from mlprims import conv2d, conv_transpose2d
from mlprims.testing import assert_close
from mlprims.testing.oracles.convolution import conv_transpose2d_reference

torch = pytest.importorskip("torch")
F = pytest.importorskip("torch.nn.functional")


@st.composite
def transpose_problems(draw):
    groups = draw(st.sampled_from([1, 2]))
    cin, og = groups * draw(st.integers(1, 2)), draw(st.integers(1, 2))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = tuple(
        draw(st.integers(0, d * (k - 1))) for k, d in zip(kernel, dilation, strict=True)
    )
    extra = tuple(
        draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation, strict=True)
    )
    size = (draw(st.integers(1, 5)), draw(st.integers(1, 5)))
    for n, s, p, d, k, e in zip(size, stride, padding, dilation, kernel, extra, strict=True):
        assume((n - 1) * s - 2 * p + d * (k - 1) + e + 1 >= 1)  # torch refuses empty outputs
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    arrays = (
        rng.normal(size=(2, cin, *size)),
        rng.normal(size=(cin, og, *kernel)),
        rng.normal(size=og * groups) if draw(st.booleans()) else None,
    )
    options = {
        "stride": stride,
        "padding": padding,
        "output_padding": extra,
        "dilation": dilation,
        "groups": groups,
    }
    return arrays, options


class TestConvTranspose2d:
    @pytest.mark.parametrize("dtype", ["float32", "float64"])
    def test_matches_the_oracle(self, xb, dtype):
        rng = np.random.default_rng(0)
        x, w, b = rng.normal(size=(2, 4, 5, 4)), rng.normal(size=(4, 3, 3, 2)), rng.normal(size=6)
        options = {
            "stride": 2,
            "padding": (1, 0),
            "output_padding": 1,
            "groups": 2,
            "dilation": (1, 2),
        }
        out = conv_transpose2d(
            xb.asarray(x, dtype), xb.asarray(w, dtype), xb.asarray(b, dtype), **options
        )
        assert_close(xb.to_numpy(out), conv_transpose2d_reference(x, w, b, **options), dtype)

    @given(transpose_problems())
    def test_matches_torch(self, problem):
        (x, w, b), options = problem
        t = [None if a is None else torch.from_numpy(a) for a in (x, w, b)]
        assert_close(
            conv_transpose2d(x, w, b, **options), F.conv_transpose2d(*t, **options).numpy()
        )

    @pytest.mark.parametrize(
        "options",
        [{}, {"stride": 2, "padding": 1, "dilation": (2, 1)}, {"stride": (3, 2), "groups": 2}],
    )
    def test_adjoint_of_conv2d(self, xb, options):
        rng = np.random.default_rng(1)
        x, w = (
            rng.normal(size=(2, 4, 9, 8)),
            rng.normal(size=(6, 4 // options.get("groups", 1), 3, 2)),
        )
        forward = xb.to_numpy(conv2d(xb.asarray(x), xb.asarray(w), **options))
        y = rng.normal(size=forward.shape)
        # output_padding recovers the rows a strided conv2d never reaches
        extra = tuple(
            (n + 2 * p - d * (k - 1) - 1) % s
            for n, p, d, k, s in zip(
                x.shape[2:],
                _pair(options.get("padding", 0)),
                _pair(options.get("dilation", 1)),
                w.shape[2:],
                _pair(options.get("stride", 1)),
                strict=True,
            )
        )
        back = xb.to_numpy(
            conv_transpose2d(xb.asarray(y), xb.asarray(w), output_padding=extra, **options)
        )
        assert back.shape == x.shape
        assert_close(np.vdot(forward, y), np.vdot(x, back), scale=100)

    def test_is_the_input_gradient_of_conv2d(self):
        rng = np.random.default_rng(2)
        x = torch.tensor(rng.normal(size=(1, 2, 7, 7)), requires_grad=True)
        w = torch.from_numpy(rng.normal(size=(3, 2, 3, 3)))
        y = torch.from_numpy(rng.normal(size=(1, 3, 3, 3)))
        (conv2d(x, w, stride=2) * y).sum().backward()
        assert_close(x.grad.numpy(), conv_transpose2d(y.numpy(), w.numpy(), stride=2))

    @pytest.mark.parametrize(
        ("w_shape", "options", "match"),
        [
            ((3, 2, 3, 3), {}, "weight"),
            ((4, 2, 3, 3), {"groups": 3}, "groups"),
            ((4, 2, 3, 3), {"stride": 0}, "stride"),
            ((4, 2, 3, 3), {"padding": -1}, "padding"),
            ((4, 2, 3, 3), {"stride": 2, "output_padding": 2}, "output_padding"),
            ((4, 2, 3), {}, "weight"),
        ],
    )
    def test_bad_input(self, xb, w_shape, options, match):
        with pytest.raises(ValueError, match=f"`{match}`"):
            conv_transpose2d(
                xb.asarray(np.ones((1, 4, 5, 5))), xb.asarray(np.ones(w_shape)), **options
            )

    def test_empty_output_and_wrong_ndim(self, xb):
        w = xb.asarray(np.ones((4, 2, 1, 2)))
        with pytest.raises(ValueError, match="`padding`"):  # output width 1 - 2 + 1 = 0
            conv_transpose2d(xb.asarray(np.ones((1, 4, 1, 1))), w, padding=1)
        with pytest.raises(ValueError, match="`x`"):
            conv_transpose2d(xb.asarray(np.ones((4, 1, 1))), w)


def _pair(v):
    return tuple(v) if isinstance(v, tuple) else (v, v)
