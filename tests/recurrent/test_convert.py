"""from_torch_lstm, from_torch_gru and from_torch_rnn (mlprims/recurrent/convert.py): torch's
state dicts, every key they may hold, and the errors for what is not one of them."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from mlprims import from_torch_gru, from_torch_lstm, from_torch_rnn

torch = pytest.importorskip("torch")


def _lstm(**options: Any) -> Any:
    torch.manual_seed(0)
    return torch.nn.LSTM(3, 4, **options)


def test_every_key_of_an_lstm() -> None:
    """Two layers, both directions, projections: each weight transposed, in its place."""
    state = _lstm(num_layers=2, bidirectional=True, proj_size=2).state_dict()
    params = from_torch_lstm(state)
    assert [len(layer) for layer in params] == [2, 2]
    for layer in (0, 1):
        for d, suffix in enumerate(("", "_reverse")):
            cell = params[layer][d]
            assert list(cell) == ["w_ih", "w_hh", "b_ih", "b_hh", "w_hr"]
            for ours, theirs in (
                ("w_ih", "weight_ih"),
                ("w_hh", "weight_hh"),
                ("w_hr", "weight_hr"),
            ):
                assert torch.equal(cell[ours], state[f"{theirs}_l{layer}{suffix}"].T)
            assert torch.equal(cell["b_hh"], state[f"bias_hh_l{layer}{suffix}"])
    assert params[1][0]["w_ih"].shape == (4, 16)  # D * P = 4 rows: both directions' outputs


def test_no_bias_and_backends() -> None:
    torch.manual_seed(0)
    state = torch.nn.GRU(3, 2, bias=False).state_dict()
    params = from_torch_gru(state, backend="numpy")
    assert list(params[0][0]) == ["w_ih", "w_hh"]
    assert isinstance(params[0][0]["w_ih"], np.ndarray)
    np.testing.assert_array_equal(params[0][0]["w_hh"], state["weight_hh_l0"].numpy().T)
    numpy_state = {k: v.numpy() for k, v in torch.nn.RNN(3, 2).state_dict().items()}
    torch_params = from_torch_rnn(numpy_state, backend="torch")
    assert isinstance(torch_params[0][0]["b_ih"], torch.Tensor)


@pytest.mark.parametrize(
    ("convert", "state", "error", "words"),
    [
        (from_torch_lstm, [1], TypeError, "`state_dict` must be a mapping (nn.LSTM(...)"),
        (from_torch_lstm, {}, ValueError, "`state_dict` holds no weight of an nn.LSTM"),
        (
            from_torch_lstm,
            {"rnn.weight_ih_l0": np.zeros((16, 3))},
            ValueError,
            "`state_dict` has the key 'rnn.weight_ih_l0', which nn.LSTM has not",
        ),
        (
            from_torch_gru,
            {"weight_hr_l0": np.zeros((2, 4))},
            ValueError,
            "`state_dict` has the key 'weight_hr_l0', which nn.GRU has not",
        ),
        (
            from_torch_rnn,
            {"weight_ih_l0": np.zeros((4, 3)), "weight_hh_l0": np.zeros((4, 4)),
             "weight_ih_l1": np.zeros((4, 4))},
            ValueError,
            "`state_dict` has no weight_hh_l1 (layers 0 to 1, forward)",
        ),
        (
            from_torch_rnn,
            {"weight_ih_l0": np.zeros((4, 3)), "weight_hh_l0": np.zeros((4, 4)),
             "weight_ih_l0_reverse": np.zeros((4, 3)), "weight_hh_l0_reverse": np.zeros((4, 4)),
             "weight_ih_l1": np.zeros((4, 8)), "weight_hh_l1": np.zeros((4, 4))},
            ValueError,
            "`state_dict` has no weight_ih_l1_reverse (layers 0 to 1, both directions)",
        ),
        (
            from_torch_lstm,
            {"weight_ih_l0": np.zeros((12, 3)), "weight_hh_l0": np.zeros((12, 4))},
            ValueError,
            ("`state_dict['weight_hh_l0']` must have shape (12, 3), got (12, 4) (an LSTM of "
             "hidden size 3 has 4 gate blocks of H rows)"),
        ),
        (
            from_torch_gru,
            {"weight_ih_l0": np.zeros((12, 3)), "weight_hh_l0": np.zeros((12, 4)),
             "bias_ih_l0": np.zeros(16)},
            ValueError,
            "`state_dict['bias_ih_l0']` must have shape (12), got (16)",
        ),
        (
            from_torch_gru,
            {"weight_ih_l0": np.zeros(12)},
            ValueError,
            "`state_dict['weight_ih_l0']` must be 2-d, got shape (12)",
        ),
        (
            from_torch_gru,
            {"weight_ih_l0": [[0.0]]},
            TypeError,
            "`state_dict['weight_ih_l0']` must be an array",
        ),
    ],
)  # fmt: skip
def test_bad_input(convert: Any, state: Any, error: type, words: str) -> None:
    with pytest.raises(error) as raised:
        convert(state)
    assert words in str(raised.value)
