"""``mlprims grade --primitive moe``: correct learner files in NumPy and torch, transformers' own
MixtralSparseMoeBlock, and the softmax taken over the k chosen logits only (the same weights)
pass every property; the classic mistakes fail the property that names them.

Graded in this process through the command line with a few hypothesis examples per property
(tests/tools/test_practice.py tests the grader itself; the template of every spec too).
"""

from __future__ import annotations

import pytest

NUMPY = """\
import numpy as np


def moe(params, x, /, *, top_k):
    h = x.reshape(-1, x.shape[-1])
    logits = h @ params["w_router"]
    z = np.exp(logits - logits.max(axis=-1, keepdims=True))
    p = z / z.sum(axis=-1, keepdims=True)
    top = np.argsort(-p, axis=-1, kind="stable")[:, :top_k]
    chosen = np.take_along_axis(p, top, axis=-1)
    weights = chosen / chosen.sum(axis=-1, keepdims=True)
    out = np.zeros_like(h)
    for t in range(h.shape[0]):
        for j in range(top_k):
            e = top[t, j]
            gate = h[t] @ params["w_gate"][e]
            hidden = gate / (1 + np.exp(-gate)) * (h[t] @ params["w_up"][e])
            out[t] += weights[t, j] * (hidden @ params["w_down"][e])
    return out.reshape(x.shape), logits
"""

TORCH = """\
import torch


def moe(params, x, /, *, top_k):
    h = x.reshape(-1, x.shape[-1])
    logits = h @ params["w_router"]
    p = torch.softmax(logits, dim=-1)
    values, top = torch.topk(p, top_k, dim=-1)
    weights = values / values.sum(dim=-1, keepdim=True)
    gates = torch.zeros_like(p).scatter(1, top, weights)
    experts = torch.nn.functional.silu(h @ params["w_gate"]) * (h @ params["w_up"])
    y = experts @ params["w_down"]
    out = torch.einsum("te,etd->td", gates, y)
    return out.reshape(x.shape), logits
"""

#: The softmax over the k chosen logits only: exp(l_e) / sum_chosen exp(l_j) is the
#: renormalised probability, so this is right (not a mistake).
TOP_K_LOGITS_THEN_SOFTMAX = TORCH.replace(
    """    p = torch.softmax(logits, dim=-1)
    values, top = torch.topk(p, top_k, dim=-1)
    weights = values / values.sum(dim=-1, keepdim=True)
    gates = torch.zeros_like(p)""",
    """    chosen, top = torch.topk(logits, top_k, dim=-1)
    weights = torch.softmax(chosen, dim=-1)
    gates = torch.zeros_like(logits)""",
)

#: transformers' block for real. Its router takes the softmax of ``router_logits.float()`` at
#: any precision (1e-7 off in float64, beyond float64's tolerance): in float64 the same router
#: lines run without ``.float()``.
TRANSFORMERS = """\
import torch
from transformers import MixtralConfig
from transformers.models.mixtral.modeling_mixtral import MixtralSparseMoeBlock, MixtralTopKRouter


class _Float64Router(MixtralTopKRouter):
    def forward(self, hidden_states):
        hidden_states = hidden_states.reshape(-1, self.hidden_dim)
        router_logits = torch.nn.functional.linear(hidden_states, self.weight)
        router_probs = torch.nn.functional.softmax(router_logits, dim=-1)
        values, indices = torch.topk(router_probs, self.top_k, dim=-1)
        values /= values.sum(dim=-1, keepdim=True)
        return router_logits, values, indices


def moe(params, x, /, *, top_k):
    (d, e), f = params["w_router"].shape, params["w_gate"].shape[2]
    config = MixtralConfig(hidden_size=d, intermediate_size=f, num_local_experts=e,
                           num_experts_per_tok=top_k, experts_implementation="eager")
    block = MixtralSparseMoeBlock(config).to(x.dtype)
    if x.dtype == torch.float64:
        block.gate = _Float64Router(config).to(x.dtype)
    with torch.no_grad():
        block.gate.weight.copy_(params["w_router"].T)
        gate_up = torch.cat([params["w_gate"], params["w_up"]], dim=2)  # (E, D, 2F)
        block.experts.gate_up_proj.copy_(gate_up.transpose(1, 2))  # (E, 2F, D), gate first
        block.experts.down_proj.copy_(params["w_down"].transpose(1, 2))
        h = x.reshape(1, -1, d)
        return block(h).reshape(x.shape), block.gate(h)[0]
"""

ROUTED = "top-k of E experts, renormalised"
TOP1 = "top_k = 1"
LOGITS = "router logits"

#: The experts choose their tokens (top-k over the tokens axis): expert-choice routing.
EXPERT_CHOICE = """\
    top = np.argsort(-p, axis=0, kind="stable")[:top_k, :].T  # (E, k) tokens per expert
    out = np.zeros_like(h)
    for e in range(top.shape[0]):
        for t in top[e]:
            gate = h[t] @ params["w_gate"][e]
            hidden = gate / (1 + np.exp(-gate)) * (h[t] @ params["w_up"][e])
            out[t] += p[t, e] * (hidden @ params["w_down"][e])
    return out.reshape(x.shape), logits
"""

#: A mistake: the correct file, one edit, the property that must catch it, words of its hint.
WRONG = {
    "numpy-not-renormalised": (
        NUMPY,
        "weights = chosen / chosen.sum(axis=-1, keepdims=True)",
        "weights = chosen",
        ROUTED,
        "renormalised to sum to 1",
    ),
    "torch-not-renormalised": (
        TORCH,
        "weights = values / values.sum(dim=-1, keepdim=True)",
        "weights = values",
        ROUTED,
        "renormalised to sum to 1",
    ),
    "numpy-softmax-over-the-tokens": (
        NUMPY,
        "    p = z / z.sum(axis=-1, keepdims=True)\n",
        (
            "    z = np.exp(logits - logits.max(axis=0, keepdims=True))\n"
            "    p = z / z.sum(axis=0, keepdims=True)\n"
        ),
        ROUTED,
        "over the E experts (the last axis)",
    ),
    "numpy-top-k-over-the-tokens": (
        NUMPY,
        NUMPY[NUMPY.index("    top = np.argsort") :],
        EXPERT_CHOICE,
        ROUTED,
        "over its top_k experts",
    ),
    "torch-gate-and-up-swapped": (
        TORCH,
        'silu(h @ params["w_gate"]) * (h @ params["w_up"])',
        'silu(h @ params["w_up"]) * (h @ params["w_gate"])',
        ROUTED,
        "silu(x @ w_gate[e])",
    ),
    "numpy-not-renormalised-top-1": (
        NUMPY,
        "weights = chosen / chosen.sum(axis=-1, keepdims=True)",
        "weights = chosen if top_k == 1 else chosen / chosen.sum(axis=-1, keepdims=True)",
        TOP1,
        "the one weight is 1",
    ),
    "torch-probabilities-as-logits": (
        TORCH,
        "return out.reshape(x.shape), logits",
        "return out.reshape(x.shape), p",
        LOGITS,
        "before the softmax",
    ),
    "numpy-logits-not-flattened": (
        NUMPY,
        "return out.reshape(x.shape), logits",
        "return out.reshape(x.shape), logits.reshape(*x.shape[:-1], -1)",
        LOGITS,
        "flattened to (T, E)",
    ),
}


@pytest.mark.parametrize(
    "source",
    [NUMPY, TORCH, TOP_K_LOGITS_THEN_SOFTMAX, TRANSFORMERS],
    ids=["numpy", "torch", "softmax-of-the-top-k-logits", "transformers"],
)
def test_a_correct_file_passes_every_property(grader, source: str) -> None:
    pytest.importorskip("torch")
    if source is TRANSFORMERS:
        pytest.importorskip("transformers")
    assert TOP_K_LOGITS_THEN_SOFTMAX != TORCH, "the variant must be an edit of the torch file"
    grader.passes_every_property(source, "moe")


@pytest.mark.parametrize("wrong", list(WRONG))
def test_a_classic_mistake_fails_the_property_that_names_it(grader, wrong: str) -> None:
    source, old, new, caught_by, hint = WRONG[wrong]
    if source is TORCH:
        pytest.importorskip("torch")
    assert old in source, "the mistake must be an edit of the correct file"
    grader.catches(source.replace(old, new, 1), "moe", caught_by, hint)


def test_the_logits_mistakes_fail_nothing_else(grader) -> None:
    """Returning the probabilities leaves the output right: only the logits property fails."""
    source, old, new, _, _ = WRONG["torch-probabilities-as-logits"]
    pytest.importorskip("torch")
    _, out = grader.run(source.replace(old, new, 1), "moe", "--no-shrink")
    assert [p for p, v in grader.verdicts(out).items() if v == "FAILED"] == [LOGITS]


BALANCE_NUMPY = """\
import numpy as np


def load_balancing_loss(router_logits, /, *, num_experts, top_k, attention_mask=None):
    z = np.exp(router_logits - router_logits.max(axis=-1, keepdims=True))
    p = z / z.sum(axis=-1, keepdims=True)
    top = np.argsort(-p, axis=-1, kind="stable")[:, :top_k]
    routed = np.zeros_like(p)
    np.put_along_axis(routed, top, 1.0, axis=-1)
    m = np.ones(p.shape[0]) if attention_mask is None else attention_mask.reshape(-1)
    m = m.astype(p.dtype)[:, None]
    f = (routed * m).sum(axis=0) / m.sum()
    P = (p * m).sum(axis=0) / m.sum()
    return num_experts * (f * P).sum()
"""

COUNTED = "top-k routing counted"
MASKED = "padding rows masked"

BALANCE_WRONG = {
    "numpy-no-factor-e": (
        BALANCE_NUMPY,
        "return num_experts * (f * P).sum()",
        "return (f * P).sum()",
        COUNTED,
        "the factor E",
    ),
    "numpy-top-1-counted-only": (
        BALANCE_NUMPY,
        "[:, :top_k]",
        "[:, :1]",
        COUNTED,
        "counting all k choices",
    ),
    "numpy-mask-ignored": (
        BALANCE_NUMPY,
        "m = np.ones(p.shape[0]) if attention_mask is None else attention_mask.reshape(-1)",
        "m = np.ones(p.shape[0])",
        MASKED,
        "not by B * S",
    ),
}


def test_a_correct_balancing_loss_passes_every_property(grader) -> None:
    """(transformers' load_balancing_loss_func is not graded as a learner: it counts the routed
    rows in float32, ``expert_mask.float()``, 1e-8 off in float64, beyond the grader's float64
    tolerance; tests/experts/test_loss.py compares it with ours directly.)"""
    grader.passes_every_property(BALANCE_NUMPY, "load_balancing_loss")


@pytest.mark.parametrize("wrong", list(BALANCE_WRONG))
def test_a_classic_balancing_mistake_fails_the_property_that_names_it(grader, wrong: str) -> None:
    source, old, new, caught_by, hint = BALANCE_WRONG[wrong]
    assert old in source, "the mistake must be an edit of the correct file"
    grader.catches(source.replace(old, new, 1), "load_balancing_loss", caught_by, hint)
