"""ResNet from mlprims' primitives, in Hugging Face ``ResNetForImageClassification``'s layout.

Architecture (He et al. 2016; images (B, C, H, W) -> logits (B, num_labels)), every ``bn``
a batch norm with its running statistics (evaluation mode), every conv without bias and
padded by ``k // 2``::

    x = max_pool(relu(bn(conv7x7/2(x))), 3, stride 2, padding 1)          the stem
    for each stage (first layer at stride s: 2, or 1 for the first stage), each layer:
        h = bn(conv3x3(relu(bn(conv3x3/s(x)))))                             "basic"
        h = bn(conv1x1(relu(bn(conv3x3/s(relu(bn(conv1x1(x))))))))          "bottleneck"
        x = relu(h + shortcut(x))       shortcut = bn(conv1x1/s(x)) if the shape changes, else x
    logits = mean_{H, W}(x) @ classifier_w + classifier_b                  (B, num_labels)

A bottleneck layer works at a quarter of its output width (``out // 4`` channels) in its
3x3 conv; with ``downsample_in_bottleneck`` its stride moves to the first 1x1 conv. Without
labels (``num_labels = 0``, transformers' ``nn.Identity`` head) the pooled features (B, C)
are returned.

Parameters are a plain dict (a pytree); a ``unit`` is a conv and its batch norm,
``{"conv": (O, I, k, k), "norm": {"weight", "bias", "mean", "var"}}`` (each (O,); torch's
``weight``, ``bias``, ``running_mean``, ``running_var``)::

    stem                  unit, 7x7: num_channels -> embedding_size
    stages[i][j]          {"convs": [unit, unit] (basic) or [unit, unit, unit] (bottleneck),
                           "shortcut": unit, 1x1 (only where the shape changes)}
    classifier_w          (hidden_sizes[-1], num_labels)   torch ``classifier.1.weight.T``
    classifier_b          (num_labels,)                    (both absent when num_labels = 0)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .._array import (
    Array,
    check_bool,
    check_choice,
    check_int,
    floating_namespace,
    namespace,
    shape_str,
)
from .._layers import linear
from ..activations import relu
from ..convolution import adaptive_avg_pool2d, conv2d, max_pool2d
from ..normalization import batch_norm

__all__ = ["ResNetConfig", "resnet"]

#: ``nn.BatchNorm2d``'s default, which transformers' ResNet keeps.
BATCH_NORM_EPS = 1e-5


def _check_sizes(value: Any, name: str) -> tuple[int, ...]:
    """A non-empty sequence of positive ints, as a tuple (hashable)."""
    if not isinstance(value, Sequence) or isinstance(value, str) or not value:
        msg = f"`{name}` must be a non-empty sequence of ints (one per stage), got {value!r}"
        raise TypeError(msg)
    return tuple(check_int(v, name, minimum=1) for v in value)


@dataclass(frozen=True)
class ResNetConfig:
    """The sizes of a :func:`resnet` model (hashable); the defaults are ResNet-50's.

    Parameters
    ----------
    num_channels : int
        C, the channels of the images (3 for RGB).
    embedding_size : int
        The stem's output channels.
    hidden_sizes : tuple of int
        The output channels of each stage.
    depths : tuple of int
        The layers of each stage (as many as `hidden_sizes`).
    layer_type : {"basic", "bottleneck"}
        Two 3x3 convs per layer (ResNet-18, -34), or 1x1, 3x3, 1x1 at a quarter of the width
        (ResNet-50 and up).
    num_labels : int
        The classifier's outputs; 0 for none (the pooled features).
    downsample_in_first_stage : bool
        The first stage's first layer has stride 2 (all others have it anyway).
    downsample_in_bottleneck : bool
        A bottleneck layer strides in its first 1x1 conv rather than in its 3x3 conv.
    """

    num_channels: int = 3
    embedding_size: int = 64
    hidden_sizes: tuple[int, ...] = (256, 512, 1024, 2048)
    depths: tuple[int, ...] = (3, 4, 6, 3)
    layer_type: str = "bottleneck"
    num_labels: int = 1000
    downsample_in_first_stage: bool = False
    downsample_in_bottleneck: bool = False

    def __post_init__(self) -> None:
        for name in ("num_channels", "embedding_size"):
            object.__setattr__(self, name, check_int(getattr(self, name), name, minimum=1))
        object.__setattr__(self, "num_labels", check_int(self.num_labels, "num_labels", minimum=0))
        for name in ("hidden_sizes", "depths"):
            object.__setattr__(self, name, _check_sizes(getattr(self, name), name))
        if len(self.hidden_sizes) != len(self.depths):
            msg = (
                f"`hidden_sizes` ({len(self.hidden_sizes)} stages) and `depths` "
                f"({len(self.depths)} stages) must have one entry per stage"
            )
            raise ValueError(msg)
        check_choice(self.layer_type, "layer_type", ("basic", "bottleneck"))
        if self.layer_type == "bottleneck" and min(self.hidden_sizes) < 4:
            msg = f"`hidden_sizes` must be >= 4 for bottleneck layers, got {self.hidden_sizes}"
            raise ValueError(msg)
        for name in ("downsample_in_first_stage", "downsample_in_bottleneck"):
            check_bool(getattr(self, name), name)

    @property
    def strides(self) -> tuple[int, ...]:
        """The stride of each stage's first layer (the others have stride 1)."""
        first = 2 if self.downsample_in_first_stage else 1
        return (first,) + (2,) * (len(self.depths) - 1)


def _unit(unit: Mapping[str, Any], x: Array, *, stride: int, activate: bool) -> Array:
    """``relu(bn(conv(x)))`` (or without the relu): transformers' ``ResNetConvLayer``."""
    weight, norm = unit["conv"], unit["norm"]
    h = conv2d(x, weight, stride=stride, padding=weight.shape[-1] // 2)
    h = batch_norm(
        h,
        norm["mean"],
        norm["var"],
        norm["weight"],
        norm["bias"],
        training=False,
        eps=BATCH_NORM_EPS,
    ).output
    return relu(h) if activate else h


def _conv_strides(config: ResNetConfig, stride: int) -> tuple[int, ...]:
    """The strides of a layer's convs, for the layer's `stride`."""
    if config.layer_type == "basic":
        return (stride, 1)
    if config.downsample_in_bottleneck:
        return (stride, 1, 1)
    return (1, stride, 1)


def _layer(layer: Mapping[str, Any], x: Array, *, stride: int, config: ResNetConfig) -> Array:
    """One residual layer: ``relu(convs(x) + shortcut(x))``."""
    convs = layer["convs"]
    h = x
    for i, (unit, s) in enumerate(zip(convs, _conv_strides(config, stride), strict=True)):
        h = _unit(unit, h, stride=s, activate=i < len(convs) - 1)
    shortcut = layer.get("shortcut")
    residual = x if shortcut is None else _unit(shortcut, x, stride=stride, activate=False)
    return relu(h + residual)


def _check_pixels(pixel_values: Array, stem: Array, config: ResNetConfig) -> None:
    """Images (B, C, H, W) with C = num_channels, of the parameters' framework and dtype."""
    floating_namespace(pixel_values, "pixel_values")
    namespace(pixel_values, stem, names=("pixel_values", "params['stem']['conv']"))
    c = config.num_channels
    if pixel_values.ndim != 4 or pixel_values.shape[1] != c:
        msg = (
            f"`pixel_values` must have shape (B, {c}, H, W) (NCHW, num_channels = {c}), "
            f"got {shape_str(pixel_values.shape)}"
        )
        raise ValueError(msg)
    if pixel_values.dtype != stem.dtype:
        msg = (
            f"`pixel_values` must have the dtype of the parameters ({stem.dtype}), "
            f"got {pixel_values.dtype}"
        )
        raise TypeError(msg)


def resnet(params: Mapping[str, Any], pixel_values: Array, /, *, config: ResNetConfig) -> Array:
    """ResNet's logits: ``ResNetForImageClassification(pixel_values).logits`` (eval mode).

    Parameters
    ----------
    params : dict
        ``stem``, ``stages`` and ``classifier_w``, ``classifier_b`` (see the module
        docstring).
    pixel_values : array, shape (B, C, H, W)
        Images, NCHW, C = ``config.num_channels``, of the dtype of the parameters.
    config : ResNetConfig
        The sizes.

    Returns
    -------
    array, shape (B, num_labels)
        The logits; the pooled features (B, hidden_sizes[-1]) when ``num_labels = 0``.

    Notes
    -----
    Batch norms use their running statistics (``model.eval()``), eps 1e-5 (torch's default);
    the pooling is :func:`mlprims.adaptive_avg_pool2d` to 1x1, as transformers'
    ``nn.AdaptiveAvgPool2d((1, 1))``.

    References
    ----------
    - He et al. 2016, "Deep Residual Learning for Image Recognition",
      https://arxiv.org/abs/1512.03385
    - https://huggingface.co/docs/transformers/model_doc/resnet
    """
    stem = params["stem"]
    _check_pixels(pixel_values, stem["conv"], config)
    xp = floating_namespace(pixel_values, "pixel_values")
    x = _unit(stem, pixel_values, stride=2, activate=True)
    x = max_pool2d(x, 3, stride=2, padding=1)
    for stage, stride in zip(params["stages"], config.strides, strict=True):
        for j, layer in enumerate(stage):
            x = _layer(layer, x, stride=stride if j == 0 else 1, config=config)
    pooled = adaptive_avg_pool2d(x, 1)
    features = xp.reshape(pooled, (pooled.shape[0], pooled.shape[1]))
    if config.num_labels == 0:
        return features
    return linear(features, params["classifier_w"], params["classifier_b"])
