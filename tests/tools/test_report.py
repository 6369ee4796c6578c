"""The shared renderer of the command-line tools: rich when installed, plain text otherwise."""

from __future__ import annotations

import io
import sys

import pytest

from mlprims.tools import _report
from mlprims.tools._report import Cell

COLUMNS = ["primitive", "dtype", "numpy", "jax_jit"]
ROWS = [
    ["softmax", "float32", Cell("0.02", "ok"), Cell("0.70", "warn")],
    ["gelu(tanh)", "float64", Cell("FAIL", "fail"), Cell("-", "muted")],
]


class _Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def without_rich(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``import rich`` fail, as where the ``mlprims[cli]`` extra is not installed."""
    for name in [m for m in sys.modules if m == "rich" or m.startswith("rich.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "rich", None)  # None in sys.modules: ImportError


def _lines(text: str) -> list[str]:
    return text.splitlines()


class TestPlain:
    def test_columns_align_labels_left_and_values_right(self, without_rich) -> None:
        assert not _report.rich_installed()
        text = _report.render_table("title", COLUMNS, ROWS, ["a note"], labels=2)
        assert _lines(text) == [
            "title",
            "",
            "primitive   dtype    numpy  jax_jit",
            "----------  -------  -----  -------",
            "softmax     float32   0.02     0.70",
            "gelu(tanh)  float64   FAIL        -",
            "",
            "a note",
        ]

    def test_never_colours(self, without_rich) -> None:
        text = _report.render_table("title", COLUMNS, ROWS, color=True)
        assert "\x1b[" not in text


class TestRich:
    def test_table_and_notes(self) -> None:
        pytest.importorskip("rich")
        text = _report.render_table("title", COLUMNS, ROWS, ["a [bold]note[/]"], labels=2)
        lines = _lines(text)
        assert lines[0] == "title"
        assert any(set(line.strip()) == {"─"} for line in lines), text  # the header rule
        assert any(line.split() == ["softmax", "float32", "0.02", "0.70"] for line in lines)
        assert any(line.split() == ["gelu(tanh)", "float64", "FAIL", "-"] for line in lines)
        assert lines[-1] == "a [bold]note[/]"  # notes are text, not markup
        assert "\x1b[" not in text
        assert all(line == line.rstrip() for line in lines)

    def test_colour_by_status(self) -> None:
        pytest.importorskip("rich")
        text = _report.render_table("title", COLUMNS, ROWS, color=True)
        assert "\x1b[32m" in text and "0.02" in text  # ok: green
        assert "\x1b[33m" in text  # warn: yellow
        assert "\x1b[1;31m" in text  # fail: bold red

    def test_long_lines_are_not_wrapped_by_default(self) -> None:
        pytest.importorskip("rich")
        long = "x" * 300
        text = _report.render_table("title", ["a"], [[long]], [long])
        assert sum(long in line for line in _lines(text)) == 2


def test_a_row_of_the_wrong_length_is_an_error() -> None:
    with pytest.raises(ValueError, match="3 cells"):
        _report.render_table("title", ["a", "b", "c"], [["x", "y"]])


class TestProgress:
    def test_silent_when_the_stream_is_not_a_terminal(self) -> None:
        stream = io.StringIO()
        with _report.progress(2, stream=stream) as step:
            step("one")
            step("two")
        assert stream.getvalue() == ""

    def test_a_line_per_heading_when_the_stream_is_not_a_terminal(self) -> None:
        stream = io.StringIO()
        headings = ["softmax", "softmax", "gelu", "softmax"]
        with _report.progress(4, stream=stream, headings=headings) as step:
            for text in ("a", "b", "c", "d"):
                step(text)
        assert stream.getvalue() == "[1/4] softmax\n[3/4] gelu\n[4/4] softmax\n"

    def test_silent_on_captured_stderr(self, capsys) -> None:
        with _report.progress(1) as step:
            step("one")
        assert capsys.readouterr().err == ""

    def test_plain_counter_on_a_terminal(self, without_rich) -> None:
        stream = _Terminal()
        with _report.progress(2, stream=stream) as step:
            step("first")
            step("second")
        text = stream.getvalue()
        assert "[1/2] first" in text and "[2/2] second" in text
        assert text.endswith("\r")  # erased at the end

    def test_rich_bar_on_a_terminal(self) -> None:
        pytest.importorskip("rich")
        stream = _Terminal()
        with _report.progress(2, stream=stream) as step:
            step("first")
            step("second")
        assert stream.getvalue() != ""
