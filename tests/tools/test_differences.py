"""``mlprims differences``: every recorded result still holds on the installed versions (so the
catalogue cannot rot), and the command's table, topic filter, JSON and errors."""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import replace

import pytest

from mlprims.tools import cli, differences
from mlprims.tools.differences import (
    FRAMEWORKS,
    NOT_INSTALLED,
    OPTIONAL,
    TOPICS,
    Item,
    _command,
    installed,
    items,
    run_item,
)

ITEMS = items()


def test_the_catalogue_covers_every_topic_with_at_least_40_items() -> None:
    assert len(ITEMS) >= 40
    assert {i.topic for i in ITEMS} == set(TOPICS)
    assert len({i.id for i in ITEMS}) == len(ITEMS)
    for item in ITEMS:
        run_here = [n for n in item.claims() if n in FRAMEWORKS]
        assert run_here, f"{item.id}: nothing recorded on an installed framework"
        assert item.title and item.why


@pytest.mark.parametrize("item", ITEMS, ids=lambda i: i.id)
def test_recorded_result_still_holds(item: Item) -> None:
    """Each snippet printed its recorded result; Keras/Flax print `not installed` when absent."""
    result = run_item(item)
    for name, claim in item.claims().items():
        got = result.outputs[name]
        if name in OPTIONAL and not installed(name):
            assert got == NOT_INSTALLED, f"{item.id} on {name}"
        else:
            assert got == claim, f"{item.id} on {name}: printed {got!r}, recorded {claim!r}"


def _boom() -> str:
    return str(1 / 0)


TOY = [
    Item(
        "toy",
        "dtypes",
        "a toy item",
        "to see a wrong record",
        {"numpy": (lambda: "1", "2"), "torch": (lambda: "3", "3"), "keras": (lambda: "k", "k")},
        (_boom, "never"),
    )
]


def test_a_result_that_changed_is_marked_and_a_raising_snippet_shows_its_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(_command, "items", lambda topics=None: TOY)
    monkeypatch.setattr(differences._item, "installed", lambda name: name != "keras")
    assert cli.main(["differences"]) == 0
    out = capsys.readouterr().out
    assert "1 [recorded: 2]" in out
    assert "error: ZeroDivisionError [recorded: never]" in out
    assert NOT_INSTALLED in out
    assert "2 results differ from those recorded" in out
    one = [replace(TOY[0], frameworks={"numpy": (lambda: "1", "2")}, mlprims="-")]
    monkeypatch.setattr(_command, "items", lambda topics=None: one)
    assert cli.main(["differences"]) == 0
    assert "1 result differs from those recorded" in capsys.readouterr().out  # singular
    result = run_item(TOY[0])
    assert (result.holds("numpy"), result.holds("torch"), result.holds("keras")) == (
        False,
        True,
        None,
    )


def test_table_of_a_topic(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["differences", "--topic", "sorting", "--wide"]) == 0
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if "why it matters" in line).split()
    assert header[:2] == ["item", "numpy"] and "mlprims" in header
    assert "indices of the top 2 of [1, 3, 3, 2, 3]" in out
    assert "on torch: [1, 2] i64" in out  # mlprims' own top_k, run live
    assert "softmax" not in out  # another topic
    assert out.rstrip().endswith("every recorded result holds")


class TestCards:
    def test_a_card_per_item_within_80_columns_on_a_terminal(self, capsys, monkeypatch) -> None:
        monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
        monkeypatch.setattr(
            _command.shutil, "get_terminal_size", lambda: os.terminal_size((80, 24))
        )
        assert cli.main(["differences", "--topic", "attention,sorting"]) == 0
        lines = capsys.readouterr().out.splitlines()
        assert max(map(len, lines)) <= 80
        titles = [line for line in lines if line.startswith(("attention / ", "sorting / "))]
        assert len(titles) == len(items(["attention", "sorting"]))
        assert any(line.startswith("  torch             ") for line in lines)
        assert sum(line.startswith("  why: ") for line in lines) == len(titles)

    def test_100_columns_when_piped(self, capsys) -> None:
        assert cli.main(["differences", "--topic", "dtypes,arrays"]) == 0  # captured: a pipe
        lines = capsys.readouterr().out.splitlines()
        assert max(map(len, lines)) <= _command.PIPED_WIDTH
        assert max(map(len, lines)) > 80  # the width is used, not a narrower one

    def test_a_changed_result_flags_the_why(self, monkeypatch, capsys) -> None:
        """The why was written for the recorded results: it is not shown as if still true."""
        monkeypatch.setattr(_command, "items", lambda topics=None: TOY)
        monkeypatch.setattr(differences._item, "installed", lambda name: name != "keras")
        assert cli.main(["differences"]) == 0
        out = capsys.readouterr().out
        assert re.search(r"^  numpy +1 \[recorded: 2\]$", out, re.M)
        assert "  why (written for the recorded results): to see a wrong record" in out


def test_json_holds_every_item_of_the_topics(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "differences.json"
    assert cli.main(["differences", "--topic", "shapes,positional", "--json", str(path)]) == 0
    rows = json.loads(path.read_text())
    assert [r["id"] for r in rows] == [i.id for i in items(["shapes", "positional"])]
    assert {r["topic"] for r in rows} == {"shapes", "positional"}
    assert set(rows[0]) == {"id", "topic", "title", "why", "outputs", "claims", "holds"}
    assert all(v in (True, None) for r in rows for v in r["holds"].values())
    capsys.readouterr()
    assert cli.main(["differences", "--topic", "positional", "--json", "-"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["outputs"]["jax"] == "no RoPE in JAX core"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--topic", "atention"], "unknown 'atention' (did you mean 'attention'?)"),
        (["--topic", ","], "--topic is empty"),
        (["--json", "/no/such/folder/x.json"], "the folder /no/such/folder does not exist"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(
    arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["differences", *arguments]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith("mlprims differences: error: ") and message in captured.err


def test_list_runs_nothing(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setattr(_command, "run", lambda *a, **k: pytest.fail("--list ran the snippets"))
    assert cli.main(["differences", "--list", "--topic", "attention"]) == 0
    out = capsys.readouterr().out
    assert "fully-masked-row" in out and "mask-polarity" in out and "rope" not in out


# What a "why it matters" says a framework does, and what its result must then show.
_FRAMEWORK_NAMES = {
    "numpy": r"\bNumPy\b",
    "torch": r"\btorch\b",
    "jax": r"\bJAX\b",
    "array_api_strict": r"\barray_api_strict\b",
}
_VERB = re.compile(
    r"\b(?P<negated>never |does not |do not |without )?"
    r"(?P<verb>raises?|refuses?|warns?|with a warning|silent|silently)\b"
)


def _says(verb: str, claim: str) -> bool:
    """Whether `claim` (a recorded result) shows what `verb` says."""
    if verb.startswith(("raise", "refuse")):
        return claim.startswith("error:") or ": error:" in claim
    if verb.startswith("warn") or verb == "with a warning":
        return " warns " in f" {claim} "
    return "warns" not in claim and "error:" not in claim  # silent(ly)


def _contradictions(item: Item) -> list[str]:
    """Each clause of the item's why (split at , and ;) that names a framework before "raises",
    "refuses", "warns", "with a warning" or "silently" (or "never raises"), checked against
    that framework's recorded result."""
    claims = item.claims()
    found = []
    for clause in re.split(r"[;,]", item.why):
        start = 0
        for verb in _VERB.finditer(clause):
            subject, start = clause[start : verb.start()], verb.end()
            for name, pattern in _FRAMEWORK_NAMES.items():
                claim = claims.get(name)
                if claim is None or not re.search(pattern, subject):
                    continue
                if _says(verb["verb"], claim) == bool(verb["negated"]):
                    found.append(f"{name}: {verb.group(0)!r} in {clause.strip()!r} vs {claim!r}")
    return found


def test_each_why_agrees_with_the_results_it_speaks_of() -> None:
    """A why that says a framework raises, warns or stays silent agrees with the result
    recorded for it (which the tests above check live): "JAX ... silently computes in float32"
    stood next to a result that warns."""
    wrong = {item.id: problems for item in ITEMS if (problems := _contradictions(item))}
    assert wrong == {}


def test_the_why_check_catches_a_contradiction() -> None:
    item = replace(ITEMS[0], why="torch raises; NumPy silently widens; JAX never raises")
    claims = {"torch": "[1] f32", "numpy": "f64 warns UserWarning", "jax": "error: TypeError"}
    fake = {name: (lambda: "", claim) for name, claim in claims.items()}
    problems = _contradictions(replace(item, frameworks=fake, mlprims="-"))
    assert [p.split(":")[0] for p in problems] == ["torch", "numpy", "jax"]
