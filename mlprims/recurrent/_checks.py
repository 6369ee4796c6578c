"""The argument checks of the recurrent family: a cell's parameters, a stack's, the states.

Shape legend: G the gate blocks (LSTM 4, GRU 3, RNN 1), H the hidden size, P the projection
size of an LSTM (``proj_size``; the output width H_out is P when > 0, else H), D the directions.
A cell is a dict ``{"w_ih": (H_in, G H), "w_hh": (H_out, G H), "b_ih": (G H,), "b_hh": (G H,)}``
(the biases both present or both absent; an LSTM with a projection adds ``"w_hr": (H, P)``); a
stack is a list of layers, each a list of its D cells (forward, then reverse).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from .._array import (
    Array,
    Namespace,
    check_bool,
    check_floating,
    check_int,
    check_same_framework,
    shape_str,
)
from ._gates import GATES

__all__ = ["Cell", "check_cell", "check_stack", "check_state", "hidden_size"]

Cell = Mapping[str, Array]
#: What a converted or initialised cell holds, in the order the messages list them.
KEYS = ("w_ih", "w_hh", "b_ih", "b_hh", "w_hr")
NAMES = {"lstm": "LSTM", "gru": "GRU", "rnn": "RNN"}


def hidden_size(cell: Cell, kind: str) -> int:
    """H, from ``w_hh`` (H_out, G H) of a checked cell."""
    return int(cell["w_hh"].shape[1]) // GATES[kind]


def check_cell(
    cell: Any,
    where: str,
    kind: str,
    *,
    xp: Namespace,
    dtype: Any,
    input_size: int | None = None,
    projection: bool = False,
) -> tuple[int, int, int]:
    """(H_in, H, H_out) of the cell `cell` (named `where` in messages), checked.

    `input_size` (if given) is what ``w_ih`` must have as rows; `projection` says whether the
    cell must hold ``w_hr`` (an LSTM with ``proj_size`` > 0) or must not.
    """
    g = GATES[kind]
    if not isinstance(cell, Mapping):
        msg = (
            f"`{where}` must be a dict {{'w_ih': (H_in, {g} H), 'w_hh': (H_out, {g} H), "
            f"'b_ih', 'b_hh'}} (see init_{kind}), got {type(cell).__name__}"
        )
        raise TypeError(msg)
    allowed = KEYS if kind == "lstm" else KEYS[:4]
    unknown = sorted(str(k) for k in cell if k not in allowed)
    missing = [k for k in ("w_ih", "w_hh") if k not in cell]
    if unknown or missing:
        msg = f"`{where}` must have the keys 'w_ih' and 'w_hh' (and 'b_ih', 'b_hh'"
        msg += ", 'w_hr' for a projection)" if kind == "lstm" else ")"
        msg += f", got {sorted(map(str, cell))}"
        raise ValueError(msg)
    if ("b_ih" in cell) != ("b_hh" in cell):
        msg = f"`{where}` must have both biases 'b_ih' and 'b_hh' or neither, got {sorted(cell)}"
        raise ValueError(msg)
    for name, w in cell.items():
        check_same_framework(w, f"{where}['{name}']", xp=xp)
        check_floating(w, f"{where}['{name}']", xp=xp)
        if w.dtype != dtype:
            msg = f"`{where}['{name}']` must have the dtype of `x` ({dtype}), got {w.dtype}"
            raise TypeError(msg)
    w_ih, w_hh = cell["w_ih"], cell["w_hh"]
    if w_hh.ndim != 2 or w_hh.shape[1] < g or w_hh.shape[1] % g:
        msg = (
            f"`{where}['w_hh']` must have shape (H_out, {g} H) ({NAMES[kind]}: {g} gate "
            f"block{'s' if g > 1 else ''} of H), got {shape_str(w_hh.shape)} "
            f"(torch's weight_hh is w_hh.T)"
        )
        raise ValueError(msg)
    hidden = int(w_hh.shape[1]) // g
    h_out = int(w_hh.shape[0])
    rows = "H_in" if input_size is None else f"H_in = {input_size}"
    if (
        w_ih.ndim != 2
        or w_ih.shape[1] != g * hidden
        or (input_size is not None and w_ih.shape[0] != input_size)
    ):
        msg = (
            f"`{where}['w_ih']` must have shape ({rows}, {g} H) = "
            f"({'H_in' if input_size is None else input_size}, {g * hidden}) with H = "
            f"{hidden} from w_hh, got {shape_str(w_ih.shape)} (torch's weight_ih is w_ih.T)"
        )
        raise ValueError(msg)
    for name in ("b_ih", "b_hh"):
        if name in cell and tuple(cell[name].shape) != (g * hidden,):
            msg = (
                f"`{where}['{name}']` must have shape ({g} H,) = ({g * hidden},), got "
                f"{shape_str(cell[name].shape)}"
            )
            raise ValueError(msg)
    if "w_hr" in cell and not projection:
        msg = (
            f"`{where}` has 'w_hr', the projection of an LSTM with proj_size > 0: pass "
            "proj_size=params[0][0]['w_hr'].shape[1] (torch's LSTMCell has no projection)"
        )
        raise ValueError(msg)
    if projection:
        if "w_hr" not in cell:
            msg = f"`{where}` must have 'w_hr' (H, P) when proj_size > 0, got {sorted(cell)}"
            raise ValueError(msg)
        w_hr = cell["w_hr"]
        if tuple(w_hr.shape) != (hidden, h_out):
            msg = (
                f"`{where}['w_hr']` must have shape (H, P) = ({hidden}, {h_out}) with H from "
                f"w_hh and P = w_hh.shape[0], got {shape_str(w_hr.shape)} (torch's weight_hr "
                "is w_hr.T)"
            )
            raise ValueError(msg)
    elif h_out != hidden:
        msg = (
            f"`{where}['w_hh']` must have shape (H, {g} H) = ({hidden}, {g * hidden}) "
            f"({NAMES[kind]}: {g} gate block{'s' if g > 1 else ''} of H), got "
            f"{shape_str(w_hh.shape)}"
        )
        raise ValueError(msg)
    return int(w_ih.shape[0]), hidden, h_out


def check_stack(
    params: Any,
    x: Array,
    kind: str,
    *,
    num_layers: Any,
    bidirectional: Any,
    proj_size: Any = 0,
    xp: Namespace,
) -> tuple[int, int, int]:
    """(D, H, H_out) of a checked stack `params` for the input `x` (its last axis H_in)."""
    layers = check_int(num_layers, "num_layers", minimum=1)
    directions = 2 if check_bool(bidirectional, "bidirectional") else 1
    proj = check_int(proj_size, "proj_size", minimum=0)
    if not isinstance(params, Sequence) or isinstance(params, (str, Mapping)):
        msg = (
            f"`params` must be a list of layers, each a list of its directions' cells (see "
            f"init_{kind} or from_torch_{kind}), got {type(params).__name__}"
        )
        raise TypeError(msg)
    if len(params) != layers:
        msg = f"`params` has {len(params)} layers, but num_layers={layers}"
        raise ValueError(msg)
    sizes: tuple[int, int, int] | None = None
    for i, layer in enumerate(params):
        if not isinstance(layer, Sequence) or isinstance(layer, (str, Mapping)):
            msg = (
                f"`params[{i}]` must be a list of {directions} cell(s), got {type(layer).__name__}"
            )
            raise TypeError(msg)
        if len(layer) != directions:
            msg = (
                f"`params[{i}]` has {len(layer)} direction(s), but bidirectional="
                f"{directions == 2} needs {directions}"
            )
            raise ValueError(msg)
        for d, cell in enumerate(layer):
            where = f"params[{i}][{d}]"
            want_in = None if i == 0 or sizes is None else directions * sizes[2]
            got = check_cell(
                cell, where, kind, xp=xp, dtype=x.dtype, input_size=want_in, projection=proj > 0
            )
            if sizes is None:
                sizes = got
                _check_input(x, got[0])
                if proj and proj >= got[1]:
                    msg = (
                        f"`proj_size` must be smaller than the hidden size H = {got[1]}, got {proj}"
                    )
                    raise ValueError(msg)
                if proj and proj != got[2]:
                    msg = f"`{where}['w_hr']` must have shape (H, proj_size) = ({got[1]}, {proj})"
                    msg += f", got {shape_str(cell['w_hr'].shape)}"
                    raise ValueError(msg)
            elif got[1:] != sizes[1:]:
                msg = (
                    f"`{where}` has hidden size {got[1]} and output width {got[2]}, but "
                    f"params[0][0] has {sizes[1]} and {sizes[2]}: every cell must agree"
                )
                raise ValueError(msg)
    _, hidden, h_out = cast(tuple[int, int, int], sizes)  # set by the first cell
    return directions, hidden, h_out


def _check_input(x: Array, input_size: int) -> None:
    """`x` is (L, N, H_in) or (N, L, H_in) or unbatched (L, H_in) with L >= 1."""
    if x.ndim not in (2, 3) or x.shape[-1] != input_size:
        msg = (
            f"`x` must have shape (L, N, H_in), (N, L, H_in) with batch_first or (L, H_in) "
            f"with H_in = params[0][0]['w_ih'].shape[0] = {input_size}, got {shape_str(x.shape)}"
        )
        raise ValueError(msg)


def check_state(
    state: Any, name: str, want: tuple[int, ...], *, xp: Namespace, dtype: Any, what: str
) -> Array:
    """`state`, an array of shape `want` (described by `what`) and `dtype`."""
    check_same_framework(state, name, xp=xp)
    check_floating(state, name, xp=xp)
    if tuple(state.shape) != want:
        msg = f"`{name}` must have shape {what} = {shape_str(want)}, got {shape_str(state.shape)}"
        raise ValueError(msg)
    if state.dtype != dtype:
        msg = f"`{name}` must have the dtype of `x` ({dtype}), got {state.dtype}"
        raise TypeError(msg)
    return state
