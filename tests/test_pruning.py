"""magnitude_prune, structured_prune and prune (mlprims/pruning.py).

References: the float64 NumPy oracles of mlprims.testing.oracles.pruning, and
torch.nn.utils.prune for real (l1_unstructured and ln_structured on nn.Linear and nn.Conv2d
parameters, their `weight_mask` read back); the grader's classic mistakes at the end."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pytest

from mlprims import magnitude_prune, prune, structured_prune
from mlprims.testing import assert_close
from mlprims.testing.oracles.pruning import (
    magnitude_prune_reference,
    prune_reference,
    structured_prune_reference,
)

DTYPES = ("float32", "float64")


def _weight(shape: tuple[int, ...] = (4, 6), dtype: str = "float64", seed: int = 0) -> np.ndarray:
    """Normal draws: no two magnitudes (or slice norms) tie."""
    return np.random.default_rng(seed).normal(size=shape).astype(dtype)


def _torch_mask(module: Any, method: str, **kwargs: Any) -> np.ndarray:
    """torch.nn.utils.prune.<method> applied to `module.weight`: its weight_mask as booleans."""
    prune_utils = pytest.importorskip("torch.nn.utils.prune")
    getattr(prune_utils, method)(module, "weight", **kwargs)
    mask = module.weight_mask.detach().numpy()
    assert set(np.unique(mask)) <= {0.0, 1.0}
    return mask.astype(bool)


# --- magnitude_prune ---------------------------------------------------------------------


class TestMagnitudePrune:
    @pytest.mark.parametrize("amount", [0.0, 0.3, 0.5, 1.0, 0, 7, 24])
    @pytest.mark.parametrize("dtype", DTYPES)
    def test_agreement(self, xb, dtype: str, amount: float) -> None:
        w = _weight(dtype=dtype)
        got = xb.to_numpy(magnitude_prune(xb.asarray(w), amount=amount))
        assert got.dtype == np.bool_ and got.shape == w.shape
        assert_close(got, magnitude_prune_reference(w, amount=amount))

    @pytest.mark.parametrize("amount", [0.2, 0.5, 0.9, 1, 13, 0.3125, 0.4375, 1.0])
    def test_equals_torch_l1_unstructured(self, amount: float) -> None:
        torch = pytest.importorskip("torch")
        torch.manual_seed(0)
        for module in (torch.nn.Linear(4, 8), torch.nn.Conv2d(2, 3, 2)):  # 32 and 24 weights
            w = module.weight.detach().numpy().copy()
            want = _torch_mask(module, "l1_unstructured", amount=amount)
            np.testing.assert_array_equal(magnitude_prune(w, amount=amount), want)
            np.testing.assert_array_equal(  # on torch tensors too
                magnitude_prune(torch.from_numpy(w), amount=amount).numpy(), want
            )

    @pytest.mark.parametrize(("amount", "count"), [(0.3125, 2), (0.4375, 4), (0.5625, 4)])
    def test_the_count_is_pythons_round(self, amount: float, count: int) -> None:
        # 8 entries: 2.5 -> 2, 3.5 -> 4, 4.5 -> 4 (half to even); floor would give 2, 3, 4
        torch = pytest.importorskip("torch")
        module = torch.nn.Linear(4, 2)
        w = module.weight.detach().numpy().copy()
        assert int((~magnitude_prune(w, amount=amount)).sum()) == count
        assert int((~_torch_mask(module, "l1_unstructured", amount=amount)).sum()) == count

    def test_the_smallest_magnitudes_are_pruned_not_the_smallest_values(self) -> None:
        w = np.array([-5.0, 0.1, 3.0, -0.2, 1.0])
        assert magnitude_prune(w, amount=2).tolist() == [True, False, True, False, True]

    def test_ties_lower_index_first_and_the_same_magnitudes_as_torch(self) -> None:
        """torch's top-k picks among equal magnitudes in no specified order: the count and the
        magnitudes pruned agree, and ours prunes the lower flat index first."""
        torch = pytest.importorskip("torch")
        rng = np.random.default_rng(3)
        for _ in range(20):
            w = rng.integers(-2, 3, size=(5, 7)).astype(np.float32)  # many ties, zeros
            k = int(rng.integers(0, w.size + 1))
            ours = magnitude_prune(w, amount=k)
            module = torch.nn.Linear(7, 5)
            with torch.no_grad():
                module.weight.copy_(torch.from_numpy(w))
            theirs = _torch_mask(module, "l1_unstructured", amount=k)
            assert (~ours).sum() == (~theirs).sum() == k
            np.testing.assert_array_equal(np.sort(np.abs(w[~ours])), np.sort(np.abs(w[~theirs])))
            np.testing.assert_array_equal(ours, magnitude_prune_reference(w, amount=k))
        tied = np.array([1.0, -1.0, 2.0, 1.0])
        assert magnitude_prune(tied, amount=2).tolist() == [False, False, True, True]

    def test_nothing_and_everything(self) -> None:
        w = _weight()
        assert magnitude_prune(w, amount=0.0).all() and magnitude_prune(w, amount=0).all()
        assert not magnitude_prune(w, amount=1.0).any()
        assert int((~magnitude_prune(w, amount=1)).sum()) == 1  # an int is a count
        assert magnitude_prune(np.zeros((0, 3)), amount=0.5).shape == (0, 3)

    @pytest.mark.parametrize(
        ("amount", "error", "words"),
        [
            (1.5, ValueError, "`amount` must be in [0.0, 1.0], got 1.5"),
            (-0.1, ValueError, "`amount` must be in [0.0, 1.0], got -0.1"),
            (-1, ValueError, "`amount` must be >= 0, got -1"),
            (25, ValueError, "must be <= 24 (the entries of `w`), got 25"),
            (True, TypeError, "`amount` must be a number, got bool"),
            ("half", TypeError, "`amount` must be a number, got str"),
        ],
    )
    def test_bad_amount(self, amount: Any, error: type, words: str) -> None:
        with pytest.raises(error, match=re.escape(words)):
            magnitude_prune(_weight(), amount=amount)

    def test_bad_weight(self) -> None:
        with pytest.raises(TypeError, match="`w` must have a real floating dtype, got int64"):
            magnitude_prune(np.arange(6), amount=0.5)
        with pytest.raises(TypeError, match="`w`"):
            magnitude_prune([1.0, 2.0], amount=0.5)


# --- structured_prune --------------------------------------------------------------------


class TestStructuredPrune:
    @pytest.mark.parametrize(("n", "axis"), [(2, 0), (1, 1), (math.inf, -1), (3.5, 2)])
    @pytest.mark.parametrize("dtype", DTYPES)
    def test_agreement(self, xb, dtype: str, n: float, axis: int) -> None:
        w = _weight((5, 4, 3), dtype)
        for amount in (0.4, 2):
            got = xb.to_numpy(structured_prune(xb.asarray(w), amount=amount, n=n, axis=axis))
            assert got.dtype == np.bool_ and got.shape == w.shape
            assert_close(got, structured_prune_reference(w, amount=amount, n=n, axis=axis))

    @pytest.mark.parametrize("n", [1, 2, math.inf])
    @pytest.mark.parametrize("axis", [0, 1])
    def test_equals_torch_ln_structured(self, n: float, axis: int) -> None:
        torch = pytest.importorskip("torch")
        for amount in (0.5, 2):
            torch.manual_seed(1)
            for module in (torch.nn.Linear(6, 5), torch.nn.Conv2d(4, 6, 3)):
                w = module.weight.detach().numpy().copy()
                want = _torch_mask(module, "ln_structured", amount=amount, n=n, dim=axis)
                got = structured_prune(w, amount=amount, n=n, axis=axis)
                np.testing.assert_array_equal(got, want)

    def test_slices_are_pruned_whole(self) -> None:
        w = _weight((6, 4))
        keep = structured_prune(w, amount=3, axis=-1)  # mlprims' (D_in, D_out): output units
        assert (keep == keep[:1]).all() and int((~keep[0]).sum()) == 3
        norms = np.linalg.norm(w, axis=0)
        assert norms[~keep[0]].max() < norms[keep[0]].min()

    @pytest.mark.parametrize(
        ("w", "kwargs", "error", "words"),
        [
            (np.ones(4), {}, ValueError, "`w` must have at least 2 dimensions"),
            (np.ones((3, 2)), {"axis": 2}, ValueError, "`axis` must be in [-2, 2)"),
            (np.ones((3, 2)), {"n": 0}, ValueError, "`n` must be in (0.0, inf), got 0.0"),
            (np.ones((3, 2)), {"n": -math.inf}, ValueError, "`n` must be in (0.0, inf)"),
            (np.ones((3, 2)), {"n": "fro"}, TypeError, "`n` must be a number, got str"),
            (np.ones((3, 2)), {"amount": 4}, ValueError, "(the slices of `w` along axis 0)"),
        ],
    )
    def test_bad_input(self, w: np.ndarray, kwargs: dict, error: type, words: str) -> None:
        with pytest.raises(error, match=re.escape(words)):
            structured_prune(w, **{"amount": 1, **kwargs})


# --- prune -------------------------------------------------------------------------------


class TestPrune:
    @pytest.mark.parametrize("dtype", DTYPES)
    def test_agreement(self, xb, dtype: str) -> None:
        w = _weight(dtype=dtype)
        mask = magnitude_prune(w, amount=0.5)
        got = xb.to_numpy(prune(xb.asarray(w), xb.asarray(mask)))
        assert got.dtype == np.dtype(dtype)
        assert_close(got, prune_reference(w, mask))
        row = xb.to_numpy(prune(xb.asarray(w), xb.asarray(np.array([1.0, 0, 1, 1, 0, 1]))))
        assert_close(row, w * [1.0, 0, 1, 1, 0, 1])  # a float mask, broadcast over rows

    def test_equals_the_weight_torch_prunes(self) -> None:
        torch = pytest.importorskip("torch")
        prune_utils = pytest.importorskip("torch.nn.utils.prune")  # torch.nn.utils lacks it
        module = torch.nn.Conv2d(3, 4, 3)
        prune_utils.ln_structured(module, "weight", amount=0.5, n=2, dim=0)
        got = prune(module.weight_orig.detach(), module.weight_mask)  # torch's float mask
        assert torch.equal(got, module.weight.detach())

    def test_gradient_is_the_mask(self) -> None:
        torch = pytest.importorskip("torch")
        jax = pytest.importorskip("jax")
        w, g = _weight(seed=1), _weight(seed=2)
        mask = structured_prune(w, amount=0.5, axis=1)
        t = torch.from_numpy(w).requires_grad_()
        pruned = prune(t, torch.from_numpy(mask))
        (grad_torch,) = torch.autograd.grad((pruned * torch.from_numpy(g)).sum(), t)
        grad_jax = jax.grad(lambda x: (prune(x, jax.numpy.asarray(mask)) * g).sum())(w)
        np.testing.assert_array_equal(grad_torch.numpy(), g * mask)
        np.testing.assert_array_equal(np.asarray(grad_jax), g * mask)

    def test_bad_input(self) -> None:
        w = _weight()
        with pytest.raises(ValueError, match=r"`mask` must broadcast to the shape of `w`"):
            prune(w, np.ones((6, 4), dtype=bool))
        with pytest.raises(
            TypeError, match="`mask` must have a boolean or a real floating dtype, got int64"
        ):
            prune(w, np.ones((4, 6), dtype=np.int64))
        torch = pytest.importorskip("torch")
        with pytest.raises(TypeError, match="mask"):
            prune(w, torch.ones(4, 6, dtype=torch.bool))


# --- mlprims grade --primitive magnitude_prune ------------------------------------------

NUMPY = """\
import numpy as np


def magnitude_prune(w, /, *, amount):
    k = amount if isinstance(amount, int) else round(amount * w.size)
    order = np.argsort(np.abs(w).reshape(-1), kind="stable")
    keep = np.ones(w.size, dtype=bool)
    keep[order[:k]] = False
    return keep.reshape(w.shape)
"""

#: torch's own method, wrapped to the practice signature
TORCH = """\
import torch
from torch.nn.utils import prune


def magnitude_prune(w, /, *, amount):
    method = prune.L1Unstructured(amount)
    return method.compute_mask(w, torch.ones_like(w)).bool()
"""

COUNT = "an int amount: prune that many"
FRACTION = "a float amount: the fraction pruned"
WRONG = {
    "largest-pruned": ('kind="stable")', 'kind="stable")[::-1]', COUNT, "SMALLEST |w|"),
    "signed-values": ("np.abs(w)", "w", COUNT, "not the signed values"),
    "floor": ("round(amount * w.size)", "int(amount * w.size)", FRACTION, "never floor"),
    "round-half-up": (
        "round(amount * w.size)",
        "int(amount * w.size + 0.5)",
        FRACTION,
        "half to even",
    ),
}


class TestGrade:
    @pytest.mark.parametrize("source", [NUMPY, TORCH], ids=["numpy", "torch-prune"])
    def test_a_correct_file_passes_every_property(self, grader, source: str) -> None:
        if source is TORCH:
            pytest.importorskip("torch")
        grader.passes_every_property(source, "magnitude_prune")

    @pytest.mark.parametrize("wrong", list(WRONG))
    def test_a_classic_mistake_fails_the_property_that_names_it(self, grader, wrong: str) -> None:
        old, new, caught_by, hint = WRONG[wrong]
        assert old in NUMPY, "the mistake must be an edit of the correct file"
        grader.catches(NUMPY.replace(old, new, 1), "magnitude_prune", caught_by, hint)
