"""BatchNorm in training and in evaluation: running statistics, momentum, and torch agreeing.

    python examples/batchnorm_train_eval.py [--quick] [OUTPUT_DIR]   (default ./batchnorm-figures)

A stream of batches (16 rows of 3 features, each feature with its own mean and spread) goes
through :func:`mlprims.batch_norm` with ``training=True``, step after step. Training normalises
each batch with *its own* mean and variance and returns updated running statistics; evaluation
(``training=False``) normalises with the running ones. Three updates are compared:

- momentum 0.1, torch's default (Keras 3 and Flax call the same update momentum 0.9);
- momentum 0.01, what Keras's and Flax's default 0.99 means in torch's convention (their
  momentum weighs the *old* value: ``m r + (1 - m) b``);
- momentum ``1 / (t + 1)`` at step t, torch's ``momentum=None`` (the plain average of the batch
  statistics so far).

The same batches also go through ``torch.nn.BatchNorm1d(3)`` in train mode: the printed
differences of the running mean, the running variance and the outputs are float32 rounding.

Writes ``batchnorm_train_eval.png``: the running mean and variance of feature 0 against the
batch statistics and the true values, and how far the evaluation output of a held-out batch is
from its training output, step by step. Also shows why inference runs in evaluation mode:
one row alone has no batch variance, so training mode refuses it. ``--quick`` runs 60 steps
instead of 300.
"""

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch

import mlprims

MEAN = np.array([3.0, -1.0, 0.5])  # the true per-feature statistics of the stream
STD = np.array([2.0, 0.5, 1.0])
BATCH = 16
LABELS = (  # momentum in torch's meaning, the weight of the new batch
    "torch 0.1 (Keras/Flax 0.9)",
    "torch 0.01 (Keras/Flax default 0.99)",
    "1/(t+1) (torch momentum=None)",
)
RULES = dict(zip(LABELS, (lambda t: 0.1, lambda t: 0.01, lambda t: 1.0 / (t + 1)), strict=True))


def say(*sentences: str) -> None:
    """Print the sentences as one paragraph, wrapped, continuation lines indented."""
    print(textwrap.fill(" ".join(sentences), width=96, subsequent_indent="    "))


def batches(steps: int) -> np.ndarray:
    """(steps, BATCH, 3) float32 rows drawn from N(MEAN, STD^2), feature by feature."""
    rng = np.random.default_rng(0)
    return (MEAN + STD * rng.standard_normal((steps, BATCH, 3))).astype(np.float32)


def train(
    data: np.ndarray, momentum: Callable[[int], float], held_out: np.ndarray
) -> dict[str, np.ndarray]:
    """Run the stream through batch_norm; record the running statistics after each step and
    the mean |train output - eval output| of `held_out` with the statistics of that step."""
    state = mlprims.init_batch_norm(3)
    mean, var = state["running_mean"], state["running_var"]
    history: dict[str, list] = {"mean": [], "var": [], "gap": []}
    y_train = mlprims.batch_norm(held_out, None, None, training=True).output  # its own stats
    for t, x in enumerate(data):
        _, mean, var = mlprims.batch_norm(x, mean, var, training=True, momentum=momentum(t))
        y_eval = mlprims.batch_norm(held_out, mean, var, training=False).output
        history["mean"].append(mean)
        history["var"].append(var)
        history["gap"].append(np.abs(y_train - y_eval).mean())
    return {name: np.asarray(values) for name, values in history.items()}


def against_torch(data: np.ndarray) -> None:
    """The same stream through torch.nn.BatchNorm1d (momentum 0.1, train mode, then eval)."""
    torch.set_num_threads(1)  # 16 x 3 values: starting threads costs more than it saves
    layer = torch.nn.BatchNorm1d(3)  # affine weight 1, bias 0: the same as no affine
    state = mlprims.init_batch_norm(3)
    mean, var, worst = state["running_mean"], state["running_var"], 0.0
    for x in data:
        y, mean, var = mlprims.batch_norm(x, mean, var, training=True)
        with torch.no_grad():
            worst = max(worst, float(np.abs(layer(torch.from_numpy(x)).numpy() - y).max()))
    layer.eval()
    with torch.no_grad():
        torch_eval = layer(torch.from_numpy(data[-1])).numpy()
    ours = mlprims.batch_norm(data[-1], mean, var, training=False).output
    say(
        f"torch.nn.BatchNorm1d(3) on the same {len(data)} batches, largest |mlprims - torch|:",
        f"running_mean {np.abs(layer.running_mean.numpy() - mean).max():.1e}, running_var",
        f"{np.abs(layer.running_var.numpy() - var).max():.1e}, train outputs {worst:.1e},",
        f"eval outputs {np.abs(torch_eval - ours).max():.1e} (float32 rounding).",
    )


def floor(held_out: np.ndarray) -> float:
    """mean |y_train - y_true| of `held_out`, y_true normalised with the true MEAN and STD:
    about where the train/eval gap levels off, the sampling noise of the batch's statistics."""
    y_train = mlprims.batch_norm(held_out, None, None, training=True).output
    return float(np.abs(y_train - (held_out - MEAN) / STD).mean())


def draw(out: Path, data: np.ndarray, runs: dict[str, dict[str, np.ndarray]], best: float) -> None:
    steps = np.arange(1, len(data) + 1)
    batch_mean = data[:, :, 0].mean(1)
    batch_var = data[:, :, 0].var(1, ddof=1)  # the running variance stores the unbiased one
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.6), layout="constrained")
    axes[0].scatter(steps, batch_mean, s=6, color="0.6", label="batch mean")
    axes[1].scatter(steps, batch_var, s=6, color="0.6", label="batch variance (n - 1)")
    for label, run in runs.items():
        axes[0].plot(steps, run["mean"][:, 0], label=label)
        axes[1].plot(steps, run["var"][:, 0], label=label)
        axes[2].plot(steps, run["gap"], label=label)
    axes[0].axhline(MEAN[0], color="k", ls=":", lw=1, label="true mean")
    axes[1].axhline(STD[0] ** 2, color="k", ls=":", lw=1, label="true variance")
    axes[2].axhline(best, color="k", ls=":", lw=1, label="eval with the true mean and variance")
    axes[0].set(xlabel="training step", ylabel="running_mean[0]", title="Running mean (from 0)")
    axes[1].set(xlabel="training step", ylabel="running_var[0]", title="Running variance (from 1)")
    axes[2].set(
        xlabel="training step",
        ylabel="mean |y_train - y_eval|",
        yscale="log",
        title="Held-out batch: train mode vs eval mode",
    )
    for ax in axes:
        ax.legend(fontsize=7)
    fig.savefig(out, dpi=80)
    plt.close(fig)


def report(data: np.ndarray, runs: dict[str, dict[str, np.ndarray]], best: float) -> None:
    steps = len(data)
    say(f"{steps} batches of {BATCH} rows; feature 0 drawn from N({MEAN[0]:g}, {STD[0]:g}^2).")
    print(
        f"    {'momentum':38} {'running mean after 10 steps, at the end':>40} {'running var':>12}"
    )
    for label, run in runs.items():
        mean, var = run["mean"][:, 0], run["var"][-1, 0]
        print(f"    {label:38} {mean[9]:>32.2f} {mean[-1]:>7.2f} {var:>12.2f}")
    slow, average = runs[LABELS[1]], runs[LABELS[2]]
    say(
        f"With Keras's and Flax's default 0.99 the initial 0 still weighs 0.99^{steps} =",
        f"{0.99**steps:.2f} of the running mean (which is {slow['mean'][-1, 0]:.2f}): a model",
        "evaluated early uses statistics pulled towards the initial (0, 1). Momentum 1/(t+1)",
        "ends at the plain mean of all batch means (difference",
        f"{abs(average['mean'][-1, 0] - data[:, :, 0].mean()):.1e}).",
    )
    fast = runs[LABELS[0]]["gap"]
    say(
        "Train vs eval on a held-out batch, mean |y_train - y_eval| with momentum 0.1:",
        f"{fast[0]:.2f} after step 1 (running statistics still near (0, 1)), {fast[-1]:.2f} at",
        f"the end. It levels off near the gap the true mean and variance leave, {best:.2f}, and",
        "never reaches 0: train mode uses the batch's own statistics, from a sample of 16 rows.",
    )


def single_row(held_out: np.ndarray) -> None:
    state = mlprims.init_batch_norm(3)
    mean, var = state["running_mean"], state["running_var"]
    try:
        mlprims.batch_norm(held_out[:1], mean, var, training=True)
    except ValueError as error:
        say(f"One row in training mode: ValueError: {error}.")
    y = mlprims.batch_norm(held_out[:1], mean, var, training=False).output
    say(f"    In eval mode it is fine (output shape {y.shape}): inference uses training=False.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("output", nargs="?", default="batchnorm-figures", type=Path)
    parser.add_argument("--quick", action="store_true", help="60 steps instead of 300")
    args = parser.parse_args()
    args.output.mkdir(parents=True, exist_ok=True)
    data = batches((60 if args.quick else 300) + 1)
    data, held_out = data[:-1], data[-1]
    runs = {label: train(data, momentum, held_out) for label, momentum in RULES.items()}
    best = floor(held_out)
    report(data, runs, best)
    single_row(held_out)
    against_torch(data)
    out = args.output / "batchnorm_train_eval.png"
    draw(out, data, runs, best)
    say(
        f"{out}: the running statistics of feature 0 approaching the true ones (left, middle)",
        "and the train/eval gap shrinking to the level of the true statistics (right), for the",
        "three momentum rules.",
    )


if __name__ == "__main__":
    main()
