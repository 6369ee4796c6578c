"""``mlprims check``: the registry, the comparison, the table, the exit code, the JSON."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from mlprims.tools import check, cli, registry
from mlprims.tools.registry import Case


def _inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {"x": rng.standard_normal((3, 4))}


def _square(x):
    return x * x


@pytest.fixture
def toy_registry(monkeypatch: pytest.MonkeyPatch) -> dict[str, Case]:
    """Replace the registry by three toy cases: one right, one wrong, one that crashes."""
    toy = {
        "square": Case("square", _inputs, _square, lambda x: x**2),
        "wrong": Case("wrong", _inputs, _square, lambda x: x**2 + 1e-3),
        "crash": Case("crash", _inputs, lambda x: x.no_such_method(), lambda x: x),
    }
    monkeypatch.setattr(registry, "cases", lambda: dict(toy))
    monkeypatch.setattr(check, "cases", lambda: dict(toy))
    return toy


def test_right_case_passes_on_every_backend(toy_registry) -> None:
    rows = check.run_checks(primitives=["square"])
    assert {r.backend for r in rows} == set(check.targets())
    assert {r.dtype for r in rows} == {"float32", "float64"}
    assert all(r.passed for r in rows), [r for r in rows if not r.passed]
    float64_errors = [r.max_error for r in rows if r.dtype == "float64"]
    assert max(float64_errors) == 0.0


def test_wrong_and_crashing_cases_fail_with_exit_code_1(toy_registry, capsys, tmp_path) -> None:
    out_file = tmp_path / "rows.json"
    code = cli.main(["check", "--backends", "numpy", "--json", str(out_file)])
    assert code == 1
    printed = capsys.readouterr().out
    assert "FAIL" in printed and "AttributeError" in printed
    assert "6 checks, 3 primitives on 1 backends (numpy): 4 FAILED" in printed
    rows = json.loads(out_file.read_text())
    verdicts = {(r["primitive"], r["dtype"]): r["passed"] for r in rows}
    assert verdicts == {
        ("square", "float32"): True,
        ("square", "float64"): True,
        ("wrong", "float32"): False,
        ("wrong", "float64"): False,
        ("crash", "float32"): False,
        ("crash", "float64"): False,
    }


def test_integer_outputs_must_be_exact() -> None:
    error, _, problem = check._compare(np.array([1, 2]), np.array([1, 3]), 1e-6)
    assert error == float("inf") and not problem
    error, _, _ = check._compare(np.array([1, 2]), np.array([1, 2]), 1e-6)
    assert error == 0.0


def test_shape_mismatch_is_reported() -> None:
    _, _, problem = check._compare(np.zeros(3), np.zeros(4), 1e-6)
    assert "shape" in problem


def test_unknown_backend_or_primitive_exit_2(toy_registry, capsys) -> None:
    assert cli.main(["check", "--backends", "tensorflow"]) == 2
    assert "tensorflow" in capsys.readouterr().err
    assert cli.main(["check", "--primitives", "no_such_primitive"]) == 2
    assert "no_such_primitive" in capsys.readouterr().err


def test_every_registered_primitive_agrees_on_every_backend(tmp_path) -> None:
    """The main job itself: all registered cases on all installed backends."""
    out_file = tmp_path / "rows.json"
    code = cli.main(["check", "--json", str(out_file)])
    rows = json.loads(out_file.read_text())
    failed = [r for r in rows if not r["passed"]]
    assert code == 0, failed
    names = set(registry.cases())
    assert names, "no check case is registered"
    for target in check.targets():
        assert {r["primitive"] for r in rows if r["backend"] == target} >= {
            n for n, c in registry.cases().items() if c.jit or not target.endswith("-jit")
        }


def test_python_dash_m_and_console_script() -> None:
    args = ["check", "--backends", "numpy", "--primitives", "softmax"]
    module = subprocess.run(
        [sys.executable, "-m", "mlprims", *args], capture_output=True, text=True, check=False
    )
    assert module.returncode == 0, module.stdout + module.stderr
    assert "all agree" in module.stdout
    script = shutil.which("mlprims")
    assert script is not None, "the `mlprims` console script is not installed"
    console = subprocess.run([script, *args], capture_output=True, text=True, check=False)
    assert console.returncode == 0, console.stdout + console.stderr
