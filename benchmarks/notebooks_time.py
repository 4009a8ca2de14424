"""Time a full top-to-bottom execution of every ``notebooks/*.ipynb`` in a fresh kernel.

Each notebook is executed with nbclient in its own fresh kernel (the ``python3`` kernel
spec, i.e. this interpreter when ipykernel is installed here), working directory
``notebooks/``, nothing written back to disk. Reported per notebook:

- *wall*: ``NotebookClient.execute()`` from kernel start to kernel shutdown;
- *cells*: the sum of the code cells' own execution times (kernel start excluded), from
  the timings nbclient records in each cell's metadata;
- the slowest cell, and whether the notebook met DESIGN.md's < 20 s target.

Usage::

    python benchmarks/notebooks_time.py                   # all notebooks
    python benchmarks/notebooks_time.py notebooks/02_*.ipynb --timeout 300
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import re
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGET_S = 20.0


def _parse_ts(text: str | None):
    if not text:
        return None
    try:
        return _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def cell_seconds(cell) -> float | None:
    ex = cell.get("metadata", {}).get("execution", {})
    start = _parse_ts(ex.get("iopub.execute_input")) or _parse_ts(ex.get("shell.execute_request"))
    end = _parse_ts(ex.get("shell.execute_reply")) or _parse_ts(ex.get("iopub.status.idle"))
    if start is None or end is None:
        return None
    return (end - start).total_seconds()


def time_notebook(path: Path, timeout: float, kernel: str) -> dict:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=kernel,
        record_timing=True,
        resources={"metadata": {"path": str(path.parent)}},
    )
    status = "ok"
    t0 = time.perf_counter()
    try:
        client.execute()
    except CellExecutionError as exc:
        last = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).strip().splitlines()[-1]
        status = "error: " + last[:100]
    except Exception as exc:  # timeouts, dead kernels: report, keep going
        status = f"error: {type(exc).__name__}: {str(exc)[:100]}"
    wall = time.perf_counter() - t0

    code = [c for c in nb.cells if c.cell_type == "code"]
    per_cell = [(i, cell_seconds(c)) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    known = [(i, s) for i, s in per_cell if s is not None]
    slowest = max(known, key=lambda t: t[1]) if known else (None, None)
    return {
        "notebook": str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path),
        "code_cells": len(code),
        "wall_s": wall,
        "cells_s": sum(s for _, s in known) if known else None,
        "slowest_cell": slowest[0],
        "slowest_s": slowest[1],
        "status": status,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("notebooks", nargs="*", help="notebooks to run (default notebooks/*.ipynb)")
    ap.add_argument("--timeout", type=float, default=600, help="seconds per cell")
    ap.add_argument("--kernel", default="python3", help="kernel spec name")
    ap.add_argument("--json", default=None, help="also write raw results to this file")
    ap.add_argument("--readme", action="store_true",
                    help="also put the table into benchmarks/README.md (its own section)")
    args = ap.parse_args(argv)

    try:
        import glmteach  # noqa: F401
    except ImportError:  # not installed here: let the kernels import the work tree's copy
        os.environ["PYTHONPATH"] = os.pathsep.join(
            [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])
        print(f"(glmteach is not installed in this interpreter; kernels get PYTHONPATH={REPO})")

    paths = [Path(p).resolve() for p in args.notebooks] or sorted(
        (REPO / "notebooks").glob("*.ipynb"))
    paths = [p for p in paths if ".ipynb_checkpoints" not in p.parts]
    if not paths:
        print(f"no notebooks found under {REPO / 'notebooks'} - nothing to time")
        return 1

    lines = [f"| notebook | code cells | wall (s) | cells (s) | slowest cell (s) | "
             f"< {TARGET_S:.0f} s | status |", "|---|---|---|---|---|---|---|"]
    print("\n".join(lines))
    rows = []
    failed = False
    for path in paths:
        r = time_notebook(path, args.timeout, args.kernel)
        rows.append(r)
        failed |= r["status"] != "ok"
        cells = "—" if r["cells_s"] is None else f"{r['cells_s']:.1f}"
        slow = "—" if r["slowest_s"] is None else f"{r['slowest_s']:.1f} (#{r['slowest_cell']})"
        met = "yes" if r["status"] == "ok" and r["wall_s"] < TARGET_S else "no"
        lines.append(f"| {r['notebook']} | {r['code_cells']} | {r['wall_s']:.1f} | {cells} "
                     f"| {slow} | {met} | {r['status']} |")
        print(lines[-1], flush=True)
    total = sum(r["wall_s"] for r in rows)
    print(f"\n{len(rows)} notebooks, {total:.1f} s in total")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    if args.readme:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import _readme

        when, load = _readme.now(), _readme.load_average()
        _readme.put_section("notebooks", "\n".join([
            "## Notebook execution times",
            "",
            f"`python benchmarks/notebooks_time.py` on {when} (load average {load}): every "
            "notebook top to bottom in a fresh kernel (nbclient). *wall* includes kernel "
            "start-up and shutdown; *cells* is the sum of the code cells' own times; "
            "*slowest cell* gives its index among all cells. Target: < 20 s each.",
            "",
            *lines,
            "",
            f"{len(rows)} notebooks, {total:.1f} s in total.",
        ]))
        print(f"updated {_readme.README}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
