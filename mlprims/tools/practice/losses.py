"""Properties of cross_entropy (mean and other reductions, large logits, ignore_index), kl_div
(batchmean, the reductions, zero target probabilities), dpo_loss (the sigmoid loss and its
rewards, label smoothing, large log-ratios, IPO, hinge) and sigmoid_focal_loss (alpha_t by
class, gamma, negative alpha, the reductions, large logits)."""

from __future__ import annotations

from typing import Any

import numpy as np

import mlprims

from ._spec import Call, Property, Spec, composite, dtypes, floats, hnp, st

__all__ = ["SPECS"]


@composite
def _logits(
    draw: Any, *, reduction: bool = False, shift: bool = False, ignore: bool = False
) -> Call:
    dtype = "float32" if shift else draw(dtypes())
    n, c = draw(st.integers(1, 4)), draw(st.integers(2, 5))
    logits = draw(floats((n, c), dtype))
    if shift:
        logits = (logits + draw(st.sampled_from([1000.0, -1000.0]))).astype(dtype)
    target = np.array(draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
    kwargs: dict[str, Any] = {}
    if reduction:
        kwargs["reduction"] = draw(st.sampled_from(["none", "sum"]))
    if ignore:
        # at least one row counts: with every row ignored the mean is 0 / 0 (NaN in torch)
        ignored = draw(st.lists(st.booleans(), min_size=n, max_size=n).filter(lambda b: not all(b)))
        target = np.where(ignored, -100, target)
    return Call((logits, target.astype(np.int64)), kwargs, dtype)


CROSS_ENTROPY = Spec(
    name="cross_entropy",
    function=mlprims.cross_entropy,
    parameters=("logits", "target", "ignore_index", "reduction"),
    returns="array: a scalar (0-d) for 'mean'/'sum', else (N,); dtype of `logits`.",
    parameter_docs={
        "logits": "logits : array (N, C), real floating\n    Unnormalised class scores, the "
        "classes on the last axis.",
    },
    notes="loss_n = -log_softmax(logits)[n, target_n]\n"
    "       = logsumexp(logits[n]) - logits[n, target_n]\n"
    "'mean' divides the sum by the number of rows whose target is not `ignore_index`; an\n"
    "ignored row's loss is 0. Here logits are (N, C) and targets (N,) class indices.",
    properties=(
        Property(
            "mean over (N, C) logits",
            _logits(),
            "loss = mean over rows of logsumexp(logits) - logits[target]",
        ),
        Property(
            "reduction 'none' and 'sum'",
            _logits(reduction=True),
            "'none' returns one loss per row, 'sum' their sum",
        ),
        Property(
            "large logits (|x| ~ 1000, float32)",
            _logits(shift=True),
            "log(softmax) overflows: use log_softmax = x - max - log(sum(exp(x - max)))",
        ),
        Property(
            "ignore_index rows",
            _logits(ignore=True),
            "rows with target == ignore_index count neither in the sum nor in the mean's count",
        ),
    ),
)


# --- kl_div -------------------------------------------------------------------------------

ZERO_LOG_ZERO = (
    "0 * log 0 = 0: a zero target probability contributes nothing (np.where / torch.xlogy), "
    "never NaN from 0 * log(0) = 0 * -inf"
)


@composite
def _distributions(draw: Any, *, zeros: bool = False, reduction: str = "batchmean") -> Call:
    """log-probabilities `input` (N, C) and target probabilities; some zero with `zeros`."""
    dtype = draw(dtypes())
    n, c = draw(st.integers(1, 4)), draw(st.integers(2, 5))
    logits = draw(floats((n, c), "float64", bound=3.0))
    log_p = logits - np.log(np.sum(np.exp(logits), axis=1, keepdims=True))  # log_softmax
    q = draw(hnp.arrays(np.float64, (n, c), elements=st.floats(0.05, 1.0)))
    if zeros:  # at least one zero per row, never the whole row
        q[:, 0] = 0.0
        q = np.where(draw(hnp.arrays(np.bool_, (n, c))) & (np.arange(c) < c - 1), 0.0, q)
    q = q / q.sum(axis=1, keepdims=True)
    if reduction == "any":
        reduction = draw(st.sampled_from(["none", "sum", "mean"]))
    return Call((log_p.astype(dtype), q.astype(dtype)), {"reduction": reduction}, dtype)


KL_DIV = Spec(
    name="kl_div",
    function=mlprims.kl_div,
    parameters=("input", "target", "reduction"),
    returns="array: a scalar (0-d), or (N, C) for 'none'; dtype of `input`.",
    parameter_docs={
        "input": "input : array (N, C), real floating\n    Log-probabilities (a log_softmax).",
        "target": "target : array (N, C), real floating\n    Probabilities (rows sum to 1); "
        "some may be 0.",
    },
    notes="Pointwise, with q = target and log p = input (torch's F.kl_div)::\n\n"
    "    term = q * (log q - log p),   0 where q == 0   (0 log 0 = 0)\n\n"
    "'batchmean' sums the terms and divides by N = input.shape[0]: the mean over the rows of\n"
    "KL(q || p). 'mean' divides by every element (N * C), 'sum' sums, 'none' returns them.",
    properties=(
        Property(
            "batchmean over (N, C) distributions",
            _distributions(),
            "sum q * (log q - input) over every element, then divide by N = input.shape[0]; "
            "the target is in probabilities, the input in log-probabilities",
        ),
        Property(
            "reduction 'none', 'sum' and 'mean'",
            _distributions(reduction="any"),
            "'mean' divides the sum by the number of elements (N * C), not by N",
        ),
        Property(
            "zero target probabilities",
            _distributions(zeros=True),
            ZERO_LOG_ZERO,
        ),
    ),
)


# --- dpo_loss -----------------------------------------------------------------------------

DPO = (
    "loss = -log sigmoid(beta * h) with h = (pi_chosen - pi_rejected) - (ref_chosen - "
    "ref_rejected): the chosen minus the rejected, the policy minus the reference, beta "
    "inside the sigmoid"
)


@composite
def _preferences(
    draw: Any, *, loss_type: str = "sigmoid", smoothing: bool = False, large: bool = False
) -> Call:
    dtype = draw(dtypes())
    b = draw(st.integers(1, 5))
    bound = 2000.0 if large else 20.0
    logps = [-np.abs(draw(floats((b,), dtype, bound=bound))) for _ in range(4)]  # <= 0
    kwargs: dict[str, Any] = {"beta": draw(st.sampled_from([0.1, 0.25, 0.5, 1.0]))}
    if loss_type != "sigmoid":
        kwargs["loss_type"] = loss_type
    if smoothing:
        kwargs["label_smoothing"] = draw(st.sampled_from([0.1, 0.2, 0.4]))
    return Call(tuple(logps), kwargs, dtype)


def _dpo_outputs(result: Any) -> dict[str, Any]:
    losses, chosen, rejected = result
    return {"losses": losses, "chosen_rewards": chosen, "rejected_rewards": rejected}


DPO_LOSS = Spec(
    name="dpo_loss",
    function=mlprims.dpo_loss,
    parameters=(
        "policy_chosen_logps",
        "policy_rejected_logps",
        "reference_chosen_logps",
        "reference_rejected_logps",
        "beta",
        "label_smoothing",
        "loss_type",
    ),
    outputs=_dpo_outputs,
    returns="(losses, chosen_rewards, rejected_rewards): three arrays (B,), dtype of the inputs.",
    notes="With h = (pi_c - pi_r) - (ref_c - ref_r) (TRL's DPOTrainer.dpo_loss)::\n\n"
    "    sigmoid: -(1 - eps) log sigmoid(beta h) - eps log sigmoid(-beta h)\n"
    "    ipo:     (h - 1 / (2 beta))^2\n"
    "    hinge:   max(0, 1 - beta h)\n"
    "    chosen_rewards = beta (pi_c - ref_c), rejected_rewards = beta (pi_r - ref_r)\n\n"
    "eps = label_smoothing. log sigmoid(x) = -logaddexp(0, -x): stable for |x| in the 1000s.",
    properties=(
        Property("sigmoid loss (DPO)", _preferences(), DPO, compare=("losses",)),
        Property(
            "implicit rewards",
            _preferences(),
            "chosen_rewards = beta * (policy_chosen - reference_chosen), and the same for the "
            "rejected responses",
            compare=("chosen_rewards", "rejected_rewards"),
        ),
        Property(
            "label smoothing (cDPO)",
            _preferences(smoothing=True),
            "with eps = label_smoothing: -(1 - eps) log sigmoid(beta h) - eps log sigmoid(-beta h)",
            compare=("losses",),
        ),
        Property(
            "large log-ratios (|beta h| up to 1000s)",
            _preferences(large=True),
            "log(sigmoid(x)) is log(0) = -inf once sigmoid underflows: use -logaddexp(0, -x) "
            "(F.logsigmoid, jax.nn.log_sigmoid)",
            compare=("losses",),
        ),
        Property(
            "IPO (loss_type='ipo')",
            _preferences(loss_type="ipo"),
            "ipo: (h - 1 / (2 beta))^2, without beta on h",
            compare=("losses",),
        ),
        Property(
            "hinge (loss_type='hinge')",
            _preferences(loss_type="hinge"),
            "hinge: max(0, 1 - beta h)",
            compare=("losses",),
        ),
    ),
)


# --- sigmoid_focal_loss -------------------------------------------------------------------

FOCAL = (
    "FL = alpha_t (1 - p_t)^gamma BCE(x, y) with p = sigmoid(x), p_t = p y + (1 - p)(1 - y) "
    "and alpha_t = alpha y + (1 - alpha)(1 - y): alpha weighs the positives, 1 - alpha the "
    "negatives"
)


@composite
def _focal(
    draw: Any, *, options: bool = False, reduction: bool = False, large: bool = False
) -> Call:
    dtype = "float32" if large else draw(dtypes())
    shape = (draw(st.integers(1, 4)), draw(st.integers(1, 3)))
    logits = draw(floats(shape, dtype, bound=1000.0 if large else 5.0))
    targets = draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([0.0, 1.0])))
    kwargs: dict[str, Any] = {}
    if options:
        kwargs["alpha"] = draw(st.sampled_from([0.1, 0.5, 0.9, -1.0]))
        kwargs["gamma"] = draw(st.sampled_from([0.0, 0.5, 1.0, 3.0]))
    if reduction:
        kwargs["reduction"] = draw(st.sampled_from(["mean", "sum"]))
    return Call((logits, targets.astype(dtype)), kwargs, dtype)


#: A positive and a negative with the same logit: alpha_t 0.25 and 0.75.
BOTH_CLASSES = Call((np.array([1.0, 1.0]), np.array([1.0, 0.0])), {}, "float64")

SIGMOID_FOCAL_LOSS = Spec(
    name="sigmoid_focal_loss",
    function=mlprims.sigmoid_focal_loss,
    parameters=("inputs", "targets", "alpha", "gamma", "reduction"),
    returns="array: (...) for 'none', else a scalar (0-d); dtype of `inputs`.",
    notes="torchvision.ops.sigmoid_focal_loss (Lin et al., RetinaNet). With p = sigmoid(x)::\n\n"
    "    p_t     = p y + (1 - p) (1 - y)\n"
    "    alpha_t = alpha y + (1 - alpha) (1 - y)      (1 when alpha < 0)\n"
    "    FL      = alpha_t (1 - p_t)^gamma BCE(x, y)\n"
    "    BCE     = -[y log p + (1 - y) log(1 - p)]    (from the logits, stably)\n\n"
    "'none' returns FL elementwise, 'mean' its mean, 'sum' its sum.",
    properties=(
        Property("alpha 0.25, gamma 2 (the defaults)", _focal(), FOCAL, examples=(BOTH_CLASSES,)),
        Property(
            "other alpha and gamma, alpha < 0",
            _focal(options=True),
            "gamma is the exponent of (1 - p_t); a negative alpha weighs nothing (alpha_t = 1)",
        ),
        Property(
            "reduction 'mean' and 'sum'",
            _focal(reduction=True),
            "'mean' averages over every element, 'sum' adds them",
        ),
        Property(
            "large logits (|x| up to 1000, float32)",
            _focal(large=True),
            "BCE from logits without log(sigmoid): max(x, 0) - x y + log1p(exp(-|x|)) (F.binary_"
            "cross_entropy_with_logits); log(sigmoid(x)) is log(0) = -inf once sigmoid rounds to 0",
        ),
    ),
)

SPECS = [CROSS_ENTROPY, KL_DIV, DPO_LOSS, SIGMOID_FOCAL_LOSS]
