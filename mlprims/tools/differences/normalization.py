"""BatchNorm and LayerNorm conventions: momentum, running variance, eps, channel axis.

Keras and Flax are optional: their snippets run only where they are installed.
"""

from __future__ import annotations

import inspect
from typing import Any

from ._item import Item
from ._show import attempt, flax_linen, jax, jnp, keras, np, show, torch

__all__ = ["ITEMS"]

# One channel, a batch of two: mean 1, biased variance 1, unbiased variance 2.
BATCH = [[0.0], [2.0]]


def _stats(mean: Any, var: Any) -> str:
    first = lambda a: show(float(np().asarray(a).reshape(-1)[0]))  # noqa: E731
    return f"running mean {first(mean)}, running var {first(var)}"


def _default(function: Any, name: str) -> str:
    return show(inspect.signature(function).parameters[name].default)


def _torch_defaults() -> str:
    bn = torch().nn.BatchNorm1d(1)
    return f"momentum={show(bn.momentum)}, eps={show(bn.eps)}"


def _keras_defaults() -> str:
    bn = keras().layers.BatchNormalization()
    return f"momentum={show(bn.momentum)}, eps={show(bn.epsilon)}"


def _flax_defaults() -> str:
    bn = flax_linen().BatchNorm()
    return f"momentum={show(bn.momentum)}, eps={show(bn.epsilon)}"


def _mlprims_defaults() -> str:
    import mlprims

    batch_norm = mlprims.batch_norm
    momentum, eps = _default(batch_norm, "momentum"), _default(batch_norm, "eps")
    return f"momentum={momentum}, eps={eps}"


def _torch_update() -> str:
    bn = torch().nn.BatchNorm1d(1)  # momentum 0.1
    bn(torch().tensor(BATCH))
    return "momentum=0.1: " + _stats(bn.running_mean, bn.running_var)


def _keras_update() -> str:
    bn = keras().layers.BatchNormalization(momentum=0.9)
    bn(np().asarray(BATCH, dtype="float32"), training=True)
    return "momentum=0.9: " + _stats(bn.moving_mean, bn.moving_variance)


def _flax_update() -> str:
    bn = flax_linen().BatchNorm(use_running_average=False, momentum=0.9)
    x = jnp().asarray(BATCH)
    _, updates = bn.apply(bn.init(jax().random.key(0), x), x, mutable=["batch_stats"])
    stats = updates["batch_stats"]
    return "momentum=0.9: " + _stats(stats["mean"], stats["var"])


def _mlprims_update() -> str:
    import mlprims

    x = np().asarray(BATCH, dtype="float32")
    out = mlprims.batch_norm(x, np().zeros(1, "float32"), np().ones(1, "float32"), training=True)
    return "momentum=0.1: " + _stats(out.running_mean, out.running_var)


def _torch_batch_of_one() -> str:
    return attempt(lambda: torch().nn.BatchNorm1d(1)(torch().zeros((1, 1))))


def _mlprims_batch_of_one() -> str:
    import mlprims

    zeros = np().zeros((1, 1), "float32")
    return attempt(lambda: mlprims.batch_norm(zeros, None, None, training=True))


def _torch_axis() -> str:
    nhwc = torch().zeros((2, 4, 4, 3))
    outcome = attempt(lambda: torch().nn.BatchNorm2d(3)(nhwc))
    return f"axis 1: BatchNorm2d(3) of an NHWC batch: {outcome}"


def _mlprims_axis() -> str:
    import mlprims

    return f"axis={_default(mlprims.batch_norm, 'axis')}"


def _mlprims_layer_norm_eps() -> str:
    import mlprims

    return f"eps={_default(mlprims.layer_norm, 'eps')}"


ITEMS = [
    Item(
        "batchnorm-defaults",
        "normalization",
        "BatchNorm's default momentum and eps",
        "momentum means the opposite in torch (weight of the batch) and Keras/Flax (weight of "
        "the running average): torch's 0.1 is Keras' 0.9; eps differs too",
        {
            "torch": (_torch_defaults, "momentum=0.1, eps=1e-05"),
            "keras": (_keras_defaults, "momentum=0.99, eps=0.001"),
            "flax": (_flax_defaults, "momentum=0.99, eps=1e-05"),
        },
        (_mlprims_defaults, "momentum=0.1, eps=1e-05"),
    ),
    Item(
        "batchnorm-running-var",
        "normalization",
        "running statistics after one training step on [0, 2] (the same layer in each)",
        "torch stores the unbiased variance (2), Keras and Flax the biased one (1): converted "
        "checkpoints differ by N/(N-1)",
        {
            "torch": (_torch_update, "momentum=0.1: running mean 0.1, running var 1.1"),
            "keras": (_keras_update, "momentum=0.9: running mean 0.1, running var 1"),
            "flax": (_flax_update, "momentum=0.9: running mean 0.1, running var 1"),
        },
        (_mlprims_update, "momentum=0.1: running mean 0.1, running var 1.1"),
    ),
    Item(
        "batchnorm-batch-of-one",
        "normalization",
        "BatchNorm in training on a batch of one",
        "one value per channel has no variance: torch refuses it rather than divide by zero",
        {"torch": (_torch_batch_of_one, "error: ValueError")},
        (_mlprims_batch_of_one, "error: ValueError"),
    ),
    Item(
        "batchnorm-channel-axis",
        "normalization",
        "BatchNorm's channel axis",
        "torch normalises axis 1 (NCHW), Keras and Flax the last axis (NHWC)",
        {
            "torch": (_torch_axis, "axis 1: BatchNorm2d(3) of an NHWC batch: error: RuntimeError"),
            "keras": (
                lambda: f"axis={show(keras().layers.BatchNormalization().axis)}",
                "axis=-1",
            ),
            "flax": (
                lambda: f"axis={show(flax_linen().BatchNorm().axis)}",
                "axis=-1",
            ),
        },
        (_mlprims_axis, "axis=1"),
    ),
    Item(
        "layernorm-eps",
        "normalization",
        "LayerNorm's default eps",
        "1e-5 (torch, JAX) vs 1e-6 (Flax) vs 1e-3 (Keras): visible in float16 and on "
        "near-constant rows",
        {
            "torch": (lambda: f"eps={show(torch().nn.LayerNorm(4).eps)}", "eps=1e-05"),
            "jax": (
                lambda: f"standardize epsilon={_default(jax().nn.standardize, 'epsilon')}",
                "standardize epsilon=1e-05",
            ),
            "keras": (
                lambda: f"eps={show(keras().layers.LayerNormalization().epsilon)}",
                "eps=0.001",
            ),
            "flax": (
                lambda: f"eps={show(flax_linen().LayerNorm().epsilon)}",
                "eps=1e-06",
            ),
        },
        (_mlprims_layer_norm_eps, "eps=1e-05"),
    ),
]
