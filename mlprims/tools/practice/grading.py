"""Grade a learner's function: load it from a file, run each property with hypothesis.

The learner's file is imported by path; its framework is the one it imports (torch, jax, else
NumPy), and its function receives every drawn array converted to that framework. Each property
runs a fixed, derandomized number of hypothesis examples; the first failure is shrunk by
hypothesis and recorded with its inputs, the expected and the learner's outputs, and the error.
"""

from __future__ import annotations

import ast
import contextlib
import importlib.util
import math
import sys
import traceback
import uuid
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

import mlprims.backends as backends

from ...testing import compare, to_numpy
from . import specs
from ._child import Graded, Verdict
from ._spec import Call, Draw, GradeError, Property, Spec

__all__ = [
    "EXAMPLES",
    "SCALE",
    "Failure",
    "GradeError",
    "Outcome",
    "detect_framework",
    "float64_jax",
    "grade",
    "grade_here",
    "load_function",
    "run_property",
    "verdict",
]

#: Hypothesis examples per property: few and derandomized, so grading takes seconds.
EXAMPLES = 25
#: The tolerance of :func:`mlprims.testing.compare`, the tests' own, times this (and a property's
#: scale): a learner's algorithm may round differently from the reference's (a loop for a matmul,
#: two passes for a shift) without being wrong.
SCALE = 50.0

_SETTINGS = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=False,
    report_multiple_bugs=False,
    suppress_health_check=list(HealthCheck),
    phases=(Phase.explicit, Phase.generate, Phase.shrink),
)


@dataclass(frozen=True)
class Failure:
    """The shrunk counterexample of a property and what went wrong on it."""

    case: Call
    expected: Mapping[str, Any]
    got: Mapping[str, Any] | None
    message: str
    error: float | None = None


@dataclass(frozen=True)
class Outcome:
    """A property's verdict: `failure` is None when it passed."""

    prop: Property
    failure: Failure | None

    @property
    def passed(self) -> bool:
        """Whether every example agreed with the reference."""
        return self.failure is None


class _Disagree(Exception):
    pass


def detect_framework(source: str) -> str:
    """``"torch"``, ``"jax"`` or ``"numpy"``: the first of torch and jax that `source` imports."""
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    return next((name for name in ("torch", "jax") if name in imported), "numpy")


def _import(path: Path) -> ModuleType:
    name = f"_mlprims_learner_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        msg = f"{path}: not a Python file"
        raise GradeError(msg)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look the module up here
    try:
        spec.loader.exec_module(module)
    except SystemExit as exc:
        msg = f"{_where(path, exc)}: importing it called sys.exit({exc.code!r})"
        raise GradeError(msg) from exc
    except Exception as exc:
        msg = f"{_where(path, exc)}: importing it raised {_one_line(exc)}"
        raise GradeError(msg) from exc
    finally:
        sys.modules.pop(name, None)
    return module


def _where(path: Path, exc: BaseException) -> str:
    """``path:line`` of the last line of `path` in the traceback of `exc` (``path`` if none)."""
    lines = [
        frame.lineno
        for frame in traceback.extract_tb(exc.__traceback__)
        if Path(frame.filename).resolve() == path.resolve()
    ]
    return f"{path}:{lines[-1]}" if lines else str(path)


def _one_line(exc: BaseException) -> str:
    """``Type: the first line of the message``: a framework's multi-line message would break
    the report's table."""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


def load_function(path: str | Path, name: str) -> tuple[Callable[..., Any], str]:
    """The function `name` defined in the file `path`, and the framework the file imports."""
    path = Path(path)
    if not path.is_file():
        msg = f"{path}: no such file"
        raise GradeError(msg)
    try:
        framework = detect_framework(path.read_text())
    except SyntaxError as exc:
        msg = f"{path}:{exc.lineno}: syntax error: {exc.msg}"
        raise GradeError(msg) from exc
    function = getattr(_import(path), name, None)
    if not callable(function):
        msg = f"{path} defines no function `{name}`"
        raise GradeError(msg)
    return function, framework


def _convert(value: Any, to: Callable[[np.ndarray], Any]) -> Any:
    if isinstance(value, np.ndarray):
        return to(value)
    if isinstance(value, Mapping):
        return {k: _convert(v, to) for k, v in value.items()}
    if isinstance(value, tuple) and any(isinstance(v, np.ndarray) for v in value):
        return tuple(_convert(v, to) for v in value)
    if hasattr(value, "on"):  # e.g. a step function built for the framework
        return value.on(to)
    return value


def _float64(x: np.ndarray) -> np.ndarray:
    return x.astype(np.float64) if x.dtype.kind == "f" else x


def _to_numpy(x: Any) -> Any:
    if x is None:
        return None
    try:
        return np.asarray(to_numpy(x))
    except TypeError:  # an array type of no backend mlprims knows
        return np.asarray(x)


def _is_array(value: Any) -> bool:
    """An array of any framework, or a number (a 0-d result)."""
    return (hasattr(value, "shape") and hasattr(value, "dtype")) or isinstance(value, int | float)


def _compare(
    case: Call, expected: Mapping[str, Any], got: Mapping[str, Any], scale: float
) -> Failure | None:
    for name, want in expected.items():
        if want is None:
            continue
        label = "" if len(expected) == 1 else f"`{name}`: "
        have = got.get(name)
        if have is None:
            return Failure(case, expected, got, f"{label}missing from the result")
        dtype = have.dtype.name if have.dtype.kind == "f" else "float64"
        verdict = compare(have, want, dtype, scale=SCALE * scale)
        if not verdict.passed:
            message = verdict.message  # a shape, a NaN, exact values that differ
            if math.isfinite(verdict.ratio):  # the counterexample shows the values: short
                message = f"max error {verdict.error:.3g} > tolerance {verdict.allowed:.2g}"
                message += f" ({dtype})"
            return Failure(case, expected, got, label + message, verdict.error)
    for name, want in expected.items():  # the values agree: now the dtypes, on their own
        have = got.get(name)
        if want is None or have is None or case.dtype is None or want.dtype.kind != "f":
            continue
        if have.dtype.name != case.dtype:
            label = "" if len(expected) == 1 else f"`{name}`: "
            message = f"{label}right values, but dtype {have.dtype.name}; expected {case.dtype} "
            message += "(that of the input)"
            return Failure(case, expected, got, message)
    return None


def _check(function: Callable[..., Any], spec: Spec, prop: Property, case: Call, to: Any) -> Any:
    reference = spec.call_reference(
        *_convert(case.args, _float64), **_convert(dict(case.kwargs), _float64)
    )
    expected = {k: _to_numpy(v) for k, v in spec.outputs(reference).items()}
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")  # a learner's NaN shows in the report, not as noise
            result = function(*_convert(case.args, to), **_convert(dict(case.kwargs), to))
    except SystemExit as exc:
        return Failure(case, expected, None, f"called sys.exit({exc.code!r})")
    except Exception as exc:
        where = _where(Path(function.__code__.co_filename), exc)
        return Failure(case, expected, None, f"raised {_one_line(exc)} ({where})")
    if result is None:
        return Failure(case, expected, None, "returned None (a missing `return`?)")
    try:
        outputs = spec.outputs(result)
    except Exception as exc:
        message = f"returned {type(result).__name__}, which is not what the template says: {exc}"
        return Failure(case, expected, None, message)
    for name, value in outputs.items():
        if value is not None and not _is_array(value) and name in expected:
            want = expected[name]
            what = f"`{name}` is" if len(expected) > 1 else "returned"
            shape = "" if want is None else f" of shape {tuple(want.shape)}"
            message = f"{what} a {type(value).__name__}; expected an array{shape}"
            return Failure(case, expected, None, message)
    got = {k: _to_numpy(v) for k, v in outputs.items()}
    if prop.compare:
        expected = {k: v for k, v in expected.items() if k in prop.compare}
    return _compare(case, expected, got, prop.scale)


def _show(value: Any) -> str:
    if isinstance(value, np.ndarray):
        text = np.array2string(value, precision=4, separator=", ", threshold=40)
        text = " ".join(text.split())  # one line: reshapes print on many
        return f"{text} ({value.dtype.name}, shape {value.shape})"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {_show(v)}" for k, v in value.items()) + "}"
    return repr(value)


def _named(chosen: Spec, failure: Failure) -> list[tuple[str, Any]]:
    positional = [n for n in chosen.parameters if n not in failure.case.kwargs]
    return [*zip(positional, failure.case.args, strict=False), *failure.case.kwargs.items()]


def _counterexample(chosen: Spec, outcome: Outcome, failure: Failure, *, shrunk: bool) -> list[str]:
    how = "shrunk by hypothesis" if shrunk else "as drawn"
    lines = [f"first failure: {outcome.prop.name} (counterexample {how})"]
    lines += [f"  {name} = {_show(value)}" for name, value in _named(chosen, failure)]
    for label, values in (("expected", failure.expected), ("got", failure.got)):
        if values is None:
            continue
        shown = {k: v for k, v in values.items() if v is not None and k in failure.expected}
        text = _show(next(iter(shown.values()))) if len(shown) == 1 else _show(shown)
        lines.append(f"  {label}: {text}")
    lines.append(f"  {failure.message}")
    lines.append(f"  hint: {outcome.prop.hint}")
    return lines


def verdict(chosen: Spec, outcome: Outcome, *, shrunk: bool) -> Verdict:
    """`outcome` as the report shows it: its detail line, and its counterexample if it failed
    (`shrunk`: whether hypothesis shrank it)."""
    failure = outcome.failure
    if failure is None:
        return Verdict(outcome.prop.name, True)
    lines = _counterexample(chosen, outcome, failure, shrunk=shrunk)
    return Verdict(outcome.prop.name, False, failure.message, lines)


@st.composite
def _drawn(draw: Callable[[Any], Any], cases: Draw) -> Call:
    """The strategy of a property's draw function."""
    return cases(draw)


def run_property(
    function: Callable[..., Any],
    spec: Spec,
    prop: Property,
    framework: str,
    *,
    examples: int = EXAMPLES,
    shrink: bool = True,
    seed: int | None = None,
) -> Outcome:
    """Check `prop` of `spec` on `examples` cases for the learner's `function` (`framework`).

    With `shrink` False the first failing case is kept as it was drawn (faster). The cases are
    the same at every run: hypothesis' derandomized ones, or those of `seed` if given.
    """
    backend = backends.get(framework)
    failures: list[Failure] = []

    def test(case: Call) -> None:
        failure = _check(function, spec, prop, case, backend.asarray)
        if failure is not None:
            failures.append(failure)  # hypothesis replays the shrunk example last
            raise _Disagree

    try:
        phases = _SETTINGS.phases if shrink else (Phase.explicit, Phase.generate)
        chosen = settings(_SETTINGS, max_examples=examples, phases=phases, derandomize=seed is None)
        checked = given(_drawn(prop.cases))(test)
        if seed is not None:
            checked = hypothesis_seed(seed)(checked)
        for case in reversed(prop.examples):  # decorators apply inside out: in their order
            checked = example(case)(checked)
        chosen(checked)()
    except _Disagree:
        pass
    except Exception as exc:  # hypothesis itself gave up (flaky learner, unsatisfiable)
        if not failures:
            msg = f"property `{prop.name}`: {type(exc).__name__}: {exc}"
            raise GradeError(msg) from exc
    return Outcome(prop, failures[-1] if failures else None)


def grade(
    function: Callable[..., Any],
    spec: Spec,
    framework: str,
    *,
    examples: int = EXAMPLES,
    shrink: bool = True,
    seed: int | None = None,
) -> list[Outcome]:
    """Every property of `spec` checked on `function` (written with `framework`).

    Only the first failure is shrunk (the report shows that one counterexample), none with
    `shrink` False (faster: the case is shown as drawn). A JAX learner runs with
    ``jax_enable_x64`` on, so float64 cases stay float64 (restored after grading).
    """
    outcomes: list[Outcome] = []
    with float64_jax(framework):
        for prop in spec.properties:
            first = shrink and all(o.passed for o in outcomes)
            outcome = run_property(
                function, spec, prop, framework, examples=examples, shrink=first, seed=seed
            )
            outcomes.append(outcome)
    return outcomes


def grade_here(
    path: str | Path, name: str, *, examples: int, shrink: bool, seed: int | None = None
) -> Graded:
    """Grade the function `name` of the file `path` in this process (``--in-process``: for a
    debugger; no timeout, prints not captured). The folder of `path` is on ``sys.path`` while
    the file is imported, as in the child of :func:`._child.grade_in_child`."""
    chosen = specs.spec(name)
    folder = str(Path(path).resolve().parent)
    sys.path.insert(0, folder)
    try:
        function, framework = load_function(path, name)
    finally:
        sys.path.remove(folder)
    outcomes = grade(function, chosen, framework, examples=examples, shrink=shrink, seed=seed)
    firsts = [shrink and all(o.passed for o in outcomes[:i]) for i in range(len(outcomes))]
    verdicts = [verdict(chosen, o, shrunk=f) for o, f in zip(outcomes, firsts, strict=True)]
    return Graded(framework, verdicts, "")


@contextlib.contextmanager
def float64_jax(framework: str) -> Iterator[None]:
    """JAX with ``jax_enable_x64`` on while grading (float64 cases stay float64), restored."""
    if framework != "jax":
        yield
        return
    import jax

    before = jax.config.read("jax_enable_x64")
    jax.config.update("jax_enable_x64", True)
    try:
        yield
    finally:
        jax.config.update("jax_enable_x64", before)
