"""ResNet (mlprims/models/resnet.py) and its checkpoints: tiny random transformers models with
random batch norm statistics (transformers leaves them at mean 0, variance 1), saved with
``save_pretrained`` (nothing is downloaded), loaded on every backend and compared with
``ResNetForImageClassification``'s own logits."""

from __future__ import annotations

import copy
import dataclasses
import functools
import json
import pathlib
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from mlprims.models import ImageClassifier, ResNetConfig, from_pretrained, from_transformers
from mlprims.testing import assert_close

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
safetensors_numpy = pytest.importorskip("safetensors.numpy")

PIXELS = np.random.default_rng(0).standard_normal((2, 3, 32, 32)).astype(np.float32)
CASES = {
    "basic": {"hidden_sizes": [8, 16], "layer_type": "basic"},
    "bottleneck": {"hidden_sizes": [16, 32], "layer_type": "bottleneck"},
    "downsampled": {  # the strides moved: in the first stage, in the bottlenecks' 1x1 convs
        "hidden_sizes": [16, 32],
        "layer_type": "bottleneck",
        "downsample_in_first_stage": True,
        "downsample_in_bottleneck": True,
    },
}


def _model(case: str, **options: Any) -> Any:
    """A tiny ResNetForImageClassification whose batch norms all have random statistics."""
    torch.manual_seed(0)
    settings = {"num_channels": 3, "embedding_size": 8, "depths": [1, 2], "num_labels": 5}
    config = transformers.ResNetConfig(**settings | CASES[case] | options)
    model = transformers.ResNetForImageClassification(config).eval()
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for norm in (m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)):
            n = norm.num_features
            norm.weight.copy_(torch.rand(n, generator=generator) + 0.5)
            norm.bias.copy_(torch.randn(n, generator=generator) * 0.1)
            norm.running_mean.copy_(torch.randn(n, generator=generator) * 0.1)
            norm.running_var.copy_(torch.rand(n, generator=generator) + 0.5)  # positive
    return model


def _logits(model: Any, pixels: np.ndarray = PIXELS) -> np.ndarray:
    with torch.no_grad():
        return model(torch.as_tensor(pixels)).logits.numpy()


def _save(case: str, factory: pytest.TempPathFactory) -> tuple[pathlib.Path, Any, np.ndarray]:
    model = _model(case)
    folder = factory.mktemp(case)
    model.save_pretrained(folder)
    return folder, model, _logits(model)


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Any]:
    """(folder, the transformers model, its logits) of a case, built and saved once: a
    parametrized fixture would be built anew for every backend."""
    return functools.cache(lambda case: _save(case, tmp_path_factory))


@pytest.fixture(scope="module")
def basic(checkpoints: Callable[[str], Any]) -> Any:
    """The basic-layer checkpoint: what the loader does whatever the layer."""
    return checkpoints("basic")


@pytest.mark.backends(
    exclude=("jax", "jax_jit"),
    reason="JAX compiles each conv tap (eager 2-4 s a model): jax_jit runs one below",
)
@pytest.mark.parametrize("case", list(CASES))
def test_logits_equal_transformers_on_every_backend(xb, checkpoints, case: str) -> None:
    folder, _, expected = checkpoints(case)
    model = from_pretrained(folder, backend=xb.backend)
    assert isinstance(model, ImageClassifier)
    logits = model(xb.asarray(PIXELS))
    assert_close(xb.to_numpy(logits), expected, atol=1e-5, rtol=1e-5)


@pytest.mark.backends(
    "jax_jit", reason="eager JAX runs the code jax_jit compiles, each op compiled anew (4 s)"
)
def test_logits_equal_transformers_under_jax_jit(xb, basic) -> None:
    folder, _, expected = basic
    model = from_pretrained(folder, backend=xb.backend)
    logits = xb.run(lambda x: model(x), xb.asarray(PIXELS))
    assert_close(xb.to_numpy(logits), expected, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("case", list(CASES))
def test_the_config(checkpoints, case: str) -> None:
    folder, hf_model, _ = checkpoints(case)
    hf = hf_model.config
    config = from_pretrained(folder).config
    assert config == ResNetConfig(
        num_channels=3,
        embedding_size=8,
        hidden_sizes=tuple(hf.hidden_sizes),
        depths=(1, 2),
        layer_type=hf.layer_type,
        num_labels=5,
        downsample_in_first_stage=hf.downsample_in_first_stage,
        downsample_in_bottleneck=hf.downsample_in_bottleneck,
    )
    assert hash(config) == hash(dataclasses.replace(config))


def test_float64_within_1e_10(basic) -> None:
    """The float32 checkpoint widened exactly (batch norm statistics too), against
    transformers in float64."""
    folder, hf_model, _ = basic
    model = from_pretrained(folder, dtype="float64")
    stem = model.params["stem"]
    assert {a.dtype for a in (stem["conv"], *stem["norm"].values())} == {np.dtype("float64")}
    pixels = PIXELS.astype(np.float64)
    expected = _logits(copy.deepcopy(hf_model).double(), pixels)
    assert_close(model(pixels), expected, atol=1e-10, rtol=1e-10)


def test_no_labels_gives_the_pooled_features(tmp_path: pathlib.Path) -> None:
    """num_labels = 0: transformers' head is nn.Identity, its logits the features (B, C)."""
    hf_model = _model("basic", num_labels=0)
    hf_model.save_pretrained(tmp_path)
    model = from_pretrained(tmp_path)
    assert model.config.num_labels == 0
    assert "classifier_w" not in model.params
    features = model(PIXELS)
    assert features.shape == (2, 16)
    assert_close(features, _logits(hf_model), atol=1e-5, rtol=1e-5)


def test_from_transformers_equals_from_pretrained(basic) -> None:
    folder, hf_model, expected = basic
    loaded = from_transformers(hf_model)
    assert loaded.config == from_pretrained(folder).config
    assert_close(loaded(PIXELS), expected, atol=1e-5, rtol=1e-5)


def test_a_wrong_channel_count(basic) -> None:
    model = from_pretrained(basic[0])
    want = r"`pixel_values` must have shape \(B, 3, H, W\) \(NCHW, num_channels = 3\)"
    with pytest.raises(ValueError, match=want + r", got \(2, 4, 32, 32\)"):
        model(np.zeros((2, 4, 32, 32), np.float32))
    with pytest.raises(ValueError, match=want + r", got \(3, 32, 32\)"):
        model(PIXELS[0])
    with pytest.raises(TypeError, match=r"`pixel_values` must have the dtype of the param"):
        model(PIXELS.astype(np.float64))


def test_another_activation_is_refused(tmp_path: pathlib.Path, basic) -> None:
    config = json.loads((basic[0] / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps({**config, "hidden_act": "gelu"}))
    with pytest.raises(ValueError, match="ResNet with hidden_act 'gelu' is not supported yet"):
        from_pretrained(tmp_path)  # refused before the weights are read


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ("missing", "no tensor 'encoder.stages.1.layers.0.shortcut.normalization.running_var'"),
        ("unexpected", "tensors the model does not use: encoder.stages.0.layers.0.extra.weight"),
        ("misshaped", r"'classifier.1.weight' has shape \(5, 15\), expected \(5, 16\)"),
    ],
)
def test_a_tensor_missing_left_over_or_misshaped(
    tmp_path: pathlib.Path, basic, edit: str, message: str
) -> None:
    folder = basic[0]
    tensors = safetensors_numpy.load_file(folder / "model.safetensors")
    (tmp_path / "config.json").write_text((folder / "config.json").read_text())
    if edit == "missing":
        del tensors["resnet.encoder.stages.1.layers.0.shortcut.normalization.running_var"]
    elif edit == "unexpected":
        tensors["resnet.encoder.stages.0.layers.0.extra.weight"] = np.zeros(3, np.float32)
    else:
        tensors["classifier.1.weight"] = np.zeros((5, 15), np.float32)
    safetensors_numpy.save_file(tensors, tmp_path / "model.safetensors")
    with pytest.raises(ValueError, match=message):
        from_pretrained(tmp_path)


@pytest.mark.parametrize(
    ("sizes", "error", "message"),
    [
        ({"hidden_sizes": (8, 16), "depths": (1,)}, ValueError, "one entry per stage"),
        ({"hidden_sizes": "8"}, TypeError, "`hidden_sizes` must be a non-empty sequence"),
        ({"depths": (1, 0, 1, 1)}, ValueError, "`depths` must be >= 1, got 0"),
        ({"layer_type": "wide"}, ValueError, "`layer_type` must be one of 'basic', 'bottl"),
        ({"hidden_sizes": (2,), "depths": (1,)}, ValueError, ">= 4 for bottleneck layers"),
        ({"num_labels": -1}, ValueError, "`num_labels` must be >= 0, got -1"),
        ({"num_channels": 3.0}, TypeError, "`num_channels` must be an int, got float"),
        ({"downsample_in_bottleneck": 1}, TypeError, "`downsample_in_bottleneck` must be True"),
    ],
)
def test_a_bad_config_names_its_field(sizes: dict[str, Any], error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        ResNetConfig(**sizes)


def test_the_config_defaults_are_resnet_50s() -> None:
    config = ResNetConfig(hidden_sizes=[8], depths=[1], layer_type="basic")
    assert config.hidden_sizes == (8,) and config.depths == (1,)  # tuples: hashable
    assert ResNetConfig().strides == (1, 2, 2, 2)
    assert dataclasses.replace(config, downsample_in_first_stage=True).strides == (2,)
