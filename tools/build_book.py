#!/usr/bin/env python3
"""Build the static HTML book of the chapters (``make book``) into ``build/book/``.

Usage::

    python tools/build_book.py                 # build/book/index.html
    python tools/build_book.py --out DIR       # somewhere else

Steps (nothing is executed: the pages show the outputs stored in the notebooks):

1. Stage a Sphinx source folder (``build/book-src/``): the pages and configuration of
   ``book/`` and a copy of every ``notebooks/*.ipynb`` that exists now, in file order.
   The copies are adjusted for reading (``book_notebook``); the notebooks themselves
   are never modified.
2. Write the tables of contents into the staged ``index.md``: ``NN_*`` with NN < 90
   are the chapters, the rest (widget gallery, errata, references, glossary) follow;
   then the "how to run this yourself" page.  A new notebook needs no edit here.
3. Run Sphinx (``-W --keep-going``: every warning is an error, all are reported) with
   the configuration in ``book/conf.py``.
4. Write ``build/book/.glmteach-book.json`` with a digest of every input, so the
   browser test (tests/e2e/test_book.py) can tell whether the build is fresh.

Exit status: Sphinx's (0 on success).
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BOOK_DIR = ROOT / "book"
NOTEBOOK_DIR = ROOT / "notebooks"
DEFAULT_OUT = ROOT / "build" / "book"
STAMP_NAME = ".glmteach-book.json"
CHAPTER_LIMIT = 90  # NN_* notebooks below this are chapters, the others appendices
HOW_TO_RUN = "run_it_yourself"

# text/plain of a glmteach widget (``<glmteach FamilyExplorer: Gamma>``, ...).
_WIDGET_REPR = re.compile(r"^<glmteach ([A-Z]\w*)(?::[^\n]*)?>$")
_NUMBERED = re.compile(r"^(\d+)_")


def notebooks(folder: Path = NOTEBOOK_DIR) -> list[Path]:
    """Every notebook of ``folder`` in file order (what the book shows)."""
    return sorted(p for p in folder.glob("*.ipynb") if p.is_file())


def inputs_digest(folder: Path = NOTEBOOK_DIR) -> str:
    """SHA-1 over the names and bytes of everything the book is built from."""
    digest = hashlib.sha1()
    files = [p for p in sorted(BOOK_DIR.rglob("*")) if p.is_file() and "__pycache__" not in p.parts]
    files += notebooks(folder) + [Path(__file__).resolve()]
    for path in files:
        digest.update(str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def _live_only_note(kind: str) -> dict:
    """A display output that says a kernel-only widget stands here."""
    if kind == "IRLS stepper":  # stored before glmteach.frames existed
        text = ("Interactive in JupyterLab: the stored notebook does not hold this IRLS "
                "stepper's pre-rendered frames yet (re-execute it with make notebooks); "
                "the figure before it shows the same iterations.")
    else:
        text = (f"Interactive in JupyterLab: this {kind} redraws with Python, which a "
                "static page does not have; the figure before it tells the same story.")
    link = f"<a href='{HOW_TO_RUN}.html'>How to run this yourself</a>"
    return {"text/html": f"<p class='glmteach-live-only'>{html.escape(text)} {link}.</p>",
            "text/plain": text}


def _words(kind: str) -> str:
    """``FamilyExplorer`` -> ``family explorer``, ``IRLSStepper`` -> ``IRLS stepper``."""
    words = re.findall(r"[A-Z]+(?=[A-Z][a-z]|$)|[A-Z][a-z0-9]*|[a-z0-9]+", kind)
    text = " ".join(w if w.isupper() and len(w) > 1 else w.lower() for w in words)
    return text.replace("tweedie", "Tweedie")  # a name


def book_notebook(nb: dict) -> dict:
    """The notebook as the book shows it (a copy is changed, never the file):

    - a glmteach widget whose output has no static representation (the explorers)
      gets a short note that it is interactive in JupyterLab, instead of its repr;
      the IRLS stepper's output already holds its pre-rendered frames (``text/html``);
    - solution cells (tag ``solution``) and cells stored collapsed
      (``metadata.jupyter.source_hidden`` / ``outputs_hidden``) are folded in the page
      (MyST-NB's ``hide-cell`` / ``hide-input`` / ``hide-output`` tags: a click opens them).
    """
    for cell in nb.get("cells", []):
        meta = cell.setdefault("metadata", {})
        tags = list(meta.get("tags", []))
        jupyter = meta.get("jupyter", {})
        if "solution" in tags:
            tags.append("hide-cell")
        else:
            if jupyter.get("source_hidden"):
                tags.append("hide-input")
            if jupyter.get("outputs_hidden"):
                tags.append("hide-output")
        if tags:
            meta["tags"] = list(dict.fromkeys(tags))
        for out in cell.get("outputs", []):
            data = out.get("data")
            if not data or "text/html" in data or set(data) - {"text/plain"}:
                continue
            text = data.get("text/plain", "")
            text = "".join(text) if isinstance(text, list) else text
            match = _WIDGET_REPR.match(text.strip())
            if match:
                out["data"] = _live_only_note(_words(match.group(1)))
    return nb


def _title(nb: dict, fallback: str) -> str:
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            source = cell.get("source", "")
            source = "".join(source) if isinstance(source, list) else source
            for line in source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


def toc_markdown(names: list[str]) -> str:
    """The toctrees of the staged ``index.md`` for the staged notebook names."""
    chapters, others = [], []
    for name in names:
        match = _NUMBERED.match(name)
        (chapters if match and int(match.group(1)) < CHAPTER_LIMIT else others).append(name)

    def toctree(caption: str, entries: list[str]) -> str:
        if not entries:
            return ""
        body = "\n".join(entries)
        return f"\n```{{toctree}}\n:caption: {caption}\n:maxdepth: 1\n\n{body}\n```\n"

    return (toctree("Chapters", chapters)
            + toctree("Gallery, errata and reference", others)
            + toctree("Using the notebooks", [HOW_TO_RUN]))


def stage(src: Path, folder: Path = NOTEBOOK_DIR) -> list[str]:
    """Fill ``src`` with the book's sources; return the staged notebook names."""
    if src.exists():
        shutil.rmtree(src)
    shutil.copytree(BOOK_DIR, src, ignore=shutil.ignore_patterns("__pycache__", "_build"))
    names = []
    for path in notebooks(folder):
        nb = json.loads(path.read_text(encoding="utf-8"))
        (src / path.name).write_text(json.dumps(book_notebook(nb), ensure_ascii=False),
                                     encoding="utf-8")
        names.append(path.stem)
    if not names:
        raise SystemExit(f"no notebooks in {folder}: nothing to build")
    index = src / "index.md"
    index.write_text(index.read_text(encoding="utf-8") + toc_markdown(names), encoding="utf-8")
    return names


def build(out: Path = DEFAULT_OUT, folder: Path = NOTEBOOK_DIR, quiet: bool = True) -> int:
    """Stage, run Sphinx into ``out``, write the freshness stamp; Sphinx's exit code."""
    out = Path(out).resolve()
    work = out.parent / f"{out.name}-src"
    doctrees = out.parent / f"{out.name}-doctrees"
    digest = inputs_digest(folder)
    names = stage(work, folder)
    if out.exists():
        shutil.rmtree(out)
    if doctrees.exists():
        shutil.rmtree(doctrees)
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going",
           "-d", str(doctrees), str(work), str(out)]
    if quiet:
        cmd.insert(3, "-q")
    proc = subprocess.run(cmd, cwd=ROOT)
    if proc.returncode == 0:
        (out / STAMP_NAME).write_text(
            json.dumps({"inputs": digest, "pages": names}, indent=1) + "\n", encoding="utf-8")
    return proc.returncode


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="default: build/book")
    parser.add_argument("--notebooks", type=Path, default=NOTEBOOK_DIR,
                        help="folder of the notebooks (default: notebooks/)")
    parser.add_argument("-v", "--verbose", action="store_true", help="Sphinx's full log")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    code = build(args.out, args.notebooks.resolve(), quiet=not args.verbose)
    seconds = time.perf_counter() - start
    out = args.out.resolve()
    if code != 0:
        print(f"book build FAILED after {seconds:.1f} s (Sphinx exit {code}; warnings are "
              "errors)", file=sys.stderr)
        return code
    size = folder_size(out) / 1e6
    print(f"book: {out / 'index.html'}  ({seconds:.1f} s, {size:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
