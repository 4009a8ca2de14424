r"""Static figures that teach how a GLM is fitted and what its parts mean.

Every function here only draws: it takes data (a fitted model's stored history, a
family and its parameters) and the matplotlib ``Axes`` it is given (or, when ``ax`` is
None, a new figure made with ``plt.subplots``) and returns that ``Axes``.  The numbers
it draws (history arrays, the likelihood grid, the working-regression line, densities
and samples) are computed by ``glmteach.traces``, which has no matplotlib.  Nothing here
refits a model or keeps state, so the interactive widgets of ``glmteach.widgets`` are
built from these very functions, and a notebook rendered on GitHub, by nbconvert or in
CI tells the same story without a running kernel.

This module imports matplotlib; ``import glmteach`` does not import it.  Use::

    from glmteach import plotting

The figures:

- ``convergence``: the deviance D_k and the change |D_k - D_{k-1}| per iteration on a
  log scale; near the optimum Fisher scoring / Newton-Raphson converges quadratically,
  so the number of correct digits roughly doubles per step and |Delta D| falls off a
  cliff.
- ``coefficient_path``: where the iterates beta_k go; with two coefficients over the
  contours of the log-likelihood.
- ``working_regression``: one IRLS step seen as the weighted least squares regression
  of the working response z on the linear predictor, point size proportional to the
  working weight W.
- ``irls_small_multiples``: chosen iterations, one row each (working regression left,
  coefficient path right).
- ``family_panel``: a family's density or mass function built from its components
  exp((y theta - b(theta)) / phi + S(y, phi)), with mean b'(theta), standard deviation
  sqrt(phi b''(theta)) and a simulated sample.
- ``links_panel``: mean functions mu = g^{-1}(eta) of the binary-response links and
  their slopes d mu / d eta.
- ``tweedie_panel``: the compound Poisson-gamma (Tweedie, 1 < p < 2) distribution: a
  point mass e^{-lambda} at zero and a continuous density on y > 0.

For the stepper widget (and anyone who animates a figure) three panels also come as
objects that keep their artists and move them to another iteration with ``update(k)``:
``working_regression_panel`` (a ``WorkingRegressionArtists``), ``coefficient_path_marker``
and ``convergence_marker``.  The static functions above are built from the same objects.

Readable figures: every figure made here is drawn at ``FIGURE_DPI`` = 100 dpi or more
(matplotlib's and the inline backend's default), no wider than ``MAX_FIGURE_WIDTH_IN``
(7 inches = 700 px, what a notebook column offers at a 1024 px wide window with
JupyterLab's sidebar open), with no text smaller than ``MIN_FONT_PT`` = 9 pt; labels are
mathtext.  ``factor_colors`` gives every level of a factor the same colour-blind-safe
colour in every chapter.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from glmteach import families as F
from glmteach import links as L
from glmteach import traces as T
from glmteach.families import (
    FAMILY_NAMES,
    make_family,
    tweedie_from_poisson_gamma,
    tweedie_poisson_gamma,
)
from glmteach.links import LINK_NAMES, make_link
from glmteach.traces import LR_95_LEVEL, LikelihoodSurface, WorkingRegression

if TYPE_CHECKING:  # pragma: no cover
    from glmteach.results import GLMResults

__all__ = [
    "FAMILY_NAMES",
    "FIGURE_DPI",
    "LINK_NAMES",
    "LR_95_LEVEL",
    "MAX_FIGURE_WIDTH_IN",
    "MIN_FONT_PT",
    "OKABE_ITO",
    "CoefficientPathMarker",
    "ConvergenceMarker",
    "WorkingRegressionArtists",
    "coefficient_path",
    "coefficient_path_marker",
    "convergence",
    "convergence_marker",
    "factor_colors",
    "family_panel",
    "irls_small_multiples",
    "key_panel",
    "links_panel",
    "make_family",
    "make_link",
    "tweedie_from_poisson_gamma",
    "tweedie_panel",
    "tweedie_poisson_gamma",
    "working_regression",
    "working_regression_panel",
]

START_TEXT = "start: mean from the data\n(no coefficients yet)"
NO_VECTORS_TEXT = (
    "iteration {k}: the history keeps no η, μ, z, W here\n"
    "(they are dropped for n > 20,000;\nrefit with keep_vectors=True)"
)

# -- readability ------------------------------------------------------------------------
FIGURE_DPI = 100.0  # figures made here never have fewer dots per inch
MIN_FONT_PT = 9.0  # no text smaller than this (legends, notes, annotations)
MAX_FIGURE_WIDTH_IN = 7.0  # at 100 dpi: 700 px, a notebook column at 1024 px + sidebar
FONT_SMALL = 9.0
FONT_TITLE = 10.0
_NOTE_BOX = {"boxstyle": "round,pad=0.3", "fc": "white", "ec": "0.75", "alpha": 0.85}
HIGHLIGHT = "#D55E00"  # the current iteration (Okabe-Ito vermillion)

# Okabe & Ito's colour-blind-safe palette ("Color Universal Design", 2008), in the order
# factor levels receive them.  Yellow and black come last: yellow is faint on white and
# black reads as "reference line".
OKABE_ITO = (
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#009E73",  # bluish green
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#F0E442",  # yellow
    "#000000",  # black
)


def factor_colors(levels: Iterable[object]) -> dict[str, str]:
    """One colour per level of a factor: ``{str(level): "#rrggbb"}``.

    The colours are Okabe and Ito's colour-blind-safe palette ``OKABE_ITO``, handed out
    in the order the levels are given.  The same levels in the same order always get the
    same colours, so two chapters that draw the same factor (for instance the
    vehicle-use levels of Frees (2010, Table 13.3)) can pass the same list and agree::

        colors = plotting.factor_colors(["DrivShort", "DrivLong", "PleasNoWork",
                                         "PleasWork"])
        ax.plot(x, y, color=colors["DrivLong"])

    ``levels`` is any iterable of level names (a list, a pandas Index, the
    ``categories`` of a Categorical); keys are ``str(level)``.  Refused with a
    ``ValueError``: a single string (pass a list), repeated levels, and more levels
    than the palette's eight colours (merge levels, or tell them apart by marker).
    """
    if isinstance(levels, (str, bytes)):
        raise ValueError(f"levels: must be a list of level names, not one string "
                         f"({levels!r}); write [{levels!r}] for a single level")
    try:
        keys = [str(level) for level in levels]
    except TypeError as exc:
        raise ValueError(f"levels: must be an iterable of level names, got "
                         f"{type(levels).__name__}") from exc
    seen: set[str] = set()
    repeated = sorted({k for k in keys if k in seen or seen.add(k)})
    if repeated:
        raise ValueError(f"levels: each level must appear once, repeated: {repeated}")
    if len(keys) > len(OKABE_ITO):
        raise ValueError(f"levels: the colour-blind-safe palette has {len(OKABE_ITO)} "
                         f"colours, got {len(keys)} levels; merge levels or tell them "
                         f"apart by marker")
    return dict(zip(keys, OKABE_ITO, strict=False))


def _figure_dpi() -> float:
    return max(FIGURE_DPI, float(plt.rcParams["figure.dpi"]))


def _new_figure(figsize: tuple[float, float], nrows: int = 1, ncols: int = 1,
                **kwargs: Any) -> tuple[Figure, np.ndarray]:
    """A pyplot figure at >= FIGURE_DPI dpi with constrained layout."""
    return plt.subplots(nrows, ncols, figsize=figsize, dpi=_figure_dpi(),
                        layout="constrained", squeeze=False, **kwargs)


def _new_axes(ax: Axes | None, figsize: tuple[float, float] = (6.0, 4.0)) -> Axes:
    if ax is not None:
        return ax
    _, axes = _new_figure(figsize)
    return axes[0, 0]


def _legend(ax: Axes, loc: str = "best", **kwargs: Any):
    """A legend in small (>= 9 pt) type on a semi-transparent box; "best" keeps it off
    the data as far as matplotlib can tell."""
    return ax.legend(loc=loc, fontsize=FONT_SMALL, framealpha=0.85, **kwargs)


def _title(ax: Axes, text: str) -> None:
    ax.set_title(text, fontsize=FONT_TITLE)


def _param_names(results: GLMResults) -> list[str]:
    return list(results.problem.param_names)


def _k_label(k: int) -> str:
    return f"iteration {k}"


# --------------------------------------------------------------------------------------
# Convergence
# --------------------------------------------------------------------------------------
class ConvergenceMarker:
    """The current iteration on the convergence panel: a vertical line at k and a circle
    on D_k.  ``update(k)`` moves both; ``artists`` lists them (for blitting)."""

    def __init__(self, ax: Axes, deviances: np.ndarray):
        self.ax = ax
        self.deviances = np.asarray(deviances, dtype=float)
        self.vline = ax.axvline(0, color=HIGHLIGHT, lw=1.5, alpha=0.8, gid="conv-current-line")
        (self.point,) = ax.plot([], [], "o", ms=11, mfc="none", mec=HIGHLIGHT, mew=2,
                                label="current iteration", gid="conv-current")

    @property
    def artists(self) -> list[Artist]:
        return [self.vline, self.point]

    def update(self, k: int) -> None:
        d = self.deviances[k]
        self.vline.set_xdata([k, k])
        self.point.set_data([k], [d] if d > 0 else [np.nan])


def convergence_marker(results: GLMResults, ax: Axes) -> ConvergenceMarker:
    """A ``ConvergenceMarker`` for the deviances of ``results`` on ``ax``."""
    return ConvergenceMarker(ax, T.history_deviances(results))


def convergence(results: GLMResults, ax: Axes | None = None, *, current: int | None = None,
                tol: float | None = None, legend: bool = True) -> Axes:
    r"""Deviance D_k and |D_k - D_{k-1}| against the iteration k, on a log scale.

    For a canonical link Fisher scoring is Newton-Raphson, which converges quadratically
    near the optimum: |D_k - D_{k-1}| shrinks roughly like the square of the previous
    change, so the curve bends down ever more steeply (one or two steps from 1e-2 to
    1e-10).  The deviance itself flattens out at D(beta-hat).  D_0 belongs to the
    starting means (near y, by default), not to any coefficients, so it can lie below D_1.

    Draws two lines, labelled ``"deviance $D_k$"`` (data: every D_k) and
    ``"$|D_k - D_{k-1}|$"`` (data from k = 1; exact zeros, which a log scale cannot show,
    are left out as NaN).  ``current`` marks that iteration (a ``ConvergenceMarker``:
    vertical line and circle on D_k); ``tol`` adds R's stopping threshold
    tol (|D_K| + 0.1) as a horizontal line.  ``legend=False`` leaves the legend to the
    caller (the handles keep their labels).
    """
    ax = _new_axes(ax)
    dev = T.history_deviances(results)
    iters = np.arange(len(dev))
    dev_shown = np.where(dev > 0, dev, np.nan)
    change = np.abs(np.diff(dev))
    change = np.where(change > 0, change, np.nan)
    ax.plot(iters, dev_shown, "o-", color="C0", label=r"deviance $D_k$")
    ax.plot(iters[1:], change, "s--", color="C3", label=r"$|D_k - D_{k-1}|$")
    ax.set_yscale("log")
    if tol is not None:
        ax.axhline(tol * (abs(dev[-1]) + 0.1), color="0.5", lw=0.8, ls=":",
                   label=rf"R's stop: $\mathrm{{tol}}\,(|D_K| + 0.1)$, tol = {tol:g}")
    if current is not None:
        convergence_marker(results, ax).update(int(np.clip(current, 0, len(dev) - 1)))
    ax.set_xlabel(r"iteration $k$")
    ax.set_ylabel(r"$D_k$ and $|D_k - D_{k-1}|$ (log scale)")
    ax.set_xticks(iters if len(iters) <= 12 else ax.get_xticks())
    ax.set_xlim(-0.3, max(len(dev) - 1, 1) + 0.3)
    _title(ax, f"Convergence: {len(dev) - 1} iterations "
               f"({'converged' if results.converged else 'not converged'})")
    if legend:
        _legend(ax)
    return ax


# --------------------------------------------------------------------------------------
# Coefficient path and the likelihood surface
# --------------------------------------------------------------------------------------
class CoefficientPathMarker:
    r"""The current iteration on the coefficient-path panel.

    With two coefficients (a path in the plane) a circle on beta_k; otherwise a vertical
    line at k and a circle on each coefficient beta_{k, j}.  At an iteration without
    coefficients (the start from the data) no point is shown and the note
    "start: mean from the data" appears instead (top left, on a semi-transparent box).
    ``update(k)`` moves it; ``artists`` lists the artists (for blitting).
    """

    def __init__(self, ax: Axes, params: np.ndarray, *, plane: bool):
        self.ax = ax
        self.params = np.asarray(params, dtype=float)
        self.plane = plane
        self.vline = None
        if plane:
            (self.point,) = ax.plot([], [], "o", ms=13, mfc="none", mec=HIGHLIGHT, mew=2.2,
                                    label="current iteration", gid="path-current")
        else:
            self.vline = ax.axvline(0, color=HIGHLIGHT, lw=1.5, alpha=0.8,
                                    gid="path-current-line")
            (self.point,) = ax.plot([], [], "o", ms=8, mfc="none", mec=HIGHLIGHT, mew=2,
                                    label="current iteration", gid="path-current")
        self.start_note = ax.text(0.03, 0.97, START_TEXT, transform=ax.transAxes, va="top",
                                  ha="left", fontsize=FONT_SMALL, bbox=_NOTE_BOX,
                                  gid="path-start", visible=False)

    @property
    def artists(self) -> list[Artist]:
        return [a for a in (self.point, self.vline, self.start_note) if a is not None]

    def update(self, k: int) -> None:
        beta = self.params[k]
        has = bool(np.isfinite(beta).all())
        if self.plane:
            self.point.set_data(beta[:1] if has else [], beta[1:] if has else [])
        else:
            self.vline.set_xdata([k, k])
            self.point.set_data(np.full(len(beta), k) if has else [], beta if has else [])
        self.start_note.set_visible(not has)


def coefficient_path_marker(results: GLMResults, ax: Axes, *,
                            contours: bool = True) -> CoefficientPathMarker:
    """A ``CoefficientPathMarker`` for ``results`` on a panel drawn by
    ``coefficient_path(results, ax, contours=contours)``."""
    return CoefficientPathMarker(ax, T.history_params(results),
                                 plane=results.problem.p == 2 and contours)


def _label_iterates(ax: Axes, P: np.ndarray, ks: np.ndarray, xlim, ylim) -> None:
    """Number the iterates, merging those that sit on top of each other ("3–6"), so
    that no label hides a point."""
    span = np.array([xlim[1] - xlim[0], ylim[1] - ylim[0]], dtype=float)
    span = np.where(span > 0, span, 1.0)
    groups: list[list[int]] = []
    for k in ks:
        frac = P[k] / span
        if groups and np.hypot(*(frac - P[groups[-1][0]] / span)) < 0.06:
            groups[-1].append(int(k))
        else:
            groups.append([int(k)])
    for g in groups:
        text = str(g[0]) if len(g) == 1 else f"{g[0]}–{g[-1]}"
        ax.annotate(text, P[g[0]], textcoords="offset points", xytext=(6, 6),
                    fontsize=FONT_SMALL, color="C0", gid="path-iteration-label",
                    bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none",
                          "alpha": 0.6})


def coefficient_path(results: GLMResults, ax: Axes | None = None, *, upto: int | None = None,
                     surface: LikelihoodSurface | None = None, contours: bool = True,
                     highlight: bool = True, legend: bool = True) -> Axes:
    r"""The iterates beta_0, beta_1, ..., beta_K of the fit.

    With exactly two coefficients the path is drawn in the (beta_0, beta_1) plane over
    contours of the log-likelihood drop ell(beta-hat) - ell(beta) = (D(beta) - D-hat) /
    (2 phi-hat), at the levels 0.5, 1, 2, 5, 10, ... that the legend lists
    (``LikelihoodSurface.levels``), plus a dashed contour at 3.00 that bounds the 95 %
    likelihood-ratio region; there are no numbers on the contours.  Each IRLS step jumps
    to the maximum of the quadratic approximation of ell at the current point, so the
    iterates land near the optimum in very few steps.  The iterates are numbered;
    iterates that lie on top of each other share one label ("3–5").  Otherwise (or with
    ``contours=False``) every coefficient is drawn against the iteration.

    ``upto=k`` draws the path only up to iteration k and (``highlight``) marks beta_k
    with a ``CoefficientPathMarker``.  When the fit started from the data, iteration 0
    has no coefficients: there is no point for it (only a note "start: mean from the
    data").  ``legend=False`` leaves the legend to the caller.
    """
    ax = _new_axes(ax)
    P = T.history_params(results)
    K = len(P) - 1
    k_last = K if upto is None else int(np.clip(upto, 0, K))
    names = _param_names(results)
    iters = np.arange(K + 1)
    shown = iters <= k_last
    has = np.isfinite(P).all(axis=1)
    plane = P.shape[1] == 2 and contours
    if plane:
        if surface is None:
            surface = T.likelihood_surface(results)
        top = surface.top()
        levels = surface.levels()
        if levels.size:  # (contour warns when no level lies inside the data)
            ax.contour(surface.b0, surface.b1, surface.delta, levels=levels,
                       colors="0.6", linewidths=0.8)
            ax.plot([], [], color="0.6", lw=0.8,
                    label=r"contours of $\ell(\hat{\boldsymbol{\beta}}) - \ell(\boldsymbol{\beta})$"
                          f":\n{surface.levels_text()}")
        if LR_95_LEVEL < top:
            ax.contour(surface.b0, surface.b1, surface.delta, levels=[LR_95_LEVEL],
                       colors="C2", linewidths=1.2, linestyles="--")
            ax.plot([], [], color="C2", lw=1.2, ls="--",
                    label=f"95 % LR region (drop {LR_95_LEVEL:.2f})")
        sel = shown & has
        ax.plot(P[sel, 0], P[sel, 1], "o-", color="C0", ms=5, lw=1.2,
                label=r"iterates $\boldsymbol{\beta}_k$", gid="path")
        ax.plot(*surface.center, marker="*", ms=12, color="C2", ls="none",
                label=r"$\hat{\boldsymbol{\beta}}$ (final)", gid="path-final")
        xlim, ylim = (surface.b0[0], surface.b0[-1]), (surface.b1[0], surface.b1[-1])
        ax.set_xlim(*xlim)
        ax.set_ylim(*ylim)
        _label_iterates(ax, P, iters[sel], xlim, ylim)
        ax.set_xlabel(f"{names[0]}  " + r"($\beta_0$)")
        ax.set_ylabel(f"{names[1]}  " + r"($\beta_1$)")
        _title(ax, r"Coefficient path over $\ell(\hat{\boldsymbol{\beta}}) - "
                   r"\ell(\boldsymbol{\beta})$")
    else:
        for j in range(P.shape[1]):
            ax.plot(iters[shown], P[shown, j], "o-", ms=4, lw=1.2,
                    label=names[j] if P.shape[1] <= 8 else None, gid="path")
        ax.set_xlabel(r"iteration $k$")
        ax.set_ylabel(r"coefficient $\beta_{k,j}$")
        ax.set_xlim(-0.3, max(K, 1) + 0.3)
        finite = P[np.isfinite(P)]
        if finite.size:
            span = finite.max() - finite.min()
            pad = 0.08 * span if span > 0 else 0.5
            ax.set_ylim(finite.min() - pad, finite.max() + pad)
        _title(ax, r"Coefficient path $\boldsymbol{\beta}_k$")
    if highlight and (upto is not None or plane):
        coefficient_path_marker(results, ax, contours=contours).update(k_last)
    elif not has[k_last]:
        ax.text(0.03, 0.97, START_TEXT, transform=ax.transAxes, va="top", ha="left",
                fontsize=FONT_SMALL, bbox=_NOTE_BOX, gid="path-start")
    if legend and ax.get_legend_handles_labels()[0]:
        _legend(ax)
    return ax


# --------------------------------------------------------------------------------------
# One IRLS step as weighted least squares
# --------------------------------------------------------------------------------------
def _marker_areas(data: WorkingRegression) -> np.ndarray:
    """Marker areas of the shown points: 4 + 60 W_i / max W."""
    w = data.w
    wmax = float(np.max(w)) if w.size and np.max(w) > 0 else 1.0
    return 4.0 + 60.0 * w[data.shown] / wmax


def _wls_equation(data: WorkingRegression) -> str:
    """The WLS line as mathtext: "$\\hat z = +0.1234 + 0.9876\\,x'beta_k$"."""
    if not np.isfinite(data.slope):
        return "WLS line undefined (no spread in the linear predictor)"
    icpt = data.intercept + 0.0 if abs(data.intercept) >= 5e-5 else 0.0  # no "-0.0000"
    return (rf"$\hat z = {icpt:+.4f} + {data.slope:.4f}\,"
            r"\mathbf{x}'\boldsymbol{\beta}_k$")


class WorkingRegressionArtists:
    r"""The artists of one working-regression panel, movable from iteration to iteration.

    ``points`` (a scatter of (x_i'beta_k, z_i), area proportional to W_i), ``line`` (the
    WLS line of z on x'beta_k), ``diagonal`` (z = x'beta_k), ``equation`` (the line's
    equation: in the lower right corner on a semi-transparent box, or, with
    ``equation_in_title``, the axes title after ``title_prefix``, where it can hide no
    data), ``missing`` (the note shown when the history kept no vectors).
    ``update(data)`` puts a ``WorkingRegression`` (or None) on them; ``animated`` lists
    the artists that change with the iteration.  With ``limits`` the axes stay fixed and
    the lines span them; otherwise each update rescales the axes to its data and the
    lines span the data.
    """

    def __init__(self, ax: Axes, limits=None, *, equation_in_title: bool = False,
                 title_prefix: str = ""):
        self.ax = ax
        self.limits = limits
        self.title_prefix = title_prefix
        self.in_title = equation_in_title
        self.points = ax.scatter(np.zeros(0), np.zeros(0), s=np.zeros(0), c="C0", alpha=0.35,
                                 linewidths=0, label=r"$z_i$ (area $\propto W_i$)",
                                 gid="wls-points")
        (self.diagonal,) = ax.plot([], [], "--", color="0.3", lw=1.0,
                                   label=r"$z_i = \mathbf{x}_i'\boldsymbol{\beta}_k$",
                                   gid="wls-diagonal")
        (self.line,) = ax.plot([], [], color="C3", lw=1.6,
                               label=r"WLS line of $z_i$ on $\mathbf{x}_i'\boldsymbol{\beta}_k$",
                               gid="wls-line")
        if equation_in_title:
            self.equation = ax.title
            self.equation.set_color("C3")
            self.equation.set_fontsize(FONT_TITLE)
            self.equation.set_gid("wls-equation")
        else:
            self.equation = ax.text(0.98, 0.03, "", transform=ax.transAxes, ha="right",
                                    va="bottom", fontsize=FONT_SMALL, color="C3",
                                    bbox=_NOTE_BOX, gid="wls-equation")
        self.missing = ax.text(0.5, 0.5, "", transform=ax.transAxes, ha="center",
                               va="center", fontsize=FONT_SMALL, bbox=_NOTE_BOX,
                               gid="wls-missing", visible=False)
        if limits is not None:
            (xlo, xhi), (zlo, zhi) = limits
            ax.set_xlim(xlo, xhi)
            ax.set_ylim(zlo, zhi)
            lo, hi = min(xlo, zlo), max(xhi, zhi)
            self.diagonal.set_data([lo, hi], [lo, hi])

    @property
    def animated(self) -> list[Artist]:
        return [self.points, self.line, self.equation, self.missing]

    def update(self, data: WorkingRegression | None, iteration: int | None = None) -> None:
        if data is None:
            self.points.set_offsets(np.zeros((0, 2)))
            self.points.set_sizes(np.zeros(0))
            self.line.set_data([], [])
            self.equation.set_text(f"{self.title_prefix}no working vectors kept"
                                   if self.in_title else "")
            self.equation.set_visible(self.in_title)
            self.missing.set_text(NO_VECTORS_TEXT.format(k="?" if iteration is None
                                                         else iteration))
            self.missing.set_visible(True)
            return
        idx = data.shown
        self.points.set_offsets(np.column_stack([data.x[idx], data.z[idx]]))
        self.points.set_sizes(_marker_areas(data))
        if self.limits is None:
            grid = data.span()
            self.diagonal.set_data(grid, grid)
        else:
            grid = np.array(self.limits[0], dtype=float)
        self.line.set_data(grid, data.line(grid))
        equation = _wls_equation(data)
        self.equation.set_text(self.title_prefix + equation if self.in_title
                               else f"WLS: {equation}")
        self.equation.set_visible(True)
        self.missing.set_visible(False)
        if self.limits is None:
            self.ax.update_datalim(np.column_stack([data.x[idx], data.z[idx]]))
            self.ax.autoscale_view()


def working_regression_panel(results: GLMResults, ax: Axes | None = None, *,
                             iteration: int | None = None, max_points: int | None = 3000,
                             seed: int = 0, fixed_limits: bool = False,
                             legend: bool = True, equation_in_title: bool = True,
                             title_prefix: str = "") -> WorkingRegressionArtists:
    r"""Draw the frame of a working-regression panel and return its artists.

    Labels (mathtext): x axis "linear predictor x_i'beta_k" (= eta_i - offset_i), y axis
    "working response z_i".  ``fixed_limits=True`` fixes the axes to
    ``traces.working_regression_limits`` (every stored iteration fits; used by the
    stepper); ``iteration=k`` puts that iteration's data on the artists
    (``traces.working_regression_data(results, k, max_points=..., seed=...)``).  When only
    ``max_points`` of n points are drawn the points' legend entry says so.
    ``equation_in_title`` (default) writes the WLS equation as the title, after
    ``title_prefix``, where it cannot hide a point; ``False`` puts it in the lower right
    corner on a semi-transparent box.
    """
    ax = _new_axes(ax)
    limits = T.working_regression_limits(results) if fixed_limits else None
    if not equation_in_title:
        _title(ax, "Working regression (WLS)")
    artists = WorkingRegressionArtists(ax, limits, equation_in_title=equation_in_title,
                                       title_prefix=title_prefix)
    n = results.problem.n
    if max_points is not None and n > max_points:
        artists.points.set_label(rf"$z_i$ (area $\propto W_i$; {max_points:,} of {n:,} shown)")
    ax.set_xlabel(r"linear predictor $\mathbf{x}_i'\boldsymbol{\beta}_k = "
                  r"\eta_i - \mathrm{offset}_i$")
    ax.set_ylabel(r"working response $z_i$")
    if iteration is not None:
        artists.update(T.working_regression_data(results, iteration,
                                                 max_points=max_points, seed=seed), iteration)
    if legend:
        _legend(ax, handles=[artists.points, artists.diagonal, artists.line],
                loc="upper left")
    return artists


def working_regression(results: GLMResults, iteration: int, ax: Axes | None = None, *,
                       max_points: int | None = 3000, seed: int = 0,
                       legend: bool = True) -> Axes:
    r"""The weighted least squares problem solved at iteration k.

    At the current means mu_k, IRLS forms the working response and working weights

        z_i = (eta_i - offset_i) + (y_i - mu_i) g'(mu_i),
        W_i = w_i / ( v(mu_i) g'(mu_i)^2 ),

    and regresses z on X with weights W: beta_{k+1} = (X'WX)^{-1} X'Wz.  The figure shows
    z against the current linear predictor x_i'beta_k = eta_i - offset_i (points sized by
    W; heavy points pull the fit) with the line z = x'beta_k (dashed) and the weighted
    least squares line of z on x'beta_k (its equation is the title, "Iteration k:
    z-hat = a + b x'beta_k").
    The vertical gaps are the working residuals (y - mu) g'(mu).  At convergence
    X'W(z - X beta) = 0, so (with an intercept in X) that line is exactly the diagonal:
    slope 1, intercept 0.

    Drawn by ``working_regression_panel`` (the stepper widget uses the same artists).
    When the history keeps no vectors for this iteration (n > 20,000 without
    ``keep_vectors=True``) a note is drawn instead.  For large n only ``max_points``
    randomly chosen points (fixed ``seed``) are drawn; the line uses all of them.
    Artists carry gids: ``wls-points``, ``wls-diagonal``, ``wls-line``, ``wls-equation``,
    ``wls-missing``.
    """
    K = len(results.history) - 1
    if not 0 <= iteration <= K:
        raise ValueError(f"iteration: must be between 0 and {K}, got {iteration!r}")
    artists = working_regression_panel(results, ax, iteration=iteration,
                                       max_points=max_points, seed=seed, legend=legend,
                                       title_prefix=f"Iteration {iteration}: ")
    return artists.ax


def key_panel(ax: Axes, sections: Sequence[tuple[str, Axes]], *, note: str = "",
              ncols: int = 1):
    """Turn ``ax`` into a key: one legend holding, for each (title, panel), a bold
    heading and the labelled artists of that panel; then ``note`` (plain text) at the
    bottom.  Used where legends inside the panels would hide data (the stepper, the
    small multiples).  Returns the legend (None when nothing is labelled)."""
    ax.set_axis_off()
    handles: list = []
    labels: list[str] = []
    headings: list[int] = []
    for title, panel in sections:
        pairs = [(h, lab) for h, lab in zip(*panel.get_legend_handles_labels(), strict=True)
                 if lab not in labels]  # a label shared by panels is listed once
        if not pairs:
            continue
        headings.append(len(labels))
        handles.append(Line2D([], [], ls="none"))
        labels.append(title)
        for h, lab in pairs:
            if isinstance(h, PathCollection):  # a scatter: a plain marker reads better
                h = Line2D([], [], ls="none", marker="o", ms=6, alpha=0.6,
                           color=h.get_facecolor()[0] if len(h.get_facecolor()) else "C0")
            handles.append(h)
            labels.append(lab)
    leg = None
    if handles:
        leg = ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(0.0, 1.0),
                        fontsize=FONT_SMALL, frameon=False, borderaxespad=0.0,
                        ncols=ncols, handlelength=1.8, labelspacing=0.3)
        texts = leg.get_texts()
        for i in headings:
            texts[i].set_fontweight("bold")
    if note:
        ax.text(0.0, 0.0, note, transform=ax.transAxes, va="bottom", ha="left",
                fontsize=FONT_SMALL, gid="key-note")
    return leg


def irls_small_multiples(results: GLMResults, iterations: Sequence[int] | None = None, *,
                         surface: LikelihoodSurface | None = None,
                         figsize: tuple[float, float] | None = None,
                         max_points: int | None = 3000) -> Figure:
    r"""Chosen iterations, one row each: the working regression of iteration k (left)
    and the coefficient path up to it (right).  Read top to bottom, the weighted least
    squares line turns into the diagonal while beta_k settles on beta-hat.

    ``iterations`` defaults to 0, 1, 2 and the last one (those with stored vectors).
    One key below the panels explains every symbol, line and contour level (the panels
    themselves carry no legend, so nothing hides data).  Returns the figure: axes
    ``2 m`` in reading order (row k: working regression, path), 7 inches wide.
    """
    K = len(results.history) - 1
    if iterations is None:
        cand = sorted({0, 1, 2, K} & set(range(K + 1)))
        kept = [k for k in cand if results.history[k].z is not None]
        iterations = kept or [K]
    iterations = [int(k) for k in iterations]
    bad = [k for k in iterations if not 0 <= k <= K]
    if bad:
        raise ValueError(f"iterations: must lie between 0 and {K}, got {bad}")
    m = len(iterations)
    if figsize is None:
        figsize = (MAX_FIGURE_WIDTH_IN, 2.9 * m + 1.5)
    fig = plt.figure(figsize=figsize, dpi=_figure_dpi(), layout="constrained")
    grid = fig.add_gridspec(m + 1, 2, height_ratios=[1.0] * m + [1.5 / 2.9])
    if surface is None and results.problem.p == 2:
        surface = T.likelihood_surface(results)
    rows = []
    for row, k in enumerate(iterations):
        ax_w = fig.add_subplot(grid[row, 0])
        ax_p = fig.add_subplot(grid[row, 1])
        working_regression(results, k, ax=ax_w, max_points=max_points, legend=False)
        coefficient_path(results, ax=ax_p, upto=k, surface=surface, legend=False)
        _title(ax_p, rf"$\boldsymbol{{\beta}}$ path up to iteration {k}")
        rows.append((ax_w, ax_p))
    key_w = fig.add_subplot(grid[m, 0])
    key_p = fig.add_subplot(grid[m, 1])
    key_panel(key_w, [("working regression", rows[0][0])])
    key_panel(key_p, [("coefficient path", rows[-1][1])])
    return fig


# --------------------------------------------------------------------------------------
# Families
# --------------------------------------------------------------------------------------
def family_panel(family: str | F.Family, mean: float, phi: float = 1.0, *, trials: int = 1,
                 ax: Axes | None = None, n_sample: int = 4000, seed: int = 0,
                 show_sample: bool = True) -> Axes:
    r"""Density (or mass function) of one member of the linear exponential family.

    The curve is f(y) = exp((y theta - b(theta)) / phi + S(y, phi)) (equation 13.2) at
    theta = theta(mean), the family's ``loglike_obs`` (``traces.family_density``).  The
    solid vertical line is the mean b'(theta), the shaded band b'(theta) +/-
    sqrt(phi b''(theta)): one standard deviation, since Var y = phi b''(theta) =
    phi v(mu).  The bars are a simulated sample of ``n_sample`` draws from
    ``family.sample`` (fixed ``seed``): relative frequencies for discrete families, a
    density histogram for continuous ones, so they should follow the curve.

    ``family`` is a family instance or name; the binomial uses ``trials`` = n (y is the
    proportion of successes, phi = 1/n; n = 1 is the Bernoulli); for Poisson and the
    negative binomial phi = 1 and the ``phi`` argument is ignored.  Tweedie families
    (1 < p < 2) are drawn by ``tweedie_panel``.  Invalid values raise ``ValueError``.
    """
    fam = make_family(family)
    T.check_family_values(fam, mean, phi, trials)
    if isinstance(fam, F.Tweedie):
        return tweedie_panel(mean, phi, fam.power, ax=ax, n_sample=n_sample, seed=seed,
                             show_sample=show_sample)
    d = T.family_density(fam, mean, phi, trials=trials, n_sample=n_sample, seed=seed,
                         show_sample=show_sample)
    ax = _new_axes(ax)
    y, f = d.y, d.f
    if d.discrete:
        step = y[1] - y[0] if len(y) > 1 else 1.0
        freq = np.zeros_like(y)
        if d.sample is not None:
            keys = np.rint(d.sample / step).astype(int)
            freq = np.bincount(keys, minlength=len(y))[: len(y)] / n_sample
            ax.stairs(freq, np.append(y - step / 2, y[-1] + step / 2), fill=True,
                      color="0.8", label=f"simulated sample (n = {n_sample:,})",
                      gid="sample")
        ax.vlines(y, 0, f, color="C0", lw=1.5)
        ax.plot(y, f, "o", color="C0", ms=4, label=r"$P(Y = y)$ from $\theta$, $b$, $S$")
        ax.set_ylabel(r"probability $P(Y = y)$")
        top = max(float(f.max()), float(freq.max()))
    else:
        top = float(np.nanmax(f[y >= y[0] + 0.02 * (y[-1] - y[0])]))
        if d.sample is not None:
            edges = np.linspace(y[0], y[-1], 50)
            counts, _ = np.histogram(d.sample, bins=edges)
            heights = counts / (n_sample * (edges[1] - edges[0]))
            ax.stairs(heights, edges, fill=True, color="0.8", gid="sample",
                      label=f"simulated sample (n = {n_sample:,})")
            top = max(top, float(np.max(heights)))
        ax.plot(y, f, color="C0", lw=2, label=r"$f(y)$ from $\theta$, $b$, $S$")
        ax.set_ylabel(r"density $f(y)$")
        ax.set_xlim(*d.y_range)
    ax.set_ylim(0, 1.18 * top if top > 0 else 1.0)
    mu, sd = d.mu, d.sd
    ax.axvline(mu, color="C3", lw=1.5, label=rf"mean $b'(\theta)$ = {mu:.4g}")
    ax.axvspan(mu - sd, mu + sd, color="C3", alpha=0.12,
               label=rf"± sd, $\sqrt{{\phi\, b''(\theta)}}$ = {sd:.4g}")
    trials_family = fam.trials_as_weights  # y is a proportion of n trials
    ax.set_xlabel(r"$y$ (proportion of successes)" if trials_family else r"$y$")
    extra = f", n = {d.trials}" if trials_family else (
        f", α = {fam.alpha:g}" if hasattr(fam, "alpha") else "")
    ax.set_title(f"{fam.name}{extra}: θ = {d.theta:.4g}, b(θ) = {float(fam.b(d.theta)):.4g}, "
                 f"φ = {d.phi:.4g}", fontsize=FONT_TITLE)
    _legend(ax)
    return ax


# --------------------------------------------------------------------------------------
# Links
# --------------------------------------------------------------------------------------
def _link_label(link: L.Link) -> str:
    return getattr(link, "name", type(link).__name__.lower())


def links_panel(eta: float | None = None, links: Sequence[str | L.Link] | None = None,
                ax: Axes | None = None, *, eta_range: tuple[float, float] = (-5.0, 5.0),
                tangent_halfwidth: float = 1.0) -> Axes:
    r"""Mean functions mu = g^{-1}(eta) of several links on one figure.

    logit: mu = 1 / (1 + e^{-eta}), d mu/d eta = mu (1 - mu) (at most 1/4, at eta = 0);
    probit: mu = Phi(eta), d mu/d eta = phi(eta) (at most 0.399); cloglog: mu = 1 -
    exp(-e^eta), d mu/d eta = e^{eta - e^eta}, not symmetric about 1/2 (it reaches 1
    faster than it leaves 0).  Logit and probit differ mainly by scale (logit ~ 1.6
    probit).  The log and identity links, if asked for, are drawn only where their mean
    stays a probability in [0, 1]: outside, they are not valid for a binary response.

    With ``eta`` given, each curve gets a point at (eta, mu) and a tangent segment of
    slope d mu / d eta, the factor that turns a change in the linear predictor into a
    change in the probability (and that enters the working weights).  When ``eta`` lies
    outside (or within 0.5 of the ends of) ``eta_range``, the range widens to show it.
    """
    ax = _new_axes(ax)
    links = ["logit", "probit", "cloglog"] if links is None else links
    objs = [make_link(k) for k in links]
    lo, hi = (float(v) for v in eta_range)
    if eta is not None and np.isfinite(eta) and not lo + 0.5 <= eta <= hi - 0.5:
        # the range widens to show the requested eta (never a silently clamped point)
        lo, hi = min(lo, float(eta) - 1.0), max(hi, float(eta) + 1.0)
    eta_range = (lo, hi)
    grid = np.linspace(eta_range[0], eta_range[1], 401)
    for i, link in enumerate(objs):
        color = f"C{i}"
        ax.plot(grid, T.probability_curve(link, grid), color=color, lw=2,
                label=f"{_link_label(link)}")
        if eta is not None:
            m0, slope = T.link_at(link, eta)
            if 0 <= m0 <= 1 and np.isfinite(slope):
                ax.plot([eta], [m0], "o", color=color, ms=7,
                        label=rf"  $\mu$ = {m0:.3f}, $d\mu/d\eta$ = {slope:.3f}")
                h = tangent_halfwidth
                ax.plot([eta - h, eta + h], [m0 - h * slope, m0 + h * slope], "-",
                        color=color, lw=1, alpha=0.7)
    if eta is not None:
        ax.axvline(eta, color="0.4", lw=0.8, ls=":")
    ax.axhline(0.5, color="0.85", lw=0.8)
    ax.set_xlim(*eta_range)
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel(r"linear predictor $\eta$")
    ax.set_ylabel(r"mean $\mu = g^{-1}(\eta)$")
    _title(ax, "Inverse links: probability as a function of η")
    _legend(ax)
    return ax


# --------------------------------------------------------------------------------------
# Tweedie
# --------------------------------------------------------------------------------------
def tweedie_panel(mu: float, phi: float, power: float, ax: Axes | None = None, *,
                  n_sample: int = 4000, seed: int = 0, show_sample: bool = True) -> Axes:
    r"""The Tweedie (compound Poisson-gamma) distribution, 1 < p < 2.

    y = sum of N gamma claims with N ~ Poisson(lambda): a point mass P(Y = 0) = e^{-lambda}
    at zero (the stem at y = 0, on the probability scale) and, for y > 0, the density of
    equation 13.11 exp((y theta - b(theta)) / phi + S(y, phi)) from
    ``Tweedie(power).loglike_obs`` (the curve; it integrates to 1 - e^{-lambda}).  The
    grey bars are a simulated sample (``Tweedie.sample``, fixed ``seed``): the bar at 0
    is the fraction of zeros, the others a histogram of the positive values scaled so
    that its area is the fraction of positive values.  The mean mu and mu +/- sqrt(phi
    mu^p) are marked.  With mu and phi fixed, raising p towards 2 sends the claim rate
    lambda = mu^(2-p) / (phi (2-p)) to infinity and the mean claim to 0, so zeros vanish
    and y approaches a gamma; lowering p towards 1 makes y lumpier, with atoms near
    multiples of phi (towards the Poisson).  The numbers come from
    ``traces.tweedie_density``.
    """
    d = T.tweedie_density(mu, phi, power, n_sample=n_sample, seed=seed,
                          show_sample=show_sample)
    ax = _new_axes(ax)
    y, dens, upper, p0, sd = d.y, d.f, d.upper, d.p0, d.sd
    lam, alpha, gamma = d.lam, d.alpha, d.gamma
    top = max(p0, float(np.nanmax(dens[y > 0.02 * upper])) if np.any(y > 0.02 * upper) else 0)
    if d.sample is not None:
        pos = d.sample[d.sample > 0]
        zero_frac = 1.0 - pos.size / n_sample
        bins = np.linspace(0.0, upper, 50)
        width = bins[1] - bins[0]
        counts, _ = np.histogram(pos, bins=bins)
        heights = counts / (n_sample * width)
        ax.stairs(heights, bins, fill=True, color="0.8", gid="sample",
                  label=f"simulated sample (n = {n_sample:,})")
        ax.stairs([zero_frac], [-0.3 * width, 0.3 * width], fill=True, color="0.45",
                  gid="sample-zeros", label=f"simulated share of zeros = {zero_frac:.3f}")
        top = max(top, float(np.max(heights)) if heights.size else 0.0, zero_frac)
    ax.plot(y, dens, color="C0", lw=2, label=r"density $f(y)$, $y > 0$")
    ax.vlines([0.0], 0, p0, color="C1", lw=3)
    ax.plot([0.0], [p0], "o", color="C1", ms=8, label=rf"$P(Y = 0) = e^{{-\lambda}}$ = {p0:.3f}")
    ax.axvline(mu, color="C3", lw=1.5, label=rf"mean $\mu$ = {mu:.4g}")
    ax.axvspan(max(mu - sd, 0.0), mu + sd, color="C3", alpha=0.12,
               label=rf"± sd, $\sqrt{{\phi\, \mu^p}}$ = {sd:.4g}")
    ax.set_xlim(-0.03 * upper, upper)
    ax.set_ylim(0, 1.15 * top if top > 0 else 1.0)
    ax.set_xlabel(r"$y$")
    ax.set_ylabel(r"density ($y > 0$) / probability ($y = 0$)")
    ax.set_title(f"Tweedie p = {power:.3g}, μ = {mu:.3g}, φ = {phi:.3g}:  λ = {lam:.3g}, "
                 f"α = {alpha:.3g}, γ = {gamma:.3g}", fontsize=FONT_TITLE)
    _legend(ax)
    return ax
