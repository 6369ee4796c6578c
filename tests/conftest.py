"""The cross-backend test harness.

Every test that takes the ``xb`` fixture runs once per backend under test:

==================  ============================================================================
``numpy``           NumPy arrays
``numpy_readonly``  NumPy arrays marked read-only: a primitive that writes into an input fails
``array_api_strict`` only the standard, without data-dependent shapes or boolean indexing
                    (JAX cannot trace them): anything else a primitive uses fails
``torch``           PyTorch tensors (CPU)
``jax``             JAX arrays, eager
``jax_jit``         JAX arrays, every public primitive traced by ``jax.jit`` (arrays traced,
                    everything else constant)
==================  ============================================================================

Choose a subset with ``MLPRIMS_BACKENDS=numpy,torch``. A backend whose framework is missing is
skipped with a reason naming it, except under ``CI`` where every backend must be installed and a
missing one fails; the same holds for ``pytest.importorskip`` (the only way a test file imports
torch or JAX): under ``CI`` its skip is a failure.

``jax_jit`` needs nothing from the test: while a test that takes ``xb`` (or ``xb_half``) runs in
that mode, every public function of ``mlprims`` and ``mlprims.random`` is replaced, in those
namespaces and in the test module's globals (``from mlprims import softmax``), by a wrapper that
calls it under ``jax.jit``: JAX arrays traced, everything else constant. This is
array-api-extra's ``lazy_xp_function`` (every public function is tagged below) and
``patch_lazy_xp_functions`` (run for every test, with ``mlprims`` and ``mlprims.random`` as
its ``lazy_xp_modules``). A test module tags private helpers to trace the same way with
``lazy_xp_function(helper)``; ``xb.run(fn, ...)`` traces any other callable (a lambda) with
:func:`mlprims.testing.jit.autojit`, the one piece array-api-extra keeps private. A test
of what only eager arrays can do (errors that read array values) is marked
``@pytest.mark.eager_only(reason=...)``: nothing is wrapped for it, and it still runs.
Eager JAX runs one test of each test class (the first collected, with its first parameter
set; a test function outside a class is its own group; ``MLPRIMS_EAGER_JAX=all``: every test),
and an eighth of a hypothesis test's examples: the others run on every other backend,
``jax_jit`` included.
A test that one backend covers for the others (eager JAX running the code ``jax_jit`` compiles,
at seconds per call) is marked ``@pytest.mark.backends("numpy", ..., reason=...)`` or
``@pytest.mark.backends(exclude=("jax",), reason=...)``: it is generated for those backends
only, so nothing is skipped.

array_api_strict runs with ``data_dependent_shapes=False`` and ``boolean_indexing=False`` for
the whole session, so the rule "no output shape may depend on array values" is checked off JAX.

JAX runs with ``jax_enable_x64`` on in the tests (set here, in the test setup, never by the
library) so that float64 agreement can be checked; tests that need JAX's 32-bit defaults use the
``jax_without_x64`` fixture.

Hypothesis profiles: ``ci`` (derandomized), ``dev`` (few examples, the default outside CI) and
``thorough``; choose with ``MLPRIMS_HYPOTHESIS_PROFILE``. Tests never set ``max_examples``
themselves (``tests/test_harness.py`` checks).
"""

from __future__ import annotations

import functools
import importlib.util
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import FunctionType, ModuleType
from typing import Any

import numpy as np
import pytest
from array_api_extra.testing import lazy_xp_function, patch_lazy_xp_functions
from hypothesis import HealthCheck, settings

import mlprims
import mlprims.backends
from mlprims.testing import to_numpy
from mlprims.testing.jit import autojit

ALL_BACKENDS = ("numpy", "numpy_readonly", "array_api_strict", "torch", "jax", "jax_jit")
JAX_CACHE = "MLPRIMS_TEST_JAX_CACHE"  # the run's persistent compilation cache (a folder)
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
    # The tests compile thousands of tiny XLA programs (eager JAX: one per operation and
    # shape), so compiling is most of their time. For the tests' tiny arrays, XLA's CPU
    # compiler is set for compile time, not run time: LLVM at optimization level 0, and the
    # elemental IR emitters instead of the MLIR fusion emitters (26 ms -> 16 ms per operation;
    # the attention tests on JAX 66 s -> 43 s). XLA's HLO passes, and so the arithmetic, stay.
    if "xla_backend_optimization_level" not in os.environ.get("XLA_FLAGS", ""):
        fast_compile = "--xla_backend_optimization_level=0 --xla_cpu_use_fusion_emitters=false"
        os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {fast_compile}".strip()
    import jax

    jax.config.update("jax_enable_x64", True)  # test setup only: float64 agreement needs it

if importlib.util.find_spec("array_api_strict") is not None:
    import array_api_strict

    # What JAX cannot trace (unique, nonzero, x[mask], ...) fails on array_api_strict too.
    array_api_strict.set_array_api_strict_flags(data_dependent_shapes=False, boolean_indexing=False)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "eager_only(reason): in jax_jit mode, call the primitives eagerly (nothing is wrapped "
        "by jax.jit); for checks that read array values, which a trace cannot",
    )
    config.addinivalue_line(
        "markers",
        "backends(*names, exclude=(), reason): the test runs only on these backends, or on all "
        "but `exclude` (the `xb` fixture is parametrized over them alone: nothing is skipped); "
        "`reason` says where the others are covered",
    )
    config.addinivalue_line(
        "markers",
        "long(seconds): the test runs for about that long; the longest are collected first, so "
        "that pytest-xdist starts them while the other workers take the short tests, not alone "
        "at the end",
    )
    _share_jax_compilations(config)


def _share_jax_compilations(config: pytest.Config) -> None:
    """JAX's persistent compilation cache in a temporary folder for this run, shared by the
    pytest-xdist workers (which inherit the variable), removed when the run ends: a program one
    worker compiled, the other loads. Every compilation is kept (JAX keeps those over 1 s).

    Entries are written in place, so a worker may read one the other is still writing: JAX
    then warns ("Error reading persistent compilation cache entry": a truncated compressed
    stream never decompresses) and compiles it itself. The warning is ignored. (JAX's file lock
    comes with a size limit, whose eviction scan reads every entry at each write.)
    """
    if importlib.util.find_spec("jax") is None:
        return
    config.addinivalue_line(
        "filterwarnings", "ignore:Error reading persistent compilation cache entry:UserWarning"
    )
    if not os.environ.get(JAX_CACHE):  # the controller, or a run without workers: it owns it
        folder = tempfile.mkdtemp(prefix="mlprims-jax-cache-")
        os.environ[JAX_CACHE] = folder
        config.add_cleanup(functools.partial(shutil.rmtree, folder, ignore_errors=True))
        config.add_cleanup(functools.partial(os.environ.pop, JAX_CACHE, None))
    jax.config.update("jax_compilation_cache_dir", os.environ[JAX_CACHE])
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Eager JAX once per test function (see :func:`_eager_jax_once`); then the tests marked
    ``long`` first, longest first (a stable sort: the others keep their order)."""
    if os.environ.get("MLPRIMS_EAGER_JAX", "once") != "all":
        kept, dropped = _eager_jax_once(items)
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = kept

    def seconds(item: pytest.Item) -> float:
        marker = item.get_closest_marker("long")
        return marker.args[0] if marker else 0.0

    items.sort(key=seconds, reverse=True)


def _eager_jax_once(items: list[pytest.Item]) -> tuple[list[pytest.Item], list[pytest.Item]]:
    """(kept, deselected): on eager JAX, one test of each test class runs, the first collected
    with its first parameter set (a test function outside a class is a group of its own);
    ``jax_jit`` and the other backends run them all.

    Eager JAX compiles every operation anew for each shape and dtype, about a second a test:
    it held 240 s of the suite's 650 s of test time, running, test after test, the code that
    numpy runs eagerly and jax_jit compiles (a test class is about one primitive). What only
    eager JAX does (the checks that read values, the Python loops of ``fori_loop``) runs in
    the first test; ``jax_jit``'s ``eager_only`` tests run JAX eagerly too.
    ``MLPRIMS_EAGER_JAX=all`` runs every test (as hypothesis' examples, EAGER_JAX_EXAMPLES).
    """
    seen: set[tuple[str, str]] = set()
    kept, dropped = [], []
    for item in items:
        params = getattr(item, "callspec", None)
        backend = params and (params.params.get("xb") or params.params.get("xb_half"))
        if backend == "jax":
            group = (str(item.path), item.cls.__name__ if item.cls else item.nodeid.split("[")[0])
            if group in seen:
                dropped.append(item)
                continue
            seen.add(group)
        kept.append(item)
    return kept, dropped


@pytest.hookimpl(tryfirst=True)  # before pytest reads the parametrize markers
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Restrict ``xb`` to the backends a ``@pytest.mark.backends`` marker names."""
    marker = metafunc.definition.get_closest_marker("backends")
    if marker is None or "xb" not in metafunc.fixturenames:
        return
    if not marker.kwargs.get("reason"):
        raise pytest.UsageError(f"{metafunc.definition.nodeid}: backends(...) needs a reason")
    chosen = set(marker.args or ALL_BACKENDS) - set(marker.kwargs.get("exclude", ()))
    unknown = sorted((set(marker.args) | set(marker.kwargs.get("exclude", ()))) - set(ALL_BACKENDS))
    if unknown:
        raise pytest.UsageError(f"{metafunc.definition.nodeid}: unknown backends {unknown}")
    names = [n for n in _selected() if n in chosen]
    # A parametrize marker on the test takes precedence over the fixture's own params.
    metafunc.definition.add_marker(
        pytest.mark.parametrize("xb", names, indirect=True, scope="session")
    )


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
        return to_numpy(tree)

    def traced(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """`fn` as this mode runs it: under ``jax.jit`` on ``jax_jit`` (:func:`autojit`: JAX
        arrays traced, everything else constant), as it is elsewhere."""
        if not self.is_jit or hasattr(fn, "__wrapped__"):  # already a wrapper
            return fn
        return autojit(fn)

    def run(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call ``fn(*args, **kwargs)``; on ``jax_jit`` the arrays are traced, the rest constant.

        A public primitive is already traced in ``jax_jit`` mode, called directly or not; `run`
        is needed only for other callables (a lambda, a private helper).
        """
        return self.traced(fn)(*args, **kwargs)

    def __repr__(self) -> str:
        return self.name


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
    jax = pytest.importorskip("jax")
    with jax.enable_x64(False):
        yield


# ----------------------------------------------- eager JAX: the same properties, fewer shapes

#: Hypothesis examples on eager JAX, as a share of the profile's, at least 2 (ci 15 -> 2, dev
#: 8 -> 2): it compiles every operation anew for each drawn shape, about a second per example,
#: to run the code that numpy runs eagerly and jax_jit compiles, where the profile's count is
#: drawn. (A third, 5 in CI, held about 40 s of the suite's 6 minutes once the families grew.)
EAGER_JAX_EXAMPLES = 1 / 8


@pytest.fixture(autouse=True)
def _fewer_examples_on_eager_jax(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On eager JAX, a hypothesis test runs EAGER_JAX_EXAMPLES of its examples (derandomized
    under ``ci``: the first of the same sequence). Hypothesis reads a test's settings from its
    ``@given`` wrapper at each call, where the profile put them when the module was imported."""
    fixtures = [name for name in ("xb", "xb_half") if name in request.fixturenames]
    if not fixtures or request.getfixturevalue(fixtures[0]).name != "jax":
        return
    test = getattr(request.node.obj, "__func__", request.node.obj)  # a method's function
    chosen = getattr(test, "_hypothesis_internal_use_settings", None)
    if chosen is None:  # not a hypothesis test
        return
    examples = max(2, round(chosen.max_examples * EAGER_JAX_EXAMPLES))
    monkeypatch.setattr(
        test, "_hypothesis_internal_use_settings", settings(chosen, max_examples=examples)
    )


# ------------------------------------------------------ jax_jit: every public primitive traced

#: Public functions that are not primitives: get_backend reads the default backend, which a
#: trace would freeze; lm_step_fn returns a function (traced where it is called: generate,
#: xb.run), not arrays.
NOT_TRACED = ("get_backend", "lm_step_fn")

#: The public functions, by (namespace, name), as imported: what jax_jit mode wraps. Classes
#: (``BatchNormOutput``, ``use``) and submodules are not wrapped: they compute nothing.
PUBLIC_FUNCTIONS: dict[tuple[ModuleType, str], FunctionType] = {
    (namespace, name): getattr(namespace, name)
    for namespace in (mlprims, mlprims.random)
    for name in namespace.__all__
    if isinstance(getattr(namespace, name), FunctionType) and name not in NOT_TRACED
}
for _function in PUBLIC_FUNCTIONS.values():
    lazy_xp_function(_function)  # a tag: patch_lazy_xp_functions wraps what carries it


@pytest.fixture(autouse=True)
def _trace_primitives_in_jit_mode(request: pytest.FixtureRequest) -> Iterator[None]:
    """In ``jax_jit`` mode, array-api-extra's ``patch_lazy_xp_functions`` replaces every tagged
    function by a ``jax.jit`` wrapper for the test's duration: the public functions (tagged
    above) in the ``mlprims`` and ``mlprims.random`` namespaces (the ``lazy_xp_modules`` set
    here for every test module) and in the test module's globals, and the module's own
    helpers that it tags with ``lazy_xp_function``."""
    fixtures = [name for name in ("xb", "xb_half") if name in request.fixturenames]
    jit = bool(fixtures) and request.getfixturevalue(fixtures[0]).is_jit
    if not jit or request.node.get_closest_marker("eager_only") is not None:
        yield
        return
    module = request.module
    had = "lazy_xp_modules" in vars(module)
    saved = getattr(module, "lazy_xp_modules", [])
    module.lazy_xp_modules = [*saved, mlprims, mlprims.random]
    try:
        with patch_lazy_xp_functions(request, xp=jax.numpy):
            yield
    finally:
        if had:
            module.lazy_xp_modules = saved
        else:
            del module.lazy_xp_modules


# ---------------------------------------------------------- CI: a missing framework is a failure


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    _fail_if_a_framework_is_missing(report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Any:
    report = yield
    _fail_if_a_framework_is_missing(report)  # a module-level pytest.importorskip
    return report


def _fail_if_a_framework_is_missing(report: pytest.TestReport | pytest.CollectReport) -> None:
    """Under ``CI``, turn the skip of ``pytest.importorskip`` into a failure."""
    if not os.environ.get("CI") or not report.skipped:
        return
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    if "could not import" in reason:
        report.outcome = "failed"
        report.longrepr = f"CI must install every framework the tests import: {reason}"


# ------------------------------------------------- grading a learner's file: each family's tests


class Grader:
    """``mlprims grade`` run in this process on a learner's file written to `tmp_path`: what
    every family's practice tests do with their correct files and their classic mistakes."""

    def __init__(self, tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
        self.path, self.capsys = tmp_path / "learner.py", capsys

    def run(self, source: str, primitive: str, *options: str) -> tuple[int, str]:
        """The exit code and the report of grading `source` (6 examples a property)."""
        from mlprims.tools import cli

        self.path.write_text(source)
        args = ["grade", str(self.path), "--primitive", primitive, "--examples", "6"]
        code = cli.main([*args, "--in-process", *options])
        return code, self.capsys.readouterr().out

    @staticmethod
    def verdicts(out: str) -> dict[str, str]:
        """Each property's verdict in a report: ``{name: "passed" or "FAILED"}``."""
        rows = (
            re.match(r"^\s*(\S.*?)\s{2,}(passed|FAILED)(\s|$)", line) for line in out.splitlines()
        )
        return {row[1]: row[2] for row in rows if row}

    def passes_every_property(self, source: str, primitive: str) -> None:
        from mlprims.tools.practice import specs

        code, out = self.run(source, primitive)
        count = len(specs.spec(primitive).properties)
        assert code == 0, out
        assert len(self.verdicts(out)) == count, out
        assert set(self.verdicts(out).values()) == {"passed"}, out
        assert f"score: {count}/{count} properties passed (100%)" in out

    def catches(self, source: str, primitive: str, caught_by: str, hint: str) -> None:
        """Grading `source` fails, first at the property `caught_by`, with `hint` shown."""
        code, out = self.run(source, primitive, "--no-shrink")
        assert code == 1, out
        assert self.verdicts(out)[caught_by] == "FAILED", out
        assert f"first failure: {caught_by} (counterexample as drawn)" in out
        shown = next(line for line in out.splitlines() if line.startswith("  hint: "))
        assert hint in shown, shown


@pytest.fixture
def grader(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> Grader:
    return Grader(tmp_path, capsys)
