"""What the layers of several families share: a linear map, attention heads, parameter creation.

One place for the helpers that attention, the transformer layers and the models all need
(each was written two or three times before); within a family, helpers go in its
``_common.py``.
"""

from __future__ import annotations

from typing import Any

from . import backends, random
from ._array import Array, Namespace, check_array, check_in_range

__all__ = ["check_dropout", "creation_target", "dropout", "linear", "merge_heads", "split_heads"]


def check_dropout(dropout_p: Any, key: Any, x: Array, *, name: str = "dropout_p") -> float:
    """`dropout_p` in [0, 1), and a `key` array of the backend of `x` whenever it is > 0
    (`name`: the argument's name in the caller's signature)."""
    p = check_in_range(dropout_p, name, 0.0, 1.0, closed=(True, False))
    if p > 0.0:
        if key is None:
            msg = (
                f"`key` is required when `{name}` > 0 (got {name}={p}): pass "
                f"key=mlprims.random.key(seed), or {name}=0.0 for evaluation"
            )
            raise ValueError(msg)
        check_array(key, "key")
        want, got = backends.of(x).name, backends.of(key).name
        if want != got:
            msg = (
                f"`key` must live on the backend of the inputs ({want}), got a {got} key: "
                f"create it with mlprims.random.key(seed, backend={want!r})"
            )
            raise TypeError(msg)
    return p


def creation_target(key: Array, backend: str | Any | None) -> tuple[Array, Any]:
    """`key` (an :mod:`mlprims.random` key) moved to `backend` (default: the key's own), and
    that backend: where ``init_*`` functions create their parameters. The key's bits are the
    same on every backend, so moving it changes no draw."""
    check_array(key, "key")
    own = backends.of(key)
    target = own if backend is None else backends.get(backend)
    if target is not own:
        key = target.asarray(own.to_numpy(key))
    return key, target


def dropout(x: Array, p: float, key: Array | None, *, xp: Namespace) -> Array:
    """Zero each value with probability p, scale the kept ones by 1 / (1 - p) (``nn.Dropout``);
    the keep mask is ``mlprims.random.bernoulli(key, 1 - p, x.shape)``. `x` itself when p is 0
    or `key` None (`p` and `key` checked by :func:`check_dropout`)."""
    if p == 0.0 or key is None:
        return x
    keep = random.bernoulli(key, 1.0 - p, tuple(x.shape))
    return xp.where(keep, x / (1.0 - p), xp.zeros_like(x))


def linear(x: Array, w: Array, b: Array | None) -> Array:
    """x @ w + b, with w (d_in, d_out)."""
    y = x @ w
    return y if b is None else y + b


def split_heads(x: Array, heads: int, *, xp: Namespace) -> Array:
    """(B..., L, heads*D) -> (B..., heads, L, D)."""
    *batch, length, width = x.shape
    x = xp.reshape(x, (*batch, length, heads, width // heads))  # (B..., L, heads, D)
    nb = len(batch)
    return xp.permute_dims(x, (*range(nb), nb + 1, nb, nb + 2))  # (B..., heads, L, D)


def merge_heads(x: Array, *, xp: Namespace) -> Array:
    """(B..., N, T, D) -> (B..., T, N*D)."""
    *batch, heads, length, width = x.shape
    nb = len(batch)
    x = xp.permute_dims(x, (*range(nb), nb + 1, nb, nb + 2))  # (B..., T, N, D)
    return xp.reshape(x, (*batch, length, heads * width))
