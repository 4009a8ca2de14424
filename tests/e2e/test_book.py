"""The static book (``make book``) read in a real browser from ``file://``, offline.

Every page is opened in headless Chromium with every request that is not a
``file://`` URL aborted (and recorded: one is a failure).  Each page must have:

- its math typeset by the MathJax copy shipped in the build (no raw ``$$`` / ``\\(``
  left outside code, no MathJax error box);
- every image loaded (the hidden frames of the steppers too);
- a clean console (no error, no warning, no uncaught exception);
- internal links that resolve: each ``file://`` link names a file of the build and,
  with ``#fragment``, an element with that id in it.

On chapter 03 the pre-rendered IRLS stepper must step without a kernel: the slider
(keyboard) and the Play button change the visible figure and the iteration table.
Search, the sidebar and the previous / next links are checked once, and in JupyterLab
the same output shows the live widget, not the frames.

The book is used from ``build/book`` when its stamp says it was built from the current
inputs (``make book`` just ran); otherwise it is built into a temporary folder.
``GLMTEACH_E2E_NOTEBOOKS`` builds it from another notebook folder.
Without Chromium these tests skip (``GLMTEACH_REQUIRE_BROWSER=1`` makes that a
failure), like the other browser tests.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

import build_book  # noqa: E402

from glmteach.frames import STATIC_CLASS  # noqa: E402

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
# The notebooks the book is built from; another folder with GLMTEACH_E2E_NOTEBOOKS (as for
# the JupyterLab tests).
NOTEBOOK_DIR = Path(os.environ.get("GLMTEACH_E2E_NOTEBOOKS", build_book.NOTEBOOK_DIR)).resolve()
PAGES = ["index", *[p.stem for p in build_book.notebooks(NOTEBOOK_DIR)], build_book.HOW_TO_RUN]
STEPPER_PAGE = "03_mle_and_irls"

# Text outside code that MathJax should have replaced.
_RAW_MATH_JS = r"""() => {
    const main = document.querySelector('main') || document.body;
    const copy = main.cloneNode(true);
    copy.querySelectorAll('pre, code, script, style, mjx-container, .highlight')
        .forEach(e => e.remove());
    const text = copy.textContent;
    const found = [];
    for (const marker of ['$$', '\\(', '\\[', '\\begin{']) {
        const at = text.indexOf(marker);
        if (at >= 0) found.push(marker + ' in "' + text.slice(Math.max(0, at - 40), at + 40) + '"');
    }
    return found;
}"""
_MATH_STATE_JS = """async () => {
    const spans = document.querySelectorAll('.math').length;
    if (!spans) return {spans: 0, typeset: 0, errors: 0, mathjax: !!window.MathJax};
    if (!(window.MathJax && MathJax.startup && MathJax.startup.promise)) {
        return {spans, typeset: 0, errors: 0, mathjax: false};
    }
    await MathJax.startup.promise;
    return {spans,
            typeset: document.querySelectorAll('.math mjx-container, mjx-container.MathJax').length,
            errors: document.querySelectorAll('mjx-merror').length,
            mathjax: true};
}"""
_IMAGES_JS = """() => [...document.images].map(img => ({
    src: img.getAttribute('src').slice(0, 80), complete: img.complete, width: img.naturalWidth}))"""
_LINKS_JS = """() => [...document.querySelectorAll('a[href]')].map(a => {
    const url = new URL(a.getAttribute('href'), location.href);
    return [url.protocol, url.pathname, url.hash, a.getAttribute('href')];
})"""
# What the visible frame of the first static stepper shows: image digest + table text.
_VISIBLE_FRAME_JS = """() => {
    const root = document.querySelector('.glmteach-static-stepper');
    const frames = [...root.querySelectorAll('.gt-frame')].filter(f => f.offsetParent !== null);
    if (frames.length !== 1) return {count: frames.length};
    const img = frames[0].querySelector('img');
    const src = img ? img.src : '';
    let h = 0x811c9dc5;
    for (let i = 0; i < src.length; i++) { h ^= src.charCodeAt(i); h = Math.imul(h, 0x01000193); }
    return {count: 1, image: src.length + ':' + (h >>> 0).toString(16),
            imageShown: !!img && img.complete && img.naturalWidth > 0 && img.offsetWidth > 0,
            table: frames[0].querySelector('.gt-table').innerText,
            k: frames[0].dataset.k,
            value: root.querySelector('.gt-slider').value};
}"""


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def book(browser_available, tmp_path_factory) -> Path:
    """A build of the current sources: ``build/book`` if fresh, else a new one."""
    out = build_book.DEFAULT_OUT
    stamp = out / build_book.STAMP_NAME
    try:
        fresh = json.loads(stamp.read_text())["inputs"] == build_book.inputs_digest(NOTEBOOK_DIR)
    except (OSError, ValueError, KeyError):
        fresh = False
    if not fresh:
        out = tmp_path_factory.mktemp("book") / "book"
        start = time.perf_counter()
        code = build_book.build(out, NOTEBOOK_DIR)
        assert code == 0, "the book does not build (Sphinx warnings are errors; see above)"
        print(f"book built in {time.perf_counter() - start:.1f} s")
    return out


class OfflinePage:
    """A page of a fresh browser context in which every non-``file://`` request is
    aborted and recorded; console messages and failed requests are recorded too."""

    def __init__(self, browser, width: int = 1280, height: int = 900):
        self.context = browser.new_context(viewport={"width": width, "height": height})
        self.context.set_default_timeout(30_000)
        self.blocked: list[str] = []
        self.failed: list[str] = []
        self.console: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda exc: self.console.append(f"uncaught: {exc}"))
        self.page.on("requestfailed", lambda r: self.failed.append(f"{r.url[:120]}: {r.failure}"))

    def _route(self, route):
        url = route.request.url
        if url.startswith("file://"):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()

    def _on_console(self, message):
        if message.type in ("error", "warning", "assert"):
            self.console.append(f"{message.type}: {message.text}")

    def open(self, book: Path, name: str, query: str = "") -> None:
        self.page.goto((book / f"{name}.html").as_uri() + query)
        self.page.wait_for_load_state("load")

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def offline(browser, request):
    page = OfflinePage(browser)
    yield page
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)[-150:]
        try:
            page.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
            print(f"\nscreenshot: {ARTIFACTS / (name + '.png')}")
        except Exception as exc:  # the page may be gone
            print(f"\nno screenshot: {exc}")
    page.close()


_ID_CACHE: dict[Path, set[str]] = {}


def _ids(path: Path) -> set[str]:
    if path not in _ID_CACHE:
        text = path.read_text(encoding="utf-8", errors="replace")
        _ID_CACHE[path] = set(re.findall(r"""\bid=["']([^"']+)["']""", text))
    return _ID_CACHE[path]


# --------------------------------------------------------------------------- tests
def test_book_has_every_notebook_and_the_extra_pages(book):
    for name in PAGES + ["search", "genindex"]:
        assert (book / f"{name}.html").is_file(), f"{name}.html missing from {book}"
    index = (book / "index.html").read_text(encoding="utf-8")
    for name in PAGES[1:]:
        assert f'href="{name}.html"' in index, f"{name} is not in the table of contents"


@pytest.mark.parametrize("name", PAGES)
def test_page_reads_offline(book, offline, name):
    offline.open(book, name)
    page = offline.page
    math = page.evaluate(_MATH_STATE_JS)
    if math["spans"]:
        assert math["mathjax"], f"{name}: the page has math but MathJax did not load"
        assert math["typeset"] >= math["spans"], (
            f"{name}: {math['typeset']} of {math['spans']} formulas typeset")
        assert math["errors"] == 0, f"{name}: {math['errors']} MathJax error boxes"
    raw = page.evaluate(_RAW_MATH_JS)
    assert not raw, f"{name}: raw TeX left on the page: {raw[:3]}"

    page.wait_for_function("() => [...document.images].every(i => i.complete)")
    images = page.evaluate(_IMAGES_JS)
    broken = [img["src"] for img in images if not (img["complete"] and img["width"] > 0)]
    assert not broken, f"{name}: {len(broken)} of {len(images)} images did not load: {broken[:3]}"

    dead = []
    for protocol, path, fragment, href in page.evaluate(_LINKS_JS):
        if protocol != "file:":
            continue
        target = Path(unquote(path))
        if not target.is_file():
            dead.append(f"{href} (no file {target.name})")
        elif fragment and fragment != "#" and unquote(fragment[1:]) not in _ids(target):
            dead.append(f"{href} (no id {fragment} in {target.name})")
    assert not dead, f"{name}: {len(dead)} internal links do not resolve: {dead[:5]}"

    page.wait_for_timeout(200)  # late console messages (deferred scripts)
    assert not offline.blocked, f"{name}: requests that would leave the machine: {offline.blocked}"
    assert not offline.failed, f"{name}: requests that failed: {offline.failed}"
    assert not offline.console, f"{name}: console not clean: {offline.console}"


def test_chapter_03_stepper_steps_without_a_kernel(book, offline):
    offline.open(book, STEPPER_PAGE)
    page = offline.page
    stepper = page.locator(".glmteach-static-stepper").first
    assert stepper.count(), (
        f"{STEPPER_PAGE} has no pre-rendered stepper: re-execute the notebook "
        f"(tools/run_notebooks.py notebooks/{STEPPER_PAGE}.ipynb) so its stored output "
        "holds the frames")
    stepper.scroll_into_view_if_needed()
    slider = stepper.locator(".gt-slider")
    assert slider.is_visible(), "the stepper's controls are hidden (did its script run?)"
    first = page.evaluate(_VISIBLE_FRAME_JS)
    assert first["count"] == 1 and first["imageShown"], first
    assert first["k"] == "0" and first["value"] == "0", first

    slider.focus()
    slider.press("ArrowRight")
    second = page.evaluate(_VISIBLE_FRAME_JS)
    assert second["count"] == 1 and second["imageShown"], second
    assert second["k"] == "1", second
    assert second["image"] != first["image"], "moving the slider did not change the figure"
    assert second["table"] != first["table"], "moving the slider did not change the table"

    slider.press("End")
    last = page.evaluate(_VISIBLE_FRAME_JS)
    assert last["k"] == slider.get_attribute("max") and last["image"] != second["image"], last
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "book_03_stepper_last.png"), clip=_clip(stepper))

    stepper.locator(".gt-play").click()  # at the end, Play starts again from 0
    page.wait_for_function(
        "() => +document.querySelector('.glmteach-static-stepper .gt-slider').value >= 2",
        timeout=10_000)
    played = page.evaluate(_VISIBLE_FRAME_JS)
    assert played["count"] == 1 and played["image"] not in (first["image"], last["image"])
    assert not offline.blocked and not offline.console, (offline.blocked, offline.console)


def _clip(locator) -> dict:
    box = locator.bounding_box()
    return {"x": box["x"], "y": box["y"], "width": box["width"],
            "height": min(box["height"], 1200)}


def test_search_finds_the_chapters(book, offline):
    offline.open(book, "search", "?q=deviance")
    page = offline.page
    results = page.locator("#search-results ul.search li a")
    results.first.wait_for(timeout=20_000)
    hrefs = {results.nth(i).get_attribute("href").split("#")[0].split("?")[0]
             for i in range(results.count())}
    assert "05_deviance_goodness_of_fit.html" in hrefs, sorted(hrefs)
    assert not offline.blocked and not offline.console, (offline.blocked, offline.console)


def test_sidebar_and_previous_next_links(book, offline):
    offline.open(book, STEPPER_PAGE)
    page = offline.page
    sidebar = {a.split("#")[0] for a in page.eval_on_selector_all(
        ".bd-sidebar-primary a.reference.internal", "els => els.map(e => e.getAttribute('href'))")}
    for name in PAGES:
        if name != STEPPER_PAGE and name != "index":
            assert f"{name}.html" in sidebar, f"{name} missing from the sidebar"
    prev_link = page.locator("a.left-prev").get_attribute("href")
    next_link = page.locator("a.right-next").get_attribute("href")
    position = PAGES.index(STEPPER_PAGE)
    assert prev_link == f"{PAGES[position - 1]}.html"
    assert next_link == f"{PAGES[position + 1]}.html"
    assert urlsplit(prev_link).scheme == ""


def test_jupyterlab_shows_the_live_stepper_not_the_frames(lab, lab_server):
    """The same display output in JupyterLab: the widget view outranks the frames'
    text/html, so the live stepper (noUiSlider, Play widget) is shown and the static copy
    is not; after a save the file holds both, and the frames' html is what the book
    renders once the widget view has been stripped."""
    import nbformat

    name = "_book_stepper_in_lab.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python",
                                 "name": "python3"}
    nb.cells = [
        nbformat.v4.new_code_cell(
            "import numpy as np\nimport glmteach as gt\nfrom glmteach import widgets\n"
            "x = np.linspace(0, 1, 40)\ny = np.arange(40) % 5\n"
            "res = gt.fit(np.column_stack([np.ones(40), x]), y, family=gt.Poisson())"),
        nbformat.v4.new_code_cell("widgets.irls_stepper(res)"),
    ]
    nbformat.write(nb, lab_server.root / name)
    lab.open(name)
    lab.run_all()
    cell, slider = lab.widget_cell("slider", "iteration")
    assert slider.is_visible()
    assert cell.locator(".widget-play").count() == 1
    assert cell.locator(f".{STATIC_CLASS}").count() == 0, "JupyterLab shows the static frames"
    lab.save()
    outputs = lab.notebook_json()["cells"][1]["outputs"]
    data = outputs[0]["data"]
    assert "application/vnd.jupyter.widget-view+json" in data
    assert STATIC_CLASS in "".join(data["text/html"])
    assert not lab.rendered_errors(), lab.rendered_errors()
