"""Every public function says, in numpydoc form, what it takes and what it returns.

numpydoc's own validator (``numpydoc.validate.validate``, the one behind numpydoc's pre-commit
hook) reads the docstring of every public name of ``mlprims``, ``mlprims.random`` and
``mlprims.backends``, and of every method of the :class:`~mlprims.backends.Backend` protocol;
one test per name, so a failure names the function and lists what is wrong.

Which checks, and why (the codes are numpydoc's, see ``numpydoc.validate.ERROR_MSGS``):

* What a caller needs: a docstring (GL08), every parameter documented (PR01), none documented
  that does not exist (PR02, e.g. after a rename), in the signature's order (PR03), each with a
  type (PR04, PR05, PR10), and a Returns section for everything that returns (RT01; stricter
  than numpydoc, which looks for a ``return`` statement: here any return annotation other than
  ``None`` needs one, so the ``...`` bodies of the protocol are held to it too), whose first
  line is a type, not a name, when one value is returned (RT02).
* What makes the docstring render and read in one way: a one-line summary that starts with a
  capital and ends with a period (SS01-SS04, SS06), the usual blank lines and no tabs (GL01-GL03,
  GL05), only numpydoc's sections, in numpydoc's order (GL06, GL07), directives spelled with
  ``::`` (GL10), and See Also entries that are sentences (SA02-SA04) when there are any.

Left out on purpose (``NOT_CHECKED`` says why, one line each): the house style writes the
summary as a noun phrase ("The k largest values ..."), which numpydoc's infinitive-verb heuristic
(SS05) rejects; a parameter or return whose type line already says everything (``x : array``,
``array of shape (2,), uint32``) needs no further sentence (PR07-PR09, RT03-RT05); an extended
summary, See Also and Examples are welcome but optional (ES01, SA01, EX01); "boolean array" is
plain English for a mask (PR06 wants "bool").

Positional-only (``/``) and keyword-only (``*``) markers are not parameters in
``inspect.signature``, so numpydoc neither expects nor accepts them in a Parameters section; only
``*args`` and ``**kwargs`` are documented with their stars. Classes: a NamedTuple documents its
fields under Attributes (checked here: every field, in order, with a type) rather than as
constructor parameters; the Backend protocol is never constructed, so only its methods are held
to the parameter checks. The per-framework backend modules implement the protocol: their
functions must have its exact signature, so the protocol's docstrings describe them, and a
docstring of their own (usually one line saying how that framework does it).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import mlprims
import mlprims.backends
import mlprims.random

numpydoc_validate = pytest.importorskip("numpydoc.validate")
docscrape = pytest.importorskip("numpydoc.docscrape")

#: The numpydoc checks applied to every public name (see the module docstring).
CHECKED = {
    "GL01": "summary starts right after the opening quotes or on the next line",
    "GL02": "closing quotes on their own line",
    "GL03": "no double blank lines",
    "GL05": "no tabs",
    "GL06": "only numpydoc's sections",
    "GL07": "sections in numpydoc's order",
    "GL08": "a docstring",
    "GL10": "reST directives with two colons",
    "SS01": "a summary",
    "SS02": "the summary starts with a capital letter",
    "SS03": "the summary ends with a period",
    "SS04": "no leading whitespace in the summary",
    "SS06": "the summary fits on one line",
    "PR01": "every parameter documented",
    "PR02": "no documented parameter that the signature lacks",
    "PR03": "parameters in the signature's order",
    "PR04": "every parameter has a type",
    "PR05": "a type does not end with a period",
    "PR10": "a space before the colon of a parameter",
    "RT01": "a Returns section (see returns_something for the rule used here)",
    "RT02": "a single return value is given by its type",
    "YD01": "a Yields section for generators",
    "SA02": "See Also descriptions end with a period",
    "SA03": "See Also descriptions start with a capital letter",
    "SA04": "See Also entries have a description",
}

#: numpydoc checks deliberately not applied, and why.
NOT_CHECKED = {
    "ES01": "an extended summary is optional: many summaries say everything",
    "SS05": "summaries are noun phrases ('The k largest values ...'), not infinitive verbs",
    "PR06": "'boolean array' is plain English for a mask; Python types are spelled bool already",
    "PR07": "a type line such as `x : array` may be the whole description",
    "PR08": "descriptions may start with a shape or a code name, e.g. `(B..., T, E)`",
    "PR09": "descriptions may end with a shape or a code name rather than a period",
    "RT03": "a return type line such as `array of shape (2,), uint32` may be the whole description",
    "RT04": "return descriptions may start with a shape or a code name",
    "RT05": "return descriptions may end with a shape or a code name",
    "SA01": "a See Also section is optional",
    "EX01": "an Examples section is optional (most primitives have one, run as a doctest)",
}

#: Parameter checks that do not apply to NamedTuples and protocols (see the module docstring).
SIGNATURE_CHECKS = {"PR01", "PR02", "PR03"}


def _public(namespace: Any) -> Iterator[tuple[str, Any]]:
    for name in namespace.__all__:
        obj = getattr(namespace, name)
        if callable(obj) and not inspect.ismodule(obj):
            yield f"{namespace.__name__}.{name}", obj


def _protocol_methods() -> list[str]:
    return [
        name
        for name, value in vars(mlprims.backends.Backend).items()
        if inspect.isfunction(value) and not name.startswith("_")
    ]


def _public_names() -> list[str]:
    """Every public callable once, under its first public path (``mlprims.use``, not also
    ``mlprims.backends.use``)."""
    names: list[str] = []
    seen: set[int] = set()
    for namespace in (mlprims, mlprims.random, mlprims.backends):
        for path, obj in _public(namespace):
            if id(obj) not in seen:
                seen.add(id(obj))
                names.append(path)
    names += [f"mlprims.backends.Backend.{method}" for method in _protocol_methods()]
    return names


PUBLIC = _public_names()


def _load(path: str) -> Any:
    module, _, name = path.rpartition(".")
    parent: Any = mlprims
    for part in module.split(".")[1:]:
        parent = getattr(parent, part)
    return getattr(parent, name)


def _is_namedtuple(obj: Any) -> bool:
    return isinstance(obj, type) and issubclass(obj, tuple) and hasattr(obj, "_fields")


def _is_protocol(obj: Any) -> bool:
    return isinstance(obj, type) and bool(getattr(obj, "_is_protocol", False))


def returns_something(fn: Callable[..., Any]) -> bool:
    """Whether `fn` needs a Returns section: its return annotation is there and is not None."""
    annotation = inspect.signature(fn).return_annotation
    return annotation not in (inspect.Signature.empty, None, "None")


def _namedtuple_field_errors(cls: Any) -> list[str]:
    attributes = docscrape.NumpyDocString(inspect.getdoc(cls) or "")["Attributes"]
    documented = [attribute.name for attribute in attributes]
    errors = []
    if documented != list(cls._fields):
        errors.append(
            f"Attributes must list the fields {list(cls._fields)} in order, got {documented}"
        )
    errors += [f'field "{a.name}" has no type' for a in attributes if not a.type]
    return errors


def test_every_code_named_here_is_a_numpydoc_check() -> None:
    """A misspelt code in CHECKED would silently check nothing."""
    known = set(numpydoc_validate.ERROR_MSGS)
    assert set(CHECKED) <= known, set(CHECKED) - known
    assert set(NOT_CHECKED) <= known, set(NOT_CHECKED) - known
    assert not set(CHECKED) & set(NOT_CHECKED)


def test_the_public_names_are_found() -> None:
    """The collection above really reaches every family (guards against an empty parametrize)."""
    for expected in (
        "mlprims.softmax",
        "mlprims.scaled_dot_product_attention",
        "mlprims.random.split",
        "mlprims.backends.get",
        "mlprims.backends.Backend.top_k",
    ):
        assert expected in PUBLIC


@pytest.mark.parametrize("path", PUBLIC)
def test_docstring(path: str) -> None:
    obj = _load(path)
    result = numpydoc_validate.validate(path)
    skip = SIGNATURE_CHECKS if _is_namedtuple(obj) or _is_protocol(obj) else set()
    errors = [
        f"{code}: {message}"
        for code, message in result["errors"]
        if code in CHECKED and code not in skip and code != "RT01"
    ]
    if _is_namedtuple(obj):
        errors += _namedtuple_field_errors(obj)
    if inspect.isfunction(obj) and returns_something(obj):
        sections = docscrape.NumpyDocString(inspect.getdoc(obj) or "")
        if not sections["Returns"]:
            errors.append("RT01: no Returns section, but the function is annotated to return")
    assert not errors, f"{path} ({result['file']}:{result['file_line']}):\n  " + "\n  ".join(errors)


#: The kinds a backend's parameter may have where the protocol's has the key's kind: it must
#: accept every call the protocol allows (``x, /`` may be ``x``; ``*, k`` may be ``k``).
_P = inspect.Parameter
_ACCEPTS = {
    _P.POSITIONAL_ONLY: {_P.POSITIONAL_ONLY, _P.POSITIONAL_OR_KEYWORD},
    _P.POSITIONAL_OR_KEYWORD: {_P.POSITIONAL_OR_KEYWORD},
    _P.KEYWORD_ONLY: {_P.KEYWORD_ONLY, _P.POSITIONAL_OR_KEYWORD},
    _P.VAR_POSITIONAL: {_P.VAR_POSITIONAL},
    _P.VAR_KEYWORD: {_P.VAR_KEYWORD},
}


@pytest.mark.parametrize("name", mlprims.backends.NAMES)
def test_backend_functions_have_the_documented_signatures(name: str) -> None:
    """Each backend module's functions take what the protocol documents, and have a docstring."""
    pytest.importorskip(name)  # each backend is named after its distribution
    backend = mlprims.backends.get(name)
    errors = []
    for method in _protocol_methods():
        protocol = inspect.signature(getattr(mlprims.backends.Backend, method))
        expected = list(protocol.parameters.values())[1:]  # without self
        function = getattr(backend, method)
        actual = list(inspect.signature(function).parameters.values())
        if [p.name for p in actual] != [p.name for p in expected] or any(
            a.kind not in _ACCEPTS[e.kind] for a, e in zip(actual, expected, strict=True)
        ):
            errors.append(f"{method}{inspect.signature(function)}, protocol: {method}{protocol}")
        if not inspect.getdoc(function):
            errors.append(f"{method} has no docstring")
    assert not errors, f"backend {name!r}:\n  " + "\n  ".join(errors)
