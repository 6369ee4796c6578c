"""What the decoding loops share: argument checks, a pytree map, writing one buffer column,
and the loop driver (a Python loop that stops early, or the backend's ``while_loop`` when the
values are traced by ``jax.jit``). Private to :mod:`mlprims.decoding`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from array_api_compat import device as device_of

from .. import backends
from .._array import (
    Array,
    Namespace,
    check_dtype,
    check_in_range,
    check_int,
    concrete_any,
    floating_namespace,
    index_dtype,
    namespace,
    shape_str,
)

__all__ = [
    "check_eos",
    "check_logits",
    "check_probability",
    "check_prompt",
    "check_step_logits",
    "is_eos",
    "run_steps",
    "tree_map",
    "write_column",
]

StepFn = Callable[[Array, Any, Any], tuple[Array, Any]]


def check_logits(logits: Array) -> Namespace:
    """The namespace of `logits`: floating, with a non-empty last axis (the vocabulary V)."""
    xp = floating_namespace(logits, "logits")
    if logits.ndim == 0 or logits.shape[-1] == 0:
        msg = (
            "`logits` must have a non-empty last axis (the vocabulary V), got "
            f"{shape_str(logits.shape)}"
        )
        raise ValueError(msg)
    return xp


def check_probability(p: object, name: str) -> float:
    """`p` in (0, 1]: 0 would remove every token."""
    return check_in_range(p, name, 0.0, 1.0, closed=(False, True))


def tree_map(fn: Callable[[Array], Array], tree: Any) -> Any:
    """`fn` applied to every array of a pytree of dicts, lists, tuples and None.

    ``jax.tree_util.tree_map`` for the containers a cache is made of, on every backend (NumPy
    and PyTorch have no pytrees). NamedTuples keep their type.
    """
    if tree is None:
        return None
    if isinstance(tree, dict):
        return {k: tree_map(fn, v) for k, v in tree.items()}
    if isinstance(tree, tuple) and hasattr(tree, "_fields"):
        return type(tree)(*(tree_map(fn, v) for v in tree))
    if isinstance(tree, (tuple, list)):
        return type(tree)(tree_map(fn, v) for v in tree)
    return fn(tree)


def check_prompt(prompt: Any) -> Namespace:
    """The namespace of `prompt`, a non-empty (B, P) integer array, or an error naming it."""
    xp = namespace(prompt, names=("prompt",))
    check_dtype(prompt, "prompt", "integral", xp=xp, why=" (token ids)")
    if prompt.ndim != 2:
        msg = f"`prompt` must have shape (B, P), got {shape_str(prompt.shape)}"
        raise ValueError(msg)
    if prompt.shape[0] == 0 or prompt.shape[1] == 0:
        msg = (
            f"`prompt` must hold at least one token per row (B, P >= 1), got "
            f"{shape_str(prompt.shape)}; start an unconditional row with a BOS token"
        )
        raise ValueError(msg)
    return xp


def check_eos(value: Any) -> tuple[int, ...]:
    """`eos_token_id`: None, one id or a sequence of ids (transformers' list: any of them
    ends a row), as a tuple (empty: no end)."""
    if value is None:
        return ()
    if isinstance(value, (list, tuple)):
        return tuple(check_int(v, "eos_token_id", minimum=0) for v in value)
    return (check_int(value, "eos_token_id", minimum=0),)


def is_eos(tokens: Array, eos: tuple[int, ...], *, xp: Namespace) -> Array:
    """True where a token is one of the `eos` ids (all False for none)."""
    hits = xp.zeros(tokens.shape, dtype=xp.bool, device=device_of(tokens))
    for token_id in eos:
        hits = hits | (tokens == token_id)
    return hits


def check_step_logits(logits: Any, rows: int, ids: dict[str, Any], *, xp: Namespace) -> int:
    """V, after checking that `step_fn` gave (rows, V) floating scores and that the token ids
    in `ids` lie in [0, V)."""
    check_dtype(logits, "logits returned by step_fn", "real floating", xp=xp)
    if logits.ndim != 2 or logits.shape[0] != rows or logits.shape[1] == 0:
        msg = (
            f"`step_fn` must return logits of shape (B, V) = ({rows}, V), got "
            f"{shape_str(logits.shape)}"
        )
        raise ValueError(msg)
    v = int(logits.shape[1])
    for name, value in ids.items():
        for token_id in value if isinstance(value, tuple) else (value,):
            if token_id is not None and token_id >= v:
                msg = f"`{name}` must be a token id in [0, V) = [0, {v}), got {token_id}"
                raise ValueError(msg)
    return v


def write_column(buffer: Array, index: Any, values: Array, *, xp: Namespace) -> Array:
    """`buffer` (..., T) with column `index` replaced by `values` (...), as a new array.

    ``index`` may be traced (``jax.jit``), so this is a ``where`` over an ``arange == index``
    mask, not an indexed assignment: every backend, no input written.
    """
    columns = xp.arange(buffer.shape[-1], dtype=index_dtype(xp), device=device_of(buffer))
    return xp.where(columns == index, xp.astype(values, buffer.dtype)[..., None], buffer)


def run_steps(
    step: Callable[[Any, Any], Any],
    state: Any,
    start: int,
    stop: int,
    done: Callable[[Any], Array],
    *,
    probe: Callable[[Any], Array],
    xp: Namespace,
) -> Any:
    """``state = step(index, state)`` for index in [start, stop) while not ``done(state)``.

    Eagerly a Python loop with an int `index` that stops as soon as ``done`` is true. When
    ``probe(state)`` (an array every input flows into) is traced by ``jax.jit``, the
    backend's ``while_loop`` instead (``lax.while_loop``: one traced body, `index` a traced
    integer), so the whole generation compiles once.
    """
    if start >= stop:
        return state
    if concrete_any(probe(state), xp=xp) is None:  # traced: a compiled loop
        backend = backends.of(probe(state))

        def cond(carry: tuple[Array, Any]) -> Array:
            index, inner = carry
            return (index < stop) & ~done(inner)

        def body(carry: tuple[Array, Any]) -> tuple[Array, Any]:
            index, inner = carry
            return index + 1, step(index, inner)

        first = xp.asarray(start, dtype=index_dtype(xp))
        return backend.while_loop(cond, body, (first, state))[1]
    for index in range(start, stop):
        if concrete_any(done(state), xp=xp):  # None (traced by a step_fn) runs on
            break
        state = step(index, state)
    return state
