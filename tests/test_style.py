"""ruff and mypy run with the tests, so the README's single test command checks them too."""

from __future__ import annotations

import pathlib
import shutil
import subprocess
import sys

import pytest

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


@pytest.mark.long(45)  # mypy over the package
@pytest.mark.parametrize(
    "target",
    [
        ("-p", "mlprims"),
        # backends/ is installed as mlprims.backends through a package-dir mapping, which mypy
        # cannot follow; it is checked on its own (it only uses relative imports).
        ("backends",),
    ],
    ids=["mlprims", "backends"],
)
def test_mypy(target: tuple[str, ...]) -> None:
    result = _run(sys.executable, "-m", "mypy", *target)
    assert result.returncode == 0, result.stdout + result.stderr
