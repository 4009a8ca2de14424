r"""A readable check that two fits agree: ``gt.compare(res, sm_res)``.

A chapter that fits a model shows, once, that statsmodels (or R, or a hand-written
loop) gets the same numbers.  ``compare`` puts the quantities side by side, prints the
largest relative difference of each, and raises ``ComparisonError`` when one breaks
its tolerance, so that a notebook run (nbval) still guards every number it shows.

The difference of a quantity ``a`` (ours) from ``b`` (theirs) is measured relative to the
size of ``b`` as a whole, not entry by entry:

    d = max_i |a_i - b_i| / max_i |b_i|          (d = max_i |a_i - b_i| when b = 0),

so a residual that happens to be nearly zero does not make a tiny absolute difference
look large.  The default tolerance is ``1e-8`` for coefficients, standard errors and the
scalar summaries, and ``1e-7`` for the per-observation vectors (fitted values and
residuals): a residual carries its prior weight and the scale (a Pearson residual is
sqrt(w_i) (y_i - mu_i) / sqrt(V(mu_i))), so with weights in the hundreds a coefficient
difference of 3e-10 already moves the largest residual by about 1e-8 of its size.

Differences below ``1e-13`` are printed as ``< 1e-13``: they are rounding, and their
last digits depend on the machine's linear-algebra library.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

from glmteach.exceptions import ComparisonError

__all__ = ["compare", "Comparison", "DEFAULT_QUANTITIES", "default_rtol"]

#: What ``compare`` checks when ``quantities`` is not given (each one that both have).
DEFAULT_QUANTITIES = (
    "params",
    "bse",
    "deviance",
    "null_deviance",
    "llf",
    "aic",
    "bic",
    "pearson_chi2",
    "scale",
    "fittedvalues",
    "resid_pearson",
    "resid_deviance",
)
# statsmodels' name where it differs: its llf-based BIC (glmteach's bic) is bic_llf.
_STATSMODELS_NAMES = {"bic": ("bic_llf", "bic")}
ROUNDING_LEVEL = 1e-13
DEFAULT_RTOL = 1e-8
PER_OBSERVATION_RTOL = 1e-7  # fitted values and residuals (module docstring)
_PER_OBSERVATION = ("fittedvalues", "linear_predictor")


def default_rtol(name: str) -> float:
    """The tolerance ``compare`` uses for ``name`` when none is given."""
    per_observation = name in _PER_OBSERVATION or name.startswith("resid_")
    return PER_OBSERVATION_RTOL if per_observation else DEFAULT_RTOL


@dataclass(frozen=True)
class Comparison:
    """The outcome of ``compare``: ``table`` (one row per quantity), ``ok`` (every
    quantity within its tolerance) and a compact text table as the repr."""

    table: pd.DataFrame
    labels: tuple[str, str]

    @property
    def ok(self) -> bool:
        return bool(self.table["within tolerance"].all())

    def __repr__(self) -> str:
        ours, theirs = self.labels
        rows = [
            (
                name,
                _show_value(row["ours"]),
                _show_value(row["theirs"]),
                _show_difference(row["largest rel. diff"]),
                f"{row['rtol']:.0e}",
                "yes" if row["within tolerance"] else "NO",
            )
            for name, row in self.table.iterrows()
        ]
        header = ("quantity", ours, theirs, "largest rel. diff", "tolerance", "agree")
        widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
        lines = ["  ".join(str(c).ljust(w) for c, w in zip(header, widths, strict=True))]
        lines.append("  ".join("-" * w for w in widths))
        for r in rows:
            lines.append("  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)))
        return "\n".join(line.rstrip() for line in lines)


def _values(obj, name: str) -> np.ndarray | None:
    """The quantity ``name`` of a result object (or a mapping), as it is stored (a
    number, an array or a labelled Series); None when the object does not have it."""
    if isinstance(obj, Mapping):
        value = obj.get(name)
    else:
        value = None
        for attr in _STATSMODELS_NAMES.get(name, (name,)):
            try:
                value = getattr(obj, attr)
            except (AttributeError, NotImplementedError, ValueError):
                continue
            if callable(value):  # e.g. a method of the same name: not a quantity
                value = None
                continue
            break
    if value is None:
        return None
    return value


def _labels(value) -> list | None:
    """The coefficient names of a labelled vector (a pandas Series, as formula fits
    return), else None."""
    index = getattr(value, "index", None)
    if index is None or getattr(value, "ndim", 0) != 1 or callable(index):
        return None
    labels = list(index)
    return labels if len(set(labels)) == len(labels) else None


def _aligned(ours, theirs) -> tuple[np.ndarray, np.ndarray]:
    """Both quantities as float vectors, ``theirs`` reordered to ``ours`` when both are
    labelled with the same names in another order: a formula front end may order the
    columns differently (statsmodels' ``smf.glm`` puts categorical terms first, glmteach
    keeps the order written), and coefficients are matched by name, not position."""
    a = np.asarray(ours, dtype=float).ravel()
    b = np.asarray(theirs, dtype=float).ravel()
    names_a, names_b = _labels(ours), _labels(theirs)
    if names_a and names_b and names_a != names_b and set(names_a) == set(names_b):
        position = {name: k for k, name in enumerate(names_b)}
        b = b[[position[name] for name in names_a]]
    return a, b


def relative_difference(ours: np.ndarray, theirs: np.ndarray) -> float:
    """max |a - b| / max |b|, or max |a - b| when b is all zero (module docstring)."""
    if ours.shape != theirs.shape:
        return math.inf
    if ours.size == 0:
        return 0.0
    if not (np.all(np.isfinite(ours)) and np.all(np.isfinite(theirs))):
        same = np.array_equal(ours, theirs, equal_nan=True)
        return 0.0 if same else math.inf
    gap = float(np.max(np.abs(ours - theirs)))
    size = float(np.max(np.abs(theirs)))
    return gap / size if size > 0 else gap


def _show_value(v: np.ndarray) -> str:
    if v.size == 1:
        return f"{v[0]:.8g}"
    return f"{v.size} values"


def _show_difference(d: float) -> str:
    if d == 0:
        return "0"
    if d < ROUNDING_LEVEL:
        return f"< {ROUNDING_LEVEL:.0e}"
    return f"{d:.0e}"


def compare(
    ours,
    theirs,
    *,
    rtol: float | Mapping[str, float] | None = None,
    quantities: Sequence[str] | None = None,
    labels: tuple[str, str] = ("glmteach", "statsmodels"),
) -> Comparison:
    """Put two fits side by side and raise if they disagree.

    Parameters
    ----------
    ours, theirs
        Fit results (a ``GLMResults``, a statsmodels results object, ...) or mappings
        from quantity names to values (for numbers printed by R, say).
    rtol
        Largest allowed relative difference (module docstring): None for the defaults
        (``default_rtol``: 1e-8, and 1e-7 for fitted values and residuals), one number
        for all quantities, or a mapping ``{quantity: rtol}`` (the others get their
        default).
    quantities
        Names to compare; by default every name of ``DEFAULT_QUANTITIES`` that both
        objects have.  A name given here that either object lacks is a ValueError.
    labels
        Column headings for the two fits.

    Returns a ``Comparison`` whose repr is the table; raises ``ComparisonError`` (an
    ``AssertionError``) with that table when any quantity breaks its tolerance.
    """
    if rtol is None or isinstance(rtol, Mapping):
        tolerances, common = dict(rtol or {}), None
    else:
        tolerances, common = {}, rtol
    checked = [("rtol", common)] if common is not None else []
    for name, value in checked + list(tolerances.items()):
        if isinstance(value, bool) or not (isinstance(value, (int, float)) and 0 <= value < 1):
            raise ValueError(f"rtol for {name!r} must be a number in [0, 1), got {value!r}")
    explicit = quantities is not None
    names = list(quantities) if explicit else list(DEFAULT_QUANTITIES)
    if len(labels) != 2:
        raise ValueError(f"labels must be two column headings, got {labels!r}")
    rows = {}
    for name in names:
        a, b = _values(ours, name), _values(theirs, name)
        if a is None or b is None:
            if explicit:
                missing = labels[0] if a is None else labels[1]
                raise ValueError(f"quantities: {missing} has no quantity {name!r}")
            continue
        a, b = _aligned(a, b)
        d = relative_difference(a, b)
        tol = tolerances.get(name, common if common is not None else default_rtol(name))
        rows[name] = {
            "ours": a,
            "theirs": b,
            "largest rel. diff": d,
            "rtol": tol,
            "within tolerance": d <= tol,
        }
    if not rows:
        raise ValueError("quantities: the two fits have no quantity in common to compare")
    import pandas as pd  # here, not at the top: `import glmteach` stays light

    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "quantity"
    result = Comparison(table=table, labels=tuple(labels))
    if not result.ok:
        broken = [n for n, r in rows.items() if not r["within tolerance"]]
        raise ComparisonError(
            f"{labels[0]} and {labels[1]} disagree on {', '.join(broken)}:\n{result!r}"
        )
    return result
