"""sigmoid_focal_loss (mlprims/losses/focal.py).

References: the float64 transcription of torchvision's formula
(mlprims.testing.oracles.losses.sigmoid_focal_loss_reference), and that formula run in torch
(``torchvision.ops.sigmoid_focal_loss``'s lines, which torchvision's wheel cannot load here)
for the values and the autograd gradient. Options are combined on NumPy only.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlprims import sigmoid_focal_loss
from mlprims.testing import assert_close
from mlprims.testing.oracles.losses import sigmoid_focal_loss_reference

#: RetinaNet's layout, (anchors, classes): logits from -4 to 4, targets mostly 0, one soft.
LOGITS = np.random.default_rng(0).normal(scale=2.0, size=(5, 4))
TARGETS = (np.random.default_rng(1).random((5, 4)) < 0.3).astype(np.float64)
TARGETS[0, 0] = 0.3


def _torchvision(inputs: Any, targets: Any, alpha: float = 0.25, gamma: float = 2.0) -> Any:
    """``torchvision.ops.sigmoid_focal_loss`` (reduction "none"), its lines as they are."""
    torch = pytest.importorskip("torch")
    F = pytest.importorskip("torch.nn.functional")
    p = torch.sigmoid(inputs)
    ce_loss = F.binary_cross_entropy_with_logits(inputs, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce_loss * ((1 - p_t) ** gamma)
    if alpha >= 0:
        alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
        loss = alpha_t * loss
    return loss


class TestSigmoidFocalLoss:
    @pytest.mark.backends(exclude=("jax",), reason="jax_jit runs the same code, compiled once")
    def test_matches_torchvisions_formula(self, xb) -> None:
        x, y = xb.asarray(LOGITS), xb.asarray(TARGETS)
        assert_close(
            xb.to_numpy(sigmoid_focal_loss(x, y)), sigmoid_focal_loss_reference(LOGITS, TARGETS)
        )
        got = sigmoid_focal_loss(xb.asarray(LOGITS, "float32"), xb.asarray(TARGETS, "float32"),
                                 alpha=-1.0, gamma=0.5, reduction="mean")  # fmt: skip
        want = sigmoid_focal_loss_reference(
            LOGITS, TARGETS, alpha=-1.0, gamma=0.5, reduction="mean"
        )
        assert xb.to_numpy(got).shape == () and xb.to_numpy(got).dtype == np.float32
        assert_close(xb.to_numpy(got), want)

    @given(
        alpha=st.sampled_from([0.25, 0.5, 0.0, 1.0, -1.0]),
        gamma=st.sampled_from([0.0, 0.5, 1.0, 2.0, 5.0]),
        reduction=st.sampled_from(["none", "mean", "sum"]),
    )
    def test_options(self, alpha: float, gamma: float, reduction: str) -> None:
        options = {"alpha": alpha, "gamma": gamma, "reduction": reduction}
        got = sigmoid_focal_loss(LOGITS, TARGETS, **options)
        assert_close(got, sigmoid_focal_loss_reference(LOGITS, TARGETS, **options))

    def test_alpha_weighs_positives_by_alpha_and_negatives_by_one_minus_alpha(self) -> None:
        x, y = np.array([1.5, 1.5]), np.array([1.0, 0.0])
        weighted = sigmoid_focal_loss(x, y, alpha=0.1)
        plain = sigmoid_focal_loss(x, y, alpha=-1.0)
        assert_close(weighted / plain, [0.1, 0.9])

    def test_large_logits_stay_finite_and_precise(self) -> None:
        # 1 - p_t for a confident right answer: sigmoid(-30) = 9.4e-14, where 1 - sigmoid(30)
        # is 0 in float32; the cross-entropy of +-1000 is 1000, never inf.
        x = np.array([30.0, -30.0, 1000.0, -1000.0], dtype=np.float32)
        y = np.array([1.0, 0.0, 0.0, 0.0], dtype=np.float32)
        got = sigmoid_focal_loss(x, y, alpha=-1.0, gamma=1.0)
        want = sigmoid_focal_loss_reference(
            x.astype(np.float64), y.astype(np.float64), alpha=-1.0, gamma=1.0
        )
        assert_close(got, want)
        assert got[0] > 0 and got[2] == 1000.0

    def test_torch_values_and_gradient(self) -> None:
        torch = pytest.importorskip("torch")
        x = torch.from_numpy(LOGITS).requires_grad_()
        y = torch.from_numpy(TARGETS)
        ours = sigmoid_focal_loss(x, y, reduction="sum")
        theirs = _torchvision(x, y).sum()
        assert_close(ours.detach().numpy(), theirs.detach().numpy())
        (got,) = torch.autograd.grad(ours, x)
        (want,) = torch.autograd.grad(theirs, x)
        assert_close(got.numpy(), want.numpy())


class TestBadInputs:
    def test_shapes_and_options(self) -> None:
        with pytest.raises(
            ValueError, match=r"`targets` must have the shape of `inputs`, \(5, 4\), got \(5\)"
        ):
            sigmoid_focal_loss(LOGITS, TARGETS[:, 0])
        with pytest.raises(ValueError, match=r"`gamma` must be in \[0.0, inf\), got -1.0"):
            sigmoid_focal_loss(LOGITS, TARGETS, gamma=-1.0)
        with pytest.raises(ValueError, match="`reduction` must be one of 'none', 'mean', 'sum'"):
            sigmoid_focal_loss(LOGITS, TARGETS, reduction="batchmean")
        with pytest.raises(ValueError, match=r"`alpha` must be in \(-inf, inf\), got nan"):
            sigmoid_focal_loss(LOGITS, TARGETS, alpha=float("nan"))
        with pytest.raises(TypeError, match="`targets` must have a real floating dtype"):
            sigmoid_focal_loss(LOGITS, TARGETS.astype(np.int64))
