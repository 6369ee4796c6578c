"""The benchmark harness times pairs as it says, and every benchmark script starts.

Nothing here measures speed: a fake clock makes the timings exact, and the scripts only show
their ``--help``.
"""

from __future__ import annotations

import importlib.util
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
SCRIPTS = sorted((ROOT / "benchmarks").glob("bench_*.py"))


def _load_harness():
    spec = importlib.util.spec_from_file_location("harness", ROOT / "benchmarks" / "harness.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["harness"] = module  # dataclasses look their module up while they are built
    spec.loader.exec_module(module)
    return module


harness = _load_harness()


class FakeClock:
    """A clock that moves only when a toy function runs: ours costs 3 ticks, native 1."""

    def __init__(self) -> None:
        self.now = 0.0
        self.calls: list[str] = []

    def __call__(self) -> float:
        return self.now

    def toy(self, name: str, ticks: float):
        def fn() -> str:
            self.calls.append(name)
            self.now += ticks
            return name

        return fn


def test_time_pair_interleaves_and_excludes_warm_up() -> None:
    clock = FakeClock()
    ours, native = clock.toy("ours", 3.0), clock.toy("native", 1.0)
    timing_ours, timing_native = harness.time_pair(
        ours, native, repeat=3, number=2, warmup=1, clock=clock
    )
    first_calls, warm_up, rounds = clock.calls[:2], clock.calls[2:4], clock.calls[4:]
    assert first_calls == ["ours", "native"]
    assert warm_up == ["ours", "native"]
    # blocks of `number` calls, the order alternating round by round
    assert rounds == ["ours"] * 2 + ["native"] * 4 + ["ours"] * 4 + ["native"] * 2
    assert (timing_ours.median, timing_ours.best, timing_ours.number) == (3.0, 3.0, 2)
    assert (timing_native.median, timing_native.first) == (1.0, 1.0)


def test_time_pair_chooses_the_block_length_from_the_warm_up() -> None:
    clock = FakeClock()
    ours, native = clock.toy("ours", 0.5), clock.toy("native", 0.01)
    timing_ours, timing_native = harness.time_pair(
        ours, native, repeat=1, min_block=0.2, clock=clock
    )
    assert (timing_ours.number, timing_native.number) == (1, 20)
    assert clock.calls.count("native") == 2 + 20


def test_run_case_gives_a_row_with_ratio_target_and_memory() -> None:
    clock = FakeClock()
    ours, native = clock.toy("ours", 3.0), clock.toy("native", 1.0)
    timings = harness.time_pair(ours, native, repeat=2, number=1, clock=clock)
    memory = (harness.Memory(peak=300.0, call=200.0), harness.Memory(peak=200.0, call=100.0))
    row = harness.Row("toy", *timings, target=2.0, memory=memory, memory_target=2.0)
    assert (row.ratio, row.best_ratio, row.memory_ratio) == (3.0, 3.0, 1.5)
    assert row.met is False  # the time target fails, the memory one passes
    assert harness.Row("toy", *timings, target=4.0, memory=memory, memory_target=2.0).met
    assert harness.Row("toy", *timings).met is None
    only_ours = harness.Row("alone", timings[0], None, target=2.0)
    assert (only_ours.ratio, only_ours.met) == (None, None)

    measured = []

    def fake_memory(case, side):
        measured.append((case.name, side))
        return memory[0] if side == "ours" else memory[1]

    case = harness.Pair(
        "toy pair",
        lambda: (lambda: 1, lambda: 2),
        target=1.5,
        memory=True,
        memory_target=1.2,
    )
    row = harness.run_case(
        case,
        repeat=1,
        number=1,
        memory=fake_memory,
    )
    assert measured == [("toy pair", "ours"), ("toy pair", "native")]
    assert (row.case, row.target, row.memory_ratio, row.memory_target) == (
        "toy pair",
        1.5,
        1.5,
        1.2,
    )
    table = harness.table([row]).splitlines()
    assert table[0].startswith("| case | ours | native | ratio |")
    assert table[2].startswith("| toy pair |")
    assert "300 / 200 MiB (1.50x, target <= 1.2x)" in table[2]


def test_write_section_replaces_only_its_own_section(tmp_path: pathlib.Path) -> None:
    results = tmp_path / "RESULTS.md"
    harness.write_section(results, "bench_a", "## bench_a\nold figures")
    harness.write_section(results, "bench_b", "## bench_b\nother")
    harness.write_section(results, "bench_a", "## bench_a\nsecond")
    text = results.read_text()
    assert text.startswith(harness._PREAMBLE)
    assert "old figures" not in text
    assert text.count("<!-- begin bench_a -->") == 1
    assert text.index("second") < text.index("other"), "the section stays where it was"
    assert "<!-- begin bench_b -->\n## bench_b\nother\n<!-- end bench_b -->" in text


def test_main_writes_a_section_with_the_machine(tmp_path: pathlib.Path) -> None:
    results = tmp_path / "RESULTS.md"
    results.write_text("# kept\n")
    cases = [harness.Pair("toy", lambda: (lambda: None, lambda: None), target=1e9)]
    argv = ["--quick", "--repeat", "1", "--number", "1", "--results", str(results)]
    rows = harness.main("bench_toy.py", "Toy.", lambda args: cases, argv=argv)
    assert [row.case for row in rows] == ["toy"]
    text = results.read_text()
    assert text.startswith("# kept\n")
    assert "<!-- begin bench_toy -->\n## bench_toy" in text
    assert "**Quick run**" in text and "Machine: " in text and "cores" in text
    assert "| toy |" in text and "| yes |" in text


def test_update_replaces_the_rows_it_reran(tmp_path: pathlib.Path) -> None:
    results = tmp_path / "RESULTS.md"
    cases = [
        harness.Pair(name, lambda: (lambda: None, lambda: None), target=1e9)
        for name in ("toy a", "toy b")
    ]
    argv = ["--quick", "--repeat", "1", "--number", "1", "--results", str(results)]
    harness.main("bench_toy.py", "Toy.", lambda args: cases, argv=argv)
    first = results.read_text()
    row_b = next(line for line in first.splitlines() if line.startswith("| toy b |"))
    harness.main("bench_toy.py", "Toy.", lambda args: cases, argv=[*argv, "--only", "a"])
    assert results.read_text() == first, "--only alone writes nothing"
    harness.main(
        "bench_toy.py", "Toy.", lambda args: cases, argv=[*argv, "--only", "a", "--update"]
    )
    text = results.read_text()
    assert row_b in text and text.count("| toy a |") == 1
    assert "Re-run with `python benchmarks/bench_toy.py" in text and ": toy a." in text
    assert text.index("Re-run with") > text.index("| toy b |"), "the note follows the table"


# Runs a script's --help, then says which frameworks it imported: none, so the help is fast.
HELP = """
import os, runpy, sys
sys.argv = [sys.argv[1], "--help"]
sys.path.insert(0, os.path.dirname(sys.argv[0]))  # as `python script.py` does
try:
    runpy.run_path(sys.argv[0], run_name="__main__")
except SystemExit as exit:
    assert exit.code == 0, exit.code
print("imported:", sorted(m for m in ("torch", "jax") if m in sys.modules))
"""


@pytest.mark.parametrize("script", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_script_help(script: pathlib.Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", HELP, str(script)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "--quick" in result.stdout
    assert "--no-memory" in result.stdout, "the script runs through benchmarks/harness.py"
    assert result.stdout.rstrip().endswith("imported: []")


def test_bench_primitives_times_the_cases_of_mlprims_bench() -> None:
    """One harness: the script's pairs are `mlprims bench`'s plans, named by case and native."""
    from mlprims.tools.bench import run

    script = ROOT / "benchmarks" / "bench_primitives.py"
    result = subprocess.run(
        [sys.executable, str(script), "--quick", "--list"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT / "benchmarks",
    )
    assert result.returncode == 0, result.stderr
    listed = result.stdout.splitlines()
    plans = [one for one in run.plan(quick=True) if not one.missing()]
    assert len(listed) == len(plans)
    for line, one in zip(listed, plans, strict=True):
        assert line.startswith(f"{one.case.name} (")
        assert line.endswith(f"{one.backend} {one.mode} vs {one.native.name}")
