"""Benchmark: mlprims nms on 5,000 random boxes against a plain NumPy greedy loop.

    python benchmarks/bench_detection.py            # 5,000 boxes
    python benchmarks/bench_detection.py --quick    # 1,000 boxes: proves the script runs

The reference is the NumPy loop every detection codebase once carried (py-faster-rcnn's
``nms``): sort by score, keep the first box, drop the boxes whose IoU with it is above the
threshold, repeat on what is left, so each step works on a shrinking array. Ours keeps fixed
shapes so that it compiles under ``jax.jit``: each step computes one IoU row against all N
boxes. Cases: ``nms`` on NumPy and on torch (eager), ``nms_padded(max_output=N)`` under
``jax.jit``, all against the NumPy loop. Boxes (float32): corners uniform in [0, 100), sides up
to 20 (``mlprims.testing.oracles.detection.random_boxes``); scores uniform; threshold 0.5.
Timing and RESULTS.md: benchmarks/harness.py.
"""

from __future__ import annotations

from functools import partial

from harness import Pair, main

THRESHOLD = 0.5


def _inputs(n: int):
    import numpy as np

    from mlprims.testing.oracles.detection import random_boxes

    rng = np.random.default_rng(0)
    return random_boxes(rng, n).astype(np.float32), rng.uniform(size=n).astype(np.float32)


def numpy_greedy_nms(boxes, scores, threshold: float):
    """The plain NumPy loop (py-faster-rcnn): IoU of the best box against the rest, shrink."""
    import numpy as np

    x1, y1, x2, y2 = boxes.T
    areas = (x2 - x1) * (y2 - y1)
    order = np.argsort(-scores, kind="stable")
    keep = []
    while order.size > 0:
        i, rest = order[0], order[1:]
        keep.append(i)
        w = np.maximum(0.0, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]))
        h = np.maximum(0.0, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]))
        inter = w * h
        order = rest[inter / (areas[i] + areas[rest] - inter) <= threshold]
    return np.asarray(keep)


def on_numpy(n: int):
    from mlprims import nms

    boxes, scores = _inputs(n)
    return (
        lambda: nms(boxes, scores, THRESHOLD),
        lambda: numpy_greedy_nms(boxes, scores, THRESHOLD),
    )


def on_torch(n: int):
    import torch

    from mlprims import nms

    boxes, scores = _inputs(n)
    tb, ts = torch.asarray(boxes), torch.asarray(scores)
    return (lambda: nms(tb, ts, THRESHOLD)), (lambda: numpy_greedy_nms(boxes, scores, THRESHOLD))


def on_jax_jit(n: int):
    import jax

    from mlprims import nms_padded

    boxes, scores = _inputs(n)
    jb, js = jax.numpy.asarray(boxes), jax.numpy.asarray(scores)
    ours = jax.jit(lambda b, s: nms_padded(b, s, THRESHOLD, max_output=n))
    return (lambda: ours(jb, js)), (lambda: numpy_greedy_nms(boxes, scores, THRESHOLD))


def cases(args) -> list[Pair]:
    n = 1000 if args.quick else 5000
    return [
        Pair(f"nms {n:,} boxes, numpy vs the NumPy greedy loop", partial(on_numpy, n)),
        Pair(f"nms {n:,} boxes, torch eager vs the NumPy greedy loop", partial(on_torch, n)),
        Pair(f"nms_padded {n:,} boxes, jax.jit vs the NumPy greedy loop", partial(on_jax_jit, n)),
    ]


def same_indices(args) -> list[str]:
    """Ours keeps the boxes the NumPy loop keeps: check it once, on NumPy."""
    import numpy as np

    from mlprims import nms

    boxes, scores = _inputs(1000 if args.quick else 5000)
    ours, theirs = nms(boxes, scores, THRESHOLD), numpy_greedy_nms(boxes, scores, THRESHOLD)
    agree = np.array_equal(ours, theirs)
    return [f"Kept indices equal to the NumPy loop's: {'yes' if agree else 'NO'} ({len(ours)})."]


if __name__ == "__main__":
    main(__file__, __doc__, cases, notes=same_indices)
