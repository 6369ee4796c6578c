"""The LoRA adapters of a peft state dict in mlprims' layout; re-exported by :mod:`mlprims`.

peft keeps ``lora_A.weight`` (r, D_in) and ``lora_B.weight`` (D_out, r) (``nn.Linear``'s
``x @ W.T``); mlprims keeps A = lora_A.weight.T (D_in, r) and B = lora_B.weight.T (r, D_out)
(``x @ A @ B``, the layout of :mod:`mlprims.adapters.lora`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .. import backends
from .._array import Array, check_array, namespace, shape_str

__all__ = ["from_peft"]

#: ``<path>.lora_A[.<adapter>].weight``: the path of the adapted layer, A or B, the adapter's
#: name (absent in files written by peft's ``save_pretrained``) and the parameter.
_KEY = re.compile(
    r"^(?:(?P<path>.*)\.)?lora_(?P<which>[AB])(?:\.(?P<adapter>[^.]+))?\.(?P<param>\w+)$"
)
#: The prefix peft's PeftModel puts before the wrapped model's own module paths.
_PREFIX = "base_model.model."


def from_peft(
    state_dict: Mapping[str, Any],
    *,
    adapter_name: str = "default",
    backend: str | backends.Backend | None = None,
) -> dict[str, dict[str, Array]]:
    """Every LoRA adapter of a peft state dict, by layer, as :func:`~mlprims.lora_linear` takes it.

    Parameters
    ----------
    state_dict : mapping
        ``peft_model.state_dict()`` (keys ``<path>.lora_A.<adapter>.weight``), peft's
        ``get_peft_model_state_dict(peft_model)`` or a saved ``adapter_model.safetensors``
        (keys ``<path>.lora_A.weight``), or one LoRA layer's ``state_dict()``: torch tensors
        or NumPy arrays. Other keys (the frozen ``base_layer`` weights) are ignored.
    adapter_name : str
        Which adapter to take where the keys name one (peft's default adapter is "default").
    backend : str or Backend, optional
        Convert the arrays to this backend; default: keep the backend (and device) of the
        state dict, so torch tensors stay torch tensors.

    Returns
    -------
    dict
        ``{path: {"A": lora_A.weight.T, "B": lora_B.weight.T}}``, the path of each adapted
        layer without peft's ``base_model.model.`` prefix (``""`` for a layer's own state
        dict). Pass ``lora_alpha`` and ``use_rslora`` of the ``LoraConfig`` to
        :func:`~mlprims.lora_linear`: the state dict does not hold them.

    Raises
    ------
    ValueError
        No LoRA weight for `adapter_name`, a layer with A but no B (or the reverse), a LoRA
        bias (``lora_bias=True``), DoRA magnitudes, or a weight that is not 2-d (peft's
        convolution and embedding adapters).
    TypeError
        `state_dict` not a mapping, or a LoRA weight that is not an array.

    References
    ----------
    - https://huggingface.co/docs/peft/package_reference/lora

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> state = {"base_model.model.proj.base_layer.weight": np.zeros((3, 4)),
    ...          "base_model.model.proj.lora_A.default.weight": np.zeros((2, 4)),
    ...          "base_model.model.proj.lora_B.default.weight": np.zeros((3, 2))}
    >>> {path: {k: v.shape for k, v in ab.items()} for path, ab in mlprims.from_peft(state).items()}
    {'proj': {'A': (4, 2), 'B': (2, 3)}}
    """
    if not isinstance(state_dict, Mapping):
        msg = (
            "`state_dict` must be a mapping (peft_model.state_dict()), got "
            f"{type(state_dict).__name__}"
        )
        raise TypeError(msg)
    found: dict[str, dict[str, Array]] = {}
    others: set[str] = set()
    for name, value in state_dict.items():
        if "lora_magnitude_vector" in str(name):
            msg = f"`state_dict` holds DoRA magnitudes ({name!r}), which are not supported"
            raise ValueError(msg)
        match = _KEY.match(str(name))
        if match is None:
            continue
        adapter = match["adapter"]
        if adapter is not None and adapter != adapter_name:
            others.add(adapter)
            continue
        if match["param"] != "weight":
            msg = f"`state_dict[{name!r}]`: LoRA biases (lora_bias=True) are not supported"
            raise ValueError(msg)
        found.setdefault(_path(match["path"]), {})[match["which"]] = _transposed(
            value, name, backend
        )
    if not found:
        msg = f"`state_dict` holds no LoRA weight of adapter {adapter_name!r}"
        if others:
            msg += f"; its adapters are {sorted(others)} (pass adapter_name=)"
        raise ValueError(msg)
    for path, pair in found.items():
        if set(pair) != {"A", "B"}:
            msg = f"`state_dict` has lora_{next(iter(pair))} but not the other matrix for {path!r}"
            raise ValueError(msg)
    return found


def _path(path: str | None) -> str:
    """The layer's path in the user's model: peft's PeftModel prefix removed."""
    path = path or ""
    return path[len(_PREFIX) :] if path.startswith(_PREFIX) else path


def _transposed(value: Any, name: str, backend: Any) -> Array:
    """``value.T`` (an (r, D_in) or (D_out, r) weight), on `backend` if given."""
    check_array(value, f"state_dict[{name!r}]")
    if value.ndim != 2:
        msg = (
            f"`state_dict[{name!r}]` must be a 2-d Linear weight, got shape "
            f"{shape_str(value.shape)} (peft's convolution and embedding adapters are not "
            "supported)"
        )
        raise ValueError(msg)
    if backend is not None:
        value = backends.get(backend).asarray(backends.of(value).to_numpy(value))
    return namespace(value).matrix_transpose(value)
