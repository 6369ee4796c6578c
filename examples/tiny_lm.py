"""A character-level language model trained by two autodiff engines, decoded on three frameworks.

    python examples/tiny_lm.py [--quick] [OUTPUT_DIR]   (default ./tiny-lm)

The text is the Zen of Python, which ships with Python itself (the standard ``this`` module keeps
it rot13-encoded). The model is :func:`mlprims.lm`: a tiny Llama (token embedding, RoPE,
pre-norm RMSNorm blocks with grouped-query attention and SwiGLU, tied output head).

Training runs twice from the same initial weights on the same batches:

- torch: tensors with ``requires_grad`` and ``loss.backward()``;
- JAX: ``jax.value_and_grad`` of the same loss, the whole step under ``jax.jit``;

both updated by one AdamW written below with the array API (torch.optim.AdamW's rule), so
the two curves differ only by float32 rounding. Then the JAX-trained weights decode a prompt
with :func:`mlprims.generate` (the model's KV cache through :func:`mlprims.lm_step_fn`) by
greedy search, top-k and top-p sampling, on NumPy, PyTorch and JAX (``jax.jit``: the whole
generation is one compiled loop) with one key: the same text on all three (in float64, so
that no near-tie of the scores can round differently on one framework).

Prints the losses, the three texts per strategy and whether the frameworks agree, and saves
``tiny_lm_loss.png`` (both training curves). ``--quick`` trains 10 steps of 8 windows instead
of 300 of 32 and generates fewer characters (a smoke test: the text is gibberish then).
"""

from __future__ import annotations

import argparse
import codecs
import contextlib
import io
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import torch
from array_api_compat import array_namespace

import mlprims

jax.config.update("jax_enable_x64", True)  # the decoding comparison runs in float64
SEED, CONTEXT, LEARNING_RATE = 0, 64, 3e-3
PROMPT = "Beautiful is"


def zen_of_python() -> str:
    """The text of ``import this``, without letting the import print it."""
    with contextlib.redirect_stdout(io.StringIO()):
        import this
    return codecs.decode(this.s, "rot13")


def tree_map(fn, *trees):
    """``fn`` over the leaves of nested dicts and lists (the parameters' structure)."""
    first = trees[0]
    if isinstance(first, dict):
        return {k: tree_map(fn, *(t[k] for t in trees)) for k in first}
    if isinstance(first, list):
        return [tree_map(fn, *leaves) for leaves in zip(*trees, strict=True)]
    return fn(*trees)


def adamw_init(params):
    return {"m": tree_map(lambda p: p * 0, params), "v": tree_map(lambda p: p * 0, params)}


def adamw_update(params, grads, state, step, *, lr=LEARNING_RATE, b1=0.9, b2=0.95, eps=1e-8,
                 weight_decay=0.01):  # fmt: skip
    """torch.optim.AdamW: ``p -= lr * (m_hat / (sqrt(v_hat) + eps) + weight_decay * p)``,
    written once with the array API for torch tensors and (traced) JAX arrays alike."""
    m = tree_map(lambda m, g: b1 * m + (1 - b1) * g, state["m"], grads)
    v = tree_map(lambda v, g: b2 * v + (1 - b2) * g * g, state["v"], grads)
    c1, c2 = 1 - b1**step, 1 - b2**step

    def update(p, m, v):
        xp = array_namespace(p)
        return p - lr * ((m / c1) / (xp.sqrt(v / c2) + eps) + weight_decay * p)

    return tree_map(update, params, m, v), {"m": m, "v": v}


def loss_fn(params, tokens, config):
    """Mean cross-entropy of the next character at every position."""
    logits, _ = mlprims.lm(params, tokens[:, :-1], config=config)
    return mlprims.cross_entropy(logits, tokens[:, 1:])


def batches(ids: np.ndarray, steps: int, batch: int) -> np.ndarray:
    """(steps, batch, CONTEXT + 1) windows of the text at random offsets (fixed seed)."""
    starts = np.random.default_rng(SEED).integers(0, len(ids) - CONTEXT - 1, size=(steps, batch))
    return ids[starts[..., None] + np.arange(CONTEXT + 1)]


def train_torch(initial, data, config):
    torch.set_num_threads(1)  # small matrices: more threads cost more than they bring
    params = tree_map(lambda a: torch.tensor(a, requires_grad=True), initial)
    state = adamw_init(tree_map(lambda p: p.detach(), params))
    losses = []
    for step, tokens in enumerate(data, start=1):
        loss = loss_fn(params, torch.from_numpy(tokens), config)
        loss.backward()
        with torch.no_grad():
            grads = tree_map(lambda p: p.grad, params)
            new, state = adamw_update(tree_map(lambda p: p.detach(), params), grads, state, step)
        params = tree_map(lambda p: p.requires_grad_(), new)
        losses.append(loss.item())
    return losses


def train_jax(initial, data, config):
    @jax.jit
    def train_step(params, state, tokens, step):
        loss, grads = jax.value_and_grad(loss_fn)(params, tokens, config)
        params, state = adamw_update(params, grads, state, step)
        return params, state, loss

    params = jax.tree_util.tree_map(jnp.asarray, initial)
    state = adamw_init(params)
    losses = []
    for step, tokens in enumerate(data, start=1):
        params, state, loss = train_step(params, state, jnp.asarray(tokens), step)
        losses.append(loss)
    return jax.tree_util.tree_map(np.asarray, params), [float(x) for x in losses]


def generate_everywhere(params, prompt, new_tokens, config, **options):
    """The same decoding, with the same key, on NumPy, PyTorch and JAX (jit): token arrays."""
    out = {}
    for name in ("numpy", "torch", "jax"):
        backend = mlprims.backends.get(name)
        p = tree_map(lambda a, b=backend: b.asarray(a, dtype="float64"), params)
        key = mlprims.random.key(SEED, backend=name)

        def run(p, prompt, key):
            step = mlprims.lm_step_fn(p, config)
            return mlprims.generate(step, prompt, new_tokens, key=key, **options)

        run = jax.jit(run) if name == "jax" else run
        out[name] = backend.to_numpy(run(p, backend.asarray(prompt), key))
    return out


def draw(path: Path, torch_losses, jax_losses) -> None:
    fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
    steps = np.arange(1, len(torch_losses) + 1)
    ax.plot(steps, torch_losses, "-", label="torch autograd")
    ax.plot(steps, jax_losses, "--", label="jax.value_and_grad + jax.jit")
    ax.set(xlabel="step", ylabel="cross-entropy (nats / character)", yscale="log",
           title="A tiny Llama learns the Zen of Python")  # fmt: skip
    ax.legend()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("output", nargs="?", default="tiny-lm", type=Path)
    parser.add_argument("--quick", action="store_true", help="10 small steps: a smoke test")
    args = parser.parse_args()
    args.output.mkdir(parents=True, exist_ok=True)
    steps, batch, new_tokens = (10, 8, 24) if args.quick else (300, 32, 100)

    text = zen_of_python()
    chars = sorted(set(text))
    ids = np.array([chars.index(c) for c in text])
    config = mlprims.LMConfig(vocab=len(chars), d_model=64, n_layers=2, n_heads=4, n_kv_heads=2,
                              max_len=128)  # fmt: skip
    initial = mlprims.init_lm(mlprims.random.key(SEED), config)
    data = batches(ids, steps, batch)
    print(f"{len(text)} characters, {len(chars)} distinct; {steps} AdamW steps of {batch} x "
          f"{CONTEXT} characters")  # fmt: skip

    t0 = time.perf_counter()
    torch_losses = train_torch(initial, data, config)
    t1 = time.perf_counter()
    params, jax_losses = train_jax(initial, data, config)
    t2 = time.perf_counter()
    print(f"torch autograd: loss {torch_losses[0]:.3f} -> {torch_losses[-1]:.3f} ({t1 - t0:.1f} s)")
    print(f"jax.jit + grad: loss {jax_losses[0]:.3f} -> {jax_losses[-1]:.3f} ({t2 - t1:.1f} s)")
    gap = max(abs(a - b) for a, b in zip(torch_losses, jax_losses, strict=True))
    print(f"largest |torch - jax| loss along the curves: {gap:.1e} (float32 rounding)")
    draw(args.output / "tiny_lm_loss.png", torch_losses, jax_losses)

    prompt = np.array([[chars.index(c) for c in PROMPT]])
    strategies = {
        "greedy": {"strategy": "greedy"},
        "top-k 10, temperature 1.5": {"strategy": "sample", "top_k": 10, "temperature": 1.5},
        "top-p 0.95, temperature 1.5": {"strategy": "sample", "top_p": 0.95, "temperature": 1.5},
    }
    agree = True
    for label, options in strategies.items():
        texts = {
            name: "".join(chars[i] for i in tokens[0])
            for name, tokens in generate_everywhere(params, prompt, new_tokens, config,
                                                    **options).items()
        }  # fmt: skip
        same = len(set(texts.values())) == 1
        agree &= same
        print(f"\n{label}: {'the same text on numpy, torch and jax' if same else 'DIFFERENT'}")
        for name, generated in texts.items():
            print(f"  {name:>5}: {generated!r}")
    print(f"\nloss curves in {args.output / 'tiny_lm_loss.png'}")
    if not agree:
        raise SystemExit("the frameworks decoded different texts")
    if not args.quick and jax_losses[-1] > 1.0:
        raise SystemExit(f"training did not converge: final loss {jax_losses[-1]:.3f}")


if __name__ == "__main__":
    main()
