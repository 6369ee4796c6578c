"""The built wheel holds every module: a new family folder cannot be left out of a release.

setup.py finds the packages under mlprims/ automatically and maps the root folder backends/ to
mlprims.backends; this test builds the wheel the way a release would and compares its file list
with the source tree.
"""

from __future__ import annotations

import pathlib
import shutil
import subprocess
import sys
import zipfile

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _source_files() -> set[str]:
    """The paths the wheel must hold: mlprims/**, and backends/ as mlprims/backends/."""
    package = {p.relative_to(ROOT).as_posix() for p in (ROOT / "mlprims").rglob("*.py")}
    backends = {
        "mlprims/backends/" + p.relative_to(ROOT / "backends").as_posix()
        for p in (ROOT / "backends").rglob("*.py")
    }
    return package | backends | {"mlprims/py.typed"}


def test_the_wheel_holds_every_module(tmp_path: pathlib.Path) -> None:
    # Build from a clean copy: a build/ folder left in the checkout could hide a missing module
    # (or ship a deleted one), and the build must not leave one behind.
    source = tmp_path / "source"
    junk = shutil.ignore_patterns(".*", "build", "dist", "*.egg-info", "__pycache__", "*.png")
    shutil.copytree(ROOT, source, ignore=junk)
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-q", "-w", str(wheels)],
        check=True,
        capture_output=True,
    )
    (wheel,) = wheels.glob("mlprims-*.whl")
    in_wheel = set(zipfile.ZipFile(wheel).namelist())
    missing = sorted(_source_files() - in_wheel)
    assert not missing, f"the wheel lacks {missing}: is a package folder missing __init__.py?"
    modules = {n for n in in_wheel if n.endswith(".py")}
    stray = sorted(modules - _source_files())
    assert not stray, f"the wheel holds modules that are not in the source tree: {stray}"
    entry_points = next(n for n in in_wheel if n.endswith("entry_points.txt"))
    assert "mlprims = mlprims.tools.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
