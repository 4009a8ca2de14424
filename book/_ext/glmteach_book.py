"""Sphinx extension of the glmteach book: MathJax from files shipped with the build.

Sphinx loads MathJax 3 from a CDN by default, so a book read offline shows every
formula as raw TeX.  This extension points ``mathjax_path`` at ``_static/mathjax/
tex-chtml.js`` and, when the build has finished, copies the part of a local MathJax 3
distribution that the pages use there:

- ``tex-chtml.js``: TeX input, CommonHTML output, the menu and assistive MathML;
- ``input/tex/extensions/``: packages that ``autoload`` fetches for rarer macros;
- ``output/chtml/fonts/woff-v2/``: the fonts;
- ``ui/`` and ``a11y/``: the menu and accessibility components it loads on demand.

Where the files come from, first found wins:

1. the folder in the environment variable ``GLMTEACH_MATHJAX_DIR`` (e.g. the ``es5/``
   folder of the npm package ``mathjax@3``);
2. the PyPI package ``sphinx-mathjax-offline`` (a MathJax 3.2 copy; installed by the
   ``book`` extra).  Only its files are used, not its Sphinx hook, which would copy the
   whole 24 MB distribution.

The copy is not put in ``html_static_path``: Sphinx would then also inject the files it
finds there, and a page must load MathJax once.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

MATHJAX_ENTRY = "tex-chtml.js"
MATHJAX_PARTS = (
    MATHJAX_ENTRY,
    "input/tex/extensions",
    "output/chtml/fonts/woff-v2",
    "ui",
    "a11y",
)


def mathjax_source() -> Path:
    """The local MathJax 3 folder (see the module docstring); a clear error if none."""
    env = os.environ.get("GLMTEACH_MATHJAX_DIR")
    candidates = [Path(env)] if env else []
    spec = importlib.util.find_spec("sphinx-mathjax-offline")
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            candidates.append(Path(location) / "static" / "mathjax")
    for folder in candidates:
        if (folder / MATHJAX_ENTRY).is_file():
            return folder
    raise RuntimeError(
        "no local MathJax 3 found: install the book tools (pip install -e '.[book]', "
        "which brings sphinx-mathjax-offline) or set GLMTEACH_MATHJAX_DIR to a MathJax 3 "
        f"es5/ folder containing {MATHJAX_ENTRY}"
    )


def _set_mathjax_path(app, config) -> None:
    config.mathjax_path = f"mathjax/{MATHJAX_ENTRY}"
    mathjax_source()  # fail at the start of the build, not at its end


def _copy_mathjax(app, exc) -> None:
    if exc is not None or app.builder.format != "html":
        return
    source = mathjax_source()
    target = Path(app.outdir) / "_static" / "mathjax"
    if target.exists():
        shutil.rmtree(target)
    for part in MATHJAX_PARTS:
        src, dst = source / part, target / part
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst)
        else:
            shutil.copy2(src, dst)


def setup(app):
    app.connect("config-inited", _set_mathjax_path)
    app.connect("build-finished", _copy_mathjax)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
