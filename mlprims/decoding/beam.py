"""Beam search with Hugging Face's semantics, vectorised over fixed-size buffers.

Legend: B rows, K = num_beams, C = 2K candidates per row and step, T = P + N the buffer, V the
vocabulary. Transcribed from ``GenerationMixin._beam_search`` of transformers >= 4.50 (the
vectorised rewrite, itself modelled on Flax's beam search), with its defaults
``early_stopping=False``, ``do_sample=False``, one EOS id:

* scores are sums of log-probabilities (``log_softmax`` of each step's logits, float32 at
  least); at the first step only beam 0 is live (the others start at -1e9);
* each step keeps the best C continuations of all K * V; those ending in EOS, or reaching the
  end of the buffer, are *finished*: among the first K of them, each scores
  ``sum_logprobs / (generated length) ** length_penalty`` (the length counts the EOS) and
  competes for the K finished slots; the best K unfinished ones are the next running beams;
* a row stops improving once its K slots are full and its best running beam, normalised at
  the current length, scores no more than its worst finished one; the loop stops when no row
  can improve, or at the end of the buffer;
* the result is the best finished hypothesis of each row, padded after its EOS.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from array_api_compat import device as device_of

from .. import backends
from .._array import Array, Namespace, index_dtype, namespace
from ..activations import log_softmax
from ._common import StepFn, check_step_logits, is_eos, run_steps, tree_map, write_column

__all__ = ["beam_search"]

_NEG = -1.0e9  # Hugging Face's "never chosen" score


class _Beams(NamedTuple):
    running: Array  # (B, K, T) the live hypotheses
    running_scores: Any  # (B, K) their summed log-probabilities (None before the first step)
    sequences: Array  # (B, K, T) the finished hypotheses, best first
    scores: Any  # (B, K) their length-normalised scores (-1e9 for an empty slot)
    finished: Any  # (B, K) bool, which slots hold a finished hypothesis
    improvable: Any  # (B, 1) bool, Hugging Face's is_early_stop_heuristic_unsatisfied
    stopped: Array  # 0-d bool, no row can improve or every candidate hit the end
    cache: Any


def _gather(x: Array, index: Array, *, xp: Namespace) -> Array:
    """``x[b, index[b, j], ...]`` for x (B, M, ...) and index (B, J): one ``take`` on the
    flattened rows."""
    b, m = x.shape[0], x.shape[1]
    flat = xp.reshape(x, (b * m, *x.shape[2:]))
    offsets = xp.reshape(xp.arange(b, dtype=index.dtype, device=device_of(x)) * m, (b, 1))
    taken = xp.take(flat, xp.reshape(index + offsets, (-1,)), axis=0)
    return xp.reshape(taken, (b, index.shape[1], *x.shape[2:]))


def beam_search(
    step_fn: StepFn,
    prompt: Array,
    max_new_tokens: int,
    /,
    *,
    cache: Any,
    num_beams: int,
    length_penalty: float,
    eos_token_id: tuple[int, ...],
    pad_token_id: int,
) -> Array:
    """The best hypothesis per row, (B, P + N); arguments checked by :func:`generate`."""
    xp = namespace(prompt)
    b, p = prompt.shape
    k, n = num_beams, max_new_tokens
    t, rows = p + n, b * num_beams
    if n == 0:
        return xp.asarray(prompt, copy=True)
    dev = device_of(prompt)
    backend = backends.of(prompt)
    ids = {"eos_token_id": eos_token_id, "pad_token_id": pad_token_id}
    idx = index_dtype(xp)
    row_of_beam = xp.reshape(
        xp.broadcast_to(xp.reshape(xp.arange(b, dtype=idx, device=dev), (b, 1)), (b, k)), (-1,)
    )  # [0, 0, ..., 1, 1, ...]: row b repeated K times
    pads = xp.full((rows, n), pad_token_id, dtype=prompt.dtype, device=dev)
    start = xp.concat([xp.take(prompt, row_of_beam, axis=0), pads], axis=1)
    start = xp.reshape(start, (b, k, t))
    cache = tree_map(lambda a: xp.take(a, row_of_beam, axis=0), cache)
    state = _Beams(start, None, start, None, None, None, xp.asarray(False, device=dev), cache)

    def step(index: Any, s: _Beams) -> _Beams:
        logits, cache = step_fn(xp.reshape(s.running, (rows, t)), s.cache, index)
        v = check_step_logits(logits, rows, ids, xp=xp)
        dt = logits.dtype if xp.finfo(logits.dtype).bits >= 32 else xp.float32
        log_probs = log_softmax(xp.astype(logits, dt), axis=-1)
        s = _initialised(s, dt, xp=xp) if s.running_scores is None else s

        # every continuation of every live beam, scored by its summed log-probability
        summed = xp.reshape(log_probs, (b, k, v)) + s.running_scores[..., None]
        c = min(2 * k, k * v)
        top_scores, top = backend.top_k(xp.reshape(summed, (b, k * v)), c)  # (B, C)
        beam, token = top // v, top % v
        candidates = write_column(_gather(s.running, beam, xp=xp), index, token, xp=xp)
        hits = is_eos(token, eos_token_id, xp=xp) | (index + 1 >= t)

        # the next running beams: the best K candidates that did not finish
        alive = xp.where(hits, top_scores + _NEG, top_scores)
        _, keep = backend.top_k(alive, k)
        running = _gather(candidates, keep, xp=xp)
        running_scores = _gather(alive, keep, xp=xp)
        source = _gather(beam, keep, xp=xp)  # (B, K) the beam each one continues

        # the finished slots: the first K candidates that finished, length-normalised
        just = hits & (xp.arange(c, dtype=idx, device=dev) < k)
        length = xp.astype(xp.asarray(index + 1 - p, device=dev), dt) ** length_penalty
        ended = top_scores / length
        ended = xp.where(s.improvable, ended, ended + _NEG)
        ended = xp.where(just, ended, ended + _NEG)
        merged_scores = xp.concat([s.scores, ended], axis=1)  # (B, K + C)
        _, best = backend.top_k(merged_scores, k)
        sequences = _gather(xp.concat([s.sequences, candidates], axis=1), best, xp=xp)
        scores = _gather(merged_scores, best, xp=xp)
        finished = _gather(xp.concat([s.finished, just], axis=1), best, xp=xp)

        # Hugging Face's stopping heuristic (early_stopping=False)
        best_possible = running_scores[:, :1] / length
        worst = xp.where(finished, xp.min(scores, axis=1, keepdims=True), _NEG)
        improvable = s.improvable & xp.any(best_possible > worst, axis=1, keepdims=True)
        stopped = ~(xp.any(improvable) & ~xp.all(hits))

        offsets = xp.reshape(xp.arange(b, dtype=source.dtype, device=dev) * k, (b, 1))
        rows_kept = xp.reshape(source + offsets, (-1,))
        cache = tree_map(lambda a: xp.take(a, rows_kept, axis=0), cache)
        return _Beams(running, running_scores, sequences, scores, finished, improvable,
                      stopped, cache)  # fmt: skip

    state = step(p, state)
    state = run_steps(
        step, state, p + 1, t, lambda s: s.stopped, probe=lambda s: s.running < 0, xp=xp
    )
    return state.sequences[:, 0, :]


def _initialised(s: _Beams, dt: Any, *, xp: Namespace) -> _Beams:
    """The scores before the first step: only beam 0 live, no finished hypothesis."""
    b, k = s.running.shape[:2]
    dev = device_of(s.running)
    first = xp.arange(k, device=dev) == 0
    never = xp.full((k,), _NEG, dtype=dt, device=dev)
    running_scores = xp.broadcast_to(xp.where(first, xp.zeros_like(never), never), (b, k))
    return s._replace(
        running_scores=running_scores,
        scores=xp.full((b, k), _NEG, dtype=dt, device=dev),
        finished=xp.zeros((b, k), dtype=xp.bool, device=dev),
        improvable=xp.ones((b, 1), dtype=xp.bool, device=dev),
    )
