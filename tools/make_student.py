#!/usr/bin/env python3
"""Write the student edition of the collection to ``build/student/``.

Usage::

    python tools/make_student.py              # write build/student/*.ipynb
    python tools/make_student.py --execute    # ... and run each one in a fresh kernel

The student edition is every notebook of ``notebooks/`` with

- every cell tagged ``solution`` removed (code and text);
- the outputs of the code cells in the Exercises section cleared (from the
  ``## Exercises`` heading to ``## Further reading``), so no answer shows through a
  self-check's stored output;
- the hint on revealing solutions (``course.SOLUTION_HINT``) replaced by a line that
  says the solutions are not included.

Everything else, stored outputs included, is kept, so a student reads the chapter as
it is and works the exercises in place.  ``--execute`` runs each student notebook top to
bottom (two at a time) and fails if any cell raises: an exercise must never depend on a
solution cell, and a self-check with no answer yet must say so instead of failing.
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))

from course import SOLUTION_HINT, SOLUTION_TAG, STUDENT_HINT  # noqa: E402
from run_notebooks import default_jobs, execute, map_notebooks  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
OUT_DIR = ROOT / "build" / "student"


def _is_heading(cell, text: str) -> bool:
    return cell.cell_type == "markdown" and any(
        line.strip() == text for line in cell.source.splitlines()
    )


def student_version(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The student edition of one notebook (a new object; ``nb`` is not changed)."""
    nb = copy.deepcopy(nb)
    kept = []
    in_exercises = False
    for cell in nb.cells:
        if _is_heading(cell, "## Exercises"):
            in_exercises = True
        elif _is_heading(cell, "## Further reading"):
            in_exercises = False
        if SOLUTION_TAG in cell.metadata.get("tags", []):
            continue
        if cell.cell_type == "markdown" and SOLUTION_HINT in cell.source:
            cell.source = cell.source.replace(SOLUTION_HINT, STUDENT_HINT)
        if in_exercises and cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        kept.append(cell)
    nb.cells = kept
    nb.metadata.pop("widgets", None)
    return nb


def write_edition(source: Path = NOTEBOOK_DIR, target: Path = OUT_DIR) -> list[Path]:
    target.mkdir(parents=True, exist_ok=True)
    for old in target.glob("*.ipynb"):
        old.unlink()
    written = []
    for path in sorted(source.glob("*.ipynb")):
        nb = student_version(nbformat.read(path, as_version=4))
        out = target / path.name
        out.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
        written.append(out)
    return written


def run_clean(path: Path, timeout: int = 120) -> None:
    """Execute a student notebook in a fresh kernel; raises on the first failing cell."""
    nb = nbformat.read(path, as_version=4)
    execute(nb, cwd=path.parent, timeout=timeout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--execute", action="store_true", help="run every student notebook")
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="default: build/student")
    parser.add_argument("-j", "--jobs", type=int, default=default_jobs())
    args = parser.parse_args(argv)
    written = write_edition(NOTEBOOK_DIR, args.out)
    print(f"student edition: {len(written)} notebooks in {args.out}")
    if not args.execute:
        return 0
    failed = []
    for path, seconds, _, error in map_notebooks(run_clean, written, args.jobs):
        if error is None:
            print(f"{seconds:6.1f} s  runs clean  {path.name}", flush=True)
        else:
            failed.append(path.name)
            print(f"{seconds:6.1f} s  FAILED      {path.name}\n{error}", flush=True)
    if failed:
        print("student notebooks that fail: " + ", ".join(sorted(failed)))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
