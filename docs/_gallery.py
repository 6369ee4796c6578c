"""sphinx-gallery hooks: run each example in its quick mode and show the PNGs it writes.

:func:`stage` copies ``examples/*.py`` into the folder sphinx-gallery reads, each with its
docstring's first paragraph made a section title (sphinx-gallery takes the page title from
there; the scripts' own docstrings stay plain text for ``--help``), and ``gallery_header.rst``
as the gallery's header.

The examples save their pictures with ``savefig`` into the folder named on their command line
and close the figures, so matplotlib's own scraper would see nothing: :func:`png_scraper`
collects the new PNG files of that folder after each code block instead.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sphinx_gallery.scrapers import figure_rst

HERE = Path(__file__).resolve().parent
#: The scripts, and the folder sphinx-gallery reads them from (a titled copy of each).
EXAMPLES = HERE.parent / "examples"
STAGED = HERE / "_build" / "gallery-src"
#: Where the examples write their pictures during a build (one folder per script).
OUTPUT = HERE / "_build" / "gallery-output"
#: Run first: it sets XLA_FLAGS for 4 host devices, which only works before jax is imported.
FIRST = ("sharded_lm.py",)


def titled(source: str) -> str:
    """`source` with its module docstring's first paragraph on one line, underlined."""
    if not source.startswith('"""'):
        msg = "an example starts with its docstring"
        raise ValueError(msg)
    end = source.index("\n\n")
    title = " ".join(source[3:end].split())
    return f'"""{title}\n{"=" * len(title)}{source[end:]}'


def _write(path: Path, text: str) -> None:
    """Write only when changed: sphinx-gallery reruns a script whose copy changed."""
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def stage() -> Path:
    """Copy the examples (titled) and the header into :data:`STAGED`; return it."""
    STAGED.mkdir(parents=True, exist_ok=True)
    scripts = sorted(EXAMPLES.glob("*.py"))
    for script in scripts:
        _write(STAGED / script.name, titled(script.read_text()))
    for stale in set(STAGED.glob("*.py")) - {STAGED / s.name for s in scripts}:
        stale.unlink()
    _write(STAGED / "GALLERY_HEADER.rst", (HERE / "gallery_header.rst").read_text())
    return STAGED


def _output(src_file: str | Path) -> Path:
    return OUTPUT / Path(src_file).stem


def reset_argv(gallery_conf: dict, script_vars: dict) -> list[str]:
    """The command line of each example: quick mode, pictures into a fresh folder."""
    out = _output(script_vars["src_file"])
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    return ["--quick", str(out)]


def png_scraper(block, block_vars: dict, gallery_conf: dict) -> str:
    """The rst of the PNGs the example wrote since the last block, copied into the gallery."""
    out = _output(block_vars["src_file"])
    seen = block_vars.setdefault("mlprims_seen_pngs", set())
    new = sorted(p for p in out.glob("*.png") if p.name not in seen) if out.exists() else []
    images = []
    for png in new:
        target = next(block_vars["image_path_iterator"])
        shutil.copyfile(png, target)
        seen.add(png.name)
        images.append(target)
    return figure_rst(images, gallery_conf["src_dir"])


class order:
    """Sort key of the examples: :data:`FIRST` first, then by file name."""

    def __init__(self, src_dir: str) -> None:
        self.src_dir = src_dir

    def __call__(self, filename: str) -> tuple[int, str]:
        return (0 if filename in FIRST else 1, filename)

    def __repr__(self) -> str:
        return "_gallery.order"
