#!/usr/bin/env python3
"""Execute chapter notebooks in place and normalise them, so committed outputs are
reproducible.

Usage::

    python tools/run_notebooks.py                      # every notebooks/*.ipynb
    python tools/run_notebooks.py notebooks/03_irls.ipynb ...

Each notebook runs top to bottom in a fresh kernel (two notebooks at a time by
default, ``--jobs``) (``python3``, i.e. the interpreter
running this script: jupyter_client swaps a kernelspec's bare ``python`` for
``sys.executable``), with the notebook's own folder as the working directory and a
per-cell timeout (``--timeout``, default 120 s).  A cell that raises stops that
notebook: the file is left untouched and the script exits non-zero (tag a cell
``raises-exception`` when the error is the lesson).

Normalisation (``normalise``) then makes the file a function of the code alone:

- notebook metadata: ``widgets`` (widget state with random model ids) dropped, the
  kernelspec set to the standard ``python3`` one; ``language_info`` is kept as the
  kernel reports it, as JupyterLab writes it when a notebook is opened (the
  reproducibility check ignores its ``version``, so another Python patch release does
  not count as a change);
- cell metadata: nbclient's ``execution`` timings and ``trusted`` dropped; cells tagged
  ``solution`` stored collapsed (``jupyter.source_hidden``, and ``outputs_hidden`` for
  code), so the answer does not sit in plain view under its exercise;
- cells without an id get a deterministic one (derived from position and source);
- outputs: consecutive stream outputs of the same stream merged into one (how a
  print is split into messages depends on flush timing; nbval merges them too), with
  carriage-return / backspace overwrites applied as a terminal would;
  ``application/vnd.jupyter.widget-view+json`` entries dropped (their model
  ids are random and the widget state is not stored, so they could never render from
  the file); the widget's ``text/plain`` repr stays; the volatile parts of text outputs
  (memory addresses, ipykernel cell paths in warnings, statsmodels' Date/Time rows,
  ``%time`` readings) are rewritten with the patterns of ``tests/nbval_sanitize.cfg``
  (sections named ``compare-only:*`` there are used by nbval only);
- execution counts are kept; the file is written as nbformat writes it (sorted keys,
  indent 1, trailing newline).

``tools/check_notebooks_reproducible.py`` re-uses ``process_notebook`` to check that the
committed files are exactly what this script produces.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import re
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
SANITIZE_FILE = ROOT / "tests" / "nbval_sanitize.cfg"
KERNEL_NAME = "python3"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
SOLUTION_TAG = "solution"  # solution cells are stored collapsed, source and outputs
TEXT_MIMES = ("text/plain", "text/html", "text/latex", "text/markdown")
_ID_OK = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_CARRIAGE_RETURN = re.compile(r"^.*\r(?=[^\n])", re.MULTILINE)
_BACKSPACE = re.compile("[^\n]\x08")  # a character erased by a backspace


def load_patterns(path: Path = SANITIZE_FILE) -> list[tuple[re.Pattern[str], str]]:
    """The (regex, replacement) pairs of the nbval sanitize file that also normalise
    stored outputs: every section except those named ``compare-only:...``."""
    pairs: list[tuple[re.Pattern[str], str]] = []
    section = ""
    lines = path.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        if line.startswith("[") and line.rstrip().endswith("]"):
            section = line.strip()[1:-1]
        elif line.startswith("regex: ") and i + 1 < len(lines):
            nxt = lines[i + 1]
            if nxt.startswith("replace: ") and not section.startswith("compare-only:"):
                pairs.append((re.compile(line[len("regex: ") :]), nxt[len("replace: ") :]))
    return pairs


def _sanitize(text, patterns):
    if isinstance(text, list):
        text = "".join(text)
    if not isinstance(text, str):
        return text
    for regex, replacement in patterns:
        text = regex.sub(replacement, text)
    return text


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """Read without nbformat inventing random cell ids: missing ids are made from
    the cell's position and source, so the same file always gets the same ids."""
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    if raw.get("nbformat") == 4 and raw.get("nbformat_minor", 0) >= 5:
        seen: set[str] = set()
        for index, cell in enumerate(raw.get("cells", [])):
            cid = cell.get("id")
            if not isinstance(cid, str) or not _ID_OK.match(cid) or cid in seen:
                source = cell.get("source", "")
                source = "".join(source) if isinstance(source, list) else source
                digest = hashlib.sha1(f"{index}\n{source}".encode()).hexdigest()[:8]
                cid = f"cell-{index}-{digest}"
                cell["id"] = cid
            seen.add(cid)
    return nbformat.reads(json.dumps(raw), as_version=4)


def _coalesce_streams(outputs: list) -> list:
    """Merge consecutive ``stream`` outputs of the same name (stdout / stderr) and apply
    ``\\r`` and ``\\b`` overwrites, as nbval does before comparing."""
    merged: list = []
    for out in outputs:
        if (
            out.output_type == "stream"
            and merged
            and merged[-1].output_type == "stream"
            and merged[-1].name == out.name
        ):
            merged[-1].text += out.text
        else:
            merged.append(out)
    for out in merged:
        if out.output_type == "stream":
            text = out.text.replace("\r\n", "\n")
            text = _CARRIAGE_RETURN.sub("", text)
            while _BACKSPACE.search(text):
                text = _BACKSPACE.sub("", text, count=1)
            out.text = text
    return merged


def normalise(nb: nbformat.NotebookNode, patterns=None) -> nbformat.NotebookNode:
    """Strip everything that changes between two executions of the same code."""
    if patterns is None:
        patterns = load_patterns()
    nb.metadata.pop("widgets", None)
    nb.metadata["kernelspec"] = nbformat.from_dict(dict(KERNELSPEC))
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        cell.metadata.pop("trusted", None)
        if SOLUTION_TAG in cell.metadata.get("tags", []):
            hidden = {"source_hidden": True}
            if cell.cell_type == "code":
                hidden["outputs_hidden"] = True
                # JupyterLab mirrors hidden outputs in the classic key when it saves
                cell.metadata["collapsed"] = True
            cell.metadata.setdefault("jupyter", nbformat.from_dict({})).update(hidden)
        if cell.cell_type != "code":
            continue
        kept = []
        for out in _coalesce_streams(cell.outputs):
            if out.output_type == "stream":
                out.text = _sanitize(out.text, patterns)
            elif out.output_type == "error":
                out.evalue = _sanitize(out.evalue, patterns)
                out.traceback = [_sanitize(line, patterns) for line in out.traceback]
            else:  # display_data, execute_result
                out.data.pop(WIDGET_VIEW, None)
                for mime in TEXT_MIMES:
                    if mime in out.data:
                        out.data[mime] = _sanitize(out.data[mime], patterns)
                if not out.data:
                    continue
                if not out.get("metadata"):
                    out.metadata = nbformat.from_dict({})
            kept.append(out)
        cell.outputs = kept
    return nb


def execute(nb: nbformat.NotebookNode, cwd: Path, timeout: int = 120) -> nbformat.NotebookNode:
    """Run every cell in a fresh ``python3`` kernel with ``cwd`` as working directory."""
    client = NotebookClient(
        nb,
        kernel_name=KERNEL_NAME,
        timeout=timeout,
        startup_timeout=120,
        record_timing=False,
        # True is required: with False, nbclient 0.10/0.11 raises KeyError when an
        # Output widget captures output.  normalise() drops the stored state again.
        store_widget_state=True,
        resources={"metadata": {"path": str(cwd)}},
    )
    client.execute()
    return nb


def process_notebook(path: Path, timeout: int = 120, patterns=None) -> str:
    """Execute + normalise the notebook at ``path``; return the text of the normalised
    file (does not write it)."""
    path = Path(path).resolve()
    nb = read_notebook(path)
    execute(nb, cwd=path.parent, timeout=timeout)
    normalise(nb, patterns)
    nbformat.validate(nb)
    return nbformat.writes(nb) + "\n"


def default_notebooks() -> list[Path]:
    return sorted(NOTEBOOK_DIR.glob("*.ipynb"))


def default_jobs() -> int:
    """Notebooks run side by side: one kernel each, at most two (the machines have two
    cores, and a notebook mostly waits on one)."""
    return max(1, min(2, os.cpu_count() or 1))


def map_notebooks(func, paths: list[Path], jobs: int, *args):
    """Yield ``(path, seconds, result, error)`` for ``func(path, *args)`` over ``paths``,
    in ``jobs`` processes (each notebook gets its own kernel), in completion order."""

    if jobs <= 1 or len(paths) <= 1:
        for path in paths:
            yield _timed_call(func, path, *args)
        return
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
        futures = {pool.submit(_timed_call, func, path, *args): path for path in paths}
        for future in as_completed(futures):
            yield future.result()


def _timed_call(func, path, *args):
    start = time.perf_counter()
    try:
        result = func(path, *args)
    except Exception as exc:  # sent back to the parent, reported there
        return path, time.perf_counter() - start, None, RuntimeError(f"{type(exc).__name__}: {exc}")
    return path, time.perf_counter() - start, result, None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: notebooks/*.ipynb")
    parser.add_argument("--timeout", type=int, default=120, help="seconds per cell")
    parser.add_argument(
        "-j", "--jobs", type=int, default=default_jobs(), help="notebooks run in parallel"
    )
    args = parser.parse_args(argv)
    paths = [p.resolve() for p in args.notebooks] or default_notebooks()
    if not paths:
        print(f"no notebooks found in {NOTEBOOK_DIR}")
        return 0
    patterns = load_patterns()
    failed = []
    total = time.perf_counter()
    for path, seconds, text, error in map_notebooks(
        process_notebook, paths, args.jobs, args.timeout, patterns
    ):
        if error is not None:  # report and go on with the other notebooks
            failed.append(path)
            print(f"FAILED  {path}  ({seconds:.1f} s)\n{error}", flush=True)
            continue
        changed = path.read_text(encoding="utf-8") != text
        path.write_text(text, encoding="utf-8")
        state = "updated" if changed else "unchanged"
        print(f"{seconds:6.1f} s  {state:9s}  {path}", flush=True)
    print(f"{len(paths)} notebook(s) in {time.perf_counter() - total:.1f} s")
    if failed:
        print("failed: " + ", ".join(str(p) for p in sorted(failed)))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
