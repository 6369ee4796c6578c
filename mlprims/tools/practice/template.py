"""The file ``mlprims practice NAME`` writes: the signature, the docstring, NotImplementedError.

The signature is mlprims' own, restricted to the parameters the grader passes (type hints
dropped: the learner's arrays are NumPy, torch or JAX ones). The docstring is cut from the
mlprims function's numpydoc docstring: its summary line, the entries of those parameters, its
Returns section (or the spec's), its Notes (or the spec's, shorter, with the formula).
"""

from __future__ import annotations

import inspect
import re

from ._spec import Spec

__all__ = ["docstring", "signature", "template"]

_HEADER = re.compile(r"^-{3,}$")


def _sections(doc: str) -> tuple[str, dict[str, list[str]]]:
    """The summary line of a numpydoc `doc` and its sections by title."""
    lines = doc.splitlines()
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for i, line in enumerate(lines):
        if i + 1 < len(lines) and _HEADER.match(lines[i + 1].strip()) and line.strip():
            current = sections.setdefault(line.strip(), [])
        elif _HEADER.match(line.strip()) and current is not None and not current:
            continue  # the dashes under a title
        elif current is not None:
            current.append(line)
    return (lines[0] if lines else ""), sections


def _entries(lines: list[str]) -> list[tuple[list[str], list[str]]]:
    """The entries of a Parameters section: (names, lines), an entry's names before `` : ``."""
    entries: list[tuple[list[str], list[str]]] = []
    for line in lines:
        if line and not line.startswith(" "):
            names = [n.strip() for n in line.split(" : ")[0].split(",")]
            entries.append((names, [line]))
        elif entries:
            entries[-1][1].append(line)
    return entries


def _block(title: str, lines: list[str]) -> list[str]:
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return [title, "-" * len(title), *lines, ""] if lines else []


def docstring(spec: Spec) -> str:
    """The template's docstring for `spec` (not indented, without the quotes)."""
    summary, sections = _sections(inspect.getdoc(spec.function) or "")
    kept: list[str] = []
    for names, lines in _entries(sections.get("Parameters", [])):
        if any(n in spec.parameters for n in names):
            own = next((spec.parameter_docs[n] for n in names if n in spec.parameter_docs), None)
            kept += own.splitlines() if own is not None else lines
    returns = spec.returns.splitlines() if spec.returns else sections.get("Returns", [])
    notes = spec.notes.splitlines() if spec.notes else sections.get("Notes", [])
    body = [
        summary,
        "",
        *_block("Parameters", kept),
        *_block("Returns", returns),
        *_block("Notes", notes),
    ]
    return "\n".join(body).rstrip() + "\n"


def signature(spec: Spec) -> str:
    """mlprims' signature of `spec.function` restricted to `spec.parameters`, without hints."""
    full = inspect.signature(spec.function)
    params = [
        p.replace(annotation=inspect.Parameter.empty)
        for p in full.parameters.values()
        if p.name in spec.parameters
    ]
    return str(inspect.Signature(params))


def _indent(text: str) -> str:
    return "".join(("    " + line if line.strip() else "") + "\n" for line in text.splitlines())


def template(spec: Spec, path: str) -> str:
    """The text of the practice file for `spec`, to be saved at `path`."""
    name = spec.name
    doc = docstring(spec)
    raw = "r" if "\\" in doc else ""  # conv2d's formula has TeX backslashes
    return (
        f'"""Practise `{name}`: write its body, then grade it with\n\n'
        f"    mlprims grade {path} --primitive {name}\n\n"
        "The grader passes arrays of the framework this file imports: NumPy here; import torch\n"
        '(or jax.numpy) instead to practise with that framework.\n"""\n\n'
        "import numpy as np\n\n\n"
        f"def {name}{signature(spec)}:\n"
        f'    {raw}"""{_indent(doc).lstrip()}    """\n'
        "    raise NotImplementedError\n"
    )
