"""``mlprims grade --primitive kl_div``, ``--primitive dpo_loss`` and ``--primitive
sigmoid_focal_loss``: correct learner files (NumPy, torch, torch's own F.kl_div and
torchvision's focal loss) pass every property; the classic mistakes fail the property that
names them.

Graded in this process through the command line with a few hypothesis examples per property
(tests/tools/test_practice.py tests the grader itself; the template of every spec too).
"""

from __future__ import annotations

import pytest

KL_NUMPY = """\
import numpy as np


def kl_div(input, target, /, *, reduction="mean"):
    zero = target == 0
    q = np.where(zero, 1.0, target)
    terms = np.where(zero, 0.0, q * (np.log(q) - input))
    if reduction == "none":
        return terms
    if reduction == "batchmean":
        return terms.sum() / input.shape[0]
    return terms.sum() if reduction == "sum" else terms.mean()
"""

KL_TORCH = """\
import torch.nn.functional as F


def kl_div(input, target, /, *, reduction="mean"):
    return F.kl_div(input, target, reduction=reduction)
"""

DPO_NUMPY = """\
import numpy as np


def dpo_loss(policy_chosen_logps, policy_rejected_logps, reference_chosen_logps,
             reference_rejected_logps, /, *, beta=0.1, label_smoothing=0.0, loss_type="sigmoid"):
    h = (policy_chosen_logps - policy_rejected_logps) - (
        reference_chosen_logps - reference_rejected_logps
    )
    if loss_type == "sigmoid":
        eps = label_smoothing
        losses = (1 - eps) * np.logaddexp(0, -beta * h) + eps * np.logaddexp(0, beta * h)
    elif loss_type == "ipo":
        losses = (h - 1 / (2 * beta)) ** 2
    else:
        losses = np.maximum(0, 1 - beta * h)
    chosen = beta * (policy_chosen_logps - reference_chosen_logps)
    rejected = beta * (policy_rejected_logps - reference_rejected_logps)
    return losses, chosen, rejected
"""

DPO_TORCH = """\
import torch
import torch.nn.functional as F


def dpo_loss(policy_chosen_logps, policy_rejected_logps, reference_chosen_logps,
             reference_rejected_logps, /, *, beta=0.1, label_smoothing=0.0, loss_type="sigmoid"):
    logits = (policy_chosen_logps - policy_rejected_logps) - (
        reference_chosen_logps - reference_rejected_logps
    )
    ls = label_smoothing
    if loss_type == "sigmoid":
        losses = -F.logsigmoid(beta * logits) * (1 - ls) - F.logsigmoid(-beta * logits) * ls
    elif loss_type == "hinge":
        losses = torch.relu(1 - beta * logits)
    else:
        losses = (logits - 1 / (2 * beta)) ** 2
    chosen = beta * (policy_chosen_logps - reference_chosen_logps).detach()
    rejected = beta * (policy_rejected_logps - reference_rejected_logps).detach()
    return losses, chosen, rejected
"""

FOCAL_NUMPY = """\
import numpy as np


def sigmoid_focal_loss(inputs, targets, /, *, alpha=0.25, gamma=2.0, reduction="none"):
    e = np.exp(-np.abs(inputs))
    p = np.where(inputs >= 0, 1 / (1 + e), e / (1 + e))
    ce = np.maximum(inputs, 0) - inputs * targets + np.log1p(e)
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce * (1 - p_t) ** gamma
    if alpha >= 0:
        alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
        loss = alpha_t * loss
    if reduction == "mean":
        return loss.mean()
    return loss.sum() if reduction == "sum" else loss
"""

#: torchvision.ops.sigmoid_focal_loss, line for line (its wheel does not load here).
FOCAL_TORCH = """\
import torch
import torch.nn.functional as F


def sigmoid_focal_loss(inputs, targets, /, *, alpha=0.25, gamma=2.0, reduction="none"):
    p = torch.sigmoid(inputs)
    ce_loss = F.binary_cross_entropy_with_logits(inputs, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce_loss * ((1 - p_t) ** gamma)
    if alpha >= 0:
        alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
        loss = alpha_t * loss
    if reduction == "mean":
        loss = loss.mean()
    elif reduction == "sum":
        loss = loss.sum()
    return loss
"""

CORRECT = {
    ("kl_div", "numpy"): KL_NUMPY,
    ("kl_div", "torch"): KL_TORCH,
    ("dpo_loss", "numpy"): DPO_NUMPY,
    ("dpo_loss", "torch"): DPO_TORCH,
    ("sigmoid_focal_loss", "numpy"): FOCAL_NUMPY,
    ("sigmoid_focal_loss", "torch"): FOCAL_TORCH,
}

DPO = "sigmoid loss (DPO)"
#: name: (primitive, the correct file, an edit, the property that must catch it, its hint's words)
WRONG = {
    "kl-0-log-0-is-nan": (
        "kl_div",
        KL_NUMPY,
        "np.where(zero, 0.0, q * (np.log(q) - input))",
        "target * (np.log(target) - input)",
        "zero target probabilities",
        "0 * log 0 = 0",
    ),
    "kl-batchmean-over-every-element": (
        "kl_div",
        KL_NUMPY,
        "terms.sum() / input.shape[0]",
        "terms.mean()",
        "batchmean over (N, C) distributions",
        "divide by N = input.shape[0]",
    ),
    "dpo-log-ratio-sign-flipped": (
        "dpo_loss",
        DPO_NUMPY,
        "(policy_chosen_logps - policy_rejected_logps) - (",
        "(policy_rejected_logps - policy_chosen_logps) - (",
        DPO,
        "the chosen minus the rejected",
    ),
    "dpo-reference-added": (
        "dpo_loss",
        DPO_NUMPY,
        "policy_rejected_logps) - (",
        "policy_rejected_logps) + (",
        DPO,
        "the policy minus the reference",
    ),
    "dpo-beta-outside-the-sigmoid": (
        "dpo_loss",
        DPO_NUMPY,
        "(1 - eps) * np.logaddexp(0, -beta * h)",
        "(1 - eps) * beta * np.logaddexp(0, -h)",
        DPO,
        "beta inside the sigmoid",
    ),
    "dpo-naive-log-sigmoid": (
        "dpo_loss",
        DPO_NUMPY,
        "(1 - eps) * np.logaddexp(0, -beta * h)",
        "-(1 - eps) * np.log(1 / (1 + np.exp(-beta * h)))",
        "large log-ratios (|beta h| up to 1000s)",
        "-logaddexp(0, -x)",
    ),
    "dpo-torch-ipo-with-beta": (
        "dpo_loss",
        DPO_TORCH,
        "(logits - 1 / (2 * beta)) ** 2",
        "(beta * logits - 1 / (2 * beta)) ** 2",
        "IPO (loss_type='ipo')",
        "without beta on h",
    ),
    "focal-alpha-on-both-classes": (
        "sigmoid_focal_loss",
        FOCAL_NUMPY,
        "alpha_t = alpha * targets + (1 - alpha) * (1 - targets)",
        "alpha_t = alpha",
        "alpha 0.25, gamma 2 (the defaults)",
        "1 - alpha the negatives",
    ),
    "focal-negative-alpha-still-weighs": (
        "sigmoid_focal_loss",
        FOCAL_NUMPY,
        "    if alpha >= 0:\n        alpha_t",
        "    if True:\n        alpha_t",
        "other alpha and gamma, alpha < 0",
        "a negative alpha weighs nothing",
    ),
    "focal-log-of-sigmoid": (
        "sigmoid_focal_loss",
        FOCAL_NUMPY,
        "ce = np.maximum(inputs, 0) - inputs * targets + np.log1p(e)",
        "ce = -(targets * np.log(p) + (1 - targets) * np.log(1 - p))",
        "large logits (|x| up to 1000, float32)",
        "without log(sigmoid)",
    ),
}


@pytest.mark.parametrize(("name", "framework"), list(CORRECT), ids=[f"{n}-{f}" for n, f in CORRECT])
def test_a_correct_file_passes_every_property(grader, name: str, framework: str) -> None:
    if framework == "torch":
        pytest.importorskip("torch")
    grader.passes_every_property(CORRECT[name, framework], name)


@pytest.mark.parametrize("wrong", list(WRONG))
def test_a_classic_mistake_fails_the_property_that_names_it(grader, wrong: str) -> None:
    name, source, old, new, caught_by, hint = WRONG[wrong]
    if source in (DPO_TORCH, FOCAL_TORCH):
        pytest.importorskip("torch")
    assert old in source, "the mistake must be an edit of the correct file"
    grader.catches(source.replace(old, new, 1), name, caught_by, hint)


def test_the_naive_log_sigmoid_fails_only_at_large_log_ratios(grader) -> None:
    _, source, old, new, caught_by, _ = WRONG["dpo-naive-log-sigmoid"]
    _, out = grader.run(source.replace(old, new, 1), "dpo_loss", "--no-shrink")
    assert [p for p, v in grader.verdicts(out).items() if v == "FAILED"] == [caught_by]
