"""The Kullback-Leibler divergence of PyTorch's ``F.kl_div``: input log-probabilities, target
probabilities (or log-probabilities), the pointwise terms reduced as torch reduces them.

Shape legend: ``...`` any shape; "batchmean" reads the batch size from axis 0 of `input`.
"""

from __future__ import annotations

from .._array import (
    Array,
    Namespace,
    broadcast_shapes,
    check_array,
    check_bool,
    check_choice,
    check_floating,
    namespace,
    statistics_dtype,
)
from ._common import reduce

__all__: list[str] = ["kl_div"]

_REDUCTIONS = ("none", "batchmean", "sum", "mean")


def kl_div(
    input: Array,
    target: Array,
    /,
    *,
    reduction: str = "mean",
    log_target: bool = False,
) -> Array:
    r"""The KL divergence of `target` from ``exp(input)``, term by term, then reduced.

    Matches ``torch.nn.functional.kl_div``.

    Parameters
    ----------
    input : array (...), real floating
        Log-probabilities (e.g. ``log_softmax`` of a model's logits), as torch expects.
    target : array, real floating, broadcastable with `input`
        Probabilities, or log-probabilities with `log_target`.
    reduction : {"mean", "batchmean", "sum", "none"}
        "mean" (torch's default) divides the sum by the number of elements; "batchmean",
        the KL divergence of the rows, divides it by ``input.shape[0]`` (a 0-d `input`: not
        divided); "sum" sums; "none" returns the terms, of the broadcast shape.
    log_target : bool
        Whether `target` holds log-probabilities.

    Returns
    -------
    array: a scalar (0-d) unless "none"; in the promoted dtype of `input` and `target`.

    Notes
    -----
    With ``q`` = `target` and ``log p`` = `input`, each term is

    * ``q log q - q log p``, with ``0 log 0 = 0`` (torch's ``xlogy(q, q) - q * input``);
    * with `log_target`: ``exp(log q) (log q - log p)``.

    Summed over the class axis this is ``KL(q || p)``,

    .. math:: \mathrm{KL}(q \,\|\, p) = \sum_c q_c \left(\log q_c - \log p_c\right);

    "batchmean" is then its mean over the batch (torch warns that "mean" divides by the
    classes too, and keeps it as the default: so does this function, without the warning).
    A zero probability, ``q = 0`` (or ``log q = -inf``), contributes 0 whatever ``log p`` is;
    **torch gives NaN where it meets ``log p = -inf`` (``0 * -inf``), or where
    ``log q = -inf`` with `log_target`**, and 0 elsewhere. The gradient with respect to
    `input` is ``-q`` (0 where ``q = 0``).

    References
    ----------
    - https://pytorch.org/docs/stable/generated/torch.nn.functional.kl_div.html

    Examples
    --------
    >>> import numpy as np
    >>> log_p = np.log(np.array([[0.5, 0.5], [0.9, 0.1]]))
    >>> q = np.array([[1.0, 0.0], [0.9, 0.1]])
    >>> kl_div(log_p, q, reduction="none").round(4).tolist()
    [[0.6931, 0.0], [0.0, 0.0]]
    >>> float(kl_div(log_p, q, reduction="batchmean").round(4))
    0.3466
    """
    check_array(input, "input")
    check_array(target, "target")
    xp = namespace(input, target, names=("input", "target"))
    check_floating(input, "input", xp=xp)
    check_floating(target, "target", xp=xp)
    reduction = check_choice(reduction, "reduction", _REDUCTIONS)
    log_target = check_bool(log_target, "log_target")
    shape = broadcast_shapes(input.shape, target.shape, names=("input", "target"))

    dtype = xp.result_type(input.dtype, target.dtype)
    work = statistics_dtype(dtype, xp=xp)
    log_p = xp.broadcast_to(xp.astype(input, work, copy=False), shape)
    t = xp.broadcast_to(xp.astype(target, work, copy=False), shape)
    terms = _log_target_terms(t, log_p, xp=xp) if log_target else _terms(t, log_p, xp=xp)

    if reduction == "batchmean":
        total = xp.sum(terms)
        batch = input.shape[0] if input.ndim else 1
        loss = total / batch if batch else xp.full_like(total, xp.nan)  # torch's 0 / 0
    else:
        loss = reduce(terms, reduction, xp=xp)
    return xp.astype(loss, dtype)


def _terms(q: Array, log_p: Array, *, xp: Namespace) -> Array:
    """``q log q - q log p``, 0 where ``q = 0`` (NaN stays NaN: a NaN ``q`` is not 0)."""
    zero = q == 0
    safe = xp.where(zero, xp.ones_like(q), q)  # log(1) = 0: no -inf, no NaN gradient at q = 0
    terms = safe * xp.log(safe) - safe * log_p  # torch's order: xlogy(q, q) - q * input
    return xp.where(zero, xp.zeros_like(terms), terms)


def _log_target_terms(log_q: Array, log_p: Array, *, xp: Namespace) -> Array:
    """``exp(log q) (log q - log p)``, 0 where ``log q = -inf``."""
    zero = log_q == -xp.inf
    safe = xp.where(zero, xp.zeros_like(log_q), log_q)
    terms = xp.exp(safe) * (safe - log_p)
    return xp.where(zero, xp.zeros_like(terms), terms)
