"""torch's ``nn.LSTM``/``nn.GRU``/``nn.RNN`` state dicts in mlprims' layout; re-exported by
:mod:`mlprims`.

torch keeps ``weight_ih_l{l}`` (G H, F), ``weight_hh_l{l}`` (G H, H_out), ``bias_ih_l{l}`` and
``bias_hh_l{l}`` (G H,), ``weight_hr_l{l}`` (P, H) for an LSTM's projection, and the same with
the suffix ``_reverse`` for the reverse direction (``x @ W.T``); mlprims keeps their transposes
in ``params[l][d]`` (``x @ w``, the layout of :mod:`.layers`), the gate blocks in the same
order.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .. import backends
from .._array import Array, check_array, namespace, shape_str
from ._gates import GATES

__all__ = ["from_torch_gru", "from_torch_lstm", "from_torch_rnn"]

#: ``weight_ih_l0_reverse``: the parameter, the layer and the direction.
_KEY = re.compile(r"^(?P<param>weight_ih|weight_hh|weight_hr|bias_ih|bias_hh)_l(?P<layer>\d+)"
                  r"(?P<reverse>_reverse)?$")  # fmt: skip
_NAMES = {"weight_ih": "w_ih", "weight_hh": "w_hh", "weight_hr": "w_hr", "bias_ih": "b_ih",
          "bias_hh": "b_hh"}  # fmt: skip


def from_torch_lstm(
    state_dict: Mapping[str, Any], *, backend: str | backends.Backend | None = None
) -> list[list[dict[str, Array]]]:
    """The parameters of a ``torch.nn.LSTM`` state dict, as :func:`~mlprims.lstm` takes them.

    Parameters
    ----------
    state_dict : mapping
        ``nn.LSTM(...).state_dict()`` (torch tensors or NumPy arrays): ``weight_ih_l0``,
        ``weight_hh_l0``, ``bias_ih_l0``, ``bias_hh_l0``, ``weight_hr_l0`` (with
        ``proj_size``), ``..._reverse`` (bidirectional), ``..._l1`` and on (num_layers).
    backend : str or Backend, optional
        Convert the arrays to this backend; default: keep the backend (and device) of the
        state dict, so torch tensors stay torch tensors.

    Returns
    -------
    list of lists of dict
        ``params[l][d] = {"w_ih": weight_ih.T, "w_hh": weight_hh.T, "b_ih": bias_ih,
        "b_hh": bias_hh, "w_hr": weight_hr.T}`` for layer l, direction d (1: ``_reverse``),
        keys absent where the module has none (``bias=False``, no projection). Pass the
        module's ``num_layers``, ``bidirectional`` and ``proj_size`` to :func:`~mlprims.lstm`:
        ``len(params)``, ``len(params[0]) == 2`` and ``params[0][0]["w_hr"].shape[1]``.

    Raises
    ------
    ValueError
        A key that is not one of an ``nn.LSTM``, missing weights (a layer without
        ``weight_ih``, a reverse direction in some layers only), shapes that are not those of
        an LSTM (rows not 4 H).
    TypeError
        `state_dict` not a mapping, or a value that is not an array.

    References
    ----------
    - https://pytorch.org/docs/stable/generated/torch.nn.LSTM.html

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> state = {"weight_ih_l0": np.zeros((8, 3)), "weight_hh_l0": np.zeros((8, 2)),
    ...          "bias_ih_l0": np.zeros(8), "bias_hh_l0": np.zeros(8)}  # nn.LSTM(3, 2)
    >>> params = mlprims.from_torch_lstm(state)
    >>> len(params), len(params[0]), {name: w.shape for name, w in params[0][0].items()}
    (1, 1, {'w_ih': (3, 8), 'w_hh': (2, 8), 'b_ih': (8,), 'b_hh': (8,)})
    """
    return _convert(state_dict, "lstm", backend)


def from_torch_gru(
    state_dict: Mapping[str, Any], *, backend: str | backends.Backend | None = None
) -> list[list[dict[str, Array]]]:
    """The parameters of a ``torch.nn.GRU`` state dict, as :func:`~mlprims.gru` takes them.

    Parameters
    ----------
    state_dict : mapping
        ``nn.GRU(...).state_dict()`` (torch tensors or NumPy arrays): ``weight_ih_l{l}``,
        ``weight_hh_l{l}``, ``bias_ih_l{l}``, ``bias_hh_l{l}``, with ``_reverse``.
    backend : str or Backend, optional
        Convert the arrays to this backend; default: keep the state dict's.

    Returns
    -------
    list of lists of dict
        ``params[l][d] = {"w_ih": weight_ih.T, "w_hh": weight_hh.T, "b_ih", "b_hh"}``.

    Raises
    ------
    ValueError
        A key that is not one of an ``nn.GRU``, missing weights, rows not 3 H.
    TypeError
        `state_dict` not a mapping, or a value that is not an array.

    References
    ----------
    - https://pytorch.org/docs/stable/generated/torch.nn.GRU.html

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> state = {"weight_ih_l0": np.zeros((6, 3)), "weight_hh_l0": np.zeros((6, 2))}
    >>> mlprims.from_torch_gru(state)[0][0]["w_hh"].shape  # nn.GRU(3, 2, bias=False)
    (2, 6)
    """
    return _convert(state_dict, "gru", backend)


def from_torch_rnn(
    state_dict: Mapping[str, Any], *, backend: str | backends.Backend | None = None
) -> list[list[dict[str, Array]]]:
    """The parameters of a ``torch.nn.RNN`` state dict, as :func:`~mlprims.rnn` takes them.

    Parameters
    ----------
    state_dict : mapping
        ``nn.RNN(...).state_dict()`` (torch tensors or NumPy arrays). The state dict does not
        say the module's ``nonlinearity``: pass it to :func:`~mlprims.rnn`.
    backend : str or Backend, optional
        Convert the arrays to this backend; default: keep the state dict's.

    Returns
    -------
    list of lists of dict
        ``params[l][d] = {"w_ih": weight_ih.T, "w_hh": weight_hh.T, "b_ih", "b_hh"}``.

    Raises
    ------
    ValueError
        A key that is not one of an ``nn.RNN``, missing weights, weight_hh not (H, H).
    TypeError
        `state_dict` not a mapping, or a value that is not an array.

    References
    ----------
    - https://pytorch.org/docs/stable/generated/torch.nn.RNN.html

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> state = {"weight_ih_l0": np.ones((2, 3)), "weight_hh_l0": np.ones((2, 2)),
    ...          "weight_ih_l0_reverse": np.ones((2, 3)), "weight_hh_l0_reverse": np.ones((2, 2))}
    >>> len(mlprims.from_torch_rnn(state)[0])  # bidirectional
    2
    """
    return _convert(state_dict, "rnn", backend)


def _convert(state_dict: Any, kind: str, backend: Any) -> list[list[dict[str, Array]]]:
    """The stack of cells of `state_dict`, checked to be one of a torch `kind` module."""
    module = {"lstm": "nn.LSTM", "gru": "nn.GRU", "rnn": "nn.RNN"}[kind]
    if not isinstance(state_dict, Mapping):
        msg = f"`state_dict` must be a mapping ({module}(...).state_dict()), got "
        msg += type(state_dict).__name__
        raise TypeError(msg)
    found: dict[tuple[int, int], dict[str, Array]] = {}
    for name, value in state_dict.items():
        match = _KEY.match(str(name))
        if match is None or (match["param"] == "weight_hr" and kind != "lstm"):
            msg = (
                f"`state_dict` has the key {name!r}, which {module} has not (weight_ih_l0, "
                f"weight_hh_l0, bias_ih_l0, bias_hh_l0"
                f"{', weight_hr_l0' if kind == 'lstm' else ''}, ..._reverse): pass the "
                "module's own state_dict()"
            )
            raise ValueError(msg)
        cell = found.setdefault((int(match["layer"]), 1 if match["reverse"] else 0), {})
        cell[_NAMES[match["param"]]] = _converted(value, str(name), backend)
    if not found:
        msg = f"`state_dict` holds no weight of an {module} (weight_ih_l0, ...)"
        raise ValueError(msg)
    layers = 1 + max(layer for layer, _ in found)
    directions = 1 + max(d for _, d in found)
    params: list[list[dict[str, Array]]] = []
    for layer in range(layers):
        cells: list[dict[str, Array]] = []
        for d in range(directions):
            suffix = f"_l{layer}{'_reverse' if d else ''}"
            cell = found.get((layer, d), {})
            for needed in ("w_ih", "w_hh"):
                if needed not in cell:
                    msg = f"`state_dict` has no weight_{needed[2:]}{suffix} (layers 0 to "
                    msg += f"{layers - 1}, {'both directions' if directions == 2 else 'forward'})"
                    raise ValueError(msg)
            _check_shapes(cell, kind, suffix)
            cells.append(
                {k: cell[k] for k in ("w_ih", "w_hh", "b_ih", "b_hh", "w_hr") if k in cell}
            )
        params.append(cells)
    return params


def _check_shapes(cell: dict[str, Array], kind: str, suffix: str) -> None:
    """The converted weights have the shapes of one `kind` cell (rows of G H, ...)."""
    g = GATES[kind]
    w_hh = cell["w_hh"]  # (H_out, G H)
    if w_hh.ndim != 2 or w_hh.shape[1] % g or w_hh.shape[1] == 0:
        msg = f"`state_dict['weight_hh{suffix}']` must have shape ({g} H, H_out), got "
        msg += f"{shape_str(w_hh.shape[::-1])}"
        raise ValueError(msg)
    hidden, h_out = w_hh.shape[1] // g, w_hh.shape[0]
    wants = {"w_ih": (None, g * hidden), "b_ih": (g * hidden,), "b_hh": (g * hidden,)}
    if "w_hr" in cell:
        wants["w_hr"] = (hidden, h_out)
    elif h_out != hidden:
        wants["w_hh"] = (hidden, g * hidden)
    for name, want in wants.items():
        if name not in cell:
            continue
        got = tuple(cell[name].shape)
        if len(got) != len(want) or any(
            w is not None and w != s for w, s in zip(want, got, strict=True)
        ):
            torch_name = {"w_ih": "weight_ih", "w_hh": "weight_hh", "w_hr": "weight_hr"}
            shown = want[::-1] if name in torch_name else want
            theirs = got[::-1] if name in torch_name else got
            key = torch_name.get(name, name.replace("b_", "bias_")) + suffix
            msg = (
                f"`state_dict[{key!r}]` must have shape "
                f"({', '.join('F' if w is None else str(w) for w in shown)}), got "
                f"{shape_str(theirs)} (an {kind.upper()} of hidden size {hidden} has {g} gate "
                f"block{'s' if g > 1 else ''} of H rows)"
            )
            raise ValueError(msg)


def _converted(value: Any, name: str, backend: Any) -> Array:
    """`value` (a weight (rows, cols) transposed, or a bias), on `backend` if given."""
    check_array(value, f"state_dict[{name!r}]")
    want = 2 if name.startswith("weight") else 1
    if value.ndim != want:
        msg = f"`state_dict[{name!r}]` must be {want}-d, got shape {shape_str(value.shape)}"
        raise ValueError(msg)
    if backend is not None:
        value = backends.get(backend).asarray(backends.of(value).to_numpy(value))
    return namespace(value).matrix_transpose(value) if name.startswith("weight") else value
