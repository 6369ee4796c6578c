"""Float64 NumPy oracles for :mod:`mlprims.convolution`, written independently of the
primitives: direct loops over output positions and kernel taps with explicit zero padding
(torch's conventions: NCHW input, (C_out, C_in / groups, kH, kW) weights). Shared by
``tests/`` and ``mlprims check``.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "adaptive_avg_pool2d_reference",
    "adaptive_max_pool2d_reference",
    "avg_pool2d_reference",
    "conv2d_reference",
    "conv_transpose2d_reference",
    "max_pool2d_reference",
]


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


def _pool_output(size, k, s, p, d, ceil_mode):
    """torch's pooling_shape: floor or ceil division, dropping a last window that starts in
    the right padding."""
    span = d * (k - 1) + 1
    numerator = size + 2 * p - span
    out = (-(-numerator // s) if ceil_mode else numerator // s) + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def max_pool2d_reference(x, kernel_size, *, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Max pooling in float64 by direct loops over (N, C, H, W), returning (values, indices):
    the flat index ``h * W + w`` of the first maximum in row-major order, or of the last NaN
    (any NaN makes the output NaN); windows only read in-input positions."""
    x = np.asarray(x, dtype=np.float64)
    kh, kw = _pairs(kernel_size)
    sh, sw = _pairs(kernel_size if stride is None else stride)
    ph, pw = _pairs(padding)
    dh, dw = _pairs(dilation)
    n, c, h, w = x.shape
    oh = _pool_output(h, kh, sh, ph, dh, ceil_mode)
    ow = _pool_output(w, kw, sw, pw, dw, ceil_mode)
    values = np.full((n, c, oh, ow), -np.inf)
    indices = np.zeros((n, c, oh, ow), dtype=np.int64)
    for b in range(n):
        for ch in range(c):
            for i in range(oh):
                for j in range(ow):
                    best, where = -np.inf, None
                    for a in range(kh):
                        r = i * sh - ph + a * dh
                        for e in range(kw):
                            q = j * sw - pw + e * dw
                            if not (0 <= r < h and 0 <= q < w):
                                continue
                            if where is None:
                                where = r * w + q
                            v = x[b, ch, r, q]
                            if v > best or np.isnan(v):
                                best, where = v, r * w + q
                    values[b, ch, i, j], indices[b, ch, i, j] = best, where
    return values, indices


def avg_pool2d_reference(
    x,
    kernel_size,
    *,
    stride=None,
    padding=0,
    ceil_mode=False,
    count_include_pad=True,
    divisor_override=None,
):
    """Average pooling in float64 by direct loops: the sum of the in-input elements of each
    window divided by `divisor_override`, or by the window size clipped to the padded input
    (`count_include_pad`), or by the number of in-input elements."""
    x = np.asarray(x, dtype=np.float64)
    kh, kw = _pairs(kernel_size)
    sh, sw = _pairs(kernel_size if stride is None else stride)
    ph, pw = _pairs(padding)
    n, c, h, w = x.shape
    oh = _pool_output(h, kh, sh, ph, 1, ceil_mode)
    ow = _pool_output(w, kw, sw, pw, 1, ceil_mode)
    out = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            r0, q0 = i * sh - ph, j * sw - pw
            r1, q1 = min(r0 + kh, h + ph), min(q0 + kw, w + pw)
            padded_count = (r1 - r0) * (q1 - q0)
            r0, q0, r1, q1 = max(r0, 0), max(q0, 0), min(r1, h), min(q1, w)
            total = x[:, :, r0:r1, q0:q1].sum(axis=(2, 3))
            if divisor_override is not None:
                divisor = divisor_override
            elif count_include_pad:
                divisor = padded_count
            else:
                divisor = (r1 - r0) * (q1 - q0)
            out[:, :, i, j] = total / divisor
    return out


def _adaptive_windows(size, out):
    return [(i * size // out, -(-(i + 1) * size // out)) for i in range(out)]


def adaptive_avg_pool2d_reference(x, output_size):
    """Adaptive average pooling in float64: window i covers
    ``[floor(i H / oH), ceil((i + 1) H / oH))``; output_size an int or a pair."""
    x = np.asarray(x, dtype=np.float64)
    oh, ow = _pairs(output_size)
    n, c, h, w = x.shape
    out = np.zeros((n, c, oh, ow))
    for i, (r0, r1) in enumerate(_adaptive_windows(h, oh)):
        for j, (q0, q1) in enumerate(_adaptive_windows(w, ow)):
            out[:, :, i, j] = x[:, :, r0:r1, q0:q1].mean(axis=(2, 3))
    return out


def adaptive_max_pool2d_reference(x, output_size):
    """Adaptive max pooling in float64, returning (values, indices) with the rule of
    :func:`max_pool2d_reference` (first maximum, last NaN)."""
    x = np.asarray(x, dtype=np.float64)
    oh, ow = _pairs(output_size)
    n, c, h, w = x.shape
    values = np.zeros((n, c, oh, ow))
    indices = np.zeros((n, c, oh, ow), dtype=np.int64)
    for b in range(n):
        for ch in range(c):
            for i, (r0, r1) in enumerate(_adaptive_windows(h, oh)):
                for j, (q0, q1) in enumerate(_adaptive_windows(w, ow)):
                    best, where = -np.inf, r0 * w + q0
                    for r in range(r0, r1):
                        for q in range(q0, q1):
                            v = x[b, ch, r, q]
                            if v > best or np.isnan(v):
                                best, where = v, r * w + q
                    values[b, ch, i, j], indices[b, ch, i, j] = best, where
    return values, indices
