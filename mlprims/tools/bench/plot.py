"""The ``--plot`` chart of ``mlprims bench``: one bar per pair, its ratio on a log scale.

Drawn with matplotlib's object-oriented API (a :class:`matplotlib.figure.Figure`, no pyplot), so
it needs no display and leaves the user's pyplot state alone. matplotlib is the ``mlprims[plot]``
extra.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .run import Row

__all__ = ["formats", "plot_ratios"]

#: One colour per (backend, mode), in the order the legend lists them.
COLORS = {
    ("numpy", "eager"): "tab:blue",
    ("torch", "eager"): "tab:orange",
    ("torch", "compiled"): "tab:red",
    ("jax", "eager"): "tab:green",
    ("jax", "compiled"): "tab:olive",
}


def formats() -> list[str]:
    """The file suffixes matplotlib can write (``png``, ``svg``, ``pdf``, ...).

    Raises
    ------
    ImportError
        If matplotlib is not installed.
    """
    from matplotlib.figure import Figure

    return sorted(Figure().canvas.get_supported_filetypes())


def plot_ratios(
    rows: Sequence[Row], path: Path, *, title: str = "mlprims bench: ours / native"
) -> None:
    """Draw the ratio ours / native of each row that ran as a horizontal bar; save to `path`.

    Bars are grouped by case, coloured by backend and mode; the x axis is logarithmic and each
    bar runs from 1 to the ratio (to the left: ours is faster).
    """
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    timed = [r for r in rows if r.ratio is not None]
    ratios = [r.ratio for r in timed if r.ratio is not None]
    labels = [f"{r.case}  {r.backend} {r.mode}" for r in timed]
    keys = [(r.backend, r.mode) for r in timed]
    figure = Figure(figsize=(8, 1.2 + 0.28 * max(len(timed), 1)), layout="constrained")
    axes = figure.subplots()
    y = list(range(len(timed)))[::-1]  # the first row on top
    # bars start at 1 and reach the ratio: right of the line ours is slower, left faster
    axes.barh(
        y, [r - 1.0 for r in ratios], left=1.0, color=[COLORS.get(k, "tab:gray") for k in keys]
    )
    axes.set_yticks(y, labels, fontsize=8)
    axes.set_xscale("log")
    axes.axvline(1.0, color="black", linewidth=1)
    axes.set_xlabel("ours / native (median time per call; below 1: ours is faster)")
    axes.set_title(title, fontsize=10)
    used = list(dict.fromkeys(keys))
    handles = [Patch(color=COLORS.get(k, "tab:gray"), label=" ".join(k)) for k in used]
    axes.legend(handles=handles, fontsize=8, loc="best")
    figure.savefig(path, dpi=120)
