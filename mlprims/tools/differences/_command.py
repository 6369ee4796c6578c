"""The ``mlprims differences`` subcommand: its options, its table, its JSON.

``mlprims differences [--topic T,..] [--list] [--wide] [--json PATH]``: exit code 0, or 2 for
a usage error (an unknown topic, a folder that does not exist). One card per item, fitted to
the terminal's width (:data:`PIPED_WIDTH` columns when the output is not a terminal); ``--wide``
prints one table, a row per item.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import shutil
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .. import _report
from .._options import choose
from ._catalogue import items
from ._item import (
    FRAMEWORKS,
    LEGEND,
    MLPRIMS,
    NOT_INSTALLED,
    OPTIONAL,
    PINNED,
    TOPICS,
    Item,
    Result,
    run,
)

__all__ = ["PIPED_WIDTH", "add_parser", "cards", "main", "report"]

TITLE = "mlprims differences: where NumPy, PyTorch, JAX and array_api_strict disagree"
#: The width of the cards when the output is not a terminal (a pipe, a file).
PIPED_WIDTH = 100


def _error(message: str) -> int:
    print(f"mlprims differences: error: {message}", file=sys.stderr)
    return 2


def add_parser(commands: Any) -> None:
    """Add ``differences`` to the subcommands `commands` (an argparse subparsers action)."""
    parser = commands.add_parser(
        "differences",
        help="run the catalogue of differences between NumPy, PyTorch, JAX and "
        "array_api_strict on the installed frameworks",
        description="Run small snippets showing where NumPy, PyTorch, JAX and array_api_strict "
        "(and Keras, Flax when installed) disagree, and print what each does, what mlprims "
        f"does and why it matters. Results recorded on {PINNED}; a cell that differs here "
        "is marked. Exit code: 0, or 2 for a usage error.",
    )
    parser.add_argument("--topic", help=f"comma-separated, from: {', '.join(TOPICS)}")
    parser.add_argument(
        "--list", action="store_true", help="list the items (id, topic, title) without running"
    )
    parser.add_argument(
        "--wide", action="store_true", help="one table, a row per item, instead of cards"
    )
    parser.add_argument(
        "--json", metavar="PATH", help="write the results as JSON to PATH ('-': to stdout)"
    )


def _columns(chosen: Sequence[Item]) -> list[str]:
    used = {name for item in chosen for name in item.frameworks}
    frameworks = [f for f in FRAMEWORKS if f in used]
    return [*frameworks, *(f for f in OPTIONAL if f in used)]


def _cell(result: Result, name: str) -> _report.Cell:
    if name not in result.outputs:
        return _report.Cell("-", "muted")
    text = result.outputs[name]
    if text == NOT_INSTALLED:
        return _report.Cell(text, "muted")
    if result.holds(name) is False:
        return _report.Cell(f"{text} [recorded: {result.item.claims()[name]}]", "warn")
    return _report.Cell(text)


def report(results: Sequence[Result]) -> tuple[list[str], list[list[str | _report.Cell]]]:
    """The table of `results`: its columns and one row per item."""
    frameworks = _columns([r.item for r in results])
    rows: list[list[str | _report.Cell]] = [
        [
            r.item.title,
            *(_cell(r, name) for name in frameworks),
            _cell(r, MLPRIMS),
            r.item.why,
        ]
        for r in results
    ]
    return ["item", *frameworks, MLPRIMS, "why it matters"], rows


def cards(results: Sequence[Result], width: int) -> str:
    """One card per result, no line wider than `width`: the title, a line per framework and
    mlprims (a changed result marked), and why it matters (flagged when a result changed: the
    text was written for the recorded results)."""
    names = [*_columns([r.item for r in results]), MLPRIMS]
    label = max(map(len, names)) + 2

    def wrapped(first: str, text: str, indent: int) -> list[str]:
        prefix = " " * indent
        return textwrap.wrap(
            text, width, initial_indent=first, subsequent_indent=prefix, break_on_hyphens=False
        ) or [first.rstrip()]

    lines: list[str] = []
    for r in results:
        lines += wrapped("", f"{r.item.topic} / {r.item.id}: {r.item.title}", 2)
        for name in names:
            if name not in r.outputs:
                continue
            cell = _cell(r, name)
            lines += wrapped(f"  {name.ljust(label)}", cell.text, label + 2)
        changed = any(r.holds(name) is False for name in names)
        why = "why (written for the recorded results):" if changed else "why:"
        lines += [*wrapped(f"  {why} ", r.item.why, 4), ""]
    return "\n".join(lines) + "\n"


def _versions() -> str:
    found = []
    for name in (*FRAMEWORKS, *OPTIONAL):
        try:
            found.append(f"{name} {importlib.metadata.version(name.replace('_', '-'))}")
        except importlib.metadata.PackageNotFoundError:
            continue
    return ", ".join(found)


def _summary(results: Sequence[Result]) -> str:
    checked = [r.holds(n) for r in results for n in r.outputs]
    differ = checked.count(False)
    verdict = (
        "every recorded result holds"
        if not differ
        else f"{differ} {'result differs' if differ == 1 else 'results differ'} from those "
        f"recorded on {PINNED} (marked [recorded: ...])"
    )
    return f"{len(results)} items on {_versions()}: {verdict}"


def _print(text: str) -> None:
    print(text, end="")


def _list(chosen: Sequence[Item]) -> int:
    rows: list[Sequence[str | _report.Cell]] = [[i.id, i.topic, i.title] for i in chosen]
    _print(_report.render_table("mlprims differences: the items", ["id", "topic", "title"], rows,
                                labels=3))  # fmt: skip
    return 0


def main(args: argparse.Namespace) -> int:
    """Run ``mlprims differences`` with the parsed `args`; return the exit code."""
    topics = None if args.topic is None else [t.strip() for t in args.topic.split(",")]
    try:
        chosen = items(choose("--topic", [t for t in topics if t], TOPICS) if topics else None)
    except ValueError as exc:
        return _error(str(exc))
    if args.list:
        return _list(chosen)
    json_path = None if args.json in (None, "-") else Path(args.json)
    if json_path is not None and not json_path.parent.is_dir():
        return _error(f"--json {args.json}: the folder {json_path.parent} does not exist")
    with _report.progress(len(chosen)) as step:
        results = run(chosen, progress=step)
    data = json.dumps([r.as_dict() for r in results], indent=1)
    if args.json == "-":
        print(data)
        return 0
    notes = [LEGEND, "", _summary(results)]
    if args.wide:
        columns, rows = report(results)
        color = sys.stdout.isatty()
        _print(_report.render_table(TITLE, columns, rows, notes, labels=len(columns), color=color))
    else:
        width = shutil.get_terminal_size().columns if sys.stdout.isatty() else PIPED_WIDTH
        body = cards(results, width)
        _print("\n".join([TITLE, "", body, *(textwrap.fill(n, width) for n in notes)]) + "\n")
    if json_path is not None:
        try:
            json_path.write_text(data)
        except OSError as exc:
            return _error(f"--json {args.json}: {exc.strerror or exc}")
    return 0
