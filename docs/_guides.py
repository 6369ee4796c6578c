"""Writes the generated parts of the guides (``docs/guides/generated/*.txt``) at every build.

Run by conf.py, as ``_api.py`` is; the guides include these files (``.. include::``), so the
pages stay hand-written and the facts come from the code:

* ``differences.txt``: the catalogue of ``mlprims differences``
  (``mlprims/tools/differences/``), one table per item, with the installed versions named.
  Running every snippet takes about 15 s on 2 cores, so the page shows the results recorded
  with each item; ``tests/tools/test_differences.py`` asserts them on the installed versions.
* ``grade-report.txt``: a real report of ``mlprims grade`` on a deliberately wrong
  ``layer_norm`` (the unbiased variance), graded at build time (about 1 s).
* ``results.txt``: ``benchmarks/RESULTS.md`` (its headings, paragraphs and pipe tables) as
  reStructuredText.

The ``.txt`` suffix keeps Sphinx from reading them as pages of their own.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import io
import os
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
#: Where the wrong practice file is written and graded.
WORK = HERE / "_build" / "guides-work"

#: The deliberately wrong answer graded on the practice page: the unbiased variance.
WRONG_LAYER_NORM = """\
import numpy as np


def layer_norm(x, normalized_shape, /, weight=None, bias=None, *, eps=1e-05):
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    axes = tuple(range(-len(shape), 0))
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True, ddof=1)  # the mistake: the unbiased variance
    y = (x - mean) / np.sqrt(var + eps)
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y
"""


def escape(text: str) -> str:
    """`text` as plain reStructuredText: its markup characters escaped."""
    return re.sub(r"([\\`*_|])", r"\\\1", text)


def literal(text: str) -> str:
    """`text` as an inline literal (``:literal:`` keeps backquotes and spaces as they are)."""
    return f":literal:`{text.replace(chr(92), chr(92) * 2).replace('`', chr(92) + '`')}`"


def _title(text: str, underline: str) -> list[str]:
    return [text, underline * len(text), ""]


def _version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name.replace("_", "-"))
    except importlib.metadata.PackageNotFoundError:
        return None


def differences() -> str:
    """The catalogue of ``mlprims differences`` as rst, run live at build time (about 15 s):
    a section per topic, a table per item of what each framework printed here, and the recorded
    result beside it where the live one differs."""
    from mlprims.tools.differences import (
        FRAMEWORKS,
        LEGEND,
        MLPRIMS,
        OPTIONAL,
        PINNED,
        TOPICS,
        items,
        run,
    )

    versions = [f"{n} {v}" for n in (*FRAMEWORKS, *OPTIONAL) if (v := _version(n))]
    chosen = items()
    live = {result.item.id: result for result in run(chosen)}
    intro = (
        f"{len(chosen)} items, each run live while this site was built, with "
        f"{escape(', '.join(versions))}; the results recorded in the catalogue come from "
        f"{escape(PINNED)} (``tests/tools/test_differences.py`` checks that they still hold), "
        "and ``mlprims differences`` runs the same items on your install."
    )
    lines = [
        intro,
        "",
        f"Cells: {_inline(LEGEND.removeprefix('cells: '))}.",
        "",
    ]
    for topic in TOPICS:
        of_topic = [item for item in chosen if item.topic == topic]
        if not of_topic:
            continue
        lines += _title(topic.capitalize(), "-")
        for item in of_topic:
            lines += [f".. rubric:: {escape(item.title)}", "", ".. list-table::", ""]
            result, claims = live[item.id], item.claims()
            for name, entry in item.entries().items():
                output = result.outputs.get(name)
                cell = literal(output) if output is not None else _cell(escape(str(entry)))
                if result.holds(name) is False:
                    cell += f" (recorded: {literal(claims[name])})"
                label = f"**{name}**" if name == MLPRIMS else name
                lines += [f"   * - {label}", f"     - {cell}"]
            lines += ["", f"Why it matters: {escape(item.why)}.", ""]
    return "\n".join(lines) + "\n"


def grade_report() -> str:
    """A real ``mlprims grade`` report of :data:`WRONG_LAYER_NORM`, as a literal block."""
    from mlprims.tools.cli import main

    WORK.mkdir(parents=True, exist_ok=True)
    (WORK / "layer_norm.py").write_text(WRONG_LAYER_NORM)
    out = io.StringIO()
    before = Path.cwd()
    os.chdir(WORK)  # the report names the file as given; hypothesis keeps its database here
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            code = main(["grade", "layer_norm.py", "--primitive", "layer_norm"])
    finally:
        os.chdir(before)
    if code != 1:
        msg = f"mlprims grade of the wrong layer_norm exited {code}, not 1:\n{out.getvalue()}"
        raise RuntimeError(msg)
    lines = ["::", "", "   $ mlprims grade layer_norm.py --primitive layer_norm", ""]
    lines += [f"   {line}".rstrip() for line in out.getvalue().splitlines()]
    lines += ["", f"Exit code: {code}.", ""]
    return "\n".join(lines) + "\n"


def _inline(text: str) -> str:
    """One line of Markdown (code spans, bold) as rst."""
    parts = re.split(r"(`[^`]+`|\*\*[^*]+\*\*)", text)
    out = []
    for part in parts:
        if part.startswith("`") and part.endswith("`") and len(part) > 1:
            out.append(literal(part[1:-1]))
        elif part.startswith("**") and part.endswith("**") and len(part) > 4:
            out.append(f"**{escape(part[2:-2])}**")
        else:
            out.append(escape(part))
    # an inline markup start needs a space or punctuation before it, an end one after it
    joined = ""
    for piece in out:
        if joined and piece[:1] in (":", "*") and joined[-1].isalnum():
            joined += "\\ "
        elif joined and joined[-1] in "`*" and piece[:1].isalnum():
            piece = "\\ " + piece
        joined += piece
    return joined


def _cell(text: str) -> str:
    """`text` safe as a table cell: a lone ``-`` would start a nested list."""
    return "\\" + text if re.match(r"[-+*](\s|$)", text) else text


def _cells(row: str) -> list[str]:
    return [c.strip() for c in row.strip().strip("|").split("|")]


def markdown(text: str) -> str:
    """RESULTS.md's subset of Markdown (headings, paragraphs, pipe tables, comments) as rst."""
    text = re.sub(r"<!--.*?-->\n?", "", text, flags=re.S)
    lines: list[str] = []
    blocks = re.split(r"\n\s*\n", text.strip())
    for block in blocks:
        rows = block.splitlines()
        if rows[0].startswith("#"):
            level, title = rows[0].split(" ", 1)
            if len(level) > 1:  # the page's own title (#) is the guide's
                lines += _title(escape(title), "-" if len(level) == 2 else "~")
            rows = rows[1:]
            if not rows:
                continue
        if rows[0].startswith("|"):
            header, _rule, *body = rows
            lines += [".. list-table::", "   :header-rows: 1", ""]
            for row in [header, *body]:
                cells = _cells(row)
                lines += [
                    f"   {'* -' if i == 0 else '  -'} {_cell(_inline(c))}".rstrip()
                    for i, c in enumerate(cells)
                ]
            lines.append("")
        else:  # a line ending in two spaces (a Markdown line break) ends a paragraph here
            paragraphs = re.split(r"  \n", "\n".join(rows))
            for paragraph in paragraphs:
                lines += [" ".join(_inline(r.strip()) for r in paragraph.splitlines()), ""]
    return "\n".join(lines) + "\n"


def results() -> str:
    """``benchmarks/RESULTS.md`` as rst."""
    return markdown((ROOT / "benchmarks" / "RESULTS.md").read_text())


def write(directory: Path) -> list[Path]:
    """Write the generated parts into `directory`, each only if changed."""
    directory.mkdir(parents=True, exist_ok=True)
    texts = {
        "differences": differences(),
        "grade-report": grade_report(),
        "results": results(),
    }
    written = []
    for stem, text in texts.items():
        path = directory / f"{stem}.txt"
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
        written.append(path)
    return written


if __name__ == "__main__":
    for page in write(HERE / "guides" / "generated"):
        print(page)
