"""Properties of moe (softmax routing over the experts, top-k renormalised, SwiGLU experts) and
of load_balancing_loss (Switch Transformer's E * sum_e f_e P_e)."""

from __future__ import annotations

from typing import Any

import numpy as np

import mlprims

from ._spec import Call, Property, Spec, assume, composite, dtypes, floats, hnp, st

__all__ = ["SPECS"]

OUTPUTS = ("output", "router_logits")
ROUTED = (
    "p = softmax(x @ w_router) over the E experts (the last axis); each token's output is "
    "sum over its top_k experts of p_e / (sum of the chosen p) * the expert's output "
    "(silu(x @ w_gate[e]) * (x @ w_up[e])) @ w_down[e]: the chosen probabilities are "
    "renormalised to sum to 1, not used as they are"
)
TOP1 = (
    "with top_k = 1 each token's output is its most probable expert's output itself "
    "(renormalised, the one weight is 1)"
)
LEADING = "x is (..., D): route every token of the leading axes; the output has the shape of x"
LOGITS = (
    "router_logits are x @ w_router before the softmax, flattened to (T, E), T the number of "
    "tokens (the product of the leading axes of x)"
)


def _outputs(result: Any) -> dict[str, Any]:
    return dict(zip(OUTPUTS, tuple(result)[:2], strict=False))


def _clear(x: np.ndarray, w_router: np.ndarray, k: int) -> bool:
    """Whether every token's k-th and (k+1)-th largest logits are apart by more than rounding:
    on a near-tie, a float32 softmax or ``torch.topk`` may rightly pick the other expert."""
    logits = np.sort(x.reshape(-1, x.shape[-1]).astype(np.float64) @ w_router, axis=-1)[:, ::-1]
    if k == logits.shape[1]:
        return True
    return bool(np.all(logits[:, k - 1] - logits[:, k] > 1e-3 * (1.0 + np.abs(logits).max())))


@composite
def _moe(draw: Any, *, top_k: int | None = None, batch: bool = False) -> Call:
    dtype = draw(dtypes())
    e = draw(st.integers(3, 5))
    k = top_k if top_k is not None else draw(st.integers(2, e - 1))
    d, f = draw(st.integers(2, 4)), draw(st.integers(2, 4))
    lead = (
        (draw(st.integers(1, 2)), draw(st.integers(1, 3))) if batch else (draw(st.integers(2, 4)),)
    )
    x = draw(floats((*lead, d), dtype, bound=2.0))
    params = {
        "w_router": draw(floats((d, e), dtype, bound=2.0)),
        "w_gate": draw(floats((e, d, f), dtype, bound=1.0)),
        "w_up": draw(floats((e, d, f), dtype, bound=1.0)),
        "w_down": draw(floats((e, f, d), dtype, bound=1.0)),
    }
    assume(_clear(x, params["w_router"], k))
    return Call((params, x), {"top_k": k}, dtype)


def _fixed(top_k: int = 2) -> Call:
    """Three tokens, three experts with clear probabilities: catches the classic mistakes."""
    x = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, -1.0]])
    params = {
        "w_router": np.array([[2.0, 1.0, -1.0], [-1.0, 0.5, 2.0]]),  # logits apart by >= 1
        "w_gate": np.array([[[1.0, 0.5], [-0.5, 1.0]], [[0.5, -1.0], [1.0, 0.25]],
                            [[-1.0, 0.5], [0.75, 1.0]]]),
        "w_up": np.array([[[0.5, 1.0], [1.0, -0.5]], [[1.0, 0.5], [-0.25, 1.0]],
                          [[0.25, -1.0], [1.0, 0.5]]]),
        "w_down": np.array([[[1.0, -0.5], [0.5, 1.0]], [[-1.0, 0.5], [0.5, 0.5]],
                            [[0.5, 1.0], [-1.0, 0.25]]]),
    }  # fmt: skip
    return Call((params, x), {"top_k": top_k}, "float64")


MOE = Spec(
    name="moe",
    function=mlprims.moe,
    parameters=("params", "x", "top_k"),
    outputs=_outputs,
    returns="(output, router_logits): output (..., D) in the dtype of `x`; router_logits\n"
    "(T, E) = x @ w_router with the leading axes flattened, in the dtype of `x`.",
    notes="For each token x_t: ``p_t = softmax(x_t @ w_router)`` over all E experts, S_t its\n"
    "top_k experts by probability, ``g_te = p_te / sum_{j in S_t} p_tj`` for e in S_t (the\n"
    "chosen probabilities renormalised to sum to 1, as Mixtral), and\n"
    "``y_t = sum_{e in S_t} g_te * (silu(x_t @ w_gate[e]) * (x_t @ w_up[e])) @ w_down[e]``\n"
    "(Jiang et al. 2024; Hugging Face's MixtralSparseMoeBlock). Weights are (in, out):\n"
    "w_router (D, E), w_gate and w_up (E, D, F), w_down (E, F, D). The graded cases have no\n"
    "near-tie between a token's k-th and (k+1)-th expert.",
    properties=(
        Property(
            "top-k of E experts, renormalised",
            _moe(),
            ROUTED,
            compare=("output",),
            examples=(_fixed(),),
        ),
        Property("top_k = 1", _moe(top_k=1), TOP1, compare=("output",), examples=(_fixed(1),)),
        Property("leading axes (B, T, D)", _moe(batch=True), LEADING, compare=("output",)),
        Property(
            "router logits",
            _moe(batch=True),
            LOGITS,
            compare=("router_logits",),
        ),
    ),
)

BALANCE = (
    "p = softmax(logits) per row; f_e = the fraction of rows whose top_k experts include e "
    "(counting all k choices, so sum_e f_e = top_k), P_e = the mean of p_e over rows; the loss "
    "is num_experts * sum_e f_e * P_e: the factor E makes a balanced routing score 1"
)
MASKED = (
    "attention_mask (B, S) marks the real rows of the (B * S, E) logits: a padding row counts "
    "in neither mean, and both means divide by the number of real rows, not by B * S"
)


@composite
def _balance(draw: Any, *, top_k: int | None = None, masked: bool = False) -> Call:
    dtype = draw(dtypes())
    e = draw(st.integers(2, 5))
    k = top_k if top_k is not None else draw(st.integers(1, e))
    b, s = draw(st.integers(1, 3)), draw(st.integers(2, 4))
    logits = draw(floats((b * s, e), dtype, bound=3.0))
    assume(_clear(logits, np.eye(e), k))
    kwargs: dict[str, Any] = {"num_experts": e, "top_k": k}
    if masked:
        mask = draw(hnp.arrays(np.bool_, (b, s)))
        assume(mask.any() and not mask.all())
        kwargs["attention_mask"] = mask.astype(np.int64)
    return Call((logits,), kwargs, dtype)


def _balance_fixed(*, masked: bool = False) -> Call:
    """Four rows, three experts, top 2: all rows prefer experts 0 and 1 (a loss well above 1)."""
    logits = np.array([[2.0, 1.0, -1.0], [1.5, 2.5, 0.0], [3.0, 0.5, -2.0], [0.0, 1.0, 2.0]])
    kwargs: dict[str, Any] = {"num_experts": 3, "top_k": 2}
    if masked:
        kwargs["attention_mask"] = np.array([[1, 1], [1, 0]])
    return Call((logits,), kwargs, "float64")


LOAD_BALANCING_LOSS = Spec(
    name="load_balancing_loss",
    function=mlprims.load_balancing_loss,
    parameters=("router_logits", "num_experts", "top_k", "attention_mask"),
    parameter_docs={
        "router_logits": "router_logits : array, shape (T, E)\n"
        "    One layer's router logits, one row per token (the second output of moe).",
        "attention_mask": "attention_mask : array of shape (B, S) with B * S = T, optional\n"
        "    1 for a real token, 0 for padding: padding rows count in neither mean.",
    },
    returns="array, shape (): ``E * sum_e f_e P_e`` in the dtype of the logits",
    notes="With ``p = softmax(router_logits)`` per row and S_t the top_k experts of row t by\n"
    "probability, over the T rows (Fedus et al. 2021, Switch Transformers, eq. 4 to 6;\n"
    "transformers' load_balancing_loss_func)::\n\n"
    "    f_e  = (1 / T) sum_t [e in S_t]   # sum_e f_e = top_k\n"
    "    P_e  = (1 / T) sum_t p_te\n"
    "    loss = E * sum_e f_e P_e\n\n"
    "With a mask m (flattened to T), both means weigh row t by m_t and divide by sum_t m_t.\n"
    "The graded cases have no near-tie between a row's k-th and (k+1)-th expert.",
    properties=(
        Property(
            "top-k routing counted",
            _balance(),
            BALANCE,
            examples=(_balance_fixed(),),
        ),
        Property("top_k = 1", _balance(top_k=1), BALANCE),
        Property(
            "padding rows masked",
            _balance(masked=True),
            MASKED,
            examples=(_balance_fixed(masked=True),),
        ),
    ),
)

SPECS = [MOE, LOAD_BALANCING_LOSS]
