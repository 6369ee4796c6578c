"""The classic small CNN of interviews and tutorials: two convolution blocks and a linear layer.

Architecture (NCHW input), for the defaults ``in_channels=1, channels=(10, 20),
kernel_size=5, padding=0, image_size=28, num_classes=10``::

    x        (N, 1, 28, 28)
    conv1    1 -> 10, 5x5      (N, 10, 24, 24)
    max_pool 2                 (N, 10, 12, 12)
    relu
    conv2    10 -> 20, 5x5     (N, 20, 8, 8)
    max_pool 2                 (N, 20, 4, 4)
    relu
    flatten                    (N, 320)       channel-major: c * 16 + i * 4 + j, as torch's view
    linear   320 -> 10         (N, 10)        logits

It is the network of the original PyTorch MNIST example (pytorch/examples, ``mnist/main.py``
until 2019: ``Conv2d(1, 10, 5)``, ``Conv2d(10, 20, 5)``, max-pool 2 then relu after each),
without that example's dropout and with its two linear layers (320 -> 50 -> 10) folded into
one, as it is usually asked for in interviews. Every block is ``relu(max_pool2d(conv2d(x),
2))``; `channels` may hold any number of blocks.

Parameters are a plain dict of arrays (a pytree for ``jax.grad``; torch tensors with
``requires_grad`` for autograd), conv weights in torch's layout and the linear layer in the
``y = x @ w + b`` layout of :func:`~mlprims.init_multi_head_attention`:

===============  ==========================  ===========================================
``conv{i}_w``    (C_i, C_{i-1}, k, k)        block i = 1, 2, ... (torch ``convi.weight``)
``conv{i}_b``    (C_i,)                      (torch ``convi.bias``)
``linear_w``     (C_last * s * s, classes)   torch ``fc.weight.T``; s the final side
``linear_b``     (classes,)                  torch ``fc.bias``
===============  ==========================  ===========================================
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from .. import backends
from .._array import (
    Array,
    check_array,
    check_float_dtype,
    check_int,
    floating_namespace,
    namespace,
    shape_str,
)
from .._layers import creation_target
from ..activations import relu
from ..convolution import conv2d, max_pool2d

__all__ = ["cnn", "init_cnn"]


def _block_side(side: int, kernel_size: int, padding: int) -> int:
    """The side of a square image after one block: conv (stride 1), then max-pool 2 (floor)."""
    return (side + 2 * padding - kernel_size + 1) // 2


def _check_channels(channels: Any) -> tuple[int, ...]:
    if not isinstance(channels, Sequence) or isinstance(channels, str) or not channels:
        msg = f"`channels` must be a non-empty sequence of ints (one per block), got {channels!r}"
        raise ValueError(msg)
    return tuple(check_int(c, "channels", minimum=1) for c in channels)


def init_cnn(
    key: Array,
    *,
    in_channels: int = 1,
    channels: Sequence[int] = (10, 20),
    kernel_size: int = 5,
    padding: int = 0,
    image_size: int = 28,
    num_classes: int = 10,
    dtype: Any = "float32",
    backend: str | backends.Backend | None = None,
) -> dict[str, Array]:
    """Parameters of :func:`cnn`, initialised like torch's ``nn.Conv2d`` and ``nn.Linear``.

    Parameters
    ----------
    key : mlprims.random key
        Same key, same parameters on every backend.
    in_channels : int
        Channels of the input images (1 for grey).
    channels : sequence of int
        Output channels of each conv block; ``(10, 20)`` is the classic network.
    kernel_size : int
        Side of every square convolution kernel.
    padding : int
        Zero padding of every convolution (pass the same to :func:`cnn`); 2 lets 8x8 images
        through two 5x5 blocks (8 -> 4 -> 2).
    image_size : int
        Side of the square input images; with the other options it sets the linear layer's
        input size ``channels[-1] * s * s`` (s = the side after the last block).
    num_classes : int
        Outputs of the linear layer (logits).
    dtype : str or dtype
        Floating dtype of the parameters.
    backend : str or Backend, optional
        Where to create them; default the backend of `key`.

    Returns
    -------
    dict
        ``conv1_w, conv1_b, conv2_w, conv2_b, ..., linear_w, linear_b`` (see the module
        docstring for their shapes).

    Notes
    -----
    torch initialises ``Conv2d`` and ``Linear`` with ``kaiming_uniform_(a=sqrt(5))``, which is
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and draws the bias from the same interval; fan_in is
    ``C_in * k * k`` for a convolution and the input width for the linear layer. We draw every
    weight and bias from that distribution with :func:`mlprims.random.uniform` (the same law,
    not torch's numbers).

    References
    ----------
    - https://pytorch.org/docs/stable/generated/torch.nn.Conv2d.html
    - https://pytorch.org/docs/stable/generated/torch.nn.Linear.html

    Examples
    --------
    >>> import mlprims
    >>> p = mlprims.init_cnn(mlprims.random.key(0))
    >>> {name: tuple(w.shape) for name, w in p.items()}  # doctest: +NORMALIZE_WHITESPACE
    {'conv1_w': (10, 1, 5, 5), 'conv1_b': (10,), 'conv2_w': (20, 10, 5, 5), 'conv2_b': (20,),
     'linear_w': (320, 10), 'linear_b': (10,)}
    """
    from .. import random

    check_array(key, "key")
    in_channels = check_int(in_channels, "in_channels", minimum=1)
    chans = _check_channels(channels)
    kernel_size = check_int(kernel_size, "kernel_size", minimum=1)
    padding = check_int(padding, "padding", minimum=0)
    image_size = check_int(image_size, "image_size", minimum=1)
    num_classes = check_int(num_classes, "num_classes", minimum=1)
    side = image_size
    for i in range(len(chans)):
        side = _block_side(side, kernel_size, padding)
        if side < 1:
            msg = (
                f"`image_size` {image_size} is too small for {len(chans)} blocks of a "
                f"{kernel_size}x{kernel_size} conv with padding {padding} and a 2x2 max-pool: "
                f"nothing is left after block {i + 1}"
            )
            raise ValueError(msg)
    key, target = creation_target(key, backend)
    dtype = check_float_dtype(dtype, xp=target.xp)

    shapes: list[tuple[str, tuple[int, ...], int]] = []  # (name, shape, fan_in)
    previous = in_channels
    for i, c in enumerate(chans, start=1):
        fan_in = previous * kernel_size * kernel_size
        shapes += [(f"conv{i}_w", (c, previous, kernel_size, kernel_size), fan_in)]
        shapes += [(f"conv{i}_b", (c,), fan_in)]
        previous = c
    features = chans[-1] * side * side
    shapes += [("linear_w", (features, num_classes), features)]
    shapes += [("linear_b", (num_classes,), features)]

    keys = random.split(key, len(shapes))
    params = {}
    for i, (name, shape, fan_in) in enumerate(shapes):
        bound = 1.0 / math.sqrt(fan_in)
        params[name] = random.uniform(keys[i, :], shape, dtype=dtype, minval=-bound, maxval=bound)
    return params


def _num_blocks(params: Mapping[str, Array]) -> int:
    """How many conv blocks `params` holds (conv1_w, conv2_w, ...), checking the names."""
    if not isinstance(params, Mapping):
        msg = f"`params` must be a dict of arrays from init_cnn, got {type(params).__name__}"
        raise TypeError(msg)
    blocks = 0
    while f"conv{blocks + 1}_w" in params:
        blocks += 1
    expected = {f"conv{i}_{p}" for i in range(1, blocks + 1) for p in "wb"}
    expected |= {"linear_w", "linear_b"}
    if blocks == 0 or set(params) != expected:
        msg = (
            "`params` must hold conv1_w, conv1_b, ..., linear_w, linear_b (from init_cnn), "
            f"got {sorted(params)}"
        )
        raise ValueError(msg)
    return blocks


def cnn(params: Mapping[str, Array], x: Array, /, *, padding: int = 0) -> Array:
    """The classic small CNN: ``relu(max_pool2d(conv2d(x), 2))`` per block, flatten, linear.

    For the default parameters of :func:`init_cnn` (the PyTorch MNIST example's network)::

        conv 1->10 k5, max-pool 2, relu, conv 10->20 k5, max-pool 2, relu, flatten, 320->10

    Parameters
    ----------
    params : dict
        From :func:`init_cnn` (or torch's weights, see the module docstring).
    x : array, shape (N, C_in, H, W)
        Images, NCHW, of the dtype of the parameters.
    padding : int
        Zero padding of every convolution: the `padding` given to :func:`init_cnn` (it sets
        the linear layer's input size, which is checked).

    Returns
    -------
    array, shape (N, num_classes)
        The logits (before softmax), in the dtype of `x`.

    Notes
    -----
    Equals the torch module ``conv1 = nn.Conv2d(1, 10, 5)``, ``conv2 = nn.Conv2d(10, 20, 5)``,
    ``fc = nn.Linear(320, 10)``, ``forward: x = F.relu(F.max_pool2d(conv1(x), 2));
    x = F.relu(F.max_pool2d(conv2(x), 2)); return fc(x.flatten(1))`` with ``conv{i}_w =
    conv{i}.weight``, ``linear_w = fc.weight.T`` (tests/models/test_cnn.py).

    References
    ----------
    - LeCun et al. 1998, "Gradient-based learning applied to document recognition",
      https://doi.org/10.1109/5.726791
    - PyTorch's MNIST example (this network until 2019, see the module docstring):
      https://github.com/pytorch/examples/tree/main/mnist

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> p = mlprims.init_cnn(mlprims.random.key(0), padding=2, image_size=8)
    >>> mlprims.cnn(p, np.zeros((3, 1, 8, 8), dtype=np.float32), padding=2).shape
    (3, 10)
    """
    blocks = _num_blocks(params)
    xp = floating_namespace(x)
    names = tuple(params)
    namespace(x, *(params[n] for n in names), names=("x", *names))
    padding = check_int(padding, "padding", minimum=0)
    w1 = params["conv1_w"]
    if x.ndim != 4 or x.shape[1] != w1.shape[1]:
        msg = (
            f"`x` must have shape (N, {w1.shape[1]}, H, W) (NCHW, {w1.shape[1]} channels as "
            f"conv1_w), got {shape_str(x.shape)}"
        )
        raise ValueError(msg)
    for n in names:
        if params[n].dtype != x.dtype:
            msg = f"`x` must have the dtype of the parameters ({params[n].dtype}), got {x.dtype}"
            raise TypeError(msg)
    kernel = w1.shape[2]
    sides = [x.shape[2], x.shape[3]]
    for i in range(blocks):
        sides = [_block_side(side, kernel, padding) for side in sides]
        if min(sides) < 1:
            msg = (
                f"`x`: images of {x.shape[2]}x{x.shape[3]} are too small for {blocks} blocks of "
                f"a {kernel}x{kernel} conv with padding {padding} and a 2x2 max-pool: nothing "
                f"is left after block {i + 1}"
            )
            raise ValueError(msg)
    features = params[f"conv{blocks}_w"].shape[0] * sides[0] * sides[1]
    linear_w = params["linear_w"]
    if linear_w.ndim != 2 or linear_w.shape[0] != features:
        msg = (
            f"`x`: images of {x.shape[2]}x{x.shape[3]} with padding {padding} leave "
            f"{features} features for the linear layer, whose linear_w has shape "
            f"{shape_str(linear_w.shape)}: pass the image size and padding given to init_cnn"
        )
        raise ValueError(msg)
    h = x
    for i in range(1, blocks + 1):
        h = conv2d(h, params[f"conv{i}_w"], params[f"conv{i}_b"], padding=padding)
        h = relu(max_pool2d(h, 2))
    flat = xp.reshape(h, (h.shape[0], features))
    return flat @ linear_w + params["linear_b"]
