"""The parameters and the KV cache of the tiny language model (:mod:`.lm` runs it)."""

from __future__ import annotations

import math
from typing import Any

from array_api_compat import device as device_of

from .. import backends, random
from .._array import (
    Array,
    check_float_dtype,
)
from .._layers import creation_target
from ._cache import init_cache
from .lm_config import LMConfig, check_config, kv_heads

__all__ = ["init_lm", "init_lm_cache"]


def init_lm(
    key: Array,
    config: LMConfig,
    *,
    dtype: Any = "float32",
    backend: str | backends.Backend | None = None,
) -> dict[str, Any]:
    """Parameters of :func:`lm`, initialised as GPT-2.

    Parameters
    ----------
    key : mlprims.random key
        Same key, same parameters on every backend.
    config : LMConfig
        The sizes.
    dtype : str or dtype
        Floating dtype of the parameters.
    backend : str or Backend, optional
        Where to create them; default the backend of `key`.

    Returns
    -------
    dict
        ``embed``, ``layers`` (a list of dicts), ``norm`` (see the module docstring).

    Notes
    -----
    Every matrix from N(0, 0.02²), the two that write into the residual stream (``wo``,
    ``w_down``) scaled by ``1 / sqrt(2 L)`` (GPT-2, Radford et al. 2019); RMSNorm weights ones.

    References
    ----------
    - https://huggingface.co/docs/transformers/model_doc/gpt2
    - Touvron et al. 2023, "LLaMA", https://arxiv.org/abs/2302.13971

    Examples
    --------
    >>> import mlprims
    >>> config = mlprims.LMConfig(vocab=50, d_model=16, n_heads=4, n_kv_heads=2)
    >>> p = mlprims.init_lm(mlprims.random.key(0), config)
    >>> p["embed"].shape, p["layers"][0]["wk"].shape, len(p["layers"])
    ((50, 16), (16, 8), 2)
    """
    check_config(config)
    key, target = creation_target(key, backend)
    xp = target.xp
    dtype = check_float_dtype(dtype, xp=xp)
    e, f, h = config.d_model, int(config.d_ff or 0), config.head_dim
    n, kv = config.n_heads, kv_heads(config)
    shapes = {
        "wq": (e, n * h),
        "wk": (e, kv * h),
        "wv": (e, kv * h),
        "wo": (n * h, e),
        "w_gate": (e, f),
        "w_up": (e, f),
        "w_down": (f, e),
    }
    residual = 1.0 / math.sqrt(2 * config.n_layers)
    keys = random.split(key, config.n_layers + 1)

    def normal(k: Array, shape: tuple[int, ...], scale: float = 1.0) -> Array:
        return random.normal(k, shape, dtype=dtype) * (0.02 * scale)

    layers = []
    for i in range(config.n_layers):
        layer_keys = random.split(keys[i + 1, :], len(shapes))
        layer = {
            name: normal(layer_keys[j, :], s, residual if name in ("wo", "w_down") else 1.0)
            for j, (name, s) in enumerate(shapes.items())
        }
        device = device_of(layer["wq"])
        layer["attn_norm"] = xp.ones((e,), dtype=dtype, device=device)
        layer["mlp_norm"] = xp.ones((e,), dtype=dtype, device=device)
        layers.append(layer)
    embed = normal(keys[0, :], (config.vocab, e))
    return {"embed": embed, "layers": layers, "norm": xp.ones((e,), dtype=dtype)}


def init_lm_cache(
    config: LMConfig,
    batch: int,
    *,
    capacity: int | None = None,
    dtype: Any = "float32",
    backend: str | backends.Backend | None = None,
) -> dict[str, Any]:
    """An empty KV cache for :func:`lm` and :func:`lm_step_fn`.

    Parameters
    ----------
    config : LMConfig
        The sizes.
    batch : int
        B, the rows decoded together.
    capacity : int, optional
        C <= ``max_len``, the positions it holds (default ``max_len``). Attention reads all C
        slots at every step, so a cache as long as the sequence decoded, not the model's
        longest (131072 for Llama 3), is what keeps decoding fast.
    dtype : str or dtype
        The parameters' dtype.
    backend : str or Backend, optional
        Where to create it (default: see :func:`mlprims.use`).

    Returns
    -------
    dict
        ``layers``: one ``{"k", "v"}`` per block, each (B, K, C, H) zeros; ``length``: (B,)
        zeros, the tokens held.

    References
    ----------
    - Decoding with a KV cache: https://huggingface.co/docs/transformers/kv_cache

    Examples
    --------
    >>> import mlprims
    >>> config = mlprims.LMConfig(vocab=50, d_model=16, n_heads=4, max_len=32)
    >>> cache = mlprims.init_lm_cache(config, 3)
    >>> cache["layers"][0]["k"].shape, cache["length"].tolist()
    ((3, 4, 32, 4), [0, 0, 0])
    >>> mlprims.init_lm_cache(config, 3, capacity=10)["layers"][0]["k"].shape
    (3, 4, 10, 4)
    """
    check_config(config)
    return init_cache(config, batch, capacity, dtype=dtype, backend=backend)
