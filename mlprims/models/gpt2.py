"""GPT-2 from mlprims' primitives, in Hugging Face ``GPT2LMHeadModel``'s layout.

Architecture (tokens (B, T) -> logits (B, T, V)), Radford et al. 2019::

    x = wte[tokens] + wpe[positions]                       learned positions
    for each of the L blocks (pre-norm):
        q, k, v = split(layer_norm(x) @ c_attn + b)        one fused (E, 3E) projection
        x = x + attention(q, k, v, causal) @ c_proj + b
        x = x + gelu_tanh(layer_norm(x) @ c_fc + b) @ mlp_proj + b
    logits = layer_norm(x) @ wte.T                         the head tied to the embedding

Hugging Face stores GPT-2's linear layers as ``Conv1D`` with (in, out) weights, which is
mlprims' ``x @ w`` layout already: nothing is transposed. Decoding keeps a KV cache
(:func:`gpt2_step_fn`), the one of :func:`mlprims.lm` (``models/_cache.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from array_api_compat import device as device_of

from .. import backends
from .._array import Array, check_array, check_bool, check_int, index_dtype, namespace
from .._layers import linear, merge_heads, split_heads
from ..activations import gelu
from ..normalization import layer_norm
from ._cache import as_index, attend, continue_at, init_cache, key_mask, plan, step_function
from ._common import embed_rows

__all__ = ["GPT2Config", "gpt2", "gpt2_step_fn", "init_gpt2_cache"]


@dataclass(frozen=True)
class GPT2Config:
    """The sizes of a :func:`gpt2` model (hashable).

    Parameters
    ----------
    vocab : int
        V.
    d_model : int
        E (``n_embd``), divisible by `n_heads`.
    n_layers : int
        L (``n_layer``).
    n_heads : int
        N (``n_head``).
    max_len : int
        M (``n_positions``): the rows of the position table.
    d_ff : int
        The MLP's width (``n_inner``, default 4E).
    norm_eps : float
        ``layer_norm_epsilon``.
    """

    vocab: int
    d_model: int
    n_layers: int
    n_heads: int
    max_len: int
    d_ff: int
    norm_eps: float = 1e-5

    def __post_init__(self) -> None:
        for name in ("vocab", "d_model", "n_layers", "n_heads", "max_len", "d_ff"):
            object.__setattr__(self, name, check_int(getattr(self, name), name, minimum=1))
        if self.d_model % self.n_heads:
            msg = f"`d_model` ({self.d_model}) must be divisible by `n_heads` ({self.n_heads})"
            raise ValueError(msg)

    @property
    def head_dim(self) -> int:
        """H = E / N."""
        return self.d_model // self.n_heads

    @property
    def n_kv_heads(self) -> int:
        """K = N: GPT-2's keys and values have as many heads as its queries."""
        return self.n_heads


def gpt2(
    params: Mapping[str, Any],
    tokens: Array,
    /,
    *,
    config: GPT2Config,
    cache: Mapping[str, Any] | None = None,
    index: int | Array | None = None,
    attention_mask: Array | None = None,
    positions: Array | None = None,
    logits_to_keep: int = 0,
) -> tuple[Array, dict[str, Any] | None]:
    """GPT-2's logits for every token: ``GPT2LMHeadModel(tokens, attention_mask).logits``.

    Parameters
    ----------
    params : dict
        ``wte`` (V, E), ``wpe`` (M, E), ``layers`` (one dict per block: ``ln_1``/``ln_2``
        ``{"weight", "bias"}``, ``c_attn_w`` (E, 3E), ``c_attn_b``, ``c_proj_w`` (E, E),
        ``c_proj_b``, ``c_fc_w`` (E, F), ``c_fc_b``, ``mlp_proj_w`` (F, E), ``mlp_proj_b``),
        ``ln_f``.
    tokens : integer array, shape (B, T)
        T <= M.
    config : GPT2Config
        The sizes.
    cache : dict, optional
        From :func:`init_gpt2_cache` or a previous call: `tokens` continue the sequences it
        holds (as :func:`mlprims.lm`'s).
    index : int or 0-d integer array, optional
        The position of ``tokens[:, 0]`` (default 0, or ``cache["length"][0]``).
    attention_mask : boolean or 0/1 integer array, optional
        The tokens that count as keys (0: padding): (B, T), or with a cache (B, S) for its
        slots ``0 .. S - 1``.
    positions : integer array, shape (B, T), optional
        Rows of ``wpe`` (default ``index .. index + T - 1``, as transformers' forward).
    logits_to_keep : int
        Compute the logits of the last `logits_to_keep` positions only (default 0: all), as
        transformers' argument: decoding needs only the last, and the head (E x V) is the
        largest matmul of a prefill.

    Returns
    -------
    logits : array, shape (B, T, V)
        (B, k, V) for ``logits_to_keep = k``.
    cache : dict or None
        With a `cache`, this call's keys and values written into it; else None.

    References
    ----------
    - Radford et al. 2019, "Language Models are Unsupervised Multitask Learners",
      https://cdn.openai.com/better-language-models/language_models_are_unsupervised_multitask_learners.pdf
    - https://huggingface.co/docs/transformers/model_doc/gpt2
    """
    check_array(tokens, "tokens")
    xp = namespace(tokens, params["wte"], names=("tokens", "params['wte']"))
    batch, length = tokens.shape
    if length > config.max_len:
        msg = f"`tokens` has T = {length} tokens, over max_len = {config.max_len}"
        raise ValueError(msg)
    start, capacity = continue_at(cache, index, tokens, config, params["wte"].dtype, xp=xp)
    check_int(logits_to_keep, "logits_to_keep", minimum=0)
    keys = None
    if attention_mask is not None:
        keys = key_mask(attention_mask, tokens, capacity)
    if positions is None:
        steps = xp.arange(length, dtype=index_dtype(xp), device=device_of(tokens))
        positions = xp.broadcast_to(as_index(start, xp=xp, like=tokens) + steps, (batch, length))
    how = plan(start, length, capacity, keys=keys, window=None, xp=xp, like=tokens)
    e = config.d_model
    x = embed_rows(params["wte"], tokens, xp=xp) + embed_rows(params["wpe"], positions, xp=xp)
    new_layers = []
    for i, layer in enumerate(params["layers"]):
        h = layer_norm(x, e, layer["ln_1"]["weight"], layer["ln_1"]["bias"], eps=config.norm_eps)
        qkv = linear(h, layer["c_attn_w"], layer["c_attn_b"])  # (B, T, 3E)
        q, k, v = (
            split_heads(qkv[..., i * e : (i + 1) * e], config.n_heads, xp=xp) for i in range(3)
        )
        layer_cache = None if cache is None else cache["layers"][i]
        out, layer_cache = attend(q, k, v, layer_cache, how, xp=xp)
        new_layers.append(layer_cache)
        x = x + linear(merge_heads(out, xp=xp), layer["c_proj_w"], layer["c_proj_b"])
        h = layer_norm(x, e, layer["ln_2"]["weight"], layer["ln_2"]["bias"], eps=config.norm_eps)
        h = gelu(linear(h, layer["c_fc_w"], layer["c_fc_b"]), approximate="tanh")
        x = x + linear(h, layer["mlp_proj_w"], layer["mlp_proj_b"])
    if logits_to_keep:  # the head, the largest matmul, on the last positions only
        x = x[:, -logits_to_keep:, :]
    x = layer_norm(x, e, params["ln_f"]["weight"], params["ln_f"]["bias"], eps=config.norm_eps)
    logits = x @ xp.matrix_transpose(params["wte"])
    if cache is None:
        return logits, None
    filled = as_index(start, xp=xp, like=tokens) + length
    return logits, {"layers": new_layers, "length": xp.broadcast_to(filled, (batch,))}


def init_gpt2_cache(
    config: GPT2Config,
    batch: int,
    *,
    capacity: int | None = None,
    dtype: Any = "float32",
    backend: str | backends.Backend | None = None,
) -> dict[str, Any]:
    """An empty KV cache for :func:`gpt2`: as :func:`mlprims.init_lm_cache` (K = N heads).

    Parameters
    ----------
    config : GPT2Config
        The sizes.
    batch : int
        B.
    capacity : int, optional
        C <= M, the positions it holds (default M).
    dtype : str or dtype
        The parameters' dtype.
    backend : str or Backend, optional
        Where to create it (default: see :func:`mlprims.use`).

    Returns
    -------
    dict
        ``layers`` (one ``{"k", "v"}`` (B, N, C, H) per block) and ``length`` (B,).

    References
    ----------
    - Decoding with a KV cache: https://huggingface.co/docs/transformers/kv_cache
    """
    return init_cache(config, batch, capacity, dtype=dtype, backend=backend)


def gpt2_step_fn(
    params: Mapping[str, Any],
    config: GPT2Config,
    *,
    cached: bool = True,
    attention_mask: Array | None = None,
) -> Callable[[Array, Any, Any], tuple[Array, Any]]:
    """A step function of :func:`gpt2` for :func:`mlprims.generate`: the KV cache and the
    prompt's padding exactly as :func:`mlprims.lm_step_fn` (whose docstring tells them).

    Parameters
    ----------
    params : dict
        As :func:`gpt2` takes them.
    config : GPT2Config
        The sizes.
    cached : bool
        Decode with a KV cache (default); False recomputes the whole buffer at every step.
    attention_mask : boolean or 0/1 integer array, shape (B, P), optional
        The prompt's left padding: never attended to, and positions counted from each row's
        first token (transformers' generate); repeated for beams.

    Returns
    -------
    callable
        ``step_fn(tokens, cache, index) -> (logits (B, V), cache)``.

    References
    ----------
    - https://huggingface.co/docs/transformers/model_doc/gpt2
    - Decoding with a KV cache: https://huggingface.co/docs/transformers/kv_cache
    """
    check_bool(cached, "cached")

    def forward(tokens: Array, cache: Any, index: Any, padding: dict[str, Array]) -> Any:
        return gpt2(params, tokens, config=config, cache=cache, index=index, **padding)

    def new_cache(batch: int, capacity: int, backend: backends.Backend) -> dict[str, Any]:
        dtype = params["wte"].dtype
        return init_gpt2_cache(config, batch, capacity=capacity, dtype=dtype, backend=backend)

    wte = params["wte"]
    return step_function(forward, new_cache, wte, cached=cached, attention_mask=attention_mask)
