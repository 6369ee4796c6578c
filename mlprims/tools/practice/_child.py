"""The learner's code runs in a child process: it cannot hang, exit or print into the grade.

The parent (:func:`grade_in_child`) starts a child that imports the learner's file (its folder
on ``sys.path``, so ``from helper import f`` works) and runs the properties one by one with
:func:`.grading.run_property`, sending back one :class:`Verdict` each over a pipe. The parent
waits `timeout` seconds per property: a child still running then is killed, the property gets
the verdict "timed out", and a new child goes on with the next one. A child that dies (a crash,
``os._exit``) gives its property the verdict "the process died". The child's stdout and stderr,
the learner's prints included, go to a file the parent reads at the end.

Children are forked from multiprocessing's fork server, which has imported the grader once
(hypothesis, numpy, mlprims): a child costs milliseconds plus the learner's framework import.
"""

from __future__ import annotations

import contextlib
import importlib
import multiprocessing
import os
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from ._spec import GradeError

__all__ = ["Graded", "Verdict", "grade_in_child"]

#: Seconds a child may take to import the learner's framework (torch: a few seconds).
FRAMEWORK_IMPORT = 120.0
_GRADER = ["mlprims.tools.practice.grading", "mlprims.tools.practice.specs"]


@dataclass(frozen=True)
class Verdict:
    """A property's verdict as the report shows it: `detail` is one line, `counterexample` the
    lines of the shrunk failing case (empty when it passed, timed out or crashed)."""

    name: str
    passed: bool
    detail: str = ""
    counterexample: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Graded:
    """What grading a file gave: its framework, a verdict per property, what it printed."""

    framework: str
    verdicts: list[Verdict]
    output: str


@dataclass(frozen=True)
class _Request:
    path: str
    name: str
    examples: int
    seed: int | None
    shrink: bool  # shrink the first failure (none has been seen yet)
    first: int  # the first property to run
    output: str  # the file that receives the child's stdout and stderr


class _TimedOut(Exception):
    pass


class _Died(Exception):
    pass


def grade_in_child(
    path: str | Path,
    name: str,
    *,
    examples: int,
    shrink: bool,
    timeout: float,
    seed: int | None = None,
) -> Graded:
    """Grade the function `name` of the file `path` in child processes (see the module).

    Raises
    ------
    GradeError
        If the file cannot be read or imported, or defines no function `name`.
    """
    from .specs import spec  # the names of the properties, also for those that never report

    properties = [prop.name for prop in spec(name).properties]
    verdicts: list[Verdict] = []
    framework = "numpy"
    with _output_file() as output:
        while len(verdicts) < len(properties):
            first = len(verdicts)
            failed = any(not v.passed for v in verdicts)
            shrink_next = shrink and not failed
            request = _Request(str(path), name, examples, seed, shrink_next, first, output)
            try:
                framework = _run(request, verdicts, timeout)
            except _TimedOut:
                message = (
                    f"timed out after {timeout:g} s (an endless loop? --timeout to wait longer)"
                )
                verdicts.append(Verdict(properties[len(verdicts)], False, message))
            except _Died as exc:
                verdicts.append(Verdict(properties[len(verdicts)], False, str(exc)))
        return Graded(framework, verdicts, Path(output).read_text(errors="replace"))


@contextlib.contextmanager
def _output_file() -> Iterator[str]:
    handle, name = tempfile.mkstemp(prefix="mlprims-grade-", suffix=".txt")
    os.close(handle)
    try:
        yield name
    finally:
        os.unlink(name)


def _run(request: _Request, verdicts: list[Verdict], timeout: float) -> str:
    """One child: its verdicts are appended to `verdicts`; returns the learner's framework."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(_GRADER)
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_serve, args=(send, request), daemon=True)
    with _main_script_hidden():
        child.start()
    send.close()
    try:
        framework = "numpy"
        imports = (("importing the framework", FRAMEWORK_IMPORT), ("importing the file", timeout))
        for doing, limit in imports:  # a file that cannot be imported is bad input: exit 2
            try:
                kind, message = _receive(receive, child, limit, doing)
            except _Died as exc:
                raise GradeError(str(exc)) from exc
            if kind == "error":
                raise GradeError(message)
            framework = message if kind == "ready" else framework
        while True:
            kind, verdict = _receive(receive, child, timeout, "")
            if kind == "done":
                return framework
            verdicts.append(verdict)
    finally:
        child.kill()
        child.join()
        receive.close()


@contextlib.contextmanager
def _main_script_hidden() -> Iterator[None]:
    """Start a child without the parent's main script. multiprocessing runs that script again
    in the child (to find the functions it unpickles, here all in this package), so a script
    that grades at its top level, with no ``if __name__ == "__main__"``, started children of
    children until multiprocessing refused."""
    main = sys.modules["__main__"]
    hidden = {name: vars(main).pop(name) for name in ("__file__",) if name in vars(main)}
    spec, main.__spec__ = getattr(main, "__spec__", None), None
    try:
        yield
    finally:
        main.__spec__ = spec
        vars(main).update(hidden)


def _receive(receive: Connection, child: Any, timeout: float, doing: str) -> Any:
    if receive.poll(timeout):
        try:
            return receive.recv()
        except EOFError:
            pass
    elif child.is_alive():
        if doing:
            msg = f"{doing} took more than {timeout:g} s"
            raise GradeError(msg)
        raise _TimedOut
    child.join()
    what = f" while {doing}" if doing else ""
    msg = f"the process died{what} (exit code {child.exitcode}): a crash in the framework?"
    raise _Died(msg)


def _serve(send: Connection, request: _Request) -> None:
    """The child: import, grade each property from `request.first` on, report each verdict."""
    output = os.open(request.output, os.O_WRONLY | os.O_APPEND)
    for stream in (1, 2):  # the learner's prints, and the framework's, go to the file
        os.dup2(output, stream)
    from .grading import detect_framework, float64_jax, load_function, run_property, verdict
    from .specs import spec

    path = Path(request.path)
    sys.path.insert(0, str(path.resolve().parent))  # `from helper import f` beside the file
    try:
        framework = detect_framework(path.read_text()) if path.is_file() else "numpy"
    except SyntaxError:
        framework = "numpy"  # load_function reports it
    if framework != "numpy":
        try:
            importlib.import_module(framework)
        except ImportError as exc:
            send.send(("error", f"{path} imports {framework}, which does not import here: {exc}"))
            return
    send.send(("ready", framework))
    try:
        function, framework = load_function(path, request.name)
    except GradeError as exc:
        send.send(("error", str(exc)))
        return
    send.send(("loaded", ""))
    chosen = spec(request.name)
    shrink = request.shrink
    with float64_jax(framework):
        for prop in chosen.properties[request.first :]:
            outcome = run_property(
                function,
                chosen,
                prop,
                framework,
                examples=request.examples,
                shrink=shrink,
                seed=request.seed,
            )
            send.send(("verdict", verdict(chosen, outcome, shrunk=shrink)))
            shrink = shrink and outcome.passed  # only the first failure is shrunk
    send.send(("done", framework))
