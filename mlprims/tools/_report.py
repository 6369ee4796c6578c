"""One way to show results, shared by the command-line tools (check now; bench, grade later).

`render_table` draws a table with `rich <https://rich.readthedocs.io>`_ when it is installed
(``pip install 'mlprims[cli]'``), in colour when asked, and as plain aligned text otherwise.
`progress` shows a progress bar on a stream that is a terminal and nothing on any other stream,
so piped output and captured test output stay clean.
"""

from __future__ import annotations

import contextlib
import io
import shutil
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TextIO

__all__ = ["STATUSES", "Cell", "progress", "render_table", "rich_installed"]

#: What a cell's status means, and its rich style: below tolerance by far, close to it, beyond
#: it (or crashed), and not run.
STATUSES = {"ok": "green", "warn": "yellow", "fail": "bold red", "muted": "dim"}


@dataclass(frozen=True)
class Cell:
    """One table cell: its text and a status from :data:`STATUSES` (``""`` for none)."""

    text: str
    status: str = ""


def rich_installed() -> bool:
    """Whether rich can be imported (the ``mlprims[cli]`` extra)."""
    try:
        import rich  # noqa: F401
    except ImportError:
        return False
    return True


def _cell(value: str | Cell) -> Cell:
    return value if isinstance(value, Cell) else Cell(value)


def render_table(
    title: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[str | Cell]],
    notes: Sequence[str] = (),
    *,
    labels: int = 1,
    color: bool = False,
    width: int | None = None,
) -> str:
    """The table as text: `title`, a header of `columns`, one line per row, then `notes`.

    Parameters
    ----------
    title : str
        A line above the table.
    columns : sequence of str
        The column headers.
    rows : sequence of sequences of str or Cell
        One entry per column; a :class:`Cell` carries a status that rich shows as a colour.
    notes : sequence of str
        Lines printed under the table as they are (failures, a legend, a summary).
    labels : int
        How many leading columns are labels (left-aligned); the others are right-aligned.
    color : bool
        Colour the cells by status (only with rich; plain text never has colour).
    width : int, optional
        The width to fit the table to (a terminal's); by default lines are never wrapped.

    Returns
    -------
    str
        The rendered text, ending with a newline, without trailing spaces on any line.
    """
    cells = [[_cell(c) for c in row] for row in rows]
    for row in cells:
        if len(row) != len(columns):
            msg = f"each row must have {len(columns)} cells (one per column), got {len(row)}"
            raise ValueError(msg)
    if rich_installed():
        text = _render_rich(title, columns, cells, notes, labels, color, width)
    else:
        text = _render_plain(title, columns, cells, notes, labels)
    return "".join(line.rstrip() + "\n" for line in text.splitlines())


def _render_plain(
    title: str,
    columns: Sequence[str],
    rows: list[list[Cell]],
    notes: Sequence[str],
    labels: int,
) -> str:
    widths = [max(len(line[i]) for line in [columns, *[[c.text for c in r] for r in rows]])
              for i in range(len(columns))]  # fmt: skip

    def line(texts: Sequence[str]) -> str:
        return "  ".join(
            t.ljust(w) if i < labels else t.rjust(w)
            for i, (t, w) in enumerate(zip(texts, widths, strict=True))
        )

    out = [title, "", line(columns), line(["-" * w for w in widths])]
    out += [line([c.text for c in row]) for row in rows]
    if notes:
        out += ["", *notes]
    return "\n".join(out)


def _render_rich(
    title: str,
    columns: Sequence[str],
    rows: list[list[Cell]],
    notes: Sequence[str],
    labels: int,
    color: bool,
    width: int | None,
) -> str:
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(box=box.SIMPLE_HEAD)
    for i, name in enumerate(columns):
        table.add_column(name, justify="left" if i < labels else "right", no_wrap=True)
    for row in rows:
        table.add_row(*(Text(c.text, style=STATUSES.get(c.status, "")) for c in row))
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=width or 100_000,  # piped output: never wrap
        force_terminal=color,
        no_color=not color,
        highlight=False,
    )
    console.print(Text(title, style="bold"))  # above the table, not wrapped to its width
    console.print(table)
    for note in notes:
        console.print(Text(note))  # Text: a note's brackets are not markup
    return buffer.getvalue()


@contextlib.contextmanager
def progress(
    total: int, *, stream: TextIO | None = None, headings: Sequence[str] | None = None
) -> Iterator[Callable[[str], None]]:
    """Show progress through `total` steps on `stream` (stderr): a bar on a terminal, lines
    elsewhere (a log, a pipe) when `headings` are given.

    Yields a function ``step(text)``, called before each step with what it does: the previous
    step counts as done and `text` is shown as the current one. The bar is erased at the end.
    On a stream that is not a terminal, step i writes the line ``[i/total] heading`` when its
    heading differs from the previous step's (one line per group of steps), or nothing without
    `headings`.

    Parameters
    ----------
    total : int
        The number of steps.
    stream : file, optional
        Where to draw; ``sys.stderr`` (looked up at call time) by default.
    headings : sequence of str, optional
        The group of each step (``total`` of them), shown when a stream is not a terminal.

    Yields
    ------
    callable
        ``step(text: str) -> None``.
    """
    stream = sys.stderr if stream is None else stream
    if not stream.isatty():
        yield _lines(total, stream, headings) if headings is not None else lambda text: None
    elif rich_installed():
        with _rich_progress(total, stream) as step:
            yield step
    else:
        with _plain_progress(total, stream) as step:
            yield step


def _lines(total: int, stream: TextIO, headings: Sequence[str]) -> Callable[[str], None]:
    done = -1

    def step(text: str) -> None:
        nonlocal done
        done += 1
        if done == 0 or headings[done] != headings[done - 1]:
            stream.write(f"[{done + 1}/{total}] {headings[done]}\n")
            stream.flush()

    return step


@contextlib.contextmanager
def _rich_progress(total: int, stream: TextIO) -> Iterator[Callable[[str], None]]:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = (
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
    )
    with Progress(*columns, console=Console(file=stream), transient=True) as bar:
        task = bar.add_task("", total=total)
        done = -1

        def step(text: str) -> None:
            nonlocal done
            done += 1
            bar.update(task, completed=done, description=text)

        yield step


@contextlib.contextmanager
def _plain_progress(total: int, stream: TextIO) -> Iterator[Callable[[str], None]]:
    width = shutil.get_terminal_size().columns - 1
    done = -1

    def step(text: str) -> None:
        nonlocal done
        done += 1
        line = f"[{done + 1}/{total}] {text}"[:width]
        stream.write("\r" + line.ljust(width))
        stream.flush()

    try:
        yield step
    finally:
        stream.write("\r" + " " * width + "\r")  # erase the counter
        stream.flush()
