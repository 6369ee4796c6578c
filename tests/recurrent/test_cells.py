"""lstm_cell, gru_cell and rnn_cell (mlprims/recurrent/cells.py).

References: torch's nn.LSTMCell, nn.GRUCell and nn.RNNCell with the same weights (float32 on
every backend mode; float64, unbatched input, no state and no bias on NumPy, with the float64
oracles of mlprims.testing.oracles.recurrent).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import mlprims
from mlprims.testing import assert_close
from mlprims.testing.oracles.recurrent import (
    gru_cell_reference,
    lstm_cell_reference,
    rnn_cell_reference,
)

torch = pytest.importorskip("torch")

H_IN, H, N = 3, 4, 2
NOT_EAGER_JAX = pytest.mark.backends(exclude=("jax",), reason="jax_jit runs the same code")
CELLS = {"lstm": "LSTMCell", "gru": "GRUCell", "rnn": "RNNCell"}
REFERENCE = {"lstm": lstm_cell_reference, "gru": gru_cell_reference, "rnn": rnn_cell_reference}


def _cell(kind: str, dtype: Any = None, **options: Any) -> Any:
    torch.manual_seed(0)
    return getattr(torch.nn, CELLS[kind])(H_IN, H, dtype=dtype or torch.float32, **options)


def _params(module: Any) -> dict[str, np.ndarray]:
    """A torch cell's weights in mlprims' layout (weight_ih (G H, H_in) -> w_ih (H_in, G H))."""
    return {
        f"{name[0]}_{name.split('_')[1]}": (v.T if v.ndim == 2 else v).detach().numpy()
        for name, v in module.state_dict().items()
    }


def _states(kind: str, batch: tuple[int, ...], dtype: str) -> Any:
    rng = np.random.default_rng(1)
    h = rng.normal(size=(*batch, H)).astype(dtype)
    return (h, rng.normal(size=(*batch, H)).astype(dtype)) if kind == "lstm" else h


def _torch(module: Any, x: np.ndarray, hx: Any) -> list[np.ndarray]:
    with torch.no_grad():
        if hx is None:
            out = module(torch.from_numpy(x))
        elif isinstance(hx, tuple):
            out = module(torch.from_numpy(x), tuple(torch.from_numpy(s) for s in hx))
        else:
            out = module(torch.from_numpy(x), torch.from_numpy(hx))
    return [o.numpy() for o in (out if isinstance(out, tuple) else (out,))]


def _listed(out: Any) -> list[Any]:
    return list(out) if isinstance(out, tuple) else [out]


def _ours(kind: str) -> Any:
    """mlprims.lstm_cell, ... looked up at the call: the jax_jit mode's wrapper."""
    return getattr(mlprims, f"{kind}_cell")


@NOT_EAGER_JAX
@pytest.mark.parametrize("kind", list(CELLS))
def test_equals_torch(xb, kind: str) -> None:
    """float32 with a given state, within 1e-5 of torch's cell on every backend mode."""
    options = {"nonlinearity": "relu"} if kind == "rnn" else {}
    module = _cell(kind, **options)
    x = np.random.default_rng(0).normal(size=(N, H_IN)).astype(np.float32)
    hx = _states(kind, (N,), "float32")
    params = {k: xb.asarray(v) for k, v in _params(module).items()}
    on = tuple(xb.asarray(s) for s in hx) if isinstance(hx, tuple) else xb.asarray(hx)
    got = _listed(_ours(kind)(params, xb.asarray(x), on, **options))
    for g, w in zip(xb.to_numpy(got), _torch(module, x, hx), strict=True):
        assert g.dtype == np.float32 and g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=0, atol=1e-5)


@pytest.mark.parametrize("kind", list(CELLS))
@pytest.mark.parametrize(
    ("batch", "with_hx", "bias"),
    [((N,), False, True), ((), True, True), ((N,), True, False)],
    ids=["no-state", "unbatched", "no-bias"],
)
def test_float64_options(kind: str, batch: tuple, with_hx: bool, bias: bool) -> None:
    """float64 on NumPy: equal to torch's cell and to the oracle to rounding."""
    module = _cell(kind, torch.float64, bias=bias)
    params = _params(module)
    assert ("b_ih" in params) == bias
    x = np.random.default_rng(2).normal(size=(*batch, H_IN))
    hx = _states(kind, batch, "float64") if with_hx else None
    got = _listed(_ours(kind)(params, x, hx))
    for g, w in zip(got, _torch(module, x, hx), strict=True):
        assert_close(g, w, "float64")
    for g, w in zip(got, _listed(REFERENCE[kind](params, x, hx)), strict=True):
        assert_close(g, w, "float64")


def test_gradients_equal_torch_autograd() -> None:
    """The LSTM cell's gradients with respect to x, h and c, against torch's cell."""
    module = _cell("lstm")
    rng = np.random.default_rng(3)
    arrays = [rng.normal(size=(N, s)).astype(np.float32) for s in (H_IN, H, H)]
    weights = [torch.from_numpy(rng.normal(size=(N, H)).astype(np.float32)) for _ in range(2)]
    params = {k: torch.from_numpy(v) for k, v in _params(module).items()}
    grads = []
    for forward in (module, lambda x, hx: mlprims.lstm_cell(params, x, hx)):
        x, h, c = (torch.from_numpy(a).requires_grad_() for a in arrays)
        out = forward(x, (h, c))
        loss = sum((o * w).sum() for o, w in zip(out, weights, strict=True))
        grads.append(torch.autograd.grad(loss, (x, h, c)))
    for got, want in zip(*grads, strict=True):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=0, atol=1e-6)


PARAMS = {
    "w_ih": np.zeros((H_IN, 4 * H)),
    "w_hh": np.zeros((H, 4 * H)),
    "b_ih": np.zeros(4 * H),
    "b_hh": np.zeros(4 * H),
}
BAD = {
    "x of the wrong width": (
        {"x": np.zeros((N, 4))},
        ValueError,
        (
            "`x` must have shape (N, H_in) or (H_in,) with H_in = params['w_ih'].shape[0] = 3, "
            "got (2, 4)"
        ),
    ),
    "x 3-d": ({"x": np.zeros((1, N, H_IN))}, ValueError, "`x` must have shape (N, H_in)"),
    "h of the wrong shape": (
        {"hx": (np.zeros((N, 3)), np.zeros((N, H)))},
        ValueError,
        "`hx[0]` must have shape (N, H) = (2, 4), got (2, 3)",
    ),
    "hx one array": ({"hx": np.zeros((N, H))}, TypeError, "`hx` must be a pair of arrays (h, c)"),
    "a missing key": (
        {"params": {"w_ih": PARAMS["w_ih"]}},
        ValueError,
        "`params` must have the keys 'w_ih' and 'w_hh'",
    ),
    "one bias only": (
        {"params": {k: v for k, v in PARAMS.items() if k != "b_hh"}},
        ValueError,
        "`params` must have both biases 'b_ih' and 'b_hh' or neither",
    ),
    "torch's layout": (
        {"params": {**PARAMS, "w_ih": np.zeros((4 * H, H_IN))}},
        ValueError,
        (
            "`params['w_ih']` must have shape (H_in, 4 H) = (H_in, 16) with H = 4 from w_hh, got "
            "(16, 3) (torch's weight_ih is w_ih.T)"
        ),
    ),
    "a bias of the wrong size": (
        {"params": {**PARAMS, "b_hh": np.zeros(3 * H)}},
        ValueError,
        "`params['b_hh']` must have shape (4 H,) = (16,), got (12)",
    ),
    "a projection": (
        {"params": {**PARAMS, "w_hr": np.zeros((H, 2))}},
        ValueError,
        "torch's LSTMCell has no projection",
    ),
    "params a list": ({"params": [PARAMS]}, TypeError, "`params` must be a dict"),
    "float32 state": (
        {"hx": (np.zeros((N, H), np.float32), np.zeros((N, H)))},
        TypeError,
        "`hx[0]` must have the dtype of `x` (float64), got float32",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_names_the_argument(case: str) -> None:
    changes, error, words = BAD[case]
    args = {"params": PARAMS, "x": np.zeros((N, H_IN)), "hx": None, **changes}
    with pytest.raises(error) as raised:
        mlprims.lstm_cell(args["params"], args["x"], args["hx"])
    assert words in str(raised.value)


def test_bad_nonlinearity() -> None:
    params = {"w_ih": np.zeros((H_IN, H)), "w_hh": np.zeros((H, H))}
    with pytest.raises(
        ValueError, match="`nonlinearity` must be one of 'tanh', 'relu'; got 'gelu'"
    ):
        mlprims.rnn_cell(params, np.zeros(H_IN), nonlinearity="gelu")
    with pytest.raises(ValueError, match=r"`params\['w_hh'\]` must have shape \(H_out, 3 H\)"):
        mlprims.gru_cell(params, np.zeros(H_IN))
