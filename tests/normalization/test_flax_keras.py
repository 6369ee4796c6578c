"""Normalisation against the layers of Keras 3 (JAX backend) and Flax linen, called for real on
the same float32 inputs: BatchNorm's training outputs, running statistics and evaluation
outputs, LayerNorm and RMSNorm with each library's epsilon.

The conventions that differ (see :func:`mlprims.batch_norm`'s table): their momentum weighs the
old value (Keras/Flax ``m`` is mlprims' ``1 - m``), they store the biased variance (mlprims,
like torch, the unbiased one), and their layers are channels-last (mlprims ``axis=-1``).
tests/normalization/test_batch.py checks the same conversion on a NumPy transcription.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlprims import batch_norm, layer_norm, rms_norm
from mlprims.testing import assert_close
from mlprims.testing.strategies import float_arrays

os.environ["KERAS_BACKEND"] = "jax"  # read when keras is first imported
jax = pytest.importorskip("jax")
keras = pytest.importorskip("keras")
nn = pytest.importorskip("flax.linen")

#: (step, evaluate): one training call returning (output, moving mean, moving variance) after
#: the update, and one evaluation call returning the output.
Layer = tuple[Callable[[np.ndarray], tuple], Callable[[np.ndarray], np.ndarray]]


def _keras_batch_norm(momentum: float, eps: float, gamma: np.ndarray, beta: np.ndarray) -> Layer:
    layer = keras.layers.BatchNormalization(momentum=momentum, epsilon=eps)

    def step(x: np.ndarray) -> tuple:
        if not layer.built:  # built for the rank of x
            layer.build(x.shape)
            layer.gamma.assign(gamma)
            layer.beta.assign(beta)
        y = layer(x, training=True)
        return y, layer.moving_mean.value, layer.moving_variance.value

    return step, lambda x: layer(x, training=False)


def _flax_batch_norm(momentum: float, eps: float, gamma: np.ndarray, beta: np.ndarray) -> Layer:
    options = {"momentum": momentum, "epsilon": eps, "axis": -1}
    c = gamma.shape[0]
    variables = {
        "params": {"scale": gamma, "bias": beta},
        "batch_stats": {"mean": np.zeros(c, np.float32), "var": np.ones(c, np.float32)},
    }

    def step(x: np.ndarray) -> tuple:
        train = nn.BatchNorm(use_running_average=False, **options)
        y, updates = train.apply(variables, x, mutable=["batch_stats"])
        variables["batch_stats"] = updates["batch_stats"]
        return y, updates["batch_stats"]["mean"], updates["batch_stats"]["var"]

    def evaluate(x: np.ndarray) -> np.ndarray:
        return nn.BatchNorm(use_running_average=True, **options).apply(variables, x)

    return step, evaluate


BATCH_NORMS = {"keras": _keras_batch_norm, "flax": _flax_batch_norm}


@pytest.mark.parametrize("library", BATCH_NORMS)
@given(
    momentum=st.sampled_from((0.99, 0.9, 0.5, 0.0)),  # theirs; 0.99 is both defaults
    eps=st.sampled_from((1e-3, 1e-5)),  # Keras' and Flax's defaults
    shape=st.sampled_from(((8, 3), (2, 3, 4, 5), (3, 1, 7, 2))),  # channels last
    loc=st.floats(-3.0, 3.0),
    spread=st.floats(0.5, 3.0),
    seed=st.integers(0, 2**16),
)
def test_batch_norm(
    library: str,
    momentum: float,
    eps: float,
    shape: tuple[int, ...],
    loc: float,
    spread: float,
    seed: int,
) -> None:
    """Three training steps, then evaluation with their moving statistics loaded as they are."""
    rng = np.random.default_rng(seed)
    c = shape[-1]
    gamma, beta = rng.normal(1.0, 0.5, (2, c)).astype(np.float32)
    step, evaluate = BATCH_NORMS[library](momentum, eps, gamma, beta)
    mean, var = np.zeros(c, np.float32), np.ones(c, np.float32)
    bessel = np.zeros(c)  # what the unbiased storage adds: the same average of var / (n - 1)
    for _ in range(3):
        x = rng.normal(loc, spread, shape).astype(np.float32)
        y, mean, var = batch_norm(
            x, mean, var, gamma, beta, training=True, momentum=1 - momentum, eps=eps, axis=-1
        )
        y_theirs, mean_theirs, var_theirs = (np.asarray(a) for a in step(x))
        rows = x.reshape(-1, c).astype(np.float64)
        bessel = momentum * bessel + (1 - momentum) * rows.var(axis=0) / (len(rows) - 1)
        # their one-pass variance E[x²] - E[x]² loses a few float32 digits to cancellation
        assert_close(y, y_theirs, scale=10)
        assert_close(mean, mean_theirs, scale=10)
        assert_close(var, var_theirs + bessel, scale=10)
    x = rng.normal(loc, spread, shape).astype(np.float32)
    loaded = batch_norm(
        x, mean_theirs, var_theirs, gamma, beta, training=False, eps=eps, axis=-1
    ).output
    assert_close(loaded, np.asarray(evaluate(x)))


def test_batch_norm_variances_differ_by_the_bessel_factor() -> None:
    """One step from zero statistics with momentum 0: theirs is n/(n-1) times smaller."""
    x = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    ones, zeros = np.ones(3, np.float32), np.zeros(3, np.float32)
    ours = batch_norm(x, zeros, ones, training=True, momentum=1.0, axis=-1).running_var
    for make in BATCH_NORMS.values():
        step, _ = make(0.0, 1e-5, ones, zeros)
        assert_close(np.asarray(step(x)[2]) * 4 / 3, ours)


# ----------------------------------------------------------------------- LayerNorm, RMSNorm

rows = float_arrays(shape=(3, 4, 6), dtype="float32", bound=5.0)


@given(x=rows, seed=st.integers(0, 2**16))
def test_layer_norm(x: np.ndarray, seed: int) -> None:
    """flax.linen.LayerNorm (epsilon 1e-6) and keras.layers.LayerNormalization (1e-3), each
    inside the square root as in mlprims."""
    weight, bias = np.random.default_rng(seed).normal(size=(2, 6)).astype(np.float32)
    # No all-equal row: there mlprims' shifted moments give exactly 0 / sqrt(eps), while a
    # float32 mean one ulp off the values gives ulp / sqrt(1e-6), about 1e-4 (Flax's one-pass
    # default variance adds its own rounding), a difference of accuracy, not of convention.
    x = x + np.linspace(0.0, 1.0, 6, dtype=np.float32)
    flax = nn.LayerNorm(use_fast_variance=False)
    flax_out = flax.apply({"params": {"scale": weight, "bias": bias}}, x)
    assert_close(layer_norm(x, 6, weight, bias, eps=1e-6), np.asarray(flax_out))
    layer = keras.layers.LayerNormalization()
    layer.build(x.shape)
    layer.gamma.assign(weight)
    layer.beta.assign(bias)
    keras_out = layer(x)
    assert_close(layer_norm(x, 6, weight, bias, eps=1e-3), np.asarray(keras_out), scale=10)


@given(x=rows, seed=st.integers(0, 2**16))
def test_rms_norm(x: np.ndarray, seed: int) -> None:
    """flax.linen.RMSNorm and keras.layers.RMSNormalization, both epsilon 1e-6."""
    weight = np.random.default_rng(seed).normal(size=6).astype(np.float32)
    flax_out = nn.RMSNorm().apply({"params": {"scale": weight}}, x)
    assert_close(rms_norm(x, 6, weight, eps=1e-6), np.asarray(flax_out))
    layer = keras.layers.RMSNormalization()
    layer.build(x.shape)
    layer.scale.assign(weight)
    assert_close(rms_norm(x, 6, weight, eps=1e-6), np.asarray(layer(x)))
