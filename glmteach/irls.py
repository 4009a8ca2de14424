r"""Fitting a GLM: one step as a pure function, and the loop built from it.

Maximum likelihood for a GLM solves the score equations (Frees 2010, eq. 13.13)

    sum_i (d mu_i / d beta) (y_i - mu_i) / Var y_i = 0 .

Fisher scoring replaces the Hessian by its expectation, the information matrix
(13.14), and each step becomes a weighted least squares regression (section 13.9.4):

    z_i = (eta_i - offset_i) + (y_i - mu_i) g'(mu_i)        working response
    W_i = w_i / ( v(mu_i) g'(mu_i)^2 )                      working weight
    beta_new = (X' W X)^{-1} X' W z .

For a canonical link the Hessian is not random, so Fisher scoring *is*
Newton-Raphson (13.15).  For other links Newton-Raphson uses the observed information,
whose weights are

    W_i^obs = W_i [ 1 + (y_i - mu_i) (v'(mu_i) g'(mu_i) + v(mu_i) g''(mu_i))
                                      / (v(mu_i) g'(mu_i)) ]

and can be negative far from the optimum (then that step falls back to Fisher scoring).

``irls_step`` and ``newton_step`` take an ``IterationState`` and return the next one;
``iterate`` (the loop that ``gt.fit`` runs, see ``glmteach.fit``) is nothing but
``initial_state`` followed by ``state = STEPS[method](state, problem)`` until the
convergence rule holds.  A step is halved while it gives means outside the family's mean
space, a non-finite deviance, or a deviance that rises.  This module imports only the
layers below it (families, links, linalg, problem): it knows nothing of results.

Convergence rules (``fit(..., convergence=...)``):

- ``"glmteach"`` (default): stop at the first beta_k whose estimated relative distance
  to the optimum is at most tol/10 (a margin for the estimate; never below 64 machine
  epsilons, what rounding allows),

      criterion_k = max_j |d_j| s_j / max_j |beta_kj| s_j ,   d = beta-hat - beta_k ,

  with s_j the root mean square of column j over the rows (prior-weighted), so that
  the rule is the same whatever the units of the columns, of y and of the weights.  The
  distance d is estimated by a Newton-Raphson step from beta_k: d ~ H^{-1} U(beta_k),
  U the score and H the observed information, exact to first order (coefficients that
  all move eta by less than 1e-3 of mu g'(mu) are measured against that floor).  It costs
  little: for Fisher scoring M = X'WX at beta_k, formed with the score
  U = X' (W (z - eta + offset)) in the one pass over X that the next step needs anyway;
  for Newton's method M is the observed information the step to beta_k factored, and
  U costs one pass over X.  For Newton's method, and for Fisher scoring with the
  canonical link (M = H then), M^{-1} U is d.  For
  Fisher scoring with other links M^{-1} U is shorter than d by the factor of the
  scoring's linear convergence, so when it falls below tol, H is computed once and
  the Newton step H^{-1} U is the criterion (its ratio to M^{-1} U then corrects the
  later look-aheads).  The fit also stops, with a ``ConvergenceWarning``, when no
  fraction of a step lowers the deviance while the criterion is still above tol; and it
  stops as converged when the data are separated (the estimates run off to infinity:
  the deviance has reached its infimum, a PerfectSeparationWarning follows) or when
  rounding error alone keeps the criterion from shrinking (see ``_stops_early``).
- ``"R"``: R's ``glm.fit`` rule |D_k - D_{k-1}| / (|D_k| + 0.1) < tol.  The deviance
  is flat at the optimum, so a change of 1e-8 in it means a distance of about 1e-4
  in the coefficients; Fisher scoring with a non-canonical link, which converges only
  linearly, then stops 1e-7 to 1e-5 (relative) short of the optimum.  It is also not
  scale-free: with tiny prior weights the deviance is tiny and the "+ 0.1" makes it stop
  at once.  Kept so that R can be replayed step by step.

``history[k].criterion`` is what the rule measured at iteration k.
"""

from __future__ import annotations

import dataclasses
import numbers
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from glmteach.exceptions import FitError
from glmteach.families import Family
from glmteach.linalg import (
    cholesky_solver,
    solve_weighted_least_squares,
    threads_for_pass,
    weighted_normal_equations,
)
from glmteach.problem import GLMProblem, add_parts

__all__ = ["IterationState", "initial_state", "irls_step", "newton_step", "iterate",
           "working_response_and_weights", "working_vectors", "with_working",
           "fisher_rows", "RowsWork", "xt_wz_and_score", "fisher_normal_equations",
           "drifting_rows", "separation_rows", "separation_message", "check_controls",
           "threshold", "relative_size"]

# Step-halving gives up only after at least MAX_HALVINGS halvings *and* once the step
# moves no linear predictor by more than NEGLIGIBLE_ETA_STEP: a full step can be
# astronomically long (a start where d mu / d eta ~ 1e-60 gives z ~ 1e60), and a fixed
# count of halvings would then stop while the step is still huge.
MAX_HALVINGS = 30
NEGLIGIBLE_ETA_STEP = 1e-10
KEEP_VECTORS_UP_TO = 20_000  # keep every iteration's eta, mu, z, w when n is this small
# ... and above it a step leaves z and w out of the state it makes (None): the next step
# needs only X'WX and the score, which the step's pass over X forms part by part, so the
# two n-vectors are never written.  That halves the n-vectors alive in a large fit and
# so the fresh memory each fit writes and faults in (1e6 x 20 Poisson, a fit after
# ``gc.collect()`` and a pause: 11,000 page faults of 2-3 us each before, 5,600 after).
# ``working_vectors`` computes them when needed, and ``iterate`` fills them in for the
# states it keeps.
# Fitted probabilities closer than this to 0 or 1 are "numerically 0 or 1" (R's glm.fit
# uses 10 machine epsilons too).  Legitimate optima can have probabilities of 1e-12
# (logistic regression of iris versicolor vs virginica: 6e-13 ... 7e-9), so a larger edge
# gives false alarms; separation is recognised by drift instead (below).
SEPARATION_EDGE = 10 * np.finfo(float).eps
# ... but the rule can also stop earlier, when the separated rows are few next to the
# deviance of the others (one such row among 35 stopped at mu = 2e-8).  Separation also
# shows as drift: each IRLS step still moves the linear predictor of those rows by ~1
# (their working residuals tend to -1 or +1), while a genuine optimum is reached with
# vanishing steps.  So probabilities within DRIFT_EDGE of 0 or 1 whose linear
# predictor moved by more than DRIFT_STEP in the last step of a converged fit count too.
DRIFT_EDGE = 1e-3
DRIFT_STEP = 0.1


@dataclass(frozen=True)
class IterationState:
    """Everything known at one iteration.

    ``params`` is None at iteration 0 when the fit starts from the data (a mean vector
    near y) rather than from coefficients.  ``z`` and ``w`` are the working response
    and Fisher working weights at this state's mean: the inputs of the next step.  For
    a problem of more than KEEP_VECTORS_UP_TO rows the steps leave them None (see
    there), ``working_vectors`` gives them, and ``iterate`` fills them in for the states
    it keeps (always the last).
    ``step_size`` is the fraction of the full step that was taken (1, 1/2, 1/4, ...;
    0 when no fraction of the step lowered the deviance).  ``criterion`` is what
    ``fit``'s convergence rule measured at this state (None at iteration 0 and for
    states made by ``irls_step`` / ``newton_step`` outside ``fit``): with
    ``convergence="glmteach"`` the estimated relative distance of ``params`` to the
    optimum, with ``convergence="R"`` the relative deviance change
    |D - D_old| / (|D| + 0.1); ``fit`` stops at the first state whose criterion is
    at most max(tol/10, 64 machine epsilons) (glmteach) or below ``tol`` (R).  In large
    fits (see ``keep_vectors`` of ``fit``) the vectors of iterations before the last
    are not kept (None), to save memory, and neither is ``llf``.

    ``llf`` is the log-likelihood at ``mu`` (``GLMProblem.loglike``), computed from that
    mean for problems of at most KEEP_VECTORS_UP_TO rows; a larger problem leaves it
    None, so that a large fit whose llf no one asks for never pays its once-per-problem
    sum of log-densities (a ln y! per row for the Poisson): ``GLMResults.llf`` computes
    it when asked.  ``information`` names the
    information matrix of the step that led here: "fisher" (expected) or "newton"
    (observed; None at iteration 0), and ``solve``
    applies its inverse to a vector (the convergence rule's look-ahead uses it; ``fit``
    drops it once the rule has measured the state).
    """

    iteration: int
    params: np.ndarray | None
    eta: np.ndarray | None
    mu: np.ndarray | None
    z: np.ndarray | None
    w: np.ndarray | None
    deviance: float
    llf: float | None = None
    step_size: float = 1.0
    criterion: float | None = None
    information: str | None = None
    solve: Callable[[np.ndarray], np.ndarray] | None = field(
        default=None, repr=False, compare=False)
    # X'WX and X'Wz at this state's w and z, once formed (``fisher_normal_equations``),
    # and at the data start the range of W / w (``GLMProblem.working_weight_range``):
    # a cache of functions of the fields above, so it is left out of __init__ (a
    # ``dataclasses.replace`` that changes w starts with an empty one), of == and of repr.
    _normal_equations: dict = field(default_factory=dict, init=False, repr=False,
                                    compare=False)

    def without_vectors(self) -> IterationState:
        """The same state with the length-n vectors, and the llf computed from them,
        dropped (to save memory)."""
        return dataclasses.replace(self, eta=None, mu=None, z=None, w=None, llf=None,
                                   solve=None)


def working_response_and_weights(family: Family, y: np.ndarray,
                                 prior_weights: np.ndarray | None,
                                 offset: np.ndarray | None, eta: np.ndarray, mu: np.ndarray):
    """(z, W): the working response and Fisher working weights at (eta, mu),

        z = eta - offset + (y - mu) g'(mu) ,      W = w / ( v(mu) g'(mu)^2 ) ,

    w the prior weights (Frees 2010, section 13.9.4).  A pure function of arrays, row by
    row: it works on all n rows or on any block of them (a chunked back end calls it
    block by block).  ``family`` carries its link.  ``prior_weights=None`` means all 1
    and ``offset=None`` no offset (the same numbers, one pass over an n-vector less).

    Written with d mu / d eta = 1 / g'(mu) from the link's ``inverse_deriv_at(eta, mu)``
    (for the log link mu itself, no second exponential), and
    W as w (d mu/d eta) [(d mu/d eta) / v(mu)], so that the square of a tiny
    d mu/d eta cannot underflow; v(mu) and y - mu come from
    ``family.variance_and_residual``, which for the binomial takes 1 - mu from the link
    without cancellation (both tails of logit, probit and cloglog keep their weights).
    Then the guards: rows whose mean sits on the boundary of the mean space
    (d mu/d eta = 0 or v(mu) = 0, e.g. a probability that rounds to exactly 0 or 1)
    get W = 0, and rows whose working residual (y - mu) / (d mu/d eta) is not finite
    (0/0 or an overflow) get W = 0 and z = eta - offset, instead of 0/0 or 0 * inf.
    """
    with np.errstate(all="ignore"):  # x/0 and 0/0 on the boundary are repaired below
        mu_eta = family.link.inverse_deriv_at(eta, mu)  # d mu / d eta = 1 / g'(mu)
        var, y_minus_mu = family.variance_and_residual(y, mu, eta)
        # (in place where the arrays are this function's own: at large n every n-vector
        # less is a pass over memory less)
        working_residual = np.divide(y_minus_mu, mu_eta)  # (y - mu) g'(mu)
        if offset is None:
            z = np.add(eta, working_residual)
        else:
            z = np.subtract(eta, offset)
            z += working_residual
        W = np.divide(mu_eta, var)
        W *= mu_eta
        if prior_weights is not None:
            W *= prior_weights  # w / (v(mu) g'(mu)^2)
        all_finite = np.isfinite(np.sum(W) + np.sum(working_residual))
    if not all_finite:  # rare: find the rows to repair
        overflow = ~np.isfinite(working_residual)
        W[~np.isfinite(W) | (var == 0) | overflow] = 0.0
        z[overflow] = eta[overflow] if offset is None else (eta - offset)[overflow]
    return z, W


def _working_response_and_weights_of(problem: GLMProblem, eta: np.ndarray,
                                     mu: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``working_response_and_weights`` for ``problem`` at (eta, mu), by parts of the
    rows (``GLMProblem.by_row_parts``: on all CPUs for a large n, the same numbers)."""
    weights = None if problem.unit_weights else problem.weights
    offset = problem.offset if problem.has_offset else None
    z, W = np.empty(problem.n), np.empty(problem.n)

    def part(rows: slice) -> None:
        z[rows], W[rows] = working_response_and_weights(
            problem.family, problem.y[rows], None if weights is None else weights[rows],
            None if offset is None else offset[rows], eta[rows], mu[rows])

    problem.by_row_parts(part)
    return z, W


def working_vectors(state: IterationState, problem: GLMProblem) -> tuple[np.ndarray,
                                                                          np.ndarray]:
    """(z, W) of ``state``: its own, or computed from its eta and mu when the step that
    made it left them out (problems of more than KEEP_VECTORS_UP_TO rows)."""
    if state.z is not None and state.w is not None:
        return state.z, state.w
    return _working_response_and_weights_of(problem, state.eta, state.mu)


def _keeps_working(problem: GLMProblem) -> bool:
    """Whether the states of ``problem`` carry z and w (see KEEP_VECTORS_UP_TO)."""
    return problem.n <= KEEP_VECTORS_UP_TO


def with_working(state: IterationState, problem: GLMProblem) -> IterationState:
    """``state`` with its z and w filled in (the same state when it has them)."""
    if state.z is not None and state.w is not None:
        return state
    z, W = working_vectors(state, problem)
    filled = dataclasses.replace(state, z=z, w=W)
    filled._normal_equations.update(state._normal_equations)  # the same w and z
    return filled


def _state(problem: GLMProblem, iteration: int, params, eta, mu, step_size: float = 1.0,
           deviance: float | None = None, working=None, normal_equations=None,
           **step) -> IterationState:
    """The state at mean ``mu``: z and W, the deviance and the llf all follow from it
    (``deviance``, ``working`` = (z, W) and the ``fisher_normal_equations`` when the
    caller has them already; z and W are left None for a large problem, see
    KEEP_VECTORS_UP_TO).  ``step`` holds what the step that led here used
    (``information`` and ``solve``)."""
    if working is None and _keeps_working(problem):
        working = _working_response_and_weights_of(problem, eta, mu)
    z, W = (None, None) if working is None else working
    deviance = problem.deviance(mu) if deviance is None else deviance
    state = IterationState(
        iteration=iteration, params=params, eta=eta, mu=mu, z=z, w=W, deviance=deviance,
        llf=problem.loglike(mu, deviance) if problem.n <= KEEP_VECTORS_UP_TO else None,
        step_size=step_size, **step,
    )
    if normal_equations is not None:
        state._normal_equations["fisher"] = (problem.X, *normal_equations)
    return state


def initial_state(problem: GLMProblem, start=None) -> IterationState:
    """Iteration 0.  Without ``start``, the mean starts at ``family.starting_mu(y)``
    (no coefficients yet); with ``start`` (a coefficient vector) at g^{-1}(X start).

    Also where aliased columns of X are rejected (``GLMProblem.check_rank``): from the
    normal equations X'WX of this state, which the first step uses too, so that the
    check usually costs no pass over X of its own.  An aliased X is reported before any
    other trouble with the start."""
    try:
        state = _initial_state(problem, start)
    except (FitError, ValueError):
        problem.check_rank()
        raise
    if not problem.rank_checked:
        weight_range = state._normal_equations.get("weight range")  # (from the data start)
        if weight_range is None:
            weight_range = problem.working_weight_range(working_vectors(state, problem)[1])
        problem.check_rank(fisher_normal_equations(state, problem)[0], weight_range)
    return state


def _initial_state(problem: GLMProblem, start) -> IterationState:
    if start is None:
        mu = problem.family.starting_mu(problem.y,
                                        1.0 if problem.unit_weights else problem.weights)
        eta, _, deviance, working, normal, weight_range = _fisher_trial(problem, None, mu)
        if deviance is None:  # some g(mu) is not finite
            with np.errstate(divide="ignore", invalid="ignore"):
                eta = problem.link.link(mu)
            used = problem.weights > 0
            if np.all(problem.y[used] == 0):
                raise FitError(
                    f"cannot start from the data: every response is 0, so the "
                    f"{problem.family.name} means would have to be 0 - the maximum "
                    f"likelihood estimates do not exist (they go to minus infinity)"
                )
            raise FitError(
                f"cannot start from the data: the {problem.link!r} link is not defined at "
                f"the starting means {problem.family.name}.starting_mu(y) for "
                f"{int(np.count_nonzero(~np.isfinite(eta)))} rows; pass start= coefficients"
            )
        state = _state(problem, 0, None, eta, mu, 1.0, deviance, working, normal)
        state._normal_equations["weight range"] = weight_range  # (for the rank check)
        return state
    try:
        start = np.asarray(start, dtype=float).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"start: must be {problem.p} numbers (one coefficient per column "
                         f"of X), got {start!r}") from exc
    if start.shape != (problem.p,):
        raise ValueError(
            f"start: must be {problem.p} finite coefficients (one per column of X), "
            f"got shape {start.shape}"
        )
    if not np.all(np.isfinite(start)):
        k = int(np.count_nonzero(~np.isfinite(start)))
        raise ValueError(f"start: must be {problem.p} finite coefficients; {k} of them "
                         f"{'is' if k == 1 else 'are'} NaN or infinite")
    eta = problem.linear_predictor(start)
    mu = problem.mean(eta)
    if not problem.family.valid_mu(mu):
        raise ValueError(
            f"start: gives means outside the {problem.family.name} family's mean space "
            f"(or non-finite) through the {problem.link!r} link; choose other start values"
        )
    return _state(problem, 0, start.copy(), eta, mu)


def fisher_normal_equations(state: IterationState, problem: GLMProblem):
    """(X' W X, X' W z, U) at the state's Fisher working weights W and working response
    z: the expected information (phi = 1), the right-hand side of the next Fisher step,
    and the score U = X' W (z - eta + offset) = sum_i x_i w_i (y_i - mu_i) / (v g')
    (Frees 2010, eq. 13.13), kept in this residual form because near the optimum
    X'Wz - (X'WX) beta would lose its digits to cancellation.

    At coefficients beta the working response is z = X beta + (z - eta + offset), so

        X' W z = (X' W X) beta + U ,

    and the pass over X forms only X'WX and U (``_score_terms``); at the data start
    (no beta: eta = g(mu) is not X beta) it forms X' (W z) too.  One blocked pass over X
    (``GLMProblem.weighted_normal_equations``), formed at most once per state and kept
    on it: in ``fit`` the convergence rule's look-ahead at beta_k, the step from beta_k
    and, at the last state, the covariance (X'WX)^{-1} all use it, so X is read once
    for the three.
    """
    cached = state._normal_equations.get("fisher")
    if cached is None or cached[0] is not problem.X:  # (X: the problem it was formed on)
        (z, W), eta, params = working_vectors(state, problem), state.eta, state.params
        offset = problem.offset if problem.has_offset else None
        # (at the data start the two n-vectors side by side, contiguous: see the pass)
        rhs = np.empty((1 if params is not None else 2, problem.n))
        problem.by_row_parts(lambda rows: _score_terms(
            W[rows], z[rows], eta[rows], None if offset is None else offset[rows],
            rhs[:, rows]))
        gram, xt_rhs = problem.weighted_normal_equations(W, rhs.T)
        cached = (problem.X, gram, *xt_wz_and_score(gram, xt_rhs, params))
        state._normal_equations["fisher"] = cached
    return cached[1], cached[2], cached[3]


def _score_terms(W, z, eta, offset, out) -> None:
    """out[0] = W (z - eta + offset), the terms of the score, row by row (``offset``
    None means none); with a second row, out[1] = W z (for X'Wz at the data start)."""
    np.subtract(z, eta, out=out[0])
    if offset is not None:
        out[0] += offset
    out[0] *= W
    if len(out) > 1:
        np.multiply(W, z, out=out[1])


def xt_wz_and_score(gram: np.ndarray, xt_rhs: np.ndarray, params):
    """(X'Wz, U) from X'WX = ``gram`` and the columns X' rhs of ``_score_terms`` (the sums
    of ``fisher_rows``): X'Wz = (X'WX) beta + U at coefficients beta, X'(Wz) itself at the
    data start (``params`` None)."""
    score = xt_rhs[:, 0]
    xt_wz = gram @ params + score if params is not None else xt_rhs[:, 1]
    return xt_wz, score


class RowsWork(NamedTuple):
    """What ``fisher_rows`` makes of some rows: their linear predictor and means, their
    deviance, working response and weights, and their sums X'WX and X' rhs (the columns
    of ``_score_terms``; ``xt_wz_and_score`` turns them into X'Wz and the score)."""

    eta: np.ndarray
    mu: np.ndarray
    deviance: float
    z: np.ndarray
    W: np.ndarray
    gram: np.ndarray
    xt_rhs: np.ndarray


def fisher_rows(X: np.ndarray, y: np.ndarray, weights: np.ndarray | None,
                offset: np.ndarray | None, family: Family, params: np.ndarray | None,
                start_mu: np.ndarray | None = None, eta_out: np.ndarray | None = None,
                mu_out: np.ndarray | None = None) -> RowsWork | None:
    """One Fisher scoring pass over some rows of X - any rows: a part of an in-memory X
    (``_fisher_trial``) or a chunk of a dask array (``glmteach.distributed``), which is
    why the two back ends fit with the same numbers.  At coefficients ``params``:

        eta = X beta + offset,  mu = g^{-1}(eta),  D = sum_i w_i d(y_i, mu_i),
        z, W (``working_response_and_weights``),  X'WX and X'W(z - eta + offset);

    at the data start (``params`` None) the means are ``start_mu`` and eta = g(mu), and
    X'(Wz) is formed too (there is no beta for X'Wz = (X'WX) beta + U).  ``weights``
    None means all 1 and ``offset`` None none.  eta and mu are written into ``eta_out``
    and ``mu_out`` when given (rows of a fit's n-vectors).  None when some mean is
    outside the mean space, or at the data start when some g(mu) is not finite."""
    link = family.link
    if params is None:
        mu = start_mu
        with np.errstate(divide="ignore", invalid="ignore"):
            eta = link.link(mu)
        if eta_out is not None:
            eta_out[...] = eta
            eta = eta_out
        if not np.all(np.isfinite(eta)):
            return None
    else:
        eta = np.dot(X, params, out=eta_out)
        if offset is not None:
            eta += offset
        mu = link.inverse(eta)
        if mu_out is not None:
            mu_out[...] = mu
            mu = mu_out
        if not family.valid_mu(mu):
            return None
    deviance = family.deviance(y, mu, 1.0 if weights is None else weights)
    z, W = working_response_and_weights(family, y, weights, offset, eta, mu)
    # the score terms are read once, by these rows' sums: kept to the rows (in the cache,
    # and one n-vector less to write and fault in per pass; 3-4% of a 1e6 x 20 fit),
    # contiguous by rows so that the sums read them uncopied
    terms = np.empty((1 if params is not None else 2, len(y)))
    _score_terms(W, z, eta, offset, terms)
    gram, xt_rhs = weighted_normal_equations(X, W, terms.T)
    return RowsWork(eta, mu, deviance, z, W, gram, xt_rhs)


def _fisher_trial(problem: GLMProblem, params: np.ndarray | None,
                  start_mu: np.ndarray | None = None):
    """(eta, mu, deviance, (z, W) or None, normal equations, weight range) at coefficients
    ``params`` - or, with ``params`` None, at the data start, the means ``start_mu``
    (eta = g(mu)) - in one pass over X by the parts of its rows
    (``GLMProblem.by_row_parts``).  The weight range, (min, max) of W / w for the rank
    check of ``initial_state`` (``GLMProblem.working_weight_range``), is taken at the
    data start only (else None).

    A Fisher step's new point needs X beta, the means and the deviance; if it is
    accepted (nearly always), the next step needs z, W and the sums X'WX and
    U = X'W(z - eta + offset) of ``fisher_normal_equations`` - another pass over X.
    Here each part does both while its rows of X are still in the cache, on all CPUs:
    each part is one ``fisher_rows``, the very function each chunk of a dask fit calls
    (``glmteach.distributed``), and the parts' sums are added in order.  The numbers
    are those of the separate passes (``GLMProblem.linear_predictor``, ``mean``,
    ``deviance``, ``fisher_normal_equations``): the same parts, added in the same order.
    ``deviance`` (and what follows it) is None when some mean is outside the mean space,
    or at the data start when some g(mu) is not finite."""
    n, X, y, family = problem.n, problem.X, problem.y, problem.family
    weights = None if problem.unit_weights else problem.weights
    offset = problem.offset if problem.has_offset else None
    eta = np.empty(n)
    mu = np.empty(n) if params is not None else start_mu
    # z and W as n-vectors only where the state keeps them: otherwise each part's stay
    # in the part (KEEP_VECTORS_UP_TO); at the data start the parts also take the range
    # of W that the rank check of ``initial_state`` needs
    keep = _keeps_working(problem)
    z, W = (np.empty(n), np.empty(n)) if keep else (None, None)

    def part(rows: slice):
        work = fisher_rows(X[rows], y[rows], None if weights is None else weights[rows],
                           None if offset is None else offset[rows], family, params,
                           start_mu=None if params is not None else mu[rows],
                           eta_out=eta[rows], mu_out=None if params is None else mu[rows])
        if work is None:
            return None
        if keep:
            z[rows], W[rows] = work.z, work.W
        sums = (work.deviance, work.gram, work.xt_rhs)
        return sums, None if params is not None else problem.working_weight_range(work.W,
                                                                                  rows)

    with threads_for_pass(n, problem.p) as threads:
        parts = problem.by_row_parts(part, threads)
    if any(part is None for part in parts):
        return eta, mu, None, None, None, None
    deviance, gram, xt_rhs = add_parts([sums for sums, _ in parts])
    normal = (gram, *xt_wz_and_score(gram, xt_rhs, params))
    weight_range = None
    if params is None:
        lows, highs = zip(*(part_range for _, part_range in parts), strict=True)
        weight_range = (min(lows), max(highs))
    return eta, mu, float(deviance), (z, W) if keep else None, normal, weight_range


def _fisher_plan(state: IterationState, problem: GLMProblem):
    """(target, solver, kind) of a Fisher scoring step (``solve_weighted_least_squares``)."""
    gram, xt_wz, _ = fisher_normal_equations(state, problem)
    solver = cholesky_solver(gram)
    if solver is not None:  # the common case, without forming W z again
        return solver(xt_wz), solver, "fisher"
    z, W = working_vectors(state, problem)
    target, solver = solve_weighted_least_squares(problem.X, W, W * z, (gram, xt_wz))
    return target, solver, "fisher"


def _newton_plan(state: IterationState, problem: GLMProblem):
    """(target, solver, kind) of a Newton-Raphson step; ``kind`` says which information
    matrix was used: "newton", or "fisher" where the observed one was unusable."""
    if state.params is None:
        # From the data start (mu near y, no coefficients) the observed information can
        # be positive definite yet wildly off, and a first step cannot be halved back
        # (random gamma data: deviance 47 -> 1e41, then a spurious 'optimum').  So the
        # first Newton step is taken only when its deviance is no higher than both the
        # deviance at the start and that of the Fisher scoring step (R's glm.fit always
        # starts with one); otherwise the Fisher step is taken.
        fisher = _fisher_plan(state, problem)
        newton = _observed_information(state, problem)
        if newton is None:
            return fisher
        bound = max(state.deviance, _deviance_at(fisher[0], problem))
        return (*newton, "newton") if _deviance_at(newton[0], problem) <= bound else fisher
    newton = _observed_information(state, problem)
    return _fisher_plan(state, problem) if newton is None else (*newton, "newton")


def _deviance_at(params: np.ndarray, problem: GLMProblem) -> float:
    """The deviance at coefficients ``params`` (inf outside the mean space)."""
    with np.errstate(all="ignore"):
        mu = problem.mean(problem.linear_predictor(params))
        if not problem.family.valid_mu(mu):
            return float("inf")
        dev = problem.deviance(mu)
    return dev if np.isfinite(dev) else float("inf")


def _observed_information(state: IterationState, problem: GLMProblem):
    """(target, solver) of a Newton-Raphson step with the observed information, or None
    when that information is not finite or not positive definite."""
    fam, link, y, mu = problem.family, problem.link, problem.y, state.mu
    z, W = working_vectors(state, problem)
    with np.errstate(all="ignore"):  # extreme means: checked for finiteness below
        g1, g2 = link.deriv(mu), link.deriv2(mu)
        var, var1 = fam.variance(mu), fam.variance_deriv(mu)
        factor = 1.0 + (y - mu) * (var1 * g1 + var * g2) / (var * g1)
        w_obs = np.where(W > 0, W * factor, 0.0)
        # score with respect to eta: w (y - mu) / (v g') = W (z - eta + offset)
        rhs = w_obs * (state.eta - problem.offset) + W * (z - state.eta + problem.offset)
    if not (np.all(np.isfinite(w_obs)) and np.all(np.isfinite(rhs))):
        return None  # the observed information overflowed
    hessian, xt_rhs = problem.weighted_normal_equations(w_obs, rhs)
    solver = cholesky_solver(hessian)
    if solver is None:
        return None  # observed information not positive definite
    return solver(xt_rhs), solver


def _observed_information_target(state: IterationState, problem: GLMProblem):
    """The Newton-Raphson target with the observed information, or None."""
    newton = _observed_information(state, problem)
    return None if newton is None else newton[0]


def _deviance_rose(new: float, old: float) -> bool:
    """A rise by more than 1e-12 of the deviance itself (relative, so that the test
    means the same whatever the scale of the weights: issue 10), or any rise from 0."""
    return new - old > 1e-12 * abs(old)


def _step_towards(state: IterationState, problem: GLMProblem, target: np.ndarray,
                  solve, information: str) -> IterationState:
    """Move from ``state`` towards ``target`` (the coefficients that the information
    matrix ``information``, whose inverse ``solve`` applies, points to), halving the
    step while it is not safe: means outside the mean space, a non-finite deviance, or
    a deviance that rises.  What both public steps are made of."""
    made_by = {"information": information, "solve": solve}
    fam, link = problem.family, problem.link
    step = 1.0
    reason = ""
    halvings = 0
    eta_move = None  # the full step's largest move of eta: needed only after MAX_HALVINGS
    while True:
        if state.params is None or step == 1.0:
            params = target
        else:
            params = state.params + step * (target - state.params)
        with np.errstate(all="ignore"):
            if information == "fisher" and step == 1.0:  # (a halved step is rarely kept)
                eta, mu, dev, working, normal, _ = _fisher_trial(problem, params)
            else:
                eta = problem.linear_predictor(params)
                mu = problem.mean(eta)
                dev = problem.deviance(mu) if fam.valid_mu(mu) else None
                working = normal = None
            if dev is None:
                reason = f"means outside the {fam.name} mean space"
            elif not np.isfinite(dev):
                reason = "a non-finite deviance"
            elif state.params is not None and _deviance_rose(dev, state.deviance):
                reason = "a higher deviance"
            else:
                return _state(problem, state.iteration + 1, params, eta, mu, step, dev,
                              working, normal, **made_by)
        if state.params is None:
            raise FitError(
                f"iteration 1: the first step from the data start gives {reason} through "
                f"the {link!r} link, and there are no coefficients to fall back on; "
                f"pass start= coefficients or choose another link"
            )
        step /= 2.0
        halvings += 1
        if halvings >= MAX_HALVINGS and eta_move is None:  # (one more pass over X)
            with np.errstate(all="ignore"):
                eta_move = float(np.max(np.abs(problem.X @ (target - state.params))))
        if halvings >= MAX_HALVINGS and not step * eta_move > NEGLIGIBLE_ETA_STEP:
            break  # (also when eta_move is NaN or inf: the target itself is unusable)
        if step == 0.0:
            break
    if reason == "a higher deviance":
        # No fraction of the step improves the deviance: the current state is optimal as
        # far as the deviance can tell.  Record a zero step (``fit`` stops there).
        return dataclasses.replace(state, iteration=state.iteration + 1, step_size=0.0,
                                   **made_by)
    raise FitError(
        f"iteration {state.iteration + 1}: after {halvings} step halvings (the last one moving "
        f"the linear predictor by at most {step * eta_move:.2g}) the step still gives "
        f"{reason} ({fam!r}); the model may be unsuitable for these data - try another "
        f"link or start= values"
    )


def irls_step(state: IterationState, problem: GLMProblem) -> IterationState:
    """One Fisher scoring step = one weighted least squares regression of z on X:
    target = (X' W X)^{-1} X' W z, then halving towards it while needed."""
    return _step_towards(state, problem, *_fisher_plan(state, problem))


def newton_step(state: IterationState, problem: GLMProblem) -> IterationState:
    """One Newton-Raphson step with the observed information (identical to
    ``irls_step`` for canonical links, up to rounding).  From the data start (iteration
    0, no coefficients to halve back to) it is taken only if its deviance is no higher
    than the larger of the starting deviance and the Fisher scoring step's deviance;
    otherwise the Fisher scoring step is taken (and so where the observed information
    is not positive definite; ``information`` of the new state says which was used)."""
    return _step_towards(state, problem, *_newton_plan(state, problem))


STEPS = {"irls": irls_step, "newton": newton_step}
CONVERGENCE_RULES = ("glmteach", "R")
# The glmteach rule stops when the estimated distance to the optimum is at most
# MARGIN * tol: the estimate is first order, and the yardstick (coefficients measured by
# their columns' root mean squares) is one choice among several - a tenth keeps the
# coefficients within tol of the optimum by plain relative measures too.
MARGIN = 0.1
# ... but never below what rounding allows: 64 machine epsilons (1.4e-14), so that a tol
# of 1e-15 asks for "as accurate as double precision gets" rather than the impossible.
ROUNDING_FLOOR = 64 * np.finfo(float).eps
ROUNDING_STALL = 1e-6  # see _stops_early


def check_controls(method: str, tol, maxiter, convergence: str = "glmteach") -> None:
    if method not in STEPS:
        raise ValueError(f"method: must be one of {sorted(STEPS)}, got {method!r}")
    if (isinstance(tol, bool | np.bool_) or not isinstance(tol, numbers.Real)
            or not np.isfinite(tol) or tol <= 0):
        raise ValueError(f"tol: must be a positive finite number, got {tol!r}")
    if isinstance(maxiter, bool) or not isinstance(maxiter, (int, np.integer)) or maxiter < 1:
        raise ValueError(f"maxiter: must be a whole number >= 1, got {maxiter!r}")
    if not isinstance(convergence, str) or convergence not in CONVERGENCE_RULES:
        raise ValueError(
            f"convergence: must be 'glmteach' (the default: estimated relative distance of "
            f"the coefficients to the optimum <= tol/10) or 'R' (R's glm.fit rule "
            f"|D - D_old| / (|D| + 0.1) < tol), got {convergence!r}"
        )


def threshold(tol: float) -> float:
    """The glmteach rule stops when the estimated distance is at most this."""
    return max(MARGIN * tol, ROUNDING_FLOOR)


def relative_size(step: np.ndarray, params: np.ndarray, scale: np.ndarray,
                   floor: float = 0.0) -> float:
    """max_j |step_j| s_j / max(max_j |params_j| s_j, floor), with s_j the root mean
    square of column j over the weighted rows (``GLMProblem.column_scale``): a change of
    the coefficients relative to the coefficients, each measured by how much it moves
    the linear predictor, so the same whatever the units of the columns, of y or of the
    weights.  ``floor`` (in units of eta) keeps coefficients that are all ~0 from making
    rounding error look large; with every coefficient and the floor 0 the change itself
    is returned."""
    change = float(np.max(np.abs(step) * scale))
    size = max(float(np.max(np.abs(params) * scale)), floor)
    return change / size if size > 0 else change


class _DistanceToOptimum:
    """The glmteach convergence rule: the estimated relative distance from a state's
    coefficients to the optimum (see the module docstring).

    The look-ahead step is M^{-1} U(beta), U the score at the new coefficients.  After a
    Fisher scoring step M is the expected information X'WX at the new coefficients:
    it and U come from one pass over the data that the next step (or, at the end, the
    covariance) reuses (``fisher_normal_equations``), so the look-ahead costs only a
    p x p solve.  After a Newton-Raphson step M is the observed information of that
    step (its solver is given) and U costs one pass X' u.  When M is the Hessian of the
    deviance (Newton-Raphson, or Fisher scoring with the canonical link) the look-ahead
    *is* beta-hat - beta to first order.  With Fisher scoring and another link it is
    shorter by the factor of the iteration's linear contraction, so once it is below
    tol the observed information is computed to confirm: the Newton step from there is
    the first-order distance.  The ratio of the two is kept and multiplies later
    look-aheads until the next confirmation.
    """

    def __init__(self, problem: GLMProblem):
        self.problem = problem
        self.scale = problem.column_scale
        self.correction = 1.0
        self.floor = None

    def _floor(self, state: IterationState) -> float:
        """1e-3 of the root mean square of mu g'(mu) at the first step: rounding mu by
        one unit in the last place moves eta by eps mu g'(mu), so coefficients that move
        eta by less than this floor are measured against it rather than against
        themselves (log link: 1e-3; identity link: 1e-3 of the size of y)."""
        if self.floor is None:
            mu, link, prior = state.mu, self.problem.link, self.problem.weights

            def part(rows: slice) -> np.ndarray:  # (sum w size^2, sum w) over usable rows
                size, w = mu[rows] * link.deriv(mu[rows]), prior[rows]
                ok = np.isfinite(size) & (w > 0)
                if not ok.all():  # (boolean indexing costs a pass: only when needed)
                    size, w = size[ok], w[ok]
                return np.array([np.sum(w * size ** 2), np.sum(w)])

            with np.errstate(all="ignore"):
                squares, total = add_parts(self.problem.by_row_parts(part))
                rms = np.sqrt(squares / total) if total > 0 else 0.0
            self.floor = 1e-3 * float(rms) if np.isfinite(rms) else 0.0
        return self.floor

    def __call__(self, state: IterationState, tol: float) -> float:
        problem = self.problem
        floor = self._floor(state)
        if state.information == "fisher":
            # M = X'WX at this state rather than at the one before: the same first-order
            # estimate, and the pass over X that forms it (with the score) is the one the
            # next step or the covariance needs anyway (``fisher_normal_equations``)
            _, _, score = fisher_normal_equations(state, problem)
            solve = _fisher_plan(state, problem)[1]
        else:
            z, W = working_vectors(state, problem)
            score = (W * (z - state.eta + problem.offset)) @ problem.X
            solve = state.solve
        look = relative_size(solve(score), state.params, self.scale, floor)
        if state.information == "newton" or problem.family.is_canonical:
            return look
        estimate = look * self.correction
        if not estimate <= threshold(tol):
            return estimate
        newton = _observed_information(state, problem)
        if newton is None:  # observed information not positive definite here
            return estimate
        distance = relative_size(newton[0] - state.params, state.params, self.scale, floor)
        self.correction = max(distance / look, 1.0) if look > 0 else 1.0
        return distance


def drifting_rows(problem: GLMProblem, previous: IterationState,
                  current: IterationState) -> np.ndarray:
    """Responses on the edge of the support (binomial 0 or 1, zero counts: see
    ``Family.edge_rows``) whose fitted mean is within DRIFT_EDGE of that edge and whose
    linear predictor the last step moved by more than DRIFT_STEP: the signature of
    separation, where the coefficients run off to infinity (a step of ~1 in eta per
    iteration) while at a genuine optimum the steps vanish."""
    if previous.params is None or current.params is None:
        return np.zeros(problem.n, dtype=bool)
    return separation_rows(problem.X, problem.y, problem.weights, problem.family,
                           current.mu, current.params - previous.params, drifting_only=True)


def separation_rows(X: np.ndarray, y: np.ndarray, weights: np.ndarray, family: Family,
                    mu: np.ndarray, step: np.ndarray | None,
                    drifting_only: bool = False) -> np.ndarray:
    """The rows of positive weight that show separation, of all n rows or of any block of
    them (a dask chunk): means numerically on an end of the support (within
    SEPARATION_EDGE, R's 10 machine epsilons), or drifting towards it - within
    DRIFT_EDGE of it, their linear predictor moved by more than DRIFT_STEP by the last
    step ``step`` of the coefficients (None: no last step).  ``drifting_only``: the
    drifting rows alone (``drifting_rows``).  Two reductions and no n-vector of booleans
    when no mean is near an end (``Family.mean_near_end``), the usual case."""
    out = np.zeros(len(y), dtype=bool)
    if not family.mean_near_end(mu, DRIFT_EDGE):
        return out
    used = weights > 0
    if not drifting_only:
        out |= used & family.edge_rows(y, mu, SEPARATION_EDGE)
    if step is not None:
        near = np.flatnonzero(used & family.edge_rows(y, mu, DRIFT_EDGE))
        out[near[np.abs(X[near] @ step) > DRIFT_STEP]] = True
    return out


def separation_message(family: Family, n_edge: int, n_used: int, params, names,
                       complete: bool) -> str:
    """The text of the PerfectSeparationWarning of a fit (in memory or on dask) in which
    ``n_edge`` of the ``n_used`` rows of positive weight are edge rows or drifting rows
    (``Family.edge_rows``, ``drifting_rows``); ``complete`` when all of them are, or the
    deviance has gone to 0.  Names the three largest coefficients."""
    params = np.asarray(params, dtype=float)
    order = np.argsort(-np.abs(params))
    largest = ", ".join(f"{names[j]} = {params[j]:.3g}" for j in order[:3])
    if len(family.perfect_prediction_ends) == 2:  # two ends: 0 and 1 of a probability
        what = (f"{n_edge} of {n_used} fitted probabilities are numerically 0 or 1: the "
                f"data look {'completely' if complete else 'quasi-completely'} separated")
        where = "the rows where they split the 0s from the 1s"
    else:
        what = (f"{n_edge} of {n_used} fitted means of zero counts are numerically 0 (or "
                f"still falling towards 0): the zeros are predicted perfectly (separated)")
        where = "the rows where they single out the zeros"
    return (f"{what}, so the maximum likelihood estimates do not exist (they grow without "
            f"bound). Look at the covariates with the largest coefficients ({largest}) and "
            f"at {where}.")


def _drifting(problem: GLMProblem, history: list[IterationState]) -> bool:
    return len(history) >= 2 and bool(drifting_rows(problem, history[-2], history[-1]).any())


def _stops_early(problem: GLMProblem, history: list[IterationState], tol: float) -> bool:
    """The two ways the glmteach rule ends before its criterion falls below tol.

    - Separation: the maximum likelihood estimates do not exist, the coefficients run
      off to infinity and the criterion never gets small.  The fit stops once rows are
      drifting (see ``drifting_rows``) and the deviance changes by less than tol/10
      times the total prior weight (the deviance's natural size, free of the scale of
      the weights) - the deviance has then reached its infimum for practical purposes.
    - Rounding: the criterion has not improved on its best in the last two steps, while the
      deviance changed by no more than rounding error (1e-13 relative) or the criterion
      is already below ROUNDING_STALL (1e-6: close enough that the iteration can only be
      in its final, steadily shrinking phase, so no progress means rounding error): the
      coefficients are as accurate as double precision allows here (a nearly collinear
      X, or coefficients tiny next to the linear predictor's rounding), and more steps
      only shuffle rounding error.
    """
    new, old = history[-1], history[-2]
    change = abs(new.deviance - old.deviance)
    if change <= MARGIN * tol * problem.total_weight and _drifting(problem, history):
        return True
    if len(history) < 4 or any(h.criterion is None for h in history[-3:]):
        return False
    criteria = [h.criterion for h in history[1:]]
    best_before = min(criteria[:-2])
    if not min(criteria[-2:]) >= 0.99 * best_before:  # a new best: still progressing
        return False
    flat = max(abs(history[-1].deviance - history[-3].deviance),
               abs(history[-2].deviance - history[-4].deviance))
    return flat <= 1e-13 * abs(new.deviance) or criteria[-1] <= ROUNDING_STALL


def _intercept_only_start(problem: GLMProblem):
    """Coefficients that reproduce the intercept-only fit: the intercept column (a
    constant column of X) gets g(mu-hat) / c, the others 0.  None when X has no constant
    column or the intercept-only model cannot be fitted."""
    used = problem.weights > 0
    X = problem.X[used]
    constant = [j for j in range(problem.p)
                if X[0, j] != 0 and np.all(X[:, j] == X[0, j])]
    if not constant:
        return None
    j = constant[0]
    mean = float(np.average(problem.y, weights=problem.weights))
    with np.errstate(all="ignore"):
        eta0 = float(problem.link.link(np.array([mean]))[0])
    if not np.isfinite(eta0):
        return None
    if np.any(problem.offset):
        null = GLMProblem(np.ones((problem.n, 1)), problem.y, problem.family,
                          weights=problem.weights, offset=problem.offset)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                eta0 = float(iterate(null, start=[eta0], tol=1e-10,
                                     keep_vectors=False)[0][-1].params[0])
        except (FitError, ValueError):
            return None
    start = np.zeros(problem.p)
    start[j] = eta0 / X[0, j]
    return start


def _start(problem: GLMProblem, start, step):
    """Iteration 0 and, from the data start, the first step: (state, first step or None).

    From the data start the first step has no coefficients to halve back to; when it
    fails (or the link is not defined at the starting means), the fit restarts from the
    intercept-only fit (``_intercept_only_start``) with a warning, and raises the
    original FitError only if that is impossible (issue 12, item 22)."""
    if start is not None:
        return initial_state(problem, start), None
    try:
        state = initial_state(problem)
        return state, step(state, problem)
    except FitError as exc:
        if "every response is 0" in str(exc):
            raise
        retry = _intercept_only_start(problem)
        if retry is None:
            raise
        try:
            state = initial_state(problem, retry)
        except ValueError:
            raise exc from None
        warnings.warn(
            f"the fit could not start from the data ({exc}); it restarted from the "
            f"intercept-only fit (every mean = {float(state.mu[0]):.4g}, the other "
            f"coefficients 0)", UserWarning, stacklevel=5)
        return state, None

def iterate(problem: GLMProblem, method: str = "irls", start=None, tol: float = 1e-8,
            maxiter: int = 100, keep_vectors: bool | None = None,
            convergence: str = "glmteach") -> tuple[list[IterationState], bool]:
    """(history, converged): ``initial_state`` followed by steps until the convergence
    rule holds or ``maxiter`` steps were taken.

    ``history[0]`` is the start, ``history[k]`` the state after k steps, each with the
    ``criterion`` the rule measured there.  The loop stops early without convergence
    when no fraction of a step lowers the deviance (a zero step, ``step_size == 0``),
    and as converged in the two cases of ``_stops_early``.  No warnings are issued here
    (``fit`` turns the history into a ``GLMResults`` and warns); the inputs are checked.
    """
    check_controls(method, tol, maxiter, convergence)
    step = STEPS[method]
    keep = problem.n <= KEEP_VECTORS_UP_TO if keep_vectors is None else keep_vectors
    state, first = _start(problem, start, step)
    history = [with_working(state, problem) if keep else state]
    converged = False
    distance = _DistanceToOptimum(problem) if convergence == "glmteach" else None
    for _ in range(maxiter):
        new = step(state, problem) if first is None else first
        first = None
        if distance is None:
            criterion = abs(new.deviance - state.deviance) / (abs(new.deviance) + 0.1)
        else:
            criterion = distance(new, tol)
        measured = dataclasses.replace(new, criterion=criterion, solve=None)
        measured._normal_equations.update(new._normal_equations)  # same w, z: same X'WX
        new = measured
        if not keep:
            history[-1] = history[-1].without_vectors()
        history.append(with_working(new, problem) if keep else new)
        state = new
        if (criterion <= threshold(tol)) if distance is not None else (criterion < tol):
            converged = True
            break
        if distance is not None and new.step_size == 0.0:
            break  # stalled: no fraction of the step lowers the deviance any more
        if distance is not None and _stops_early(problem, history, tol):
            converged = True
            break
    history[-1] = with_working(history[-1], problem)  # (the fit's results read them)
    return history, converged
