r"""``fit``: a validated problem, the IRLS loop, and what a user must be told about it.

``fit(X, y, ...)`` builds a ``GLMProblem`` (validation), runs ``irls.iterate`` (the
start and the steps until the convergence rule holds; see ``glmteach.irls`` for the
steps and the rule) and wraps the history in a ``GLMResults``.  The warnings that need
the whole fit live here:

- ``ConvergenceWarning`` when the rule did not hold within ``maxiter`` steps, or when
  no fraction of a step lowered the deviance any more while the rule still failed;
- ``PerfectSeparationWarning`` when fitted probabilities (or the means of zero counts)
  are numerically 0 or 1, or still drifting there: the maximum likelihood estimates
  do not exist (section 13.2 of Frees 2010 assumes they do);
- a ``UserWarning`` when an estimated scale has no residual degrees of freedom, when
  the model fits every observation exactly (phi-hat = 0), or when the Tweedie density
  has no series for the power in use (llf, aic and bic are then NaN).
"""

from __future__ import annotations

import warnings

import numpy as np

from glmteach.exceptions import ConvergenceWarning, PerfectSeparationWarning
from glmteach.irls import (
    IterationState,
    check_controls,
    iterate,
    separation_message,
    separation_rows,
    threshold,
)
from glmteach.problem import GLMProblem
from glmteach.results import GLMResults, check_inference_options

__all__ = ["fit", "fit_problem"]


def fit_problem(problem: GLMProblem, method: str = "irls", start=None, tol: float = 1e-8,
                maxiter: int = 100, keep_vectors: bool | None = None,
                cov_type: str = "nonrobust", convergence: str = "glmteach",
                use_t: bool = False, scale=None, cov_kwds: dict | None = None):
    """Fit a validated ``GLMProblem``; see ``fit``.  ``scale`` (when not None) replaces
    the problem's scale rule for this fit."""
    check_controls(method, tol, maxiter, convergence)
    check_inference_options(problem, cov_type, cov_kwds, use_t)
    if scale is not None:
        problem = problem.with_scale(scale)
    history, converged = iterate(problem, method=method, start=start, tol=tol,
                                 maxiter=maxiter, keep_vectors=keep_vectors,
                                 convergence=convergence)
    _warn_if_not_converged(history, converged, tol, maxiter, convergence)
    if problem.scale_estimated and problem.df_resid <= 0:
        warnings.warn(
            f"{problem.n} observations and {problem.p} coefficients leave no residual "
            f"degrees of freedom: the {problem.family.name} scale cannot be estimated, so "
            f"scale, bse, p-values, llf, aic and bic are NaN (the coefficients interpolate "
            f"the data)", UserWarning, stacklevel=3,
        )
    results = GLMResults(problem, history, converged=converged, method=method,
                         cov_type=cov_type, use_t=use_t, cov_kwds=cov_kwds)
    if not problem.family.has_density and problem.df_resid > 0:
        warnings.warn(  # (only Tweedie powers 2 < p != 3 lack a density)
            f"the {problem.family.name} density has no series implemented here for power "
            f"p = {problem.family.variance_power:g} (only p = 0, 1 <= p <= 2 and p = 3): "
            f"the fit, deviance and standard errors are fine, but llf, aic and bic are NaN",
            UserWarning, stacklevel=3,
        )
    _warn_if_separated(results)
    if problem.scale_estimated and problem.df_resid > 0 and _fits_exactly(results):
        warnings.warn(
            "the model fits every observation exactly (to rounding error): the estimated "
            f"{problem.family.name} scale is {results.scale:.3g}, so the standard errors "
            "are 0 or rounding noise, z statistics, p-values and Anscombe residuals (scaled "
            "by the scale) are meaningless (possibly NaN or inf), and the log-likelihood "
            "is not finite or meaningless",
            UserWarning, stacklevel=3,
        )
    return results


def fit(X, y, family=None, weights=None, offset=None, exposure=None, method: str = "irls",
        start=None, tol: float = 1e-8, maxiter: int = 100, keep_vectors: bool | None = None,
        cov_type: str = "nonrobust", convergence: str = "glmteach", *,
        freq_weights=None, scale=None, use_t: bool = False, cov_kwds: dict | None = None):
    """Fit a GLM by maximum likelihood and return a ``GLMResults``.

    Parameters
    ----------
    X, y, family, weights, offset, exposure
        See ``GLMProblem`` (weights are prior weights: phi_i = phi / w_i).
    freq_weights : frequency (case) weights, whole numbers >= 0: a row with weight 3
        counts as three identical rows, and every result (params, bse, nobs, df_resid,
        scale, llf, aic, bic, robust covariances) equals the fit of the repeated data.
        statsmodels' ``GLM(freq_weights=)`` (whose ``nobs`` is the number of rows as
        given; here ``nobs`` is the number of repeated rows, sum f_i).  Both kinds of
        weight may be given: row i then stands for f_i rows of prior weight w_i.
    method : "irls" (Fisher scoring) or "newton" (Newton-Raphson, observed information)
    start : optional starting coefficients; by default IRLS starts from the data
    tol : the convergence tolerance of the ``convergence`` rule
    maxiter : at most this many steps; a ``ConvergenceWarning`` if not converged
    convergence : "glmteach" (default) or "R".
        "glmteach": stop when the estimated distance of the coefficients to the optimum,
        max_j |beta-hat_j - beta_j| s_j / max_j |beta_j| s_j (s_j the root mean square
        of column j), is at most ``tol``; the estimate is the Newton-Raphson step from the
        current coefficients (see the module docstring).  At tol=1e-8 the coefficients
        agree with the exact optimum to about 1e-8 relative, for every family and link.
        "R": R's ``glm.fit`` rule |D_new - D_old| / (|D_new| + 0.1) < tol, which with
        Fisher scoring and a non-canonical link stops with only about sqrt(tol)-level
        accuracy (use it to replay R iteration by iteration).
        ``history[k].criterion`` holds what the rule measured at iteration k.
    keep_vectors : keep eta, mu, z, w and llf of every iteration in ``history`` (default:
        when n <= 20,000); the final iteration always has them.
    cov_type : "nonrobust" (model-based), "HC0" or "HC1" (sandwich), or "cluster" with
        ``cov_kwds={"groups": g}`` (cluster-robust); see ``GLMResults.cov_params``
    cov_kwds : {"groups": one group label per row of X} for ``cov_type="cluster"``
    scale : None (default: 1 for Binomial, Poisson and NegativeBinomial, Pearson
        X^2 / df_resid otherwise), a positive number (phi fixed), "X2" (Pearson X^2 /
        df_resid for any family) or "dev" (deviance / df_resid), as statsmodels'
        ``GLM.fit(scale=)``; it changes bse, cov_params, p-values and llf (as in
        statsmodels; see ``GLMProblem.llf_scale``), not the coefficients
    use_t : False (default, as statsmodels): z statistics and normal p-values and
        intervals; True: Student t on df_resid degrees of freedom (R's summary.glm for
        families with an estimated dispersion); with ``cov_type="cluster"`` t on G - 1
        degrees of freedom (G groups), as statsmodels

    A dask array X (chunked by rows; the ``dask`` extra) is fitted by
    ``glmteach.distributed.fit``: one reduction over the chunks per iteration, the same
    per-row functions, a ``DaskGLMResults`` with lazy n-vectors.
    """
    if type(X).__module__.split(".")[0] == "dask":  # rows in chunks: glmteach.distributed
        from glmteach import distributed

        return distributed.fit(X, y, family, weights=weights, offset=offset,
                               exposure=exposure, method=method, start=start, tol=tol,
                               maxiter=maxiter, keep_vectors=keep_vectors, cov_type=cov_type,
                               convergence=convergence, freq_weights=freq_weights,
                               scale=scale, use_t=use_t, cov_kwds=cov_kwds)
    problem = GLMProblem(X, y, family, weights=weights, offset=offset, exposure=exposure,
                         freq_weights=freq_weights, scale=scale)
    return fit_problem(problem, method=method, start=start, tol=tol, maxiter=maxiter,
                       keep_vectors=keep_vectors, cov_type=cov_type, convergence=convergence,
                       use_t=use_t, cov_kwds=cov_kwds)


def _fits_exactly(results) -> bool:
    """Every used response equals its fitted mean to 1e-10 of the largest response (or
    the Pearson X^2 underflows to 0)."""
    problem = results.problem
    used = problem.weights > 0
    y, mu = problem.y[used], results.history[-1].mu[used]
    return results.scale == 0 or bool(np.all(np.abs(y - mu) <= 1e-10 * np.max(np.abs(y))))


def _warn_if_separated(results) -> None:
    """PerfectSeparationWarning when the maximum likelihood estimates do not exist
    because some responses on the boundary of the support are predicted perfectly:
    binomial probabilities going to 0 or 1 (separation), or count means going to 0 for
    zero counts (separation for the Poisson, negative binomial and Tweedie models)."""
    problem = results.problem
    history = results.history
    step = None  # (the last step of the coefficients, if there was one)
    if len(history) >= 2 and history[-2].params is not None:
        step = history[-1].params - history[-2].params
    # evidence: means numerically on the edge, or rows still drifting towards it
    at_edge = separation_rows(problem.X, problem.y, problem.weights, problem.family,
                              history[-1].mu, step)
    if not at_edge.any():
        return
    used = problem.weights > 0
    n_used = int(np.count_nonzero(used))
    # complete separation: every row ends up predicted with certainty (the deviance
    # goes to 0), even where a slow tail (cloglog towards 1) keeps a mean at 1 - 1e-10
    complete = bool(at_edge[used].all()) or results.deviance <= 1e-6 * problem.total_weight
    warnings.warn(separation_message(problem.family, int(at_edge.sum()), n_used,
                                     results.params, problem.param_names, complete),
                  PerfectSeparationWarning, stacklevel=3)


def _warn_if_not_converged(history: list[IterationState], converged: bool, tol: float,
                           maxiter: int, convergence: str) -> None:
    """ConvergenceWarning when ``iterate`` stopped without convergence: at a zero step
    (no fraction of the step lowers the deviance; glmteach rule only) or at maxiter."""
    if converged:
        return
    state = history[-1]
    criterion = state.criterion
    if convergence == "glmteach" and state.step_size == 0.0:
        warnings.warn(
            f"IRLS stopped at iteration {state.iteration}: no fraction of the next step "
            f"lowers the deviance, yet the estimated relative distance to the optimum is "
            f"{criterion:.3g} > max(tol/10, 64 eps) = {threshold(tol):.3g} (rounding "
            f"error in the deviance limits the accuracy); results are from the last "
            f"iteration. Rescale the data or the columns of X, or use a larger tol.",
            ConvergenceWarning, stacklevel=4,
        )
        return
    measured = (f"relative deviance change {criterion:.3g} >= tol={tol:g}"
                if convergence == "R" else f"estimated relative distance to the optimum "
                f"{criterion:.3g} > max(tol/10, 64 eps) = {threshold(tol):.3g}")
    warnings.warn(
        f"IRLS did not converge in maxiter={maxiter} iterations ({measured}); results "
        f"are from the last iteration. "
        f"Raise maxiter or check the model.",
        ConvergenceWarning, stacklevel=4,
    )
