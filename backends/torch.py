"""The PyTorch backend: eager by default, ``torch.compile`` when asked.

``xp`` is ``array_api_compat.torch``, which gives torch the standard's names and signatures.
Differences from the standard that matter to us and are handled here or in the primitives:
``torch.topk`` breaks ties arbitrarily; indices must be int64 for ``take_along_axis``; there is
no uint32 addition (``mlprims.random`` emulates 32-bit words in int64).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import array_api_compat.torch
import numpy as np
import torch

from ._common import (
    check_segment_sum,
    check_top_k,
    fori_loop_python,
    top_k_from_threshold,
    while_loop_python,
)

__all__ = [
    "asarray",
    "blocked",
    "erf",
    "fast_scatter",
    "fori_loop",
    "fuses",
    "jit",
    "name",
    "segment_sum",
    "sigmoid",
    "stop_gradient",
    "to_numpy",
    "top_k",
    "uint32_arithmetic",
    "while_loop",
    "xp",
]

#: The array API namespace: NumPy/torch with the standard's names filled in by array-api-compat.
xp: Any = array_api_compat.torch

name = "torch"

# Capabilities (the Backend protocol): what primitives ask instead of the name.
fuses = False
fast_scatter = True  # index_add_
uint32_arithmetic = False  # uint32 has no + or * in torch: words are emulated in int64
blocked = False


def asarray(obj: Any, /, dtype: Any = None, device: Any = None) -> torch.Tensor:
    """``torch.asarray``; `dtype` may be a name (``"float32"``); NumPy dtypes are kept."""
    if isinstance(dtype, str):
        dtype = getattr(xp, dtype)
    if isinstance(obj, np.ndarray) and not obj.flags.writeable:
        obj = obj.copy()  # torch warns on read-only buffers
    return xp.asarray(obj, dtype=dtype, device=device)


def to_numpy(x: Any, /) -> np.ndarray:
    """A NumPy copy; bfloat16 (which NumPy lacks) comes back as float32."""
    x = x.detach().cpu()
    if x.dtype == torch.bfloat16:
        x = x.float()
    return x.numpy()


def jit(
    fn: Callable[..., Any], /, static_argnames: Sequence[str] = (), *, compile: bool = False
) -> Callable[..., Any]:
    """Identity unless `compile`: then ``torch.compile(fn)`` (it needs no static argument list,
    it specialises on Python values by itself)."""
    return torch.compile(fn) if compile else fn


fori_loop = fori_loop_python
while_loop = while_loop_python


def top_k(x: torch.Tensor, k: int, /) -> tuple[torch.Tensor, torch.Tensor]:
    """The k largest values along the last axis and their indices; lower index first on ties.

    ``torch.topk`` is fast but returns an arbitrary choice among equal values (top-2 of
    [1, 3, 3, 2, 3] may be [2, 4]); we keep only its k-th value and let the shared tie rule
    pick the elements.
    """
    k = check_top_k(x, k)
    kth = torch.topk(x, k, dim=-1, sorted=True).values[..., k - 1 : k]
    return top_k_from_threshold(x, kth, k, xp=xp)


def segment_sum(
    data: torch.Tensor, segment_ids: torch.Tensor, num_segments: int, /
) -> torch.Tensor:
    """``out[s] = sum(data[i] for i where segment_ids[i] == s)``; ids out of range are dropped."""
    num_segments = check_segment_sum(data, segment_ids, num_segments)
    valid = (segment_ids >= 0) & (segment_ids < num_segments)
    out = torch.zeros((num_segments, *data.shape[1:]), dtype=data.dtype, device=data.device)
    if not bool(valid.all()):  # copy out the valid rows only when some are not
        segment_ids, data = segment_ids[valid], data[valid]
    # In place into our own fresh buffer, never into an input.
    return out.index_add_(0, segment_ids.to(torch.int64), data)


def stop_gradient(x: torch.Tensor, /) -> torch.Tensor:
    """``x.detach()``: the same storage, outside the autograd graph."""
    return x.detach()


def erf(x: torch.Tensor, /) -> torch.Tensor:
    """``torch.special.erf``: one fused kernel (the portable erf is ~50 eager passes)."""
    return torch.special.erf(x)


def sigmoid(x: torch.Tensor, /) -> torch.Tensor:
    """``torch.sigmoid``: one kernel, six times faster than torch's CPU tanh of the portable
    formula."""
    return torch.sigmoid(x)
