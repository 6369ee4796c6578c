"""The test harness itself (tests/conftest.py): modes nobody can forget.

* ``jax_jit`` traces every public primitive without the test asking: a primitive that reads an
  array value fails there, and no public function is left unwrapped;
* array_api_strict refuses data-dependent shapes;
* no test sets ``max_examples`` (the hypothesis profiles decide);
* torch and JAX are imported through ``pytest.importorskip`` only, and under ``CI`` its skip is
  a failure.
"""

from __future__ import annotations

import ast
import inspect
import os
import pathlib
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from array_api_extra.testing import lazy_xp_function
from hypothesis import given, settings
from hypothesis import strategies as st

import mlprims
from mlprims import random, softmax

TESTS = pathlib.Path(__file__).resolve().parent
OPTIONAL_FRAMEWORKS = ("torch", "jax", "array_api_strict")


def _sign_by_value(x):
    """A toy primitive that reads an array value, which a trace cannot."""
    xp = mlprims.backends.of(x).xp
    if float(xp.sum(x)) > 0:
        return x
    return -x


def _ones_by_value(n, *, backend=None):
    """A toy creation function that reads an array value it made."""
    xp = mlprims.backends.get(backend or mlprims.get_backend()).xp
    ones = xp.ones(n)
    return ones if float(xp.sum(ones)) > 0 else -ones


lazy_xp_function(_sign_by_value)  # array-api-extra's tag: traced like the public functions
lazy_xp_function(_ones_by_value)
NOT_PRIMITIVES = ("get_backend", "lm_step_fn")  # conftest.NOT_TRACED: they compute no arrays


def _public_functions() -> list[tuple[object, str]]:
    return [
        (namespace, name)
        for namespace in (mlprims, mlprims.random)
        for name in namespace.__all__
        if callable(getattr(namespace, name))
        and not inspect.isclass(getattr(namespace, name))  # BatchNormOutput, use
        and name not in NOT_PRIMITIVES
    ]


class TestJitMode:
    def test_reading_a_value_fails_only_under_jit(self, xb) -> None:
        """Called directly, as any test calls a primitive: jax_jit mode traces it."""
        x = xb.asarray(np.array([1.0, -3.0]))
        if xb.is_jit:
            jax = pytest.importorskip("jax")
            with pytest.raises(jax.errors.ConcretizationTypeError):
                _sign_by_value(x)
        else:
            np.testing.assert_array_equal(xb.to_numpy(_sign_by_value(x)), [-1.0, 3.0])

    def test_creating_jax_arrays_is_traced(self, xb) -> None:
        """No array argument: traced too; the NumPy arrays it makes inside the trace are
        concrete (readable), the JAX arrays are not."""
        assert _ones_by_value(2, backend="numpy").tolist() == [1.0, 1.0]
        if xb.is_jit:
            jax = pytest.importorskip("jax")
            with pytest.raises(jax.errors.ConcretizationTypeError):
                _ones_by_value(2, backend="jax")
            with mlprims.use("jax"), pytest.raises(jax.errors.ConcretizationTypeError):
                _ones_by_value(2)
        else:
            assert xb.to_numpy(_ones_by_value(2, backend=xb.backend.name)).tolist() == [1, 1]

    def test_run_and_traced_trace_any_callable(self, xb) -> None:
        x = xb.asarray(np.array([1.0, -3.0]))
        toy = _sign_by_value.__wrapped__ if xb.is_jit else _sign_by_value  # the original one
        if xb.is_jit:
            jax = pytest.importorskip("jax")
            with pytest.raises(jax.errors.ConcretizationTypeError):
                xb.run(toy, x)
            with pytest.raises(jax.errors.ConcretizationTypeError):
                xb.traced(lambda a: toy(a))(x)
        else:
            np.testing.assert_array_equal(xb.to_numpy(xb.run(toy, x)), [-1.0, 3.0])

    def test_every_public_function_is_traced(self, xb) -> None:
        assert len(_public_functions()) > 40
        for namespace, name in _public_functions():
            wrapped = hasattr(getattr(namespace, name), "__wrapped__")
            assert wrapped == xb.is_jit, f"{namespace.__name__}.{name}"
        # names imported into the test module, and through the random namespace, too
        assert hasattr(softmax, "__wrapped__") == xb.is_jit
        assert hasattr(random.normal, "__wrapped__") == xb.is_jit

    @pytest.mark.eager_only(reason="proves the marker: nothing wrapped")
    def test_eager_only_wraps_nothing(self, xb) -> None:
        assert not hasattr(softmax, "__wrapped__") and not hasattr(mlprims.softmax, "__wrapped__")
        x = xb.asarray(np.array([1.0, -3.0]))
        np.testing.assert_array_equal(xb.to_numpy(_sign_by_value(x)), [-1.0, 3.0])

    def test_outside_xb_tests_nothing_is_wrapped(self) -> None:
        assert not any(
            hasattr(getattr(ns, name), "__wrapped__") for ns, name in _public_functions()
        )

    def test_constants_are_told_apart(self, xb) -> None:
        """0.0 == -0.0 and 1 == True; a trace kept for one constant never serves the other."""
        x = xb.asarray(np.array([-2.0, 3.0]))
        plus = xb.to_numpy(mlprims.leaky_relu(x, negative_slope=0.0))
        minus = xb.to_numpy(mlprims.leaky_relu(x, negative_slope=-0.0))
        assert np.signbit(plus[0]) and not np.signbit(minus[0])  # -2 * 0.0 and -2 * -0.0
        mlprims.leaky_relu(x, negative_slope=1)
        with pytest.raises(TypeError, match="`negative_slope`"):
            mlprims.leaky_relu(x, negative_slope=True)


class TestStrictFlags:
    def test_no_data_dependent_shapes(self) -> None:
        xp = pytest.importorskip("array_api_strict")
        x = xp.asarray([1.0, 0.0, 2.0])
        with pytest.raises(RuntimeError, match="data-dependent"):
            xp.nonzero(x)
        with pytest.raises(RuntimeError, match="oolean"):
            x[x > 0]


def _test_files() -> list[pathlib.Path]:
    return sorted(p for p in TESTS.rglob("*.py") if p.name != "conftest.py")


def test_no_test_sets_max_examples() -> None:
    """The hypothesis profiles in conftest.py decide how many examples run, never a test."""
    offenders = [
        f"{path.relative_to(TESTS)}:{number}"
        for path in _test_files()
        if path != pathlib.Path(__file__).resolve()
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if "max_examples" in line
    ]
    assert not offenders, offenders


class TestEagerJaxExamples:
    @given(st.integers())
    def test_an_eighth_of_the_profiles_examples_on_eager_jax(self, xb, _: int) -> None:
        """conftest.EAGER_JAX_EXAMPLES: the settings hypothesis reads at this very call."""
        name = os.environ.get("MLPRIMS_HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev")
        profile = settings.get_profile(name).max_examples
        chosen = type(self).test_an_eighth_of_the_profiles_examples_on_eager_jax
        examples = chosen._hypothesis_internal_use_settings.max_examples
        assert examples == (max(2, round(profile / 8)) if xb.name == "jax" else profile)


def test_frameworks_are_imported_with_importorskip() -> None:
    """`import torch` fails where torch is missing; `pytest.importorskip("torch")` skips."""
    offenders = []
    for path in _test_files():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
            else:
                continue
            if any(m.split(".")[0] in OPTIONAL_FRAMEWORKS for m in modules):
                offenders.append(f"{path.relative_to(TESTS)}:{node.lineno}")
    assert not offenders, offenders


def test_under_ci_importorskip_fails(tmp_path: pathlib.Path) -> None:
    """A framework missing under CI fails the run, whether skipped in a test or at collection."""
    (tmp_path / "conftest.py").write_text((TESTS / "conftest.py").read_text())
    (tmp_path / "test_missing_at_top.py").write_text(
        'import pytest\nmissing = pytest.importorskip("mlprims_no_such_framework")\n'
        "def test_never_collected():\n    pass\n"
    )
    (tmp_path / "test_missing_inside.py").write_text(
        textwrap.dedent("""
        import pytest

        def test_missing_inside():
            pytest.importorskip("mlprims_no_such_framework")

        def test_other_skips_stay_skips():
            pytest.skip("not about a framework")
        """)
    )
    env = {**os.environ, "CI": "true", "MLPRIMS_BACKENDS": "numpy"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rA",
         "--continue-on-collection-errors", "--rootdir", str(tmp_path), "-c", os.devnull,
         str(tmp_path)],
        capture_output=True, text=True, cwd=tmp_path, env=env, check=False,
    )  # fmt: skip
    summary = result.stdout.strip().splitlines()[-1]
    assert "1 failed" in summary and "1 skipped" in summary and "1 error" in summary, (
        result.stdout + result.stderr
    )
    assert "CI must install every framework" in result.stdout


@pytest.mark.backends("numpy", "torch", reason="a test of the marker itself")
def test_backends_marker_restricts_the_fixture(xb) -> None:
    assert xb.name in ("numpy", "torch")


def test_no_test_skips_a_backend_by_hand() -> None:
    """A backend a test leaves out is left out by ``@pytest.mark.backends`` (never generated),
    not by ``pytest.skip`` inside it (reported as skipped in every run)."""
    offenders = [
        f"{path.relative_to(TESTS)}:{number}"
        for path in _test_files()
        if path != pathlib.Path(__file__).resolve()
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if "pytest.skip(" in line
    ]
    assert not offenders, offenders
