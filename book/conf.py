"""Sphinx configuration of the glmteach book (``make book``; see tools/build_book.py).

The book is built from a staging folder that tools/build_book.py fills with the pages
of this folder and every ``notebooks/*.ipynb`` (in file order), so this file lists no
chapter.  The toolchain is the one jupyter-book 1.x wraps: Sphinx + MyST-NB +
sphinx-book-theme, driven directly (no thebe, no CDN):

- notebooks are rendered from their stored outputs (``nb_execution_mode = "off"``);
- math is typeset by a MathJax 3 copy shipped with the build (``_ext/glmteach_book``);
- every warning is an error (tools/build_book.py passes ``-W --keep-going``).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "_ext"))

project = "glmteach"
author = "the glmteach authors"
copyright = "the glmteach authors, MIT License"
html_title = "glmteach: Generalized Linear Models, step by step"

extensions = ["myst_nb", "glmteach_book"]
root_doc = "index"
exclude_patterns = ["_build", "**.ipynb_checkpoints", "_ext"]

# --- MyST / MyST-NB ---------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
nb_execution_mode = "off"  # stored outputs only: the book executes nothing
nb_merge_streams = True
# The IRLS stepper's output carries pre-rendered frames as text/html next to the widget
# view (glmteach.frames); the stored notebooks have no widget state, so text/html wins.

# --- HTML ---------------------------------------------------------------------------
html_theme = "sphinx_book_theme"
html_theme_options = {
    "home_page_in_toc": True,
    "use_download_button": False,  # would offer _sources/, which the book does not ship
    "use_fullscreen_button": False,
    "show_toc_level": 2,
    "navigation_with_keys": False,
}
html_static_path = ["_static"]
html_css_files = ["glmteach-book.css"]
html_copy_source = False
html_show_sourcelink = False
# Search summaries fetch() each result page, which browsers refuse from file://.
html_show_search_summary = False
html_last_updated_fmt = None
# Colour mode before the reader picks one: without it the theme logs "Got invalid theme
# mode" on every first visit.
html_context = {"default_mode": "auto"}
