"""Parameters of :func:`mlprims.multi_head_attention` from a ``torch.nn.MultiheadAttention``.

torch keeps ``y = x @ W.T + b`` with q, k and v stacked; mlprims keeps ``y = x @ w + b`` with
one matrix each (the layout of :mod:`mlprims.attention.multi_head`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import backends
from .._array import Array, check_array, namespace

__all__ = ["from_torch_multihead"]


def from_torch_multihead(
    state_dict: Mapping[str, Any], *, backend: str | backends.Backend | None = None
) -> dict[str, Array]:
    """Parameters for :func:`~mlprims.multi_head_attention` from a torch MultiheadAttention.

    torch stores ``in_proj_weight`` (3E, E) (q, k, v stacked, ``x @ W.T``) or separate
    ``q/k/v_proj_weight`` when kdim/vdim differ, ``in_proj_bias`` (3E,), ``out_proj.weight``
    (E, E) and ``out_proj.bias``. We split and transpose them to ``wq = W_q.T`` etc.

    Parameters
    ----------
    state_dict : mapping
        ``module.state_dict()`` (torch tensors, or NumPy arrays with the same names).
    backend : str or Backend, optional
        Convert the arrays to this backend; default: keep the backend (and device) of the
        state dict, so torch tensors stay torch tensors.

    Returns
    -------
    dict
        ``wq, wk, wv, wo`` and ``bq, bk, bv, bo`` when the module has biases. Use
        ``num_heads=module.num_heads``.

    References
    ----------
    - https://pytorch.org/docs/stable/generated/torch.nn.MultiheadAttention.html

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> state = {"in_proj_weight": np.zeros((24, 8)), "out_proj.weight": np.zeros((8, 8))}
    >>> sorted(mlprims.from_torch_multihead(state))
    ['wk', 'wo', 'wq', 'wv']
    """
    if not isinstance(state_dict, Mapping):
        msg = (
            f"`state_dict` must be a mapping (module.state_dict()), got {type(state_dict).__name__}"
        )
        raise TypeError(msg)
    if state_dict.get("bias_k") is not None or state_dict.get("bias_v") is not None:
        msg = "`state_dict` has bias_k/bias_v (add_bias_kv=True), which is not supported"
        raise ValueError(msg)

    def convert(name: str) -> Array:
        a = state_dict[name]
        check_array(a, f"state_dict[{name!r}]")
        if backend is not None:
            a = backends.get(backend).asarray(backends.of(a).to_numpy(a))
        return a

    if state_dict.get("in_proj_weight") is not None:
        w = convert("in_proj_weight")  # (3E, E)
        e = w.shape[0] // 3
        w_q, w_k, w_v = w[:e, :], w[e : 2 * e, :], w[2 * e :, :]
    elif state_dict.get("q_proj_weight") is not None:
        w_q, w_k, w_v = (convert(f"{p}_proj_weight") for p in "qkv")
    else:
        msg = "`state_dict` has neither 'in_proj_weight' nor 'q_proj_weight' (MultiheadAttention)"
        raise ValueError(msg)
    xp = namespace(w_q)
    params = {
        "wq": xp.matrix_transpose(w_q),  # (E, E): x @ wq == x @ W_q.T
        "wk": xp.matrix_transpose(w_k),
        "wv": xp.matrix_transpose(w_v),
        "wo": xp.matrix_transpose(convert("out_proj.weight")),
    }
    if state_dict.get("in_proj_bias") is not None:
        b = convert("in_proj_bias")  # (3E,)
        e = b.shape[0] // 3
        params["bq"], params["bk"], params["bv"] = b[:e], b[e : 2 * e], b[2 * e :]
    if state_dict.get("out_proj.bias") is not None:
        params["bo"] = convert("out_proj.bias")
    return params
