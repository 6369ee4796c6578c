"""generate: autoregressive decoding with a step function, greedy, sampled or beam search.

Legend: B the batch, P the prompt length, N = max_new_tokens, T = P + N the buffer length,
V the vocabulary. The tokens live in one (B, T) buffer from the start (positions not yet
generated hold `pad_token_id`), so every shape is fixed and the loop compiles once under
``jax.jit``; the step function reads the buffer and its own cache, and returns the scores of
the next position.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from array_api_compat import device as device_of

from .. import random
from .._array import (
    Array,
    check_choice,
    check_in_range,
    check_int,
    check_number,
)
from ._common import (
    StepFn,
    check_eos,
    check_probability,
    check_prompt,
    check_step_logits,
    is_eos,
    run_steps,
    write_column,
)
from .beam import beam_search
from .sampling import warp_logits

__all__ = ["generate"]

STRATEGIES = ("greedy", "sample", "beam")


def generate(
    step_fn: StepFn,
    prompt: Array,
    max_new_tokens: int,
    /,
    *,
    cache: Any = None,
    strategy: str = "greedy",
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    num_beams: int = 1,
    length_penalty: float = 1.0,
    eos_token_id: int | Sequence[int] | None = None,
    pad_token_id: int = 0,
    key: Array | None = None,
) -> Array:
    """Extend every row of `prompt` by up to `max_new_tokens` tokens chosen by `step_fn`'s scores.

    Parameters
    ----------
    step_fn : callable
        ``step_fn(tokens, cache, index) -> (logits, cache)``. `tokens` is the (B, T) buffer
        (positions >= `index` hold `pad_token_id`), `index` the number of positions filled (P
        at the first call; a Python int eagerly, a traced integer inside the loop under
        ``jax.jit``), `logits` the (B, V) scores of position `index`. With ``"beam"`` the rows
        are B * num_beams (beam ``j`` of row ``b`` at ``b * num_beams + j``).
    prompt : integer array (B, P)
        At least one token per row.
    max_new_tokens : int
        N >= 0.
    cache : pytree of arrays, optional
        Arrays with the batch (B) on axis 0, in dicts, lists, tuples or None; given back to
        `step_fn` as it returned it. With ``"beam"`` its rows are repeated `num_beams` times,
        then reordered with ``take(..., axis=0)`` to follow the beams.
    strategy : {"greedy", "sample", "beam"}
        ``argmax``, a draw by :func:`mlprims.sample_next_token`, or Hugging Face's beam search.
    temperature : float
        ``"sample"``: divides the logits (strictly positive, default 1).
    top_k : int, optional
        ``"sample"``: keep the `top_k` largest scores and their ties.
    top_p : float, optional
        ``"sample"``: keep the nucleus of mass `top_p`, in (0, 1] (see
        :func:`mlprims.sample_next_token`).
    num_beams : int
        Beams kept per row by ``"beam"`` (default 1; more than 1 needs ``"beam"``).
    length_penalty : float
        ``"beam"``: a finished hypothesis scores ``sum(log p) / length ** length_penalty``,
        length = the generated tokens, EOS included (default 1).
    eos_token_id : int or sequence of int, optional
        A row that emits it (any of them, for a sequence: Llama 3's ``[128001, 128008,
        128009]``) is finished: every later position is `pad_token_id`.
    pad_token_id : int
        Fills the positions not generated (default 0).
    key : array of shape (2,), uint32, optional
        Needed by ``"sample"``: the token of position ``index`` is drawn with
        ``fold_in(key, index)``.

    Returns
    -------
    integer array (B, P + N), dtype of `prompt`
        The prompt followed by the generated tokens (the best hypothesis for ``"beam"``).

    Notes
    -----
    Hugging Face's ``GenerationMixin.generate`` semantics (``_sample`` and ``_beam_search``):
    a finished row gets `pad_token_id` after its EOS while the others go on; greedy and sample
    stop as soon as every row has finished (eagerly; under ``jax.jit`` the loop is
    ``lax.while_loop`` with the same stopping rule). The first step runs with ``index = P``
    outside the loop, so a step function may build its cache there from ``cache=None``.
    Unlike Hugging Face, which crops the output to the longest row, the buffer always has
    P + N columns.

    References
    ----------
    - ``GenerationMixin.generate``: https://huggingface.co/docs/transformers/main_classes/text_generation
    - https://huggingface.co/docs/transformers/generation_strategies

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> table = np.log(np.array([[0.1, 0.8, 0.1], [0.1, 0.1, 0.8], [0.8, 0.1, 0.1]]))
    >>> def step(tokens, cache, index):  # a bigram model: the last token picks the row
    ...     return table[tokens[:, index - 1]], cache
    >>> mlprims.generate(step, np.array([[0], [1]]), 4, eos_token_id=2).tolist()
    [[0, 1, 2, 0, 0], [1, 2, 0, 0, 0]]
    """
    if not callable(step_fn):
        msg = f"`step_fn` must be callable, got {type(step_fn).__name__}"
        raise TypeError(msg)
    xp = check_prompt(prompt)
    n = check_int(max_new_tokens, "max_new_tokens", minimum=0)
    check_choice(strategy, "strategy", STRATEGIES)
    check_in_range(temperature, "temperature", 0.0, math.inf, closed=(False, False))
    if top_k is not None:
        top_k = check_int(top_k, "top_k", minimum=1)
    if top_p is not None:
        check_probability(top_p, "top_p")
    beams = check_int(num_beams, "num_beams", minimum=1)
    if beams > 1 and strategy != "beam":
        msg = f"`num_beams` > 1 needs strategy='beam', got strategy={strategy!r}"
        raise ValueError(msg)
    check_number(length_penalty, "length_penalty")
    eos = check_eos(eos_token_id)
    pad = check_int(pad_token_id, "pad_token_id", minimum=0)
    if strategy == "sample" and key is None:
        msg = "`key` is required by strategy='sample' (e.g. mlprims.random.key(0))"
        raise ValueError(msg)
    if strategy == "beam":
        return beam_search(
            step_fn, prompt, n, cache=cache, num_beams=beams, length_penalty=length_penalty,
            eos_token_id=eos, pad_token_id=pad,
        )  # fmt: skip
    b, p = prompt.shape
    total = p + n
    pads = xp.full((b, n), pad, dtype=prompt.dtype, device=device_of(prompt))
    tokens = xp.concat([prompt, pads], axis=1)  # (B, T)
    finished = xp.zeros((b,), dtype=xp.bool, device=device_of(prompt))
    ids = {"eos_token_id": eos, "pad_token_id": pad}

    def choose(logits: Array, index: Any) -> Array:
        if strategy == "greedy":
            return xp.argmax(logits, axis=-1)
        warped = warp_logits(logits, temperature=temperature, top_k=top_k, top_p=top_p)
        return random.categorical(random.fold_in(key, index), warped, axis=-1)

    def step(index: Any, state: tuple[Array, Any, Array]) -> tuple[Array, Any, Array]:
        tokens, cache, finished = state
        logits, cache = step_fn(tokens, cache, index)
        check_step_logits(logits, b, ids, xp=xp)
        chosen = xp.astype(choose(logits, index), tokens.dtype)
        chosen = xp.where(finished, xp.asarray(pad, dtype=tokens.dtype), chosen)
        finished = finished | is_eos(chosen, eos, xp=xp)
        return write_column(tokens, index, chosen, xp=xp), cache, finished

    if n == 0:
        return xp.asarray(prompt, copy=True)
    state = step(p, (tokens, cache, finished))  # index = P, an int: the cache may be built here
    state = run_steps(
        step, state, p + 1, total, lambda s: xp.all(s[2]), probe=lambda s: s[0] < 0, xp=xp
    )
    return state[0]
