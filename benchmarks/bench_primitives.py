"""Benchmark: `mlprims bench`'s cases, through this folder's harness, into RESULTS.md.

    python benchmarks/bench_primitives.py            # the cases at mlprims bench's default size
    python benchmarks/bench_primitives.py --quick    # their --quick size: proves the script runs

The same cases (``mlprims/tools/bench/cases.py``), native ops (``natives.py``) and pairs
(``run.pair``) as ``mlprims bench``, timed by the same ``time_pair``: this script adds what the
harness has and the command has not, peak memory in a fresh process per side and a section of
RESULTS.md. ``mlprims bench`` is for a look at an install (a table, ``--json``, ``--plot``); this
script is for figures to keep. torch runs eager (``mlprims bench --torch-compile`` compiles).
"""

from __future__ import annotations

from functools import partial

from harness import Pair, main

from mlprims.tools.bench import run
from mlprims.tools.bench.cases import size


def cases(args) -> list[Pair]:
    pairs = []
    for one in run.plan(quick=args.quick):
        if one.missing():  # a native op whose module is not installed (scikit-learn)
            continue
        shapes = size(one.case.inputs())
        name = f"{one.case.name} ({shapes}), {one.backend} {one.mode} vs {one.native.name}"
        pairs.append(Pair(name, partial(run.pair, one), memory=True))
    return pairs


if __name__ == "__main__":
    main(__file__, __doc__, cases)
