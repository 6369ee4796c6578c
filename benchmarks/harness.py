"""One timer for every benchmark: our primitive and the native op, side by side in one process.

A script lists its cases (what to run, nothing about timing) and hands them to :func:`main`,
which times each pair, optionally measures peak memory, prints the rows and rewrites the
script's own section of ``benchmarks/RESULTS.md``::

    def cases(args):
        x = torch.randn(1000)
        return [Pair("relu, torch eager", lambda: (lambda: relu(x), lambda: F.relu(x)), target=2)]

    if __name__ == "__main__":
        main(__file__, __doc__, cases)

How a pair is timed (:func:`time_pair`: first call apart, warm-up, interleaved rounds,
medians; ratio = ours / native) is told in ``mlprims/tools/bench/timing.py``, the timing core
this harness shares with the ``mlprims bench`` command.

Peak memory (``Pair(memory=True)``; Linux only): tracemalloc sees neither torch's nor XLA's
allocators, so each side runs in a fresh process (the script again, with ``--memory-child``)
that builds the case, calls the side once (compiling, growing the pools), resets the kernel's
peak-RSS counter (``/proc/self/clear_refs``), calls it again and reads ``VmHWM``. "peak" is the
whole process (interpreter, framework, inputs); "call" is the peak minus the RSS just before
the call: what the call itself needed.
"""

from __future__ import annotations

import argparse
import datetime
import functools
import json
import os
import re
import shlex
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from mlprims.tools.bench.timing import Fn, Timing, machine, seconds, time_pair, wait

# Compile in this process: a pool of compile workers would compete with the timings for the CPU.
os.environ.setdefault("TORCHINDUCTOR_COMPILE_THREADS", "1")

__all__ = ["Memory", "Pair", "Row", "Timing", "main", "run_case", "time_pair", "write_section"]

RESULTS = Path(__file__).resolve().with_name("RESULTS.md")


@dataclass(frozen=True)
class Pair:
    """One comparison. ``make()`` builds the inputs and returns ``(ours, native)``: two
    functions of no argument (``native`` None when the framework has no such op)."""

    name: str
    make: Callable[[], tuple[Fn, Fn | None]]
    target: float | None = None  # ratio ours / native to meet
    memory: bool = False  # also measure peak memory, one fresh process per side
    memory_target: float | None = None  # peak-memory ratio to meet


@dataclass(frozen=True)
class Memory:
    """MiB: peak resident memory of the process, and what one call added to it."""

    peak: float
    call: float


@dataclass(frozen=True)
class Row:
    """The result of one case: its timings and, if measured, its memory (ours, native)."""

    case: str
    ours: Timing
    native: Timing | None
    target: float | None = None
    memory: tuple[Memory, Memory | None] | None = None
    memory_target: float | None = None

    @property
    def ratio(self) -> float | None:
        return None if self.native is None else self.ours.median / self.native.median

    @property
    def best_ratio(self) -> float | None:
        return None if self.native is None else self.ours.best / self.native.best

    @property
    def memory_ratio(self) -> float | None:
        if self.memory is None or self.memory[1] is None:
            return None
        return self.memory[0].peak / self.memory[1].peak

    @property
    def met(self) -> bool | None:
        """Every target given is met; None when there is no target to meet."""
        pairs = ((self.ratio, self.target), (self.memory_ratio, self.memory_target))
        checks = [value <= goal for value, goal in pairs if value is not None and goal is not None]
        return all(checks) if checks else None


def _rss_mib() -> dict[str, float]:
    status = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("VmRSS", "VmHWM")):
                key, value = line.split(":")
                status[key] = int(value.split()[0]) / 1024
    return status


def _memory_child(case: Pair, side: str) -> None:
    """Runs in a fresh process: print the peak RSS of one call of one side as JSON."""
    ours, native = case.make()
    fn = ours if side == "ours" else native
    if fn is None:
        raise ValueError(f"case {case.name!r} has no native side to measure")
    wait(fn())  # compiles under jit, grows the allocators' pools
    before = _rss_mib()["VmRSS"]
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset VmHWM to the current RSS
    wait(fn())
    peak = _rss_mib()["VmHWM"]
    print(json.dumps({"peak": peak, "call": peak - before}))


def _memory(script: str, argv: Sequence[str], case: Pair, side: str) -> Memory:
    command = [sys.executable, script, *argv, "--memory-child", case.name, side]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        msg = f"the memory process of {case.name!r} ({side}) failed:\n{done.stderr[-2000:]}"
        raise RuntimeError(msg)
    return Memory(**json.loads(done.stdout.strip().splitlines()[-1]))


def run_case(
    case: Pair,
    *,
    repeat: int,
    number: int | None = None,
    min_block: float = 0.2,
    memory: Callable[[Pair, str], Memory] | None = None,
) -> Row:
    """Time one case (and measure its memory with ``memory(case, side)`` if it asks)."""
    ours, native = case.make()
    timing = time_pair(ours, native, repeat=repeat, number=number, min_block=min_block)
    del ours, native  # free the inputs before the memory processes start
    peaks = None
    if case.memory and memory is not None:
        peaks = (memory(case, "ours"), memory(case, "native") if timing[1] else None)
    return Row(case.name, *timing, case.target, peaks, case.memory_target)


def _torch_threads(make: Callable[[], Any], threads: int) -> Callable[[], Any]:
    """``make``, then torch.set_num_threads if the case uses torch (the others never load it)."""

    def make_with_threads() -> Any:
        pair = make()
        if "torch" in sys.modules:
            sys.modules["torch"].set_num_threads(threads)
        return pair

    return make_with_threads


def _cells(row: Row) -> list[str]:
    """The table cells of one row, in the order of ``_HEADER``."""
    native = row.native
    memory = "-"
    if row.memory is not None:
        ours_m, native_m = row.memory
        if native_m is None:
            memory = f"{ours_m.peak:.0f} MiB; call {ours_m.call:.0f}"
        else:
            memory = (
                f"{ours_m.peak:.0f} / {native_m.peak:.0f} MiB ({row.memory_ratio:.2f}x"
                + (f", target <= {row.memory_target}x" if row.memory_target else "")
                + f"); call {ours_m.call:.0f} / {native_m.call:.0f}"
            )
    return [
        row.case,
        seconds(row.ours.median),
        seconds(native.median) if native else "-",
        f"{row.ratio:.2f}x" if row.ratio is not None else "-",
        f"{row.best_ratio:.2f}x" if row.best_ratio is not None else "-",
        f"<= {row.target}x" if row.target is not None else "-",
        {None: "-", True: "yes", False: "**no**"}[row.met],
        seconds(row.ours.first) + (f" / {seconds(native.first)}" if native else ""),
        memory,
    ]


_HEADER = ["case", "ours", "native", "ratio", "best", "target", "met", "first call", "peak memory"]


def table(rows: Sequence[Row]) -> str:
    """A Markdown table of the rows."""
    lines = ["| " + " | ".join(_HEADER) + " |", "|" + "---|" * len(_HEADER)]
    lines += ["| " + " | ".join(_cells(row)) + " |" for row in rows]
    return "\n".join(lines)


def section(name: str, body: str) -> str:
    return f"<!-- begin {name} -->\n{body.strip()}\n<!-- end {name} -->"


def write_section(path: Path, name: str, body: str) -> None:
    """Replace the section ``name`` of the file at ``path`` (append it if absent)."""
    new = section(name, body)
    text = path.read_text() if path.exists() else _PREAMBLE
    pattern = re.compile(
        rf"<!-- begin {re.escape(name)} -->.*?<!-- end {re.escape(name)} -->", re.S
    )
    if pattern.search(text):
        text = pattern.sub(lambda _: new, text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + new + "\n"
    path.write_text(text)


def update_rows(path: Path, name: str, rows: Sequence[Row], rerun: str) -> None:
    """Replace, in the section ``name``, the table rows of the same cases as ``rows``, and say
    under the table that they were re-run (``rerun``: the command and the date)."""
    text = path.read_text()
    pattern = re.compile(
        rf"<!-- begin {re.escape(name)} -->\n(.*?)\n<!-- end {re.escape(name)} -->", re.S
    )
    found = pattern.search(text)
    if found is None:
        raise SystemExit(f"{path} has no section {name}: run the whole script once first")
    lines = found.group(1).split("\n")
    for row in rows:
        start = f"| {row.case} |"
        where = [i for i, line in enumerate(lines) if line.startswith(start)]
        if not where:
            raise SystemExit(f"the section {name} of {path} has no row {row.case!r}")
        lines[where[0]] = "| " + " | ".join(_cells(row)) + " |"
    last_row = max(i for i, line in enumerate(lines) if line.startswith("|"))
    names = ", ".join(row.case for row in rows)
    lines.insert(last_row + 1, f"\nRe-run with {rerun}: {names}.")
    body = "\n".join(lines)
    text = text[: found.start()] + section(name, body) + text[found.end() :]
    path.write_text(text)


_PREAMBLE = """# Benchmark results

Written by the scripts in `benchmarks/` through `benchmarks/harness.py`
(`python benchmarks/bench_attention.py`, `bench_normalization.py`, `bench_random.py`); each
script rewrites only its own section. ours and native: median time per call over interleaved
rounds, after warm-up; ratio = ours / native of the medians (below 1: ours is faster), best = of
the fastest rounds; met: every target of the row is met. first call: the first call alone, which
compiles under `jax.jit` / `torch.compile` (shorter when torch's on-disk compile cache is warm).
peak memory: peak RSS of a fresh process per side, ours / native, and "call": what one call
added to the RSS it started from.
"""


def main(
    script: str,
    doc: str | None,
    cases: Callable[[argparse.Namespace], list[Pair]],
    *,
    add_arguments: Callable[[argparse.ArgumentParser], None] | None = None,
    notes: Callable[[argparse.Namespace], list[str]] | None = None,
    repeat: int = 15,
    argv: Sequence[str] | None = None,
) -> list[Row]:
    """The command line of a benchmark script: parse, time every case, print, write."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes, few rounds")
    parser.add_argument("--repeat", type=int, help=f"timed rounds (default {repeat}; quick 5)")
    parser.add_argument("--number", type=int, help="calls per timed block (default: automatic)")
    parser.add_argument("--only", help="run the cases whose name contains this (writes nothing)")
    parser.add_argument(
        "--update",
        action="store_true",
        help="with --only: replace those rows in RESULTS.md, noting the re-run under the table",
    )
    parser.add_argument("--list", action="store_true", help="list the cases and stop")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory processes")
    parser.add_argument("--no-write", action="store_true", help=f"do not update {RESULTS.name}")
    parser.add_argument("--results", type=Path, default=RESULTS, help="the file to update")
    parser.add_argument("--threads", type=int, help="torch.set_num_threads (default: torch's own)")
    parser.add_argument("--memory-child", nargs=2, help=argparse.SUPPRESS)
    if add_arguments is not None:
        add_arguments(parser)
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", module="torch._dynamo")  # notes on array_api_compat
    all_cases = cases(args)
    if args.threads:
        all_cases = [replace(c, make=_torch_threads(c.make, args.threads)) for c in all_cases]
    if args.list:
        print("\n".join(case.name for case in all_cases))
        return []
    if args.memory_child:
        name, side = args.memory_child
        _memory_child(next(c for c in all_cases if c.name == name), side)
        return []
    chosen = [c for c in all_cases if args.only is None or args.only in c.name]
    rounds = args.repeat or (5 if args.quick else repeat)
    memory = None
    if not args.no_memory and Path("/proc/self/clear_refs").exists():  # Linux
        memory = functools.partial(_memory, script, argv)
    start = time.perf_counter()
    rows = []
    print(f"{Path(script).name}: {len(chosen)} cases, {rounds} rounds each")
    print(" | ".join(_HEADER))
    for case in chosen:
        row = run_case(
            case,
            repeat=rounds,
            number=args.number,
            min_block=0.02 if args.quick else 0.2,
            memory=memory,
        )
        rows.append(row)
        print(" | ".join(_cells(row)), flush=True)
    minutes = (time.perf_counter() - start) / 60

    name = Path(script).stem
    command = shlex.join(["python", f"benchmarks/{Path(script).name}", *argv])
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    body = [f"## {name}", ""]
    if args.quick:
        body += [
            "**Quick run** (`--quick`: small sizes, few rounds): proves the script runs;",
            "not figures to quote.",
            "",
        ]
    body += [
        f"`{command}`: {rounds} rounds per case, {minutes:.1f} min, {when}.  ",
        f"Machine: {machine()}.",
        "",
        table(rows),
    ]
    remarks = notes(args) if notes is not None else []
    body += ["", *remarks] if remarks else []
    print(*remarks, f"Machine: {machine()}", sep="\n")
    if args.only is None and not args.no_write:
        write_section(args.results, name, "\n".join(body))
        print(f"wrote the section {name} of {args.results}")
    elif args.update and rows and not args.no_write:
        update_rows(args.results, name, rows, f"`{command}` ({rounds} rounds, {when})")
        print(f"updated {len(rows)} rows of the section {name} of {args.results}")
    return rows
