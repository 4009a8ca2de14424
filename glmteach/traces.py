r"""What the teaching figures show, computed without drawing anything.

``glmteach.plotting`` draws and ``glmteach.widgets`` moves sliders; neither computes a
model.  Everything they put on the screen is computed here, from a fitted model's
stored ``history`` or from a family's own formulas, as plain arrays and small frozen
dataclasses that a test can check number by number:

- ``stepper_fits``: the fits an IRLS stepper shows (the given one and, for a
  non-canonical link or ``compare=``, the other method's fit of the same problem).
- ``history_params`` / ``history_deviances`` / ``history_llf``: the iterates beta_k,
  the deviances D_k and the log-likelihoods ell_k of the stored iterations.
- ``likelihood_surface``: the log-likelihood drop ell(beta-hat) - ell(beta) on a grid of
  two coefficients (a ``LikelihoodSurface``), with its contour levels.
- ``working_regression_data`` / ``working_regression_limits``: one IRLS step as the
  weighted least squares line of the working response z on x'beta_k (a
  ``WorkingRegression``), and axis limits that hold every stored iteration.
- ``link_at`` / ``probability_curve``: an inverse link's value and slope at one eta,
  and its curve where it gives a probability.
- ``family_density`` / ``tweedie_density``: a family's density or mass function on a
  grid, its mean and standard deviation and a fixed-seed simulated sample (a
  ``FamilyDensity`` / ``TweedieDensity``), with ``check_family_values`` and
  ``density_dispersion`` (phi as it enters the density: 1/n for a proportion of n
  trials).

Imports: numpy and glmteach's ``families``, ``links``, ``problem`` and ``fit`` (``stepper_fits``
fits a ``GLMProblem`` or the other method; nothing else here fits).  No matplotlib, no
ipywidgets: ``import glmteach.traces`` is as light as ``import glmteach``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from glmteach.families import Family, Tweedie, make_family, tweedie_poisson_gamma
from glmteach.fit import fit_problem
from glmteach.links import Link
from glmteach.problem import GLMProblem

if TYPE_CHECKING:  # pragma: no cover
    from glmteach.results import GLMResults

__all__ = [
    "LR_95_LEVEL",
    "METHOD_LABELS",
    "FamilyDensity",
    "LikelihoodSurface",
    "TweedieDensity",
    "WorkingRegression",
    "check_family_values",
    "density_dispersion",
    "family_density",
    "history_deviances",
    "history_llf",
    "history_params",
    "is_discrete",
    "likelihood_surface",
    "link_at",
    "nice_levels",
    "probability_curve",
    "stepper_fits",
    "tweedie_density",
    "working_regression_data",
    "working_regression_limits",
]

# ell(beta-hat) - ell(beta) = chi^2_{2, 0.95} / 2: the boundary of the 95 % joint
# likelihood-ratio confidence region for two coefficients.
LR_95_LEVEL = 2.995732273553991

# What the figures need to know about a family that the family classes do not declare:
# whether y takes only whole-number (or k/n) values (a candidate for a family attribute).
_DISCRETE = frozenset({"Binomial", "Poisson", "NegativeBinomial"})
_MEAN_RULE = {"Binomial": "a binomial mean is a probability strictly between 0 and 1"}


# --------------------------------------------------------------------------------------
# The fits a stepper shows
# --------------------------------------------------------------------------------------
METHOD_LABELS = {"irls": "Fisher scoring", "newton": "Newton-Raphson"}
_METHOD_ALIASES = {"irls": "irls", "fisher": "irls", "fisher scoring": "irls",
                   "newton": "newton", "newton-raphson": "newton", "nr": "newton"}


def _is_results(obj: Any) -> bool:
    return all(hasattr(obj, a) for a in ("history", "problem", "n_iter", "method"))


def _fit_quietly(problem: GLMProblem, method: str) -> GLMResults:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fit_problem(problem, method=method)


def _as_fit(results: Any) -> tuple[GLMResults, str]:
    """(fitted results, note) from what the user passed: a fit as it is, a GLMProblem
    fitted by Fisher scoring (with a note); anything else raises ValueError."""
    if _is_results(results):
        return results, ""
    if isinstance(results, GLMProblem):
        try:
            fitted = _fit_quietly(results, "irls")
        except Exception as exc:
            raise ValueError(f"results: irls_stepper was given a GLMProblem and could not "
                             f"fit it ({type(exc).__name__}: {exc})") from exc
        return fitted, ("irls_stepper was given a GLMProblem, not a fit: it was fitted "
                        "here with gt.fit's defaults (Fisher scoring).")
    raise ValueError(f"results: irls_stepper needs a fitted model (what gt.fit or gt.glm "
                     f"returns) or a gt.GLMProblem, got {type(results).__name__}")


def _compared_fit(results: GLMResults, compare: Any,
                  ) -> tuple[str | None, GLMResults | None, str]:
    """(label, fit, note) of the comparison asked for by ``compare``: None, a method
    name ("newton", "irls", "Newton-Raphson", ...) or a fit of the same problem."""
    first = METHOD_LABELS.get(results.method, "Fisher scoring")
    if compare is None:
        return None, None, ""
    if isinstance(compare, str):
        method = _METHOD_ALIASES.get(str(compare).strip().lower().replace("_", "-"))
        if method is None:
            return None, None, (f"compare={compare!r} ignored: pass a fitted result of the "
                                f"same problem, or 'newton' / 'irls' to fit that method here.")
        if method == results.method:
            return None, None, (f"compare={compare!r} is the method of the fit itself "
                                f"({METHOD_LABELS[method]}); nothing to compare with.")
        try:
            return METHOD_LABELS[method], _fit_quietly(results.problem, method), ""
        except Exception as exc:
            return METHOD_LABELS[method], None, (f"{METHOD_LABELS[method]} could not fit "
                                                 f"this model ({type(exc).__name__}: {exc})")
    if not _is_results(compare):
        return None, None, (f"compare= ignored: it must be a fitted result of the same "
                            f"problem or 'newton' / 'irls', got {type(compare).__name__}")
    label = METHOD_LABELS.get(compare.method, "Newton-Raphson")
    if label == first:
        label = next(lab for lab in METHOD_LABELS.values() if lab != first)
    if compare.problem.p != results.problem.p or compare.problem.n != results.problem.n:
        return None, None, ("compare= ignored: it is a fit of a different problem "
                            f"({compare.problem.n} x {compare.problem.p}, not "
                            f"{results.problem.n} x {results.problem.p})")
    return label, compare, ""


def stepper_fits(results: Any, compare: Any = None) -> tuple[dict[str, GLMResults],
                                                             list[str]]:
    """The fits an IRLS stepper shows, by method label ("Fisher scoring",
    "Newton-Raphson"; the given fit first), and the notes to show under its figure.

    ``results`` is a fit (used as it is) or a ``GLMProblem`` (fitted here by Fisher
    scoring); anything else raises ``ValueError``.  ``compare`` adds the other method:
    a fit of the same problem, or "newton" / "irls" to fit it here; an unusable
    ``compare`` is left out with a note.  For a non-canonical link the other method is
    fitted here even without ``compare`` (for a canonical link the two methods are the
    same algorithm, equation 13.15).  Each fit is computed once, here."""
    results, note = _as_fit(results)
    first = METHOD_LABELS.get(results.method, "Fisher scoring")
    fits = {first: results}
    label, other, compare_note = _compared_fit(results, compare)
    notes = [note, compare_note]
    if other is not None:
        fits[label] = other
    tried = label is not None and other is None  # asked for by name, and it failed
    if len(fits) == 1 and not results.family.is_canonical and not tried:
        method = "newton" if results.method == "irls" else "irls"
        try:
            fits[METHOD_LABELS[method]] = _fit_quietly(results.problem, method)
        except Exception as exc:  # show the problem, keep the stepper usable
            notes.append(f"{METHOD_LABELS[method]} could not fit this model "
                         f"({type(exc).__name__}: {exc})")
    return fits, [n for n in notes if n]


# --------------------------------------------------------------------------------------
# The iteration history as arrays
# --------------------------------------------------------------------------------------
def history_params(results: GLMResults) -> np.ndarray:
    """(K + 1, p) array of beta_k for k = 0..K; the row of iteration 0 is NaN when the
    fit started from the data (no coefficients yet)."""
    out = np.full((len(results.history), results.problem.p), np.nan)
    for k, state in enumerate(results.history):
        if state.params is not None:
            out[k] = state.params
    return out


def history_deviances(results: GLMResults) -> np.ndarray:
    """D_k for k = 0..K (iteration 0: the deviance at the starting means)."""
    return np.array([state.deviance for state in results.history], dtype=float)


def history_llf(results: GLMResults, iteration: int) -> float | None:
    """ell_k = sum_i ln f(y_i; mu_{k,i}, phi / w_i), the log-likelihood at the means of
    iteration k (``problem.loglike``, at the fit's scale rule); None when the history
    kept no means for that iteration (large fits)."""
    state = results.history[iteration]
    if state.mu is None:
        return None
    return float(results.problem.loglike(state.mu))


# --------------------------------------------------------------------------------------
# The likelihood surface of two coefficients
# --------------------------------------------------------------------------------------
def nice_levels(top: float, lowest: float = 0.5, most: int = 9) -> np.ndarray:
    """0.5, 1, 2, 5, 10, 20, 50, ... below ``top`` (decades only when that is too many)."""
    cand = [m * 10.0**e for e in range(-1, 16) for m in (1.0, 2.0, 5.0)]
    levels = [v for v in cand if lowest <= v < top]
    if len(levels) > most:
        levels = [v for v in levels if np.isclose(np.log10(v) % 1.0, 0.0)
                  or np.isclose(np.log10(v) % 1.0, 1.0)]
    return np.array(levels[:most] if len(levels) > most else levels)


@dataclass(frozen=True, eq=False)
class LikelihoodSurface:
    r"""Log-likelihood drop Delta(beta) = ell(beta-hat) - ell(beta) on a grid of two
    coefficients, with the dispersion phi held at phi-hat.

    With phi fixed, ell(beta) = const - D(beta) / (2 phi), so Delta = (D(beta) - D(beta-hat))
    / (2 phi-hat): the deviance is the log-likelihood in disguise.  ``b0``, ``b1`` are
    the grid axes, ``delta`` the (len(b1), len(b0)) values (NaN where the means leave the
    family's mean space), ``center`` = beta-hat, ``scale`` = phi-hat.
    """

    b0: np.ndarray
    b1: np.ndarray
    delta: np.ndarray
    center: np.ndarray
    scale: float

    def top(self) -> float:
        finite = self.delta[np.isfinite(self.delta)]
        return float(finite.max()) if finite.size else 0.0

    def levels(self) -> np.ndarray:
        """Contour levels 0.5, 1, 2, 5, 10, 20, ... (at most nine, decades when the
        surface is steep) below the largest value.  The 95 % likelihood-ratio boundary,
        ``LR_95_LEVEL`` = chi^2_{2, 0.95} / 2 = 3.00, is drawn as its own contour."""
        return nice_levels(self.top())

    def levels_text(self) -> str:
        """The levels as a caption: "0.5, 1, 2, 5, 10"."""
        return ", ".join(f"{v:g}" for v in self.levels())


def likelihood_surface(results: GLMResults, others: Sequence[GLMResults] = (),
                       size: int = 33, margin: float = 0.15,
                       max_cells: int = 4_000_000) -> LikelihoodSurface:
    r"""Delta(beta) = (D(beta) - D(beta-hat)) / (2 phi-hat) on a size x size grid around
    the coefficient path(s) of ``results`` (and ``others``, e.g. the Newton-Raphson fit
    of the same problem) and beta-hat +/- 3 standard errors.  Only for models with
    exactly two coefficients.  D(beta) = sum_i w_i d(y_i, g^{-1}(x_i'beta + offset_i)) is
    evaluated for ``max_cells`` // n grid points at a time.
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


# --------------------------------------------------------------------------------------
# One IRLS step as weighted least squares
# --------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class WorkingRegression:
    r"""The data of the working regression at one iteration k.

    ``x`` = x_i'beta_k = eta_i - offset_i, ``z`` the working response, ``w`` the working
    weights W_i, ``shown`` the indices of the points a figure draws, and the weighted
    least squares line z-hat = ``intercept`` + ``slope`` x fitted to all n points:
    slope = sum W (x - x-bar)(z - z-bar) / sum W (x - x-bar)^2 with W-weighted means.
    """

    iteration: int
    x: np.ndarray
    z: np.ndarray
    w: np.ndarray
    shown: np.ndarray
    intercept: float
    slope: float

    @property
    def n(self) -> int:
        return int(self.x.shape[0])

    def span(self) -> np.ndarray:
        """[min x, max x] (widened by 1 on each side when all x are equal)."""
        lo, hi = float(np.min(self.x)), float(np.max(self.x))
        return np.array([lo - 1.0, hi + 1.0]) if hi <= lo else np.array([lo, hi])

    def line(self, x: np.ndarray) -> np.ndarray:
        """The fitted line at ``x``: intercept + slope x."""
        return self.intercept + self.slope * np.asarray(x, dtype=float)


def _wls_line(x: np.ndarray, z: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """(intercept, slope) of the weighted least squares line of z on x; NaN when the
    weights sum to 0 or x has no weighted spread."""
    sw = float(np.sum(w))
    if sw <= 0:
        return np.nan, np.nan
    xm, zm = np.sum(w * x) / sw, np.sum(w * z) / sw
    sxx = float(np.sum(w * (x - xm) ** 2))
    if sxx <= 0:
        return np.nan, np.nan
    slope = float(np.sum(w * (x - xm) * (z - zm)) / sxx)
    return float(zm - slope * xm), slope


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
    intercept, slope = _wls_line(x, z, w)
    return WorkingRegression(iteration, x, z, w, shown, intercept, slope)


def working_regression_limits(results: GLMResults) -> tuple[tuple[float, float],
                                                             tuple[float, float]] | None:
    """(x limits, z limits) that hold the working regression of every stored iteration
    (5 % margins), so that an animation keeps its axes still and the points visibly
    move; None when no iteration kept its vectors."""
    xs, zs = [], []
    for state in results.history:
        if state.z is not None and state.eta is not None:
            x = state.eta - results.problem.offset
            xs += [float(np.min(x)), float(np.max(x))]
            zs += [float(np.min(state.z)), float(np.max(state.z))]
    if not xs:
        return None
    xlo, xhi, zlo, zhi = min(xs), max(xs), min(zs), max(zs)
    padx = 0.05 * (xhi - xlo) if xhi > xlo else 1.0
    padz = 0.05 * (zhi - zlo) if zhi > zlo else 1.0
    return (xlo - padx, xhi + padx), (zlo - padz, zhi + padz)


# --------------------------------------------------------------------------------------
# Inverse links for a binary response
# --------------------------------------------------------------------------------------
def link_at(link: Link, eta: float) -> tuple[float, float]:
    """(mu, d mu / d eta) = (g^{-1}(eta), the slope of the inverse link) at one eta: the
    point and the tangent that the links figure marks."""
    e = np.asarray(eta, dtype=float)
    with np.errstate(all="ignore"):
        return float(link.inverse(e)), float(link.inverse_deriv(e))


def probability_curve(link: Link, grid: np.ndarray) -> np.ndarray:
    """mu = g^{-1}(eta) on ``grid``, NaN where it is not a probability in [0, 1] (the
    log and identity links leave it)."""
    with np.errstate(all="ignore"):
        mu = np.asarray(link.inverse(np.asarray(grid, dtype=float)), dtype=float)
    return np.where((mu >= 0) & (mu <= 1), mu, np.nan)


# --------------------------------------------------------------------------------------
# A family's distribution
# --------------------------------------------------------------------------------------
def is_discrete(family: Family) -> bool:
    """True when y takes whole numbers (Poisson, negative binomial) or proportions k/n
    (binomial): the figures draw a mass function, not a density."""
    return family.name in _DISCRETE


def density_dispersion(family: Family, phi: float = 1.0, trials: int = 1,
                       ) -> tuple[float, float]:
    """(scale, weights) that make ``family.loglike_obs(y, mean, scale, weights)`` the
    density of one observation, so that phi_i = scale / weights is the dispersion of
    equation 13.2: a proportion of n trials (``family.trials_as_weights``: the
    binomial) has (1, n), i.e. phi = 1/n; the other
    families with a known dispersion (Poisson, negative binomial) have (1, 1); the
    rest (phi, 1)."""
    if family.trials_as_weights:
        return 1.0, float(trials)
    if family.scale_is_fixed:
        return 1.0, 1.0
    return float(phi), 1.0


def check_family_values(family: Family, mean: float, phi: float = 1.0,
                        trials: int = 1) -> None:
    """Raise ``ValueError`` (with the rule) when (mean, phi, trials) do not define a
    distribution of ``family``.

    The mean must lie inside the family's mean space: ``family.valid_mu`` accepts it and
    theta(mean) is finite (that excludes the boundary, e.g. a binomial mean of 0 or 1 or
    a Poisson mean of 0).  Tweedie families are drawn for 1 < p < 2 only."""
    if not np.isfinite(mean):
        raise ValueError(f"mean: must be a finite number, got {mean!r}")
    with np.errstate(all="ignore"):
        inside = family.valid_mu(np.array([mean], dtype=float)) and bool(
            np.isfinite(family.theta(np.array([mean], dtype=float)))[0])
    if not inside:
        rule = _MEAN_RULE.get(family.name, f"the {family.name} family needs a positive mean")
        raise ValueError(f"mean: {rule}, got {mean:g}")
    if family.trials_as_weights and (int(trials) != trials or trials < 1):
        raise ValueError(f"trials: must be a whole number >= 1, got {trials!r}")
    if not family.scale_is_fixed and not (np.isfinite(phi) and phi > 0):
        raise ValueError(f"phi: the dispersion must be positive, got {phi:g}")
    if isinstance(family, Tweedie) and not 1 < family.power < 2:
        raise ValueError(f"power: this panel draws the compound Poisson-gamma Tweedie "
                         f"distributions, 1 < p < 2; got p = {family.power:g}")


@dataclass(frozen=True, eq=False)
class FamilyDensity:
    r"""One member of the linear exponential family, ready to draw.

    ``y`` the grid (for a discrete family its support: 0, 1, 2, ... or k/n), ``f`` the
    density or mass f(y) = exp(``family.loglike_obs``) there, ``theta`` = theta(mean),
    ``mu`` = b'(theta), ``sd`` = sqrt(phi b''(theta)), ``phi`` the dispersion as it
    enters the density (1/n for the binomial), ``sample`` a fixed-seed simulated sample
    (None when not asked for), ``y_range`` the stretch of the y axis to show (from 0
    for a family of non-negative y).
    """

    family: Family
    trials: int
    y: np.ndarray
    f: np.ndarray
    theta: float
    mu: float
    sd: float
    phi: float
    discrete: bool
    sample: np.ndarray | None
    y_range: tuple[float, float]


def _allows_negative_y(family: Family) -> bool:
    """True when the support ``y_domain`` reaches below 0 (the Gaussian: the real line)."""
    return bool(family.y_domain.lower < 0)


def _support(family: Family, mean: float, sd: float, trials: int) -> np.ndarray:
    if family.trials_as_weights:
        return np.arange(trials + 1) / trials
    top = int(np.ceil(mean + 6.0 * sd)) + 2
    return np.arange(max(top, 10) + 1, dtype=float)


def _continuous_grid(family: Family, mean: float, sd: float,
                     sample: np.ndarray | None) -> np.ndarray:
    """400 points: mean +/- 4.5 sd on the real line (when y may be negative, as for the
    Gaussian), else (0, upper] with upper = mean + 6 sd, stretched to the sample's 99.5 %
    quantile (at most mean + 12 sd)."""
    if _allows_negative_y(family):
        return np.linspace(mean - 4.5 * sd, mean + 4.5 * sd, 400)
    upper = mean + 6.0 * sd
    if sample is not None:
        upper = min(max(upper, float(np.quantile(sample, 0.995))), mean + 12 * sd)
    return np.linspace(upper / 2000.0, upper, 400)


def family_density(family: str | Family, mean: float, phi: float = 1.0, *, trials: int = 1,
                   n_sample: int = 4000, seed: int = 0,
                   show_sample: bool = True) -> FamilyDensity:
    r"""The density (or mass function) of ``family`` with mean ``mean`` and dispersion
    ``phi`` (binomial: proportions of ``trials`` = n, phi = 1/n; Poisson and negative
    binomial: phi = 1), on a grid that holds nearly all of its mass, with theta(mean),
    b'(theta), sqrt(phi b''(theta)) and ``n_sample`` draws of ``family.sample`` (fixed
    ``seed``).  Invalid values raise ``ValueError`` (``check_family_values``)."""
    fam = make_family(family)
    check_family_values(fam, mean, phi, trials)
    scale, weights = density_dispersion(fam, phi, trials)
    phi_eff = scale / weights
    theta = float(fam.theta(mean))
    mu = float(fam.b_prime(theta))
    sd = float(np.sqrt(phi_eff * float(fam.b_double_prime(theta))))
    discrete = is_discrete(fam)
    sample = None
    if show_sample:
        sample = fam.sample(np.full(n_sample, mean), scale=scale, weights=weights,
                            rng=np.random.default_rng(seed))
    y = _support(fam, mean, sd, trials) if discrete else _continuous_grid(fam, mean, sd,
                                                                          sample)
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.exp(fam.loglike_obs(y, np.full_like(y, mean), scale, weights))
    lower = float(y[0]) if _allows_negative_y(fam) else 0.0
    return FamilyDensity(fam, int(trials), y, f, theta, mu, sd, phi_eff, discrete, sample,
                         (lower, float(y[-1])))


@dataclass(frozen=True, eq=False)
class TweedieDensity:
    r"""A compound Poisson-gamma (Tweedie, 1 < p < 2) distribution, ready to draw.

    ``lam``, ``alpha``, ``gamma``: N ~ Poisson(lambda) claims, each gamma with shape
    alpha and rate gamma; ``p0`` = P(Y = 0) = e^{-lambda}; ``sd`` = sqrt(phi mu^p);
    ``y`` a grid on (0, ``upper``] and ``f`` the density there (from
    ``Tweedie.loglike_obs``; it integrates to 1 - p0); ``sample`` a fixed-seed sample.
    """

    mu: float
    phi: float
    power: float
    lam: float
    alpha: float
    gamma: float
    p0: float
    sd: float
    upper: float
    y: np.ndarray
    f: np.ndarray
    sample: np.ndarray | None


def tweedie_density(mu: float, phi: float, power: float, *, n_sample: int = 4000,
                    seed: int = 0, show_sample: bool = True) -> TweedieDensity:
    """The Tweedie distribution with mean ``mu``, dispersion ``phi`` and 1 < ``power``
    < 2 (``tweedie_poisson_gamma`` checks the values).  The grid reaches mu + 5 sd,
    stretched to the sample's 99.5 % quantile (at most mu + 10 sd)."""
    lam, alpha, gamma = tweedie_poisson_gamma(mu, phi, power)
    fam = Tweedie(power=power)
    sd = float(np.sqrt(phi * mu**power))
    sample = None
    if show_sample:
        sample = fam.sample(np.full(n_sample, mu), scale=phi, rng=np.random.default_rng(seed))
    upper = mu + 5.0 * sd
    if sample is not None and np.any(sample > 0):
        upper = min(max(upper, float(np.quantile(sample, 0.995))), mu + 10.0 * sd)
    y = np.linspace(upper / 1000.0, upper, 400)
    with np.errstate(all="ignore"):
        f = np.exp(fam.loglike_obs(y, np.full_like(y, mu), scale=phi))
    return TweedieDensity(float(mu), float(phi), float(power), lam, alpha, gamma,
                          float(np.exp(-lam)), sd, float(upper), y, f, sample)
