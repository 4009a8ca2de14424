"""End-to-end: opening and saving a committed notebook in JupyterLab leaves `make test`
green.

JupyterLab writes what its kernel reports (``language_info``, with the Python patch
version) and its own JSON layout as soon as a notebook is opened and saved, by hand or by
autosave.  A student who opens a chapter, edits nothing and then runs ``make test`` must
still pass the reproducibility check (``tools/check_notebooks_reproducible.py``).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

import check_notebooks_reproducible as reproducible  # noqa: E402

# a short chapter keeps the re-execution of the check quick
NOTEBOOK = "00_start_here.ipynb"


def test_open_and_save_keeps_the_notebook_reproducible(lab, lab_server, tmp_path):
    committed = ROOT / "notebooks" / NOTEBOOK
    name = f"opened_{NOTEBOOK}"
    saved = lab_server.root / name
    shutil.copyfile(committed, saved)  # with its stored outputs, unlike the other tests

    lab.open(name)
    lab.save()

    saved_text = saved.read_text(encoding="utf-8")
    committed_text = committed.read_text(encoding="utf-8")
    assert reproducible.editor_neutral(saved_text) == reproducible.editor_neutral(
        committed_text
    ), "JupyterLab changed more than the layout and language_info.version on save"

    # and the check `make test` runs passes on the file JupyterLab wrote
    problem = reproducible.check(
        saved, ignore_images=False, patterns=reproducible.load_patterns(), timeout=120,
        outdir=tmp_path,
    )
    assert problem is None, problem
