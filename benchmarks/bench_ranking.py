"""Benchmark: mlprims' ranking metrics and recommendation layers against scikit-learn and torch.

    python benchmarks/bench_ranking.py            # 10**6 scores; 1,000 x 100; 4,096 bags
    python benchmarks/bench_ranking.py --quick    # 10**4 scores; 100 x 20; 256 bags

Each case is ours against a reference (timing, memory and RESULTS.md: benchmarks/harness.py),
one process, the forward only:

- NumPy: ``mlprims.roc_auc`` (one stable argsort, one cumulative sum, two ``searchsorted``)
  against ``sklearn.metrics.roc_auc_score`` on N binary labels and float64 scores rounded to 3
  decimals (many ties: 1,001 distinct values);
- NumPy: ``mlprims.ndcg_at_k`` (k = 10, ties averaged) against ``sklearn.metrics.ndcg_score``
  (its tie-averaging path, the default ``ignore_ties=False``, a Python loop over the rows) on
  B rows of L items, gains in 0..4, uniform float64 scores;
- torch eager: ``mlprims.embedding_bag`` (modes "mean" and "sum"; 1-D indices cut into B bags
  by offsets, bag lengths uniform in 10..30, about 20 on average) against ``F.embedding_bag``
  on a float32 (E, D) table;
- torch eager: ``mlprims.fm_interaction`` against the textbook torch expression
  ``0.5 * ((v.sum(1)) ** 2 - (v**2).sum(1)).sum(-1)`` on (B, F, K) float32 embeddings.

Outputs are checked to agree (1e-4; the metrics 1e-9) when each case is built. No targets
(the issue gives none).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from harness import Pair, main

K_NDCG = 10


def _sizes(quick: bool) -> dict[str, tuple[int, ...]]:
    """auc: (N,); ndcg: (B, L); bags: (B bags, E rows, D); fm: (B, F, K)."""
    if quick:
        return {"auc": (10**4,), "ndcg": (100, 20), "bags": (256, 5_000, 16), "fm": (256, 39, 16)}
    return {
        "auc": (10**6,),
        "ndcg": (1_000, 100),
        "bags": (4_096, 100_000, 64),
        "fm": (4_096, 39, 16),
    }


def _check(name: str, got: Any, want: Any, tol: float = 1e-4) -> None:
    import numpy as np

    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    if got.shape != want.shape or not np.allclose(got, want, rtol=tol, atol=tol):
        err = float(np.max(np.abs(got - want))) if got.shape == want.shape else float("nan")
        msg = f"{name}: ours and the reference differ (shapes {got.shape} and {want.shape}, "
        raise AssertionError(msg + f"max abs error {err:.3g})")


def numpy_auc(quick: bool):
    import numpy as np
    from sklearn.metrics import roc_auc_score

    from mlprims import roc_auc

    (n,) = _sizes(quick)["auc"]
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 2, n)
    y_score = np.round(0.3 * y_true + 0.7 * rng.random(n), 3)  # informative, with ties
    ours = partial(roc_auc, y_true, y_score)
    native = partial(roc_auc_score, y_true, y_score)
    _check("roc_auc, numpy", ours(), native(), tol=1e-9)
    return ours, native


def numpy_ndcg(quick: bool):
    import numpy as np
    from sklearn.metrics import ndcg_score

    from mlprims import ndcg_at_k

    b, length = _sizes(quick)["ndcg"]
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 5, (b, length))
    y_score = rng.random((b, length))
    ours = partial(ndcg_at_k, y_true, y_score, k=K_NDCG)
    native = partial(ndcg_score, y_true, y_score, k=K_NDCG)
    _check("ndcg_at_k, numpy", ours(), native(), tol=1e-9)
    return ours, native


def torch_bags(quick: bool, mode: str):
    import numpy as np
    import torch
    import torch.nn.functional as F

    from mlprims import embedding_bag

    bags, rows, d = _sizes(quick)["bags"]
    rng = np.random.default_rng(0)
    lengths = rng.integers(10, 31, bags)  # about 20 indices per bag
    offsets = torch.from_numpy(np.concatenate([[0], np.cumsum(lengths)[:-1]]))
    indices = torch.from_numpy(rng.integers(0, rows, int(lengths.sum())))
    weight = torch.randn(rows, d, generator=torch.Generator().manual_seed(1))
    ours = partial(embedding_bag, indices, weight, offsets, mode=mode)
    native = partial(F.embedding_bag, indices, weight, offsets, mode=mode)
    _check(f"embedding_bag {mode}, torch eager", ours().numpy(), native().numpy())
    return ours, native


def _fm_textbook(v: Any) -> Any:
    return 0.5 * ((v.sum(1)) ** 2 - (v**2).sum(1)).sum(-1)


def torch_fm(quick: bool):
    import torch

    from mlprims import fm_interaction

    b, f, k = _sizes(quick)["fm"]
    v = torch.randn(b, f, k, generator=torch.Generator().manual_seed(0))
    ours = partial(fm_interaction, v)
    native = partial(_fm_textbook, v)
    _check("fm_interaction, torch eager", ours().numpy(), native().numpy())
    return ours, native


def cases(args) -> list[Pair]:
    s = _sizes(args.quick)
    (n,), (b, length) = s["auc"], s["ndcg"]
    bags, rows, d = s["bags"]
    fm = "B={}, F={}, K={}".format(*s["fm"])
    table = f"{bags} bags of ~20, ({rows}, {d}) table"
    return [
        Pair(f"roc_auc N={n:,} (3-decimal scores), numpy vs sklearn roc_auc_score",
             partial(numpy_auc, args.quick)),
        Pair(f"ndcg_at_k k={K_NDCG} {b:,} x {length}, numpy vs sklearn ndcg_score",
             partial(numpy_ndcg, args.quick)),
        Pair(f"embedding_bag mean {table}, torch eager vs F.embedding_bag",
             partial(torch_bags, args.quick, "mean")),
        Pair(f"embedding_bag sum {table}, torch eager vs F.embedding_bag",
             partial(torch_bags, args.quick, "sum")),
        Pair(f"fm_interaction {fm}, torch eager vs the textbook torch expression",
             partial(torch_fm, args.quick)),
    ]  # fmt: skip


if __name__ == "__main__":
    main(__file__, __doc__, cases)
