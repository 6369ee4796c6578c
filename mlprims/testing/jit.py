"""``autojit``: ``jax.jit`` for tests, every argument that is not a JAX array held constant.

The tests' ``jax_jit`` mode traces mlprims' public functions with array-api-extra's
``lazy_xp_function`` and ``patch_lazy_xp_functions`` (``tests/conftest.py``), which wrap the
functions a test module holds. What array-api-extra does not offer publicly is that wrapper
for an arbitrary callable, a lambda or a helper a test builds (``xb.run(fn, ...)``): its
``jax_autojit`` is private (``array_api_extra._lib._helpers``). This module is that one piece:

- the JAX arrays anywhere in the arguments (in tuples, lists, dicts, NamedTuples) are traced;
- everything else (options, Python numbers, NumPy arrays, callables) is a constant, part of
  the key of ``jax.jit``'s cache, compared by its pickled value: ``0.0`` and ``-0.0``, ``1``
  and ``True`` are different constants, which ``==`` would mix up; what cannot be pickled (a
  module, a lambda) equals only itself;
- results come back as the function returned them (any pytree of arrays and constants).

Like a user's own ``jax.jit`` around code that calls mlprims, reading an array's value inside
fails (``ConcretizationTypeError``): that is what the mode is for.
"""

from __future__ import annotations

import functools
import pickle
from collections.abc import Callable
from typing import Any

__all__ = ["autojit"]


def autojit(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn` under ``jax.jit``, its JAX-array arguments traced and everything else constant.

    Parameters
    ----------
    fn : callable
        Any function of arrays and options.

    Returns
    -------
    callable
        The same signature; one ``jax.jit`` cache for the wrapper's life (compiled once per
        array shapes and constants). ``wrapper.__wrapped__`` is `fn`.
    """
    jax = _jax()

    @jax.jit
    def trace(inputs: _Split) -> _Split:
        args, kwargs = inputs.rebuild()
        return _Split((fn(*args, **kwargs),))

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        (result,) = trace(_Split((args, kwargs))).rebuild()
        return result

    return call


@functools.cache
def _jax() -> Any:
    """JAX, imported at the first use (this module imports on any install), with
    :class:`_Split` registered as a pytree whose children are the arrays."""
    import jax

    jax.tree_util.register_pytree_node(
        _Split, lambda split: (split.arrays, split.constants), _Split.unflatten
    )
    return jax


class _Split:
    """An object taken apart for ``jax.jit``: its JAX arrays (traced) and everything else.

    A pytree whose children are the arrays; the rest travels in the pytree structure
    (:class:`_Constants`), where ``jax.jit`` keys its cache on it, as on static arguments.
    """

    def __init__(self, obj: Any) -> None:
        jax = _jax()
        leaves, tree = jax.tree_util.tree_flatten(obj)
        where = tuple(isinstance(leaf, jax.Array) for leaf in leaves)
        self.arrays = [leaf for leaf, is_array in zip(leaves, where, strict=True) if is_array]
        others = [leaf for leaf, is_array in zip(leaves, where, strict=True) if not is_array]
        self.constants = _Constants(tree, where, others)

    def rebuild(self) -> Any:
        """The object again, with the arrays it holds now (tracers inside the trace)."""
        arrays, others = iter(self.arrays), iter(self.constants.others)
        leaves = [next(arrays) if is_array else next(others) for is_array in self.constants.where]
        return _jax().tree_util.tree_unflatten(self.constants.tree, leaves)

    @classmethod
    def unflatten(cls, constants: _Constants, arrays: Any) -> _Split:
        """The pytree's rebuild from its structure and children."""
        split = cls.__new__(cls)
        split.arrays, split.constants = list(arrays), constants
        return split


class _Constants:
    """The structure and non-array leaves of a :class:`_Split`, compared by pickled value."""

    def __init__(self, tree: Any, where: tuple[bool, ...], others: list[Any]) -> None:
        self.tree, self.where, self.others = tree, where, others

    @functools.cached_property
    def _key(self) -> tuple[Any, ...]:
        return (self.tree, self.where, *map(_value_key, self.others))

    def __hash__(self) -> int:
        return hash(self._key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Constants) and self._key == other._key


class _Itself:
    """Equal only to a wrapper of the same object (what cannot be pickled)."""

    def __init__(self, obj: Any) -> None:
        self.obj = obj

    def __hash__(self) -> int:
        return id(self.obj)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Itself) and other.obj is self.obj


def _value_key(obj: Any) -> Any:
    try:
        return type(obj), pickle.dumps(obj)
    except Exception:  # pickle fails in many ways (modules, lambdas, local functions)
        return _Itself(obj)
