"""Logits processors: pure functions on (B, V) scores with Hugging Face's semantics.

Legend: B the batch (any leading axes), V the vocabulary (the last axis), L the tokens seen.
Each function returns new scores and never touches its input; removed tokens get `fill`
(``-inf`` by default), so a softmax gives them probability 0. Hugging Face applies them in the
order temperature, top-k, top-p (``transformers.generation.utils.GenerationMixin
._get_logits_processor``); :func:`mlprims.sample_next_token` does the same.

Matched: ``transformers.generation.logits_process`` (``TemperatureLogitsWarper``,
``TopKLogitsWarper``, ``TopPLogitsWarper``, ``MinPLogitsWarper``,
``RepetitionPenaltyLogitsProcessor``), transcribed in ``tests/decoding/test_processors.py``.
"""

from __future__ import annotations

import math

from array_api_compat import device as device_of

from .. import backends
from .._array import (
    Array,
    Namespace,
    check_dtype,
    check_in_range,
    check_int,
    check_number,
    index_dtype,
    shape_str,
)
from ..activations.softmax import softmax
from ._common import check_logits, check_probability

__all__ = [
    "apply_temperature",
    "min_p_filter",
    "repetition_penalty",
    "top_k_filter",
    "top_p_filter",
]


def _fill(logits: Array, remove: Array, fill: float, *, xp: Namespace) -> Array:
    return xp.where(remove, xp.asarray(fill, dtype=logits.dtype), logits)


def apply_temperature(logits: Array, temperature: float, /) -> Array:
    r"""``logits / temperature``: below 1 sharpens the distribution, above 1 flattens it.

    Parameters
    ----------
    logits : array (..., V), real floating
    temperature : float
        Strictly positive and finite.

    Returns
    -------
    array (..., V), dtype of `logits`

    Notes
    -----
    .. math::

        y_v = x_v / T, \qquad T > 0

    Hugging Face's ``TemperatureLogitsWarper`` (which also refuses ``temperature <= 0``; greedy
    decoding is ``strategy="greedy"``, not temperature 0).

    References
    ----------
    - ``TemperatureLogitsWarper``: https://huggingface.co/docs/transformers/internal/generation_utils

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> mlprims.apply_temperature(np.array([[1.0, 2.0]]), 0.5).tolist()
    [[2.0, 4.0]]
    """
    xp = check_logits(logits)
    t = check_in_range(temperature, "temperature", 0.0, math.inf, closed=(False, False))
    return logits / xp.asarray(t, dtype=logits.dtype)


def top_k_filter(logits: Array, k: int, /, *, fill: float = -math.inf) -> Array:
    r"""Keep the `k` largest scores of each row, and every score tied with the k-th; fill the rest.

    Parameters
    ----------
    logits : array (..., V), real floating
    k : int
        At least 1; ``k >= V`` keeps everything.
    fill : float
        The value of the removed scores (default ``-inf``).

    Returns
    -------
    array (..., V), dtype of `logits`

    Notes
    -----
    ``remove = logits < kth_largest(logits)``: Hugging Face's ``TopKLogitsWarper``, so a tie
    at the k-th place keeps more than k tokens. The k-th value comes from the backend's
    ``top_k`` (``torch.topk``, ``jax.lax.top_k``, ``np.partition``). With :math:`x_{[k]}`
    the k-th largest score of the row (:math:`k` capped at :math:`V`):

    .. math::

        y_v = \begin{cases} x_v, & x_v \ge x_{[k]} \\ \text{fill}, & x_v < x_{[k]} \end{cases}

    References
    ----------
    - Fan et al. 2018, "Hierarchical Neural Story Generation", https://arxiv.org/abs/1805.04833
    - ``TopKLogitsWarper``: https://huggingface.co/docs/transformers/internal/generation_utils

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> mlprims.top_k_filter(np.array([[3.0, 1.0, 2.0, 2.0]]), 2).tolist()
    [[3.0, -inf, 2.0, 2.0]]
    """
    xp = check_logits(logits)
    k = check_int(k, "k", minimum=1)
    fill = check_number(fill, "fill")
    k = min(k, logits.shape[-1])
    values, _ = backends.of(logits).top_k(logits, k)
    kth = values[..., k - 1 : k]  # (..., 1)
    return _fill(logits, logits < kth, fill, xp=xp)


def _positions(n: int, like: Array, *, xp: Namespace) -> Array:
    """``[0, 1, ..., n - 1]`` on the device of `like`."""
    return xp.arange(n, dtype=index_dtype(xp), device=device_of(like))


def _unsort(sorted_values: Array, order: Array, *, xp: Namespace) -> Array:
    """Values given in the order ``order`` (an argsort along the last axis) put back in place."""
    inverse = xp.argsort(order, axis=-1)  # the rank of each original position
    return xp.take_along_axis(sorted_values, inverse, axis=-1)


def top_p_filter(
    logits: Array, p: float, /, *, min_tokens_to_keep: int = 1, fill: float = -math.inf
) -> Array:
    r"""Nucleus filtering: keep the most likely tokens whose probabilities reach `p` together.

    Parameters
    ----------
    logits : array (..., V), real floating
    p : float
        In (0, 1]; 1 keeps everything (up to the tokens of probability 0).
    min_tokens_to_keep : int
        The most likely `min_tokens_to_keep` tokens are always kept (default 1).
    fill : float
        The value of the removed scores (default ``-inf``).

    Returns
    -------
    array (..., V), dtype of `logits`

    Notes
    -----
    Hugging Face's ``TopPLogitsWarper`` (Holtzman et al., "The curious case of neural text
    degeneration", ICLR 2020): sort the scores ascending, ``c = cumsum(softmax(sorted))``,
    remove the tokens with ``c <= 1 - p`` except the last `min_tokens_to_keep`. Ties are
    ordered as a stable ascending sort orders them (the lower index comes first, so it is the
    first of a tie to go), which is what ``torch.sort`` gives on CPU. With :math:`n` =
    `min_tokens_to_keep` and the probabilities :math:`\pi = \operatorname{softmax}(x)` in that
    order, :math:`\pi_{(1)} \le \dots \le \pi_{(V)}`, the token of rank :math:`k` is removed if

    .. math::

        \sum_{l=1}^{k} \pi_{(l)} \le 1 - p \quad \text{and} \quad k \le V - n,

    so, up to rounding, the kept tokens are the smallest set of most likely tokens whose
    probabilities sum to at least `p` (never fewer than `n`).

    References
    ----------
    - Holtzman et al. 2020, "The Curious Case of Neural Text Degeneration",
      https://arxiv.org/abs/1904.09751
    - https://huggingface.co/docs/transformers/internal/generation_utils

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> logits = np.log(np.array([[0.5, 0.3, 0.15, 0.05]]))
    >>> mlprims.top_p_filter(logits, 0.7).round(2).tolist()
    [[-0.69, -1.2, -inf, -inf]]
    """
    xp = check_logits(logits)
    p = check_probability(p, "p")
    keep = check_int(min_tokens_to_keep, "min_tokens_to_keep", minimum=1)
    fill = check_number(fill, "fill")
    v = logits.shape[-1]
    order = xp.argsort(logits, axis=-1, stable=True)  # ascending
    ascending = xp.take_along_axis(logits, order, axis=-1)
    cumulative = xp.cumulative_sum(softmax(ascending, axis=-1), axis=-1)
    remove_sorted = (cumulative <= 1 - p) & (_positions(v, logits, xp=xp) < v - keep)
    return _fill(logits, _unsort(remove_sorted, order, xp=xp), fill, xp=xp)


def min_p_filter(
    logits: Array, p: float, /, *, min_tokens_to_keep: int = 1, fill: float = -math.inf
) -> Array:
    r"""Keep the tokens whose probability is at least `p` times the largest probability.

    Parameters
    ----------
    logits : array (..., V), real floating
    p : float
        In [0, 1]; 0 keeps everything, 1 only the most likely token(s).
    min_tokens_to_keep : int
        The most likely `min_tokens_to_keep` tokens are always kept (default 1).
    fill : float
        The value of the removed scores (default ``-inf``).

    Returns
    -------
    array (..., V), dtype of `logits`

    Notes
    -----
    Hugging Face's ``MinPLogitsWarper`` (Nguyen et al., "Turning up the heat: min-p sampling",
    2024): remove ``softmax(logits) < p * max(softmax(logits))``, but never the first
    `min_tokens_to_keep` tokens of a descending stable sort: among tokens tied at the
    `min_tokens_to_keep`-th place the lower index is kept. transformers 4 sorted stably too;
    transformers 5 picks them with ``torch.topk``, whose order among ties is unspecified.
    With :math:`\pi = \operatorname{softmax}(x)` over the row, token :math:`v` is removed if

    .. math::

        \pi_v < p \max_u \pi_u

    and it is not among the first `min_tokens_to_keep` of that sort.

    References
    ----------
    - https://huggingface.co/docs/transformers/internal/generation_utils

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> logits = np.log(np.array([[0.5, 0.3, 0.15, 0.05]]))
    >>> mlprims.min_p_filter(logits, 0.5).round(2).tolist()
    [[-0.69, -1.2, -inf, -inf]]
    """
    xp = check_logits(logits)
    p = check_in_range(p, "p", 0.0, 1.0)
    keep = check_int(min_tokens_to_keep, "min_tokens_to_keep", minimum=1)
    fill = check_number(fill, "fill")
    probs = softmax(logits, axis=-1)
    remove = probs < p * xp.max(probs, axis=-1, keepdims=True)
    if keep > 1:  # the most likely token is never removed, so only a larger minimum needs a sort
        order = xp.argsort(logits, axis=-1, descending=True, stable=True)
        first = xp.broadcast_to(_positions(logits.shape[-1], logits, xp=xp) < keep, logits.shape)
        remove = remove & ~_unsort(first, order, xp=xp)
    return _fill(logits, remove, fill, xp=xp)


def repetition_penalty(logits: Array, tokens: Array, penalty: float, /) -> Array:
    r"""Make the tokens already seen less likely: CTRL's repetition penalty.

    Parameters
    ----------
    logits : array (B, V), real floating
    tokens : integer array (B, L)
        The tokens seen so far in each row (prompt and generated). Ids outside [0, V) are
        ignored (a pad id of -1, say); a token seen several times is penalised once.
    penalty : float
        Strictly positive; 1 changes nothing, above 1 discourages repetition.

    Returns
    -------
    array (B, V), dtype of `logits`

    Notes
    -----
    For every token seen in a row: ``s / penalty`` if its score ``s >= 0``, else
    ``s * penalty`` (Keskar et al., "CTRL", 2019, section 4.1; Hugging Face's
    ``RepetitionPenaltyLogitsProcessor``):

    .. math::

        y_v = \begin{cases} x_v / \theta, & v \text{ seen and } x_v \ge 0 \\
            x_v\, \theta, & v \text{ seen and } x_v < 0 \\
            x_v, & v \text{ not seen} \end{cases} \qquad \theta = \text{penalty}

    Which tokens were seen is counted with the backend's ``segment_sum`` (O(B L + B V) memory,
    no (B, L, V) one-hot).

    References
    ----------
    - Keskar et al. 2019, "CTRL", https://arxiv.org/abs/1909.05858
    - https://huggingface.co/docs/transformers/internal/generation_utils

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> logits = np.array([[2.0, -2.0, 1.0]])
    >>> mlprims.repetition_penalty(logits, np.array([[0, 1, 1]]), 2.0).tolist()
    [[1.0, -4.0, 1.0]]
    """
    xp = check_logits(logits)
    check_dtype(tokens, "tokens", "integral", xp=xp)
    if logits.ndim != 2 or tokens.ndim != 2 or tokens.shape[0] != logits.shape[0]:
        msg = (
            f"`logits` (B, V) and `tokens` (B, L) must be 2-d with the same B, got "
            f"{shape_str(logits.shape)} and {shape_str(tokens.shape)}"
        )
        raise ValueError(msg)
    penalty = check_in_range(penalty, "penalty", 0.0, math.inf, closed=(False, False))
    b, v = logits.shape
    ids = xp.astype(tokens, index_dtype(xp))
    rows = xp.reshape(_positions(b, logits, xp=xp), (b, 1))
    inside = (ids >= 0) & (ids < v)
    segment = xp.reshape(xp.where(inside, rows * v + ids, -1), (-1,))  # -1: dropped
    ones = xp.ones(segment.shape, dtype=logits.dtype, device=device_of(logits))
    counts = backends.of(logits).segment_sum(ones, segment, b * v)
    seen = xp.reshape(counts, (b, v)) > 0
    scale = xp.asarray(penalty, dtype=logits.dtype)
    penalised = xp.where(logits < 0, logits * scale, logits / scale)
    return xp.where(seen, penalised, logits)
