"""kl_div (mlprims/losses/divergence.py): the float64 oracle on every backend mode,
torch.nn.functional.kl_div itself (values and gradients), zero probabilities, bad input."""

from __future__ import annotations

import re
import warnings
from typing import Any

import numpy as np
import pytest

from mlprims import kl_div
from mlprims.testing import assert_close
from mlprims.testing.oracles.losses import kl_div_reference

REDUCTIONS = ("none", "batchmean", "sum", "mean")


def _inputs(dtype: str = "float64", shape: tuple[int, int] = (4, 5), seed: int = 0) -> tuple:
    """log_softmax inputs and target probabilities with a zero in every row but the last."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(scale=2.0, size=shape)
    log_p = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
    q = rng.dirichlet(np.ones(shape[-1]), size=shape[0])
    q[:-1, 1] = 0.0
    q /= q.sum(axis=-1, keepdims=True)
    return log_p.astype(dtype), q.astype(dtype)


def _log(q: np.ndarray) -> np.ndarray:
    """log q with -inf for the zeros, without NumPy's divide-by-zero warning."""
    return np.where(q > 0, np.log(np.where(q > 0, q, 1.0)), -np.inf)


def _torch_kl(input: Any, target: Any, **kwargs: Any) -> Any:
    """F.kl_div, its "mean" warning (that "batchmean" is the KL divergence) silenced."""
    F = pytest.importorskip("torch.nn.functional")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return F.kl_div(input, target, **kwargs)


class TestKlDiv:
    @pytest.mark.parametrize("log_target", [False, True], ids=["probabilities", "log_target"])
    @pytest.mark.parametrize("dtype", ["float32", "float64"])
    def test_agreement(self, xb, dtype: str, log_target: bool) -> None:
        log_p, q = _inputs(dtype)
        target = _log(q).astype(dtype) if log_target else q
        for reduction in REDUCTIONS:
            got = kl_div(
                xb.asarray(log_p), xb.asarray(target), reduction=reduction, log_target=log_target
            )
            got = xb.to_numpy(got)
            assert got.dtype == np.dtype(dtype)
            want = kl_div_reference(log_p, target, reduction=reduction, log_target=log_target)
            assert_close(got, want, dtype, scale=4.0)

    @pytest.mark.parametrize("log_target", [False, True], ids=["probabilities", "log_target"])
    @pytest.mark.parametrize("reduction", REDUCTIONS)
    def test_equals_torch(self, reduction: str, log_target: bool) -> None:
        torch = pytest.importorskip("torch")
        log_p, q = _inputs("float32", seed=1)
        if log_target:  # torch gives NaN for log q = -inf (0 * -inf): finite log-targets here
            q = np.clip(q, 1e-6, None)
        target = np.log(q) if log_target else q
        want = _torch_kl(
            torch.from_numpy(log_p), torch.from_numpy(target), reduction=reduction,
            log_target=log_target,
        )  # fmt: skip
        got = kl_div(log_p, target, reduction=reduction, log_target=log_target)
        np.testing.assert_allclose(got, want.numpy(), rtol=1e-6, atol=1e-7)
        got = kl_div(
            torch.from_numpy(log_p), torch.from_numpy(target), reduction=reduction,
            log_target=log_target,
        )  # fmt: skip
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6, atol=1e-7)

    def test_broadcasting_batchmean_and_promotion_as_torch(self) -> None:
        torch = pytest.importorskip("torch")
        log_p, q = _inputs("float32", shape=(3, 4), seed=2)
        row = q[0].astype(np.float64)  # (C,) target against (N, C) input: float64 result
        for reduction in REDUCTIONS:
            want = _torch_kl(torch.from_numpy(log_p), torch.from_numpy(row), reduction=reduction)
            got = kl_div(log_p, row, reduction=reduction)
            assert got.dtype == np.float64 and want.dtype == torch.float64
            np.testing.assert_allclose(got, want.numpy(), rtol=1e-6)
        scalar = _torch_kl(torch.tensor(-1.0), torch.tensor(0.5), reduction="batchmean")
        assert float(kl_div(np.array(-1.0), np.array(0.5), reduction="batchmean")) == (
            pytest.approx(float(scalar))  # a 0-d input: "batchmean" is the sum, not divided
        )

    def test_zero_probabilities_contribute_nothing_where_torch_gives_nan(self) -> None:
        torch = pytest.importorskip("torch")
        log_p = np.array([[-np.inf, np.log(0.5), np.log(0.5)]])
        q = np.array([[0.0, 0.25, 0.75]])
        want = np.array([[0.0, 0.25 * np.log(0.5), 0.75 * np.log(1.5)]])  # q (log q - log p)
        for target, log_target in ((q, False), (_log(q), True)):
            got = kl_div(log_p, target, reduction="none", log_target=log_target)
            np.testing.assert_allclose(got, want, rtol=1e-12)
            theirs = _torch_kl(
                torch.from_numpy(log_p), torch.from_numpy(target), reduction="none",
                log_target=log_target,
            )  # fmt: skip
            assert torch.isnan(theirs[0, 0])
            np.testing.assert_allclose(theirs[0, 1:].numpy(), want[0, 1:], rtol=1e-12)
        q_finite = np.array([[0.0, 0.5, 0.5]])  # a finite input: torch's xlogy gives 0 too
        log_p = np.full((1, 3), -1.0)
        theirs = _torch_kl(torch.from_numpy(log_p), torch.from_numpy(q_finite), reduction="none")
        got = kl_div(log_p, q_finite, reduction="none")
        np.testing.assert_allclose(got, theirs.numpy(), rtol=1e-12)
        assert got[0, 0] == 0.0

    def test_gradients_equal_torch(self) -> None:
        torch = pytest.importorskip("torch")
        log_p, q = _inputs("float64", seed=3)
        q = np.clip(q, 0.01, None)  # d/dq of q log q is log q + 1: -inf at q = 0 in torch
        grads = []
        for function in (kl_div, _torch_kl):
            x = torch.from_numpy(log_p).requires_grad_()
            t = torch.from_numpy(q).requires_grad_()
            grads.append(torch.autograd.grad(function(x, t, reduction="batchmean"), (x, t)))
        for ours, theirs in zip(*grads, strict=True):
            np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12, atol=1e-15)

    def test_jax_gradient_equals_torch_and_is_finite_at_zero_targets(self) -> None:
        torch = pytest.importorskip("torch")
        jax = pytest.importorskip("jax")
        log_p, q = _inputs("float64", seed=4)  # zeros in q
        x = torch.from_numpy(log_p).requires_grad_()
        (want,) = torch.autograd.grad(_torch_kl(x, torch.from_numpy(q), reduction="sum"), x)
        got = jax.jit(jax.grad(lambda a: kl_div(a, jax.numpy.asarray(q), reduction="sum")))(log_p)
        np.testing.assert_allclose(np.asarray(got), want.numpy(), rtol=1e-12)  # -q, 0 at q = 0
        log_p[0, 1] = -np.inf  # q = 0 there: the term and its gradient stay 0
        got = jax.grad(lambda a: kl_div(a, jax.numpy.asarray(q), reduction="sum"))(log_p)
        assert np.isfinite(np.asarray(got)).all()

    def test_empty_batch_is_nan_as_torch(self) -> None:
        empty = np.zeros((0, 3))
        for reduction in ("batchmean", "mean"):
            assert np.isnan(kl_div(empty, empty, reduction=reduction))
        assert float(kl_div(empty, empty, reduction="sum")) == 0.0

    @pytest.mark.parametrize(
        ("args", "kwargs", "error", "words"),
        [
            ((np.zeros((2, 3)), np.zeros((2, 3))), {"reduction": "avg"}, ValueError,
             "`reduction` must be one of 'none', 'batchmean', 'sum', 'mean'; got 'avg'"),
            ((np.zeros((2, 3)), np.zeros((2, 3))), {"log_target": 1}, TypeError,
             "`log_target` must be True or False, got 1"),
            ((np.zeros((2, 3)), np.zeros((2, 4))), {}, ValueError, "`input`"),
            ((np.zeros((2, 3)), np.zeros((2, 3), dtype=int)), {}, TypeError,
             "`target` must have a real floating dtype"),
            ((np.zeros((2, 3)), [0.0, 1.0, 0.0]), {}, TypeError, "`target`"),
        ],
    )  # fmt: skip
    def test_bad_input(self, args: tuple, kwargs: dict, error: type, words: str) -> None:
        with pytest.raises(error, match=re.escape(words)):
            kl_div(*args, **kwargs)
