"""init_lstm, init_gru and init_rnn (mlprims/recurrent/init.py): torch's law and layout."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import mlprims
from mlprims import from_torch_gru, from_torch_lstm, from_torch_rnn, init_gru, init_lstm, init_rnn

torch = pytest.importorskip("torch")

INIT = {"lstm": init_lstm, "gru": init_gru, "rnn": init_rnn}
CONVERT = {"lstm": from_torch_lstm, "gru": from_torch_gru, "rnn": from_torch_rnn}
MODULES = {"lstm": "LSTM", "gru": "GRU", "rnn": "RNN"}
OPTIONS: dict[str, dict[str, Any]] = {
    "lstm": {"num_layers": 2, "bidirectional": True, "proj_size": 3},
    "gru": {"num_layers": 2, "bidirectional": True, "bias": False},
    "rnn": {"num_layers": 3},
}


def _shapes(params: Any) -> list[list[dict[str, tuple[int, ...]]]]:
    return [[{k: tuple(v.shape) for k, v in cell.items()} for cell in layer] for layer in params]


@pytest.mark.parametrize("kind", list(INIT))
def test_the_layout_and_the_law_of_torch(kind: str) -> None:
    """The shapes of torch's module (converted), every value within torch's 1/sqrt(H)."""
    torch.manual_seed(0)
    module = getattr(torch.nn, MODULES[kind])(5, 16, **OPTIONS[kind])
    theirs = CONVERT[kind](module.state_dict(), backend="numpy")
    ours = INIT[kind](mlprims.random.key(0), 5, 16, **OPTIONS[kind])
    assert _shapes(ours) == _shapes(theirs)
    bound = 1 / math.sqrt(16)
    for params in (ours, theirs):
        values = np.concatenate([v.ravel() for layer in params for c in layer for v in c.values()])
        assert values.dtype == np.float32
        assert 0.99 * bound < np.abs(values).max() <= bound
        assert abs(values.mean()) < 0.02  # U(-1/4, 1/4): standard error 0.0045 at 3000 draws


def test_every_array_draws_its_own_numbers() -> None:
    params = init_lstm(mlprims.random.key(3), 4, 4, bidirectional=True)
    w = [params[0][d][k] for d in (0, 1) for k in ("w_ih", "w_hh")]
    assert len({a.tobytes() for a in w}) == 4
    assert not np.array_equal(params[0][0]["b_ih"], params[0][0]["b_hh"])


@pytest.mark.backends(
    "torch",
    "array_api_strict",
    reason="NumPy is the reference; mlprims.random's draws are bit-identical on JAX (its own "
    "tests), where compiling four Threefry draws costs 0.5 s",
)
def test_same_key_same_parameters_on_every_backend(xb) -> None:
    want = init_gru(mlprims.random.key(7), 3, 2, dtype="float64")
    got = init_gru(mlprims.random.key(7), 3, 2, dtype="float64", backend=xb.backend.name)
    assert got[0][0]["w_ih"].dtype == xb.xp.float64
    for name, value in want[0][0].items():
        np.testing.assert_array_equal(xb.to_numpy(got[0][0][name]), value)


@pytest.mark.parametrize(
    ("kind", "kwargs", "error", "words"),
    [
        ("lstm", {"proj_size": 16}, ValueError, "`proj_size` must be smaller than `hidden_size`"),
        ("lstm", {"proj_size": -1}, ValueError, "`proj_size` must be >= 0, got -1"),
        ("gru", {"num_layers": 0}, ValueError, "`num_layers` must be >= 1, got 0"),
        ("rnn", {"bidirectional": 1}, TypeError, "`bidirectional` must be True or False"),
        ("rnn", {"bias": None}, TypeError, "`bias` must be True or False"),
        ("gru", {"dtype": "int32"}, TypeError, "`dtype` must be a real floating dtype"),
    ],
)
def test_bad_input(kind: str, kwargs: dict, error: type, words: str) -> None:
    with pytest.raises(error) as raised:
        INIT[kind](mlprims.random.key(0), 5, 16, **kwargs)
    assert words in str(raised.value)
    with pytest.raises(TypeError, match="`hidden_size` must be an int, got float"):
        INIT[kind](mlprims.random.key(0), 5, 16.0)
    with pytest.raises(TypeError, match="`key` must be an array"):
        INIT[kind](0, 5, 16)
