"""The fitting algorithm: Newton vs IRLS, the fit loop, safe steps, separation,
non-convergence and rank deficiency (issues 2 and 3)."""

from __future__ import annotations

import dataclasses
import re
import warnings

import numpy as np
import pandas as pd
import pytest

import glmteach as gt
from glmteach import links as L


def simulate(fam: gt.Family, beta, n=200, seed=0, scale=0.2):
    """X = [1, x1, x2] with x ~ U(0, 1); y drawn from the family at g^{-1}(X beta)."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(n), rng.uniform(0, 1, (n, 2))])
    mu = fam.link.inverse(X @ np.asarray(beta, dtype=float))
    if isinstance(fam, gt.Binomial):
        trials = rng.integers(1, 10, n).astype(float)
        return X, rng.binomial(trials.astype(int), mu) / trials, trials
    return X, fam.sample(mu, scale, rng), None


def fit(X, y, fam, trials=None, **options):
    return gt.fit(X, y, family=fam, weights=trials, **options)


def central_difference_gradient(f, x, h=1e-6):
    x = np.asarray(x, dtype=float)
    grad = np.empty_like(x)
    for j in range(x.size):
        e = np.zeros_like(x)
        e[j] = h * max(1.0, abs(x[j]))
        grad[j] = (f(x + e) - f(x - e)) / (2 * e[j])
    return grad


NON_CANONICAL = [
    (gt.Binomial(L.Probit()), [-0.5, 1.0, -1.0]),
    (gt.Binomial(L.CLogLog()), [-0.5, 1.0, -1.0]),
    (gt.Binomial(L.Log()), [-1.5, 0.5, 0.3]),
    (gt.Poisson(L.Identity()), [2.0, 1.0, 0.5]),
    (gt.Poisson(L.Power(0.5)), [1.5, 0.5, 0.3]),
    (gt.Gaussian(L.Log()), [0.5, 0.5, -0.3]),
    (gt.Gamma(L.Log()), [0.5, 0.5, -0.3]),
    (gt.Gamma(L.Identity()), [2.0, 1.0, 0.5]),
    (gt.InverseGaussian(L.Log()), [0.5, 0.5, -0.3]),
    (gt.NegativeBinomial(L.Identity(), alpha=0.5), [4.0, 2.0, 1.0]),
    (gt.Tweedie(L.Log(), power=1.5), [0.5, 0.5, -0.3]),
]
CANONICAL = [
    (gt.Gaussian(), [2.0, 1.0, 0.5]),
    (gt.Binomial(), [-0.5, 1.0, -1.0]),
    (gt.Poisson(), [0.5, 0.5, -0.3]),
    (gt.Gamma(), [0.5, 0.3, 0.2]),
    (gt.InverseGaussian(), [0.5, 0.3, 0.2]),
    (gt.NegativeBinomial(L.NegativeBinomialLink(0.5), alpha=0.5), [-1.0, -0.3, -0.2]),
    (gt.Tweedie(L.Power(-0.5), power=1.5), [0.5, 0.3, 0.2]),
]


def _ids(case):
    return repr(case[0]) if isinstance(case, tuple) else repr(case)


@pytest.mark.parametrize(("fam", "beta"), NON_CANONICAL, ids=lambda v: repr(v)[:45])
def test_newton_and_irls_reach_the_same_optimum(fam, beta):
    X, y, trials = simulate(fam, beta)
    # Fisher scoring converges only linearly for these links; tol=1e-15 takes it to the
    # optimum to ~1e-8 (the deviance rule stops on ~sqrt(tol) in the coefficients)
    irls = fit(X, y, fam, trials, tol=1e-15, maxiter=200)
    newton = fit(X, y, fam, trials, method="newton", tol=1e-12)
    assert irls.converged and newton.converged
    np.testing.assert_allclose(newton.params, irls.params, rtol=1e-7, atol=1e-9)
    assert newton.deviance == pytest.approx(irls.deviance, rel=1e-11)
    # ... and it is the optimum: the deviance is stationary (finite differences)
    problem = newton.problem

    def deviance(b):
        return problem.deviance(fam.link.inverse(X @ b))

    grad = central_difference_gradient(deviance, np.asarray(newton.params))
    assert np.max(np.abs(grad)) < 1e-6 * (1 + newton.deviance)


@pytest.mark.parametrize(("fam", "beta"), CANONICAL, ids=lambda v: repr(v)[:45])
def test_newton_and_irls_iterates_coincide_for_canonical_links(fam, beta):
    """With the canonical link the observed and expected information are equal
    (section 13.9.4), so every Newton iterate is the IRLS iterate."""
    X, y, trials = simulate(fam, beta)
    problem = gt.GLMProblem(X, y, fam, weights=trials)
    a = b = gt.initial_state(problem)
    for _ in range(6):
        a, b = gt.irls_step(a, problem), gt.newton_step(b, problem)
        np.testing.assert_allclose(b.params, a.params, rtol=1e-10, atol=1e-12)
        assert b.deviance == pytest.approx(a.deviance, rel=1e-12)
    res_i = fit(X, y, fam, trials, tol=1e-10)
    res_n = fit(X, y, fam, trials, tol=1e-10, method="newton")
    assert res_i.n_iter == res_n.n_iter
    for si, sn in zip(res_i.history[1:], res_n.history[1:], strict=True):
        np.testing.assert_allclose(sn.params, si.params, rtol=1e-10, atol=1e-12)


# -- the loop is nothing but steps ------------------------------------------------------------

def test_fit_is_initial_state_followed_by_irls_steps():
    fam = gt.Poisson(L.Identity())
    X, y, _ = simulate(fam, [2.0, 1.0, 0.5])
    res = fit(X, y, fam, tol=1e-10)
    problem = gt.GLMProblem(X, y, fam)
    state = gt.initial_state(problem)
    assert state.iteration == 0 and state.params is None
    for recorded in res.history[1:]:
        state = gt.irls_step(state, problem)
        assert state.iteration == recorded.iteration
        np.testing.assert_array_equal(state.params, recorded.params)
        assert state.deviance == recorded.deviance
    np.testing.assert_array_equal(res.params, state.params)
    assert res.n_iter == len(res.history) - 1


@pytest.mark.parametrize("step", [gt.irls_step, gt.newton_step], ids=lambda f: f.__name__)
def test_steps_are_pure(step):
    fam = gt.Gamma(L.Log())
    X, y, _ = simulate(fam, [0.5, 0.5, -0.3])
    problem = gt.GLMProblem(X, y, fam)
    state = gt.irls_step(gt.initial_state(problem), problem)
    frozen = {f.name: np.copy(getattr(state, f.name)) for f in dataclasses.fields(state)}
    X_copy, y_copy = problem.X.copy(), problem.y.copy()
    first = step(state, problem)
    second = step(state, problem)
    for name, value in frozen.items():
        np.testing.assert_array_equal(getattr(state, name), value)
    np.testing.assert_array_equal(problem.X, X_copy)
    np.testing.assert_array_equal(problem.y, y_copy)
    np.testing.assert_array_equal(first.params, second.params)
    assert first.iteration == state.iteration + 1


@pytest.mark.parametrize(("fam", "beta"), CANONICAL[:4] + NON_CANONICAL[:4],
                         ids=lambda v: repr(v)[:45])
def test_restart_from_the_optimum_converges_in_one_iteration(fam, beta):
    X, y, trials = simulate(fam, beta)
    res = fit(X, y, fam, trials, tol=1e-10)
    again = fit(X, y, fam, trials, tol=1e-10, start=res.params)
    assert again.converged and again.n_iter == 1
    np.testing.assert_allclose(again.params, res.params, rtol=1e-6, atol=1e-9)


def test_zero_weight_rows_are_the_same_as_dropped_rows():
    fam = gt.Gamma(L.Log())
    X, y, _ = simulate(fam, [0.5, 0.5, -0.3])
    w = np.ones(len(y))
    w[::7] = 0.0
    full = fit(X, y, fam, w, tol=1e-12)
    kept = w > 0
    dropped = gt.fit(X[kept], y[kept], family=fam, tol=1e-12)
    np.testing.assert_allclose(full.params, dropped.params, rtol=1e-9)
    assert full.deviance == pytest.approx(dropped.deviance, rel=1e-10)
    assert full.pearson_chi2 == pytest.approx(dropped.pearson_chi2, rel=1e-10)


# -- safe steps: step-halving ------------------------------------------------------------------

def _weighted_lstsq(X, z, w):
    """The WLS solution of z on X with weights w, computed with numpy (independently of
    glmteach's solver)."""
    root = np.sqrt(w)
    return np.linalg.lstsq(X * root[:, None], z * root, rcond=None)[0]


def _full_step_target(state, X):
    return _weighted_lstsq(X, state.z, state.w)


def _logistic_data(n=50, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    X = np.column_stack([np.ones(n), x])
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-(0.3 + x)))).astype(float)
    return X, y


def test_step_is_halved_when_the_deviance_would_rise():
    X, y = _logistic_data()
    fam = gt.Binomial()
    res = gt.fit(X, y, family=fam, start=[0.0, 3.0], tol=1e-12)
    before, after = res.history[0], res.history[1]
    target = _full_step_target(before, X)
    full_deviance = fam.deviance(y, fam.link.inverse(X @ target))
    assert np.isfinite(full_deviance) and full_deviance > before.deviance  # the full step
    assert after.step_size == 0.5
    np.testing.assert_allclose(after.params, before.params + 0.5 * (target - before.params),
                               rtol=1e-10)
    assert after.deviance < before.deviance
    deviances = [s.deviance for s in res.history]
    # never up, beyond the rounding error that the fit's halving rule forgives (1e-12
    # relative: at the optimum the last step may move the deviance by an ulp either way)
    assert all(b - a <= 1e-12 * abs(a) for a, b in zip(deviances, deviances[1:], strict=False))
    reference = gt.fit(X, y, family=fam, tol=1e-12)
    np.testing.assert_allclose(res.params, reference.params, rtol=1e-7)


def test_step_is_halved_when_the_deviance_would_be_infinite():
    """Probit from a steep start: the full step sends fitted probabilities to exactly 0
    or 1 next to observations of the other kind (infinite deviance)."""
    X, y = _logistic_data()
    fam = gt.Binomial(L.Probit())
    res = gt.fit(X, y, family=fam, start=[0.0, 3.0], tol=1e-12)
    before, after = res.history[0], res.history[1]
    target = _full_step_target(before, X)
    with np.errstate(all="ignore"):
        assert not np.isfinite(fam.deviance(y, fam.link.inverse(X @ target)))
    assert after.step_size < 1 and np.isfinite(after.deviance)
    assert res.converged
    np.testing.assert_allclose(res.params, gt.fit(X, y, family=fam, tol=1e-12).params,
                               rtol=1e-6)


def _gamma_growth_data(seed=0, n=60):
    """Means growing like e^{4x}: the inverse-link line 1/mu = b0 + b1 x that IRLS aims
    at from the data start crosses zero, i.e. gives negative means."""
    rng = np.random.default_rng(seed)
    x = np.linspace(0, 1, n)
    y = rng.gamma(20.0, np.exp(4 * x) / 20.0)
    return np.column_stack([np.ones(n), x]), y


def test_step_is_halved_when_means_leave_the_mean_space():
    X, y = _gamma_growth_data()
    fam = gt.Gamma()  # canonical inverse link
    res = gt.fit(X, y, family=fam, start=[1 / y.mean(), 0.0], tol=1e-12)
    halved = [s for s in res.history if s.step_size < 1]
    assert halved, "expected at least one halved step"
    k = halved[0].iteration
    target = _full_step_target(res.history[k - 1], X)
    assert np.any(X @ target <= 0)  # the full step: negative (or infinite) means
    for state in res.history:
        assert np.all(state.mu > 0)
    assert res.converged and np.all(res.fittedvalues > 0)
    # an interior optimum: the deviance is stationary there
    grad = central_difference_gradient(
        lambda b: fam.deviance(y, 1.0 / (X @ b)), np.asarray(res.params), h=1e-7)
    assert np.max(np.abs(grad * res.params)) < 1e-5 * res.deviance


@pytest.mark.parametrize("seed", range(4))
def test_gamma_inverse_link_never_returns_negative_means(seed):
    """The classic failure (statsmodels returns negative fitted means with
    converged=True on these data): glmteach either stops with a FitError that says
    where and why, or returns means inside the mean space."""
    X, y = _gamma_growth_data(seed)
    for start in [None, [1 / y.mean(), 0.0], [0.5, -0.45]]:
        try:
            res = gt.fit(X, y, family=gt.Gamma(), start=start)
        except gt.FitError as err:
            assert start is None
            assert re.search(r"iteration 1\b", str(err))
            assert "outside the Gamma mean space" in str(err) and "start=" in str(err)
        else:
            assert np.all(res.fittedvalues > 0) and np.all(np.isfinite(res.params))


def test_fit_error_when_no_halving_recovers():
    """Binomial identity link with a mean on the boundary (mu = 0 at x = 0): the weighted
    least squares target pushes it below 0, and so does every fraction of the step."""
    x = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    y = np.array([0.0, 0.1, 0.3, 0.5, 0.7])
    X = np.column_stack([np.ones(5), x])
    with pytest.raises(gt.FitError) as err:
        gt.fit(X, y, family=gt.Binomial(L.Identity()), weights=np.full(5, 10.0),
               start=[0.0, 0.2])
    message = str(err.value)
    assert re.match(r"iteration 1: after \d+ step halvings", message)
    assert "outside the Binomial mean space" in message
    halvings = int(re.search(r"after (\d+) step halvings", message).group(1))
    assert halvings >= 30


def test_fit_error_reports_the_iteration_where_it_happened():
    """The same boundary trap reached through a public step from a later iteration."""
    x = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    y = np.array([0.0, 0.1, 0.3, 0.5, 0.7])
    X = np.column_stack([np.ones(5), x])
    problem = gt.GLMProblem(X, y, gt.Binomial(L.Identity()), weights=np.full(5, 10.0))
    state = dataclasses.replace(gt.initial_state(problem, start=[0.0, 0.2]), iteration=6)
    with pytest.raises(gt.FitError, match=r"^iteration 7: after \d+ step halvings"):
        gt.irls_step(state, problem)


@pytest.mark.parametrize("start", [[-700.0, 0.0], [-30.0, 0.0], [5.0, 0.0], [3.0, 3.0]])
def test_far_starts_with_vanishing_weights_recover(start):
    """Starts where d mu / d eta is ~1e-60..1e-300 make the full step astronomically long
    (z ~ 1 / (d mu / d eta)); halving continues until the step is short enough instead of
    giving up after a fixed count, and the fit reaches the same optimum."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, 60)
    X = np.column_stack([np.ones(60), x])
    y = (rng.uniform(size=60) < 1 - np.exp(-np.exp(0.2 + x))).astype(float)
    fam = gt.Binomial(L.CLogLog())
    reference = gt.fit(X, y, family=fam, tol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning, no separation warning
        res = gt.fit(X, y, family=fam, start=start, tol=1e-12)
    assert res.converged
    np.testing.assert_allclose(res.params, reference.params, rtol=1e-6)
    for state in res.history[1:]:
        assert np.all(np.isfinite(state.w)) and np.all(np.isfinite(state.z))


def test_data_start_failure_restarts_from_the_intercept_only_fit():
    """The first step from the data start leaves the mean space (R: "no valid set of
    coefficients has been found: please supply starting values"); glmteach restarts
    from the intercept-only fit, says so, and reaches the optimum a start= would."""
    X, y = _gamma_growth_data()
    with pytest.warns(UserWarning, match=r"^the fit could not start from the data "
                                         r"\(iteration 1: the first step .*restarted from "
                                         r"the intercept-only fit"):
        res = gt.fit(X, y, family=gt.Gamma())
    reference = gt.fit(X, y, family=gt.Gamma(), start=[1 / y.mean(), 0.0])
    assert res.converged and reference.converged
    np.testing.assert_allclose(res.params, reference.params, rtol=1e-8)


def test_data_start_failure_without_an_intercept_is_a_fit_error():
    """Without a constant column there is no intercept-only fit to restart from."""
    X, y = _gamma_growth_data()
    X = np.column_stack([1.0 + X[:, 1], X[:, 1]])
    with pytest.raises(gt.FitError, match=r"^iteration 1: the first step from the data "
                                          r"start gives means outside the Gamma mean "
                                          r"space.*pass start= coefficients"):
        gt.fit(X, y, family=gt.Gamma())


# -- separation ---------------------------------------------------------------------------

PERFECT = (np.array([-3, -2, -1, -0.5, 0.5, 1, 2, 3.0]), np.array([0, 0, 0, 0, 1, 1, 1, 1.0]))
QUASI = (np.array([-3, -2, -1, 0, 0, 1, 2, 3.0]), np.array([0, 0, 0, 0, 1, 1, 1, 1.0]))
RESULT_FIELDS = ["params", "bse", "pvalues", "deviance", "null_deviance", "llf", "aic",
                 "bic", "pearson_chi2", "fittedvalues", "resid_response", "resid_pearson",
                 "resid_deviance", "resid_working", "resid_anscombe"]


def _design(x):
    return pd.DataFrame({"const": np.ones_like(x), "dose": x})


@pytest.mark.parametrize("link", [L.Logit(), L.Probit(), L.CLogLog()], ids=repr)
@pytest.mark.parametrize(("data", "kind"), [(PERFECT, "completely"),
                                             (QUASI, "quasi-completely")],
                         ids=["perfect", "quasi"])
def test_separation_warns_and_leaves_no_nan(link, data, kind):
    x, y = data
    with pytest.warns(gt.PerfectSeparationWarning) as record:
        res = gt.fit(_design(x), y, family=gt.Binomial(link))
    message = str(record[-1].message)
    assert f"look {kind} separated" in message
    assert "dose = " in message  # points at the covariate whose coefficient grows
    assert "maximum likelihood estimates do not exist" in message
    for name in RESULT_FIELDS:
        assert np.all(np.isfinite(np.asarray(getattr(res, name), dtype=float))), name
    assert res.deviance < 1e-6 or kind == "quasi-completely"
    if isinstance(link, L.Logit):
        # working residuals of separated rows tend to -1 (y = 0) and +1 (y = 1)
        at_edge = (res.fittedvalues < 1e-8) | (res.fittedvalues > 1 - 1e-8)
        np.testing.assert_allclose(np.asarray(res.resid_working)[at_edge],
                                   np.where(y[at_edge] > 0, 1.0, -1.0), atol=1e-6)


def test_separation_of_one_row_among_many_is_detected_by_drift():
    """One separated row among 35 (found by hypothesis): the deviance rule stops while
    its fitted probability is still ~2e-8, above the 'numerically 0' edge; the last step
    still moved its linear predictor by ~1, which gives the separation away."""
    x = np.r_[0.0, np.ones(34)]
    y = np.r_[0.0, np.zeros(33), 1.0]
    with pytest.warns(gt.PerfectSeparationWarning, match="quasi-completely separated"):
        res = gt.fit(np.column_stack([np.ones(35), x]), y, family=gt.Binomial())
    assert res.fittedvalues[0] < 1e-3


@pytest.mark.parametrize("fam", [gt.Poisson(), gt.NegativeBinomial(alpha=0.5),
                                 gt.Tweedie(power=1.5)], ids=repr)
def test_zero_counts_singled_out_by_a_covariate_warn(fam):
    """Separation for count models: every count in group B is 0, so the group B mean
    goes to 0 and its coefficient to minus infinity."""
    group_b = np.repeat([0.0, 1.0], 10)
    y = np.where(group_b == 1, 0.0, np.arange(20) % 4 + 1.0)
    X = pd.DataFrame({"const": np.ones(20), "group_b": group_b})
    with pytest.warns(gt.PerfectSeparationWarning, match=r"fitted means of zero counts "
                                                         r"are numerically 0.*group_b = "):
        res = gt.fit(X, y, family=fam)
    assert res.params["group_b"] < -5
    for name in ("params", "bse", "deviance", "llf", "resid_pearson", "resid_anscombe"):
        assert np.all(np.isfinite(np.asarray(getattr(res, name), dtype=float))), name


def test_all_zero_counts_is_a_fit_error_that_says_why():
    X = np.column_stack([np.ones(8), np.arange(8.0)])
    with pytest.raises(gt.FitError, match=r"every response is 0, so the Poisson means "
                                          r"would have to be 0"):
        gt.fit(X, np.zeros(8), family=gt.Poisson())


def test_exact_fit_warns_instead_of_silent_nan():
    X = np.column_stack([np.ones(8), np.arange(8.0)])
    with pytest.warns(UserWarning, match="fits every observation exactly"):
        res = gt.fit(X, 2.0 + 3.0 * np.arange(8.0), family=gt.Gaussian())
    np.testing.assert_allclose(res.params, [2.0, 3.0], atol=1e-12)
    assert np.all(np.isfinite(res.resid_anscombe)) and np.all(np.isfinite(res.resid_pearson))


def test_summary_columns_never_run_together():
    x, y = PERFECT
    with pytest.warns(gt.PerfectSeparationWarning):
        res = gt.fit(_design(x), y, family=gt.Binomial())
    rows = [line for line in res.summary().splitlines() if line.startswith(("const", "dose"))]
    assert len(rows) == 2
    for line in rows:
        assert len(line.split()) == 7, line  # name + 6 numbers, each with a blank before


def test_newton_first_step_from_the_data_start_is_never_worse_than_fisher():
    """From the data start there are no coefficients to halve back to, and the observed
    information there can be far off (found by hypothesis: gamma, log link, deviance
    47 -> 1e41 in the first Newton step, then 99 iterations): the first Newton step is
    taken only when its deviance is no higher than both the starting deviance and the
    Fisher step's."""
    x = np.full(18, -0.6163)
    x[1], x[11] = 0.2602, 0.0
    X = np.column_stack([np.ones(18), x])
    y = np.array([12.646, 0.070933, 11.879, 20.086, 3.6596, 3.3436, 0.062826, 1.0, 11.512,
                  15.548, 0.36788, 0.026422, 1.0, 1.0513, 40.837, 1.0, 28.999, 1.0])
    w = np.array([2.7026, 1.5, 2.4685, 2.5497, 2.1148, 1.2355, 1.2937, 1.5, 0.5, 0.5, 0.5,
                  1.3498, 0.92326, 1.2976, 1.7363, 2.6288, 2.0, 1.1021])
    fam = gt.Gamma(L.Log())
    problem = gt.GLMProblem(X, y, fam, weights=w)
    start = gt.initial_state(problem)
    first_newton = gt.newton_step(start, problem)
    assert first_newton.deviance <= max(start.deviance, gt.irls_step(start, problem).deviance)
    newton = gt.fit(X, y, family=fam, weights=w, method="newton", tol=1e-12, maxiter=300)
    irls = gt.fit(X, y, family=fam, weights=w, tol=1e-12, maxiter=300)
    assert max(s.deviance for s in newton.history) < 10 * start.deviance
    assert newton.n_iter < 20
    assert newton.deviance == pytest.approx(irls.deviance, rel=1e-10)


def test_no_separation_warning_for_overlapping_data():
    X, y = _logistic_data()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gt.fit(X, y, family=gt.Binomial())


def test_separation_warning_with_binomial_counts():
    x = np.array([-2.0, -1.0, 1.0, 2.0])
    counts = np.array([[0, 5], [0, 3], [4, 0], [6, 0]], dtype=float)
    with pytest.warns(gt.PerfectSeparationWarning, match="completely separated"):
        gt.fit(np.column_stack([np.ones(4), x]), counts, family=gt.Binomial())


# -- non-convergence ---------------------------------------------------------------------

def test_maxiter_reached_warns_and_reports_not_converged():
    fam = gt.Gamma(L.Identity())
    X, y, _ = simulate(fam, [2.0, 1.0, 0.5], scale=0.5)
    with pytest.warns(gt.ConvergenceWarning, match=r"did not converge in maxiter=2"):
        res = gt.fit(X, y, family=fam, maxiter=2)
    assert res.converged is False
    assert res.n_iter == 2 and len(res.history) == 3
    assert "NOT converged" in res.summary()


def test_convergence_warning_points_at_the_callers_line_and_obeys_userwarning_filters():
    """The warning names the line of the user's gt.fit call (not glmteach's internals),
    and a filter on UserWarning catches it (it is glmteach's subclass of UserWarning)."""
    fam = gt.Gamma(L.Identity())
    X, y, _ = simulate(fam, [2.0, 1.0, 0.5], scale=0.5)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gt.fit(X, y, family=fam, maxiter=2)
    [record] = [c for c in caught if c.category is gt.ConvergenceWarning]
    assert record.filename == __file__
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        with pytest.raises(gt.ConvergenceWarning, match="did not converge in maxiter=2"):
            gt.fit(X, y, family=fam, maxiter=2)


# -- the zero step: no fraction of the step lowers the deviance ------------------------

def _poisson_optimum():
    rng = np.random.default_rng(5)
    X = np.column_stack([np.ones(80), rng.normal(size=80)])
    y = rng.poisson(np.exp(0.4 + 0.3 * X[:, 1])).astype(float)
    problem = gt.GLMProblem(X, y, gt.Poisson())
    return problem, gt.fit(X, y, family=gt.Poisson(), tol=1e-12)


@pytest.mark.parametrize("step", [gt.irls_step, gt.newton_step], ids=lambda f: f.__name__)
def test_zero_step_when_no_fraction_of_the_step_lowers_the_deviance(step):
    """At the optimum, with a recorded deviance 1 below the true one, every fraction of
    the step 'raises' the deviance: the step halves until it moves eta by < 1e-10 and
    then records a zero step - same coefficients, step_size 0, the next iteration."""
    problem, res = _poisson_optimum()
    state = dataclasses.replace(res.history[-1], deviance=res.deviance - 1.0)
    new = step(state, problem)
    assert new.step_size == 0.0
    assert new.iteration == state.iteration + 1
    np.testing.assert_array_equal(new.params, state.params)
    np.testing.assert_array_equal(new.mu, state.mu)
    assert new.deviance == state.deviance
    assert new.information in ("fisher", "newton") and new.solve is not None


def test_fit_stops_at_a_zero_step_and_warns(monkeypatch):
    """The loop calls the public steps (irls.STEPS): a step that can only record zero
    steps after the first (its recorded deviance lowered by 1) makes ``iterate`` stop
    there, not converged, and ``fit`` warn that no fraction lowers the deviance."""
    from glmteach import irls

    public = irls.STEPS["irls"]

    def stalling(state, problem):
        if state.iteration >= 1:
            state = dataclasses.replace(state, deviance=state.deviance - 1.0)
        return public(state, problem)

    problem, _ = _poisson_optimum()
    monkeypatch.setitem(irls.STEPS, "irls", stalling)
    with pytest.warns(gt.ConvergenceWarning, match="no fraction of the next step lowers"):
        res = gt.fit(problem.X, problem.y, family=gt.Poisson())
    assert res.converged is False
    assert res.history[-1].step_size == 0.0 and res.n_iter == 2
    history, converged = irls.iterate(problem)
    assert not converged and history[-1].step_size == 0.0


def test_converged_fit_does_not_warn():
    fam = gt.Poisson()
    X, y, _ = simulate(fam, [0.5, 0.5, -0.3])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = gt.fit(X, y, family=fam)
    assert res.converged


# -- rank deficiency -----------------------------------------------------------------------

def _frame(n=30, seed=1):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"const": np.ones(n), "x": rng.normal(size=n),
                         "z": rng.normal(size=n)}), rng.poisson(2.0, n).astype(float)


def test_duplicate_column_is_named():
    X, y = _frame()
    X["x_again"] = X["x"]
    with pytest.raises(ValueError, match=r"aliased column\(s\): x_again\b"):
        gt.fit(X, y, family=gt.Poisson())


def test_dummy_variable_trap_is_named():
    X, y = _frame()
    group = np.arange(len(y)) % 3
    for level in range(3):
        X[f"g{level}"] = (group == level).astype(float)
    with pytest.raises(ValueError, match=r"rank 5 < 6 columns.*aliased column\(s\): g2"):
        gt.fit(X, y, family=gt.Poisson())


def test_all_zero_column_is_named():
    X, y = _frame()
    X["empty"] = 0.0
    with pytest.raises(ValueError, match=r"aliased column\(s\): empty"):
        gt.fit(X, y, family=gt.Poisson())


def test_linear_combination_is_named_and_unlabelled_columns_get_x_names():
    X, y = _frame()
    M = np.column_stack([X.to_numpy(), 2 * X["x"] - 3 * X["z"]])
    with pytest.raises(ValueError, match=r"aliased column\(s\): x3"):
        gt.fit(M, y, family=gt.Poisson())


def test_nearly_collinear_but_full_rank_design_fits():
    X, y = _frame()
    X["x_plus"] = X["x"] + 1e-4 * np.random.default_rng(5).normal(size=len(y))
    res = gt.fit(X, y, family=gt.Poisson())
    assert res.converged and np.all(np.isfinite(res.bse))


def test_tweedie_without_density_warns_that_llf_is_nan():
    """Tweedie with 2 < p != 3 fits (deviance-based) but has no density here: say so."""
    rng = np.random.default_rng(11)
    X = np.column_stack([np.ones(200), rng.normal(size=200)])
    y = rng.gamma(2.0, np.exp(0.3 * X[:, 1]) / 2.0)
    with pytest.warns(UserWarning, match=r"no series implemented here for power p = 2.5"):
        res = gt.fit(X, y, family=gt.Tweedie(power=2.5))
    assert res.converged
    assert np.all(np.isfinite(res.params)) and np.all(np.isfinite(res.bse))
    assert np.isnan(res.llf) and np.isnan(res.aic) and np.isnan(res.bic)


# -- the weighted normal equations -------------------------------------------------------


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("n", [7, 4099, 20_001])  # below, just above, and many blocks
@pytest.mark.parametrize("signed", [False, True])
def test_weighted_normal_equations_equal_the_textbook_products(order, n, signed):
    rng = np.random.default_rng(n)
    X = np.asarray(rng.standard_normal((n, 6)), order=order)
    problem = gt.GLMProblem(X, rng.poisson(2.0, n).astype(float), gt.Poisson())
    w = rng.uniform(0.0, 3.0, n) * (rng.choice([-1.0, 1.0], n) if signed else 1.0)
    rhs = rng.standard_normal(n)
    gram, xt_rhs = problem.weighted_normal_equations(w, rhs)
    np.testing.assert_allclose(gram, X.T @ (w[:, None] * X), rtol=1e-12, atol=1e-12 * n)
    np.testing.assert_allclose(xt_rhs, X.T @ rhs, rtol=1e-12, atol=1e-12 * n)
    assert np.array_equal(gram, gram.T)
    np.testing.assert_array_equal(problem.weighted_normal_equations(w), gram)


def test_weighted_normal_equations_allocate_far_less_than_a_copy_of_x():
    import tracemalloc

    rng = np.random.default_rng(0)
    n, p = 200_000, 10
    X = rng.standard_normal((n, p))
    problem = gt.GLMProblem(X, rng.poisson(2.0, n).astype(float), gt.Poisson())
    w, rhs = rng.uniform(0.5, 2.0, n), rng.standard_normal(n)
    tracemalloc.start()
    try:
        problem.weighted_normal_equations(w, rhs)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # sqrt(w) (one n-vector) and one block of rows; a copy of X would be 16 MB
    assert peak < X.nbytes / 4, f"peak {peak / 1e6:.1f} MB for X of {X.nbytes / 1e6:.0f} MB"


def test_weighted_least_squares_falls_back_to_qr_when_cholesky_fails():
    """A column that only zero-weight rows use makes X'WX singular: Cholesky fails and
    the pivoted-QR fallback still returns a finite solution of the normal equations."""
    from glmteach.linalg import solve_weighted_least_squares

    rng = np.random.default_rng(3)
    n = 40
    X = np.column_stack([np.ones(n), rng.normal(size=n), np.r_[np.zeros(n - 5), np.ones(5)]])
    problem = gt.GLMProblem(X, rng.poisson(2.0, n).astype(float), gt.Poisson())
    w = np.r_[rng.uniform(0.5, 2.0, n - 5), np.zeros(5)]
    z = rng.normal(size=n)
    beta, _ = solve_weighted_least_squares(problem.X, w, w * z)
    assert np.all(np.isfinite(beta))
    np.testing.assert_allclose(X.T @ (w * (z - X @ beta)), 0.0, atol=1e-10)
    kept = w > 0
    np.testing.assert_allclose(beta[:2], _weighted_lstsq(X[kept, :2], z[kept], w[kept]))
