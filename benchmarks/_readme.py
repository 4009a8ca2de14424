"""Keep several generated sections in one ``benchmarks/README.md``.

``run.py`` writes the whole file; ``notebooks_time.py`` and ``stepper_redraw.py`` each own
one section between HTML comment markers, which ``run.py`` carries over when it rewrites
the file, so running the scripts in any order keeps every latest table.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
from pathlib import Path

README = Path(__file__).resolve().parent / "README.md"


def _markers(name: str) -> tuple[str, str]:
    return f"<!-- begin {name} -->", f"<!-- end {name} -->"


def get_section(name: str, path: Path = README) -> str | None:
    """The text of section ``name`` with its markers, or None."""
    if not path.exists():
        return None
    begin, end = _markers(name)
    m = re.search(re.escape(begin) + r".*?" + re.escape(end), path.read_text(), flags=re.S)
    return m.group(0) if m else None


def put_section(name: str, body: str, path: Path = README) -> None:
    """Replace section ``name`` (or append it) with ``body`` between markers."""
    begin, end = _markers(name)
    block = f"{begin}\n{body.rstrip()}\n{end}"
    text = path.read_text() if path.exists() else "# glmteach benchmarks\n"
    if begin in text and end in text:
        pattern = re.escape(begin) + r".*?" + re.escape(end)
        text = re.sub(pattern, lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text)


def now() -> str:
    """The local date and time, as the reports print it."""
    return _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, or 'unknown'."""
    try:
        return ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"
