"""The documentation site's API reference leaves no public name out (no Sphinx build: cheap).

``docs/_api.py`` writes the API pages from the packages' ``__all__`` at every build; this test
imports it and renders the pages in memory. Every name of ``mlprims.__all__``,
``mlprims.random.__all__``, ``mlprims.models.__all__`` and ``mlprims.backends.__all__`` must be
an autosummary entry of some page (a name of ``mlprims`` that belongs to ``mlprims.models`` or
``mlprims.backends`` may be documented there, as the same object), or be one of the few names
``_api.NOT_AN_ENTRY`` explains. The build itself: ``python -m sphinx -W -b html docs
docs/_build/html`` (see docs/index.rst).
"""

from __future__ import annotations

import importlib
import importlib.util
import pathlib
import re

import pytest

import mlprims

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _load_api():
    spec = importlib.util.spec_from_file_location("_docs_api", ROOT / "docs" / "_api.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


API = _load_api()


def _documented() -> dict[str, object]:
    """Fully qualified name -> object, for every autosummary entry of the rendered pages."""
    out: dict[str, object] = {}
    for family, names in API.pages().items():
        text = API.render(family, names)
        (current,) = re.findall(r"^\.\. currentmodule:: (\S+)$", text, re.M)
        entries = re.findall(r"^   (\w+)$", text.split(".. autosummary::", 1)[1], re.M)
        assert sorted(entries) == sorted(n.rsplit(".", 1)[1] for n in names), family
        for entry in entries:
            module = importlib.import_module(current)
            out[f"{current}.{entry}"] = getattr(module, entry)
    return out


DOCUMENTED = _documented()


@pytest.mark.parametrize(
    "package", ["mlprims", "mlprims.random", "mlprims.models", "mlprims.backends"]
)
def test_every_public_name_is_on_an_api_page(package: str) -> None:
    module = importlib.import_module(package)
    missing = []
    for name in module.__all__:
        if package == "mlprims" and name in API.NOT_AN_ENTRY:
            continue
        obj = getattr(module, name)
        if package == "mlprims" and name in API.PACKAGES:  # a package: a page of its own
            assert name in API.pages(), name
            continue
        same = [q for q, o in DOCUMENTED.items() if q.rsplit(".", 1)[1] == name and o is obj]
        if not same:
            missing.append(f"{package}.{name}")
    assert not missing, f"not on any page of docs/api (see docs/_api.py): {missing}"


def test_every_family_folder_has_a_page() -> None:
    families = {
        p.stem if p.is_file() else p.name
        for p in (ROOT / "mlprims").iterdir()
        if not p.name.startswith("_") and (p.suffix == ".py" or (p / "__init__.py").exists())
    }
    internal = {"testing", "tools"}  # test helpers and the command line: no public names
    assert families - internal - set(API.pages()) == set()


def test_the_index_names_the_version_and_every_page() -> None:
    index = API.render_index(API.pages())
    assert mlprims.__version__ in index and "__version__" in index
    assert all(f"   {family}" in index for family in API.pages())


def test_the_site_index_has_the_set_up_commands_first_and_the_build_command() -> None:
    text = (ROOT / "docs" / "index.rst").read_text()
    blocks = re.findall(r"\.\. code-block:: bash\n\n   (.*)\n", text)
    assert blocks == [
        "pip install -e . && mlprims check",
        "pip install -r requirements-dev.txt && pytest",
        "python -m sphinx -W -b html docs docs/_build/html",
    ]


def _toctree_entries(text: str) -> list[str]:
    """The entries of every ``.. toctree::`` of an rst text, in order."""
    entries = []
    for body in re.findall(r"^\.\. toctree::\n((?:   .*\n|\n)*)", text, re.M):
        entries += [line.strip() for line in body.splitlines() if re.match(r"   [^:\s]", line)]
    return entries


def test_the_site_index_toctree_names_every_guide() -> None:
    guides = sorted(p.stem for p in (ROOT / "docs" / "guides").glob("*.rst"))
    entries = _toctree_entries((ROOT / "docs" / "index.rst").read_text())
    named = [e.removeprefix("guides/") for e in entries if e.startswith("guides/")]
    assert guides and sorted(named) == guides, "docs/index.rst's toctree and docs/guides/ differ"
    assert entries.index(f"guides/{named[-1]}") < entries.index("api/index")  # guides first
