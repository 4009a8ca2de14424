#!/usr/bin/env python3
"""The one chapter shape of the collection, in code (docs/architecture.md §4).

Every chapter ``notebooks/NN_*.ipynb`` with NN < 90 has, in this order:

1. a title cell that starts ``# NN · Title``, a short introduction and a box (a
   Markdown quote) with **What you will learn**, **Before you start**, **Time needed**
   and **Frees (2010)** (the sections it covers);
2. the body, with cross-references as links ``[Chapter 03](03_mle_and_irls.ipynb)``;
3. ``## Summary``, ``## Exercises`` (which opens with ``SOLUTION_HINT``; solutions are
   cells tagged ``solution``), ``## Further reading``;
4. a last cell of Previous / Next links, as ``nav_cell_source`` writes it.

``tools/chapter_template.ipynb`` is the template to copy.  The tests
(``tests/test_course.py``), the student edition (``tools/make_student.py``) and the
book use these definitions.

Usage::

    python tools/course.py            # report chapters that break the shape
    python tools/course.py --fix-nav  # rewrite every chapter's Previous/Next cell
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"

TITLE = re.compile(r"^# (\d\d) · (\S.*)$")
BOX_ITEMS = ("**What you will learn**", "**Before you start**", "**Time needed:**",
             "**Frees (2010):**")
SECTIONS = ("## Summary", "## Exercises", "## Further reading")
SOLUTION_TAG = "solution"
SOLUTION_HINT = (
    "*Try each exercise before you look. The solution is hidden in the cell below it: "
    "click the* **⋯** *to show its code, then the next* **⋯** *to show its output.*"
)
STUDENT_HINT = "*This is the student edition: the solutions are not included.*"
# Pages after the chapters, in book order: the gallery, errata, references, glossary.
LAST_CHAPTER_NEXT = "95_errata.ipynb"


def read(path: Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def source(cell: dict) -> str:
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else s


def chapter_paths(folder: Path = NOTEBOOK_DIR) -> list[Path]:
    """Chapters are ``NN_*.ipynb`` with NN < 90, in number order."""
    return sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb") if int(p.name[:2]) < 90)


def title(path: Path) -> str:
    """``NN · Title`` of a notebook, from its first line (any ``# ...`` heading)."""
    first = source(read(path)["cells"][0]).splitlines()[0]
    return first.lstrip("#").strip()


def nav_cell_source(path: Path, folder: Path = NOTEBOOK_DIR) -> str:
    """The Previous / Next line of a chapter, from the titles of its neighbours."""
    chapters = chapter_paths(folder)
    i = [p.name for p in chapters].index(Path(path).name)
    parts = []
    if i > 0:
        prev = chapters[i - 1]
        parts.append(f"**Previous:** [{title(prev)}]({prev.name})")
    if i + 1 < len(chapters):
        nxt = chapters[i + 1]
        parts.append(f"**Next:** [{title(nxt)}]({nxt.name})")
    else:
        target = folder / LAST_CHAPTER_NEXT
        label = title(target) if target.exists() else "Errata in Frees (2010), Chapter 13"
        parts.append(f"**Next:** [{label}]({LAST_CHAPTER_NEXT})")
    return " · ".join(parts)


def shape_problems(path: Path) -> list[str]:
    """Every way the chapter at ``path`` breaks the shape (empty when it has it)."""
    nb = read(path)
    cells = nb["cells"]
    problems = []
    first = source(cells[0]) if cells else ""
    m = TITLE.match(first.splitlines()[0] if first else "")
    if not m or m.group(1) != Path(path).name[:2]:
        problems.append(f"first line must be '# {Path(path).name[:2]} · Title'")
    for item in BOX_ITEMS:
        if item not in first:
            problems.append(f"title cell lacks {item}")
    headings = [
        line.strip()
        for c in cells
        if c["cell_type"] == "markdown"
        for line in source(c).splitlines()
        if line.startswith("## ")
    ]
    found = [h for h in headings if h in SECTIONS]
    if found != list(SECTIONS):
        problems.append(f"needs the sections {', '.join(SECTIONS)} once each, in order; "
                        f"found {found}")
    exercises = [c for c in cells if c["cell_type"] == "markdown"
                 and "## Exercises" in source(c).splitlines()]
    if exercises and SOLUTION_HINT not in source(exercises[0]):
        problems.append("the Exercises cell must contain SOLUTION_HINT")
    for c in cells:
        if SOLUTION_TAG in c.get("metadata", {}).get("tags", []):
            hidden = c.get("metadata", {}).get("jupyter", {})
            want = ["source_hidden"] + (["outputs_hidden"] if c["cell_type"] == "code" else [])
            if not all(hidden.get(k) for k in want):
                problems.append(f"solution cell {c.get('id')} is not collapsed ({want})")
    last = source(cells[-1]) if cells else ""
    if cells and last.strip() != nav_cell_source(path, Path(path).parent):
        problems.append(f"last cell must be the navigation line: {nav_cell_source(path)!r}")
    return problems


def fix_nav(path: Path) -> bool:
    """Rewrite the chapter's last cell as its navigation line (append one if the last
    cell is not a navigation line).  Returns True when the file changed."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    want = nav_cell_source(path, Path(path).parent)
    last = nb.cells[-1]
    if last.cell_type == "markdown" and last.source.lstrip().startswith(
        ("**Previous:**", "**Next:**")
    ):
        if last.source.strip() == want:
            return False
        last.source = want
    else:
        nb.cells.append(nbformat.v4.new_markdown_cell(want, id=f"nav-{Path(path).name[:2]}"))
    Path(path).write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fix-nav", action="store_true", help="rewrite Previous/Next cells")
    args = parser.parse_args(argv)
    bad = 0
    for path in chapter_paths():
        if args.fix_nav and fix_nav(path):
            print(f"navigation rewritten: {path.name}")
        for problem in shape_problems(path):
            bad += 1
            print(f"{path.name}: {problem}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
