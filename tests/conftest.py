"""The cross-backend test harness.

Every test that takes the ``xb`` fixture runs once per backend under test:

==================  ============================================================================
``numpy``           NumPy arrays
``numpy_readonly``  NumPy arrays marked read-only: a primitive that writes into an input fails
``array_api_strict`` only the standard: anything non-standard a primitive uses fails
``torch``           PyTorch tensors (CPU)
``jax``             JAX arrays, eager
``jax_jit``         JAX arrays, the primitive traced by ``jax.jit`` (arrays traced, options static)
==================  ============================================================================

Choose a subset with ``MLPRIMS_BACKENDS=numpy,torch``. A backend whose framework is missing is
skipped with a reason naming it, except under ``CI`` where every backend must be installed and a
missing one fails.

JAX runs with ``jax_enable_x64`` on in the tests (set here, in the test setup, never by the
library) so that float64 agreement can be checked; tests that need JAX's 32-bit defaults use the
``jax_without_x64`` fixture.

Hypothesis profiles: ``ci`` (derandomized), ``dev`` (few examples, the default outside CI) and
``thorough``; choose with ``MLPRIMS_HYPOTHESIS_PROFILE``.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

import mlprims.backends

ALL_BACKENDS = ("numpy", "numpy_readonly", "array_api_strict", "torch", "jax", "jax_jit")
_FRAMEWORK = {"numpy_readonly": "numpy", "jax_jit": "jax"}

settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    max_examples=15,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "dev", deadline=None, max_examples=8, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "thorough", deadline=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(
    os.environ.get("MLPRIMS_HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev")
)

if importlib.util.find_spec("jax") is not None:
    import jax

    jax.config.update("jax_enable_x64", True)  # test setup only: float64 agreement needs it


def _selected() -> list[str]:
    chosen = os.environ.get("MLPRIMS_BACKENDS")
    if not chosen:
        return list(ALL_BACKENDS)
    names = [n.strip() for n in chosen.split(",") if n.strip()]
    unknown = sorted(set(names) - set(ALL_BACKENDS))
    if unknown:
        raise pytest.UsageError(
            f"MLPRIMS_BACKENDS names unknown backends {unknown}; choose from {ALL_BACKENDS}"
        )
    return names


@dataclass(frozen=True)
class BackendUnderTest:
    """One backend as the tests see it: convert NumPy inputs in, run a primitive, convert back."""

    name: str
    backend: Any  # the mlprims.backends module

    @property
    def xp(self) -> Any:
        return self.backend.xp

    @property
    def is_jit(self) -> bool:
        return self.name == "jax_jit"

    def asarray(self, a: Any, dtype: Any = None) -> Any:
        """A backend array holding NumPy data `a` (read-only for ``numpy_readonly``)."""
        a = np.asarray(a) if dtype is None else np.asarray(a, dtype=dtype)
        if self.name == "numpy_readonly":
            a = a.copy()
            a.flags.writeable = False
            return a
        return self.backend.asarray(a)

    def to_numpy(self, tree: Any) -> Any:
        """NumPy copies of every array in `tree` (tuples, NamedTuples, lists, dicts)."""
        if isinstance(tree, tuple) and hasattr(tree, "_fields"):
            return type(tree)(*(self.to_numpy(t) for t in tree))
        if isinstance(tree, (tuple, list)):
            return type(tree)(self.to_numpy(t) for t in tree)
        if isinstance(tree, dict):
            return {k: self.to_numpy(v) for k, v in tree.items()}
        if tree is None or isinstance(tree, (int, float, str)):
            return tree
        return self.backend.to_numpy(tree)

    def run(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call ``fn(*args, **kwargs)``; on ``jax_jit`` the arrays are traced, the rest static."""
        if not self.is_jit:
            return fn(*args, **kwargs)
        return _jit_call(fn, args, kwargs)

    def __repr__(self) -> str:
        return self.name


def _jit_call(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Trace `fn` with every JAX array in `args`/`kwargs` as an argument and the rest constant."""
    leaves, tree = jax.tree_util.tree_flatten((args, kwargs))
    traced = [i for i, leaf in enumerate(leaves) if isinstance(leaf, jax.Array)]

    def call(*arrays: Any) -> Any:
        filled = list(leaves)
        for i, a in zip(traced, arrays, strict=True):
            filled[i] = a
        a, kw = jax.tree_util.tree_unflatten(tree, filled)
        return fn(*a, **kw)

    return jax.jit(call)(*(leaves[i] for i in traced))


def _make(name: str) -> BackendUnderTest:
    framework = _FRAMEWORK.get(name, name)
    try:
        backend = mlprims.backends.get(framework)
    except ImportError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI must install every backend: {exc}")
        pytest.skip(f"backend {name!r} is not installed here: {exc}")
    return BackendUnderTest(name, backend)


@pytest.fixture(scope="session", params=_selected())
def xb(request: pytest.FixtureRequest) -> BackendUnderTest:
    """The backend under test (see the module docstring)."""
    return _make(request.param)


@pytest.fixture(scope="session", params=[n for n in _selected() if n != "array_api_strict"])
def xb_half(request: pytest.FixtureRequest) -> BackendUnderTest:
    """The backends with float16 (the standard, and so array_api_strict, has none)."""
    return _make(request.param)


@pytest.fixture
def jax_without_x64() -> Iterator[None]:
    """Run a test with JAX's defaults (32-bit floats and int32 indices), as users have them."""
    if importlib.util.find_spec("jax") is None:
        pytest.skip("jax is not installed here")
    with jax.enable_x64(False):
        yield
