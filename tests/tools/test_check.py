"""``mlprims check``: its cases, the comparison, the pivot table, the options, the exit codes,
the JSON."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
from math import inf
from typing import ClassVar

import numpy as np
import pytest

import mlprims
from mlprims.testing import Case
from mlprims.tools import check, cli
from mlprims.tools._report import Cell
from mlprims.tools.cases import CASES
from mlprims.tools.check import Row


def _inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {"x": rng.standard_normal((3, 4))}


def _key(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {"key": rng.integers(0, 2**32, size=2, dtype=np.uint32)}


def _square(x):
    return x * x


def _bits(key):
    return key ^ key


def _reject(token: str) -> float:
    raise ValueError(f"not strict JSON: {token}")


@pytest.fixture
def toy_cases(monkeypatch: pytest.MonkeyPatch) -> dict[str, Case]:
    """Replace the cases by toy ones: one right, one wrong, one that crashes, integer bits."""
    toy = {
        "square": Case("square", _inputs, _square, lambda x: x**2),
        "wrong": Case("wrong", _inputs, _square, lambda x: x**2 + 1e-3),
        "crash": Case("crash", _inputs, lambda x: x.no_such_method(), lambda x: x),
        "bits": Case("bits", _key, _bits, lambda key: np.zeros(2, np.uint32)),
    }
    monkeypatch.setattr(check, "CASES", list(toy.values()))
    return toy


def test_right_case_passes_on_every_backend(toy_cases) -> None:
    rows = check.run_checks(primitives=["square"])
    assert {r.backend for r in rows} == set(check.targets())
    assert {r.dtype for r in rows} == {"float32", "float64"}
    assert all(r.passed for r in rows), [r for r in rows if not r.passed]
    float64_errors = [r.max_error for r in rows if r.dtype == "float64"]
    assert max(float64_errors) == 0.0


def test_wrong_and_crashing_cases_fail_with_exit_code_1(toy_cases, capsys, tmp_path) -> None:
    out_file = tmp_path / "rows.json"
    code = cli.main(["check", "--backends", "numpy", "--json", str(out_file)])
    assert code == 1
    printed = capsys.readouterr().out
    assert "FAIL" in printed and "AttributeError" in printed
    assert "7 checks of 4 cases on 1 backend (numpy): 4 FAILED" in printed
    rows = json.loads(out_file.read_text())
    verdicts = {(r["primitive"], r["dtype"]): r["passed"] for r in rows}
    assert verdicts == {
        ("square", "float32"): True,
        ("square", "float64"): True,
        ("wrong", "float32"): False,
        ("wrong", "float64"): False,
        ("crash", "float32"): False,
        ("crash", "float64"): False,
        ("bits", "uint32"): True,
    }


class TestTargets:
    def test_one_spelling_with_the_tests(self) -> None:
        """Target names are MLPRIMS_BACKENDS names (tests/conftest.py): jax_jit, not jax-jit."""
        assert all("-" not in t for t in check.targets())
        if "jax" in check.targets():
            names = check.targets()
            assert names[names.index("jax") + 1] == "jax_jit"

    def test_jax_jit_runs_under_jit(self, toy_cases) -> None:
        pytest.importorskip("jax")
        rows = check.run_checks(["jax_jit"], ["square"])
        assert rows and all(r.backend == "jax_jit" and r.passed for r in rows)


class TestIntegerOutputs:
    def test_labelled_by_their_dtype_and_run_once(self, toy_cases) -> None:
        """Bits take no float input: no float32/float64 to cast to, one run labelled uint32."""
        assert check.dtypes_of(toy_cases["bits"]) == ("uint32",)
        rows = check.run_checks(["numpy"], ["bits"])
        assert [(r.dtype, r.passed) for r in rows] == [("uint32", True)]

    def test_float_outputs_from_integer_inputs_keep_their_dtypes(self) -> None:
        uniform = Case(
            "u", _key, lambda key: key, lambda key: key.astype(np.float64), dtypes=("float32",)
        )
        assert check.dtypes_of(uniform) == ("float32",)

    def test_outputs_of_different_dtypes_are_labelled_exact(self) -> None:
        pair = Case("p", _key, lambda key: key, lambda key: (key, key.astype(np.int64)))
        assert check.dtypes_of(pair) == ("exact",)

    def test_the_random_bits(self) -> None:
        by_name = {case.name: case for case in CASES}
        assert check.dtypes_of(by_name["random.bits"]) == ("uint32",)
        assert check.dtypes_of(by_name["random.uniform"]) == ("float32",)

    def test_must_be_exact(self, toy_cases) -> None:
        """The label uint32 has no tolerance: one bit off fails (``^ 1`` instead of ``^ key``)."""
        off = Case("off", _key, lambda key: (key ^ key) | 1, lambda key: np.zeros(2, np.uint32))
        row = check.run_case(off, "numpy", "uint32")
        assert not row.passed and row.ratio == float("inf")
        assert "values differ" in row.error


def test_shape_mismatch_is_reported() -> None:
    wide = Case("wide", _inputs, lambda x: x, lambda x: x[:, :3])
    row = check.run_case(wide, "numpy", "float64")
    assert not row.passed and "shape (3, 4), expected (3, 3)" in row.error


def test_case_names_are_unique() -> None:
    names = [case.name for case in CASES]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)


def test_every_check_case_has_a_reference() -> None:
    assert [case.name for case in CASES if case.reference is None] == []


class TestPivot:
    ROWS: ClassVar[list[Row]] = [
        Row("numpy", "square", "float32", 1.2e-7, 1e-5, True, ratio=0.012),
        Row("jax", "square", "float32", 7e-6, 1e-5, True, ratio=0.7),
        Row("numpy", "wrong", "float32", 1e-3, 1e-5, False, "max error 0.001 > 1e-05", 100.0),
        Row("numpy", "crash", "float32", inf, 0.0, False, "AttributeError: no", inf),
        Row("jax", "crash", "float32", 0.0, 1e-5, True),
    ]

    def test_rows_primitive_and_dtype_columns_targets(self) -> None:
        columns, table, notes = check.report(self.ROWS)
        assert columns == ["primitive", "dtype", "numpy", "jax"]
        assert table == [
            ["square", "float32", Cell("0.01", "ok"), Cell("0.70", "warn")],
            ["wrong", "float32", Cell("FAIL 100", "fail"), Cell("-", "muted")],
            ["crash", "float32", Cell("FAIL", "fail"), Cell("0", "ok")],
        ]
        assert notes == [
            "failures:",
            "  wrong float32 on numpy: max error 0.001 > 1e-05 (100 x)",
            "  crash float32 on numpy: AttributeError: no",
        ]

    def test_failed_only(self) -> None:
        _, table, _ = check.report(self.ROWS, failed_only=True)
        assert [line[0] for line in table] == ["wrong", "crash"]

    @pytest.mark.parametrize(
        ("ratio", "text"), [(0.0, "0"), (0.004, "<0.01"), (0.031, "0.03"), (1234.0, "1.23e+03")]
    )
    def test_ratio_text(self, ratio: float, text: str) -> None:
        assert check._ratio_text(ratio) == text

    def test_cli_prints_the_pivot_and_failures_underneath(self, toy_cases, capsys) -> None:
        assert cli.main(["check", "--backends", "numpy"]) == 1
        lines = capsys.readouterr().out.splitlines()
        assert any(line.split() == ["primitive", "dtype", "numpy"] for line in lines)
        assert any(line.split() == ["square", "float64", "0"] for line in lines)
        assert any(line.split() == ["crash", "float64", "FAIL"] for line in lines)
        failures = lines.index("failures:")
        assert any("crash float32 on numpy: AttributeError" in line for line in lines[failures:])


class TestOptions:
    def test_list(self, toy_cases, capsys) -> None:
        assert cli.main(["check", "--list"]) == 0
        out = capsys.readouterr().out
        for name in toy_cases:
            assert name in out
        assert "uint32" in out
        assert f"targets here: {', '.join(check.targets())}" in out

    def test_dtypes(self, toy_cases, capsys, tmp_path) -> None:
        out_file = tmp_path / "rows.json"
        args = ["check", "--backends", "numpy", "--dtypes", "float64", "--json", str(out_file)]
        assert cli.main(args) == 1
        assert {r["dtype"] for r in json.loads(out_file.read_text())} == {"float64"}
        assert "float32" not in capsys.readouterr().out

    def test_failed_only(self, toy_cases, capsys) -> None:
        assert cli.main(["check", "--backends", "numpy", "--failed-only"]) == 1
        lines = capsys.readouterr().out.splitlines()
        dtypes = (["float32"], ["float64"])
        shown = {line.split()[0] for line in lines if line.split()[1:2] in dtypes}
        assert shown == {"wrong", "crash"}

    def test_failed_only_when_all_agree(self, toy_cases, capsys) -> None:
        args = ["check", "--backends", "numpy", "--primitives", "square", "--failed-only"]
        assert cli.main(args) == 0
        assert capsys.readouterr().out.splitlines() == [
            "2 checks of 1 case on 1 backend (numpy): all agree"
        ]

    def test_primitives_select_a_family_and_a_case(self, monkeypatch) -> None:
        toy = {
            "gelu": Case("gelu", _inputs, _square, lambda x: x**2),
            "gelu(tanh)": Case("gelu(tanh)", _inputs, _square, lambda x: x**2),
            "random.bits": Case("random.bits", _key, _bits, lambda key: np.zeros(2, np.uint32)),
        }
        monkeypatch.setattr(check, "CASES", list(toy.values()))
        names = {case.name for case, _, _ in check.plan(["numpy"], ["gelu"])}
        assert names == {"gelu", "gelu(tanh)"}
        names = {case.name for case, _, _ in check.plan(["numpy"], ["gelu(tanh)", "random"])}
        assert names == {"gelu(tanh)", "random.bits"}

    def test_progress_a_line_per_primitive_when_not_on_a_terminal(self, toy_cases, capsys) -> None:
        """Piped or logged, check says what it is at (it was silent for minutes) and its time."""
        assert cli.main(["check", "--backends", "numpy", "--primitives", "square,wrong"]) == 1
        err = capsys.readouterr().err.splitlines()
        assert err[:2] == ["[1/4] square", "[3/4] wrong"]  # two dtypes each
        assert re.fullmatch(r"mlprims check: 4 checks in \d+\.\d s", err[2]) and len(err) == 3

    def test_progress_bar_on_a_terminal(self, toy_cases, capsys, monkeypatch) -> None:

        class Terminal(io.StringIO):
            def isatty(self) -> bool:
                return True

        terminal = Terminal()
        monkeypatch.setattr(sys, "stderr", terminal)
        assert cli.main(["check", "--backends", "numpy", "--primitives", "square"]) == 0
        assert terminal.getvalue() != ""


class TestUsageErrors:
    """Exit code 2, a message on stderr naming what is wrong and the choices; nothing runs."""

    @pytest.mark.parametrize(
        ("args", "expected"),
        [
            (["--backends", "tensorflow"], ["'tensorflow'", "numpy"]),
            (["--backends", "numpy,jax-jit"], ["'jax-jit'", "did you mean 'jax_jit'"]),
            (["--backends", ""], ["--backends is empty", "numpy"]),
            (["--backends", " , "], ["--backends is empty"]),
            (["--primitives", "square,sqare"], ["'sqare'", "did you mean 'square'", "crash"]),
            (["--primitives", "no_such_primitive"], ["'no_such_primitive'", "square"]),
            (["--primitives", ""], ["--primitives is empty"]),
            (["--dtypes", "float32,float65"], ["'float65'", "float64", "uint32"]),
            (["--dtypes", ""], ["--dtypes is empty"]),
            (["--primitives", "bits", "--dtypes", "float32"], ["no check case runs"]),
        ],
    )
    def test_unknown_or_empty(self, toy_cases, capsys, args, expected) -> None:
        assert cli.main(["check", *args]) == 2
        captured = capsys.readouterr()
        assert captured.out == ""
        assert captured.err.startswith("mlprims check: error:")
        for text in expected:
            assert text in captured.err

    def test_json_in_a_missing_folder(self, toy_cases, capsys, tmp_path) -> None:
        path = tmp_path / "missing" / "rows.json"
        assert cli.main(["check", "--backends", "numpy", "--json", str(path)]) == 2
        captured = capsys.readouterr()
        assert captured.out == ""  # refused before running anything
        assert "does not exist" in captured.err and str(path.parent) in captured.err

    def test_json_path_that_cannot_be_written(self, toy_cases, capsys, tmp_path) -> None:
        args = ["check", "--backends", "numpy", "--primitives", "square", "--json", str(tmp_path)]
        assert cli.main(args) == 2
        assert str(tmp_path) in capsys.readouterr().err


def test_json_is_strict(toy_cases, tmp_path) -> None:
    """A crashed row's infinite error is null, not the non-standard token Infinity."""
    out_file = tmp_path / "rows.json"
    args = ["check", "--backends", "numpy", "--primitives", "crash,wrong"]
    assert cli.main([*args, "--json", str(out_file)]) == 1
    rows = json.loads(out_file.read_text(), parse_constant=_reject)
    crash = next(r for r in rows if r["primitive"] == "crash")
    assert crash["max_error"] is None and crash["ratio"] is None and not crash["passed"]
    assert "AttributeError" in crash["error"]
    wrong = next(r for r in rows if r["primitive"] == "wrong")
    assert wrong["ratio"] == pytest.approx(wrong["max_error"] / wrong["tolerance"])


#: Eager JAX is left out of the whole run (133 s: it compiles every operation of every case):
#: each primitive's own tests run it on eager JAX against the same float64 oracles, and
#: test_eager_jax_is_a_target runs `check` there on a few cases.
WHOLE_RUN = [target for target in check.targets() if target != "jax"]


@pytest.mark.long(30)  # jax_jit compiles every case
@pytest.mark.parametrize("target", WHOLE_RUN)
def test_every_primitive_agrees_on_every_backend(tmp_path, target) -> None:
    """The main job itself: all the cases on each installed backend. One test per
    backend: as one test it ran for four minutes on one pytest-xdist worker at the end of the
    suite while the other worker had finished."""
    out_file = tmp_path / "rows.json"
    code = cli.main(["check", "--backends", target, "--json", str(out_file)])
    rows = json.loads(out_file.read_text(), parse_constant=_reject)
    failed = [r for r in rows if not r["passed"]]
    assert code == 0, failed
    assert CASES, "no check case"
    expected = {c.name for c in CASES if c.jit or not target.endswith("_jit")}
    assert {r["primitive"] for r in rows if r["backend"] == target} >= expected


def test_eager_jax_is_a_target(tmp_path) -> None:
    pytest.importorskip("jax")
    out_file = tmp_path / "rows.json"
    primitives = "softmax,layer_norm"
    code = cli.main(
        ["check", "--backends", "jax", "--primitives", primitives, "--json", str(out_file)]
    )
    rows = json.loads(out_file.read_text(), parse_constant=_reject)
    assert code == 0, [r for r in rows if not r["passed"]]
    checked = {r["primitive"].split("(")[0] for r in rows if r["backend"] == "jax"}  # variants
    assert checked == set(primitives.split(","))


def test_version() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mlprims", "--version"], capture_output=True, text=True, check=True
    )
    assert result.stdout == f"mlprims {mlprims.__version__}\n"


def test_python_dash_m_and_console_script() -> None:
    args = ["check", "--backends", "numpy", "--primitives", "softmax"]
    module = subprocess.run(
        [sys.executable, "-m", "mlprims", *args], capture_output=True, text=True, check=False
    )
    assert module.returncode == 0, module.stdout + module.stderr
    assert "all agree" in module.stdout
    assert module.stderr.splitlines()[0] == "[1/2] softmax"  # lines, not a bar, on a pipe
    script = shutil.which("mlprims")
    assert script is not None, "the `mlprims` console script is not installed"
    console = subprocess.run([script, *args], capture_output=True, text=True, check=False)
    assert console.returncode == 0, console.stdout + console.stderr
