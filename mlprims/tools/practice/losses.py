"""Properties of cross_entropy: mean and other reductions, large logits, ignore_index."""

from __future__ import annotations

from typing import Any

import numpy as np

import mlprims

from ._spec import Call, Property, Spec, composite, dtypes, floats, st

__all__ = ["SPECS"]


@composite
def _logits(
    draw: Any, *, reduction: bool = False, shift: bool = False, ignore: bool = False
) -> Call:
    dtype = "float32" if shift else draw(dtypes())
    n, c = draw(st.integers(1, 4)), draw(st.integers(2, 5))
    logits = draw(floats((n, c), dtype))
    if shift:
        logits = (logits + draw(st.sampled_from([1000.0, -1000.0]))).astype(dtype)
    target = np.array(draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
    kwargs: dict[str, Any] = {}
    if reduction:
        kwargs["reduction"] = draw(st.sampled_from(["none", "sum"]))
    if ignore:
        # at least one row counts: with every row ignored the mean is 0 / 0 (NaN in torch)
        ignored = draw(st.lists(st.booleans(), min_size=n, max_size=n).filter(lambda b: not all(b)))
        target = np.where(ignored, -100, target)
    return Call((logits, target.astype(np.int64)), kwargs, dtype)


CROSS_ENTROPY = Spec(
    name="cross_entropy",
    function=mlprims.cross_entropy,
    parameters=("logits", "target", "ignore_index", "reduction"),
    returns="array: a scalar (0-d) for 'mean'/'sum', else (N,); dtype of `logits`.",
    parameter_docs={
        "logits": "logits : array (N, C), real floating\n    Unnormalised class scores, the "
        "classes on the last axis.",
    },
    notes="loss_n = -log_softmax(logits)[n, target_n]\n"
    "       = logsumexp(logits[n]) - logits[n, target_n]\n"
    "'mean' divides the sum by the number of rows whose target is not `ignore_index`; an\n"
    "ignored row's loss is 0. Here logits are (N, C) and targets (N,) class indices.",
    properties=(
        Property(
            "mean over (N, C) logits",
            _logits(),
            "loss = mean over rows of logsumexp(logits) - logits[target]",
        ),
        Property(
            "reduction 'none' and 'sum'",
            _logits(reduction=True),
            "'none' returns one loss per row, 'sum' their sum",
        ),
        Property(
            "large logits (|x| ~ 1000, float32)",
            _logits(shift=True),
            "log(softmax) overflows: use log_softmax = x - max - log(sum(exp(x - max)))",
        ),
        Property(
            "ignore_index rows",
            _logits(ignore=True),
            "rows with target == ignore_index count neither in the sum nor in the mean's count",
        ),
    ),
)

SPECS = [CROSS_ENTROPY]
