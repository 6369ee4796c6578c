"""A Mixtral MoE block's state dict in mlprims' layout; re-exported by :mod:`mlprims`.

transformers 5 fuses the experts: ``experts.gate_up_proj`` (E, 2 F, D), the gate's F rows
first, and ``experts.down_proj`` (E, D, F), both ``x @ W.T`` per expert, with the router
``gate.weight`` (E, D). Mixtral's checkpoint files (and transformers 4) keep one module per
expert, ``experts.<i>.w1.weight`` (F, D, the gate), ``w3`` (F, D, the up projection) and
``w2`` (D, F, the down projection); transformers 5 concatenates w1 and w3 into gate_up_proj
when it loads them. mlprims keeps (in, out) matrices stacked over experts
(:mod:`mlprims.experts.layer`): every matrix is transposed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .. import backends
from .._array import Array, check_array, namespace, shape_str

__all__ = ["from_mixtral"]

#: The keys of one block, after a prefix ending in "." (or none).
_ROUTER = re.compile(r"^(?P<prefix>(?:.*\.)?)gate\.weight$")
_FUSED = re.compile(r"^(?P<prefix>(?:.*\.)?)experts\.(?P<name>gate_up_proj|down_proj)$")
_SPLIT = re.compile(r"^(?P<prefix>(?:.*\.)?)experts\.(?P<index>\d+)\.(?P<name>w[123])\.weight$")


def from_mixtral(
    state_dict: Mapping[str, Any],
    *,
    prefix: str | None = None,
    backend: str | backends.Backend | None = None,
) -> dict[str, Array]:
    """The parameters of :func:`~mlprims.moe` from a Mixtral MoE block's state dict.

    Parameters
    ----------
    state_dict : mapping
        ``MixtralSparseMoeBlock.state_dict()`` (transformers 5: ``gate.weight``,
        ``experts.gate_up_proj``, ``experts.down_proj``), or a block of a Mixtral checkpoint
        file (``gate.weight``, ``experts.<i>.w1.weight``, ``w2``, ``w3``): torch tensors or
        NumPy arrays. Keys may share a prefix (``model.layers.0.mlp.``); other keys are ignored.
    prefix : str, optional
        Take the block whose keys start with `prefix` (e.g. ``"model.layers.3.mlp."`` in a
        whole model's state dict); required when the state dict holds several blocks.
    backend : str or Backend, optional
        Convert the arrays to this backend; default: keep the backend (and device) of the
        state dict, so torch tensors stay torch tensors.

    Returns
    -------
    dict
        ``{"w_router": gate.weight.T (D, E), "w_gate": (E, D, F), "w_up": (E, D, F),
        "w_down": (E, F, D)}``, with ``w_gate[e] = gate_up_proj[e, :F].T``,
        ``w_up[e] = gate_up_proj[e, F:].T`` and ``w_down[e] = down_proj[e].T`` (``w1.T``,
        ``w3.T`` and ``w2.T`` of expert e in a checkpoint). Pass ``num_experts_per_tok`` of
        the config as :func:`~mlprims.moe`'s `top_k`: the state dict does not hold it.

    Raises
    ------
    ValueError
        No block (or several without `prefix`), a block without its router or with both
        layouts, experts missing (indices not 0 to E - 1, or a w1/w2/w3 missing), shapes that
        do not fit together.
    TypeError
        `state_dict` not a mapping, or a weight that is not an array.

    References
    ----------
    - https://huggingface.co/docs/transformers/model_doc/mixtral

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> E, D, F = 4, 8, 6
    >>> state = {"gate.weight": np.zeros((E, D)),
    ...          "experts.gate_up_proj": np.zeros((E, 2 * F, D)),
    ...          "experts.down_proj": np.zeros((E, D, F))}
    >>> {name: w.shape for name, w in mlprims.from_mixtral(state).items()}
    {'w_router': (8, 4), 'w_gate': (4, 8, 6), 'w_up': (4, 8, 6), 'w_down': (4, 6, 8)}
    """
    if not isinstance(state_dict, Mapping):
        msg = (
            "`state_dict` must be a mapping (MixtralSparseMoeBlock.state_dict()), got "
            f"{type(state_dict).__name__}"
        )
        raise TypeError(msg)
    if prefix is not None and not isinstance(prefix, str):
        msg = f"`prefix` must be a string such as 'model.layers.0.mlp.', got {prefix!r}"
        raise TypeError(msg)
    blocks: dict[str, dict[str, Any]] = {}
    for name, value in state_dict.items():
        for pattern in (_ROUTER, _FUSED, _SPLIT):
            match = pattern.match(str(name))
            if match is not None:
                blocks.setdefault(match["prefix"], {})[str(name)[len(match["prefix"]) :]] = value
                break
    block = _the_block(blocks, prefix)
    arrays = {key: _converted(value, key, backend) for key, value in block.items()}
    if "gate.weight" not in arrays:
        msg = f"`state_dict` has experts but no router weight '{prefix or ''}gate.weight'"
        raise ValueError(msg)
    router = arrays.pop("gate.weight")
    if router.ndim != 2:
        msg = f"`state_dict['gate.weight']` must have shape (E, D), got {shape_str(router.shape)}"
        raise ValueError(msg)
    xp = namespace(router)
    fused = [key for key in arrays if key.startswith("experts.") and key.count(".") == 1]
    if fused and len(fused) < len(arrays):
        msg = "`state_dict` mixes fused experts (gate_up_proj) and per-expert w1/w2/w3 weights"
        raise ValueError(msg)
    e, d = router.shape
    if fused:
        w_gate, w_up, w_down = _fused(arrays, e, d, xp=xp)
    else:
        w_gate, w_up, w_down = _split(arrays, e, d, xp=xp)
    return {"w_router": xp.matrix_transpose(router), "w_gate": w_gate, "w_up": w_up,
            "w_down": w_down}  # fmt: skip


def _the_block(blocks: dict[str, dict[str, Any]], prefix: str | None) -> dict[str, Any]:
    """The keys (prefix removed) of the one block, or of the block `prefix` names."""
    if prefix is not None:
        if prefix not in blocks:
            msg = (
                f"`state_dict` has no MoE block with prefix {prefix!r}; its blocks: "
                f"{sorted(blocks)}"
            )
            raise ValueError(msg)
        return blocks[prefix]
    if not blocks:
        msg = "`state_dict` holds no Mixtral MoE block (gate.weight, experts.gate_up_proj, ...)"
        raise ValueError(msg)
    if len(blocks) > 1:
        names = sorted(blocks)
        shown = ", ".join(repr(p) for p in names[:4]) + (", ..." if len(names) > 4 else "")
        msg = f"`state_dict` holds {len(names)} MoE blocks ({shown}): choose one with prefix="
        raise ValueError(msg)
    return next(iter(blocks.values()))


def _converted(value: Any, name: str, backend: Any) -> Array:
    """`value` checked to be an array, on `backend` if given."""
    check_array(value, f"state_dict[{name!r}]")
    if backend is not None:
        value = backends.get(backend).asarray(backends.of(value).to_numpy(value))
    return value


def _fused(arrays: dict[str, Array], e: int, d: int, *, xp: Any) -> tuple[Array, Array, Array]:
    """w_gate, w_up, w_down from transformers 5's gate_up_proj (E, 2F, D), down_proj (E, D, F)."""
    for key in ("experts.gate_up_proj", "experts.down_proj"):
        if key not in arrays:
            msg = f"`state_dict` has no {key!r} beside the other fused experts"
            raise ValueError(msg)
    gate_up, down = arrays["experts.gate_up_proj"], arrays["experts.down_proj"]
    if gate_up.ndim != 3 or gate_up.shape[0] != e or gate_up.shape[1] % 2 or gate_up.shape[2] != d:
        msg = (
            f"`experts.gate_up_proj` must have shape (E, 2 F, D) = ({e}, 2 F, {d}), got "
            f"{shape_str(gate_up.shape)}"
        )
        raise ValueError(msg)
    f = gate_up.shape[1] // 2
    if tuple(down.shape) != (e, d, f):
        msg = (
            f"`experts.down_proj` must have shape (E, D, F) = ({e}, {d}, {f}), got "
            f"{shape_str(down.shape)}"
        )
        raise ValueError(msg)
    t = xp.matrix_transpose
    return t(gate_up[:, :f, :]), t(gate_up[:, f:, :]), t(down)  # the gate's rows come first


def _split(arrays: dict[str, Array], e: int, d: int, *, xp: Any) -> tuple[Array, Array, Array]:
    """w_gate, w_up, w_down stacked from per-expert w1 (F, D), w3 (F, D), w2 (D, F)."""
    found = {int(key.split(".")[1]) for key in arrays}
    if found != set(range(e)):
        msg = (
            f"`state_dict` must hold experts 0 to {e - 1} (gate.weight has E = {e} rows), got "
            f"experts {sorted(found)}"
        )
        raise ValueError(msg)
    missing = [
        f"experts.{i}.{name}.weight"
        for i in range(e)
        for name in ("w1", "w2", "w3")
        if f"experts.{i}.{name}.weight" not in arrays
    ]
    if missing:
        msg = f"`state_dict` lacks {missing} (each expert has w1, w2 and w3)"
        raise ValueError(msg)
    first = arrays["experts.0.w1.weight"]
    if first.ndim != 2:
        shape = shape_str(first.shape)
        msg = f"`state_dict['experts.0.w1.weight']` must have shape (F, D), got {shape}"
        raise ValueError(msg)
    f = first.shape[0]
    stacks = []
    for name, want in (("w1", (f, d)), ("w3", (f, d)), ("w2", (d, f))):
        matrices = []
        for i in range(e):
            key = f"experts.{i}.{name}.weight"
            w = arrays[key]
            if tuple(w.shape) != want:
                msg = (
                    f"`state_dict[{key!r}]` must have shape {shape_str(want)} (D = {d} from "
                    f"gate.weight, F from experts.0.w1.weight), got {shape_str(w.shape)}"
                )
                raise ValueError(msg)
            matrices.append(xp.matrix_transpose(w))  # (in, out)
        stacks.append(xp.stack(matrices, axis=0))
    return stacks[0], stacks[1], stacks[2]  # w1 the gate, w3 the up, w2 the down projection
