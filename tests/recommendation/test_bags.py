"""embedding_bag (mlprims/recommendation/bags.py).

References: the float64 NumPy oracle of mlprims.testing.oracles.recommendation (one bag at a
time), and torch's F.embedding_bag itself, forward and gradients w.r.t. the table and the
per-sample weights."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest

from mlprims import embedding_bag
from mlprims.testing import assert_close
from mlprims.testing.oracles.recommendation import embedding_bag_reference

NO_EAGER_JAX = pytest.mark.backends(exclude=("jax",), reason="jax_jit runs the same code")

E, D, PAD = 7, 3, 2


def _cut(seed: int = 0, n: int = 11) -> dict[str, np.ndarray]:
    """N indices (the padding row among them) in 5 bags, one empty, and per-sample weights."""
    rng = np.random.default_rng(seed)
    indices = rng.integers(0, E, n)
    indices[[0, 5]] = PAD
    return {
        "indices": indices,
        "weight": rng.normal(size=(E, D)),
        "offsets": np.array([0, 2, 2, 5, 9]),  # bags [0, 2), [], [2, 5), [5, 9), [9, N)
        "per_sample_weights": rng.uniform(-1.0, 2.0, n),
    }


def _on(xb, arrays: dict[str, np.ndarray], *names: str) -> list[Any]:
    return [xb.asarray(arrays[name]) for name in names]


class TestEmbeddingBag:
    @NO_EAGER_JAX
    def test_agreement_offsets_sum_with_weights_and_padding(self, xb) -> None:
        a = _cut()
        indices, weight, offsets, scale = _on(xb, a, *a)
        got = embedding_bag(
            indices, weight, offsets, mode="sum", per_sample_weights=scale, padding_idx=PAD
        )
        want = embedding_bag_reference(
            *(a[k] for k in ("indices", "weight", "offsets")), mode="sum",
            per_sample_weights=a["per_sample_weights"], padding_idx=PAD,
        )  # fmt: skip
        assert_close(xb.to_numpy(got), want)

    @NO_EAGER_JAX
    def test_agreement_offsets_max_the_segmented_scan(self, xb) -> None:
        a = _cut(1, n=13)
        indices, weight, offsets = _on(xb, a, "indices", "weight", "offsets")
        got = embedding_bag(indices, weight, offsets, mode="max", padding_idx=PAD)
        want = embedding_bag_reference(
            a["indices"], a["weight"], a["offsets"], mode="max", padding_idx=PAD
        )
        np.testing.assert_array_equal(xb.to_numpy(got), want)  # a row of weight, exactly

    @NO_EAGER_JAX
    def test_agreement_fixed_bags_mean(self, xb) -> None:
        a = _cut(2)
        indices = a["indices"][:10].reshape(5, 2)
        got = embedding_bag(xb.asarray(indices), xb.asarray(a["weight"]), padding_idx=PAD)
        assert_close(
            xb.to_numpy(got), embedding_bag_reference(indices, a["weight"], padding_idx=PAD)
        )

    def test_equals_torch_for_every_option(self) -> None:
        torch = pytest.importorskip("torch")
        functional = torch.nn.functional
        a = _cut(3, n=12)
        t = {k: torch.from_numpy(v) for k, v in a.items()}
        for mode, padding, fixed in itertools.product(
            ("sum", "mean", "max"), (None, PAD, -5), (False, True)
        ):
            scales = (None, "per_sample_weights") if mode == "sum" else (None,)
            for scale in scales:
                indices = t["indices"].reshape(4, 3) if fixed else t["indices"]
                offsets = None if fixed else t["offsets"]
                psw = None if scale is None else t[scale].reshape(indices.shape)
                kwargs = {"mode": mode, "padding_idx": padding}
                want = functional.embedding_bag(
                    indices, t["weight"], offsets, per_sample_weights=psw, **kwargs
                )
                ours = embedding_bag(
                    indices.numpy(), a["weight"], None if fixed else a["offsets"],
                    per_sample_weights=None if psw is None else psw.numpy(), **kwargs,
                )  # fmt: skip
                np.testing.assert_allclose(
                    ours, want.numpy(), rtol=0, atol=1e-12, err_msg=str(kwargs)
                )

    @pytest.mark.parametrize("mode", ["sum", "mean", "max"])
    def test_gradients_equal_torch(self, mode: str) -> None:
        """W.r.t. the table (and the per-sample weights with "sum"); with "max", duplicate
        indices and a tie between two rows: torch sends a column's gradient to the first row
        of the bag holding its largest value, and so do we."""
        torch = pytest.importorskip("torch")
        functional = torch.nn.functional
        a = _cut(4, n=12)
        weight_np = a["weight"].copy()
        weight_np[5] = weight_np[6]  # two rows tie in every column
        indices_np = a["indices"].copy()
        indices_np[2:5] = [6, 5, 6]  # bag [2, 5): the tie, then a duplicate
        g = torch.from_numpy(np.random.default_rng(5).normal(size=(5, D)))
        grads = []
        for ours in (False, True):
            weight = torch.tensor(weight_np, requires_grad=True)
            scale = torch.tensor(a["per_sample_weights"], requires_grad=True)
            args = (torch.from_numpy(indices_np), weight, torch.from_numpy(a["offsets"]))
            psw = scale if mode == "sum" else None
            if ours:
                y = embedding_bag(*args, mode=mode, per_sample_weights=psw, padding_idx=PAD)
            else:
                y = functional.embedding_bag(
                    *args, mode=mode, per_sample_weights=psw, padding_idx=PAD
                )
            inputs = (weight, scale) if mode == "sum" else (weight,)
            grads.append(torch.autograd.grad((y * g).sum(), inputs))
        for got, want in zip(grads[1], grads[0], strict=True):
            np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=0, atol=1e-12)
        assert (grads[1][0][PAD] == 0).all()

    def test_gradient_of_max_under_jax_jit(self) -> None:
        """The scan's positions are integers: the gradient flows through the gather alone."""
        jax = pytest.importorskip("jax")
        torch = pytest.importorskip("torch")
        a = _cut(6)
        g = np.random.default_rng(7).normal(size=(5, D))

        def loss(weight):
            return (embedding_bag(indices, weight, offsets, mode="max") * g).sum()

        indices, offsets = jax.numpy.asarray(a["indices"]), jax.numpy.asarray(a["offsets"])
        got = jax.jit(jax.grad(loss))(jax.numpy.asarray(a["weight"]))
        weight = torch.tensor(a["weight"], requires_grad=True)
        y = torch.nn.functional.embedding_bag(
            torch.from_numpy(a["indices"]), weight, torch.from_numpy(a["offsets"]), mode="max"
        )
        (want,) = torch.autograd.grad((y * torch.from_numpy(g)).sum(), weight)
        np.testing.assert_allclose(np.asarray(got), want.numpy(), rtol=0, atol=1e-12)

    def test_empty_bags_and_padding_only_bags_are_zero(self) -> None:
        weight = np.arange(1.0, 7.0).reshape(3, 2)
        for mode in ("sum", "mean", "max"):
            got = embedding_bag(
                np.array([1, 1]), weight, np.array([0, 0, 2]), mode=mode, padding_idx=1
            )
            assert (got == 0).all() and got.shape == (3, 2)
            assert (embedding_bag(np.zeros((2, 0), dtype=int), weight, mode=mode) == 0).all()
            assert (
                embedding_bag(np.zeros(0, dtype=int), weight, np.array([0]), mode=mode) == 0
            ).all()

    def test_dtypes(self) -> None:
        a = _cut()
        weight = a["weight"].astype(np.float32)
        for mode in ("sum", "mean", "max"):
            got = embedding_bag(
                a["indices"].astype(np.int32), weight, a["offsets"].astype(np.int32), mode=mode
            )
            assert got.dtype == np.float32
        half = embedding_bag(a["indices"], a["weight"].astype(np.float16), a["offsets"])
        assert half.dtype == np.float16
        want = embedding_bag_reference(a["indices"], a["weight"].astype(np.float16), a["offsets"])
        np.testing.assert_allclose(half, want, rtol=2e-3, atol=1e-3)


# --- bad input ---------------------------------------------------------------------------

W, I1, O1 = np.zeros((E, D)), np.array([0, 1, 2, 3]), np.array([0, 2])

BAD = {
    "index out of range": (
        {"indices": np.array([0, 7, 1, 2])},
        ValueError,
        "`indices` must be rows of `weight`, in [0, E) = [0, 7)",
    ),
    "negative index": ({"indices": np.array([0, -1, 1, 2])}, ValueError, "must be rows of"),
    "float indices": ({"indices": I1 * 1.0}, TypeError, "`indices` must have an integer dtype"),
    "integer table": ({"weight": np.zeros((E, D), int)}, TypeError, "`weight` must have a real"),
    "table 1-d": ({"weight": np.zeros(E)}, ValueError, "`weight` must have shape (E, D)"),
    "no offsets with 1-d": ({"offsets": None}, ValueError, "`offsets` (B,) is required when"),
    "offsets with 2-d": (
        {"indices": I1.reshape(2, 2)},
        ValueError,
        "`offsets` must be None when `indices` is 2-d (B, L)",
    ),
    "indices 3-d": ({"indices": I1.reshape(1, 2, 2), "offsets": None}, ValueError, "(B, L) or"),
    "offsets not at 0": (
        {"offsets": np.array([1, 2])},
        ValueError,
        "`offsets` must start at 0, never decrease and end at most at N = 4, got [1, 2]",
    ),
    "offsets decreasing": ({"offsets": np.array([0, 3, 2])}, ValueError, "never decrease"),
    "offsets past N": ({"offsets": np.array([0, 5])}, ValueError, "at most at N = 4"),
    "float offsets": ({"offsets": O1 * 1.0}, TypeError, "`offsets` must have an integer dtype"),
    "unknown mode": ({"mode": "min"}, ValueError, "`mode` must be one of 'sum', 'mean', 'max'"),
    "weights with mean": (
        {"mode": "mean", "per_sample_weights": np.ones(4)},
        ValueError,
        "`per_sample_weights` is only supported with mode='sum' (as in torch), got mode='mean'",
    ),
    "weights of another shape": (
        {"mode": "sum", "per_sample_weights": np.ones(3)},
        ValueError,
        "`per_sample_weights` must have the shape of `indices` (4), got (3)",
    ),
    "padding_idx out of range": (
        {"padding_idx": 7},
        ValueError,
        "`padding_idx` must be in [-E, E) = [-7, 7) or None, got 7",
    ),
    "padding_idx a float": ({"padding_idx": 1.0}, TypeError, "`padding_idx` must be an int"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_names_the_argument(case: str) -> None:
    changes, error, words = BAD[case]
    arguments: dict[str, Any] = {"indices": I1, "weight": W, "offsets": O1, **changes}
    positional = [arguments.pop(k) for k in ("indices", "weight", "offsets")]
    with pytest.raises(error) as raised:
        embedding_bag(*positional, **arguments)
    assert words in str(raised.value)
