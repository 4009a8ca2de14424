"""Project-wide pytest set-up.

- nbval: ``pytest --nbval notebooks/`` uses ``tests/nbval_sanitize.cfg`` by absolute
  path.  nbval opens the ``--nbval-sanitize-with`` file relative to the *current
  directory*, so a relative path given on the command line is resolved here against
  the current directory first and the project root second, and a missing option is
  filled in with the project's file.
- matplotlib: tests outside notebooks draw with the non-interactive Agg backend.  We do
  not set ``MPLBACKEND`` in the environment, because nbval's kernels inherit it and
  would then stop showing inline figures.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
SANITIZE_FILE = ROOT / "tests" / "nbval_sanitize.cfg"


def _resolve_sanitize_path(value: str | None) -> str:
    if not value:
        return str(SANITIZE_FILE)
    path = Path(value).expanduser()
    if path.is_absolute():
        return str(path)
    for base in (Path.cwd(), ROOT):
        candidate = (base / path).resolve()
        if candidate.is_file():
            return str(candidate)
    raise pytest.UsageError(f"--nbval-sanitize-with: file not found: {value}")


def pytest_configure(config: pytest.Config) -> None:
    option = config.option
    if getattr(option, "nbval", False) or getattr(option, "nbval_lax", False):
        option.nbval_sanitize_with = _resolve_sanitize_path(
            getattr(option, "nbval_sanitize_with", None)
        )
    if "MPLBACKEND" not in os.environ:
        try:
            import matplotlib
        except ImportError:  # pragma: no cover - matplotlib is a core dependency
            pass
        else:
            matplotlib.use("Agg", force=True)
