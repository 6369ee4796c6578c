"""Float64 NumPy oracles for :mod:`mlprims.experts`, written independently of the primitives: the
mixture of experts token by token (a softmax, the top k by sorting, only the chosen experts
run, as a sparse dispatch does), and the load-balancing loss by counting. Shared by ``tests/``
and ``mlprims check``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["load_balancing_loss_reference", "moe_reference"]


def _softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def _top(p, k):
    """The k experts of largest probability, ties to the lower index."""
    return sorted(range(len(p)), key=lambda e: (-p[e], e))[:k]


def moe_reference(x, w_router, w_gate, w_up, w_down, *, top_k, renormalize=True):
    """``(output (..., D), router_logits (T, E))`` of Mixtral's MoE layer; matches ``moe``.

    Each token's top-k experts by softmax probability, their probabilities renormalised to sum
    to 1 (`renormalize`; False keeps them as they are, the classic mistake), each expert
    ``(silu(x @ w_gate[e]) * (x @ w_up[e])) @ w_down[e]`` run on the tokens that chose it only.
    """
    x, w_router, w_gate, w_up, w_down = (
        np.asarray(a, dtype=np.float64) for a in (x, w_router, w_gate, w_up, w_down)
    )
    tokens = x.reshape(-1, x.shape[-1])  # (T, D)
    logits = tokens @ w_router  # (T, E)
    out = np.zeros_like(tokens)
    for t, token in enumerate(tokens):
        p = _softmax(logits[t])
        chosen = _top(p, top_k)
        total = sum(p[e] for e in chosen) if renormalize else 1.0
        for e in chosen:
            gate = token @ w_gate[e]
            hidden = gate / (1.0 + np.exp(-gate)) * (token @ w_up[e])  # silu(gate) * up
            out[t] += p[e] / total * (hidden @ w_down[e])
    return out.reshape(x.shape), logits


def load_balancing_loss_reference(router_logits, *, num_experts, top_k, attention_mask=None):
    """``E * sum_e f_e P_e`` over the rows of every layer; matches ``load_balancing_loss``.

    `router_logits` is one (..., E) array or a list of them; row t of each layer counts with
    weight ``attention_mask.reshape(-1)[t]`` (1 without a mask).
    """
    layers = router_logits if isinstance(router_logits, (list, tuple)) else [router_logits]
    layers = [np.asarray(a, dtype=np.float64).reshape(-1, num_experts) for a in layers]
    mask = None if attention_mask is None else np.asarray(attention_mask).reshape(-1)
    counts, probs, total = np.zeros(num_experts), np.zeros(num_experts), 0.0
    for layer in layers:
        for t, row in enumerate(layer):
            weight = 1.0 if mask is None else float(mask[t])
            p = _softmax(row)
            for e in _top(p, top_k):
                counts[e] += weight
            probs += weight * p
            total += weight
    return num_experts * np.sum((counts / total) * (probs / total))
