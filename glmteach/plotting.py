r"""Static figures that teach how a GLM is fitted and what its parts mean.

Every function here is pure: it draws on the matplotlib ``Axes`` it is given (or, when
``ax`` is None, on a new figure made with ``plt.subplots``) and returns that ``Axes``.
Nothing here refits a model or keeps state, so the interactive widgets of
``glmteach.widgets`` are built from these very functions, and a notebook rendered on
GitHub, by nbconvert or in CI tells the same story without a running kernel.

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
- ``irls_small_multiples``: chosen iterations side by side (working regression above,
  coefficient path below).
- ``family_panel``: a family's density or mass function built from its components
  exp((y theta - b(theta)) / phi + S(y, phi)), with mean b'(theta), standard deviation
  sqrt(phi b''(theta)) and a simulated sample.
- ``links_panel``: mean functions mu = g^{-1}(eta) of the binary-response links and
  their slopes d mu / d eta.
- ``tweedie_panel``: the compound Poisson-gamma (Tweedie, 1 < p < 2) distribution: a
  point mass e^{-lambda} at zero and a continuous density on y > 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from glmteach import families as F
from glmteach import links as L

if TYPE_CHECKING:  # pragma: no cover
    from glmteach.results import GLMResults

__all__ = [
    "FAMILY_NAMES",
    "LINK_NAMES",
    "LR_95_LEVEL",
    "LikelihoodSurface",
    "coefficient_path",
    "convergence",
    "exponential_family_logpdf",
    "family_panel",
    "history_deviances",
    "history_params",
    "likelihood_surface",
    "irls_small_multiples",
    "links_panel",
    "make_family",
    "make_link",
    "check_family_values",
    "tweedie_from_poisson_gamma",
    "tweedie_panel",
    "tweedie_poisson_gamma",
    "working_regression",
    "working_regression_data",
    "WorkingRegression",
]

FAMILY_NAMES = ("Gaussian", "Binomial", "Poisson", "Gamma", "InverseGaussian",
                "NegativeBinomial", "Tweedie")
LINK_NAMES = ("logit", "probit", "cloglog", "log", "identity")
# ell(beta-hat) - ell(beta) = chi^2_{2, 0.95} / 2: the boundary of the 95 % joint
# likelihood-ratio confidence region for two coefficients.
LR_95_LEVEL = 2.995732273553991
START_TEXT = "start: mean from the data\n(no coefficients yet)"
NO_VECTORS_TEXT = (
    "iteration {k}: the history keeps no eta, mu, z, w here\n"
    "(they are dropped for n > 20,000; refit with keep_vectors=True)"
)


def _new_axes(ax: Axes | None, figsize: tuple[float, float] = (6.0, 4.0)) -> Axes:
    if ax is not None:
        return ax
    _, ax = plt.subplots(figsize=figsize)
    return ax


# --------------------------------------------------------------------------------------
# The iteration history as arrays
# --------------------------------------------------------------------------------------
def history_params(results: GLMResults) -> np.ndarray:
    """(K + 1, p) array of beta_k for k = 0..K; the row of iteration 0 is NaN when the
    fit started from the data (no coefficients yet)."""
    p = results.problem.p
    out = np.full((len(results.history), p), np.nan)
    for k, state in enumerate(results.history):
        if state.params is not None:
            out[k] = state.params
    return out


def history_deviances(results: GLMResults) -> np.ndarray:
    """D_k for k = 0..K (iteration 0: the deviance at the starting means)."""
    return np.array([state.deviance for state in results.history], dtype=float)


def _param_names(results: GLMResults) -> list[str]:
    return list(results.problem.param_names)


# --------------------------------------------------------------------------------------
# Convergence
# --------------------------------------------------------------------------------------
def convergence(results: GLMResults, ax: Axes | None = None, *, current: int | None = None,
                tol: float | None = None) -> Axes:
    r"""Deviance D_k and |D_k - D_{k-1}| against the iteration k, on a log scale.

    The fit stops by R's rule |D_k - D_{k-1}| / (|D_k| + 0.1) < tol.  For a canonical
    link Fisher scoring is Newton-Raphson, which converges quadratically near the
    optimum: |D_k - D_{k-1}| shrinks roughly like the square of the previous change, so
    the curve bends down ever more steeply (one or two steps from 1e-2 to 1e-10).  The
    deviance itself flattens out at D(beta-hat).  D_0 belongs to the starting means
    (near y, by default), not to any coefficients, so it can lie below D_1.

    Draws two lines, labelled ``"deviance D"`` (data: every D_k) and
    ``"|ΔD| = |D_k − D_{k−1}|"`` (data from k = 1; exact zeros, which a log scale
    cannot show, are left out as NaN).  ``current`` adds a vertical line at that
    iteration; ``tol`` adds the stopping threshold tol (|D_K| + 0.1) as a horizontal line.
    """
    ax = _new_axes(ax)
    dev = history_deviances(results)
    iters = np.arange(len(dev))
    dev_shown = np.where(dev > 0, dev, np.nan)
    change = np.abs(np.diff(dev))
    change = np.where(change > 0, change, np.nan)
    ax.plot(iters, dev_shown, "o-", color="C0", label="deviance D")
    ax.plot(iters[1:], change, "s--", color="C3", label="|ΔD| = |D_k − D_{k−1}|")
    ax.set_yscale("log")
    if tol is not None:
        ax.axhline(tol * (abs(dev[-1]) + 0.1), color="0.5", lw=0.8, ls=":",
                   label=f"stop: tol (|D| + 0.1), tol = {tol:g}")
    if current is not None:
        ax.axvline(current, color="k", lw=1.0, alpha=0.6)
    ax.set_xlabel("iteration k")
    ax.set_ylabel("deviance (log scale)")
    ax.set_xticks(iters if len(iters) <= 12 else ax.get_xticks())
    ax.set_xlim(-0.3, max(len(dev) - 1, 1) + 0.3)
    ax.set_title(f"Convergence: {len(dev) - 1} iterations "
                 f"({'converged' if results.converged else 'not converged'})")
    ax.legend(loc="lower left", fontsize="small")
    return ax


# --------------------------------------------------------------------------------------
# Coefficient path and the likelihood surface
# --------------------------------------------------------------------------------------
class LikelihoodSurface:
    r"""Log-likelihood drop Delta(beta) = ell(beta-hat) - ell(beta) on a grid of two
    coefficients, with the dispersion phi held at phi-hat.

    With phi fixed, ell(beta) = const - D(beta) / (2 phi), so Delta = (D(beta) - D(beta-hat))
    / (2 phi-hat): the deviance is the log-likelihood in disguise.  ``b0``, ``b1`` are
    the grid axes, ``delta`` the (len(b1), len(b0)) values (NaN where the means leave the
    family's mean space), ``center`` = beta-hat.
    """

    def __init__(self, b0: np.ndarray, b1: np.ndarray, delta: np.ndarray, center: np.ndarray,
                 scale: float):
        self.b0, self.b1, self.delta = b0, b1, delta
        self.center = center
        self.scale = scale

    def levels(self) -> np.ndarray:
        """Contour levels 0.75, 3, 12, 48, ... (factor 4) up to the largest value; the
        level ~3.0 is the 95 % likelihood-ratio region (chi^2_2 quantile 5.99 / 2)."""
        top = np.nanmax(self.delta) if np.isfinite(self.delta).any() else 0.0
        levels = [LR_95_LEVEL / 4.0]
        while levels[-1] * 4 < top and len(levels) < 12:
            levels.append(levels[-1] * 4)
        return np.array(levels)


def likelihood_surface(results: GLMResults, others: Sequence[GLMResults] = (),
                       size: int = 33, margin: float = 0.15,
                       max_cells: int = 4_000_000) -> LikelihoodSurface:
    r"""Compute Delta(beta) = ell(beta-hat) - ell(beta) on a size x size grid around the
    coefficient path(s) of ``results`` (and ``others``, e.g. the Newton-Raphson fit of the
    same problem) and beta-hat +/- 3 standard errors.  Only for models with exactly two
    coefficients.  Computed once; pass it to ``coefficient_path(surface=...)``.
    """
    problem = results.problem
    if problem.p != 2:
        raise ValueError(f"results: a likelihood surface needs exactly 2 coefficients, "
                         f"this model has {problem.p}")
    paths = [history_params(r) for r in (results, *others)]
    pts = np.vstack([p[np.isfinite(p).all(axis=1)] for p in paths])
    center = np.asarray(results.history[-1].params, dtype=float)
    se = np.asarray(results.bse, dtype=float)
    se = np.where(np.isfinite(se) & (se > 0), se, np.maximum(np.abs(center) * 0.1, 0.1))
    lo = np.minimum(pts.min(axis=0), center - 3 * se)
    hi = np.maximum(pts.max(axis=0), center + 3 * se)
    pad = (hi - lo) * margin
    b0 = np.linspace(lo[0] - pad[0], hi[0] + pad[0], size)
    b1 = np.linspace(lo[1] - pad[1], hi[1] + pad[1], size)
    B0, B1 = np.meshgrid(b0, b1)
    betas = np.column_stack([B0.ravel(), B1.ravel()])  # (m, 2)

    fam, link = problem.family, problem.link
    y, w, off = problem.y[:, None], problem.weights[:, None], problem.offset[:, None]
    dev = np.full(betas.shape[0], np.nan)
    chunk = max(1, max_cells // max(problem.n, 1))
    with np.errstate(all="ignore"):
        for start in range(0, betas.shape[0], chunk):
            bb = betas[start:start + chunk]
            mu = link.inverse(problem.X @ bb.T + off)  # (n, m_chunk)
            d = np.sum(w * fam.unit_deviance(y, mu), axis=0)
            ok = np.array([fam.valid_mu(mu[:, j]) for j in range(mu.shape[1])])
            dev[start:start + chunk] = np.where(ok & np.isfinite(d), d, np.nan)
    scale = float(results.scale)
    if not np.isfinite(scale) or scale <= 0:
        scale = 1.0
    delta = (dev - results.deviance) / (2.0 * scale)
    delta = np.maximum(delta, 0.0).reshape(B0.shape)
    return LikelihoodSurface(b0, b1, delta, center, scale)


def coefficient_path(results: GLMResults, ax: Axes | None = None, *, upto: int | None = None,
                     surface: LikelihoodSurface | None = None, contours: bool = True,
                     highlight: bool = True) -> Axes:
    r"""The iterates beta_0, beta_1, ..., beta_K of the fit.

    With exactly two coefficients the path is drawn in the (beta_0, beta_1) plane over
    contours of the log-likelihood drop ell(beta-hat) - ell(beta) = (D(beta) - D-hat) /
    (2 phi-hat) (levels 0.75, 3, 12, ...; the dashed contour at 3.0 bounds the 95 %
    likelihood-ratio region).  Each IRLS step jumps to the maximum of the quadratic
    approximation of ell at the current point, so the iterates land near the optimum
    in very few steps.  Otherwise (or with ``contours=False``) every coefficient is
    drawn against the iteration.

    ``upto=k`` draws the path only up to iteration k and (``highlight``) circles beta_k
    (with two coefficients; otherwise a vertical line marks k).  When the
    fit started from the data, iteration 0 has no coefficients: there is no point for
    it (only a note "start: mean from the data").
    """
    ax = _new_axes(ax)
    P = history_params(results)
    K = len(P) - 1
    k_last = K if upto is None else int(np.clip(upto, 0, K))
    names = _param_names(results)
    iters = np.arange(K + 1)
    shown = iters <= k_last
    has = np.isfinite(P).all(axis=1)
    if P.shape[1] == 2 and contours:
        if surface is None:
            surface = likelihood_surface(results)
        finite = surface.delta[np.isfinite(surface.delta)]
        top = float(finite.max()) if finite.size else 0.0
        levels = surface.levels()
        levels = levels[levels < top]
        if levels.size:  # (contour warns when no level lies inside the data)
            cs = ax.contour(surface.b0, surface.b1, surface.delta, levels=levels,
                            colors="0.6", linewidths=0.8)
            ax.clabel(cs, fmt="%.3g", fontsize=7)
        if LR_95_LEVEL < top:
            ax.contour(surface.b0, surface.b1, surface.delta, levels=[LR_95_LEVEL],
                       colors="C2", linewidths=1.2, linestyles="--")
        sel = shown & has
        ax.plot(P[sel, 0], P[sel, 1], "o-", color="C0", ms=5, lw=1.2, label="β_k")
        for k in iters[sel]:
            ax.annotate(str(k), P[k], textcoords="offset points", xytext=(4, 4),
                        fontsize=8, color="C0")
        ax.plot(*surface.center, marker="*", ms=12, color="C2", ls="none",
                label="β̂ (final)")
        if highlight and has[k_last]:
            ax.plot(*P[k_last], "o", ms=10, mfc="none", mec="C3", mew=2,
                    label=f"iteration {k_last}")
        ax.set_xlim(surface.b0[0], surface.b0[-1])
        ax.set_ylim(surface.b1[0], surface.b1[-1])
        ax.set_xlabel(names[0])
        ax.set_ylabel(names[1])
        ax.set_title("Coefficient path over ℓ(β̂) − ℓ(β)")
    else:
        for j in range(P.shape[1]):
            ax.plot(iters[shown], P[shown, j], "o-", ms=4, lw=1.2,
                    label=names[j] if P.shape[1] <= 8 else None)
        ax.set_xlabel("iteration k")
        ax.set_ylabel("coefficient value")
        ax.set_xlim(-0.3, max(K, 1) + 0.3)
        finite = P[np.isfinite(P)]
        if finite.size:
            span = finite.max() - finite.min()
            pad = 0.08 * span if span > 0 else 0.5
            ax.set_ylim(finite.min() - pad, finite.max() + pad)
        if upto is not None and highlight:
            ax.axvline(k_last, color="k", lw=1.0, alpha=0.6)
        ax.set_title("Coefficient path β_k")
    if not has[k_last]:
        ax.text(0.03, 0.97, START_TEXT, transform=ax.transAxes, va="top", ha="left",
                fontsize=9, bbox={"boxstyle": "round", "fc": "white", "ec": "0.7"})
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="lower right", fontsize="small")
    return ax


# --------------------------------------------------------------------------------------
# One IRLS step as weighted least squares
# --------------------------------------------------------------------------------------
class WorkingRegression:
    """The data of one working regression (see ``working_regression_data``)."""

    def __init__(self, iteration: int, x: np.ndarray, z: np.ndarray, w: np.ndarray,
                 shown: np.ndarray, intercept: float, slope: float):
        self.iteration = iteration
        self.x, self.z, self.w = x, z, w
        self.shown = shown
        self.intercept, self.slope = intercept, slope

    @property
    def n(self) -> int:
        return int(self.x.shape[0])

    def sizes(self) -> np.ndarray:
        """Marker areas of the shown points: 4 + 60 W_i / max W."""
        wmax = float(np.max(self.w)) if self.w.size and np.max(self.w) > 0 else 1.0
        return 4.0 + 60.0 * self.w[self.shown] / wmax

    def line_x(self) -> np.ndarray:
        lo, hi = float(np.min(self.x)), float(np.max(self.x))
        return np.array([lo - 1.0, hi + 1.0]) if hi <= lo else np.array([lo, hi])

    def label(self) -> str:
        if not np.isfinite(self.slope):
            return "WLS line: undefined (no spread in η)"
        return f"WLS: z ≈ {self.intercept:+.4f} + {self.slope:.4f}·(η − offset)"


def working_regression_data(results: GLMResults, iteration: int, *,
                            max_points: int | None = 3000,
                            seed: int = 0) -> WorkingRegression | None:
    """x = eta - offset, z, W at ``iteration``, the indices of the points to draw (at most
    ``max_points``, a fixed random subset) and the weighted least squares line of z on
    x; None when the history keeps no vectors for that iteration."""
    K = len(results.history) - 1
    if not 0 <= iteration <= K:
        raise ValueError(f"iteration: must be between 0 and {K}, got {iteration!r}")
    state = results.history[iteration]
    if state.z is None or state.w is None or state.eta is None:
        return None
    x = state.eta - results.problem.offset
    z, w = state.z, state.w
    n = x.shape[0]
    shown = np.arange(n)
    if max_points is not None and n > max_points:
        shown = np.sort(np.random.default_rng(seed).choice(n, max_points, replace=False))
    sw = float(np.sum(w))
    slope = icpt = np.nan
    if sw > 0:
        xm, zm = np.sum(w * x) / sw, np.sum(w * z) / sw
        sxx = float(np.sum(w * (x - xm) ** 2))
        if sxx > 0:
            slope = float(np.sum(w * (x - xm) * (z - zm)) / sxx)
            icpt = float(zm - slope * xm)
    return WorkingRegression(iteration, x, z, w, shown, icpt, slope)


def working_regression(results: GLMResults, iteration: int, ax: Axes | None = None, *,
                       max_points: int | None = 3000, seed: int = 0) -> Axes:
    r"""The weighted least squares problem solved at iteration k.

    At the current means mu_k, IRLS forms the working response and working weights

        z_i = (eta_i - offset_i) + (y_i - mu_i) g'(mu_i),
        W_i = w_i / ( v(mu_i) g'(mu_i)^2 ),

    and regresses z on X with weights W: beta_{k+1} = (X'WX)^{-1} X'Wz.  The figure shows
    z against the current linear predictor eta - offset = X beta_k (points sized by W;
    heavy points pull the fit) with the line z = eta - offset (dashed) and the weighted
    least squares line of z on eta - offset (its equation in the lower right corner).
    The vertical gaps are the working residuals (y - mu) g'(mu).  At convergence
    X'W(z - X beta) = 0, so (with an intercept in X) that line is exactly the diagonal:
    slope 1, intercept 0.

    When the history keeps no vectors for this iteration (n > 20,000 without
    ``keep_vectors=True``) a note is drawn instead.  For large n only ``max_points``
    randomly chosen points (fixed ``seed``) are drawn; the line uses all of them.
    Artists carry gids: ``wls-points``, ``wls-diagonal``, ``wls-line``, ``wls-equation``
    (or ``wls-missing``).
    """
    ax = _new_axes(ax)
    data = working_regression_data(results, iteration, max_points=max_points, seed=seed)
    ax.set_title(f"Iteration {iteration}: working regression (WLS)")
    ax.set_xlabel("η − offset  (= Xβ_k)")
    ax.set_ylabel("working response z")
    if data is None:
        ax.text(0.5, 0.5, NO_VECTORS_TEXT.format(k=iteration), transform=ax.transAxes,
                ha="center", va="center", fontsize=9, wrap=True, gid="wls-missing")
        return ax
    idx = data.shown
    ax.scatter(data.x[idx], data.z[idx], s=data.sizes(), c="C0", alpha=0.35,
               linewidths=0, label="z_i (size ∝ W_i)", gid="wls-points")
    grid = data.line_x()
    ax.plot(grid, grid, "--", color="0.3", lw=1.0, label="z = η − offset", gid="wls-diagonal")
    ax.plot(grid, data.intercept + data.slope * grid, color="C3", lw=1.6,
            label="WLS line of z on η − offset", gid="wls-line")
    ax.text(0.98, 0.03, data.label(), transform=ax.transAxes, ha="right", va="bottom",
            fontsize=8, color="C3", gid="wls-equation")
    if len(idx) < data.n:
        ax.set_title(f"Iteration {iteration}: working regression (WLS)\n"
                     f"{len(idx):,} of {data.n:,} points shown", fontsize="medium")
    ax.legend(loc="upper left", fontsize="small")
    return ax


def irls_small_multiples(results: GLMResults, iterations: Sequence[int] | None = None, *,
                         surface: LikelihoodSurface | None = None,
                         figsize: tuple[float, float] | None = None,
                         max_points: int | None = 3000) -> Figure:
    r"""Chosen iterations side by side: the working regression of each (top row) and the
    coefficient path up to it (bottom row).  Read left to right, the weighted least
    squares line turns into the diagonal while beta_k settles on beta-hat.

    ``iterations`` defaults to 0, 1, 2 and the last one (those with stored vectors).
    Returns the figure (one column per iteration, two rows).
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
        figsize = (3.6 * m, 6.8)
    fig, axes = plt.subplots(2, m, figsize=figsize, squeeze=False)
    if surface is None and results.problem.p == 2:
        surface = likelihood_surface(results)
    for col, k in enumerate(iterations):
        working_regression(results, k, ax=axes[0, col], max_points=max_points)
        coefficient_path(results, ax=axes[1, col], upto=k, surface=surface)
        axes[1, col].set_title(f"β path up to iteration {k}", fontsize="medium")
        if col > 0:
            for row in (0, 1):
                leg = axes[row, col].get_legend()
                if leg is not None:
                    leg.remove()
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------
# Families
# --------------------------------------------------------------------------------------
def make_family(family: str | F.Family, *, alpha: float = 1.0, power: float = 1.5) -> F.Family:
    """A family instance from a name in ``FAMILY_NAMES`` (case-insensitive) or an
    instance (returned unchanged); ``alpha`` for NegativeBinomial, ``power`` for Tweedie."""
    if isinstance(family, F.Family):
        return family
    name = str(family).replace(" ", "").replace("_", "").lower()
    table = {n.lower(): n for n in FAMILY_NAMES}
    table.update({"normal": "Gaussian", "bernoulli": "Binomial", "negbin": "NegativeBinomial",
                  "ig": "InverseGaussian"})
    if name not in table:
        raise ValueError(f"family: must be one of {', '.join(FAMILY_NAMES)}, got {family!r}")
    cls = getattr(F, table[name])
    if cls is F.NegativeBinomial:
        return cls(alpha=alpha)
    if cls is F.Tweedie:
        return cls(power=power)
    return cls()


def _effective_phi(family: F.Family, phi: float, trials: int) -> float:
    """phi as it enters the density: 1/n for the binomial with n trials, 1 for the other
    fixed-scale families, the slider value otherwise."""
    if isinstance(family, F.Binomial):
        return 1.0 / trials
    if family.scale_is_fixed:
        return 1.0
    return float(phi)


def check_family_values(family: F.Family, mean: float, phi: float = 1.0,
                        trials: int = 1) -> None:
    """Raise ``ValueError`` (with the rule) when (mean, phi, trials) do not define a
    distribution of ``family``."""
    if not np.isfinite(mean):
        raise ValueError(f"mean: must be a finite number, got {mean!r}")
    if isinstance(family, F.Binomial):
        if not 0 < mean < 1:
            raise ValueError(f"mean: a binomial mean is a probability strictly between 0 "
                             f"and 1, got {mean:g}")
        if int(trials) != trials or trials < 1:
            raise ValueError(f"trials: must be a whole number >= 1, got {trials!r}")
    elif isinstance(family, F.Gaussian) or (isinstance(family, F.Tweedie)
                                              and family.power == 0):
        pass
    elif not mean > 0:
        raise ValueError(f"mean: the {family.name} family needs a positive mean, got {mean:g}")
    if not family.scale_is_fixed and not (np.isfinite(phi) and phi > 0):
        raise ValueError(f"phi: the dispersion must be positive, got {phi:g}")
    if isinstance(family, F.Tweedie) and not 1 < family.power < 2:
        raise ValueError(f"power: this panel draws the compound Poisson-gamma Tweedie "
                         f"distributions, 1 < p < 2; got p = {family.power:g}")


def exponential_family_logpdf(family: F.Family, y: np.ndarray, mean: float, phi: float = 1.0,
                              trials: int = 1) -> np.ndarray:
    r"""ln f(y) = (y theta - b(theta)) / phi + S(y, phi) with theta = theta(mean), from the
    family's own components (equation 13.2).  For the binomial y is a proportion k/n
    and phi = 1/n; Poisson and negative binomial have phi = 1.  It equals
    ``family.loglike_obs(y, mean, scale=phi, weights=1)`` (binomial: weights = n)."""
    y = np.asarray(y, dtype=float)
    phi_eff = _effective_phi(family, phi, trials)
    theta = family.theta(np.asarray(mean, dtype=float))
    with np.errstate(divide="ignore", invalid="ignore"):
        return (y * theta - family.b(theta)) / phi_eff + family.S(y, phi_eff)


def _discrete_support(family: F.Family, mean: float, sd: float, trials: int) -> np.ndarray:
    if isinstance(family, F.Binomial):
        return np.arange(trials + 1) / trials
    top = int(np.ceil(mean + 6.0 * sd)) + 2
    return np.arange(max(top, 10) + 1, dtype=float)


def family_panel(family: str | F.Family, mean: float, phi: float = 1.0, *, trials: int = 1,
                 ax: Axes | None = None, n_sample: int = 4000, seed: int = 0,
                 show_sample: bool = True) -> Axes:
    r"""Density (or mass function) of one member of the linear exponential family.

    The curve is f(y) = exp((y theta - b(theta)) / phi + S(y, phi)) computed from the
    family's own components at theta = theta(mean) (``exponential_family_logpdf``).  The
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
    check_family_values(fam, mean, phi, trials)
    if isinstance(fam, F.Tweedie):
        return tweedie_panel(mean, phi, fam.power, ax=ax, n_sample=n_sample, seed=seed,
                             show_sample=show_sample)
    ax = _new_axes(ax)
    phi_eff = _effective_phi(fam, phi, trials)
    theta = float(fam.theta(mean))
    mu = float(fam.b_prime(theta))
    var = phi_eff * float(fam.b_double_prime(theta))
    sd = float(np.sqrt(var))
    discrete = isinstance(fam, (F.Binomial, F.Poisson, F.NegativeBinomial))
    rng = np.random.default_rng(seed)
    sample = None
    if show_sample:
        weights = trials if isinstance(fam, F.Binomial) else 1.0
        sample = fam.sample(np.full(n_sample, mean), scale=phi_eff if not discrete else 1.0,
                            rng=rng, weights=weights)
    if discrete:
        y = _discrete_support(fam, mean, sd, trials)
        pmf = np.exp(exponential_family_logpdf(fam, y, mean, phi, trials))
        step = y[1] - y[0] if len(y) > 1 else 1.0
        freq = np.zeros_like(y)
        if sample is not None:
            keys = np.rint(sample / step).astype(int)
            freq = np.bincount(keys, minlength=len(y))[: len(y)] / n_sample
            ax.stairs(freq, np.append(y - step / 2, y[-1] + step / 2), fill=True,
                      color="0.8", label=f"simulated sample (n = {n_sample:,})",
                      gid="sample")
        ax.vlines(y, 0, pmf, color="C0", lw=1.5)
        ax.plot(y, pmf, "o", color="C0", ms=4, label="P(Y = y) from θ, b, S")
        ax.set_ylabel("probability")
        top = max(float(pmf.max()), float(freq.max()))
    else:
        if isinstance(fam, F.Gaussian):
            y = np.linspace(mean - 4.5 * sd, mean + 4.5 * sd, 400)
        else:
            upper = mean + 6.0 * sd
            if sample is not None:
                upper = min(max(upper, float(np.quantile(sample, 0.995))), mean + 12 * sd)
            y = np.linspace(upper / 2000.0, upper, 400)
        pdf = np.exp(exponential_family_logpdf(fam, y, mean, phi, trials))
        top = float(np.nanmax(pdf[y >= y[0] + 0.02 * (y[-1] - y[0])]))
        if sample is not None:
            edges = np.linspace(y[0], y[-1], 50)
            counts, _ = np.histogram(sample, bins=edges)
            heights = counts / (n_sample * (edges[1] - edges[0]))
            ax.stairs(heights, edges, fill=True, color="0.8", gid="sample",
                      label=f"simulated sample (n = {n_sample:,})")
            top = max(top, float(np.max(heights)))
        ax.plot(y, pdf, color="C0", lw=2, label="f(y) from θ, b, S")
        ax.set_ylabel("density")
        ax.set_xlim(y[0] if isinstance(fam, F.Gaussian) else 0.0, y[-1])
    ax.set_ylim(0, 1.18 * top if top > 0 else 1.0)
    ax.axvline(mu, color="C3", lw=1.5, label=f"mean b′(θ) = {mu:.4g}")
    ax.axvspan(mu - sd, mu + sd, color="C3", alpha=0.12,
               label=f"± sd, √(φ b″(θ)) = {sd:.4g}")
    ax.set_xlabel("y (proportion of successes)" if isinstance(fam, F.Binomial) else "y")
    extra = {"Binomial": f", n = {trials}", "NegativeBinomial": f", α = {fam.alpha:g}"
             if isinstance(fam, F.NegativeBinomial) else ""}.get(fam.name, "")
    ax.set_title(f"{fam.name}{extra}: θ = {theta:.4g}, b(θ) = {float(fam.b(theta)):.4g}, "
                 f"φ = {phi_eff:.4g}", fontsize="medium")
    ax.legend(loc="upper right", fontsize="small")
    return ax


# --------------------------------------------------------------------------------------
# Links
# --------------------------------------------------------------------------------------
def make_link(link: str | L.Link) -> L.Link:
    """A link instance from a name in ``LINK_NAMES`` or an instance (returned as is)."""
    if isinstance(link, L.Link):
        return link
    table = {"logit": L.Logit, "probit": L.Probit, "cloglog": L.CLogLog, "log": L.Log,
             "identity": L.Identity}
    key = str(link).lower()
    if key not in table:
        raise ValueError(f"link: must be one of {', '.join(table)} or a Link, got {link!r}")
    return table[key]()


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
    change in the probability (and that enters the working weights).
    """
    ax = _new_axes(ax)
    links = ["logit", "probit", "cloglog"] if links is None else links
    objs = [make_link(k) for k in links]
    grid = np.linspace(eta_range[0], eta_range[1], 401)
    with np.errstate(all="ignore"):
        for i, link in enumerate(objs):
            color = f"C{i}"
            mu = np.asarray(link.inverse(grid), dtype=float)
            mu = np.where((mu >= 0) & (mu <= 1), mu, np.nan)
            ax.plot(grid, mu, color=color, lw=2, label=f"{_link_label(link)}")
            if eta is not None:
                m0 = float(link.inverse(np.asarray(eta, dtype=float)))
                slope = float(link.inverse_deriv(np.asarray(eta, dtype=float)))
                if 0 <= m0 <= 1 and np.isfinite(slope):
                    ax.plot([eta], [m0], "o", color=color, ms=7,
                            label=f"  μ = {m0:.3f}, dμ/dη = {slope:.3f}")
                    h = tangent_halfwidth
                    ax.plot([eta - h, eta + h], [m0 - h * slope, m0 + h * slope], "-",
                            color=color, lw=1, alpha=0.7)
    if eta is not None:
        ax.axvline(eta, color="0.4", lw=0.8, ls=":")
    ax.axhline(0.5, color="0.85", lw=0.8)
    ax.set_xlim(*eta_range)
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel("linear predictor η")
    ax.set_ylabel("mean μ = g⁻¹(η)")
    ax.set_title("Inverse links: probability as a function of η")
    ax.legend(loc="upper left", fontsize="small")
    return ax


# --------------------------------------------------------------------------------------
# Tweedie
# --------------------------------------------------------------------------------------
def tweedie_poisson_gamma(mu: float, phi: float, power: float) -> tuple[float, float, float]:
    r"""(lambda, alpha, gamma) of the Poisson sum of gammas with mean mu, dispersion phi
    and power 1 < p < 2 (section 13.6):

        lambda = mu^{2-p} / (phi (2-p)),  alpha = (2-p) / (p-1),  1/gamma = phi (p-1) mu^{p-1}.

    N ~ Poisson(lambda) claims, each gamma with shape alpha and *rate* gamma (mean
    alpha / gamma), so E y = lambda alpha / gamma = mu and Var y = phi mu^p.
    """
    if not 1 < power < 2:
        raise ValueError(f"power: must be strictly between 1 and 2, got {power:g}")
    if not (np.isfinite(mu) and mu > 0):
        raise ValueError(f"mu: must be positive, got {mu:g}")
    if not (np.isfinite(phi) and phi > 0):
        raise ValueError(f"phi: must be positive, got {phi:g}")
    lam = mu ** (2 - power) / (phi * (2 - power))
    alpha = (2 - power) / (power - 1)
    gamma = 1.0 / (phi * (power - 1) * mu ** (power - 1))
    return float(lam), float(alpha), float(gamma)


def tweedie_from_poisson_gamma(lam: float, alpha: float, gamma: float) -> tuple[float, float,
                                                                                float]:
    """Inverse of ``tweedie_poisson_gamma``: (mu, phi, p) from (lambda, alpha, gamma):
    p = (alpha + 2) / (alpha + 1), mu = lambda alpha / gamma,
    phi = 1 / (gamma (p - 1) mu^{p-1})."""
    for name, v in (("lambda", lam), ("alpha", alpha), ("gamma", gamma)):
        if not (np.isfinite(v) and v > 0):
            raise ValueError(f"{name}: must be positive, got {v:g}")
    p = (alpha + 2.0) / (alpha + 1.0)
    mu = lam * alpha / gamma
    phi = 1.0 / (gamma * (p - 1.0) * mu ** (p - 1.0))
    return float(mu), float(phi), float(p)


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
    multiples of phi (towards the Poisson).
    """
    lam, alpha, gamma = tweedie_poisson_gamma(mu, phi, power)
    ax = _new_axes(ax)
    fam = F.Tweedie(power=power)
    p0 = float(np.exp(-lam))
    sd = float(np.sqrt(phi * mu**power))
    sample = None
    if show_sample:
        sample = fam.sample(np.full(n_sample, mu), scale=phi, rng=np.random.default_rng(seed))
    upper = mu + 5.0 * sd
    if sample is not None and np.any(sample > 0):
        upper = min(max(upper, float(np.quantile(sample, 0.995))), mu + 10.0 * sd)
    y = np.linspace(upper / 1000.0, upper, 400)
    with np.errstate(all="ignore"):
        dens = np.exp(fam.loglike_obs(y, np.full_like(y, mu), scale=phi))
    top = max(p0, float(np.nanmax(dens[y > 0.02 * upper])) if np.any(y > 0.02 * upper) else 0)
    if sample is not None:
        pos = sample[sample > 0]
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
    ax.plot(y, dens, color="C0", lw=2, label="density f(y), y > 0 (loglike_obs)")
    ax.vlines([0.0], 0, p0, color="C1", lw=3)
    ax.plot([0.0], [p0], "o", color="C1", ms=8, label=f"P(Y = 0) = e^(−λ) = {p0:.3f}")
    ax.axvline(mu, color="C3", lw=1.5, label=f"mean μ = {mu:.4g}")
    ax.axvspan(max(mu - sd, 0.0), mu + sd, color="C3", alpha=0.12,
               label=f"± sd, √(φ μ^p) = {sd:.4g}")
    ax.set_xlim(-0.03 * upper, upper)
    ax.set_ylim(0, 1.15 * top if top > 0 else 1.0)
    ax.set_xlabel("y")
    ax.set_ylabel("density (y > 0) / probability (y = 0)")
    ax.set_title(f"Tweedie p = {power:.3g}, μ = {mu:.3g}, φ = {phi:.3g}:  λ = {lam:.3g}, "
                 f"α = {alpha:.3g}, γ = {gamma:.3g}", fontsize="medium")
    ax.legend(loc="upper right", fontsize="small")
    return ax
