r"""Negative binomial regression with alpha estimated: ``gt.fit_negative_binomial``,
``gt.glm_nb`` (R's ``MASS::glm.nb``; statsmodels' ``NegativeBinomial(loglike_method="nb2")``).

NB2: Var(y) = mu + alpha mu^2 (alpha = 1 / theta in R's notation).  For a fixed alpha the
model is a GLM (``gt.NegativeBinomial(alpha=...)``), fitted by IRLS; the log-likelihood

    l(beta, alpha) = sum_i w_i [ ln Gamma(y_i + r) - ln Gamma(r) - ln Gamma(y_i + 1)
                                 + y_i ln(alpha mu_i) - (y_i + r) ln(1 + alpha mu_i) ],
    r = 1 / alpha,

is maximised by alternating the two (as MASS's glm.nb does, in theta):

1. beta given alpha: IRLS for the GLM with that alpha (started from the last beta);
2. alpha given mu: Newton-Raphson on t = ln alpha, with the score and second derivative

       dl/dalpha = sum w [ (psi(r) - psi(y + r) + ln(1 + alpha mu)) / alpha^2
                           + (y - mu) / (alpha (1 + alpha mu)) ],

   safeguarded: when the curvature is not negative a gradient step is taken instead, each
   step is at most a factor e^2 in alpha, and it is halved until the likelihood rises;

until alpha changes by less than ``tol`` (relative) and the IRLS fit of beta has converged.
For the log link the expected information of (beta, alpha) is block diagonal, so the
alternation converges fast.  It starts from the Poisson fit and the moment estimate
alpha_0 = sum[(y - mu)^2 - mu] / sum mu^2.

When the data show no extra-Poisson variation the likelihood increases as alpha falls to
0 (the Poisson limit, the score at alpha = 0+ being sum w [(y - mu)^2 - y] / 2 <= 0): then
alpha stops at ``ALPHA_FLOOR`` and an ``AlphaAtZeroWarning`` says the data look Poisson.

``alpha_se`` is the standard error of alpha-hat from the inverse of the observed
information of (beta, alpha) jointly (statsmodels' ``bse`` of alpha); the coefficients'
covariance is the GLM one at alpha-hat (as R's ``summary(glm.nb(...))``).  ``llf`` is the
NB log-likelihood at (beta-hat, alpha-hat); ``aic`` and ``bic`` count alpha as a parameter
(as R's glm.nb and statsmodels).
"""

from __future__ import annotations

import warnings

import numpy as np

__all__ = ["fit_negative_binomial", "glm_nb", "AlphaAtZeroWarning"]

ALPHA_FLOOR = 1e-8
ALPHA_CEILING = 1e8


class AlphaAtZeroWarning(UserWarning):
    """The maximum likelihood estimate of the negative binomial alpha is 0 (or below
    ``ALPHA_FLOOR``): the data show no overdispersion and look Poisson."""


def _alpha_loglike(alpha: float, y, mu, prior_weights) -> float:
    """l(alpha) at fixed mu, by the family's log-likelihood (written without the
    cancellation of ln Gamma(y + r) - ln Gamma(r) for tiny alpha)."""
    from glmteach.families import NegativeBinomial

    return float(np.sum(NegativeBinomial(alpha=alpha).loglike_obs(y, mu, 1.0, prior_weights)))


def _score_at_zero(y, mu, prior_weights) -> float:
    """lim dl/dalpha as alpha -> 0+: sum w [(y - mu)^2 - y] / 2.  When it is <= 0 the
    likelihood falls as alpha leaves 0: alpha-hat (given mu) is 0."""
    return float(np.sum(prior_weights * ((y - mu) ** 2 - y)) / 2.0)


def _alpha_derivatives(alpha: float, y, mu, prior_weights) -> tuple[float, float]:
    """dl/dalpha and d2l/dalpha2 at fixed mu (see the module docstring).  psi(y + r) -
    psi(r) loses digits for alpha below about 1e-4; the likelihood that accepts or halves
    each step does not."""
    from scipy import special

    r = 1.0 / alpha
    dpsi = special.digamma(y + r) - special.digamma(r)
    dtri = special.polygamma(1, y + r) - special.polygamma(1, r)
    log1 = np.log1p(alpha * mu)
    one = 1.0 + alpha * mu
    score = np.sum(prior_weights * ((log1 - dpsi) / alpha**2 + (y - mu) / (alpha * one)))
    second = np.sum(prior_weights * (2.0 * dpsi / alpha**3 + dtri / alpha**4
                         + mu / (alpha**2 * one) - 2.0 * log1 / alpha**3
                         - (y - mu) * (1.0 + 2.0 * alpha * mu) / (alpha * one) ** 2))
    return float(score), float(second)


def _maximise_alpha(alpha: float, y, mu, prior_weights, tol: float = 1e-12,
                    maxiter: int = 200) -> float:
    """alpha-hat given mu: safeguarded Newton-Raphson on t = ln alpha, kept in
    [ALPHA_FLOOR, ALPHA_CEILING]."""
    if _score_at_zero(y, mu, prior_weights) <= 0:
        return ALPHA_FLOOR
    lo, hi = np.log(ALPHA_FLOOR), np.log(ALPHA_CEILING)
    t = float(np.clip(np.log(alpha), lo, hi))
    ll = _alpha_loglike(np.exp(t), y, mu, prior_weights)
    for _ in range(maxiter):
        a = np.exp(t)
        score, second = _alpha_derivatives(a, y, mu, prior_weights)
        grad = a * score                       # dl/dt
        curv = a * a * second + a * score      # d2l/dt2
        step = -grad / curv if curv < 0 else float(np.sign(grad))
        step = float(np.clip(step, -2.0, 2.0))
        if t + step < lo:
            step = lo - t
        elif t + step > hi:
            step = hi - t
        for _ in range(60):  # halve until the likelihood does not fall
            new_ll = _alpha_loglike(np.exp(t + step), y, mu, prior_weights)
            if new_ll >= ll - 1e-12 * abs(ll):
                break
            step /= 2.0
        else:
            return float(np.exp(t))
        t, ll = t + step, new_ll
        if abs(step) < tol:
            break
    return float(np.exp(t))


def _joint_alpha_se(results, alpha: float) -> float:
    """sqrt of the alpha entry of the inverse observed information of (beta, alpha),
    by central differences of the analytic joint score."""
    problem = results.problem
    X, y, prior_weights, off = problem.X, problem.y, problem.weights, problem.offset
    link = problem.family.link
    beta = np.asarray(results.params, dtype=float)

    def score(theta: np.ndarray) -> np.ndarray:
        b, a = theta[:-1], theta[-1]
        eta = X @ b + off
        mu = link.inverse(eta)
        var = mu + a * mu**2
        s_beta = X.T @ (prior_weights * (y - mu) / var * link.inverse_deriv(eta))
        s_alpha, _ = _alpha_derivatives(a, y, mu, prior_weights)
        return np.r_[s_beta, s_alpha]

    theta = np.r_[beta, alpha]
    k = theta.size
    hess = np.empty((k, k))
    for j in range(k):
        h = 1e-5 * max(abs(theta[j]), 1e-3)
        up, down = theta.copy(), theta.copy()
        up[j] += h
        down[j] -= h
        hess[:, j] = (score(up) - score(down)) / (2.0 * h)
    hess = (hess + hess.T) / 2.0
    try:
        cov = np.linalg.inv(-hess)
    except np.linalg.LinAlgError:
        return float("nan")
    return float(np.sqrt(cov[-1, -1])) if cov[-1, -1] > 0 else float("nan")


def _check_nb_options(alpha_start, tol, maxiter, fit_options: dict) -> None:
    import numbers

    if alpha_start is not None and (isinstance(alpha_start, bool) or not isinstance(
            alpha_start, numbers.Real) or not np.isfinite(alpha_start) or alpha_start <= 0):
        raise ValueError(f"alpha_start: must be a positive finite number, got "
                         f"{alpha_start!r}")
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real) or not 0 < tol < 1:
        raise ValueError(f"tol: must be a number between 0 and 1, got {tol!r}")
    if isinstance(maxiter, bool) or not isinstance(maxiter, numbers.Integral) or maxiter < 1:
        raise ValueError(f"maxiter: must be a positive whole number, got {maxiter!r}")
    if "family" in fit_options:
        raise ValueError("family: fit_negative_binomial fits the negative binomial family "
                         "itself; choose its link with link= (default log)")
    if "start" in fit_options:
        raise ValueError("start: fit_negative_binomial starts beta from the Poisson fit; give "
                         "a starting alpha with alpha_start= instead")
    if "freq_weights" in fit_options:
        raise ValueError("freq_weights: not supported by fit_negative_binomial; repeat the "
                         "rows, or pass them as weights= (the NB log-likelihood is weighted "
                         "by weights as in R's glm.nb)")


def _fit_nb(fitter, link, alpha_start, tol: float, maxiter: int):
    from glmteach import links as L
    from glmteach.exceptions import ConvergenceWarning
    from glmteach.families import NegativeBinomial, Poisson

    link = L.Log() if link is None else link
    poisson = fitter(Poisson(link=link), None)
    problem = poisson.problem
    y, prior_weights = problem.y, problem.weights
    mu = np.asarray(poisson.fittedvalues, dtype=float)
    if alpha_start is None:
        alpha = float(np.sum(prior_weights * ((y - mu) ** 2 - mu))
                      / np.sum(prior_weights * mu**2))
        alpha = float(np.clip(alpha, 1e-2, 1e3)) if np.isfinite(alpha) else 1.0
    else:
        alpha = float(alpha_start)
    beta = np.asarray(poisson.params, dtype=float)
    res = None
    converged = False
    for _ in range(maxiter):
        new_alpha = _maximise_alpha(alpha, y, mu, prior_weights)
        res = fitter(NegativeBinomial(link=link, alpha=new_alpha), beta)
        new_beta = np.asarray(res.params, dtype=float)
        mu = np.asarray(res.fittedvalues, dtype=float)
        change = abs(new_alpha - alpha) / new_alpha
        step = np.max(np.abs(new_beta - beta)) / max(np.max(np.abs(new_beta)), 1e-300)
        alpha, beta = new_alpha, new_beta
        at_floor = alpha <= ALPHA_FLOOR * (1 + 1e-9)
        if (change < tol and step < tol) or (at_floor and change < tol):
            converged = True
            break
    if not converged:
        warnings.warn(f"fit_negative_binomial: alpha and beta did not settle in maxiter="
                      f"{maxiter} alternations (last relative change of alpha {change:.2g}); "
                      f"results are from the last one", ConvergenceWarning, stacklevel=3)
    if alpha <= ALPHA_FLOOR * (1 + 1e-9):
        warnings.warn(
            f"fit_negative_binomial: the maximum likelihood estimate of alpha is 0 (it fell "
            f"to the floor {ALPHA_FLOOR:g}): the data show no overdispersion and look "
            f"Poisson, so fit gt.Poisson() instead (the coefficients here are the Poisson "
            f"ones to about {ALPHA_FLOOR:g})", AlphaAtZeroWarning, stacklevel=3)
        alpha_se = float("nan")
    else:
        alpha_se = _joint_alpha_se(res, alpha)
    res.alpha = alpha
    res.alpha_se = alpha_se
    res.alpha_converged = converged
    # alpha is a parameter: AIC and BIC count it (R's glm.nb, statsmodels)
    k = res.problem.p + 1
    try:
        res.aic = -2.0 * res.llf + 2.0 * k
        res.bic = -2.0 * res.llf + k * np.log(res.nobs)
    except AttributeError:  # read-only in this version of GLMResults
        pass
    return res


def fit_negative_binomial(X, y, link=None, weights=None, offset=None, exposure=None,
                          alpha_start: float | None = None, tol: float = 1e-10,
                          maxiter: int = 100, **fit_options):
    """Negative binomial (NB2) regression with alpha estimated by maximum likelihood.

    Returns a ``GLMResults`` of ``gt.NegativeBinomial(link, alpha=alpha-hat)`` with the
    extra attributes ``alpha``, ``alpha_se`` and ``alpha_converged``; ``llf`` is the NB
    log-likelihood at alpha-hat.  ``link`` defaults to log; ``weights`` multiply each
    row's log-likelihood (R's glm.nb ``weights``); ``fit_options`` go to each ``gt.fit``
    of beta (``cov_type``, ``method``, ...).  See the module docstring for the algorithm.
    Warns ``AlphaAtZeroWarning`` when alpha-hat is 0 (the data look Poisson).
    """
    from glmteach.fit import fit

    _check_nb_options(alpha_start, tol, maxiter, fit_options)
    inner_tol = fit_options.pop("tol_beta", min(tol, 1e-10))

    def fitter(family, start):
        return fit(X, y, family=family, weights=weights, offset=offset, exposure=exposure,
                   start=start, tol=inner_tol, **fit_options)

    return _fit_nb(fitter, link, alpha_start, tol, maxiter)


def glm_nb(formula: str, data, link=None, weights=None, offset=None, exposure=None,
           alpha_start: float | None = None, tol: float = 1e-10, maxiter: int = 100,
           **fit_options):
    """R's ``MASS::glm.nb(formula, data)``: ``fit_negative_binomial`` with a formula
    (``gt.glm``'s notation; weights, offset and exposure may be column names).  R reports
    theta = 1 / alpha; its standard error is alpha_se / alpha^2 (the delta method)."""
    from glmteach.formula import glm

    _check_nb_options(alpha_start, tol, maxiter, fit_options)
    inner_tol = fit_options.pop("tol_beta", min(tol, 1e-10))

    def fitter(family, start):
        return glm(formula, data, family=family, weights=weights, offset=offset,
                   exposure=exposure, start=start, tol=inner_tol, **fit_options)

    return _fit_nb(fitter, link, alpha_start, tol, maxiter)
