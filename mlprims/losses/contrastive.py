"""Contrastive losses over a batch of pairs: CLIP's symmetric cross-entropy on a similarity
matrix (Hugging Face transformers' ``contrastive_loss``), and InfoNCE on two batches of
embeddings, one or both directions.

Shape legend: ``N`` pairs (row ``i`` of one side matches row ``i`` of the other, every other
row is a negative), ``D`` embedding size.
"""

from __future__ import annotations

from array_api_compat import device as device_of

from .._array import (
    Array,
    Namespace,
    check_bool,
    check_in_range,
    floating_namespace,
    index_dtype,
    namespace,
    shape_str,
    statistics_dtype,
)
from .classification import cross_entropy

__all__: list[str] = ["clip_loss", "info_nce_loss"]

#: torch's F.normalize: a row is divided by max(||row||, NORM_EPS)
NORM_EPS = 1e-12


def clip_loss(logits_per_text: Array, /) -> Array:
    r"""CLIP's loss: the rows' and the columns' cross-entropies against the diagonal, averaged.

    Matches transformers' CLIP loss (the loss of ``CLIPModel(..., return_loss=True)``).

    Parameters
    ----------
    logits_per_text : array (N, N), real floating
        ``logits_per_text[i, j]``: the scaled similarity of text ``i`` and image ``j``
        (``logit_scale.exp() * text_embeds @ image_embeds.T`` in CLIPModel); pair ``i`` is
        the match of row ``i`` and column ``i``.

    Returns
    -------
    array, 0-d, in the dtype of `logits_per_text`

    Notes
    -----
    .. math::

        \mathcal{L} = -\frac{1}{2N} \sum_{i=1}^{N} \left( \log \frac{e^{L_{ii}}}{\sum_j e^{L_{ij}}}
            + \log \frac{e^{L_{ii}}}{\sum_j e^{L_{ji}}} \right),

    ``loss = (CE(L, arange(N)) + CE(L.T, arange(N))) / 2`` with ``CE`` the mean cross-entropy
    (:func:`mlprims.cross_entropy`): each text must pick its image among the ``N`` images, and
    each image its text (Radford et al. 2021). The same as
    ``transformers.models.clip.modeling_clip.image_text_contrastive_loss`` (``clip_loss``
    before transformers 5); the matrix is symmetric in role, so ``L.T`` gives the same loss.

    References
    ----------
    - Radford et al. 2021, "Learning Transferable Visual Models From Natural Language Supervision",
      https://arxiv.org/abs/2103.00020
    - https://huggingface.co/docs/transformers/model_doc/clip

    Examples
    --------
    >>> import numpy as np
    >>> float(clip_loss(np.array([[10.0, 0.0], [0.0, 10.0]])).round(6))
    4.5e-05
    """
    xp = floating_namespace(logits_per_text, "logits_per_text")
    shape = tuple(logits_per_text.shape)
    if len(shape) != 2 or shape[0] != shape[1] or shape[0] == 0:
        msg = (
            f"`logits_per_text` must be a square (N, N) matrix with N >= 1, "
            f"got shape {shape_str(shape)}"
        )
        raise ValueError(msg)
    return _symmetric(logits_per_text, xp=xp)


def info_nce_loss(
    a: Array, b: Array, /, *, temperature: float = 0.07, symmetric: bool = True
) -> Array:
    r"""InfoNCE on the cosine similarities of two batches of embeddings, one way or both.

    Both ways (`symmetric`) it is CLIP's loss; one way, the classic InfoNCE.

    Parameters
    ----------
    a, b : array (N, D), real floating
        Row ``i`` of `a` and row ``i`` of `b` are a positive pair (a text and its image, two
        views of one example); the other rows of the other side are its negatives.
    temperature : float > 0
        Divides the cosine similarities (0.07: CLIP's initial ``1 / logit_scale.exp()``).
    symmetric : bool
        Both directions, averaged (`a` picks among `b` and `b` among `a`), as CLIP; False: `a`
        picks among `b` only (van den Oord et al. 2018; SimCLR's NT-Xent without the
        same-side negatives).

    Returns
    -------
    array, 0-d, in the promoted dtype of `a` and `b`

    Notes
    -----
    With :math:`\tau` the `temperature`:

    .. math::

        L_{ij} = \frac{\hat a_i \cdot \hat b_j}{\tau}, \qquad
        \hat a_i = \frac{a_i}{\max(\lVert a_i \rVert_2, 10^{-12})}, \quad
        \hat b_j = \frac{b_j}{\max(\lVert b_j \rVert_2, 10^{-12})},

    .. math::

        \mathcal{L}_{a \to b} = -\frac{1}{N} \sum_i \log \frac{e^{L_{ii}}}{\sum_j e^{L_{ij}}},

        \mathcal{L}_{b \to a} = -\frac{1}{N} \sum_i \log \frac{e^{L_{ii}}}{\sum_j e^{L_{ji}}},

        \mathcal{L}_\text{sym} = \tfrac{1}{2} (\mathcal{L}_{a \to b} + \mathcal{L}_{b \to a}).

    Rows are L2-normalised as ``F.normalize`` does, ``x / max(||x||, 1e-12)``; then
    ``L = a_n @ b_n.T / temperature`` (N, N) and
    ``loss = CE(L, arange(N))`` or, symmetric, ``(CE(L, arange(N)) + CE(L.T, arange(N))) / 2``
    with ``CE`` :func:`mlprims.cross_entropy`, its mean over the rows: with `symmetric`,
    exactly :func:`clip_loss` of ``L`` (CLIPModel's loss with ``logit_scale.exp() = 1 /
    temperature``).

    References
    ----------
    - van den Oord et al. 2018, "Representation Learning with Contrastive Predictive Coding",
      https://arxiv.org/abs/1807.03748

    Examples
    --------
    >>> import numpy as np
    >>> a = np.array([[1.0, 0.0], [0.0, 2.0]])
    >>> float(info_nce_loss(a, a, temperature=0.5).round(4))
    0.1269
    """
    for name, x in (("a", a), ("b", b)):
        floating_namespace(x, name)
    xp = namespace(a, b, names=("a", "b"))
    if a.ndim != 2 or tuple(b.shape) != tuple(a.shape) or a.shape[0] == 0:
        msg = (
            f"`a` and `b` must be two (N, D) batches of one shape with N >= 1, got "
            f"{shape_str(a.shape)} and {shape_str(b.shape)}"
        )
        raise ValueError(msg)
    temperature = check_in_range(temperature, "temperature", 0.0, closed=(False, False))
    symmetric = check_bool(symmetric, "symmetric")

    dtype = xp.result_type(a.dtype, b.dtype)
    work = statistics_dtype(dtype, xp=xp)
    a_n, b_n = _normalized(xp.astype(a, work), xp=xp), _normalized(xp.astype(b, work), xp=xp)
    logits = (a_n @ xp.matrix_transpose(b_n)) / temperature  # (N, N) cosines / temperature
    loss = _symmetric(logits, xp=xp) if symmetric else _one_way(logits, xp=xp)
    return xp.astype(loss, dtype)


def _normalized(x: Array, *, xp: Namespace) -> Array:
    """Rows divided by ``max(||row||, 1e-12)`` (torch's F.normalize)."""
    norm = xp.sqrt(xp.sum(x * x, axis=-1, keepdims=True))  # (N, 1)
    return x / xp.clip(norm, min=NORM_EPS)


def _one_way(logits: Array, *, xp: Namespace) -> Array:
    """The mean cross-entropy of the rows of `logits` (N, N) against the diagonal."""
    labels = xp.arange(logits.shape[0], dtype=index_dtype(xp), device=device_of(logits))
    return cross_entropy(logits, labels)


def _symmetric(logits: Array, *, xp: Namespace) -> Array:
    """The rows' and the columns' mean cross-entropies, averaged (transformers' order)."""
    rows = _one_way(logits, xp=xp)
    columns = _one_way(xp.matrix_transpose(logits), xp=xp)
    return (rows + columns) / 2.0
