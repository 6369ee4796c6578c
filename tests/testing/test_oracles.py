"""mlprims.testing.oracles: one set of float64 references, NumPy only, shared by the tests and
``mlprims check`` (so that ``mlprims check`` runs where no framework is installed)."""

from __future__ import annotations

import ast
import importlib
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
ORACLES = sorted(
    path.stem
    for path in (ROOT / "mlprims" / "testing" / "oracles").glob("*.py")
    if path.stem != "__init__"
)
#: what an oracle may import: NumPy, the standard library's maths, iteration and typing helpers,
#: and other oracles
ALLOWED = {"__future__", "math", "statistics", "itertools", "typing", "numpy"}


def _imports(path: pathlib.Path) -> set[str]:
    """The top-level names of the absolute imports of `path` (relative ones are other oracles)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_every_family_has_an_oracle() -> None:
    families = ("activations", "attention", "clustering", "convolution", "decoding", "detection",
                "losses", "normalization", "positional", "random", "transformer")  # fmt: skip
    for family in families:
        assert family in ORACLES


@pytest.mark.parametrize("name", ORACLES)
def test_imports_numpy_only(name: str) -> None:
    path = ROOT / "mlprims" / "testing" / "oracles" / f"{name}.py"
    assert _imports(path) <= ALLOWED, _imports(path) - ALLOWED


def test_importing_them_loads_no_framework() -> None:
    modules = ", ".join(f"mlprims.testing.oracles.{name}" for name in ORACLES)
    frameworks = ("torch", "jax", "array_api_strict", "hypothesis", "pytest")
    code = f"import sys, {modules}; print([m for m in {frameworks!r} if m in sys.modules])"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert result.stdout.strip() == "[]", result.stdout + result.stderr


@pytest.mark.parametrize("name", ORACLES)
def test_every_oracle_says_what_it_is(name: str) -> None:
    module = importlib.import_module(f"mlprims.testing.oracles.{name}")
    assert module.__doc__
    for function in module.__all__:
        doc = getattr(module, function).__doc__
        assert doc and doc.strip(), f"{name}.{function} has no docstring"


def test_tests_import_no_test_module() -> None:
    """Shared test code lives in mlprims.testing; a test module never imports another."""
    tests = ROOT / "tests"
    offenders = [
        f"{path.relative_to(ROOT)}: {module}"
        for path in sorted(tests.rglob("*.py"))
        for module in _imports(path)
        if module in {"tests", "conftest", "helpers"} or module.startswith("test_")
    ]
    assert not offenders
