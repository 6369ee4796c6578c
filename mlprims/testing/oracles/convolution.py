"""Float64 NumPy oracles for :mod:`mlprims.convolution`, written independently of the
primitives: direct loops over output positions and kernel taps with explicit zero padding
(torch's conventions: NCHW input, (C_out, C_in / groups, kH, kW) weights). Shared by
``tests/`` and ``mlprims check``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["conv2d_reference", "conv_transpose2d_reference"]


def _pairs(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def conv2d_reference(x, weight, bias=None, *, stride=1, padding=0, dilation=1, groups=1):
    """Direct convolution (cross-correlation) in float64: NCHW input, OIHW weight; `padding`
    an int, a pair, or ((top, bottom), (left, right))."""
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(weight, dtype=np.float64)
    sh, sw = _pairs(stride)
    dh, dw = _pairs(dilation)
    if isinstance(padding, (tuple, list)) and isinstance(padding[0], (tuple, list)):
        (pt, pb), (pl, pr) = padding
    else:
        ph, pw = _pairs(padding)
        pt, pb, pl, pr = ph, ph, pw, pw
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    xp = np.zeros((n, c, h + pt + pb, wd + pl + pr))
    xp[:, :, pt : pt + h, pl : pl + wd] = x
    oh = (h + pt + pb - dh * (kh - 1) - 1) // sh + 1
    ow = (wd + pl + pr - dw * (kw - 1) - 1) // sw + 1
    og = o // groups
    out = np.zeros((n, o, oh, ow))
    for oc in range(o):
        g = oc // og
        for i in range(oh):
            for j in range(ow):
                total = np.zeros(n)
                for ci in range(cg):
                    for a in range(kh):
                        for b in range(kw):
                            total += (
                                xp[:, g * cg + ci, i * sh + a * dh, j * sw + b * dw]
                                * w[oc, ci, a, b]
                            )
                out[:, oc, i, j] = total
    if bias is not None:
        out += np.asarray(bias, dtype=np.float64)[None, :, None, None]
    return out


def conv_transpose2d_reference(
    x, weight, bias=None, *, stride=1, padding=0, output_padding=0, groups=1, dilation=1
):
    """Transposed convolution in float64 by scattering: every input pixel adds its value times
    the kernel into the output at ``i * stride + a * dilation - padding`` (torch's
    conv_transpose2d; weight (C_in, C_out / groups, kH, kW))."""
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(weight, dtype=np.float64)
    sh, sw = _pairs(stride)
    ph, pw = _pairs(padding)
    oph, opw = _pairs(output_padding)
    dh, dw = _pairs(dilation)
    n, c, h, wd = x.shape
    _, og, kh, kw = w.shape
    cg = c // groups
    oh = (h - 1) * sh - 2 * ph + dh * (kh - 1) + oph + 1
    ow = (wd - 1) * sw - 2 * pw + dw * (kw - 1) + opw + 1
    full = np.zeros((n, og * groups, oh + 2 * ph + sh + dh * kh, ow + 2 * pw + sw + dw * kw))
    for ci in range(c):
        g = ci // cg
        for i in range(h):
            for j in range(wd):
                for a in range(kh):
                    for b in range(kw):
                        full[:, g * og : (g + 1) * og, i * sh + a * dh, j * sw + b * dw] += (
                            x[:, ci, i, j][:, None] * w[ci, :, a, b][None, :]
                        )
    out = full[:, :, ph : ph + oh, pw : pw + ow]
    if bias is not None:
        out = out + np.asarray(bias, dtype=np.float64)[None, :, None, None]
    return out
