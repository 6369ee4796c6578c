"""Rotary position embeddings (RoPE, Su et al. 2021): frequencies, rotation, weight conversion.

RoPE rotates pairs of features of each query and key by angles proportional to the token's
position, so that ``<rope(q, m), rope(k, n)>`` depends on the positions only through ``m - n``.
Which features form a pair is the convention that breaks ports:

* ``style="half"`` pairs feature ``i`` with ``i + R/2`` (Hugging Face Llama's ``rotate_half``,
  GPT-NeoX, most Hugging Face models);
* ``style="interleaved"`` pairs ``(2i, 2i + 1)`` (RoFormer, GPT-J, Meta's original Llama code,
  which multiplies complex numbers ``x[2i] + j·x[2i+1]``).

Both rotate pair ``i`` by ``position · ω_i`` with ``ω_i = base^(-2i/R)``. Weights trained in one
style work in the other after permuting the q/k projection columns: :func:`convert_rope_weights`.

Shape legend: ``L`` sequence length, ``D`` head dimension, ``R`` rotated features
(`rotary_dim`, default ``D``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from array_api_compat import device as array_device
from array_api_compat import is_array_api_obj

from .._array import (
    Array,
    broadcasts_to,
    check_array,
    check_choice,
    check_dtype,
    check_float_dtype,
    check_floating,
    check_in_range,
    check_int,
    create_namespace,
    namespace,
    python_int,
    shape_str,
)

__all__: list[str] = ["apply_rope", "convert_rope_weights", "rope_frequencies"]

_STYLES = ("half", "interleaved")
_SCALING_KEYS = {
    "default": set(),
    "linear": {"factor"},
    "llama3": {"factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings"},
}


def _rotary_dim(head_dim: int, rotary_dim: int | None, name: str = "head_dim") -> int:
    """`rotary_dim` (default `head_dim`) checked: even, and at most `head_dim`."""
    if rotary_dim is None:
        if head_dim % 2:
            msg = (
                f"`{name}` must be even to rotate pairs of features, got {head_dim}; "
                "or rotate only the first `rotary_dim` (even) features"
            )
            raise ValueError(msg)
        return head_dim
    check_int(rotary_dim, "rotary_dim", minimum=2)
    if rotary_dim > head_dim or rotary_dim % 2:
        msg = f"`rotary_dim` must be even and at most {name} = {head_dim}, got {rotary_dim}"
        raise ValueError(msg)
    return rotary_dim


def _scaling_kind(scaling: Mapping[str, Any] | None) -> tuple[str, dict[str, float]]:
    if scaling is None:
        return "default", {}
    if not isinstance(scaling, Mapping):
        msg = (
            "`scaling` must be None or a dict such as {'type': 'linear', 'factor': 4.0}, "
            f"got {type(scaling).__name__}"
        )
        raise TypeError(msg)
    params = dict(scaling)
    kind = params.pop("type", None) or params.pop("rope_type", None)
    params.pop("rope_type", None)
    check_choice(kind, "scaling['type']", tuple(_SCALING_KEYS))
    if set(params) != _SCALING_KEYS[kind]:
        msg = (
            f"`scaling` of type {kind!r} needs exactly the keys {sorted(_SCALING_KEYS[kind])}, "
            f"got {sorted(params)}"
        )
        raise ValueError(msg)
    for name, value in params.items():
        params[name] = check_in_range(
            value, f"scaling['{name}']", 0.0, math.inf, closed=(False, False)
        )
    if kind == "llama3" and not params["high_freq_factor"] > params["low_freq_factor"]:
        msg = "`scaling['high_freq_factor']` must exceed `scaling['low_freq_factor']`"
        raise ValueError(msg)
    return kind, params


def _inverse_frequencies(
    head_dim: int, base: float, rotary_dim: int | None, scaling: Mapping[str, Any] | None
) -> list[float]:
    """``ω_i`` for ``i < R/2`` in Python floats (float64), scaling applied."""
    base = check_in_range(base, "base", 0.0, math.inf, closed=(False, False))
    check_int(head_dim, "head_dim", minimum=2)
    r = _rotary_dim(head_dim, rotary_dim)
    kind, p = _scaling_kind(scaling)
    omega = [1.0 / base ** (2 * i / r) for i in range(r // 2)]
    if kind == "linear":  # position interpolation (Chen et al. 2023): positions / factor
        return [w / p["factor"] for w in omega]
    if kind == "llama3":  # Hugging Face _compute_llama3_parameters
        context = p["original_max_position_embeddings"]
        low, high = p["low_freq_factor"], p["high_freq_factor"]
        scaled = []
        for w in omega:
            wavelength = 2 * math.pi / w
            if wavelength < context / high:  # high frequencies: unchanged
                scaled.append(w)
            elif wavelength > context / low:  # low frequencies: interpolated
                scaled.append(w / p["factor"])
            else:  # in between: a smooth blend of the two
                smooth = (context / wavelength - low) / (high - low)
                scaled.append((1 - smooth) * w / p["factor"] + smooth * w)
        return scaled
    return omega


def rope_frequencies(
    head_dim: int,
    *,
    base: float = 10000.0,
    rotary_dim: int | None = None,
    scaling: Mapping[str, Any] | None = None,
    dtype: Any = "float32",
    backend: Any = None,
    device: Any = None,
) -> Array:
    r"""The rotation frequencies ``ω_i = base^(-2i/R)``, shape ``(R/2,)`` (HF's ``inv_freq``).

    Parameters
    ----------
    head_dim : int
        ``D``, the size of each query/key head.
    base : float
        ``rope_theta``: 10000 (Llama 1/2), 500000 (Llama 3).
    rotary_dim : int, optional
        ``R``: rotate only the first ``R`` features of each head (GPT-NeoX ``rotary_pct``,
        GPT-J ``rotary_dim``, HF ``partial_rotary_factor · D``); the exponent uses ``R``.
    scaling : dict, optional
        Hugging Face's ``rope_scaling`` (``"type"`` or ``"rope_type"`` names it):

        * ``{"type": "linear", "factor": f}``: position interpolation, every ``ω_i / f``
          (positions squeezed by ``f``; HF ``LlamaLinearScalingRotaryEmbedding``).
        * ``{"rope_type": "llama3", "factor", "low_freq_factor", "high_freq_factor",
          "original_max_position_embeddings"}``: Llama 3.1's scaling, as HF
          ``_compute_llama3_parameters``.
        * ``{"rope_type": "default"}`` or None: no scaling. (NTK-aware scaling is a larger
          `base`; dynamic NTK depends on the sequence length and is not offered.)
    dtype : dtype or str
        Floating dtype of the result (default float32).
    backend : str or Backend, optional
        Where to create the result (default: see :func:`mlprims.use`).
    device : optional
        The result's device.

    Returns
    -------
    array, shape ``(R/2,)``

    Notes
    -----
    Without `scaling` (``"linear"`` then divides each by ``f``):

    .. math::

        \omega_i = \text{base}^{-2i/R}, \qquad i = 0, 1, \dots, R/2 - 1

    Computed in Python float64 and rounded once (HF computes ``1 / base ** (2i / R)`` in
    float32, which may differ from this in the last bit).

    References
    ----------
    - Su et al. 2021, "RoFormer", https://arxiv.org/abs/2104.09864

    Examples
    --------
    >>> import mlprims
    >>> mlprims.rope_frequencies(4).tolist()
    [1.0, 0.009999999776482582]
    """
    omega = _inverse_frequencies(head_dim, base, rotary_dim, scaling)
    xp = create_namespace(backend)
    return xp.asarray(omega, dtype=check_float_dtype(dtype, xp=xp), device=device)


def apply_rope(
    x: Array,
    /,
    positions: Array | None = None,
    *,
    offset: int | Array = 0,
    base: float = 10000.0,
    style: str = "half",
    rotary_dim: int | None = None,
    scaling: Mapping[str, Any] | None = None,
) -> Array:
    r"""Rotate queries or keys ``x`` of shape ``(..., L, D)`` by their positions (RoPE).

    Parameters
    ----------
    x : array, shape ``(..., L, D)``
        Queries or keys, heads before the sequence axis (``(B, N, L, D)``, the torch layout).
    positions : array, optional
        Integer or floating positions, shape ``(..., L)`` broadcastable to ``x.shape[:-1]``
        (e.g. ``(L,)`` or ``(B, 1, L)`` for per-sequence positions). Default ``0 .. L-1``.
    offset : int or 0-d integer array
        Added to every position: the number of tokens already in a KV cache.
    base : float
        ``rope_theta``, as in :func:`rope_frequencies`.
    style : {"half", "interleaved"}
        Which features are rotated together (see the module docstring).
    rotary_dim : int, optional
        As in :func:`rope_frequencies`. Features past `rotary_dim` pass through unchanged.
    scaling : dict, optional
        As in :func:`rope_frequencies`.

    Returns
    -------
    array, same shape and dtype as `x`

    Notes
    -----
    With ``θ = p · ω_i`` for the token at position ``p``, pair ``(a, b)`` becomes
    ``(a cos θ - b sin θ, a sin θ + b cos θ)``, where ``(a, b) = (x[i], x[i + R/2])`` for
    ``"half"`` (``x · cos + rotate_half(x) · sin``, Hugging Face Llama) and
    ``(x[2i], x[2i+1])`` for ``"interleaved"`` (``x`` as complex numbers times ``e^{jθ}``,
    Meta Llama's ``apply_rotary_emb``, GPT-J's ``rotate_every_two``). Angles and the rotation are
    computed in float32, or float64 for float64 `x`, and the result is cast back to `x`'s
    dtype (HF rounds ``cos``/``sin`` to a float16 `x`'s dtype first). For very long contexts use
    float64: float32 angles carry an error of about ``p · 6e-8`` radians. Without `scaling`:

    .. math:: \begin{pmatrix} a' \\ b' \end{pmatrix}
              = \begin{pmatrix} \cos p\omega_i & -\sin p\omega_i \\
              \sin p\omega_i & \cos p\omega_i \end{pmatrix}
              \begin{pmatrix} a \\ b \end{pmatrix}, \qquad \omega_i = \mathrm{base}^{-2i/R}.

    References
    ----------
    - Su et al. 2021, "RoFormer", https://arxiv.org/abs/2104.09864

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> x = np.array([[1.0, 0.0], [1.0, 0.0]])   # two positions, one pair
    >>> np.round(mlprims.apply_rope(x), 4).tolist()   # the second is turned by 1 radian
    [[1.0, 0.0], [0.5403, 0.8415]]
    """
    offset = python_int(offset)
    offset_array = None if isinstance(offset, (int, float)) else offset  # a float is refused below
    xp = namespace(x, positions, offset_array, names=("x", "positions", "offset"))
    check_floating(x, "x", xp=xp)
    if x.ndim < 2:
        msg = f"`x` must have shape (..., L, D), got {shape_str(x.shape)}"
        raise ValueError(msg)
    check_choice(style, "style", _STYLES)
    length, head_dim = x.shape[-2], x.shape[-1]
    r = _rotary_dim(head_dim, rotary_dim, "x.shape[-1]")
    omega = _inverse_frequencies(head_dim, base, r, scaling)
    dtype = xp.float64 if x.dtype == xp.float64 else xp.float32  # never 16-bit angles
    device = array_device(x)

    if positions is None:
        pos = xp.arange(length, dtype=dtype, device=device)
    else:
        _check_positions(positions, x, xp=xp)
        pos = xp.astype(positions, dtype)
    if _check_offset(offset, xp=xp):
        pos = pos + (float(offset) if isinstance(offset, int) else xp.astype(offset, dtype))

    angles = pos[..., None] * xp.asarray(omega, dtype=dtype, device=device)  # (..., L, R/2)
    cos, sin = xp.cos(angles), xp.sin(angles)
    rotated = xp.astype(x[..., :r], dtype, copy=False)  # (..., L, R)
    if style == "half":
        a, b = rotated[..., : r // 2], rotated[..., r // 2 :]
        out = xp.concat([a * cos - b * sin, a * sin + b * cos], axis=-1)
    else:
        pairs = xp.reshape(rotated, (*rotated.shape[:-1], r // 2, 2))  # (..., L, R/2, 2)
        a, b = pairs[..., 0], pairs[..., 1]
        out = xp.stack([a * cos - b * sin, a * sin + b * cos], axis=-1)  # (..., L, R/2, 2)
        out = xp.reshape(out, (*out.shape[:-2], r))
    out = xp.astype(out, x.dtype, copy=False)
    if r == head_dim:
        return out
    passed = xp.broadcast_to(x[..., r:], (*out.shape[:-1], head_dim - r))
    return xp.concat([out, passed], axis=-1)


def _check_offset(offset: Any, *, xp: Any) -> bool:
    """Whether `offset` (an int or a 0-d integer array) needs adding; TypeError if neither."""
    if isinstance(offset, int) and not isinstance(offset, bool):
        return offset != 0
    if is_array_api_obj(offset) and offset.ndim == 0 and xp.isdtype(offset.dtype, "integral"):
        return True
    kind = type(offset).__name__
    if is_array_api_obj(offset):
        kind = f"{offset.dtype} of shape {shape_str(offset.shape)}"
    msg = f"`offset` must be an int or a 0-d integer array, got {kind}"
    raise TypeError(msg)


def _check_positions(positions: Array, x: Array, *, xp: Any) -> None:
    check_array(positions, "positions")
    check_dtype(positions, "positions", ("integral", "real floating"), xp=xp)
    target = tuple(x.shape[:-1])
    shape = tuple(positions.shape)
    if not shape or shape[-1] != target[-1] or not broadcasts_to(shape, target):
        msg = (
            f"`positions` must have shape (..., L) broadcastable to x.shape[:-1] = "
            f"{shape_str(target)}, got {shape_str(positions.shape)}"
        )
        raise ValueError(msg)


def convert_rope_weights(
    w: Array, /, *, num_heads: int, to: str, rotary_dim: int | None = None
) -> Array:
    """Permute q/k projection outputs so a model trained with one RoPE style runs with the other.

    Parameters
    ----------
    w : array, shape ``(..., N·D)``
        A query or key projection in mlprims' ``(d_in, d_out)`` layout (``x @ w``), or its bias
        ``(N·D,)``: the permuted axis is the **last** one, the output features, grouped by head.
        A PyTorch ``nn.Linear`` weight is ``(d_out, d_in)``: pass ``w.T`` (and transpose back).
    num_heads : int
        ``N``; each head's ``D`` features are permuted separately.
    to : {"half", "interleaved"}
        The style of the result; `w` is taken to be in the other one.
    rotary_dim : int, optional
        Only the first ``R`` features of each head are rotated, hence permuted.

    Returns
    -------
    array, same shape as `w`

    Notes
    -----
    ``to="half"`` is Hugging Face's ``permute`` in ``convert_llama_weights_to_hf.py`` (Meta
    checkpoint -> HF): per head, output feature ``2i + t`` (pair ``i``, ``t`` = 0 or 1) moves to
    ``t · R/2 + i``; on a torch ``(d_out, d_in)`` weight that is
    ``w.view(N, D // 2, 2, d_in).transpose(1, 2).reshape(N·D, d_in)``. ``to="interleaved"``
    is its inverse. Then ``apply_rope(x @ convert(w), style="half")`` equals
    ``apply_rope(x @ w, style="interleaved")`` with each head's features permuted the same way,
    so the attention scores ``q · k`` are identical.

    References
    ----------
    - Su et al. 2021, "RoFormer", https://arxiv.org/abs/2104.09864
    - ``permute`` in Hugging Face's conversion script,
      https://github.com/huggingface/transformers/blob/main/src/transformers/models/llama/convert_llama_weights_to_hf.py

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> mlprims.convert_rope_weights(np.arange(4), num_heads=1, to="half").tolist()
    [0, 2, 1, 3]
    """
    xp = namespace(w)
    check_array(w, "w")
    check_choice(to, "to", _STYLES)
    check_int(num_heads, "num_heads", minimum=1)
    if w.ndim == 0 or w.shape[-1] % num_heads:
        msg = (
            f"the last axis of `w` must hold num_heads={num_heads} heads of equal size, "
            f"got shape {shape_str(w.shape)}"
        )
        raise ValueError(msg)
    head_dim = w.shape[-1] // num_heads
    r = _rotary_dim(head_dim, rotary_dim, "the head size w.shape[-1] // num_heads")
    lead = tuple(w.shape[:-1])
    heads = xp.reshape(w, (*lead, num_heads, head_dim))  # (..., N, D)
    source = (r // 2, 2) if to == "half" else (2, r // 2)
    rotary = xp.reshape(heads[..., :r], (*lead, num_heads, *source))
    rotary = xp.reshape(xp.matrix_transpose(rotary), (*lead, num_heads, r))
    if r < head_dim:
        rotary = xp.concat([rotary, heads[..., r:]], axis=-1)
    return xp.reshape(rotary, w.shape)
