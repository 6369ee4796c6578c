"""The auxiliary load-balancing loss of a mixture of experts; re-exported by :mod:`mlprims`.

Shape legend: L layers, T tokens per layer (rows of each layer's router logits), N = L T rows
in all, E experts, k the experts chosen per token. The counts of chosen experts are a
(N, k, E) comparison with ``arange(E)`` reduced over k, not a scatter: no shape depends on the
routing, so the loss runs under ``jax.jit``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from array_api_compat import device as device_of

from .._array import Array, Namespace, check_array, check_int, namespace, shape_str
from ._common import check_top_k, route

__all__ = ["load_balancing_loss"]


def load_balancing_loss(
    router_logits: Array | Sequence[Array],
    /,
    *,
    num_experts: int,
    top_k: int,
    attention_mask: Array | None = None,
) -> Array:
    r"""The Switch Transformer load-balancing loss of router logits, as Hugging Face's Mixtral.

    Matches transformers' ``load_balancing_loss_func`` (the ``aux_loss`` of
    ``MixtralForCausalLM`` before its ``router_aux_loss_coef``).

    Parameters
    ----------
    router_logits : array of shape (..., E), or a sequence of them
        One layer's router logits, e.g. the second output of :func:`~mlprims.moe`, or a list
        or tuple of every layer's (concatenated along the rows: all layers count together).
        Leading axes are flattened to T rows.
    num_experts : int
        E; must equal the last axis of the logits.
    top_k : int
        k, the experts each token is routed to, in [1, E].
    attention_mask : array, optional
        T values per layer (e.g. (B, S) for logits of B sequences of S tokens), nonzero or
        True for a real token: padding rows count in neither average. Every layer must then
        have T rows.

    Returns
    -------
    array, shape ()
        ``E * sum_e f_e P_e``, in the dtype of the logits (float32 for 16-bit logits). 1 when
        the routing is balanced, up to E when every token picks the same experts with
        certainty; NaN when the mask keeps no token.

    Raises
    ------
    ValueError
        `top_k` outside [1, E], `num_experts` not the logits' last axis, an empty sequence,
        layers of different widths, a mask whose size is not the rows of each layer.
    TypeError
        Logits that are not floating arrays of one framework, a mask of another framework,
        `num_experts` or `top_k` not an int.

    Notes
    -----
    With ``p = softmax(logits)`` over the E experts of each row and S_t the k experts of
    largest probability of row t (ties to the lower index), over the N rows of all layers
    (Fedus et al. 2021, "Switch Transformers", equations 4 to 6)::

        f_e  = (1 / N) sum_t [e in S_t]        # the fraction of rows routed to e; sum_e f_e = k
        P_e  = (1 / N) sum_t p_te              # the mean probability of e
        loss = E * sum_e f_e P_e

    .. math:: \mathcal{L} = E \sum_{e=1}^{E} f_e P_e, \qquad
              f_e = \frac{1}{N} \sum_t [e \in S_t], \qquad P_e = \frac{1}{N} \sum_t p_{te}.

    With a mask ``m`` (repeated for each layer), both averages weigh row t by ``m_t`` and
    divide by ``sum_t m_t``. The gradient flows through ``P`` only (the counts are constant).

    transformers returns ``0`` (a Python int) unless it is given a *tuple* of per-layer
    logits (a list or a single tensor gives 0); here one array is one layer. It accumulates in
    float32 whatever the logits' dtype: float64 results differ from it by about 1e-7. On
    exact ties ``torch.topk`` may count another expert than the lower index.

    References
    ----------
    - Fedus, Zoph & Shazeer 2021, "Switch Transformers", https://arxiv.org/abs/2101.03961

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> balanced = np.array([[9.0, 0.0], [0.0, 9.0]])  # each expert gets one token
    >>> round(float(mlprims.load_balancing_loss(balanced, num_experts=2, top_k=1)), 4)
    1.0
    >>> skewed = np.array([[9.0, 0.0], [9.0, 0.0]])  # both tokens go to expert 0
    >>> round(float(mlprims.load_balancing_loss(skewed, num_experts=2, top_k=1)), 4)
    1.9998
    """
    layers = _layers(router_logits)
    xp = namespace(*layers, names=[f"router_logits[{i}]" for i in range(len(layers))])
    e = check_int(num_experts, "num_experts", minimum=1)
    for i, layer in enumerate(layers):
        _check_layer(layer, f"router_logits[{i}]" if len(layers) > 1 else "router_logits", e)
    k = check_top_k(top_k, e)
    rows = [xp.reshape(layer, (-1, e)) for layer in layers]  # L arrays (T_l, E)
    logits = xp.concat(rows, axis=0) if len(rows) > 1 else rows[0]  # (N, E)
    probs, _, experts = route(logits, k, xp=xp)  # (N, E), (N, k)
    columns = xp.arange(e, dtype=experts.dtype, device=device_of(experts))
    chosen = xp.any(experts[:, :, None] == columns, axis=1)  # (N, E): e among row t's top k
    counts = xp.astype(chosen, probs.dtype)
    if attention_mask is None:
        f, p = xp.mean(counts, axis=0), xp.mean(probs, axis=0)  # (E,), (E,)
    else:
        m = _row_weights(attention_mask, rows, probs, xp=xp)  # (N, 1)
        total = xp.sum(m)
        f, p = xp.sum(counts * m, axis=0) / total, xp.sum(probs * m, axis=0) / total
    return xp.sum(f * p) * e


def _layers(router_logits: Any) -> list[Array]:
    """The per-layer logits: one array, or the arrays of a non-empty list or tuple."""
    if isinstance(router_logits, (list, tuple)):
        if not router_logits:
            msg = "`router_logits` must hold at least one layer's logits, got an empty sequence"
            raise ValueError(msg)
        for i, layer in enumerate(router_logits):
            check_array(layer, f"router_logits[{i}]")
        return list(router_logits)
    check_array(router_logits, "router_logits")
    return [router_logits]


def _check_layer(layer: Array, name: str, num_experts: int) -> None:
    """TypeError unless floating; ValueError unless shaped (..., E) with E = num_experts."""
    xp = namespace(layer, names=(name,))
    if not xp.isdtype(layer.dtype, "real floating"):
        msg = f"`{name}` must have a real floating dtype, got {layer.dtype}"
        raise TypeError(msg)
    if layer.ndim < 1 or layer.shape[-1] != num_experts:
        msg = (
            f"`{name}` must have shape (..., E) with E = num_experts = {num_experts}, got "
            f"{shape_str(layer.shape)}"
        )
        raise ValueError(msg)


def _row_weights(mask: Any, rows: list[Array], probs: Array, *, xp: Namespace) -> Array:
    """The mask as (N, 1) weights in the dtype of `probs`, repeated for each layer."""
    check_array(mask, "attention_mask")
    if namespace(mask, names=("attention_mask",)) is not xp:
        msg = (
            "`attention_mask` must be an array of the same framework as `router_logits`, got "
            f"{type(mask).__name__}"
        )
        raise TypeError(msg)
    size = 1
    for n in mask.shape:
        size *= n
    for i, layer in enumerate(rows):
        if layer.shape[0] != size:
            msg = (
                f"`attention_mask` must have T values, the rows of each layer's logits, got "
                f"shape {shape_str(mask.shape)} ({size} values) for {layer.shape[0]} rows in "
                f"layer {i}"
            )
            raise ValueError(msg)
    m = xp.reshape(xp.astype(mask, probs.dtype), (-1, 1))  # (T, 1)
    return xp.concat([m] * len(rows), axis=0) if len(rows) > 1 else m  # (N, 1)
