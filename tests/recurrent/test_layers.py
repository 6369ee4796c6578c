"""lstm, gru and rnn (mlprims/recurrent/layers.py and _loop.py).

References: torch's nn.LSTM, nn.GRU and nn.RNN for real, their weights converted by the
from_torch_* functions (float32 on every backend mode; float64 and the option combinations on
NumPy, with the float64 oracles of mlprims.testing.oracles.recurrent), their gradients with
respect to the input and the initial states (torch autograd and jax.grad).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import mlprims
from mlprims import from_torch_gru, from_torch_lstm, from_torch_rnn, gru, lstm, rnn
from mlprims.testing import assert_close
from mlprims.testing.oracles.recurrent import gru_reference, lstm_reference, rnn_reference

torch = pytest.importorskip("torch")
#: torch's note that its oneDNN kernels do not do projections (it falls back to its own loop).
pytestmark = pytest.mark.filterwarnings("ignore:LSTM with projections:UserWarning")

L, N, H_IN = 5, 2, 3
#: Eager JAX compiles every operation of the loop anew for each shape: jax_jit runs the same code.
NOT_EAGER_JAX = pytest.mark.backends(exclude=("jax",), reason="jax_jit runs the same code")
CONVERT = {"lstm": from_torch_lstm, "gru": from_torch_gru, "rnn": from_torch_rnn}
REFERENCE = {"lstm": lstm_reference, "gru": gru_reference, "rnn": rnn_reference}
MODULES = {"lstm": "LSTM", "gru": "GRU", "rnn": "RNN"}
#: The module of each kind every backend mode is checked on: two layers, both directions.
STACKS: dict[str, dict[str, Any]] = {
    "lstm": {"hidden_size": 5, "num_layers": 2, "bidirectional": True, "proj_size": 2},
    "gru": {"hidden_size": 4, "num_layers": 2, "bidirectional": True},
    "rnn": {"hidden_size": 4, "num_layers": 2, "bidirectional": True, "nonlinearity": "relu"},
}


def _ours(kind: str) -> Any:
    """mlprims.lstm, .gru or .rnn, looked up at the call: the jax_jit mode's wrapper."""
    return getattr(mlprims, kind)


def _module(kind: str, dtype: Any = None, seed: int = 0, **options: Any) -> Any:
    torch.manual_seed(seed)
    return getattr(torch.nn, MODULES[kind])(H_IN, dtype=dtype or torch.float32, **options).eval()


def _states(kind: str, options: dict, batch: tuple[int, ...], dtype: str, seed: int = 1) -> Any:
    """Random initial states for a module built with `options` (None for the zeros)."""
    rng = np.random.default_rng(seed)
    rows = options.get("num_layers", 1) * (2 if options.get("bidirectional") else 1)
    hidden = options["hidden_size"]
    h = rng.normal(size=(rows, *batch, options.get("proj_size") or hidden)).astype(dtype)
    if kind == "lstm":
        return h, rng.normal(size=(rows, *batch, hidden)).astype(dtype)
    return h


def _ours_options(options: dict) -> dict:
    """The module's options as our keyword arguments (hidden_size is in the parameters)."""
    return {k: v for k, v in options.items() if k != "hidden_size"}


def _torch_run(module: Any, x: np.ndarray, hx: Any) -> Any:
    with torch.no_grad():
        if hx is None:
            return module(torch.from_numpy(x))
        if isinstance(hx, tuple):
            return module(torch.from_numpy(x), tuple(torch.from_numpy(s) for s in hx))
        return module(torch.from_numpy(x), torch.from_numpy(hx))


def _flat(result: Any) -> list[Any]:
    """[output, h_n] or [output, h_n, c_n]."""
    output, states = result
    return [output, *states] if isinstance(states, tuple) else [output, states]


def _on(xb, tree: Any) -> Any:
    """NumPy arrays anywhere in `tree` (lists of lists of dicts, tuples) on the backend."""
    if isinstance(tree, np.ndarray):
        return xb.asarray(tree)
    if isinstance(tree, dict):
        return {k: _on(xb, v) for k, v in tree.items()}
    if isinstance(tree, list | tuple):
        return type(tree)(_on(xb, v) for v in tree)
    return tree


@pytest.fixture(scope="module")
def stacks() -> dict[str, tuple[Any, Any, np.ndarray, Any]]:
    """Per kind: torch's module, its parameters (NumPy, float32), x (L, N, H_in), the states."""
    x = np.random.default_rng(0).normal(size=(L, N, H_IN)).astype(np.float32)
    made = {}
    for kind, options in STACKS.items():
        module = _module(kind, **options)
        params = CONVERT[kind](module.state_dict(), backend="numpy")
        made[kind] = (module, params, x, _states(kind, options, (N,), "float32"))
    return made


class TestEqualsTorch:
    @NOT_EAGER_JAX
    @pytest.mark.parametrize("kind", list(STACKS))
    def test_two_layers_both_directions(self, xb, stacks, kind: str) -> None:
        """float32, within 1e-5 of torch on every backend mode (LSTM with proj_size)."""
        module, params, x, hx = stacks[kind]
        want = _flat(_torch_run(module, x, hx))
        got = _ours(kind)(
            _on(xb, params), xb.asarray(x), _on(xb, hx), **_ours_options(STACKS[kind])
        )
        for g, w in zip(xb.to_numpy(_flat(got)), want, strict=True):
            assert g.dtype == np.float32 and g.shape == tuple(w.shape)
            np.testing.assert_allclose(g, w.numpy(), rtol=0, atol=1e-5)

    @pytest.mark.backends("jax", reason="the other modes run jax_jit's traced loop")
    def test_eager_jax(self, xb) -> None:
        """Eager JAX runs the Python loop and ``.at[]`` copies, not lax.fori_loop."""
        module = _module("lstm", hidden_size=4)
        params = from_torch_lstm(module.state_dict(), backend="jax")
        x = np.random.default_rng(6).normal(size=(3, N, H_IN)).astype(np.float32)
        got = xb.to_numpy(_flat(lstm(params, xb.asarray(x))))
        for g, w in zip(got, _flat(_torch_run(module, x, None)), strict=True):
            np.testing.assert_allclose(g, w.numpy(), rtol=0, atol=1e-5)

    @pytest.mark.parametrize(
        ("kind", "options", "shape", "with_hx"),
        [
            ("lstm", {"hidden_size": 4}, (L, H_IN), True),  # unbatched
            ("lstm", {"hidden_size": 4, "batch_first": True, "bias": False}, (N, L, H_IN), False),
            ("lstm", {"hidden_size": 4, "proj_size": 3, "num_layers": 3}, (L, N, H_IN), True),
            ("gru", {"hidden_size": 4, "bidirectional": True}, (L, H_IN), True),
            ("gru", {"hidden_size": 3, "batch_first": True, "num_layers": 2}, (N, L, H_IN), True),
            ("rnn", {"hidden_size": 4, "nonlinearity": "tanh"}, (L, N, H_IN), False),
            ("rnn", {"hidden_size": 4, "bias": False, "bidirectional": True}, (N, L, H_IN), True),
        ],
        ids=["lstm-unbatched", "lstm-batch_first-no-bias", "lstm-3-layers-proj",
             "gru-unbatched-bidir", "gru-batch_first", "rnn-tanh", "rnn-no-bias-bidir"],
    )  # fmt: skip
    def test_float64_options(self, kind: str, options: dict, shape: tuple, with_hx: bool) -> None:
        """Each option on NumPy in float64: equal to torch and to the oracle to rounding."""
        module = _module(kind, torch.float64, **options)
        params = CONVERT[kind](module.state_dict(), backend="numpy")
        x = np.random.default_rng(2).normal(size=shape)
        batch = () if len(shape) == 2 else (shape[0] if options.get("batch_first") else shape[1],)
        hx = _states(kind, options, batch, "float64") if with_hx else None
        ours = {k: v for k, v in _ours_options(options).items() if k != "bias"}
        got = _flat(_ours(kind)(params, x, hx, **ours))
        for g, w in zip(got, _flat(_torch_run(module, x, hx)), strict=True):
            assert_close(g, w.numpy(), "float64")
        for g, w in zip(got, _flat(REFERENCE[kind](params, x, hx, **ours)), strict=True):
            assert_close(g, w, "float64")


# --- gradients ---------------------------------------------------------------------------


def _loss_weights(shapes: list[tuple[int, ...]]) -> list[np.ndarray]:
    rng = np.random.default_rng(3)
    return [rng.normal(size=s).astype(np.float32) for s in shapes]


def _torch_grads(kind: str, forward: Any, x: np.ndarray, hx: Any, weights: list) -> list[Any]:
    """d(sum of outputs * weights) / d(x, the initial states), torch autograd through `forward`."""
    states = list(hx) if isinstance(hx, tuple) else [hx]
    leaves = [torch.from_numpy(a).requires_grad_() for a in (x, *states)]
    hx_t = tuple(leaves[1:]) if kind == "lstm" else leaves[1]
    outs = _flat(forward(leaves[0], hx_t))
    loss = sum((o * torch.from_numpy(w)).sum() for o, w in zip(outs, weights, strict=True))
    return [g.numpy() for g in torch.autograd.grad(loss, leaves)]


@pytest.mark.parametrize("kind", list(STACKS))
def test_gradients_equal_torch_autograd(stacks, kind: str) -> None:
    module, _, x, hx = stacks[kind]
    weights = _loss_weights([tuple(o.shape) for o in _flat(_torch_run(module, x, hx))])
    want = _torch_grads(kind, module, x, hx, weights)
    ours_params = CONVERT[kind](module.state_dict())  # torch tensors
    options = _ours_options(STACKS[kind])
    got = _torch_grads(kind, lambda x, h: _ours(kind)(ours_params, x, h, **options), x, hx, weights)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=0, atol=1e-5)


def test_gradients_equal_torch_jax_grad(stacks) -> None:
    """jax.grad of an LSTM (both directions, projections; one layer: compiling the second
    costs as much again, and torch autograd covers two) under jax.jit."""
    jax = pytest.importorskip("jax")
    options = {**STACKS["lstm"], "num_layers": 1}
    module, x = _module("lstm", **options), stacks["lstm"][2]
    h0, c0 = _states("lstm", options, (N,), "float32")
    weights = _loss_weights([tuple(o.shape) for o in _flat(_torch_run(module, x, (h0, c0)))])
    want = _torch_grads("lstm", module, x, (h0, c0), weights)
    jparams = from_torch_lstm(module.state_dict(), backend="jax")
    options = _ours_options(options)

    def loss(x, h0, c0):
        outs = _flat(lstm(jparams, x, (h0, c0), **options))
        return sum((o * w).sum() for o, w in zip(outs, weights, strict=True))

    got = jax.jit(jax.grad(loss, argnums=(0, 1, 2)))(x, h0, c0)
    for g, w in zip(got, want, strict=True):
        assert g.dtype == np.float32
        np.testing.assert_allclose(np.asarray(g), w, rtol=0, atol=1e-5)


# --- the loop ----------------------------------------------------------------------------


def test_one_loop_per_layer_under_jit() -> None:
    """The traced program holds one loop per layer and does not grow with L (no unrolling)."""
    jax = pytest.importorskip("jax")
    params = mlprims.init_lstm(mlprims.random.key(0), H_IN, 4, num_layers=2, bidirectional=True)
    params = jax.tree_util.tree_map(jax.numpy.asarray, params)

    def program(length: int) -> Any:
        def run(x):
            return lstm(params, x, num_layers=2, bidirectional=True)

        return jax.make_jaxpr(run)(jax.numpy.zeros((length, N, H_IN), "float32")).jaxpr

    short, long = program(3), program(300)
    loops = [e for e in short.eqns if e.primitive.name in ("scan", "while")]
    assert len(loops) == 2
    assert len(short.eqns) == len(long.eqns)


# --- dropout -----------------------------------------------------------------------------


@NOT_EAGER_JAX
def test_dropout_masks_are_mlprims_random(xb) -> None:
    """The output of each layer but the last, dropped with bernoulli(fold_in(key, l), 1 - p)."""
    options = {"num_layers": 2, "bidirectional": True}
    params = mlprims.init_rnn(mlprims.random.key(0), H_IN, 4, dtype="float64", **options)
    x = np.random.default_rng(4).normal(size=(L, N, H_IN))
    key = mlprims.random.key(7, backend=xb.backend)
    got = rnn(_on(xb, params), xb.asarray(x), dropout=0.4, key=key, **options)
    keep = mlprims.random.bernoulli(
        mlprims.random.fold_in(mlprims.random.key(7), 0), 0.6, (L, N, 8)
    )
    assert 0 < keep.sum() < keep.size
    keeps = [keep]  # the output of layer 0
    want = rnn_reference(params, x, keeps=keeps, dropout=0.4)
    for g, w in zip(xb.to_numpy(got), want, strict=True):
        assert_close(g, w, "float64")


def test_dropout_is_between_layers_only() -> None:
    """One layer: nothing to drop (torch warns); a key changes the output of two layers."""
    params = mlprims.init_gru(mlprims.random.key(0), H_IN, 4, num_layers=2, dtype="float64")
    x = np.random.default_rng(5).normal(size=(L, N, H_IN))
    key = mlprims.random.key(1)
    one = params[:1]
    np.testing.assert_array_equal(gru(one, x, dropout=0.5, key=key)[0], gru(one, x)[0])
    dropped = gru(params, x, num_layers=2, dropout=0.5, key=key)[0]
    assert not np.allclose(dropped, gru(params, x, num_layers=2)[0])
    np.testing.assert_array_equal(dropped, gru(params, x, num_layers=2, dropout=0.5, key=key)[0])


# --- bad input ---------------------------------------------------------------------------


def _bad_call(kind: str = "lstm", **changes: Any) -> tuple[Any, tuple, dict]:
    """A one-layer call of `kind` (H_in 3, H 4, float64 NumPy) with `changes` made."""
    init = {"lstm": mlprims.init_lstm, "gru": mlprims.init_gru, "rnn": mlprims.init_rnn}[kind]
    params = changes.pop("params", None) or init(mlprims.random.key(0), H_IN, 4, dtype="float64")
    x = changes.pop("x", np.zeros((L, N, H_IN)))
    hx = changes.pop("hx", None)
    return _ours(kind), (params, x, hx), changes


BIDIR = mlprims.init_lstm(mlprims.random.key(0), H_IN, 4, bidirectional=True, dtype="float64")
PROJ = mlprims.init_lstm(mlprims.random.key(0), H_IN, 4, proj_size=2, dtype="float64")
TWO = mlprims.init_lstm(mlprims.random.key(0), H_IN, 4, num_layers=2, dtype="float64")
BAD = {
    "feature width": (
        {"x": np.zeros((L, N, 4))},
        ValueError,
        (
            "`x` must have shape (L, N, H_in), (N, L, H_in) with batch_first or (L, H_in) with "
            "H_in = params[0][0]['w_ih'].shape[0] = 3, got (5, 2, 4)"
        ),
    ),
    "no time step": ({"x": np.zeros((0, N, H_IN))}, ValueError, "at least one time step"),
    "h_0 of the wrong width": (
        {"hx": (np.zeros((1, N, 3)), np.zeros((1, N, 4)))},
        ValueError,
        "`hx[0]` must have shape (K D, N, H_out) = (1, 2, 4), got (1, 2, 3)",
    ),
    "c_0 2-d for a batch": (
        {"hx": (np.zeros((1, N, 4)), np.zeros((1, 4)))},
        ValueError,
        "`hx[1]` must have shape (K D, N, H) = (1, 2, 4), got (1, 4)",
    ),
    "hx one array for an LSTM": (
        {"hx": np.zeros((1, N, 4))},
        TypeError,
        "`hx` must be a pair of arrays (h_0, c_0), got ndarray",
    ),
    "hx of a GRU with too many rows": (
        {"kind": "gru", "hx": np.zeros((2, N, 4))},
        ValueError,
        "`hx` must have shape (K D, N, H_out) = (1, 2, 4), got (2, 2, 4)",
    ),
    "unbatched h_0": (
        {"kind": "rnn", "x": np.zeros((L, H_IN)), "hx": np.zeros((1, N, 4))},
        ValueError,
        "`hx` must have shape (K D, H_out) = (1, 4), got (1, 2, 4)",
    ),
    "num_layers larger than params": (
        {"num_layers": 2},
        ValueError,
        "`params` has 1 layers, but num_layers=2",
    ),
    "num_layers smaller than params": (
        {"params": TWO},
        ValueError,
        "`params` has 2 layers, but num_layers=1",
    ),
    "bidirectional params, one direction": (
        {"params": BIDIR},
        ValueError,
        "`params[0]` has 2 direction(s), but bidirectional=False needs 1",
    ),
    "proj_size not the width of w_hr": (
        {"params": PROJ, "proj_size": 3},
        ValueError,
        "`params[0][0]['w_hr']` must have shape (H, proj_size) = (4, 3), got (4, 2)",
    ),
    "proj_size >= hidden": (
        {"params": PROJ, "proj_size": 4},
        ValueError,
        "`proj_size` must be smaller than the hidden size H = 4, got 4",
    ),
    "projection params without proj_size": (
        {"params": PROJ},
        ValueError,
        "`params[0][0]` has 'w_hr', the projection of an LSTM with proj_size > 0",
    ),
    "proj_size without w_hr": (
        {"proj_size": 2},
        ValueError,
        "`params[0][0]` must have 'w_hr' (H, P) when proj_size > 0",
    ),
    "dropout 1": ({"dropout": 1.0}, ValueError, "`dropout` must be in [0.0, 1.0), got 1.0"),
    "dropout negative": ({"dropout": -0.1}, ValueError, "`dropout` must be in [0.0, 1.0)"),
    "dropout without key": (
        {"dropout": 0.2},
        ValueError,
        "`key` is required when `dropout` > 0 (got dropout=0.2)",
    ),
    "GRU params to an LSTM": (
        {"params": mlprims.init_gru(mlprims.random.key(0), H_IN, 4, dtype="float64")},
        ValueError,
        (
            "`params[0][0]['w_hh']` must have shape (H, 4 H) = (3, 12) (LSTM: 4 gate blocks of "
            "H), got (4, 12)"
        ),
    ),
    "params a dict": (
        {"params": {"w_ih": np.zeros((3, 16))}},
        TypeError,
        "`params` must be a list of layers, each a list of its directions' cells",
    ),
    "float32 x, float64 params": (
        {"x": np.zeros((L, N, H_IN), np.float32)},
        TypeError,
        "`params[0][0]['w_ih']` must have the dtype of `x` (float32), got float64",
    ),
    "integer x": ({"x": np.zeros((L, N, H_IN), int)}, TypeError, "`x` must have a real floating"),
    "nonlinearity": (
        {"kind": "rnn", "nonlinearity": "sigmoid"},
        ValueError,
        "`nonlinearity` must be one of 'tanh', 'relu'; got 'sigmoid'",
    ),
    "batch_first an int": ({"batch_first": 1}, TypeError, "`batch_first` must be True or False"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_names_the_argument(case: str) -> None:
    changes, error, words = BAD[case]
    changes = dict(changes)
    function, args, kwargs = _bad_call(changes.pop("kind", "lstm"), **changes)
    with pytest.raises(error) as raised:
        function(*args, **kwargs)
    assert words in str(raised.value)
