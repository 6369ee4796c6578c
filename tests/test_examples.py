"""The teaching scripts in examples/ run as their docstrings say and write their pictures.

Each runs with ``--quick`` (every example accepts it: fewer epochs, or no effect when the script
is already fast)."""

from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


@pytest.mark.long(20)  # the training examples
@pytest.mark.parametrize("script", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs_and_draws(script: pathlib.Path, tmp_path: pathlib.Path) -> None:
    result = subprocess.run(
        [sys.executable, str(script), "--quick", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        env={"MPLBACKEND": "Agg", "PATH": ""},
    )
    assert result.returncode == 0, result.stderr
    pictures = list(tmp_path.glob("*.png"))
    assert pictures, f"{script.name} wrote no PNG into {tmp_path}"
    assert all(p.stat().st_size > 1000 for p in pictures)
    assert result.stdout.strip(), f"{script.name} printed nothing to explain its pictures"
