"""The built documentation site opens in a real browser: its index and a gallery page.

Debian's headless ``chromium`` loads each page from ``docs/_build/html`` (built by ``python -m
sphinx -W -b html docs docs/_build/html``, which ``.ci/run`` runs before the tests), dumps the
DOM it rendered and takes a screenshot: the page has its title, the gallery page shows the
example's pictures (``<img>`` of files that exist), the screenshots are not blank, and a
formula is typeset by the MathJax the site carries (``_static/mathjax``, no network needed).

Outside CI, a missing site or browser skips these tests (a ``skipif`` naming the command that
provides it); under ``CI``, which builds the site and installs chromium, they fail instead.
"""

from __future__ import annotations

import os
import pathlib
import re
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
SITE = ROOT / "docs" / "_build" / "html"
BUILD = "python -m sphinx -W -b html docs docs/_build/html"
#: A page the gallery always has: the examples' first picture, the positional encodings.
GALLERY_PAGE = "auto_examples/positional_encodings.html"
#: A page with a ``.. math::`` block: softmax's formula.
MATH_PAGE = "api/generated/mlprims.softmax.html"


def _chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


#: Outside CI, without the built site or the browser there is nothing to open. Under CI the
#: tests run whatever is missing, and fail on it.
pytestmark = pytest.mark.skipif(
    not os.environ.get("CI") and not ((SITE / "index.html").is_file() and _chromium_path()),
    reason=f"needs the built site (`{BUILD}`) and Debian's chromium (apt-get install chromium)",
)


@pytest.fixture(scope="module")
def browser() -> str:
    path = _chromium_path()
    assert path is not None, "no chromium here: .ci/run installs it (apt-get install chromium)"
    assert (SITE / "index.html").is_file(), f"the site is not built: .ci/run runs `{BUILD}`"
    return path


def _chromium(browser: str, *options: str, page: str) -> str:
    command = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
               *options, (SITE / page).as_uri()]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def _screenshot(browser: str, page: str, out: pathlib.Path) -> pathlib.Path:
    _chromium(browser, "--window-size=1280,1600", f"--screenshot={out}", page=page)
    assert out.is_file(), f"chromium wrote no screenshot of {page}"
    return out


def _not_blank(png: pathlib.Path) -> None:
    """Many colours and some contrast: a blank or single-colour page has neither."""
    from PIL import Image, ImageStat

    image = Image.open(png).convert("RGB")
    colours = image.getcolors(maxcolors=1 << 20) or []
    assert len(colours) > 50, f"{png.name}: {len(colours)} colours, a blank page?"
    assert max(ImageStat.Stat(image).stddev) > 10, f"{png.name}: no contrast"


@pytest.mark.parametrize("page", ["index.html", GALLERY_PAGE])
def test_a_page_has_its_title_and_is_not_blank(browser: str, page: str, tmp_path) -> None:
    pytest.importorskip("PIL")  # matplotlib's dependency
    dom = _chromium(browser, "--dump-dom", page=page)
    title = re.search(r"<title>(.*?)</title>", dom, re.S)
    assert title and "mlprims" in title.group(1), f"{page}: title {title and title.group(1)!r}"
    assert "<h1" in dom, f"{page}: no heading rendered"
    _not_blank(_screenshot(browser, page, tmp_path / "page.png"))


def test_the_gallery_page_shows_the_examples_pictures(browser: str) -> None:
    dom = _chromium(browser, "--dump-dom", page=GALLERY_PAGE)
    sources = re.findall(r'<img[^>]+src="([^"]+\.png)"', dom)
    assert sources, f"{GALLERY_PAGE}: no picture"
    page_dir = (SITE / GALLERY_PAGE).parent
    missing = [s for s in sources if not (page_dir / s).resolve().is_file()]
    assert not missing, f"{GALLERY_PAGE}: pictures not in the site: {missing}"


def test_formulas_are_typeset_by_the_mathjax_the_site_carries(browser: str) -> None:
    html = (SITE / MATH_PAGE).read_text()
    scripts = re.findall(r'<script[^>]+src="([^"]*mathjax[^"]*)"', html, re.I)
    assert scripts, f"{MATH_PAGE}: no MathJax script"
    assert all("://" not in s for s in scripts), f"MathJax from the network: {scripts}"
    formulas = html.count('class="math')
    assert formulas, f"{MATH_PAGE}: no formula to typeset"
    # virtual time lets MathJax's deferred scripts run before the DOM is dumped
    dom = _chromium(browser, "--virtual-time-budget=10000", "--dump-dom", page=MATH_PAGE)
    typeset = dom.count("<mjx-container")
    assert typeset >= formulas, f"{MATH_PAGE}: {typeset} of {formulas} formulas typeset"
    assert "<mjx-merror" not in dom, f"{MATH_PAGE}: MathJax could not read a formula"
