"""A sparse mixture-of-experts feed-forward layer (Mixtral); re-exported by :mod:`mlprims`.

Shape legend: ``...`` leading axes of the input, T the number of tokens (their product), D the
model width, F the width of each expert's hidden layer, E the number of experts, k the experts
chosen per token (``top_k``). The parameters are a dict of four arrays in mlprims' (in, out)
layout: ``w_router`` (D, E), ``w_gate`` and ``w_up`` (E, D, F), ``w_down`` (E, F, D).

Dispatch (:mod:`._dispatch`) asks the backend of `x`. Where ``segment_sum`` is one fast kernel
(``fast_scatter``: NumPy, torch, both eager), the (token, expert) assignments are sorted by
expert and each expert runs on its own tokens, as transformers' loop over the experts does: on
one thread at T = 1024, D = 256, F = 512, E = 8, k = 2 that was about 5x faster on both
than the dense form. Elsewhere (JAX, array_api_strict, Dask) dispatch is dense: every expert on
every token, combined by a (T, E) matrix of gates, zero outside each token's k experts; no
shape depends on the routing, so it compiles under ``jax.jit``, at E / k times the FLOPs of
the chosen experts (4x for Mixtral's 8 experts, top 2) and an (E, T, F) hidden activation.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from .. import backends, random
from .._array import (
    Array,
    Namespace,
    check_array,
    check_float_dtype,
    check_floating,
    check_in_range,
    check_int,
    check_same_framework,
    namespace,
    shape_str,
)
from .._layers import creation_target
from ._common import check_top_k, route
from ._dispatch import dense, sorted_segments

__all__ = ["init_moe", "moe"]

#: The parameters of a layer, and their shapes in the legend's letters.
SHAPES = {"w_router": "(D, E)", "w_gate": "(E, D, F)", "w_up": "(E, D, F)", "w_down": "(E, F, D)"}


def init_moe(
    key: Array,
    d_model: int,
    d_ff: int,
    num_experts: int,
    *,
    std: float = 0.02,
    dtype: Any = "float32",
    backend: str | backends.Backend | None = None,
) -> dict[str, Array]:
    """Parameters of a mixture-of-experts layer, initialised like Hugging Face's Mixtral.

    Parameters
    ----------
    key : mlprims.random key
        Same key, same parameters on every backend.
    d_model : int
        D, the width of the tokens.
    d_ff : int
        F, the hidden width of each expert (Mixtral's ``intermediate_size``).
    num_experts : int
        E, the number of experts (Mixtral's ``num_local_experts``).
    std : float
        Standard deviation of every weight (Mixtral's ``initializer_range``, 0.02).
    dtype : str or dtype
        Floating dtype of the parameters (default float32).
    backend : str or Backend, optional
        Where to create them; default the backend of `key`.

    Returns
    -------
    dict
        ``{"w_router": (D, E), "w_gate": (E, D, F), "w_up": (E, D, F), "w_down": (E, F, D)}``,
        each drawn from N(0, std**2), as ``MixtralPreTrainedModel._init_weights`` draws the
        router and the experts.

    Notes
    -----
    The same law as transformers, other draws (torch's generator cannot be reproduced): four
    keys split from `key`, one per array, drawn with :func:`mlprims.random.normal`.

    References
    ----------
    - Jiang et al. 2024, "Mixtral of Experts", https://arxiv.org/abs/2401.04088
    - https://huggingface.co/docs/transformers/model_doc/mixtral

    Examples
    --------
    >>> import mlprims
    >>> params = mlprims.init_moe(mlprims.random.key(0), 8, 16, 4)
    >>> {name: w.shape for name, w in params.items()}
    {'w_router': (8, 4), 'w_gate': (4, 8, 16), 'w_up': (4, 8, 16), 'w_down': (4, 16, 8)}
    """
    check_array(key, "key")
    d = check_int(d_model, "d_model", minimum=1)
    f = check_int(d_ff, "d_ff", minimum=1)
    e = check_int(num_experts, "num_experts", minimum=1)
    scale = check_in_range(std, "std", 0.0, math.inf, closed=(True, False))
    key, target = creation_target(key, backend)
    dtype = check_float_dtype(dtype, xp=target.xp)
    keys = random.split(key, 4)
    shapes = {"w_router": (d, e), "w_gate": (e, d, f), "w_up": (e, d, f), "w_down": (e, f, d)}
    return {
        name: random.normal(keys[i, :], shape, dtype=dtype) * scale
        for i, (name, shape) in enumerate(shapes.items())
    }


def moe(params: Mapping[str, Array], x: Array, /, *, top_k: int) -> tuple[Array, Array]:
    r"""A sparse mixture-of-experts feed-forward layer: each token through its top-k experts.

    Matches Hugging Face's ``MixtralSparseMoeBlock`` (transformers 5) in evaluation mode.

    Parameters
    ----------
    params : dict
        ``{"w_router": (D, E), "w_gate": (E, D, F), "w_up": (E, D, F), "w_down": (E, F, D)}``
        in the dtype of `x`, from :func:`init_moe` or :func:`~mlprims.from_mixtral`.
    x : array, shape (..., D)
        Real floating tokens.
    top_k : int
        k, the experts each token goes through, in [1, E] (Mixtral's ``num_experts_per_tok``).

    Returns
    -------
    output : array, shape (..., D)
        In the dtype of `x`.
    router_logits : array, shape (T, E)
        ``x @ w_router`` with the leading axes flattened (T = their product), in the dtype of
        `x`: what Hugging Face's models return per layer, the input of
        :func:`~mlprims.load_balancing_loss`.

    Raises
    ------
    ValueError
        `top_k` outside [1, E], `params` without one of its four keys, shapes that do not fit
        the legend (a message shows the one expected).
    TypeError
        `x` or a parameter not a floating array of the framework of `x`, a parameter of
        another dtype, `params` not a mapping, `top_k` not an int.

    Notes
    -----
    For each token ``x_t`` (Jiang et al. 2024, "Mixtral of Experts"; Shazeer et al. 2017)::

        p_t  = softmax(x_t @ w_router)                    # over all E experts
        S_t  = the k experts of largest p_t               # ties: the lower index
        g_te = p_te / sum(p_tj for j in S_t) if e in S_t else 0
        y_t  = sum_e g_te * (silu(x_t @ w_gate[e]) * (x_t @ w_up[e])) @ w_down[e]

    that is, with :math:`S_t` the :math:`k` experts of largest :math:`p_{te}`:

    .. math::

        g_{te} = \frac{p_{te}}{\sum_{j \in S_t} p_{tj}} \ (e \in S_t), \qquad
        p_t = \operatorname{softmax}(x_t W^{\text{router}})

    .. math::

        y_t = \sum_{e \in S_t} g_{te} \bigl(\operatorname{silu}(x_t W^{\text{gate}}_e) \odot
            x_t W^{\text{up}}_e\bigr) W^{\text{down}}_e

    The chosen probabilities are renormalised to sum to 1 (Mixtral; ``norm_topk_prob``), and
    the top k are taken over the probabilities, as transformers does (over the logits it is
    the same set, up to ties made by rounding). Each expert is :func:`~mlprims.swiglu` with
    its own weights. The router's softmax and the gates are float32 for 16-bit `x`, else in
    its dtype (transformers takes the softmax in float32 at any precision: float64 results
    differ from it by float32's rounding of the gates, about 1e-7 relative). Ties between
    probabilities are broken towards the lower expert index; ``torch.topk``, which
    transformers calls, picks among equal values in an unspecified order, so on exact ties
    the two may choose different experts.

    On NumPy and torch each expert runs on the tokens that chose it; on JAX (``jax.jit``
    included), array_api_strict and Dask every expert runs on every token and is weighed by
    a gate that is zero unless chosen (see the module), so an expert that overflows to
    inf on a token it was not chosen for makes that token NaN there. transformers' router
    jitter (``router_jitter_noise``, training only) is not applied.

    References
    ----------
    - Shazeer et al. 2017, "Outrageously Large Neural Networks: The Sparsely-Gated
      Mixture-of-Experts Layer", https://arxiv.org/abs/1701.06538
    - Jiang et al. 2024, "Mixtral of Experts", https://arxiv.org/abs/2401.04088
    - https://huggingface.co/docs/transformers/model_doc/mixtral

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> params = mlprims.init_moe(mlprims.random.key(0), 4, 8, 3, dtype="float64")
    >>> x = np.random.default_rng(0).normal(size=(2, 5, 4))
    >>> y, logits = mlprims.moe(params, x, top_k=2)
    >>> y.shape, logits.shape
    ((2, 5, 4), (10, 3))
    >>> one = {k: w[:1] if k != "w_router" else w[:, :1] for k, w in params.items()}
    >>> bool(np.allclose(mlprims.moe(one, x, top_k=1)[0],
    ...                  mlprims.swiglu(x, one["w_gate"][0], one["w_up"][0], one["w_down"][0])))
    True
    """
    xp = namespace(x, names=("x",))
    check_floating(x, "x", xp=xp)
    w_router, w_gate, w_up, w_down = _check_params(params, x, xp=xp)
    e = w_router.shape[1]
    k = check_top_k(top_k, e)
    d = x.shape[-1]
    h = xp.reshape(x, (-1, d))  # (T, D)
    logits = h @ w_router  # (T, E)
    _, values, experts = route(logits, k, xp=xp)
    weights = values / xp.sum(values, axis=-1, keepdims=True)  # (T, k), each row sums to 1
    dispatch = sorted_segments if backends.of(x).fast_scatter else dense
    out = dispatch(h, weights, experts, w_gate, w_up, w_down, xp=xp)  # (T, D)
    out = xp.astype(out, x.dtype, copy=False)
    return xp.reshape(out, x.shape), logits


def _check_params(params: Any, x: Array, *, xp: Namespace) -> tuple[Array, Array, Array, Array]:
    """w_router (D, E), w_gate and w_up (E, D, F), w_down (E, F, D) of `params`, checked."""
    if not isinstance(params, Mapping):
        msg = (
            "`params` must be a dict {'w_router', 'w_gate', 'w_up', 'w_down'} (see init_moe), "
            f"got {type(params).__name__}"
        )
        raise TypeError(msg)
    missing = [name for name in SHAPES if name not in params]
    if missing:
        msg = f"`params` must have the keys {list(SHAPES)}, got {sorted(map(str, params))}"
        raise ValueError(msg)
    for name in SHAPES:
        w = params[name]
        where = f"params['{name}']"
        check_same_framework(w, where, xp=xp)
        check_floating(w, where, xp=xp)
        if w.dtype != x.dtype:
            msg = f"`{where}` must have the dtype of `x` ({x.dtype}), got {w.dtype}"
            raise TypeError(msg)
    w_router, w_gate, w_up, w_down = (params[name] for name in SHAPES)
    if w_router.ndim != 2 or w_router.shape[1] < 1:
        msg = f"`params['w_router']` must have shape (D, E), got {shape_str(w_router.shape)}"
        raise ValueError(msg)
    d, e = w_router.shape
    if x.ndim < 1 or x.shape[-1] != d:
        msg = (
            f"`x` must have shape (..., D) with D = params['w_router'].shape[0] = {d}, "
            f"got {shape_str(x.shape)}"
        )
        raise ValueError(msg)
    if w_gate.ndim != 3 or tuple(w_gate.shape[:2]) != (e, d):
        msg = (
            f"`params['w_gate']` must have shape (E, D, F) = ({e}, {d}, F), got "
            f"{shape_str(w_gate.shape)} (transformers' gate_up_proj is (E, 2 F, D): see "
            "from_mixtral)"
        )
        raise ValueError(msg)
    f = w_gate.shape[2]
    for name, w, want in (("w_up", w_up, (e, d, f)), ("w_down", w_down, (e, f, d))):
        if tuple(w.shape) != want:
            msg = (
                f"`params['{name}']` must have shape {SHAPES[name]} = {shape_str(want)}, got "
                f"{shape_str(w.shape)}"
            )
            raise ValueError(msg)
    return w_router, w_gate, w_up, w_down
