"""Time our primitive and the native op side by side, in one process, in interleaved rounds.

How a pair is timed (:func:`time_pair`, ``timeit`` with two statements):

1. The first call of each side is timed alone and reported as "first call": it holds the
   compilation of ``jax.jit`` / ``torch.compile``.
2. ``warmup`` more calls of each, untimed (allocator pools, caches); the last one sets the
   number of calls per block (enough for ``min_block`` seconds) unless ``number`` is given.
3. ``repeat`` rounds; in each, a block of calls of one side, then a block of the other; the
   order alternates round by round (ours-native, native-ours, ...), so that a change of load on
   a shared machine, or what the first block leaves in the caches, falls on both alike.
4. A side's time is the median over the rounds of block time / number; "best" is the fastest
   round (the least disturbed). ratio = ours / native of the medians: below 1, ours is faster.
5. "spread" is the slowest round over the fastest: above :data:`NOISY` the rounds disagree
   (another process took the cores, or torch's thread pool waited on a busy machine), and the
   median is not a figure to quote.

JAX results are waited for (``jax.block_until_ready``) inside the timed block; torch on CPU is
synchronous. Used by ``mlprims bench`` and by the scripts in ``benchmarks/``.
"""

from __future__ import annotations

import contextlib
import math
import os
import platform
import re
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["NOISY", "Fn", "Timing", "machine", "seconds", "time_pair", "wait"]

#: A side whose slowest round took more than this many times its fastest is noisy.
NOISY = 2.0

#: A function of no argument: one side of a pair, its inputs already bound.
Fn = Callable[[], Any]


@dataclass(frozen=True)
class Timing:
    """Seconds per call: median and best over the rounds; ``first``: the first call alone."""

    median: float
    best: float
    first: float
    number: int  # calls per timed block
    spread: float = 1.0  # slowest round / fastest round

    @property
    def noisy(self) -> bool:
        """Whether the rounds disagree by more than :data:`NOISY` times."""
        return self.spread > NOISY


def wait(result: Any) -> Any:
    """Block until asynchronous frameworks (JAX) have finished computing `result`.

    Parameters
    ----------
    result : any
        An array or a tree of arrays of any framework.

    Returns
    -------
    any
        `result` itself, once computed.
    """
    if "jax" in sys.modules:  # never import JAX for a user who has not
        return sys.modules["jax"].block_until_ready(result)
    return result


def _timed(fn: Fn, clock: Callable[[], float], number: int = 1) -> float:
    """Seconds per call of ``number`` calls of ``fn`` in a row."""
    start = clock()
    for _ in range(number):
        wait(fn())
    return (clock() - start) / number


def time_pair(
    ours: Fn,
    native: Fn | None,
    *,
    repeat: int,
    number: int | None = None,
    warmup: int = 1,
    min_block: float = 0.2,
    clock: Callable[[], float] = time.perf_counter,
) -> tuple[Timing, Timing | None]:
    """Time two functions of no argument, interleaved; see the module docstring.

    Parameters
    ----------
    ours, native : callable
        The two sides; `native` may be None (then only `ours` is timed).
    repeat : int
        The number of timed rounds.
    number : int, optional
        Calls per timed block; by default enough for `min_block` seconds, per side.
    warmup : int
        Untimed calls of each side after the first.
    min_block : float
        Seconds a timed block lasts at least, when `number` is not given.
    clock : callable
        The clock, ``time.perf_counter`` by default (the tests pass a fake one).

    Returns
    -------
    (Timing, Timing or None)
        The timings of `ours` and of `native` (None if `native` is None).
    """
    if repeat < 1:
        msg = f"`repeat` must be at least 1, got {repeat}"
        raise ValueError(msg)
    sides = [fn for fn in (ours, native) if fn is not None]
    first = [_timed(fn, clock) for fn in sides]
    last = first
    for _ in range(warmup):
        last = [_timed(fn, clock) for fn in sides]
    numbers = [number or max(1, math.ceil(min_block / max(t, 1e-9))) for t in last]
    rounds: list[list[float]] = [[] for _ in sides]
    for i in range(repeat):
        order = range(len(sides)) if i % 2 == 0 else reversed(range(len(sides)))
        for side in order:
            rounds[side].append(_timed(sides[side], clock, numbers[side]))
    timings = [
        Timing(statistics.median(r), min(r), f, n, max(r) / min(r) if min(r) > 0 else 1.0)
        for r, f, n in zip(rounds, first, numbers, strict=True)
    ]
    return timings[0], (timings[1] if native is not None else None)


def seconds(t: float) -> str:
    """`t` seconds in the unit that reads best, 3 significant digits: ``"1.2 s"``, ``"45 µs"``."""
    unit, scale = next(((u, s) for u, s in (("s", 1.0), ("ms", 1e-3)) if t >= s), ("µs", 1e-6))
    return f"{t / scale:.3g} {unit}"


def machine() -> str:
    """One line naming the machine and the versions of the frameworks imported so far.

    Returns
    -------
    str
        e.g. ``"AMD EPYC, 2 cores; Python 3.11.7; numpy 2.4.6; jax 0.10.2 (cpu)"``.
    """
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        models = re.findall(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
        cpu = models[0] if models else cpu
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    parts = [f"{cpu}, {cores} cores", f"Python {platform.python_version()}"]
    for name in ("numpy", "torch", "jax"):
        module = sys.modules.get(name)
        if module is not None:
            parts.append(f"{name} {module.__version__}")
            if name == "torch":
                parts[-1] += f" (threads: {module.get_num_threads()})"
            if name == "jax":
                parts[-1] += f" ({module.default_backend()})"
    return "; ".join(parts)
