"""Sphinx configuration of the mlprims documentation site.

Build it (warnings are errors) with::

    python -m sphinx -W -b html docs docs/_build/html

The API pages are written by ``_api.py`` at every build (from the packages' ``__all__``); the
gallery runs ``examples/*.py`` with ``--quick`` through sphinx-gallery (``_gallery.py``); the
guides' generated parts (the differences catalogue, a graded report, benchmarks/RESULTS.md) are
written by ``_guides.py``.
Nothing is fetched from the network (no intersphinx).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # _api, _gallery and _guides
os.environ.setdefault("MPLBACKEND", "Agg")

import _api  # noqa: E402
import _gallery  # noqa: E402
import _guides  # noqa: E402

import mlprims  # noqa: E402

_api.write(HERE / "api")
_guides.write(HERE / "guides" / "generated")

project = "mlprims"
author = "the mlprims authors"
copyright = "the mlprims authors"
release = version = mlprims.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # MathJax 3 served from the site itself: formulas render offline
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

exclude_patterns = ["_build", "gallery_header.rst"]
templates_path: list[str] = []

# autodoc / autosummary: one stub page per public name, written at build time.
autosummary_generate = True
autosummary_imported_members = True
autodoc_typehints = "none"  # the numpydoc Parameters sections say the types
autodoc_default_options = {"members": False}

# numpydoc: the docstrings are checked by tests/test_docs.py; here they are only rendered.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_validation_checks: set[str] = set()
numpydoc_xref_param_type = False

# The gallery: every script of examples/ is run in its quick mode, its PNGs shown on its page.
sphinx_gallery_conf = {
    "examples_dirs": str(_gallery.stage()),
    "gallery_dirs": str(HERE / "auto_examples"),
    "filename_pattern": r"/[^_][^/]*\.py$",  # run every script
    "reset_argv": "_gallery.reset_argv",
    "image_scrapers": ("_gallery.png_scraper",),
    "within_subsection_order": "_gallery.order",
    "download_all_examples": False,
    "remove_config_comments": True,
    "show_memory": False,
    "plot_gallery": "True",
    "abort_on_example_error": True,
    "matplotlib_animations": False,
    "first_notebook_cell": None,
    "capture_repr": (),
}

html_theme = "pydata_sphinx_theme"
html_title = f"mlprims {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 1,
}
html_static_path: list[str] = []
html_show_sourcelink = False
