"""The ``mlprims`` command line: ``mlprims check [--backends] [--primitives] [--json PATH]``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from .check import Row, rows_as_dicts, run_checks, targets

__all__ = ["main"]


def _split(text: str | None) -> list[str] | None:
    return None if text is None else [t.strip() for t in text.split(",") if t.strip()]


def format_table(rows: Sequence[Row]) -> str:
    header = ("backend", "primitive", "dtype", "max error", "tolerance", "pass")
    body = [
        (
            r.backend,
            r.primitive,
            r.dtype,
            f"{r.max_error:.2e}",
            f"{r.tolerance:.2e}",
            "ok" if r.passed else f"FAIL {r.error}".strip(),
        )
        for r in rows
    ]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header) - 1)]
    lines = []
    for line in [header, *body]:
        cells = [cell.ljust(width) for cell, width in zip(line, widths, strict=False)]
        lines.append("  ".join([*cells, line[-1]]))
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def _check(args: argparse.Namespace) -> int:
    try:
        rows = run_checks(_split(args.backends), _split(args.primitives))
    except ValueError as exc:
        print(f"mlprims check: {exc}", file=sys.stderr)
        return 2
    print(format_table(rows))
    failed = [r for r in rows if not r.passed]
    used = sorted({r.backend for r in rows})
    primitives = {r.primitive for r in rows}
    verdict = "all agree" if not failed else f"{len(failed)} FAILED"
    print(
        f"\n{len(rows)} checks, {len(primitives)} primitives on {len(used)} backends "
        f"({', '.join(used)}): {verdict}"
    )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows_as_dicts(rows), f, indent=1)
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="mlprims", description="Machine-learning primitives on every array API backend."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser(
        "check",
        help="run every primitive on every installed backend against a float64 NumPy reference",
    )
    check.add_argument(
        "--backends", help=f"comma-separated, from: {', '.join(targets())} (default: all)"
    )
    check.add_argument("--primitives", help="comma-separated primitive names (default: all)")
    check.add_argument("--json", metavar="PATH", help="also write the rows as JSON to PATH")
    args = parser.parse_args(argv)
    return _check(args)
