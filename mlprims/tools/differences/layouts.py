"""Layouts and conventions of layers: NCHW/NHWC, (out, in) weights, kernel flips, padding,
the class axis of cross-entropy.

Keras and Flax are optional: their snippets run only where they are installed.
"""

from __future__ import annotations

from typing import Any

from ._item import Item
from ._show import attempt, flax_linen, jax, jnp, keras, np, show, torch

__all__ = ["ITEMS"]

SIGNAL = [1.0, 2.0, 3.0, 4.0]
KERNEL = [1.0, 10.0, 100.0]


def _lax() -> Any:
    return jax().lax


def _torch_conv1d(kernel: list[float], **options: Any) -> Any:
    t = torch()
    x, w = t.tensor([[SIGNAL]]), t.tensor([[kernel]])
    return t.nn.functional.conv1d(x, w, **options)[0, 0]


def _lax_conv1d(kernel: list[float], stride: int = 1, padding: str = "VALID") -> Any:
    x, w = jnp().asarray([[SIGNAL]]), jnp().asarray([[kernel]])
    return _lax().conv_general_dilated(x, w, (stride,), padding)[0, 0]


def _jax_convolve() -> str:
    flipped = jnp().convolve(jnp().asarray(SIGNAL), jnp().asarray(KERNEL), "valid")
    return f"jnp.convolve: {show(flipped)}; lax.conv: {show(_lax_conv1d(KERNEL))}"


def _mlprims_conv1d(kernel: list[float], **options: Any) -> Any:
    import mlprims

    x, w = np().asarray([[SIGNAL]], "float32"), np().asarray([[kernel]], "float32")
    return mlprims.conv1d(x, w, **options)[0, 0]


def _shape(array: Any) -> str:
    return show(tuple(int(n) for n in array.shape))


def _torch_conv_layout() -> str:
    with torch().random.fork_rng(devices=[]):
        weight = torch().nn.Conv2d(3, 5, 2).weight
    return f"x (N, C, H, W), Conv2d(3, 5, 2).weight {_shape(weight)}: OIHW"


def _jax_conv_layout() -> str:
    out = _lax().conv(jnp().ones((1, 3, 4, 4)), jnp().ones((5, 3, 2, 2)), (1, 1), "VALID")
    return f"lax.conv of (1, 3, 4, 4) and (5, 3, 2, 2): {_shape(out)}: NCHW, OIHW"


def _keras_conv_layout() -> str:
    conv = keras().layers.Conv2D(5, 2)
    conv.build((None, 4, 4, 3))
    return f"x (N, H, W, C), Conv2D(5, 2).kernel {_shape(conv.kernel)}: HWIO"


def _flax_conv_layout() -> str:
    conv = flax_linen().Conv(5, (2, 2))
    kernel = conv.init(jax().random.key(0), jnp().ones((1, 4, 4, 3)))["params"]["kernel"]
    return f"x (N, H, W, C), Conv(5, (2, 2)) kernel {_shape(kernel)}: HWIO"


def _mlprims_conv_layout() -> str:
    import mlprims

    nchw = mlprims.conv2d(np().ones((1, 3, 4, 4), "float32"), np().ones((5, 3, 2, 2), "float32"))
    nhwc = mlprims.conv2d(
        np().ones((1, 4, 4, 3), "float32"), np().ones((2, 2, 3, 5), "float32"), data_format="NHWC"
    )
    return f"NCHW/OIHW by default: {_shape(nchw)}; data_format='NHWC' (HWIO): {_shape(nhwc)}"


def _torch_same_padding() -> str:
    same = show(_torch_conv1d([1.0, 10.0], padding="same"))
    strided = attempt(lambda: _torch_conv1d([1.0, 10.0], padding="same", stride=2))
    return f"'same': {same}; stride 2: {strided}"


def _jax_same_padding() -> str:
    same = show(_lax_conv1d([1.0, 10.0], padding="SAME"))
    strided = show(_lax_conv1d([1.0, 10.0], stride=2, padding="SAME"))
    return f"'SAME': {same}; stride 2: {strided}"


def _mlprims_same_padding() -> str:
    same = show(_mlprims_conv1d([1.0, 10.0], padding="same"))
    strided = show(_mlprims_conv1d([1.0, 10.0], padding="same", stride=2))
    return f"'same': {same}; stride 2: {strided}"


def _torch_transpose() -> str:
    t = torch()
    x, w = t.tensor([[[1.0, 0.0, 0.0]]]), t.tensor([[[1.0, 2.0, 3.0]]])
    return f"conv_transpose1d: {show(t.nn.functional.conv_transpose1d(x, w)[0, 0])}"


def _jax_transpose() -> str:
    x, w = jnp().asarray([[[1.0], [0.0], [0.0]]]), jnp().asarray([[[1.0]], [[2.0]], [[3.0]]])
    default = _lax().conv_transpose(x, w, (1,), "VALID")[0, :, 0]
    flipped = _lax().conv_transpose(x, w, (1,), "VALID", transpose_kernel=True)[0, :, 0]
    return f"lax.conv_transpose: {show(default)}; transpose_kernel=True: {show(flipped)}"


def _mlprims_transpose() -> str:
    import mlprims

    x = np().asarray([[[[1.0, 0.0, 0.0]]]], "float32")
    w = np().asarray([[[[1.0, 2.0, 3.0]]]], "float32")
    return f"conv_transpose2d: {show(mlprims.conv_transpose2d(x, w)[0, 0, 0])}"


def _torch_linear() -> str:
    with torch().random.fork_rng(devices=[]):
        weight = torch().nn.Linear(3, 5).weight
    return f"Linear(3, 5).weight {_shape(weight)}: (out, in), y = x @ W.T + b"


def _keras_dense() -> str:
    dense = keras().layers.Dense(5)
    dense.build((None, 3))
    return f"Dense(5).kernel {_shape(dense.kernel)}: (in, out)"


def _flax_dense() -> str:
    dense = flax_linen().Dense(5)
    kernel = dense.init(jax().random.key(0), jnp().ones((1, 3)))["params"]["kernel"]
    return f"Dense(5) kernel {_shape(kernel)}: (in, out)"


def _mlprims_dense() -> str:
    import mlprims

    key = mlprims.random.key(0, backend="numpy")
    params = mlprims.init_multi_head_attention(key, 4, 2, head_dim=3)
    return (
        f"init_multi_head_attention(d_model=4, 2 heads of 3) wq {_shape(params['wq'])}: (in, out)"
    )


def _torch_cross_entropy() -> str:
    t = torch()
    target = t.zeros((1, 2), dtype=t.int64)
    class_axis_1 = show(t.nn.functional.cross_entropy(t.zeros((1, 3, 2)), target))
    class_last = attempt(lambda: t.nn.functional.cross_entropy(t.zeros((1, 2, 3)), target))
    return f"(N, C, L) logits: {class_axis_1}; (N, L, C): {class_last}"


def _mlprims_cross_entropy() -> str:
    import mlprims

    target = np().zeros((1, 2), "int64")
    class_last = show(mlprims.cross_entropy(np().zeros((1, 2, 3), "float32"), target))
    return f"axis=-1, (N, L, C) logits: {class_last}"


ITEMS = [
    Item(
        "conv-layout",
        "layouts",
        "conv2d input and kernel layouts",
        "torch and lax default to NCHW with (out, in, kh, kw) kernels, Keras and Flax to NHWC "
        "with HWIO: ported kernels need transpose(2, 3, 1, 0)",
        {
            "torch": (
                _torch_conv_layout,
                "x (N, C, H, W), Conv2d(3, 5, 2).weight (5, 3, 2, 2): OIHW",
            ),
            "jax": (
                _jax_conv_layout,
                "lax.conv of (1, 3, 4, 4) and (5, 3, 2, 2): (1, 5, 3, 3): NCHW, OIHW",
            ),
            "keras": (_keras_conv_layout, "x (N, H, W, C), Conv2D(5, 2).kernel (2, 2, 3, 5): HWIO"),
            "flax": (
                _flax_conv_layout,
                "x (N, H, W, C), Conv(5, (2, 2)) kernel (2, 2, 3, 5): HWIO",
            ),
        },
        (
            _mlprims_conv_layout,
            "NCHW/OIHW by default: (1, 5, 3, 3); data_format='NHWC' (HWIO): (1, 3, 3, 5)",
        ),
    ),
    Item(
        "conv-kernel-flip",
        "layouts",
        "1-D 'convolution' of [1, 2, 3, 4] with [1, 10, 100], valid",
        "np.convolve and jnp.convolve flip the kernel (true convolution); neural-network "
        "convolutions are cross-correlations",
        {
            "numpy": (
                lambda: f"np.convolve: {show(np().convolve(SIGNAL, KERNEL, 'valid'))}",
                "np.convolve: [123, 234] f64",
            ),
            "torch": (
                lambda: f"F.conv1d: {show(_torch_conv1d(KERNEL))}",
                "F.conv1d: [321, 432] f32",
            ),
            "jax": (
                _jax_convolve,
                "jnp.convolve: [123, 234] f32; lax.conv: [321, 432] f32",
            ),
        },
        (lambda: f"conv1d: {show(_mlprims_conv1d(KERNEL))}", "conv1d: [321, 432] f32"),
    ),
    Item(
        "same-padding",
        "layouts",
        "'same' padding with the even kernel [1, 10] on [1, 2, 3, 4]; with stride 2",
        "the odd padding element goes after the signal in both, but torch refuses strided 'same'",
        {
            "torch": (
                _torch_same_padding,
                "'same': [21, 32, 43, 4] f32; stride 2: error: RuntimeError",
            ),
            "jax": (_jax_same_padding, "'SAME': [21, 32, 43, 4] f32; stride 2: [21, 43] f32"),
        },
        (_mlprims_same_padding, "'same': [21, 32, 43, 4] f32; stride 2: [21, 43] f32"),
    ),
    Item(
        "conv-transpose-flip",
        "layouts",
        "transposed convolution of the impulse [1, 0, 0] with the kernel [1, 2, 3]",
        "lax.conv_transpose does not flip the kernel as torch's ConvTranspose does: ported "
        "weights need transpose_kernel=True",
        {
            "torch": (_torch_transpose, "conv_transpose1d: [1, 2, 3, 0, 0] f32"),
            "jax": (
                _jax_transpose,
                (
                    "lax.conv_transpose: [3, 2, 1, 0, 0] f32; "
                    "transpose_kernel=True: [1, 2, 3, 0, 0] f32"
                ),
            ),
        },
        (_mlprims_transpose, "conv_transpose2d: [1, 2, 3, 0, 0] f32"),
    ),
    Item(
        "dense-weight-layout",
        "layouts",
        "the weight of a dense layer from 3 to 5 features",
        "copying torch Linear weights into an (in, out) kernel needs a transpose; the shapes "
        "only catch it when in != out",
        {
            "torch": (_torch_linear, "Linear(3, 5).weight (5, 3): (out, in), y = x @ W.T + b"),
            "keras": (_keras_dense, "Dense(5).kernel (3, 5): (in, out)"),
            "flax": (_flax_dense, "Dense(5) kernel (3, 5): (in, out)"),
        },
        (_mlprims_dense, "init_multi_head_attention(d_model=4, 2 heads of 3) wq (4, 6): (in, out)"),
    ),
    Item(
        "cross-entropy-class-axis",
        "layouts",
        "cross-entropy of (batch, length, classes) logits",
        "torch takes the classes on axis 1, optax and Keras on the last axis: sequence "
        "logits need a transpose (or fail only when the sizes disagree)",
        {
            "torch": (
                _torch_cross_entropy,
                "(N, C, L) logits: 1.09861 f32; (N, L, C): error: RuntimeError",
            ),
            "jax": "no cross-entropy in JAX core (optax: last axis)",
        },
        (_mlprims_cross_entropy, "axis=-1, (N, L, C) logits: 1.09861 f32"),
    ),
]
