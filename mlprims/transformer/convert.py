"""Parameters of the Transformer layers from torch's ``nn.TransformerEncoderLayer`` and
``nn.TransformerDecoderLayer`` state dicts.

torch keeps ``y = x @ W.T + b``; mlprims keeps ``y = x @ w + b`` (see
:mod:`mlprims.transformer.encoder` for the names). The attentions go through
:func:`~mlprims.from_torch_multihead`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import backends
from .._array import Array, check_array, namespace
from ..attention import from_torch_multihead

__all__ = ["from_torch_transformer_decoder_layer", "from_torch_transformer_encoder_layer"]


def from_torch_transformer_encoder_layer(
    state_dict: Mapping[str, Any], *, backend: str | backends.Backend | None = None
) -> dict[str, Any]:
    """Parameters for :func:`~mlprims.transformer_encoder_layer` from a torch encoder layer.

    Parameters
    ----------
    state_dict : mapping
        ``nn.TransformerEncoderLayer(...).state_dict()`` (torch tensors, or NumPy arrays with
        the same names).
    backend : str or Backend, optional
        Convert the arrays to this backend; default: keep the backend of the state dict.

    Returns
    -------
    dict
        ``self_attn``, ``w1`` = ``linear1.weight.T``, ``b1``, ``w2``, ``b2``, ``norm1``,
        ``norm2``. Call the layer with ``num_heads=module.self_attn.num_heads``,
        ``norm_first=module.norm_first``, ``eps=module.norm1.eps`` and its activation.

    References
    ----------
    - https://pytorch.org/docs/stable/generated/torch.nn.TransformerEncoderLayer.html

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> state = {"self_attn.in_proj_weight": np.zeros((24, 8)),
    ...          "self_attn.out_proj.weight": np.zeros((8, 8)),
    ...          "linear1.weight": np.zeros((16, 8)), "linear2.weight": np.zeros((8, 16)),
    ...          "norm1.weight": np.ones(8), "norm2.weight": np.ones(8)}
    >>> p = mlprims.from_torch_transformer_encoder_layer(state)
    >>> p["w1"].shape, sorted(p["norm1"])
    ((8, 16), ['bias', 'weight'])
    """
    return _convert(state_dict, ("self_attn",), ("norm1", "norm2"), backend)


def from_torch_transformer_decoder_layer(
    state_dict: Mapping[str, Any], *, backend: str | backends.Backend | None = None
) -> dict[str, Any]:
    """Parameters for :func:`~mlprims.transformer_decoder_layer` from a torch decoder layer.

    Parameters
    ----------
    state_dict : mapping
        ``nn.TransformerDecoderLayer(...).state_dict()``.
    backend : str or Backend, optional
        Convert the arrays to this backend; default: keep the backend of the state dict.

    Returns
    -------
    dict
        As :func:`~mlprims.from_torch_transformer_encoder_layer`, plus ``cross_attn`` (torch's
        ``multihead_attn``) and ``norm3``.

    References
    ----------
    - https://pytorch.org/docs/stable/generated/torch.nn.TransformerDecoderLayer.html

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> attn = {"in_proj_weight": np.zeros((24, 8)), "out_proj.weight": np.zeros((8, 8))}
    >>> state = {f"{m}.{k}": v for m in ("self_attn", "multihead_attn") for k, v in attn.items()}
    >>> state.update({"linear1.weight": np.zeros((16, 8)), "linear2.weight": np.zeros((8, 16))})
    >>> state.update({f"norm{i}.weight": np.ones(8) for i in (1, 2, 3)})
    >>> sorted(mlprims.from_torch_transformer_decoder_layer(state))
    ['cross_attn', 'norm1', 'norm2', 'norm3', 'self_attn', 'w1', 'w2']
    """
    return _convert(
        state_dict, ("self_attn", "multihead_attn"), ("norm1", "norm2", "norm3"), backend
    )


def _convert(
    state_dict: Mapping[str, Any],
    attentions: tuple[str, ...],
    norms: tuple[str, ...],
    backend: str | backends.Backend | None,
) -> dict[str, Any]:
    if not isinstance(state_dict, Mapping):
        msg = (
            f"`state_dict` must be a mapping (module.state_dict()), got {type(state_dict).__name__}"
        )
        raise TypeError(msg)
    needed = [f"{a}.out_proj.weight" for a in attentions]
    needed += ["linear1.weight", "linear2.weight"] + [f"{m}.weight" for m in norms]
    missing = [name for name in needed if name not in state_dict]
    if missing:
        msg = f"`state_dict` lacks {missing}: is it the state of the right torch layer?"
        raise ValueError(msg)

    def convert(name: str) -> Array | None:
        a = state_dict.get(name)
        if a is None:
            return None
        check_array(a, f"state_dict[{name!r}]")
        if backend is not None:
            a = backends.get(backend).asarray(backends.of(a).to_numpy(a))
        return a

    params: dict[str, Any] = {}
    for torch_name in attentions:
        prefix = f"{torch_name}."
        sub = {k[len(prefix) :]: v for k, v in state_dict.items() if k.startswith(prefix)}
        name = "cross_attn" if torch_name == "multihead_attn" else torch_name
        params[name] = from_torch_multihead(sub, backend=backend)
    for i in (1, 2):
        w = convert(f"linear{i}.weight")  # (d_out, d_in)
        params[f"w{i}"] = namespace(w).matrix_transpose(w)
        b = convert(f"linear{i}.bias")
        if b is not None:
            params[f"b{i}"] = b
    for name in norms:
        params[name] = {"weight": convert(f"{name}.weight"), "bias": convert(f"{name}.bias")}
    return params
