"""Positional encodings, drawn: sinusoidal PE, RoPE's decay with distance, T5 buckets, ALiBi.

    python examples/positional_encodings.py [--quick] [OUTPUT_DIR]   (default ./positional-figures)

Writes four PNG files and prints what each one shows. Everything is computed by mlprims on
NumPy; any backend gives the same pictures.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

import mlprims


def sinusoidal(out: Path) -> None:
    pe = mlprims.sinusoidal_position_encoding(128, 64)  # (L, D), interleaved sin/cos
    fig, ax = plt.subplots(figsize=(8, 5))
    image = ax.imshow(pe, aspect="auto", cmap="RdBu", vmin=-1, vmax=1, interpolation="nearest")
    ax.set(
        xlabel="dimension (even: sin, odd: cos)",
        ylabel="position",
        title="Sinusoidal position encoding (Vaswani et al.), L=128, D=64",
    )
    fig.colorbar(image, ax=ax)
    fig.savefig(out, dpi=110, bbox_inches="tight")
    plt.close(fig)
    print(f"{out}: the first dimensions oscillate fast with the position, the last ones slowly.")


def rope_decay(out: Path) -> None:
    head_dim, length = 128, 1024
    distance = np.arange(length)
    fig, ax = plt.subplots(figsize=(8, 4.5))
    q = np.random.default_rng(0).standard_normal(head_dim)
    q /= np.linalg.norm(q)
    rotated = mlprims.apply_rope(np.repeat(q[None], length, 0))  # q at positions 0 .. L-1
    ax.plot(distance, rotated @ rotated[0], color="0.7", lw=0.8, label="q = k, random unit")
    for base in (100.0, 10000.0, 500000.0):
        # q = k = ones / sqrt(D): the score is the mean of cos(d·ω_i) over the frequencies,
        # also the average over random directions
        ones = np.full((length, head_dim), head_dim**-0.5)
        rotated = mlprims.apply_rope(ones, base=base)
        ax.plot(distance, rotated @ rotated[0], label=f"q = k = ones, base {base:g}")
    ax.set(
        xlabel="relative distance d = m - n",
        ylabel="<rope(q, m), rope(k, n)>",
        title="RoPE: attention score of a vector with itself, d positions apart (D=128)",
    )
    ax.legend(fontsize=8)
    fig.savefig(out, dpi=110, bbox_inches="tight")
    plt.close(fig)
    print(f"{out}: the score of identical vectors decays (with oscillations) as they move apart;")
    print("    a larger base decays more slowly, which is why long-context models raise it.")


def t5_buckets(out: Path) -> None:
    length = 64
    distances = np.arange(length)[None, :] - np.arange(length)[:, None]  # key - query
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.5), layout="constrained")
    for ax, bidirectional in zip(axes[:2], (True, False), strict=True):
        buckets = mlprims.t5_relative_position_bucket(distances, bidirectional=bidirectional)
        image = ax.imshow(buckets, cmap="viridis", interpolation="nearest")
        kind = "encoder, bidirectional" if bidirectional else "decoder, causal"
        ax.set(xlabel="key j", ylabel="query i", title=f"T5 bucket of j - i ({kind})")
        fig.colorbar(image, ax=ax)
    rp = np.arange(-200, 201)
    for bidirectional in (True, False):
        axes[2].step(
            rp,
            mlprims.t5_relative_position_bucket(rp, bidirectional=bidirectional),
            where="mid",
            label=f"bidirectional={bidirectional}",
        )
    axes[2].axvline(128, color="gray", ls=":", lw=1)
    axes[2].axvline(-128, color="gray", ls=":", lw=1)
    axes[2].set(xlabel="relative position j - i", ylabel="bucket", title="32 buckets, max 128")
    axes[2].legend(fontsize=8)
    fig.savefig(out, dpi=110, bbox_inches="tight")
    plt.close(fig)
    print(f"{out}: near distances get a bucket each (8 per direction in the encoder, 16 in the")
    print("    decoder), then buckets widen logarithmically up to 128, beyond which every distance")
    print("    shares the last bucket; in the decoder all keys after the query share bucket 0.")


def alibi(out: Path) -> None:
    heads, length = 8, 24
    bias = mlprims.alibi_bias(heads, length, length)  # (N, T, S)
    causal = np.tril(np.ones((length, length), bool))
    slopes = mlprims.alibi_slopes(heads)
    fig, axes = plt.subplots(1, 4, figsize=(16, 4.4), layout="constrained")
    low = float(bias[0].min())  # one colour scale for all heads: steep heads dark, flat ones pale
    for ax, h in zip(axes, (0, 2, 5, 7), strict=True):
        shown = np.where(causal, bias[h], np.nan)  # the causal mask removes the upper triangle
        image = ax.imshow(shown, cmap="magma", vmin=low, vmax=0, interpolation="nearest")
        ax.set(xlabel="key j", ylabel="query i", title=f"head {h}: slope {slopes[h]:.4g}")
    fig.colorbar(image, ax=axes, shrink=0.8, label="bias added to the score")
    fig.suptitle("ALiBi bias -m_h·(i - j) on the causal part (8 heads, 4 shown)")
    fig.savefig(out, dpi=110, bbox_inches="tight")
    plt.close(fig)
    print(f"{out}: each head penalises distant keys linearly; slopes 1/2 ... 1/256 give")
    print("    heads that look only nearby (steep) and heads that look far (flat).")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("output", nargs="?", default="positional-figures", type=Path)
    parser.add_argument("--quick", action="store_true", help="no effect: already fast")
    folder = parser.parse_args().output
    folder.mkdir(parents=True, exist_ok=True)
    sinusoidal(folder / "sinusoidal.png")
    rope_decay(folder / "rope_distance.png")
    t5_buckets(folder / "t5_buckets.png")
    alibi(folder / "alibi.png")


if __name__ == "__main__":
    main()
