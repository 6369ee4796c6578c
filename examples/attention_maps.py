"""Attention maps, drawn: no mask, causal, causal + ALiBi (a steep and a flat head), T5 buckets.

    python examples/attention_maps.py [--quick] [OUTPUT_DIR]   (default ./attention-figures)

One sequence of T = 24 random queries and keys (head dim 16, so that the scaled scores have a
standard deviation of about 1) goes through :func:`mlprims.scaled_dot_product_attention` with
``return_weights=True`` under four rules: nothing, ``is_causal=True``, the causal mask plus
:func:`mlprims.alibi_bias`, and :func:`mlprims.t5_position_bias` of a T5 bucket table. The same
queries and keys go to every panel, so each change in the picture is the mask's or the bias's.

Writes ``attention_maps.png`` (six heatmaps of the weights, query i down, key j across) and
``attention_t5_bias.png`` (the T5 bias itself, constant within a bucket) and prints one
number per panel that says what it shows. Every weight is also recomputed here as
``mlprims.softmax(q @ k^T / sqrt(H) + bias)`` with the removed keys at -inf: the printed
difference is rounding. All on NumPy; any backend gives the same pictures.
"""

from __future__ import annotations

import argparse
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

import mlprims

T, H, HEADS = 24, 16, 8  # query/key length, head dim, ALiBi heads (slopes 1/2 ... 1/256)


def sequence() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Queries, keys and values of one sequence, shape (T, H) each."""
    rng = np.random.default_rng(0)
    q, k, v = rng.standard_normal((3, T, H))
    return q, k, v


def weights(q: np.ndarray, k: np.ndarray, v: np.ndarray, **rules: object) -> np.ndarray:
    """The (..., T, S) attention weights under `rules` (mask, bias, is_causal, ...)."""
    _, w = mlprims.scaled_dot_product_attention(q, k, v, return_weights=True, **rules)
    return np.asarray(w)


def by_hand(q: np.ndarray, k: np.ndarray, bias: np.ndarray, causal: bool) -> np.ndarray:
    """softmax(q k^T / sqrt(H) + bias), removed keys at -inf: the formula, written out."""
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(H) + bias  # (..., T, S)
    if causal:
        scores = np.where(np.tril(np.ones((T, T), bool)), scores, -np.inf)
    return np.asarray(mlprims.softmax(scores, axis=-1))


def mean_distance(w: np.ndarray) -> float:
    """Average over queries of sum_j w_ij |i - j|: how far, in positions, a query looks."""
    distance = np.abs(np.arange(T)[:, None] - np.arange(T)[None, :])
    return float((w * distance).sum(-1).mean())


def say(*sentences: str) -> None:
    """Print the sentences as one paragraph, wrapped, continuation lines indented."""
    print(textwrap.fill(" ".join(sentences), width=96, subsequent_indent="    "))


Panel = tuple[str, np.ndarray, np.ndarray, bool]  # title, weights (T, S), bias (T, S), causal


def masks(q: np.ndarray, k: np.ndarray, v: np.ndarray) -> list[Panel]:
    zero = np.zeros((T, T))
    plain = weights(q, k, v)
    say(
        f"no mask: every query spreads its weight over all {T} keys, each row summing to 1",
        f"(largest error {np.abs(plain.sum(-1) - 1).max():.1e});",
        f"a query looks {mean_distance(plain):.1f} positions away on average.",
    )
    masked = weights(q, k, v, is_causal=True)
    say(
        "causal: query i sees keys 0..i only; the weights above the diagonal are exactly",
        f"{masked[np.triu_indices(T, 1)].max():g}, query 0 puts {masked[0, 0]:g} on key 0,",
        f"and the mean distance drops to {mean_distance(masked):.1f} (the future is gone).",
    )
    return [("no mask", plain, zero, False), ("causal (is_causal=True)", masked, zero, True)]


def alibi(q: np.ndarray, k: np.ndarray, v: np.ndarray) -> list[Panel]:
    slopes = np.asarray(mlprims.alibi_slopes(HEADS, dtype="float64"))
    bias = np.asarray(mlprims.alibi_bias(HEADS, T, T, dtype="float64"))  # (N, T, S)
    # the same q and k in every head, (T, H) -> (N, T, H): only the slope differs
    qh, kh, vh = (np.broadcast_to(a, (HEADS, T, H)) for a in (q, k, v))
    heads = weights(qh, kh, vh, bias=bias, is_causal=True)  # (N, T, S)
    near = [float(np.trace(w) + np.trace(w, offset=-1)) / T for w in heads]
    say(
        "causal + ALiBi: head h adds -m_h (i - j) to the scores. The steepest head (slope 1/2)",
        f"looks at the last keys: mean distance {mean_distance(heads[0]):.1f}, {near[0]:.0%}",
        "of the weight on the query itself and the key before it; the flattest (1/256) is",
        f"almost plain causal attention: mean distance {mean_distance(heads[-1]):.1f},",
        f"{near[-1]:.0%} there. Mean distance per head, slopes 1/2 ... 1/256:",
        ", ".join(f"{mean_distance(w):.1f}" for w in heads) + ".",
    )
    return [
        (f"causal + ALiBi, head {h} (slope 1/{1 / slopes[h]:g})", heads[h], bias[h], True)
        for h in (0, 3, HEADS - 1)
    ]


def t5(q: np.ndarray, k: np.ndarray, v: np.ndarray) -> Panel:
    # T5 learns one value per (bucket, head); random here, so only the buckets give structure
    table = np.random.default_rng(1).normal(0.0, 1.5, (32, 1))  # (num_buckets, N = 1)
    bias = np.asarray(mlprims.t5_position_bias(table, T, T))[0]  # (T, S), bidirectional
    bucketed = weights(q, k, v, bias=bias)
    relative = np.arange(T)[None, :] - np.arange(T)[:, None]  # j - i, (T, S)
    used = len(np.unique(np.asarray(mlprims.t5_relative_position_bucket(relative))))
    past = np.asarray(mlprims.t5_relative_position_bucket(-np.arange(T)))  # keys d back
    shared = [np.flatnonzero(past == b) for b in np.unique(past)]
    say(
        f"T5: the {2 * T - 1} relative positions j - i fall into {used} buckets",
        f"(the bias has {len(np.unique(bias))} distinct values). Distances 0-7 have a bucket",
        "each; further away the",
        "buckets widen logarithmically",
        "(" + ", ".join(f"{d[0]}-{d[-1]}" for d in shared if len(d) > 1),
        "positions back share one each), the same ahead. Mean distance",
        f"{mean_distance(bucketed):.1f}: wherever the learned table (random here) is large.",
    )
    return ("T5 relative bias (bidirectional)", bucketed, bias, False)


def draw_weights(out: Path, panels: list[Panel]) -> None:
    causal = np.tril(np.ones((T, T), bool))
    fig, axes = plt.subplots(2, 3, figsize=(13, 9.4), layout="constrained")
    gamma = matplotlib.colors.PowerNorm(0.5, vmin=0, vmax=1)  # small weights stay visible
    for ax, (title, w, _, is_causal) in zip(axes.flat, panels, strict=True):
        shown = np.where(causal, w, np.nan) if is_causal else w  # masked keys left blank
        image = ax.imshow(shown, cmap="viridis", norm=gamma, interpolation="nearest")
        ax.set(xlabel="key j", ylabel="query i")
        ax.set_title(f"{title}\nmean distance {mean_distance(w):.1f}", fontsize=10)
    fig.colorbar(image, ax=axes, shrink=0.6, label="attention weight (square-root scale)")
    fig.suptitle(f"Attention weights of one sequence (T = {T}, H = {H}), same q and k everywhere")
    fig.savefig(out, dpi=80)
    plt.close(fig)
    say(f"{out}: the six weight matrices; blank cells are the keys a causal mask removes.")


def draw_t5_bias(out: Path, bias: np.ndarray) -> None:
    buckets = mlprims.t5_relative_position_bucket(np.arange(T)[None, :] - np.arange(T)[:, None])
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.6), layout="constrained")
    image = axes[0].imshow(buckets, cmap="tab20b", interpolation="nearest")
    axes[0].set(xlabel="key j", ylabel="query i", title="T5 bucket of j - i (32 buckets)")
    fig.colorbar(image, ax=axes[0])
    image = axes[1].imshow(bias, cmap="RdBu_r", interpolation="nearest")
    axes[1].set(xlabel="key j", ylabel="query i", title="bias table[bucket] added to the scores")
    fig.colorbar(image, ax=axes[1])
    fig.savefig(out, dpi=80)
    plt.close(fig)
    say(
        f"{out}: buckets 0..15 for keys at or before the query, 16..31 after it; the bias is",
        "constant along each diagonal, and along each band of diagonals that share a bucket.",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("output", nargs="?", default="attention-figures", type=Path)
    parser.add_argument("--quick", action="store_true", help="no effect: already fast")
    folder = parser.parse_args().output
    folder.mkdir(parents=True, exist_ok=True)
    q, k, v = sequence()
    panels = [*masks(q, k, v), *alibi(q, k, v), t5(q, k, v)]
    rows = max(np.abs(w.sum(-1) - 1).max() for _, w, _, _ in panels)
    formula = max(np.abs(w - by_hand(q, k, bias, c)).max() for _, w, bias, c in panels)
    say(
        f"Every panel: rows sum to 1 (largest error {rows:.1e}); mlprims' weights minus the",
        f"formula softmax(q@k.T/sqrt(H)+bias) written out here: at most {formula:.1e}.",
    )
    draw_weights(folder / "attention_maps.png", panels)
    draw_t5_bias(folder / "attention_t5_bias.png", panels[-1][2])


if __name__ == "__main__":
    main()
