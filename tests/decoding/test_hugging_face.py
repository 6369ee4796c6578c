"""Logits processors against Hugging Face's own warpers, imported from ``transformers`` and
called on the same torch tensors (tests/decoding/test_processors.py checks every backend against
a NumPy transcription of them; this file checks that transcription's claim on the real code).

Drawn by hypothesis: scores from a small set of values (ties at every boundary, ``-inf`` already
present) mixed with arbitrary float32 values, the filter's parameter, ``min_tokens_to_keep`` and
a finite or infinite fill. Kept scores are the inputs unchanged, so filters compare exactly.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from mlprims import (
    apply_temperature,
    min_p_filter,
    repetition_penalty,
    top_k_filter,
    top_p_filter,
)
from mlprims.testing import assert_close

torch = pytest.importorskip("torch")
logits_process = pytest.importorskip("transformers.generation.logits_process")

#: Values that tie with each other often; -inf is a token already removed.
TIED = (-math.inf, -3.0, -1.0, 0.0, 0.5, 1.0, 2.0, 2.5, 4.0)
score = st.one_of(st.sampled_from(TIED), st.floats(-8.0, 8.0, width=32))
fills = st.sampled_from((-math.inf, -1e4, -50.0))


@st.composite
def score_rows(draw: st.DrawFn) -> np.ndarray:
    """float32 scores (B, V), each row holding at least one finite score."""
    shape = draw(hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=9))
    scores = draw(hnp.arrays(np.float32, shape, elements=score))
    assume(np.isfinite(scores).any(axis=-1).all())  # an all -inf row has no distribution
    return scores


def _equal(ours: torch.Tensor, theirs: torch.Tensor) -> None:
    """Same removed tokens, same fill, kept scores untouched: exact equality."""
    assert ours.dtype == theirs.dtype
    assert_close(ours.numpy(), theirs.numpy(), rtol=0, atol=0)


def _ids(batch: int) -> torch.Tensor:
    """The ``input_ids`` argument, which the warpers ignore."""
    return torch.zeros((batch, 1), dtype=torch.long)


@given(scores=score_rows(), k=st.integers(1, 12), keep=st.integers(1, 4), fill=fills)
def test_top_k(scores: np.ndarray, k: int, keep: int, fill: float) -> None:
    x = torch.from_numpy(scores)
    warper = logits_process.TopKLogitsWarper(k, filter_value=fill, min_tokens_to_keep=keep)
    # HF keeps max(k, min_tokens_to_keep) tokens; mlprims' top_k_filter has no minimum to keep
    _equal(top_k_filter(x, max(k, keep), fill=fill), warper(_ids(len(x)), x))


@given(
    scores=score_rows(),
    p=st.one_of(st.sampled_from((0.1, 0.25, 0.5, 0.75, 0.9, 1.0)), st.floats(1e-6, 1.0)),
    keep=st.integers(1, 4),
    fill=fills,
)
def test_top_p(scores: np.ndarray, p: float, keep: int, fill: float) -> None:
    x = torch.from_numpy(scores)
    warper = logits_process.TopPLogitsWarper(p, filter_value=fill, min_tokens_to_keep=keep)
    _equal(top_p_filter(x, p, min_tokens_to_keep=keep, fill=fill), warper(_ids(len(x)), x))


@given(
    scores=score_rows(),
    p=st.one_of(st.sampled_from((0.0, 0.1, 0.5, 1.0)), st.floats(0.0, 1.0)),
    keep=st.integers(1, 4),
    fill=fills,
)
@example(  # 0 and the subnormal 1e-45 tie in probability at the 2nd place: either is kept
    scores=np.array([[1e-45, 1e-45, 1e-45, 0.0, 2.5, 1e-45]], np.float32),
    p=0.1,
    keep=2,
    fill=-np.inf,
)
def test_min_p(scores: np.ndarray, p: float, keep: int, fill: float) -> None:
    """Equal, except which of the tokens tied at the `keep`-th place are kept.

    transformers 5 keeps ``torch.topk(probs, keep).indices``, whose order among ties is
    unspecified; mlprims keeps the first of a stable descending sort (the lower index), as
    transformers 4's ``argsort`` did. The same number of tokens is kept, with the same
    probabilities (tied tokens may differ in score: 0 and 1e-45 have one float32 probability).
    """
    x = torch.from_numpy(scores)
    warper = logits_process.MinPLogitsWarper(p, filter_value=fill, min_tokens_to_keep=keep)
    ours = min_p_filter(x, p, min_tokens_to_keep=keep, fill=fill).numpy()
    theirs = warper(_ids(len(x)), x).numpy()
    probs = torch.softmax(x, dim=-1).numpy()  # HF ranks probabilities: 0 and -1e-40 tie
    kept = [np.sort(np.where(out == scores, probs, -1.0), axis=-1) for out in (ours, theirs)]
    assert_close(*kept, rtol=0, atol=0)
    place = min(keep, scores.shape[-1])
    kth = -np.sort(-probs, axis=-1)[:, place - 1 : place]  # the keep-th largest probability
    elsewhere = probs != kth  # not tied with it: no choice to make
    assert_close(ours[elsewhere], theirs[elsewhere], rtol=0, atol=0)


@given(scores=score_rows(), temperature=st.floats(0.05, 20.0))
def test_temperature(scores: np.ndarray, temperature: float) -> None:
    x = torch.from_numpy(scores)
    warper = logits_process.TemperatureLogitsWarper(temperature)
    _equal(apply_temperature(x, temperature), warper(_ids(len(x)), x))


@given(data=st.data(), penalty=st.floats(0.1, 5.0))
def test_repetition_penalty(data: st.DataObject, penalty: float) -> None:
    scores = data.draw(score_rows())
    batch, vocab = scores.shape
    # ids past the vocabulary (an embedding larger than the head) are ignored by both
    tokens = data.draw(hnp.arrays(np.int64, (batch, data.draw(st.integers(1, 8))),
                                  elements=st.integers(0, vocab + 2)))  # fmt: skip
    x, ids = torch.from_numpy(scores), torch.from_numpy(tokens)
    processor = logits_process.RepetitionPenaltyLogitsProcessor(penalty)
    _equal(repetition_penalty(x, ids, penalty), processor(ids, x.clone()))
