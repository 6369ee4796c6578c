"""The ``mlprims`` command line.

``mlprims check [--list] [--backends B,..] [--primitives P,..] [--dtypes D,..] [--failed-only]
[--json PATH]``: exit code 0 when every check agrees, 1 when one fails, 2 for a usage error.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from .. import __version__
from . import _report, check
from .bench import _command as bench
from .check import Row, dtypes_of, family, plan, report, rows_as_dicts, run_checks, targets
from .differences import _command as differences
from .practice import _command as practice

__all__ = ["main"]

LEGEND = (
    "cells: max error / tolerance (atol * (1 + max|reference|)); "
    "FAIL above 1 or on an error; - not run"
)


def _split(text: str | None) -> list[str] | None:
    return None if text is None else [t.strip() for t in text.split(",") if t.strip()]


def _error(message: str) -> int:
    print(f"mlprims check: error: {message}", file=sys.stderr)
    return 2


def _print_table(
    title: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[str | _report.Cell]],
    notes: Sequence[str] = (),
    *,
    labels: int = 1,
) -> None:
    terminal = sys.stdout.isatty()
    width = shutil.get_terminal_size().columns if terminal else None
    text = _report.render_table(
        title, columns, rows, notes, labels=labels, color=terminal, width=width
    )
    print(text, end="")


def _list() -> int:
    rows = [
        [case.name, ", ".join(dtypes_of(case)), "yes" if case.jit else "no"] for case in check.CASES
    ]
    _print_table("mlprims check: the cases", ["case", "dtypes", "jit"], rows, labels=3)
    print(f"\ntargets here: {', '.join(targets())}")
    return 0


def _summary(rows: Sequence[Row]) -> str:
    failed = sum(not r.passed for r in rows)
    used = list(dict.fromkeys(r.backend for r in rows))
    primitives = len({r.primitive for r in rows})
    verdict = "all agree" if not failed else f"{failed} FAILED"
    cases = "case" if primitives == 1 else "cases"
    on = "backend" if len(used) == 1 else "backends"
    where = f"{len(used)} {on} ({', '.join(used)})"
    return f"{len(rows)} checks of {primitives} {cases} on {where}: {verdict}"


def _check(args: argparse.Namespace) -> int:
    if args.list:
        return _list()
    json_path = Path(args.json) if args.json else None
    if json_path is not None and not json_path.parent.is_dir():
        return _error(f"--json {args.json}: the folder {json_path.parent} does not exist")
    selection = (_split(args.backends), _split(args.primitives), _split(args.dtypes))
    try:
        runs = plan(*selection)
    except ValueError as exc:
        return _error(str(exc))
    start = time.perf_counter()
    primitives = [family(case.name) for case, _, _ in runs]  # a line each when piped
    with _report.progress(len(runs), headings=primitives) as step:
        rows = run_checks(*selection, progress=step)
    print(
        f"mlprims check: {len(rows)} checks in {time.perf_counter() - start:.1f} s", file=sys.stderr
    )
    columns, table, notes = report(rows, failed_only=args.failed_only)
    if table:
        title = "mlprims check: each primitive against its float64 NumPy reference"
        _print_table(title, columns, table, [LEGEND, *(["", *notes] if notes else [])], labels=2)
        print()
    print(_summary(rows))
    if json_path is not None:
        try:
            json_path.write_text(json.dumps(rows_as_dicts(rows), indent=1, allow_nan=False))
        except OSError as exc:
            return _error(f"--json {args.json}: {exc.strerror or exc}")
    return 1 if any(not r.passed for r in rows) else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line on `argv` (``sys.argv[1:]`` by default) and return the exit code."""
    parser = argparse.ArgumentParser(
        prog="mlprims", description="Machine-learning primitives on every array API backend."
    )
    parser.add_argument("--version", action="version", version=f"mlprims {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser(
        "check",
        help="run every primitive on every installed backend against a float64 NumPy reference",
        description="Run every primitive on every installed backend (and on JAX under jax.jit) "
        "against its float64 NumPy reference, and print one line per primitive and dtype, "
        "one column per backend. Exit code: 0 all agree, 1 a check failed, 2 usage error.",
    )
    check.add_argument(
        "--list", action="store_true", help="list the check cases and the targets, then exit"
    )
    check.add_argument(
        "--backends", help=f"comma-separated, from: {', '.join(targets())} (default: all)"
    )
    check.add_argument(
        "--primitives",
        help="comma-separated primitives or case names, e.g. softmax,gelu (default: all)",
    )
    check.add_argument("--dtypes", help="comma-separated, e.g. float32,float64 (default: all)")
    check.add_argument(
        "--failed-only", action="store_true", help="show only the lines with a failure"
    )
    check.add_argument("--json", metavar="PATH", help="also write the rows as JSON to PATH")
    differences.add_parser(commands)
    bench.add_parser(commands)
    practice.add_parsers(commands)
    args = parser.parse_args(argv)
    try:
        if args.command == "differences":
            return differences.main(args)
        if args.command == "bench":
            return bench.main(args)
        if args.command == "practice":
            return practice.practice_main(args)
        if args.command == "grade":
            return practice.grade_main(args)
        return _check(args)
    except BrokenPipeError:  # `mlprims check --list | head`: the reader left, nothing to report
        sys.stderr.close()
        return 0
