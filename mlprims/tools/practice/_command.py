"""The ``mlprims practice`` and ``mlprims grade`` subcommands: options, template, report.

``mlprims practice NAME [--output PATH] [--force]``: write the template, exit code 0.
``mlprims grade PATH --primitive NAME [--examples N]``: exit code 0 when every property passes,
1 when one fails. Both give exit code 2 and a one-line error for bad input (an unknown
primitive, a missing file, a file without the function, a file that exists already).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import _report

if TYPE_CHECKING:  # the grader needs hypothesis, imported only when a command runs
    from ._spec import Spec
    from .grading import Failure, Outcome

__all__ = ["add_parsers", "grade_main", "practice_main", "report"]


#: Hypothesis examples per property by default (grading.EXAMPLES, without importing it).
EXAMPLES = 25
PRIMITIVES = "layer_norm, softmax, scaled_dot_product_attention, conv2d, kmeans, nms, ..."


def _error(command: str, message: str) -> int:
    print(f"mlprims {command}: error: {message}", file=sys.stderr)
    return 2


def add_parsers(commands: Any) -> None:
    """Add ``practice`` and ``grade`` to the subcommands `commands` (argparse subparsers)."""
    practice = commands.add_parser(
        "practice",
        help="write a template to implement a primitive yourself",
        description="Write NAME.py: mlprims' signature and docstring of the primitive (formula, "
        "shapes) and a body that raises NotImplementedError. Implement it with NumPy, torch or "
        "JAX, then run `mlprims grade`. An unknown NAME lists the primitives.",
    )
    practice.add_argument("name", metavar="NAME", help="the primitive, e.g. layer_norm")
    practice.add_argument("-o", "--output", metavar="PATH", help="where to write (NAME.py)")
    practice.add_argument("--force", action="store_true", help="overwrite an existing file")
    grade_parser = commands.add_parser(
        "grade",
        help="grade your implementation of a primitive against mlprims",
        description="Import the function NAME from PATH (NumPy, torch or JAX: the framework "
        "the file imports), run it against mlprims' reference on hypothesis-drawn inputs and "
        "print a verdict per property, the first counterexample shrunk by hypothesis and a "
        "score. Exit code: 0 all pass, 1 a property fails, 2 bad input.",
    )
    grade_parser.add_argument("path", metavar="PATH", help="the Python file to grade")
    grade_parser.add_argument(
        "--primitive", metavar="NAME", required=True, help=f"the function to grade: {PRIMITIVES}"
    )
    grade_parser.add_argument(
        "--examples",
        type=int,
        default=EXAMPLES,
        metavar="N",
        help=f"hypothesis examples per property (default {EXAMPLES})",
    )

    grade_parser.add_argument(
        "--no-shrink",
        action="store_true",
        help="show the first failing case as drawn, without shrinking it (faster)",
    )


def practice_main(args: argparse.Namespace) -> int:
    """Run ``mlprims practice`` with the parsed `args`; return the exit code."""
    from ._spec import GradeError  # writing a template needs no hypothesis: base install
    from .specs import spec
    from .template import template

    try:
        chosen = spec(args.name)
    except GradeError as exc:
        return _error("practice", str(exc))
    path = Path(args.output or f"{chosen.name}.py")
    if path.exists() and not args.force:
        return _error("practice", f"{path} exists already (--force to overwrite it)")
    try:
        path.write_text(template(chosen, str(path)))
    except OSError as exc:
        return _error("practice", f"{path}: {exc.strerror or exc}")
    print(f"wrote {path}: implement `{chosen.name}` there, then run")
    print(f"    mlprims grade {path} --primitive {chosen.name}")
    return 0


def _show(value: Any) -> str:
    import numpy as np

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


def report(
    chosen: Spec, path: str, framework: str, outcomes: Sequence[Outcome], *, shrunk: bool = True
) -> tuple[str, list[str], list[list[str | _report.Cell]], list[str]]:
    """The title, columns, rows and notes of the grade report."""
    rows: list[list[str | _report.Cell]] = [
        [
            o.prop.name,
            _report.Cell("passed", "ok") if o.passed else _report.Cell("FAILED", "fail"),
            "" if o.failure is None else o.failure.message,
        ]
        for o in outcomes
    ]
    passed = sum(o.passed for o in outcomes)
    notes: list[str] = []
    first = next((o for o in outcomes if o.failure is not None), None)
    if first is not None and first.failure is not None:
        notes += [*_counterexample(chosen, first, first.failure, shrunk=shrunk), ""]
    from .grading import TOLERANCE

    tolerance = " or ".join(f"{tol:g} ({dtype})" for dtype, tol in TOLERANCE.items())
    notes.append(
        f"error: max|got - expected| / (1 + max|expected|); tolerance {tolerance}, "
        "times a property's allowance for rounding"
    )
    notes.append(
        f"score: {passed}/{len(outcomes)} properties passed ({passed / len(outcomes):.0%})"
    )
    title = (
        f"mlprims grade: `{chosen.name}` from {path} ({framework}) against mlprims.{chosen.name}"
    )
    return title, ["property", "verdict", "detail"], rows, notes


def grade_main(args: argparse.Namespace) -> int:
    """Run ``mlprims grade`` with the parsed `args`; return the exit code."""
    if args.examples < 1:
        return _error("grade", f"--examples must be at least 1, got {args.examples}")
    try:
        from ._spec import GradeError
        from .grading import grade, load_function
        from .specs import spec
    except ImportError as exc:  # hypothesis draws the cases
        return _error("grade", f"{exc}: grading needs hypothesis: pip install 'mlprims[practice]'")
    try:
        chosen = spec(args.primitive)
        function, framework = load_function(args.path, chosen.name)
        outcomes = grade(
            function, chosen, framework, examples=args.examples, shrink=not args.no_shrink
        )
    except GradeError as exc:
        return _error("grade", str(exc))
    title, columns, rows, notes = report(
        chosen, args.path, framework, outcomes, shrunk=not args.no_shrink
    )
    color = sys.stdout.isatty()
    print(_report.render_table(title, columns, rows, notes, labels=3, color=color), end="")
    return 0 if all(o.passed for o in outcomes) else 1
