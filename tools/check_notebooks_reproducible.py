#!/usr/bin/env python3
"""Check that every committed notebook is exactly what ``make notebooks`` produces.

Usage::

    python tools/check_notebooks_reproducible.py            # every notebooks/*.ipynb
    python tools/check_notebooks_reproducible.py NB.ipynb ...

Each notebook is re-executed in a fresh kernel and normalised with the very code of
``tools/run_notebooks.py`` (``process_notebook``); the result is kept in memory (and,
for a failing notebook, written to a temporary folder for inspection) and compared with
the committed file (as data: ``editor_neutral`` ignores JSON layout and the Python patch
version that JupyterLab writes when a notebook is opened), two notebooks at a time by
default (``--jobs``).  The committed files are never modified.  The working directory
of the kernel is the notebook's own folder, as in ``make notebooks``, so relative
paths in a notebook behave the same.

Images: matplotlib's inline PNGs were byte-identical across fresh runs on the project's
machine (same matplotlib and fonts: Agg renders deterministically and the PNG metadata
holds only the matplotlib version), so the comparison includes ``image/png`` bytes.  A
different matplotlib or FreeType version changes them; ``make notebooks`` then
refreshes the files.  ``--ignore-images`` compares everything except image bytes (the
images must still be present in the same outputs).

Exit status 0 when every notebook matches; 1 otherwise, naming each notebook that
differs and its first differing cell.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run_notebooks import (  # noqa: E402
    default_jobs,
    default_notebooks,
    load_patterns,
    map_notebooks,
    process_notebook,
)

IMAGE_MIMES = ("image/png", "image/jpeg", "image/svg+xml")


def editor_neutral(text: str) -> dict:
    """The notebook as data, without what opening and saving it in an editor may change:
    JSON layout (key order, line splits of strings) and the Python patch version in
    ``language_info`` (JupyterLab writes its kernel's).  Nothing else is ignored."""
    nb = json.loads(text)
    nb.get("metadata", {}).get("language_info", {}).pop("version", None)
    for cell in nb.get("cells", []):
        for key in ("source",):
            if isinstance(cell.get(key), list):
                cell[key] = "".join(cell[key])
        for out in cell.get("outputs", []):
            if isinstance(out.get("text"), list):
                out["text"] = "".join(out["text"])
            for mime, value in out.get("data", {}).items():
                if isinstance(value, list):
                    out["data"][mime] = "".join(value)
    return nb


def _mask_images(nb: dict) -> dict:
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            for mime in IMAGE_MIMES:
                if mime in data:
                    data[mime] = "<image>"
    return nb


def _cell_text(cell: dict) -> str:
    return json.dumps(cell, indent=1, sort_keys=True, ensure_ascii=False)


def first_difference(committed: dict, fresh: dict) -> str:
    """A short human description of where two notebooks first differ."""
    if committed.get("metadata") != fresh.get("metadata"):
        return "notebook metadata differs"
    old_cells, new_cells = committed.get("cells", []), fresh.get("cells", [])
    if len(old_cells) != len(new_cells):
        return f"number of cells differs: committed {len(old_cells)}, fresh {len(new_cells)}"
    for index, (old, new) in enumerate(zip(old_cells, new_cells, strict=True)):
        if old != new:
            source = "".join(old.get("source", ""))
            first_line = source.strip().splitlines()[0] if source.strip() else "<empty>"
            diff = difflib.unified_diff(
                _cell_text(old).splitlines(),
                _cell_text(new).splitlines(),
                "committed",
                "re-executed",
                lineterm="",
                n=1,
            )
            shown = []
            for line in diff:
                shown.append(line if len(line) <= 160 else line[:160] + " ...")
                if len(shown) >= 30:
                    shown.append("...")
                    break
            return (
                f"cell {index} ({old.get('cell_type')}, id={old.get('id')!r}, "
                f"starts {first_line[:60]!r}) differs:\n" + "\n".join(shown)
            )
    return "files differ in formatting only (not written by tools/run_notebooks.py?)"


def check(path: Path, ignore_images: bool, patterns, timeout: int, outdir: Path) -> str | None:
    """None if the committed notebook is reproduced exactly, else a message."""
    committed_text = path.read_text(encoding="utf-8")
    fresh_text = process_notebook(path, timeout=timeout, patterns=patterns)
    if fresh_text == committed_text:
        return None
    committed, fresh = editor_neutral(committed_text), editor_neutral(fresh_text)
    if committed == fresh:
        return None
    if ignore_images:
        if _mask_images(committed) == _mask_images(fresh):
            return None
    copy = outdir / path.name
    copy.write_text(fresh_text, encoding="utf-8")
    return f"{first_difference(committed, fresh)}\n  re-executed copy: {copy}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: notebooks/*.ipynb")
    parser.add_argument("--timeout", type=int, default=120, help="seconds per cell")
    parser.add_argument("--ignore-images", action="store_true", help="do not compare image bytes")
    parser.add_argument(
        "-j", "--jobs", type=int, default=default_jobs(), help="notebooks run in parallel"
    )
    args = parser.parse_args(argv)
    paths = [p.resolve() for p in args.notebooks] or default_notebooks()
    if not paths:
        print("no notebooks to check")
        return 0
    patterns = load_patterns()
    outdir = Path(tempfile.mkdtemp(prefix="glmteach-nbcheck-"))
    bad = []
    results = map_notebooks(
        check, paths, args.jobs, args.ignore_images, patterns, args.timeout, outdir
    )
    for path, seconds, problem, error in results:
        if error is not None:
            problem = f"execution failed: {error}"
        if problem is None:
            print(f"{seconds:6.1f} s  reproducible  {path}", flush=True)
        else:
            bad.append(path)
            print(f"{seconds:6.1f} s  DIFFERS       {path}\n  {problem}", flush=True)
    if bad:
        print(
            f"{len(bad)} of {len(paths)} notebook(s) are not what `make notebooks` produces: "
            "run `make notebooks` and commit the result."
        )
        return 1
    print(f"all {len(paths)} notebook(s) reproducible")
    return 0


if __name__ == "__main__":
    sys.exit(main())
