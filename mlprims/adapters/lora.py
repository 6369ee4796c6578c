"""LoRA: a frozen linear layer plus a trained low-rank update; re-exported by :mod:`mlprims`.

Shape legend: ``...`` leading axes of the input, D_in and D_out the widths of the linear layer
(its weight is (D_in, D_out), ``y = x @ w + b``), r the rank of the adapter. The adapter is a
dict ``{"A": (D_in, r), "B": (r, D_out)}``; peft keeps the transposes, ``lora_A.weight``
(r, D_in) = A.T and ``lora_B.weight`` (D_out, r) = B.T (:func:`~mlprims.from_peft` converts).

The branch is computed as ``(x @ A) @ B``, never as ``x @ (A @ B)``: r (D_in + D_out)
multiplications per row instead of D_in D_out, the update matrix A @ B never formed, and the
order peft computes in (``lora_B(lora_A(x))``), so float32 results agree with it to rounding.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from array_api_compat import device as device_of

from .. import backends, random
from .._array import (
    Array,
    Namespace,
    check_array,
    check_bool,
    check_float_dtype,
    check_floating,
    check_in_range,
    check_int,
    check_same_framework,
    namespace,
    shape_str,
)
from .._layers import check_dropout, creation_target, dropout, linear
from ._mixed import alphas, per_row_update

__all__ = ["init_lora", "lora_linear", "merge_lora", "unmerge_lora"]


def init_lora(
    key: Array,
    in_features: int,
    out_features: int,
    r: int,
    *,
    dtype: Any = "float32",
    backend: str | backends.Backend | None = None,
) -> dict[str, Array]:
    """Parameters of a LoRA adapter, initialised like peft's ``LoraLayer``.

    Parameters
    ----------
    key : mlprims.random key
        Same key, same A on every backend.
    in_features : int
        D_in, the input width of the adapted linear layer.
    out_features : int
        D_out, its output width.
    r : int
        The rank of the adapter (peft's ``r``), >= 1.
    dtype : str or dtype
        Floating dtype of the parameters (default float32).
    backend : str or Backend, optional
        Where to create them; default the backend of `key`.

    Returns
    -------
    dict
        ``{"A": (D_in, r), "B": (r, D_out)}``: A drawn from U(-1/sqrt(D_in), 1/sqrt(D_in)),
        B zeros, so that the adapted layer starts as the frozen one.

    Notes
    -----
    peft draws ``lora_A.weight`` (r, D_in) with ``nn.init.kaiming_uniform_(a=sqrt(5))``
    (``init_lora_weights=True``, its default), whose bound is
    ``sqrt(3) * sqrt(2 / (1 + a**2)) / sqrt(fan_in) = 1 / sqrt(D_in)``, and zeroes
    ``lora_B.weight`` (Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language Models").
    A here is drawn from that same law with :mod:`mlprims.random` (torch's generator cannot
    be reproduced): the same distribution, other draws.

    References
    ----------
    - Hu et al. 2021, "LoRA", https://arxiv.org/abs/2106.09685
    - https://huggingface.co/docs/peft/package_reference/lora

    Examples
    --------
    >>> import mlprims
    >>> lora = mlprims.init_lora(mlprims.random.key(0), 16, 8, 4)
    >>> lora["A"].shape, lora["B"].shape, float(abs(lora["A"]).max()) <= 1 / 16**0.5
    ((16, 4), (4, 8), True)
    >>> float(abs(lora["B"]).max())
    0.0
    """
    check_array(key, "key")
    d_in = check_int(in_features, "in_features", minimum=1)
    d_out = check_int(out_features, "out_features", minimum=1)
    rank = check_int(r, "r", minimum=1)
    key, target = creation_target(key, backend)
    xp = target.xp
    dtype = check_float_dtype(dtype, xp=xp)
    bound = 1.0 / math.sqrt(d_in)  # kaiming_uniform_(a=sqrt(5)) over fan_in = D_in
    a = random.uniform(key, (d_in, rank), dtype=dtype, minval=-bound, maxval=bound)
    b = xp.zeros((rank, d_out), dtype=dtype, device=device_of(a))
    return {"A": a, "B": b}


def lora_linear(
    x: Array,
    weight: Array,
    bias: Array | None,
    lora: Mapping[str, Array],
    /,
    *,
    alpha: float,
    dropout_p: float = 0.0,
    key: Array | None = None,
    use_rslora: bool = False,
    adapter_ids: Array | None = None,
) -> Array:
    r"""A linear layer with a LoRA adapter: ``x @ weight + bias + (dropout(x) @ A) @ B * s``.

    Matches peft's ``LoraLayer`` (its ``lora.Linear`` forward, not merged): one active adapter,
    or, with `adapter_ids`, one of several adapters chosen per row of the batch (peft's
    mixed-batch inference, ``model(x, adapter_names=[...])``).

    Parameters
    ----------
    x : array, shape (..., D_in)
        Real floating input.
    weight : array, shape (D_in, D_out)
        The frozen weight, ``x @ weight`` (torch's ``nn.Linear.weight`` is ``weight.T``).
    bias : array of shape (D_out,), or None
        The frozen bias.
    lora : dict
        ``{"A": (D_in, r), "B": (r, D_out)}`` of one dtype, e.g. from :func:`init_lora` or
        :func:`~mlprims.from_peft`; with `adapter_ids`, n adapters stacked:
        ``{"A": (n, D_in, r), "B": (n, r, D_out)}``.
    alpha : float, or a sequence of n floats with `adapter_ids`
        peft's ``lora_alpha``: the update is scaled by ``s = alpha / r`` (one alpha per
        stacked adapter, or one for all).
    dropout_p : float
        peft's ``lora_dropout``, in [0, 1): dropout of the input of the LoRA branch only.
    key : mlprims.random key, optional
        Draws the dropout mask; required when `dropout_p` > 0.
    use_rslora : bool
        Scale by ``s = alpha / sqrt(r)`` instead (rank-stabilised LoRA).
    adapter_ids : integer array of shape (B,), optional
        For `x` of shape (B, ..., D_in): row b uses the stacked adapter ``adapter_ids[b]``, or
        none when it is -1 (peft's ``"__base__"``). Adapters of different ranks stack after
        padding A with zero columns and B with zero rows to the largest r, each alpha times
        r_max / r (or sqrt(r_max / r) with rsLoRA) so that its scaling is kept.

    Returns
    -------
    array, shape (..., D_out)
        In the dtype of ``x @ weight + bias``.

    Raises
    ------
    ValueError
        Shapes that do not fit (A's rows not D_in, B not (r, D_out), x not (..., D_in)), a
        `lora` without "A" and "B", `alpha` not finite, `dropout_p` outside [0, 1) or > 0
        without `key`; `adapter_ids` not (B,) or (eagerly) outside [-1, n), alphas not n.
    TypeError
        An argument that is not an array of the framework of `x` where one belongs, a
        non-floating array, `alpha` not a number, A and B of different dtypes.

    Notes
    -----
    ``y = x @ weight + bias + (drop(x) @ A) @ B * s``, with ``s = alpha / r`` (Hu et al. 2021,
    "LoRA: Low-Rank Adaptation of Large Language Models") or ``s = alpha / sqrt(r)`` when
    `use_rslora` (Kalajdzievski 2023, "A Rank Stabilization Scaling Factor for Fine-Tuning
    with LoRA"). ``drop`` is inverted dropout on the LoRA branch only, as peft's
    ``lora_dropout``: ``where(keep, x / (1 - p), 0)`` with
    ``keep = mlprims.random.bernoulli(key, 1 - p, x.shape)``; the frozen layer sees `x`
    itself. As in peft, the branch runs in the dtype of A (`x` is cast to it) and the sum is
    cast back to the dtype of the frozen layer's output.

    .. math:: y = x W + b + s\, \operatorname{drop}(x) A B, \qquad
              s = \alpha / r \;\text{ or }\; \alpha / \sqrt{r} \;\text{(rsLoRA)}.

    With `adapter_ids` each row gathers its own A and B and the branch is one batched matmul
    ``(drop(x_b) @ A[id_b]) @ B[id_b] * s[id_b]``, zero where ``id_b = -1``: no
    data-dependent shapes (jit-safe), where peft loops over the adapters present, indexing
    their sub-batches. Under ``jax.jit`` an id outside [-1, n) is not detected (JAX clamps
    the gather).

    References
    ----------
    - Hu et al. 2021, "LoRA", https://arxiv.org/abs/2106.09685
    - https://huggingface.co/docs/peft/package_reference/lora

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> x, w = np.array([[1.0, 2.0]]), np.eye(2)
    >>> lora = {"A": np.array([[1.0], [0.0]]), "B": np.array([[0.0, 1.0]])}  # r = 1
    >>> mlprims.lora_linear(x, w, None, lora, alpha=2.0).tolist()  # x @ w + (x @ A) @ B * 2
    [[1.0, 4.0]]

    Two adapters stacked, the second row without one:

    >>> stacked = {k: np.stack([v, 2 * v]) for k, v in lora.items()}  # (2, D_in, r), (2, r, D_out)
    >>> ids = np.array([1, -1])
    >>> mlprims.lora_linear(np.array([[1.0, 2.0], [1.0, 2.0]]), w, None, stacked, alpha=2.0,
    ...                     adapter_ids=ids).tolist()
    [[1.0, 10.0], [1.0, 2.0]]
    """
    xp = namespace(x, weight, bias, adapter_ids, names=("x", "weight", "bias", "adapter_ids"))
    a, b = _check_lora(weight, lora, xp=xp, stacked=adapter_ids is not None)
    check_floating(x, "x", xp=xp)
    d_in, d_out = weight.shape
    if x.ndim < 1 or x.shape[-1] != d_in:
        msg = (
            f"`x` must have shape (..., D_in) with D_in = weight.shape[0] = {d_in}, got "
            f"{shape_str(x.shape)} (mlprims' weight is (D_in, D_out): torch's nn.Linear.weight.T)"
        )
        raise ValueError(msg)
    if bias is not None:
        check_floating(bias, "bias", xp=xp)
        if tuple(bias.shape) != (d_out,):
            msg = f"`bias` must have shape (D_out,) = ({d_out},), got {shape_str(bias.shape)}"
            raise ValueError(msg)
    p = check_dropout(dropout_p, key, x)
    y = linear(x, weight, bias)  # (..., D_out), the frozen layer
    h = xp.astype(dropout(x, p, key, xp=xp), a.dtype, copy=False)  # (..., D_in)
    if adapter_ids is None:
        delta = (h @ a) @ b * _scaling(alpha, a.shape[1], use_rslora)  # (..., r), (..., D_out)
    else:
        scalings = [_scaling(one, a.shape[2], use_rslora) for one in alphas(alpha, a.shape[0])]
        delta = per_row_update(h, a, b, adapter_ids, scalings, xp=xp)
    return xp.astype(y + delta, y.dtype, copy=False)


def merge_lora(
    weight: Array, lora: Mapping[str, Array], /, *, alpha: float, use_rslora: bool = False
) -> Array:
    r"""The weight with the adapter folded in: ``weight + A @ B * s``.

    Matches peft's ``merge`` (``merge_and_unload``): ``x @ merge_lora(w, lora, alpha=alpha)
    + b`` equals :func:`lora_linear` without dropout, at the cost of one plain matmul.

    Parameters
    ----------
    weight : array, shape (D_in, D_out)
        The frozen weight (torch's ``nn.Linear.weight`` is ``weight.T``).
    lora : dict
        ``{"A": (D_in, r), "B": (r, D_out)}``.
    alpha : float
        peft's ``lora_alpha``: ``s = alpha / r``.
    use_rslora : bool
        ``s = alpha / sqrt(r)`` instead.

    Returns
    -------
    array, shape (D_in, D_out)
        A new array in the dtype of `weight`; `weight` itself is not modified.

    Notes
    -----
    .. math::

        W' = W + s\,A B, \qquad s = \frac{\alpha}{r} \ \Bigl(\text{rsLoRA: }
            \frac{\alpha}{\sqrt{r}}\Bigr), \quad A \in \mathbb{R}^{D_\text{in} \times r},
            \ B \in \mathbb{R}^{r \times D_\text{out}},

    ``W' = W + (A @ B) * s``; the product is formed in the dtype of A and B, the sum in the
    promoted dtype, then cast to the dtype of W (peft's ``get_delta_weight``, transposed).
    :func:`unmerge_lora` subtracts the same update.

    References
    ----------
    - Hu et al. 2021, "LoRA", https://arxiv.org/abs/2106.09685
    - https://huggingface.co/docs/peft/package_reference/lora

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> lora = {"A": np.array([[1.0], [0.0]]), "B": np.array([[0.0, 1.0]])}
    >>> merged = mlprims.merge_lora(np.eye(2), lora, alpha=2.0)
    >>> merged.tolist()
    [[1.0, 2.0], [0.0, 1.0]]
    >>> mlprims.unmerge_lora(merged, lora, alpha=2.0).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    return _merged(weight, lora, alpha, use_rslora, sign=1.0)


def unmerge_lora(
    weight: Array, lora: Mapping[str, Array], /, *, alpha: float, use_rslora: bool = False
) -> Array:
    r"""The weight with the adapter taken out again: ``weight - A @ B * s``.

    Matches peft's ``unmerge``; ``unmerge_lora(merge_lora(w, ...), ...)`` is `w` up to
    rounding.

    Parameters
    ----------
    weight : array, shape (D_in, D_out)
        A weight that `lora` was merged into by :func:`merge_lora`.
    lora : dict
        ``{"A": (D_in, r), "B": (r, D_out)}``.
    alpha : float
        peft's ``lora_alpha``: ``s = alpha / r``.
    use_rslora : bool
        ``s = alpha / sqrt(r)`` instead.

    Returns
    -------
    array, shape (D_in, D_out)
        A new array in the dtype of `weight`.

    Notes
    -----
    .. math::

        W = W' - s\,A B, \qquad s = \frac{\alpha}{r} \ \Bigl(\text{rsLoRA: }
            \frac{\alpha}{\sqrt{r}}\Bigr), \quad A \in \mathbb{R}^{D_\text{in} \times r},
            \ B \in \mathbb{R}^{r \times D_\text{out}}

    References
    ----------
    - Hu et al. 2021, "LoRA", https://arxiv.org/abs/2106.09685
    - https://huggingface.co/docs/peft/package_reference/lora

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> lora = {"A": np.array([[1.0], [0.0]]), "B": np.array([[0.0, 1.0]])}
    >>> mlprims.unmerge_lora(np.array([[1.0, 2.0], [0.0, 1.0]]), lora, alpha=2.0).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    return _merged(weight, lora, alpha, use_rslora, sign=-1.0)


def _merged(
    weight: Array, lora: Mapping[str, Array], alpha: Any, use_rslora: Any, *, sign: float
) -> Array:
    """``weight + sign * (A @ B) * s``, in the dtype of `weight`."""
    xp = namespace(weight, names=("weight",))
    a, b = _check_lora(weight, lora, xp=xp)
    s = _scaling(alpha, a.shape[1], use_rslora)
    delta = (a @ b) * (sign * s)  # (D_in, D_out)
    return xp.astype(weight + delta, weight.dtype, copy=False)


def _scaling(alpha: Any, rank: int, use_rslora: Any) -> float:
    """peft's ``scaling``: alpha / r, or alpha / sqrt(r) with rsLoRA."""
    alpha = check_in_range(alpha, "alpha", closed=(False, False))  # any finite number
    check_bool(use_rslora, "use_rslora")
    return alpha / math.sqrt(rank) if use_rslora else alpha / rank


def _check_lora(
    weight: Array, lora: Any, *, xp: Namespace, stacked: bool = False
) -> tuple[Array, Array]:
    """A (D_in, r) and B (r, D_out) of `lora` checked against `weight` (D_in, D_out); with
    `stacked`, n adapters: A (n, D_in, r) and B (n, r, D_out)."""
    check_floating(weight, "weight", xp=xp)
    if weight.ndim != 2:
        msg = f"`weight` must have shape (D_in, D_out), got {shape_str(weight.shape)}"
        raise ValueError(msg)
    if not isinstance(lora, Mapping):
        msg = (
            "`lora` must be a dict {'A': (D_in, r), 'B': (r, D_out)} (see init_lora), "
            f"got {type(lora).__name__}"
        )
        raise TypeError(msg)
    if "A" not in lora or "B" not in lora:
        msg = f"`lora` must have the keys 'A' and 'B', got {sorted(map(str, lora))}"
        raise ValueError(msg)
    a, b = lora["A"], lora["B"]
    for array, name in ((a, "lora['A']"), (b, "lora['B']")):
        check_same_framework(array, name, xp=xp, like="weight")
        check_floating(array, name, xp=xp)
    d_in, d_out = weight.shape
    n, lead = ("n, ", a.shape[:1]) if stacked else ("", ())  # the axis of stacked adapters
    if a.ndim != 2 + stacked or a.shape[-2] != d_in or a.shape[-1] < 1:
        msg = (
            f"`lora['A']` must have shape ({n}D_in, r) with D_in = weight.shape[0] = {d_in}, "
            f"got {shape_str(a.shape)} (peft's lora_A.weight is A.T)"
        )
        if stacked:
            msg += "; with adapter_ids, the adapters stacked along a first axis"
        raise ValueError(msg)
    rank = a.shape[-1]
    if tuple(b.shape) != (*lead, rank, d_out):
        msg = (
            f"`lora['B']` must have shape ({n}r, D_out) = {shape_str((*lead, rank, d_out))} "
            f"with r = lora['A'].shape[-1] and D_out = weight.shape[1], got "
            f"{shape_str(b.shape)} (peft's lora_B.weight is B.T)"
        )
        raise ValueError(msg)
    if a.dtype != b.dtype:
        msg = f"`lora['B']` must have the dtype of lora['A'] ({a.dtype}), got {b.dtype}"
        raise TypeError(msg)
    return a, b
