"""Backends: the few things the array API standard lacks, one small module per framework.

A primitive in :mod:`mlprims` is written once against the array API (``xp.matmul``,
``xp.exp``, ...). What the standard does not offer lives here, in one module per framework,
each exposing the same names (the :class:`Backend` protocol):

=====================  ===========================================================================
``name``               ``"numpy"``, ``"torch"``, ``"jax"`` or ``"array_api_strict"`` (for messages
                       and tables: a primitive never branches on it, it asks a capability)
``xp``                 the array API namespace of the framework
``fuses``              the framework compiles the program as a whole (XLA), fusing elementwise
                       passes and slices: no chunking for the cache (a loop would only unroll)
``fast_scatter``       ``segment_sum`` is one fast kernel (NumPy, torch); else a one-hot matmul is
                       faster (XLA on CPU) or keeps the work blockwise (Dask)
``uint32_arithmetic``  ``+``, ``*`` and shifts on uint32 (torch has none: words are emulated)
``blocked``            arrays are in blocks the backend schedules itself (Dask): not chunked again
``asarray``            create an array of this backend (``dtype`` may be a name, e.g. ``"float32"``)
``to_numpy``           copy an array of this backend into a NumPy array
``jit``                ``jax.jit`` on JAX, ``torch.compile`` on torch when asked, identity elsewhere
``fori_loop``          ``lax.fori_loop`` on traced JAX arrays, a Python loop elsewhere
``while_loop``         ``lax.while_loop`` on traced JAX arrays, a Python loop elsewhere
``top_k``              the k largest values along the last axis, ties broken by the lower index
``segment_sum``        sum rows sharing a segment id (``index_add_``, ``segment_sum``, ``add.at``)
``stop_gradient``      `x` cut from autodiff: ``detach`` on torch, ``lax.stop_gradient`` on JAX,
                       identity elsewhere (for state such as running statistics)
``erf``                error function: ``torch.special.erf``, ``jax.lax.erf``, portable elsewhere
``sigmoid``            logistic function: ``torch.sigmoid``, ``jax.nn.sigmoid``, portable elsewhere
=====================  ===========================================================================

Backend modules are imported lazily, so importing :mod:`mlprims` never imports a framework the
user has not installed; asking for a missing one raises an :class:`ImportError` that names the
extra to install.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

__all__ = [
    "NAMES",
    "Backend",
    "available",
    "get",
    "get_backend",
    "of",
    "use",
]

Array = Any

#: Backend name -> (module in this package, distribution that provides it, pip extra).
_MODULES: dict[str, tuple[str, str, str]] = {
    "numpy": ("numpy", "numpy", "mlprims"),
    "torch": ("torch", "torch", "mlprims[torch]"),
    "jax": ("jax", "jax", "mlprims[jax]"),
    "array_api_strict": ("strict", "array_api_strict", "mlprims[strict]"),
}
_ALIASES = {"np": "numpy", "pytorch": "torch", "strict": "array_api_strict"}

#: Scale-out backends, the same way: reached by name and from their arrays (:func:`of`), but
#: not in :data:`NAMES` (``mlprims check`` and the tests' ``xb`` do not run every primitive on
#: them; they serve the primitives that stream over rows, such as ``mlprims.kmeans``).
_SCALE_OUT: dict[str, tuple[str, str, str]] = {"dask": ("dask", "dask", "mlprims[dask]")}

#: Every backend mlprims knows, installed or not.
NAMES: tuple[str, ...] = tuple(_MODULES)


@runtime_checkable
class Backend(Protocol):
    """What every backend module provides (each module in this package satisfies it)."""

    name: str
    xp: Any
    fuses: bool
    fast_scatter: bool
    uint32_arithmetic: bool
    blocked: bool

    def asarray(self, obj: Any, /, dtype: Any = None, device: Any = None) -> Array:
        """An array of this backend from `obj` (an array of any backend, a scalar, nested lists).

        Parameters
        ----------
        obj : array_like
            The data.
        dtype : dtype or str, optional
            The result's dtype, or its name (``"float32"``); default: inferred from `obj`.
        device : optional
            The result's device; default: the framework's.

        Returns
        -------
        array
        """

    def to_numpy(self, x: Array, /) -> Any:
        """`x` as a NumPy array, for tests and printing (torch's bfloat16 becomes float32).

        Parameters
        ----------
        x : array of this backend

        Returns
        -------
        numpy.ndarray
        """

    def jit(
        self,
        fn: Callable[..., Any],
        /,
        static_argnames: Sequence[str] = (),
        *,
        compile: bool = False,
    ) -> Callable[..., Any]:
        """`fn` compiled where the backend compiles: ``jax.jit``, else `fn` itself.

        Parameters
        ----------
        fn : callable
            The function to compile.
        static_argnames : sequence of str
            Arguments of `fn` that are Python values fixed at trace time (JAX only).
        compile : bool
            torch only: ``torch.compile(fn)`` when True (default False: eager).

        Returns
        -------
        callable
            Called like `fn`.
        """

    def fori_loop(
        self, lower: int, upper: int, body: Callable[[Any, Any], Any], init: Any, /
    ) -> Any:
        """``for i in range(lower, upper): value = body(i, value)``; ``lax.fori_loop`` if traced.

        Parameters
        ----------
        lower, upper : int
            The range of ``i``.
        body : callable
            ``body(i, value) -> value``; on JAX it is traced once, so `value` must keep its
            shapes and dtypes.
        init : array or pytree of arrays
            The first `value`.

        Returns
        -------
        array or pytree of arrays
            The last `value` (`init` when the range is empty).
        """

    def while_loop(
        self, cond: Callable[[Any], Any], body: Callable[[Any], Any], init: Any, /
    ) -> Any:
        """``while cond(value): value = body(value)``; ``lax.while_loop`` if traced.

        Parameters
        ----------
        cond : callable
            ``cond(value) -> 0-d bool array``.
        body : callable
            ``body(value) -> value``, keeping the shapes and dtypes of `value` (JAX).
        init : array or pytree of arrays
            The first `value`.

        Returns
        -------
        array or pytree of arrays
            The first `value` for which `cond` is false.
        """

    def top_k(self, x: Array, k: int, /) -> tuple[Array, Array]:
        """The `k` largest values along the last axis, largest first, and their indices.

        Ties are broken the same way on every backend, the lower index first, with -0.0 and
        0.0 one value; NaN ranks above every number (as ``torch.topk`` and ``jax.lax.top_k``).

        Parameters
        ----------
        x : array, at least 1-d
        k : int
            In ``[1, x.shape[-1]]``.

        Returns
        -------
        values : array, shape ``(..., k)``, dtype of `x`
        indices : integer array, shape ``(..., k)``
            Positions along the last axis of `x`.
        """

    def segment_sum(self, data: Array, segment_ids: Array, num_segments: int, /) -> Array:
        """Sum the rows of `data` that share a segment id: ``out[s] = sum(data[segment_ids == s])``.

        Parameters
        ----------
        data : array, shape ``(n, ...)``
        segment_ids : integer array, shape ``(n,)``
            The segment of each row; ids outside ``[0, num_segments)`` are dropped.
        num_segments : int
            The number of segments, >= 0.

        Returns
        -------
        array, shape ``(num_segments, ...)``, dtype of `data`
            Zero for a segment with no rows.
        """

    def stop_gradient(self, x: Array, /) -> Array:
        """`x` with the same values, but no gradient flows through it.

        For state that is updated, never differentiated (batch norm's running statistics):
        torch updates such buffers outside autograd, and a result that kept the graph would
        grow memory each step and fail on the next ``backward()``.

        Parameters
        ----------
        x : array

        Returns
        -------
        array
            ``x.detach()`` on torch, ``jax.lax.stop_gradient(x)`` on JAX, `x` itself on NumPy
            and array_api_strict (no autodiff).
        """

    def erf(self, x: Array, /) -> Array:
        """The error function ``2/sqrt(pi) * integral_0^x exp(-t^2) dt``, elementwise.

        Not in the standard; the portable one (:func:`mlprims._special.erf`, Cody's rational
        approximations) is some fifty elementwise operations, fused under ``jax.jit`` but 50
        to 100 times slower than one kernel in eager torch. So torch and JAX use their own
        (``torch.special.erf``, ``jax.lax.erf``); NumPy, array_api_strict, Dask the portable.

        Parameters
        ----------
        x : array, real floating dtype

        Returns
        -------
        array, shape and dtype of `x`
            ``erf(+-inf) = +-1``, NaN stays NaN, ``erf(-0.0) = -0.0``; within 1e-15 in float64.
        """

    def sigmoid(self, x: Array, /) -> Array:
        """The logistic function ``1 / (1 + exp(-x))``, elementwise.

        Not in the standard: torch and JAX use their own kernel (torch's CPU sigmoid is six
        times faster than its tanh); NumPy, array_api_strict and Dask the portable
        ``0.5 * tanh(0.5 * x) + 0.5``, which never overflows (``exp(-x)`` does below -89).

        Parameters
        ----------
        x : array, real floating dtype

        Returns
        -------
        array, shape and dtype of `x`
            In [0, 1]; NaN stays NaN.
        """


def _canonical(name: str) -> str:
    if not isinstance(name, str):
        msg = f"a backend name must be a string, got {type(name).__name__}"
        raise TypeError(msg)
    canonical = _ALIASES.get(name, name)
    if canonical not in _MODULES and canonical not in _SCALE_OUT:
        msg = f"unknown backend {name!r}; expected one of {', '.join(NAMES)}"
        raise ValueError(msg)
    return canonical


def get(name: str | Backend) -> Backend:
    """The backend called `name`: ``"numpy"``, ``"torch"``, ``"jax"`` or ``"array_api_strict"``.

    A :class:`Backend` passes through unchanged, so ``backend=`` arguments accept either.

    Parameters
    ----------
    name : str or Backend
        A name of :data:`NAMES` or an alias (``"np"``, ``"pytorch"``, ``"strict"``).

    Returns
    -------
    Backend
        The backend module (imported on first use).

    Raises
    ------
    ValueError
        If `name` is not a backend mlprims knows.
    ImportError
        If the framework is not installed; the message names the extra to install.
    """
    if not isinstance(name, str):
        if isinstance(name, Backend):
            return name
        msg = f"`backend` must be a backend name or a Backend, got {type(name).__name__}"
        raise TypeError(msg)
    canonical = _canonical(name)
    module, distribution, extra = _MODULES.get(canonical) or _SCALE_OUT[canonical]
    if importlib.util.find_spec(distribution) is None:
        msg = (
            f"the {canonical!r} backend needs the {distribution!r} package, which is not "
            f"installed; install it with `pip install '{extra}'`"
        )
        raise ImportError(msg)
    backend: Backend = importlib.import_module(f"{__name__}.{module}")
    return backend


def available() -> list[str]:
    """The names of the backends whose framework is installed, in :data:`NAMES` order.

    Returns
    -------
    list of str
    """
    return [name for name, (_, dist, _) in _MODULES.items() if importlib.util.find_spec(dist)]


_default: list[str] = ["numpy"]


def get_backend() -> Backend:
    """The default backend: what creation functions use when given no ``backend=``.

    Returns
    -------
    Backend
        NumPy's unless changed with :func:`use`.
    """
    return get(_default[-1])


class use(contextlib.AbstractContextManager["use"]):
    """Set the default backend; also a context manager that restores the previous one.

    Parameters
    ----------
    name : str or Backend
        The new default, as for :func:`get`; checked at once (an unknown or missing backend
        raises here).

    Examples
    --------
    >>> import mlprims
    >>> mlprims.use("numpy")            # from now on
    <mlprims.use('numpy')>
    >>> with mlprims.use("numpy"):      # only inside the block
    ...     pass
    """

    def __init__(self, name: str | Backend) -> None:
        self.backend = get(name)  # fails early on unknown or missing backends
        self._previous = _default[-1]
        _default[-1] = self.backend.name

    def __enter__(self) -> use:
        return self

    def __exit__(self, *exc_info: object) -> None:
        _default[-1] = self._previous

    def __repr__(self) -> str:
        return f"<mlprims.use({self.backend.name!r})>"


def _name_of_array(x: Array) -> str | None:
    import array_api_compat as compat

    tests = (("numpy", compat.is_numpy_array), ("torch", compat.is_torch_array),
             ("jax", compat.is_jax_array), ("dask", compat.is_dask_array))  # fmt: skip
    for name, is_array in tests:
        if is_array(x):
            return name
    namespace = getattr(x, "__array_namespace__", None)
    if namespace is not None and compat.is_array_api_strict_namespace(namespace()):
        return "array_api_strict"
    return None


def of(*arrays: Array) -> Backend:
    """The backend of the given arrays (``None`` entries and Python scalars are skipped).

    Parameters
    ----------
    *arrays : array, Python scalar or None
        At least one array of a known backend; all arrays of the same one.

    Returns
    -------
    Backend

    Raises
    ------
    TypeError
        If no argument is an array of a known backend, or the arrays mix backends.
    """
    names = {n for n in map(_name_of_array, arrays) if n is not None}
    if len(names) == 1:
        return get(names.pop())
    if not names:
        kinds = ", ".join(type(a).__name__ for a in arrays)
        msg = f"expected arrays of one of the backends {', '.join(NAMES)}; got {kinds}"
        raise TypeError(msg)
    msg = f"arrays from different backends cannot be mixed: {', '.join(sorted(names))}"
    raise TypeError(msg)


def resolve(backend: str | Backend | None) -> Backend:
    """`backend` as a Backend; ``None`` means the default set by :func:`use`."""
    return get_backend() if backend is None else get(backend)
