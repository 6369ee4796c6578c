"""One CNN written once, trained by two autodiff engines: torch autograd and jax.grad.

    python examples/train_cnn_digits.py [--quick] [OUTPUT_DIR]   (default ./cnn-digits)

The classic interview CNN (:func:`mlprims.cnn`: conv 1->10 k5, max-pool 2, relu, conv 10->20
k5, max-pool 2, relu, linear) learns scikit-learn's bundled 8x8 digits (1797 images, no
download). Padding 2 keeps each 5x5 convolution size-preserving, so 8x8 images go
8 -> 8 (conv) -> 4 (pool) -> 4 (conv) -> 2 (pool): the linear layer sees 20 * 2 * 2 = 80
features.

The same mlprims code is trained twice from the same initial weights, on the same batches,
in float64 (so that the two runs differ only by the engines' rounding, and the gradient
comparison below measures the engines rather than float32):

- torch: tensors with ``requires_grad``, ``loss.backward()``, ``torch.optim.Adam``;
- JAX: ``jax.value_and_grad`` of the same loss under ``jax.jit``, and Adam written in a few
  lines with ``jax.tree_util`` (torch's update rule, so both follow the same path).

Prints both test accuracies (the full run asserts >= 95% each), the largest difference between
the two engines' gradients on the same weights and batch, and saves
``cnn_digits.png``: both learning curves and a grid of misclassified test digits.
``--quick`` trains 2 epochs of 5 batches instead of 20 whole epochs (a smoke test: accuracies
are printed, not checked).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import mlprims

jax.config.update("jax_enable_x64", True)  # this script trains in float64 (see above)
PADDING, IMAGE_SIZE = 2, 8  # 8x8 digits through two 5x5 convs that keep the size
BATCH, LEARNING_RATE, SEED = 64, 1e-2, 0


def load_data():
    """Train/test split (80/20, stratified, fixed seed) of the digits, pixels scaled to [0, 1]."""
    digits = load_digits()
    images = (digits.images / 16.0)[:, None]  # (1797, 1, 8, 8), NCHW
    return train_test_split(
        images, digits.target, test_size=0.2, random_state=SEED, stratify=digits.target
    )


def batches(n: int, epochs: int) -> list[list[np.ndarray]]:
    """Index batches per epoch, reshuffled each epoch, the short last batch dropped (every
    batch has one shape, so jax.jit compiles the step once); both engines get these."""
    rng = np.random.default_rng(SEED)
    out = []
    for _ in range(epochs):
        order = rng.permutation(n)
        out.append([order[i : i + BATCH] for i in range(0, n - BATCH + 1, BATCH)])
    return out


def loss_fn(params, x, y):
    """The one loss both engines differentiate: mean cross-entropy of the CNN's logits."""
    return mlprims.cross_entropy(mlprims.cnn(params, x, padding=PADDING), y)


def initial_params() -> dict[str, np.ndarray]:
    params = mlprims.init_cnn(
        mlprims.random.key(SEED), padding=PADDING, image_size=IMAGE_SIZE, dtype="float64"
    )
    return {name: np.asarray(value) for name, value in params.items()}


# ---------------------------------------------------------------- torch: autograd + torch.optim


def train_torch(data, schedule):
    torch.set_num_threads(1)  # batches of 64 8x8 images: waking more threads costs more
    x_train, x_test, y_train, y_test = (torch.from_numpy(a) for a in data)
    params = {k: torch.tensor(v, requires_grad=True) for k, v in initial_params().items()}
    optimizer = torch.optim.Adam(params.values(), lr=LEARNING_RATE)
    curve = []
    for epoch in schedule:
        losses = []
        for idx in epoch:
            optimizer.zero_grad()
            loss = loss_fn(params, x_train[idx], y_train[idx])
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        with torch.no_grad():
            predicted = mlprims.cnn(params, x_test, padding=PADDING).argmax(1)
        curve.append((np.mean(losses), (predicted == y_test).double().mean().item()))
    return {k: v.detach().numpy() for k, v in params.items()}, curve, predicted.numpy()


# ------------------------------------------------ JAX: value_and_grad + jit + a hand-made Adam


def adam_init(params):
    zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
    return {"m": zeros, "v": zeros, "t": jnp.zeros((), jnp.int32)}


def adam_update(params, grads, state, lr=LEARNING_RATE, b1=0.9, b2=0.999, eps=1e-8):
    """torch.optim.Adam's rule: p -= lr * m_hat / (sqrt(v_hat) + eps)."""
    t = state["t"] + 1
    m = jax.tree_util.tree_map(lambda m, g: b1 * m + (1 - b1) * g, state["m"], grads)
    v = jax.tree_util.tree_map(lambda v, g: b2 * v + (1 - b2) * g * g, state["v"], grads)
    c1, c2 = 1 - b1**t, 1 - b2**t

    def step(p, m, v):
        return p - lr * (m / c1) / (jnp.sqrt(v / c2) + eps)

    return jax.tree_util.tree_map(step, params, m, v), {"m": m, "v": v, "t": t}


jax_value_and_grad = jax.jit(jax.value_and_grad(loss_fn))  # compiled once, for every batch
jax_adam_update = jax.jit(adam_update)


@jax.jit
def jax_predict(params, x):
    return jnp.argmax(mlprims.cnn(params, x, padding=PADDING), axis=1)


def train_jax(data, schedule):
    x_train, x_test, y_train, y_test = (jnp.asarray(a) for a in data)
    params = {k: jnp.asarray(v) for k, v in initial_params().items()}
    state = adam_init(params)
    curve = []
    for epoch in schedule:
        losses = []
        for idx in epoch:
            loss, grads = jax_value_and_grad(params, x_train[idx], y_train[idx])
            params, state = jax_adam_update(params, grads, state)
            losses.append(loss)
        predicted = jax_predict(params, x_test)
        accuracy = float(jnp.mean(predicted == y_test))
        curve.append((float(np.mean(jax.device_get(losses))), accuracy))
    return {k: np.asarray(v) for k, v in params.items()}, curve, np.asarray(predicted)


# ---------------------------------------------------------------------------- the comparison


def gradient_difference(params: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray) -> float:
    """Largest |torch grad - jax grad| over every weight, on the same weights and batch."""
    torch_params = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    loss_fn(torch_params, torch.from_numpy(x), torch.from_numpy(y)).backward()
    _, grads = jax_value_and_grad({k: jnp.asarray(v) for k, v in params.items()}, x, y)
    return max(float(np.abs(torch_params[k].grad.numpy() - grads[k]).max()) for k in params)


def draw(path: Path, curves: dict[str, list], x_test, y_test, predicted) -> None:
    fig = plt.figure(figsize=(13, 4.5), layout="constrained")
    left, right = fig.subfigures(1, 2, width_ratios=[1.6, 1])
    ax_loss, ax_acc = left.subplots(1, 2)
    for (engine, curve), style in zip(curves.items(), ("-o", "--s"), strict=True):
        epochs = np.arange(1, len(curve) + 1)
        loss, accuracy = np.array(curve).T
        ax_loss.plot(epochs, loss, style, ms=3, label=engine)
        ax_acc.plot(epochs, 100 * accuracy, style, ms=3, label=engine)
    ax_loss.set(xlabel="epoch", ylabel="mean training loss", yscale="log", title="Training loss")
    ax_acc.set(xlabel="epoch", ylabel="test accuracy (%)", title="Test accuracy")
    ax_loss.legend()
    ax_acc.legend()
    wrong = np.flatnonzero(predicted != y_test)
    right.suptitle(
        f"Misclassified by the JAX-trained CNN ({wrong.size} of {len(y_test)}), true -> predicted",
        fontsize=10,
    )
    axes = right.subplots(4, 4)
    for ax in axes.flat:
        ax.axis("off")
    for ax, i in zip(axes.flat, wrong[:16], strict=False):
        ax.imshow(x_test[i, 0], cmap="gray_r", vmin=0, vmax=1)
        ax.set_title(f"{y_test[i]} -> {predicted[i]}", fontsize=9)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("output", nargs="?", default="cnn-digits", type=Path)
    parser.add_argument("--quick", action="store_true", help="2 epochs of 5 batches: a smoke test")
    args = parser.parse_args()
    args.output.mkdir(parents=True, exist_ok=True)
    epochs = 2 if args.quick else 20

    data = load_data()
    x_train, x_test, _, y_test = data
    schedule = batches(len(x_train), epochs)
    if args.quick:
        schedule = [epoch[:5] for epoch in schedule]
    print(
        f"digits: {len(x_train)} training and {len(x_test)} test images of 8x8; {epochs} "
        f"epochs of {len(schedule[0])} batches of {BATCH}, Adam lr {LEARNING_RATE}, float64"
    )
    curves, results = {}, {}
    engines = {
        "torch autograd + torch.optim": train_torch,
        "jax.value_and_grad + jax.jit": train_jax,
    }
    for engine, train in engines.items():
        start = time.perf_counter()
        params, curve, predicted = train(data, schedule)
        seconds = time.perf_counter() - start
        curves[engine], results[engine] = curve, (params, predicted)
        print(f"{engine}: test accuracy {100 * curve[-1][1]:.1f}% ({seconds:.1f} s)")

    trained = results["torch autograd + torch.optim"][0]
    difference = gradient_difference(trained, x_test[:BATCH], y_test[:BATCH])
    print(
        f"largest |torch grad - jax grad| on the torch-trained weights and {BATCH} test "
        f"images: {difference:.2e}"
    )
    path = args.output / "cnn_digits.png"
    draw(path, curves, x_test, y_test, results["jax.value_and_grad + jax.jit"][1])
    print(f"{path}: learning curves of both engines and the misclassified test digits")
    if not args.quick:
        for engine, curve in curves.items():
            assert curve[-1][1] >= 0.95, f"{engine}: test accuracy {curve[-1][1]:.3f} < 0.95"
    assert difference < 1e-10, "the two engines disagree on the gradient"


if __name__ == "__main__":
    main()
