"""Data-parallel training and decoding of :func:`mlprims.lm` on JAX: the batch split over devices.

    python examples/sharded_lm.py [--quick] [OUTPUT_DIR]   (default ./sharded-lm)

mlprims knows nothing about devices, and needs not: ``jax.jit`` compiles one program for all the
devices from where its inputs lie (GSPMD). Put the batch on a 1-D mesh named ``"data"`` with
``NamedSharding(mesh, P("data"))`` (its rows split between the devices) and the parameters with
``NamedSharding(mesh, P())`` (a whole copy on each), and the same jitted training step and the
same :func:`mlprims.generate` run data-parallel: each device runs the forward and backward pass
of its own rows, XLA adds the all-reduce that sums the gradients, and every device applies the
same update to its copy of the parameters. Decoding needs no communication at all: each device
extends its own prompts, its rows of the KV cache next to them.

The model is the tiny Llama of ``examples/tiny_lm.py``, trained on the Zen of Python by AdamW
twice from the same weights on the same batches: on a mesh of one device, then on a mesh of
all of them. Then the trained weights greedily decode a batch of prompts on both meshes. The
script prints where the arrays lie, checks that the two loss curves agree to float32 rounding
(the sharded mean adds the devices' partial sums in another order) and that the decoded tokens
are identical, and saves ``sharded_lm.png``: both loss curves, and the decoded batch coloured
by the device that holds (and computed) each row.

A CPU is one device. Run as a script without ``XLA_FLAGS`` set, this file sets
``XLA_FLAGS=--xla_force_host_platform_device_count=4`` before JAX is imported: the host then
counts as four CPU devices (and ``--quick`` adds XLA's optimization level 0, as compiling
takes longer than running here). That is a demonstration of the mechanics only (the four share the
same cores, nothing gets faster); the flag does not touch GPUs or TPUs, and on such a host
``jax.devices()`` lists the accelerators and the same code shards over them. ``--quick`` trains
5 steps of 2 rows per device instead of 300 of 4 and decodes fewer tokens.
"""

from __future__ import annotations

import os
import sys

if __name__ == "__main__" and "XLA_FLAGS" not in os.environ and "jax" not in sys.modules:
    # A CPU demonstration: the host counts as 4 devices (the flag leaves GPUs and TPUs alone).
    os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=4"
    if "--quick" in sys.argv:  # a smoke test: compiling (LLVM -O0) takes longer than running
        os.environ["XLA_FLAGS"] += " --xla_backend_optimization_level=0"

import argparse
import codecs
import contextlib
import functools
import io
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

import mlprims

SEED, CONTEXT, PROMPT_LENGTH, LEARNING_RATE = 0, 32, 12, 3e-3


def zen_of_python() -> str:
    """The text of ``import this``, without letting the import print it."""
    with contextlib.redirect_stdout(io.StringIO()):
        import this
    return codecs.decode(this.s, "rot13")


def data_mesh(devices) -> jax.sharding.Mesh:
    """A 1-D mesh named "data" over `devices` (one device: the unsharded reference)."""
    return jax.make_mesh((len(devices),), ("data",), devices=devices,
                         axis_types=(jax.sharding.AxisType.Auto,))  # fmt: skip


def shard_rows(x, mesh):
    """Axis 0 (the batch) split between the mesh's devices: device i holds rows i·B/n ..."""
    return jax.device_put(x, NamedSharding(mesh, P("data")))


def replicate(tree, mesh):
    """A whole copy of every array of `tree` (the parameters) on each device of the mesh."""
    return jax.device_put(tree, NamedSharding(mesh, P()))


def loss_fn(params, tokens, config):
    """Mean cross-entropy of the next character at every position of every row."""
    logits, _ = mlprims.lm(params, tokens[:, :-1], config=config)
    return mlprims.cross_entropy(logits, tokens[:, 1:])


def adamw(params, grads, state, step, *, b1=0.9, b2=0.95, eps=1e-8, weight_decay=0.01):
    """torch.optim.AdamW's rule, leaf by leaf: every device updates its copy identically."""
    m = jax.tree.map(lambda m, g: b1 * m + (1 - b1) * g, state["m"], grads)
    v = jax.tree.map(lambda v, g: b2 * v + (1 - b2) * g * g, state["v"], grads)
    c1, c2 = 1 - b1**step, 1 - b2**step

    def update(p, m, v):
        return p - LEARNING_RATE * ((m / c1) / (jnp.sqrt(v / c2) + eps) + weight_decay * p)

    return jax.tree.map(update, params, m, v), {"m": m, "v": v}


@functools.partial(jax.jit, static_argnames="config")
def train_step(params, state, tokens, step, config):
    """One AdamW step; where `tokens` lie decides how XLA splits the work."""
    loss, grads = jax.value_and_grad(loss_fn)(params, tokens, config)
    params, state = adamw(params, grads, state, step)
    return params, state, loss


@functools.partial(jax.jit, static_argnames=("config", "new_tokens"))
def decode(params, prompts, config, new_tokens):
    """Greedy decoding of every row, the whole loop (and the KV cache) in one program."""
    return mlprims.generate(mlprims.lm_step_fn(params, config), prompts, new_tokens)


def train(initial, data, config, mesh):
    """AdamW over `data` (steps, B, CONTEXT + 1) on `mesh`: the losses and the final weights."""
    params = replicate(initial, mesh)
    state = replicate({"m": jax.tree.map(np.zeros_like, initial),
                       "v": jax.tree.map(np.zeros_like, initial)}, mesh)  # fmt: skip
    losses = []
    for step, tokens in enumerate(data, start=1):
        params, state, loss = train_step(params, state, shard_rows(tokens, mesh), step, config)
        # Wait for the step: on forced host devices XLA:CPU runs each device's program on a
        # pool of exactly n threads, and queueing many steps with collectives has deadlocked
        # its all-reduce there (jax 0.10). A real training loop syncs for logging anyway.
        losses.append(jax.block_until_ready(loss))
    return params, losses


def show(name, x) -> None:
    """Where `x` lies: its sharding, and the rows of each device's piece."""
    pieces = ", ".join(
        f"{s.device.id}: rows {s.index[0].start or 0}..{(s.index[0].stop or x.shape[0]) - 1}"
        if x.ndim and x.sharding.spec and x.sharding.spec[0] == "data"
        else f"{s.device.id}: all"
        for s in x.addressable_shards
    )
    print(f"  {name:<24} {x.shape!s:<9} spec {x.sharding.spec}   device {pieces}")


def owners(x) -> np.ndarray:
    """(B,) the id of the device that holds each row of a sharded `x`."""
    owner = np.zeros(x.shape[0], dtype=int)
    for s in x.addressable_shards:
        owner[s.index[0]] = s.device.id
    return owner


def draw(path: Path, losses, tokens, owner, chars, n_devices: int) -> None:
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.2), layout="constrained",
                                      gridspec_kw={"width_ratios": [1, 1.6]})  # fmt: skip
    steps = np.arange(1, len(losses["1 device"]) + 1)
    for (label, curve), style in zip(losses.items(), ("-", "--"), strict=True):
        left.plot(steps, curve, style, label=label)
    left.set(xlabel="AdamW step", ylabel="cross-entropy (nats / character)",
             title="the same training, one device or sharded")  # fmt: skip
    left.legend()
    colours = 0.5 + 0.5 * plt.get_cmap("tab10")(np.arange(n_devices) % 10)[:, :3]  # pale
    right.imshow(colours[owner][:, None, :].repeat(tokens.shape[1], axis=1), aspect="auto")
    visible = {" ": "·", "\n": "↵"}
    for (row, col), token in np.ndenumerate(tokens):
        weight = "bold" if col < PROMPT_LENGTH else "normal"
        right.text(col, row, visible.get(chars[token], chars[token]), ha="center",
                   va="center", fontsize=8, family="monospace", weight=weight)  # fmt: skip
    right.axvline(PROMPT_LENGTH - 0.5, color="black", linewidth=0.8)
    right.set(xticks=[], yticks=range(tokens.shape[0]), ylabel="row of the batch",
              yticklabels=[f"{row}: device {d}" for row, d in enumerate(owner)],
              title=f"greedy decoding on {n_devices} devices: prompt | generated, each row "
                    "on the device that holds it")  # fmt: skip
    right.title.set_fontsize(9)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("output", nargs="?", default="sharded-lm", type=Path)
    parser.add_argument("--quick", action="store_true", help="5 small training steps: a smoke test")
    args = parser.parse_args()
    args.output.mkdir(parents=True, exist_ok=True)
    steps, rows, new_tokens = (5, 2, 12) if args.quick else (300, 4, 40)

    devices = jax.devices()
    n = len(devices)
    batch = rows * n  # a multiple of the device count: every device gets whole rows
    meshes = {"1 device": data_mesh(devices[:1]), f"{n} devices": data_mesh(devices)}
    print(f"{n} {devices[0].platform} devices: {devices}")

    text = zen_of_python()
    chars = sorted(set(text))
    ids = np.array([chars.index(c) for c in text], dtype=np.int32)
    config = mlprims.LMConfig(vocab=len(chars), d_model=32, n_layers=1, n_heads=4, n_kv_heads=2,
                              max_len=64)  # fmt: skip
    initial = jax.tree.map(np.asarray, mlprims.init_lm(mlprims.random.key(SEED), config))
    rng = np.random.default_rng(SEED)
    starts = rng.integers(0, len(ids) - CONTEXT - 1, size=(steps, batch))
    data = ids[starts[..., None] + np.arange(CONTEXT + 1)]  # (steps, B, CONTEXT + 1)
    print(f"{steps} AdamW steps of {batch} windows x {CONTEXT + 1} characters, "
          f"{batch // n} rows per device")  # fmt: skip

    sharded = meshes[f"{n} devices"]
    print(f"\nwhere the arrays lie on the {n}-device mesh {dict(sharded.shape)}:")
    show("batch of windows", shard_rows(data[0], sharded))
    show("params['embed']", replicate(initial["embed"], sharded))
    jax.debug.visualize_array_sharding(shard_rows(data[0], sharded))

    losses, params = {}, {}
    for label, mesh in meshes.items():
        t0 = time.perf_counter()
        params[label], losses[label] = train(initial, data, config, mesh)
        curve = np.array([float(x) for x in losses[label]])
        print(f"{label:>10}: loss {curve[0]:.4f} -> {curve[-1]:.4f} "
              f"({time.perf_counter() - t0:.1f} s with compilation)")  # fmt: skip
    first, last = (params[label] for label in meshes)
    show("loss (last step)", losses[f"{n} devices"][-1])
    show("updated params['embed']", last["embed"])
    losses = {label: np.array([float(x) for x in curve]) for label, curve in losses.items()}
    gap = np.max(np.abs(losses["1 device"] - losses[f"{n} devices"]))
    host = [jax.tree.leaves(jax.device_get(p)) for p in (first, last)]  # NumPy copies
    drift = max(np.max(np.abs(a - b)) for a, b in zip(*host, strict=True))
    print(f"largest |1 device - {n} devices| loss along the curves: {gap:.1e}; "
          f"final weights: {drift:.1e} (float32 rounding)")  # fmt: skip

    prompts = ids[rng.integers(0, len(ids) - PROMPT_LENGTH, size=batch)[:, None]
                  + np.arange(PROMPT_LENGTH)]  # fmt: skip
    decoded = {}
    for label, mesh in meshes.items():
        out = decode(replicate(first, mesh), shard_rows(prompts, mesh), config, new_tokens)
        decoded[label] = out
    tokens = decoded[f"{n} devices"]
    show("decoded tokens", tokens)
    same = np.array_equal(np.asarray(decoded["1 device"]), np.asarray(tokens))
    print(f"\ngreedy decoding, {n} devices vs 1: {'identical tokens' if same else 'DIFFERENT'}")
    owner = owners(tokens)
    for row in range(0, batch, rows):  # the first row of each device
        line = "".join(chars[i] for i in np.asarray(tokens[row]))
        print(f"  device {owner[row]}: {line[:PROMPT_LENGTH]!r} -> {line[PROMPT_LENGTH:]!r}")

    path = args.output / "sharded_lm.png"
    draw(path, losses, np.asarray(tokens), owner, chars, n)
    print(f"\nloss curves and the decoded batch by device in {path}")
    if not same:
        raise SystemExit("sharded decoding gave other tokens than one device")
    if abs(losses["1 device"][0] - losses[f"{n} devices"][0]) > 1e-5:
        raise SystemExit("the first sharded loss differs from one device's beyond rounding")


if __name__ == "__main__":
    main()
