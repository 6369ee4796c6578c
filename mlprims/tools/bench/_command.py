"""The ``mlprims bench`` subcommand: its options, its table, its JSON and its chart.

``mlprims bench [--list] [--primitives P,..] [--backends B,..] [--modes M,..] [--torch-compile]
[--quick] [--repeat N] [--threads N] [--json PATH] [--plot PATH.png]``: exit code 0, 1 if a
pair failed to run, 2 for a usage error (an unknown name, a folder that does not exist).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .. import _report
from .cases import CASES, size
from .natives import NATIVES
from .run import MODES, NOT_RUN, Plan, Row, installed, plan, rows_as_dicts, run
from .timing import NOISY, machine, seconds

__all__ = ["add_parser", "main", "report"]

TITLE = "mlprims bench: median time per call, ours against the framework's own op"
#: Rounds per pair and seconds per timed block at least: by default, and with --quick.
ROUNDS, QUICK_ROUNDS = 7, 3
MIN_BLOCK, QUICK_MIN_BLOCK = 0.05, 0.005


def _error(message: str) -> int:
    print(f"mlprims bench: error: {message}", file=sys.stderr)
    return 2


def _split(text: str | None) -> list[str] | None:
    return None if text is None else [t.strip() for t in text.split(",") if t.strip()]


def add_parser(commands: Any) -> None:
    """Add ``bench`` to the subcommands `commands` (an argparse subparsers action)."""
    parser = commands.add_parser(
        "bench",
        help="time each primitive against the framework's own op on every installed backend",
        description="Time each primitive that a framework also offers against that op (torch.nn."
        "functional, jax.nn, scipy.special, scikit-learn, or the textbook formula where the "
        "framework has none), on every installed backend, eager and compiled (jax.jit; "
        "torch.compile with --torch-compile), side by side in one process: interleaved rounds, "
        "medians, first call apart. Exit code: 0, 1 if a pair failed to run, 2 usage error.",
    )
    parser.add_argument(
        "--list", action="store_true", help="list the cases, their inputs and native ops, then exit"
    )
    parser.add_argument(
        "--primitives",
        help=f"comma-separated, from: {', '.join(c.name for c in CASES)} (default: all)",
    )
    parser.add_argument(
        "--backends", help=f"comma-separated, from: {', '.join(installed())} (default: all)"
    )
    parser.add_argument("--modes", help=f"comma-separated: {', '.join(MODES)} (default: both)")
    parser.add_argument(
        "--torch-compile",
        action="store_true",
        help="time torch in compiled mode too (torch.compile: seconds to a minute per function)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="tiny inputs, 3 rounds: proves it runs in seconds"
    )
    parser.add_argument(
        "--repeat", type=int, help=f"timed rounds per pair (default {ROUNDS}; quick {QUICK_ROUNDS})"
    )
    parser.add_argument(
        "--threads", type=int, help="torch.set_num_threads (default: torch's; --quick: 1)"
    )
    parser.add_argument("--json", metavar="PATH", help="also write the rows as JSON to PATH")
    parser.add_argument(
        "--plot", metavar="PATH", help="also draw the ratios as a bar chart (PNG) to PATH"
    )


def _ratio_cell(row: Row) -> _report.Cell:
    ratio = row.ratio
    if ratio is None:
        failed = not row.error.startswith(NOT_RUN)
        return _report.Cell("error" if failed else "not run", "fail" if failed else "muted")
    text = f"{ratio:.2f}x" if ratio < 10 else f"{ratio:.3g}x"
    if _noisy(row):
        return _report.Cell(text + " ?", "warn")
    return _report.Cell(text, "ok" if ratio <= 1.0 else "warn" if ratio > 2.0 else "")


def _noisy(row: Row) -> bool:
    return any(t is not None and t.noisy for t in (row.ours, row.native))


def _noise_warning(row: Row) -> str:
    """One line: which side of `row` is noisy, by how much, and what to try."""
    sides = [(name, t) for name, t in (("ours", row.ours), ("native", row.native)) if t]
    spread = ", ".join(f"{name} {t.spread:.1f}x" for name, t in sides if t.noisy)
    return (
        f"  {row.case} on {row.backend} {row.mode}: rounds spread {spread} (slowest / fastest "
        f"> {NOISY:g}x): a busy machine? try --threads 1, on a quiet machine"
    )


def report(rows: Sequence[Row]) -> tuple[list[str], list[list[str | _report.Cell]], list[str]]:
    """The table of `rows`: its columns, one line per pair, and as notes the pairs not timed
    and the noisy ones (their ratio marked ``?``)."""
    table: list[list[str | _report.Cell]] = []
    for r in rows:
        ours, native = r.ours, r.native
        first = f"{seconds(ours.first)} / {seconds(native.first)}" if ours and native else "-"
        table.append(
            [
                r.case,
                r.backend,
                r.mode,
                r.native_op,
                seconds(ours.median) if ours else "-",
                seconds(native.median) if native else "-",
                _ratio_cell(r),
                first,
            ]
        )
    errors = [f"  {r.case} on {r.backend} {r.mode}: {r.error}" for r in rows if r.error]
    noisy = [_noise_warning(r) for r in rows if _noisy(r)]
    columns = ["case", "backend", "mode", "native op", "ours", "native", "ratio", "first call"]
    notes = ["not timed:", *errors] if errors else []
    notes += ["? noisy, not a figure to quote:", *noisy] if noisy else []
    return columns, table, notes


def _print(text: str) -> None:
    print(text, end="")


def _render(title: str, columns: Sequence[str], rows: Any, notes: Sequence[str], labels: int):
    # No width, even on a terminal: fitted to 80 columns, rich would elide whole columns (the
    # ratio first); a long line wraps instead, and nothing is lost.
    color = sys.stdout.isatty()
    return _report.render_table(title, columns, rows, notes, labels=labels, color=color)


def _list() -> int:
    backends = list(NATIVES)
    rows: list[Sequence[str | _report.Cell]] = [
        [
            case.name,
            size(case.inputs()),
            *(NATIVES[b][case.name].name if case.name in NATIVES[b] else "-" for b in backends),
        ]
        for case in CASES
    ]
    notes = [f"installed here: {', '.join(installed())}; --quick: tiny inputs"]
    title = "mlprims bench: the cases and the native op they are timed against"
    _print(_render(title, ["case", "inputs (float32)", *backends], rows, notes, labels=5))
    return 0


def _check_paths(args: argparse.Namespace) -> str | None:
    """What is wrong with --json and --plot, before anything is timed (None: nothing)."""
    for option, given in (("--json", args.json), ("--plot", args.plot)):
        if given is not None and not Path(given).parent.is_dir():
            return f"{option} {given}: the folder {Path(given).parent} does not exist"
    if args.plot is not None:
        from .plot import formats

        try:
            known = formats()
        except ImportError:
            return f"--plot {args.plot}: needs matplotlib: pip install 'mlprims[plot]'"
        suffix = Path(args.plot).suffix.lstrip(".").lower()
        if suffix not in known:
            what = f".{suffix} files" if suffix else "a path without a suffix"
            return f"--plot {args.plot}: matplotlib cannot write {what}; give a .png path"
    if args.repeat is not None and args.repeat < 1:
        return f"--repeat must be at least 1, got {args.repeat}"
    if args.threads is not None and args.threads < 1:
        return f"--threads must be at least 1, got {args.threads}"
    return None


def _prepare(plans: Sequence[Plan], args: argparse.Namespace) -> None:
    """Thread count and compiler settings, before the first framework call."""
    if args.torch_compile:
        # Compile in this process: a pool of compile workers would compete with the timings.
        os.environ.setdefault("TORCHINDUCTOR_COMPILE_THREADS", "1")
        warnings.filterwarnings("ignore", module="torch._dynamo")  # notes on array_api_compat
    # --quick times tiny inputs, where torch's thread pool costs more than the work and, on a
    # busy machine, made native ops 2,000 times slower than a plain timeit: one thread there.
    threads = args.threads or (1 if args.quick else None)
    if threads is not None and any(p.backend == "torch" for p in plans):
        import torch

        torch.set_num_threads(threads)


def _summary(rows: Sequence[Row], elapsed: float) -> str:
    timed = [r for r in rows if r.ratio is not None]
    faster = sum(r.ratio is not None and r.ratio <= 1.0 for r in timed)
    used = ", ".join(dict.fromkeys(r.backend for r in rows))
    pairs = "pair" if len(timed) == 1 else "pairs"
    return f"{len(timed)} {pairs} timed on {used} in {elapsed:.0f} s; ours faster in {faster}"


def main(args: argparse.Namespace) -> int:
    """Run ``mlprims bench`` with the parsed `args`; return the exit code."""
    if args.list:
        return _list()
    problem = _check_paths(args)
    if problem is not None:
        return _error(problem)
    selection = (_split(args.backends), _split(args.primitives), _split(args.modes))
    try:
        plans = plan(*selection, torch_compile=args.torch_compile, quick=args.quick)
    except ValueError as exc:
        return _error(str(exc))
    _prepare(plans, args)
    repeat = args.repeat or (QUICK_ROUNDS if args.quick else ROUNDS)
    start = time.perf_counter()
    with _report.progress(len(plans)) as step:
        rows = run(
            plans,
            repeat=repeat,
            min_block=QUICK_MIN_BLOCK if args.quick else MIN_BLOCK,
            progress=step,
        )
    elapsed = time.perf_counter() - start
    columns, table, problems = report(rows)
    legend = (
        f"ours, native: median time per call over {repeat} interleaved rounds; ratio = ours / "
        "native (below 1: ours is faster); first call: ours / native, compilation included"
    )
    notes = [legend, f"Machine: {machine()}", *(["", *problems] if problems else [])]
    notes += ["", _summary(rows, elapsed)]
    title = TITLE + (" (--quick: tiny inputs, not figures to quote)" if args.quick else "")
    _print(_render(title, columns, table, notes, labels=4))
    return _write(rows, args)


def _write(rows: Sequence[Row], args: argparse.Namespace) -> int:
    try:
        if args.json is not None:
            data = json.dumps(rows_as_dicts(rows), indent=1, allow_nan=False)
            Path(args.json).write_text(data)
        if args.plot is not None:
            from .plot import plot_ratios

            quick = "\n(--quick: tiny inputs, not figures to quote)" if args.quick else ""
            plot_ratios(rows, Path(args.plot), title=f"mlprims bench: ours / native{quick}")
    except OSError as exc:
        return _error(f"{exc.filename}: {exc.strerror or exc}")
    failed = any(r.error and not r.error.startswith(NOT_RUN) for r in rows)
    return 1 if failed else 0
