"""The development environment is pinned, and this one has exactly the pinned versions.

``requirements-dev.txt`` is compiled from the loose list ``requirements-dev.in`` by pip-tools
(options in pyproject.toml, ``[tool.pip-tools]``); several tests assume the versions it pins
(bit-for-bit equality with ``jax.random``, the recorded results of ``mlprims differences``,
Hugging Face's warpers), so an environment that drifted from it fails here, with the command
that mends it, before it fails somewhere obscure.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import pathlib
import re

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = pathlib.Path(__file__).resolve().parents[1]
LOOSE = ROOT / "requirements-dev.in"
PINNED = ROOT / "requirements-dev.txt"
INSTALL = "pip install -r requirements-dev.txt"
COMPILE = "pip-compile requirements-dev.in"  # add --upgrade to move every pin to the newest


def _requirements(path: pathlib.Path) -> list[Requirement]:
    """The package lines of a requirements file (comments, options and `-e` lines left out)."""
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [Requirement(line) for line in lines if line and not line.startswith("-")]


def test_every_requirement_is_pinned() -> None:
    loose = [
        line for line in _requirements(PINNED) if not re.fullmatch(r"==[^*,]+", str(line.specifier))
    ]
    assert not loose, f"requirements-dev.txt has unpinned lines {loose}: run `{COMPILE}`"


def test_the_pins_are_compiled_from_the_loose_list() -> None:
    """A package added to requirements-dev.in but not compiled into requirements-dev.txt."""
    pinned = {canonicalize_name(r.name): r for r in _requirements(PINNED)}
    for wanted in _requirements(LOOSE):
        name = canonicalize_name(wanted.name)
        assert name in pinned, f"{wanted.name} is in requirements-dev.in only: run `{COMPILE}`"
        version = next(iter(pinned[name].specifier)).version
        assert wanted.specifier.contains(version, prereleases=True), (
            f"requirements-dev.txt pins {name}=={version}, outside requirements-dev.in's "
            f"{wanted}: run `{COMPILE}`"
        )
    assert "-e file:." in PINNED.read_text().splitlines(), "mlprims itself, in editable mode"


_FROM_REQUIREMENTS = importlib.util.find_spec("piptools") is not None or bool(os.environ.get("CI"))


@pytest.mark.skipif(
    not _FROM_REQUIREMENTS,
    reason="this environment was not installed from requirements-dev.txt (pip-tools, which "
    "only that file installs, is missing), so nothing here is pinned; under CI this runs",
)
def test_the_installed_versions_are_the_pinned_ones() -> None:
    stale = []
    for pin in _requirements(PINNED):
        try:
            installed = importlib.metadata.version(pin.name)
        except importlib.metadata.PackageNotFoundError:
            stale.append(f"{pin.name} is not installed ({pin} is pinned)")
            continue
        if not pin.specifier.contains(installed, prereleases=True):
            stale.append(f"{pin.name} {installed} is installed, {pin} is pinned")
    assert not stale, f"{'; '.join(stale)}: run `{INSTALL}`"
