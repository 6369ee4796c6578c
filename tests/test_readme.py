"""README.md stays true: its example runs and its test command is what CI runs."""

from __future__ import annotations

import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_example_runs_the_same_attention_on_every_framework(capsys) -> None:
    (example,) = re.findall(r"```python\n(.*?)```", README, re.S)
    exec(compile(example, "README.md", "exec"), {})
    lines = capsys.readouterr().out.splitlines()
    sums = [float(line.split()[-1]) for line in lines[:3]]
    assert [line.split()[0] for line in lines[:3]][:2] == ["numpy", "torch"]
    assert max(sums) - min(sums) == pytest.approx(0.0, abs=1e-3)


def test_the_two_set_up_commands() -> None:
    commands = re.findall(r"```bash\n(.*?)\n```", README, re.S)
    assert commands == [
        "pip install -e . && mlprims check",
        "pip install -r requirements-dev.txt && pytest",
    ]


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert "pip install --quiet -r requirements-dev.txt" in ci
    assert re.search(r"^pytest\b", ci, re.M), "CI must run the README's `pytest`"


def test_ci_type_checks_the_package_and_the_backends() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    for command in ("python -m mypy -p mlprims", "python -m mypy backends"):
        assert re.search(rf"^{re.escape(command)}$", ci, re.M), f".ci/run must run `{command}`"
    assert ci.index("mypy") < ci.index("\npytest"), "before the tests: a type error fails fast"
