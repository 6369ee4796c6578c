"""Properties of greedy decoding (generate with strategy "greedy") on a bigram model."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

import mlprims

from ._spec import Call, Property, Spec, composite, st

__all__ = ["SPECS", "Bigram"]


@dataclass(frozen=True)
class Bigram:
    """A step function whose next-token scores are the row of `table` of the last token."""

    table: np.ndarray

    def on(self, to: Callable[[np.ndarray], Any]) -> Callable[..., Any]:
        """The step function ``step_fn(tokens, cache, index)`` on the framework of `to`."""
        table = to(self.table)

        def step_fn(tokens: Any, cache: Any, index: Any) -> tuple[Any, Any]:
            return table[tokens[:, index - 1]], cache

        return step_fn

    def __repr__(self) -> str:
        rows = np.array2string(self.table, precision=2, separator=", ")
        return f"bigram step_fn with logits table {rows}"


@composite
def _greedy(draw: Any, *, eos: bool = False) -> Call:
    v = draw(st.integers(2, 5))
    # distinct scores in each row: argmax has no tie to break
    table = np.array([draw(st.permutations(range(v))) for _ in range(v)], dtype=np.float64)
    b, p = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    prompt = np.array(draw(st.lists(st.integers(0, v - 1), min_size=b * p, max_size=b * p)))
    args = (Bigram(table), prompt.reshape(b, p).astype(np.int64), draw(st.integers(0, 5)))
    token = st.integers(0, v - 1)
    kwargs = {"eos_token_id": draw(token), "pad_token_id": draw(token)} if eos else {}
    return Call(args, kwargs)


#: Row 0 emits EOS (1) at once, row 1 never does: row 1 goes on after row 0 has finished.
ONE_ROW_ENDS = Call(
    (
        Bigram(np.array([[0, 3, 1, 2], [3, 0, 1, 2], [0, 1, 3, 2], [3, 0, 1, 2]], np.float64)),
        np.array([[0], [2]], np.int64),
        3,
    ),
    {"eos_token_id": 1, "pad_token_id": 3},
)


GENERATE = Spec(
    name="generate",
    function=mlprims.generate,
    parameters=("step_fn", "prompt", "max_new_tokens", "eos_token_id", "pad_token_id"),
    notes="Greedy decoding only here: at each step the next token is argmax(logits) (the lowest\n"
    "index among equals). A row that emits `eos_token_id` is finished: its later positions\n"
    "hold `pad_token_id`, while the other rows go on; the output always has P + N columns.",
    properties=(
        Property(
            "greedy, no EOS",
            _greedy(),
            "call step_fn with the buffer filled up to index, append argmax(logits) for every "
            "row of the batch, P + N columns",
        ),
        Property(
            "EOS: finished rows are padded",
            _greedy(eos=True),
            "after a row emits eos_token_id every later position of that row is pad_token_id, "
            "while the other rows go on",
            examples=(ONE_ROW_ENDS,),
        ),
    ),
)

SPECS = [GENERATE]
