"""Properties of layer_norm and batch_norm: biased variance, momentum, large means."""

from __future__ import annotations

from typing import Any

import numpy as np

import mlprims

from ._spec import Call, Property, Spec, composite, dtypes, floats, st

__all__ = ["SPECS"]

#: Tolerance scale of the float32 outputs: x - mean carries the rounding of the mean, which
#: 1 / sqrt(var + eps) amplifies up to 1 / sqrt(eps) ~ 300 times on a (near-)constant group.
ROUNDING = 30.0
BIASED = (
    "the variance is the biased one (divide by D, not D - 1; NumPy's ddof=0), and eps goes "
    "inside the square root: (x - mean) / sqrt(var + eps)"
)


@composite
def _layer_rows(draw: Any, *, dtype: str | None = None, affine: bool = False) -> Call:
    dtype = dtype or draw(dtypes())
    d = draw(st.integers(2, 6))
    x = draw(floats((draw(st.integers(1, 3)), d), dtype))
    if not affine:
        return Call((x, d), {}, dtype)
    weight, bias = draw(floats((d,), dtype)), draw(floats((d,), dtype))
    return Call((x, d, weight, bias), {}, dtype)


@composite
def _layer_trailing(draw: Any) -> Call:
    dtype = draw(dtypes())
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(2, 3)))
    return Call((draw(floats(shape, dtype)), shape[1:]), {}, dtype)


@composite
def _layer_large_mean(draw: Any) -> Call:
    d = draw(st.integers(4, 16))
    mean = draw(st.sampled_from([1e4, -1e4, 3e4]))
    z = draw(floats((draw(st.integers(1, 3)), d), bound=3.0))
    # Each row holds -1 and 1, so its std stays >= sqrt(2 / 16) however hypothesis shrinks the
    # rest: a row shrunk to std 0.01 was within float32's reach of no two-pass algorithm.
    z[:, :2] = (-1.0, 1.0)
    return Call(((mean + z).astype("float32"), d), {}, "float32")


@composite
def _layer_constant(draw: Any) -> Call:
    dtype = draw(dtypes())
    d = draw(st.integers(1, 6))
    x = np.full((draw(st.integers(1, 3)), d), draw(st.sampled_from([0.0, 1.0, -3.5])), dtype)
    return Call((x, d), {"eps": draw(st.sampled_from([1e-5, 1e-3]))}, dtype)


LAYER_NORM = Spec(
    name="layer_norm",
    function=mlprims.layer_norm,
    parameters=("x", "normalized_shape", "weight", "bias", "eps"),
    properties=(
        Property("rows of 2 to 6 values", _layer_rows(), BIASED, scale=ROUNDING),
        Property(
            "weight and bias",
            _layer_rows(affine=True),
            f"y = x_hat * weight + bias; {BIASED}",
            scale=ROUNDING,
        ),
        Property(
            "several trailing axes (normalized_shape a tuple)",
            _layer_trailing(),
            "normalise over all the trailing axes of normalized_shape together",
            scale=ROUNDING,
        ),
        Property(
            "large mean (1e4, std ~1, float32)",
            _layer_large_mean(),
            "E[x^2] - E[x]^2 cancels catastrophically when |mean| >> std: subtract the mean "
            "first (two passes), or shift by the first value",
            scale=100.0,
        ),
        Property(
            "constant rows (variance 0)",
            _layer_constant(),
            "eps goes inside the square root: (x - mean) / sqrt(var + eps), never 0 / 0",
            scale=ROUNDING,
        ),
    ),
)

BATCH_OUTPUTS = ("output", "running_mean", "running_var")


def _batch_outputs(result: Any) -> dict[str, Any]:
    return dict(zip(BATCH_OUTPUTS, tuple(result)[:3], strict=False))


@composite
def _batch(
    draw: Any,
    *,
    training: bool = True,
    spatial: bool = False,
    momentum: bool = False,
) -> Call:
    dtype = draw(dtypes())
    c = draw(st.integers(1, 3))
    shape = (draw(st.integers(2, 4)), c, *((2, 3) if spatial else ()))
    x = draw(floats(shape, dtype))
    mean = draw(floats((c,), dtype))
    var = draw(floats((c,), dtype, bound=4.0).map(lambda v: np.abs(v) + 0.5))
    weight, bias = draw(floats((c,), dtype)), draw(floats((c,), dtype))
    kwargs: dict[str, Any] = {"training": training}
    if momentum:
        kwargs["momentum"] = draw(st.sampled_from([0.1, 0.01, 0.3]))
    return Call((x, mean, var.astype(dtype), weight, bias), kwargs, dtype)


BATCH_NORM = Spec(
    name="batch_norm",
    function=mlprims.batch_norm,
    parameters=(
        "x",
        "running_mean",
        "running_var",
        "weight",
        "bias",
        "training",
        "momentum",
        "eps",
    ),
    outputs=_batch_outputs,
    parameter_docs={
        "x": "x : array, shape (N, C), (N, C, L), (N, C, H, W), ...\n"
        "    Real floating input, the channels on axis 1.",
    },
    notes="Training, per channel over the n values of all the other axes::\n\n"
    "    y = (x - mean) / sqrt(var_biased + eps) * weight + bias\n"
    "    running_mean <- (1 - momentum) * running_mean + momentum * mean\n"
    "    running_var  <- (1 - momentum) * running_var  + momentum * var_biased * n / (n - 1)\n\n"
    "The output uses the *biased* batch variance, the running variance stores the *unbiased*\n"
    "one (torch's convention). Evaluation normalises with the running statistics,\n"
    "``(x - running_mean) / sqrt(running_var + eps) * weight + bias``, and returns them as\n"
    "they are.",
    properties=(
        Property(
            "training output, (N, C)",
            _batch(),
            "training normalises with the batch mean and the biased batch variance per channel "
            "(axis 1), over every other axis",
            scale=ROUNDING,
            compare=("output",),
        ),
        Property(
            "training output, (N, C, H, W)",
            _batch(spatial=True),
            "the statistics of a channel are over N, H and W together",
            scale=ROUNDING,
            compare=("output",),
        ),
        Property(
            "running statistics after a training step",
            _batch(momentum=True),
            "torch's momentum weighs the NEW batch: running <- (1 - momentum) * running + "
            "momentum * batch; the running variance stores the UNBIASED batch variance",
            scale=ROUNDING,
            compare=("running_mean", "running_var"),
        ),
        Property(
            "evaluation uses the running statistics",
            _batch(training=False, spatial=True),
            "with training=False normalise with running_mean and running_var (returned unchanged)",
            scale=ROUNDING,
        ),
    ),
)

SPECS = [LAYER_NORM, BATCH_NORM]
