"""Properties of conv2d: cross-correlation, stride and padding, dilation, groups, bias."""

from __future__ import annotations

from typing import Any

import mlprims

from ._spec import Call, Property, Spec, composite, dtypes, floats, st

__all__ = ["SPECS"]


@composite
def _conv(
    draw: Any,
    *,
    strided: bool = False,
    dilated: bool = False,
    grouped: bool = False,
    bias: bool = False,
) -> Call:
    dtype = draw(dtypes())
    groups = draw(st.integers(2, 3)) if grouped else 1
    c_in, c_out = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride = draw(st.tuples(st.integers(1, 3), st.integers(1, 3))) if strided else 1
    padding = draw(st.tuples(st.integers(0, 2), st.integers(0, 2))) if strided else 0
    dilation = draw(st.integers(2, 3)) if dilated else 1
    # the input is at least as large as the dilated kernel, so every output has a pixel
    h = draw(st.integers(dilation * (kh - 1) + 1, dilation * (kh - 1) + 4))
    w = draw(st.integers(dilation * (kw - 1) + 1, dilation * (kw - 1) + 4))
    x = draw(floats((draw(st.integers(1, 2)), c_in, h, w), dtype))
    weight = draw(floats((c_out, c_in // groups, kh, kw), dtype))
    args = (x, weight, draw(floats((c_out,), dtype))) if bias else (x, weight)
    kwargs = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    return Call(args, {k: v for k, v in kwargs.items() if v not in (0, 1)}, dtype)


CONV2D = Spec(
    name="conv2d",
    function=mlprims.conv2d,
    parameters=("x", "weight", "bias", "stride", "padding", "dilation", "groups"),
    parameter_docs={
        "x": "x : array, shape (N, C_in, H, W)\n    Floating input, channels first (NCHW).",
        "weight": "weight : array, shape (C_out, C_in / groups, kH, kW)\n    The kernels (OIHW).",
        "padding": "padding : int or pair of int\n    Zeros added on both sides of H (and of W).",
    },
    returns="array, shape (N, C_out, oH, oW), with\n"
    "``oH = floor((H + 2 * padding - dilation * (kH - 1) - 1) / stride) + 1``.",
    notes="y[n, o, i, j] = b[o] + sum_{c in group(o)} sum_{a, b} w[o, c, a, b] *\n"
    "x_padded[n, c, i * stride_h + a * dilation_h, j * stride_w + b * dilation_w]\n"
    "a cross-correlation (the kernel is not flipped), like torch.nn.functional.conv2d, NCHW\n"
    "and OIHW. Here stride, padding and dilation are an int or a pair (zero padding on both\n"
    "sides); H_out = (H + 2 * padding - dilation * (kH - 1) - 1) // stride + 1.",
    properties=(
        Property(
            "stride 1, no padding",
            _conv(),
            "cross-correlation: y[i, j] = sum w[a, b] x[i + a, j + b], the kernel not flipped",
        ),
        Property(
            "stride and padding (pairs)",
            _conv(strided=True),
            "pad with zeros on both sides first; stride skips output positions; a pair is "
            "(height, width)",
        ),
        Property("dilation", _conv(dilated=True), "kernel taps are `dilation` pixels apart"),
        Property(
            "groups",
            _conv(grouped=True),
            "group g's outputs see only its C_in / groups input channels",
        ),
        Property("bias", _conv(bias=True), "one bias per output channel, added everywhere"),
    ),
)

SPECS = [CONV2D]
