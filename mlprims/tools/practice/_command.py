"""The ``mlprims practice`` and ``mlprims grade`` subcommands: options, template, report.

``mlprims practice NAME [--output PATH] [--force]``: write the template, exit code 0.
``mlprims grade PATH --primitive NAME [--examples N]``: exit code 0 when every property passes,
1 when one fails. Both give exit code 2 and a one-line error for bad input (an unknown
primitive, a missing file, a file without the function, a file that exists already).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...testing import tolerance
from .. import _report

if TYPE_CHECKING:  # the grader needs hypothesis, imported only when a command runs
    from ._child import Graded
    from ._spec import Spec

__all__ = ["add_parsers", "grade_main", "practice_main", "report"]


#: Hypothesis examples per property by default (grading.EXAMPLES, without importing it).
EXAMPLES = 25
#: Seconds per property before the learner's code is stopped.
TIMEOUT = 10.0
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
        "--seed",
        type=int,
        metavar="N",
        help="draw other cases, those of seed N (default: hypothesis' derandomized ones); "
        "the same file and seed give the same report",
    )

    grade_parser.add_argument(
        "--timeout",
        type=float,
        default=TIMEOUT,
        metavar="SECONDS",
        help=f"seconds per property before it is stopped (default {TIMEOUT:g})",
    )
    grade_parser.add_argument(
        "--show-output", action="store_true", help="show what the file printed while graded"
    )
    grade_parser.add_argument(
        "--in-process",
        action="store_true",
        help="run the file in this process, for a debugger (no timeout, prints not captured)",
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


def report(
    chosen: Spec, path: str, graded: Graded, *, show_output: bool = False
) -> tuple[str, list[str], list[list[str | _report.Cell]], list[str]]:
    """The title, columns, rows and notes of the grade report."""
    verdicts = graded.verdicts
    rows: list[list[str | _report.Cell]] = [
        [
            v.name,
            _report.Cell("passed", "ok") if v.passed else _report.Cell("FAILED", "fail"),
            v.detail,
        ]
        for v in verdicts
    ]
    passed = sum(v.passed for v in verdicts)
    notes: list[str] = []
    first = next((v for v in verdicts if v.counterexample), None)
    if first is not None:
        notes += [*first.counterexample, ""]
    from .grading import SCALE

    tolerances = ", ".join(
        f"{t['rtol']:g} and {t['atol']:g} ({dtype})"
        for dtype in ("float32", "float64")
        for t in [tolerance(dtype, scale=SCALE)]
    )
    notes += [
        "close: |got - expected| <= rtol |expected| + atol (1 + max|expected|), elementwise;",
        f"  rtol and atol {tolerances}, times a property's allowance for rounding",
    ]
    printed = graded.output.rstrip("\n")
    if printed and show_output:
        notes += ["", f"what {path} printed:", *(f"  {line}" for line in printed.splitlines())]
    elif printed:
        lines = len(printed.splitlines())
        notes.append(f"{path} printed {lines} line{'s' * (lines != 1)} (--show-output shows them)")
    notes.append(
        f"score: {passed}/{len(verdicts)} properties passed ({passed / len(verdicts):.0%})"
    )
    title = (
        f"mlprims grade: `{chosen.name}` from {path} ({graded.framework}) "
        f"against mlprims.{chosen.name}"
    )
    return title, ["property", "verdict", "detail"], rows, notes


def grade_main(args: argparse.Namespace) -> int:
    """Run ``mlprims grade`` with the parsed `args`; return the exit code."""
    if args.examples < 1:
        return _error("grade", f"--examples must be at least 1, got {args.examples}")
    if args.timeout <= 0:
        return _error("grade", f"--timeout must be positive, got {args.timeout:g}")
    try:
        from . import grading  # hypothesis missing: said here, not by the child
        from ._child import grade_in_child
        from ._spec import GradeError
        from .specs import spec
    except ImportError as exc:  # hypothesis draws the cases
        return _error("grade", f"{exc}: grading needs hypothesis: pip install 'mlprims[practice]'")
    try:
        chosen = spec(args.primitive)
        if not Path(args.path).is_file():
            return _error("grade", f"{args.path}: no such file")
        options = {"examples": args.examples, "shrink": not args.no_shrink, "seed": args.seed}
        if args.in_process:
            graded = grading.grade_here(args.path, chosen.name, **options)
        else:
            graded = grade_in_child(args.path, chosen.name, timeout=args.timeout, **options)
    except GradeError as exc:
        return _error("grade", str(exc))
    title, columns, rows, notes = report(chosen, args.path, graded, show_output=args.show_output)
    color = sys.stdout.isatty()
    print(_report.render_table(title, columns, rows, notes, labels=3, color=color), end="")
    return 0 if all(v.passed for v in graded.verdicts) else 1
