"""The house rules of the package, read from its source (see DEVELOPERS.md, "Where code goes").

- Primitives ask a backend for a capability (``backend.fuses``, ``fast_scatter``, ...), never
  compare its name: a new backend must not have to edit primitives.
- No module imports another module's underscore name: a helper two modules need is public in
  its family's ``_common.py`` (or in ``_array.py`` across families). Private *modules*
  (``from . import _checks``) are how a family shares them.
- No module over about 400 lines (:data:`MAX_LINES`), and an ``__init__.py`` only re-exports:
  a docstring, imports and ``__all__``.
"""

from __future__ import annotations

import ast
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "mlprims"
#: The layers that may name backends: the tools print tables per backend, the tests' oracles
#: and cases choose where to run.
NAMING_ALLOWED = ("tools", "testing")
#: "About 400 lines": a module longer than this is split by concern (models/lm.py was 581).
MAX_LINES = 420
BACKEND_NAMES = {"numpy", "torch", "jax", "array_api_strict", "strict", "dask", "cupy"}
FRAMEWORK_TEST = re.compile(r"^is_(numpy|torch|jax|dask|cupy|array_api_strict|ndonnx)_")


def _modules(*, skip: tuple[str, ...] = ()) -> list[pathlib.Path]:
    return [
        path
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.relative_to(PACKAGE).parts[0] not in skip
    ]


def _where(path: pathlib.Path, node: ast.AST) -> str:
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    return f"{shown}:{getattr(node, 'lineno', '?')}"


def _names_a_backend(node: ast.Compare) -> bool:
    operands = [node.left, *node.comparators]
    for operand in operands:
        values = operand.elts if isinstance(operand, (ast.Tuple, ast.List, ast.Set)) else [operand]
        if any(isinstance(v, ast.Constant) and v.value in BACKEND_NAMES for v in values):
            return True
    return False


def _branches_on_names(path: pathlib.Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Compare) and _names_a_backend(node):
            found.append(f"{_where(path, node)}: compares with a backend's name")
        elif isinstance(node, ast.Call):
            called = node.func.attr if isinstance(node.func, ast.Attribute) else None
            called = node.func.id if isinstance(node.func, ast.Name) else called
            if called and FRAMEWORK_TEST.match(called):
                found.append(f"{_where(path, node)}: {called}() asks which framework")
        elif isinstance(node, ast.ImportFrom) and node.module == "array_api_compat":
            tests = [a.name for a in node.names if FRAMEWORK_TEST.match(a.name)]
            if tests:
                found.append(f"{_where(path, node)}: imports {', '.join(tests)}")
    return found


def test_primitives_ask_capabilities_not_backend_names() -> None:
    found = [hit for path in _modules(skip=NAMING_ALLOWED) for hit in _branches_on_names(path)]
    assert found == []


def test_the_name_check_catches_the_old_branches(tmp_path: pathlib.Path) -> None:
    """What the primitives did before the capabilities: each is caught."""
    source = tmp_path / "old.py"
    source.write_text(
        "from array_api_compat import is_jax_namespace\n"
        "scatter = backend.name in ('numpy', 'torch')\n"
        "emulated = backends.of(a).name == 'torch'\n"
        "fused = is_jax_namespace(xp)\n"
    )
    assert len(_branches_on_names(source)) == 4


def _is_module(package: pathlib.Path, name: str) -> bool:
    return (package / f"{name}.py").exists() or (package / name / "__init__.py").exists()


def _private_imports(path: pathlib.Path) -> list[str]:
    """``from x import _name`` and ``module._name`` where ``_name`` is not a module."""
    found = []
    tree = ast.parse(path.read_text())
    modules: dict[str, pathlib.Path] = {}  # local name -> folder of the imported module
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom) or node.level == 0:
            continue
        base = path.parent
        for _ in range(node.level - 1):
            base = base.parent
        folder = base.joinpath(*node.module.split(".")) if node.module else base
        for alias in node.names:
            if _is_module(folder, alias.name):
                modules[alias.asname or alias.name] = folder / alias.name
            elif alias.name.startswith("_") and not alias.name.startswith("__"):
                found.append(f"{_where(path, node)}: imports {alias.name}")
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in modules
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
            and not _is_module(modules[node.value.id], node.attr)
        ):
            found.append(f"{_where(path, node)}: uses {node.value.id}.{node.attr}")
    return found


def test_no_module_imports_another_modules_private_names() -> None:
    found = [hit for path in _modules() for hit in _private_imports(path)]
    assert found == []


def test_the_private_import_check_catches_both_spellings(tmp_path: pathlib.Path) -> None:
    package = tmp_path / "family"
    package.mkdir()
    (package / "conv.py").write_text("def _core(): ...\n")
    (package / "_checks.py").write_text("def check(): ...\n")
    user = package / "transpose.py"
    user.write_text(
        "from .conv import _core\nfrom . import conv, _checks\nconv._core()\n_checks.check()\n"
    )
    assert [hit.split(": ", 1)[1] for hit in _private_imports(user)] == [
        "imports _core",
        "uses conv._core",
    ]


def test_no_module_is_over_about_400_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): n
        for path in [*_modules(), *sorted((ROOT / "backends").glob("*.py"))]
        if (n := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def _re_exports(node: ast.stmt) -> bool:
    """``__all__``, ``__version__``, or a list that concatenates submodules' lists
    (``CASES = [*activations.CASES, ...]``)."""
    if not isinstance(node, (ast.Assign, ast.AnnAssign)):
        return False
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    names = {t.id for t in targets if isinstance(t, ast.Name)}
    if names & {"__all__", "__version__"}:
        return True
    value = node.value
    return isinstance(value, ast.List) and all(
        isinstance(e, ast.Starred) and isinstance(e.value, ast.Attribute) for e in value.elts
    )


def test_an_init_only_re_exports() -> None:
    allowed = (ast.Import, ast.ImportFrom)
    code = {}
    for path in [*PACKAGE.rglob("__init__.py"), ROOT / "backends" / "__init__.py"]:
        if path.parent.name == "backends":
            continue  # the Backend protocol and get/use/of: the package's one API, by design
        body = ast.parse(path.read_text()).body
        for node in body[1:] if isinstance(body[0], ast.Expr) else body:
            if not (isinstance(node, allowed) or _re_exports(node)):
                code[str(path.relative_to(ROOT))] = getattr(node, "lineno", 0)
                break
    assert code == {}
