"""dpo_loss (mlprims/losses/preference.py): the float64 oracle on every backend mode, TRL's
code transcribed in torch (TRL itself is not a dependency), gradients, bad input."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest

from mlprims import dpo_loss
from mlprims.testing import assert_close
from mlprims.testing.oracles.losses import dpo_loss_reference

B = 6
VARIANTS = [("sigmoid", 0.0), ("sigmoid", 0.3), ("ipo", 0.0), ("hinge", 0.0)]
IDS = ["dpo", "cdpo", "ipo", "hinge"]


def _logps(dtype: str = "float64", seed: int = 0, scale: float = 30.0) -> list[np.ndarray]:
    """Four (B,) log-probabilities: policy chosen, policy rejected, reference chosen, rejected."""
    rng = np.random.default_rng(seed)
    return [-rng.uniform(1.0, scale, size=B).astype(dtype) for _ in range(4)]


def _trl_dpo_loss(pi_c: Any, pi_r: Any, ref_c: Any, ref_r: Any, beta: float, ls: float, kind: str):
    """TRL's ``DPOTrainer.dpo_loss`` (trl/trainer/dpo_trainer.py, its "sigmoid", "hinge" and
    "ipo" branches), transcribed in torch as TRL writes it."""
    torch = pytest.importorskip("torch")
    F = torch.nn.functional

    logits = (pi_c - pi_r) - (ref_c - ref_r)  # pi_logratios - ref_logratios
    if kind == "sigmoid":
        losses = -F.logsigmoid(beta * logits) * (1 - ls) - F.logsigmoid(-beta * logits) * ls
    elif kind == "hinge":
        losses = torch.relu(1 - beta * logits)
    else:
        losses = (logits - 1 / (2 * beta)) ** 2
    chosen_rewards = beta * (pi_c - ref_c).detach()
    rejected_rewards = beta * (pi_r - ref_r).detach()
    return losses, chosen_rewards, rejected_rewards


class TestDpoLoss:
    @pytest.mark.parametrize(("loss_type", "eps"), VARIANTS, ids=IDS)
    @pytest.mark.parametrize("dtype", ["float32", "float64"])
    def test_agreement(self, xb, dtype: str, loss_type: str, eps: float) -> None:
        logps = _logps(dtype)
        kwargs = {"beta": 0.1, "label_smoothing": eps, "loss_type": loss_type}
        got = xb.to_numpy(dpo_loss(*(xb.asarray(x) for x in logps), **kwargs))
        assert [g.dtype for g in got] == [np.dtype(dtype)] * 3
        assert_close(got, dpo_loss_reference(*logps, **kwargs), dtype, scale=4.0)

    @pytest.mark.parametrize(("loss_type", "eps"), VARIANTS, ids=IDS)
    @pytest.mark.parametrize("beta", [0.1, 0.5])
    def test_equals_trl(self, beta: float, loss_type: str, eps: float) -> None:
        torch = pytest.importorskip("torch")
        logps = [torch.from_numpy(x) for x in _logps("float32", seed=1)]
        want = _trl_dpo_loss(*logps, beta, eps, loss_type)
        got = dpo_loss(*logps, beta=beta, label_smoothing=eps, loss_type=loss_type)
        for g, w in zip(got, want, strict=True):
            torch.testing.assert_close(g, w, rtol=2e-6, atol=1e-6)

    def test_a_hand_worked_pair(self) -> None:
        # h = (-1 - -3) - (-2 - -2) = 2; beta h = 1: -log sigmoid(1) = log(1 + e^-1)
        one = [np.array([v]) for v in (-1.0, -3.0, -2.0, -2.0)]
        losses, chosen, rejected = dpo_loss(*one, beta=0.5)
        np.testing.assert_allclose(losses, [np.log1p(np.exp(-1.0))], rtol=1e-15)
        assert (chosen.tolist(), rejected.tolist()) == ([0.5], [-0.5])
        assert dpo_loss(*one, beta=0.5, loss_type="ipo")[0].tolist() == [(2 - 1) ** 2]
        assert dpo_loss(*one, beta=0.25, loss_type="hinge")[0].tolist() == [0.5]
        # the rejected response preferred instead: the log-ratio's sign flips, the loss grows
        swapped = dpo_loss(one[1], one[0], one[3], one[2], beta=0.5)[0]
        np.testing.assert_allclose(swapped, [np.log1p(np.exp(1.0))], rtol=1e-15)

    def test_gradients_equal_trl_torch_and_jax(self) -> None:
        torch = pytest.importorskip("torch")
        jax = pytest.importorskip("jax")
        logps = _logps("float64", seed=2)
        for loss_type, eps in VARIANTS:
            pis = [torch.from_numpy(x).requires_grad_() for x in logps[:2]]
            refs = [torch.from_numpy(x) for x in logps[2:]]
            trl = _trl_dpo_loss(*pis, *refs, 0.2, eps, loss_type)[0].mean()
            want = torch.autograd.grad(trl, pis)
            ours = dpo_loss(*pis, *refs, beta=0.2, label_smoothing=eps, loss_type=loss_type)
            got = torch.autograd.grad(ours[0].mean(), pis)

            def mean_loss(c: Any, r: Any, kind: str = loss_type, e: float = eps) -> Any:
                refs_jax = (jax.numpy.asarray(x) for x in logps[2:])
                out = dpo_loss(c, r, *refs_jax, beta=0.2, label_smoothing=e, loss_type=kind)
                return out[0].mean()

            from_jax = jax.grad(mean_loss, (0, 1))(*logps[:2])
            for w, g, j in zip(want, got, from_jax, strict=True):
                np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-12, atol=1e-15)
                np.testing.assert_allclose(np.asarray(j), w.numpy(), rtol=1e-12, atol=1e-15)

    def test_large_log_ratios_are_finite(self) -> None:
        logps = _logps("float32", seed=3, scale=3000.0)
        losses = dpo_loss(*logps, beta=1.0, label_smoothing=0.1)[0]
        assert np.isfinite(losses).all()
        assert_close(losses, dpo_loss_reference(*logps, beta=1.0, label_smoothing=0.1)[0])

    def test_rewards_are_plain_values(self) -> None:
        torch = pytest.importorskip("torch")
        pi_c = torch.zeros(3, requires_grad=True)
        _, chosen, _ = dpo_loss(pi_c, torch.zeros(3), torch.ones(3), torch.ones(3))
        assert chosen.requires_grad  # TRL detaches them; here the caller decides

    @pytest.mark.parametrize(
        ("kwargs", "error", "words"),
        [
            ({"beta": 0.0}, ValueError, "`beta` must be in (0.0, inf), got 0.0"),
            ({"label_smoothing": 0.6}, ValueError, "`label_smoothing` must be in [0.0, 0.5]"),
            ({"loss_type": "robust"}, ValueError,
             "`loss_type` must be one of 'sigmoid', 'ipo', 'hinge'; got 'robust'"),
            ({"loss_type": "ipo", "label_smoothing": 0.1}, ValueError,
             "applies to loss_type='sigmoid' only, got 0.1 with loss_type='ipo'"),
        ],
    )  # fmt: skip
    def test_bad_options(self, kwargs: dict, error: type, words: str) -> None:
        with pytest.raises(error, match=re.escape(words)):
            dpo_loss(*_logps(), **kwargs)

    def test_bad_arrays(self) -> None:
        a, b, c, d = _logps()
        with pytest.raises(ValueError, match=re.escape("`reference_rejected_logps` must have")):
            dpo_loss(a, b, c, d[:3])
        with pytest.raises(TypeError, match="`policy_rejected_logps` must have a real floating"):
            dpo_loss(a, np.zeros(B, dtype=int), c, d)
        with pytest.raises(TypeError, match="`reference_chosen_logps`"):
            dpo_loss(a, b, list(c), d)
