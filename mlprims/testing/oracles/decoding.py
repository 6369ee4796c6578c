"""Float64 references for :mod:`mlprims.decoding`: Hugging Face's logits warpers restated in
NumPy (``transformers/generation/logits_process.py``), and decoding on a bigram model (the
next token's logits are the row of a (V, V) table picked by the last token) by a Python loop
and by exhaustive search.
"""

from __future__ import annotations

import itertools

import numpy as np

__all__ = [
    "beam_search_bigram_reference",
    "greedy_bigram_reference",
    "min_p_filter_reference",
    "repetition_penalty_reference",
    "softmax_rows",
    "top_k_filter_reference",
    "top_p_filter_reference",
]


def softmax_rows(z: np.ndarray) -> np.ndarray:
    """Softmax over the last axis (float64)."""
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def top_k_filter_reference(logits: np.ndarray, k: int) -> np.ndarray:
    """``TopKLogitsWarper``: -inf below the k-th largest logit of each row (ties all kept)."""
    kth = -np.sort(-logits, axis=-1)[..., k - 1 : k]
    return np.where(logits < kth, -np.inf, logits)


def top_p_filter_reference(logits: np.ndarray, p: float) -> np.ndarray:
    """``TopPLogitsWarper``: ascending stable sort, drop the tokens whose cumulative probability
    is <= 1 - p, always keep the most likely one."""
    order = np.argsort(logits, axis=-1, kind="stable")
    cumulative = np.cumsum(softmax_rows(np.take_along_axis(logits, order, axis=-1)), axis=-1)
    remove_sorted = cumulative <= 1 - p
    remove_sorted[..., -1] = False
    remove = np.zeros_like(remove_sorted)
    np.put_along_axis(remove, order, remove_sorted, axis=-1)
    return np.where(remove, -np.inf, logits)


def min_p_filter_reference(logits: np.ndarray, p: float) -> np.ndarray:
    """``MinPLogitsWarper``: -inf where a probability is below p times the row's largest."""
    probs = softmax_rows(logits)
    return np.where(probs < p * probs.max(axis=-1, keepdims=True), -np.inf, logits)


def repetition_penalty_reference(
    logits: np.ndarray, tokens: np.ndarray, penalty: float
) -> np.ndarray:
    """``RepetitionPenaltyLogitsProcessor`` token by token: a seen token's logit is multiplied
    by `penalty` when negative, divided by it otherwise (once, however often it was seen)."""
    out = np.array(logits, dtype=np.float64)
    for b, row in enumerate(np.asarray(tokens)):
        for t in set(row.tolist()):
            z = logits[b, t]
            out[b, t] = z * penalty if z < 0 else z / penalty
    return out


def greedy_bigram_reference(
    table: np.ndarray, prompt: np.ndarray, max_new_tokens: int, *, eos_token_id: int, pad: int = 0
) -> np.ndarray:
    """Greedy decoding by a Python loop: append argmax(table[last]) until EOS, then `pad`."""
    out = []
    for row in np.asarray(prompt).tolist():
        seq = list(row)
        for _ in range(max_new_tokens):
            seq.append(int(np.argmax(table[seq[-1]])))
            if seq[-1] == eos_token_id:
                break
        out.append(seq + [pad] * (len(row) + max_new_tokens - len(seq)))
    return np.array(out)


def beam_search_bigram_reference(
    table: np.ndarray, prompt: np.ndarray, max_new_tokens: int
) -> np.ndarray:
    """The most likely continuation of each row (no EOS), by trying all V**n of them: what a
    beam search with V**(n-1) beams must find."""
    log_probs = np.log(softmax_rows(np.asarray(table, dtype=np.float64)))
    vocab = log_probs.shape[0]

    def best(row: list[int]) -> list[int]:
        scores: dict[tuple[int, ...], float] = {}
        for tail in itertools.product(range(vocab), repeat=max_new_tokens):
            path = (row[-1], *tail)
            scores[tail] = sum(log_probs[a, b] for a, b in itertools.pairwise(path))
        likeliest = max(scores, key=scores.__getitem__)
        return [*row, *likeliest]

    return np.array([best(row) for row in np.asarray(prompt).tolist()])
