"""Drawing the next token: Hugging Face's warpers, then a Gumbel-max draw from a portable key.

The draw is :func:`mlprims.random.categorical` (``argmax(logits + gumbel(key))``), whose
Threefry numbers are the same on every backend, so one key picks the same token on NumPy,
PyTorch, JAX and under ``jax.jit`` (unless two perturbed scores agree to a few ulps).
"""

from __future__ import annotations

from .. import random
from .._array import Array
from ._common import check_logits
from .processors import apply_temperature, top_k_filter, top_p_filter

__all__ = ["sample_next_token", "warp_logits"]


def warp_logits(
    logits: Array, /, *, temperature: float = 1.0, top_k: int | None = None,
    top_p: float | None = None,
) -> Array:  # fmt: skip
    """Temperature, then top-k, then top-p: Hugging Face's order (used by :func:`generate`;
    not exported from :mod:`mlprims`)."""
    if temperature != 1.0:
        logits = apply_temperature(logits, temperature)
    else:
        apply_temperature(logits, temperature)  # the same checks of `logits`
    if top_k is not None:
        logits = top_k_filter(logits, top_k)
    if top_p is not None:
        logits = top_p_filter(logits, top_p)
    return logits


def sample_next_token(
    key: Array,
    logits: Array,
    /,
    *,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
) -> Array:
    """One token per row drawn from ``softmax(logits / temperature)`` after top-k and top-p.

    Parameters
    ----------
    key : array of shape (2,), uint32
        From :func:`mlprims.random.key`; use each key once (``fold_in`` a step number).
    logits : array (..., V), real floating
        Unnormalised scores of the next token.
    temperature : float
        Strictly positive (default 1).
    top_k : int, optional
        Keep the `top_k` largest scores and their ties (:func:`mlprims.top_k_filter`).
    top_p : float, optional
        In (0, 1]: keep the nucleus of mass `top_p` (:func:`mlprims.top_p_filter`).

    Returns
    -------
    integer array (...)
        The drawn token ids (the default index dtype).

    Notes
    -----
    ``categorical(key, top_p_filter(top_k_filter(logits / temperature, k), p))``: the warpers of
    Hugging Face's ``generate(do_sample=True, temperature=..., top_k=..., top_p=...)`` in its
    order, then Gumbel-max (Gumbel 1954; ``jax.random.categorical``) instead of
    ``torch.multinomial``, so the draw is the same on every backend.

    References
    ----------
    - Multinomial sampling: https://huggingface.co/docs/transformers/generation_strategies
    - https://jax.readthedocs.io/en/latest/_autosummary/jax.random.categorical.html

    Examples
    --------
    >>> import numpy as np, mlprims
    >>> logits = np.log(np.array([[0.1, 0.2, 0.7], [0.6, 0.3, 0.1]]))
    >>> mlprims.sample_next_token(mlprims.random.key(0), logits, top_k=1).tolist()
    [2, 0]
    """
    check_logits(logits)
    processed = warp_logits(logits, temperature=temperature, top_k=top_k, top_p=top_p)
    return random.categorical(key, processed, axis=-1)
