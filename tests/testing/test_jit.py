"""mlprims.testing.jit.autojit: jax.jit with everything but JAX arrays held constant."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pytest

from mlprims.testing.jit import autojit

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")


class Pair(NamedTuple):
    a: object
    b: object


def test_arrays_are_traced_anywhere_in_the_arguments() -> None:
    seen = []

    def f(pair, *, scale):
        seen.append(type(pair.a))
        return {"sum": pair.a * scale + pair.b[0]}

    out = autojit(f)(Pair(jnp.ones(2), [jnp.arange(2.0)]), scale=3.0)
    assert isinstance(seen[0], type) and issubclass(seen[0], jax.core.Tracer)
    np.testing.assert_array_equal(out["sum"], [3.0, 4.0])


def test_reading_a_traced_value_fails() -> None:
    with pytest.raises(jax.errors.ConcretizationTypeError):
        autojit(lambda x: x if float(x.sum()) > 0 else -x)(jnp.ones(2))


def test_constants_stay_python_values_and_are_told_apart_by_value() -> None:
    """0.0 and -0.0 are ==, 1 and True too: a trace made for one never serves the other."""
    traced = []

    def f(x, c):
        traced.append(c)
        return x * c, c

    g = autojit(f)
    x = jnp.asarray([-2.0])
    _, zero = g(x, 0.0)
    out, minus_zero = g(x, -0.0)
    g(x, 1)
    g(x, True)
    g(x, 0.0)  # the cached trace: no new one
    assert zero == 0.0 and type(zero) is float and not np.signbit(out[0])
    assert [type(c).__name__ for c in traced] == ["float", "float", "int", "bool"]
    assert np.signbit(minus_zero)


def test_numpy_arrays_and_callables_are_constants() -> None:
    table = np.array([1.0, 2.0])
    calls = []

    def f(x, fn, t):
        calls.append(type(t))
        return fn(x) + t.sum()

    out = autojit(f)(jnp.zeros(2), lambda v: v + 1, table)
    assert calls == [np.ndarray]  # readable inside the trace: not traced
    np.testing.assert_array_equal(out, [4.0, 4.0])


def test_the_wrapper_keeps_the_function() -> None:
    def f(x):
        """Doc."""
        return x

    g = autojit(f)
    assert g.__wrapped__ is f and g.__doc__ == "Doc." and g.__name__ == "f"
