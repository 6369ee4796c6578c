"""``mlprims bench``: the cases time like against like, the command writes its JSON and its
chart, and bad input is one line on stderr with exit code 2. Nothing here measures speed."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest

from mlprims import backends
from mlprims.testing import Case
from mlprims.tools import cli
from mlprims.tools.bench import _command as bench_command
from mlprims.tools.bench import cases, run
from mlprims.tools.bench.cases import CASES, QUICK, size
from mlprims.tools.bench.natives import NATIVES, Native
from mlprims.tools.bench.plot import plot_ratios
from mlprims.tools.bench.timing import Timing, seconds, time_pair

PNG = b"\x89PNG\r\n\x1a\n"
FIELDS = {"case", "backend", "mode", "native_op", "ours", "native", "ratio", "error"}


def _bench(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(["bench", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_tiny_run_writes_json_rows_and_a_png(capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("MPLBACKEND", "Agg")
    path, chart = tmp_path / "rows.json", tmp_path / "ratios.png"
    argv = ["--quick", "--primitives", "softmax", "--backends", "numpy,jax", "--repeat", "1"]
    code, out, _ = _bench(capsys, *argv, "--json", str(path), "--plot", str(chart))
    assert code == 0, out
    rows = json.loads(path.read_text())
    assert [(r["backend"], r["mode"]) for r in rows] == [
        ("numpy", "eager"),
        ("jax", "eager"),
        ("jax", "compiled"),
    ]
    for r in rows:
        assert set(r) >= FIELDS and r["case"] == "softmax" and r["error"] == ""
        assert r["ours"] > 0 and r["native"] > 0
        assert math.isclose(r["ratio"], r["ours"] / r["native"])
    assert rows[0]["native_op"] == "scipy.special.softmax"
    assert rows[2]["native_op"] == "jax.nn.softmax"
    assert chart.read_bytes().startswith(PNG)
    assert "scipy.special.softmax" in out and "jax.nn.softmax" in out
    assert "3 pairs timed on numpy, jax" in out and "--quick" in out


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--primitives", "sofmax"], "--primitives names unknown 'sofmax' (did you mean 'softmax'"),
        (["--backends", "cupy"], "--backends names unknown 'cupy'"),
        (["--backends", "array_api_strict"], "--backends names unknown 'array_api_strict'"),
        (["--modes", "jit"], "--modes names unknown 'jit'; choose from: eager, compiled"),
        (["--primitives", ""], "--primitives is empty"),
        (["--backends", "numpy", "--modes", "compiled"], "nothing to time"),
        (["--primitives", "kmeans", "--backends", "torch"], "no native op for kmeans on torch"),
        (["--repeat", "0"], "--repeat must be at least 1, got 0"),
        (["--plot", "ratios.jpgg"], "matplotlib cannot write .jpgg files"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(capsys, argv, expected) -> None:
    code, out, err = _bench(capsys, *argv)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("mlprims bench: error: ")
    assert expected in err


def test_json_or_plot_in_a_missing_folder(capsys, tmp_path) -> None:
    for option in ("--json", "--plot"):
        code, _, err = _bench(capsys, option, str(tmp_path / "missing" / "out.png"))
        assert code == 2 and "the folder" in err and "does not exist" in err


def _boom(x):
    raise ZeroDivisionError("toy")


def test_a_crash_is_exit_code_1_and_a_missing_module_is_not_run(
    capsys, tmp_path, monkeypatch
) -> None:
    def toy(rng):
        return {"x": rng.standard_normal((2, 3))}

    extra = [Case("crash", toy, _boom), Case("needy", toy, lambda x: -x)]
    monkeypatch.setattr(cases, "CASES", [*CASES, *extra])
    numpy_ops = {
        "crash": Native("np.negative", lambda: np.negative),
        "needy": Native("np.negative", lambda: np.negative, needs=("no_such_module_here",)),
    }
    monkeypatch.setitem(NATIVES, "numpy", {**NATIVES["numpy"], **numpy_ops})
    path = tmp_path / "rows.json"
    argv = ["--primitives", "needy", "--backends", "numpy", "--json", str(path)]
    code, out, _ = _bench(capsys, *argv)
    assert code == 0 and "not run" in out and "needs no_such_module_here" in out
    code, out, _ = _bench(capsys, *argv[:1], "crash,needy", *argv[2:])
    assert code == 1
    assert "error" in out and "crash on numpy eager: ZeroDivisionError: toy" in out
    rows = json.loads(path.read_text())  # strict JSON: no timings is null
    assert [r["ratio"] for r in rows] == [None, None]
    assert rows[0]["error"] == "ZeroDivisionError: toy"


def test_list_names_every_case_and_its_native_ops(capsys) -> None:
    code, out, _ = _bench(capsys, "--list")
    assert code == 0
    for case in CASES:
        assert case.name in out
    assert "F.scaled_dot_product_attention" in out and "sklearn KMeans" in out
    assert "q, k, v (4, 8, 256, 64)" in out


def test_every_case_has_a_native_op_and_every_native_op_a_case() -> None:
    for backend, ops in NATIVES.items():
        assert backend in backends.NAMES
        assert set(ops) <= {case.name for case in CASES}, backend
    for case in CASES:
        assert any(case.name in ops for ops in NATIVES.values()), case.name


@pytest.mark.parametrize(
    ("name", "backend"),
    [(c.name, b) for c in QUICK for b in run.installed() if c.name in NATIVES[b]],
)
def test_the_native_op_computes_what_ours_does(name: str, backend: str) -> None:
    """On the quick inputs, eager: the bench compares like with like."""
    case, native = cases.by_name(quick=True)[name], NATIVES[backend][name]
    xb = backends.get(backend)
    arrays = {k: xb.asarray(v) for k, v in case.inputs().items()}
    ours = xb.to_numpy(case.run(**arrays))
    theirs = xb.to_numpy(native.make()(**(native.prepare(arrays) if native.prepare else arrays)))
    if native.prepare is not None:  # the native layout: its prepare maps ours to it
        ours = np.asarray(native.prepare({"out": ours})["out"])
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)


def test_inputs_are_float32_and_the_same_for_every_call() -> None:
    case = cases.by_name(quick=True)["cross_entropy"]
    first, again = case.inputs(), case.inputs()
    assert first["logits"].dtype == np.float32 and first["logits"].shape == (4, 10)
    assert np.issubdtype(first["target"].dtype, np.integer) and first["target"].max() < 10
    assert all(np.array_equal(first[k], again[k]) for k in first)
    default = cases.by_name()["cross_entropy"]
    assert size(default.inputs()) == "logits (1024, 1000), target (1024,)"
    assert [c.name for c in QUICK] == [c.name for c in CASES]


def test_plan_compiles_torch_only_when_asked() -> None:
    modes = {(p.backend, p.mode) for p in run.plan(primitives=["softmax"])}
    assert ("jax", "compiled") in modes and ("torch", "compiled") not in modes
    assert ("numpy", "compiled") not in modes
    with_torch = run.plan(["torch"], ["softmax"], ["compiled"], torch_compile=True)
    assert [(p.backend, p.mode) for p in with_torch] == [("torch", "compiled")]


def test_plot_of_rows_with_and_without_timings(tmp_path) -> None:
    t = Timing(median=2e-3, best=1e-3, first=5e-3, number=10)
    rows = [
        run.Row("softmax", "numpy", "eager", "scipy", "x (2,)", t, Timing(1e-3, 1e-3, 1e-3, 1)),
        run.Row("gelu", "jax", "compiled", "jax.nn.gelu", "x (2,)", t, t),
        run.Row("conv2d", "torch", "eager", "F.conv2d", "x (2,)", error="RuntimeError: no"),
    ]
    assert [r.ratio for r in rows] == [2.0, 1.0, None]
    path = tmp_path / "chart.png"
    plot_ratios(rows, path)
    assert path.read_bytes().startswith(PNG)


@pytest.mark.parametrize(
    ("value", "text"), [(1.5, "1.5 s"), (0.0123, "12.3 ms"), (4.2e-5, "42 µs")]
)
def test_seconds(value: float, text: str) -> None:
    assert seconds(value) == text


def test_the_command_line_imports_no_framework_until_it_runs() -> None:
    code = "import sys, mlprims.tools.cli; print(sorted(set(sys.modules) & {'torch', 'jax'}))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


class TestNoisyRounds:
    def test_spread_is_the_slowest_round_over_the_fastest(self) -> None:
        """A fake clock: a call of `ours` takes 1 s; of `native` 1 s, 1 s, then 5 s from the
        fourth on (first call, warm-up, round 1: 1 s; round 2: 5 s)."""
        now, calls = [0.0], [0]

        def clock() -> float:
            return now[0]

        def steady() -> None:
            now[0] += 1.0

        def native() -> None:
            calls[0] += 1
            now[0] += 5.0 if calls[0] > 3 else 1.0

        ours, timed = time_pair(steady, native, repeat=2, number=1, clock=clock)
        assert ours.spread == 1.0 and not ours.noisy
        assert timed is not None and timed.spread == 5.0 and timed.noisy

    def test_a_noisy_row_is_marked_and_explained(self) -> None:
        steady, noisy = Timing(1e-3, 1e-3, 1e-3, 10), Timing(2e-3, 1e-3, 5e-3, 10, spread=3.5)
        rows = [
            run.Row("softmax", "torch", "eager", "F.softmax", "x (4, 16)", steady, noisy),
            run.Row("gelu", "torch", "eager", "F.gelu", "x (4, 16)", steady, steady),
        ]
        _, table, notes = bench_command.report(rows)
        assert [line[6].text for line in table] == ["0.50x ?", "1.00x"]  # type: ignore[union-attr]
        assert notes[0] == "? noisy, not a figure to quote:"
        assert notes[1].startswith("  softmax on torch eager: rounds spread native 3.5x")
        assert "--threads 1" in notes[1] and len(notes) == 2

    def test_quick_runs_torch_on_one_thread(self, capsys) -> None:
        torch = pytest.importorskip("torch")
        before = torch.get_num_threads()
        try:
            args = ("--quick", "--backends", "torch", "--primitives", "softmax", "--modes", "eager")
            assert _bench(capsys, *args)[0] == 0
            assert torch.get_num_threads() == 1
        finally:
            torch.set_num_threads(before)
