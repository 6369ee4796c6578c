"""ruff runs with the tests, so the README's single test command checks the style too.

mypy runs in ``.ci/run`` before the tests (tests/test_readme.py checks that it does): inside
pytest it took 30 to 45 s of the suite's 6-minute budget.
"""

from __future__ import annotations

import pathlib
import shutil
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)


def test_ruff() -> None:
    ruff = shutil.which("ruff")
    assert ruff is not None, "ruff is installed by requirements-dev.txt"
    result = _run(ruff, "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr
    formatting = _run(ruff, "format", "--check", ".")
    assert formatting.returncode == 0, formatting.stdout + formatting.stderr
