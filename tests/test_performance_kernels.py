"""The shortcuts that keep a large fit close to its floor of BLAS passes over X
(issue 16): each must give what the direct computation gives."""

from __future__ import annotations

import numpy as np
import pytest

import glmteach as gt
from glmteach import irls
from glmteach.linalg import weighted_normal_equations
from glmteach.problem import GLMProblem


def _data(family, n=400, seed=3):
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(n), rng.standard_normal((n, 3))])
    eta = 0.3 + X[:, 1:] @ np.array([0.4, -0.3, 0.2])
    if isinstance(family, gt.Binomial):
        trials = rng.integers(1, 6, n).astype(float)
        y = rng.binomial(trials.astype(int), 1 / (1 + np.exp(-eta))) / trials
        return X, y, trials
    y = rng.poisson(np.exp(eta)).astype(float)
    return X, y, rng.uniform(0.5, 2.0, n)


FIXED_SCALE = [gt.Poisson(), gt.Binomial(), gt.NegativeBinomial(alpha=0.8),
               gt.Binomial(link=gt.links.CLogLog())]


@pytest.mark.parametrize("family", FIXED_SCALE, ids=lambda f: f"{f.name}-{f.link!r}")
@pytest.mark.parametrize("freq", [False, True])
def test_llf_from_the_deviance_equals_the_direct_sum(family, freq):
    """llf(mu) = llf(y) - D(mu) / (2 phi), used at every iterate, against the sum of
    the log-densities, at means far from and at the optimum, with zero weights too."""
    X, y, w = _data(family)
    w = w.copy()
    w[:7] = 0.0
    f = np.random.default_rng(1).integers(0, 4, len(y)).astype(float) if freq else None
    problem = GLMProblem(X, y, family, weights=w, freq_weights=f)
    res = gt.fit(X, y, family=family, weights=w, freq_weights=f)
    far = np.clip(res.fittedvalues * np.exp(0.4 * np.sin(np.arange(len(y)))), 1e-3,
                  None if not isinstance(family, gt.Binomial) else 1 - 1e-3)
    for mu in (np.asarray(res.fittedvalues), far):
        direct = problem._loglike_at(mu, problem.llf_scale(mu))
        shortcut = problem.loglike(mu, problem.deviance(mu))
        assert shortcut == pytest.approx(direct, rel=1e-12, abs=1e-9)
    assert res.llf == pytest.approx(problem._loglike_at(
        np.asarray(res.fittedvalues), 1.0), rel=1e-12)


def test_llf_of_an_estimated_scale_is_the_direct_sum():
    X, y, w = _data(gt.Poisson())
    problem = GLMProblem(X, y + 0.5, gt.Gamma(link=gt.links.Log()), weights=w)
    mu = np.full(len(y), float(np.mean(y + 0.5)))
    assert problem.loglike(mu, problem.deviance(mu)) == problem._loglike_at(
        mu, problem.llf_scale(mu))


def test_fisher_normal_equations_are_formed_once_per_state_and_match(monkeypatch):
    """X'WX, X'Wz and the score X'W(z - eta + offset) of a state from one pass, reused
    by the look-ahead, the next step and the covariance: a fit of K steps forms them
    K + 1 times, each in the pass that makes the state (the data start's too; the rank
    check uses the first of them: no pass of its own), and they equal the direct
    products."""
    X, y, w = _data(gt.Poisson())
    offset = np.linspace(-0.2, 0.2, len(y))
    calls = []
    original, trial = GLMProblem.weighted_normal_equations, irls._fisher_trial

    def counting(self, weights, rhs=None):
        calls.append("pass")
        return original(self, weights, rhs)

    def counting_trial(problem, params, start_mu=None):  # formed with the new point
        out = trial(problem, params, start_mu)
        calls.append("start" if params is None else "step")
        return out

    monkeypatch.setattr(GLMProblem, "weighted_normal_equations", counting)
    monkeypatch.setattr(irls, "_fisher_trial", counting_trial)
    res = gt.fit(X, y, family=gt.Poisson(), weights=w, offset=offset)
    res.bse  # noqa: B018 - the covariance uses the final state's X'WX
    assert len(calls) == res.n_iter + 1
    assert calls == ["start"] + ["step"] * res.n_iter  # (no step was halved here)
    final = res.history[-1]
    gram, xt_wz, score = irls.fisher_normal_equations(final, res.problem)
    np.testing.assert_allclose(gram, (X * final.w[:, None]).T @ X, rtol=1e-12)
    np.testing.assert_allclose(xt_wz, X.T @ (final.w * final.z), rtol=1e-12)
    np.testing.assert_allclose(score, X.T @ (w * (y - final.mu)), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(res.cov_params(), np.linalg.inv(gram), rtol=1e-10)


def test_rank_check_from_the_first_normal_equations_agrees_with_the_exact_check(monkeypatch):
    """``GLMProblem.check_rank`` passes from the first X'WX only when its bound proves
    full rank; a near-aliased column (1 - R^2 above the tolerance 1e-12 but within
    the bound's margin) is left to the exact pass over X, which accepts it, and
    an aliased one is rejected by it."""
    rng = np.random.default_rng(3)
    n = 2000
    x = rng.standard_normal(n)
    y = rng.poisson(np.exp(0.3 + 0.2 * x)).astype(float)
    exact = []
    original = GLMProblem._check_rank_exactly
    monkeypatch.setattr(GLMProblem, "_check_rank_exactly",
                        lambda self: (exact.append(1), original(self))[1])
    gt.fit(np.column_stack([np.ones(n), x]), y, family=gt.Poisson())
    assert exact == []  # well conditioned: proved from X'WX, no pass of its own
    # a column with 1 - R^2 between the tolerance and the bound's margin b / a times it
    # (W = w mu at the data start, so b / a = max mu_0 / min mu_0)
    mu0 = gt.Poisson().starting_mu(y)
    pivot = 1e-12 * np.sqrt(mu0.max() / mu0.min())
    base = np.column_stack([np.ones(n), x])
    other = rng.standard_normal(n)
    other -= base @ np.linalg.lstsq(base, other, rcond=None)[0]  # orthogonal to 1 and x
    other *= np.sqrt(pivot / (1 - pivot) * (x @ x) / (other @ other))
    X = np.column_stack([base, x + other])
    problem = GLMProblem(X, y, gt.Poisson())
    irls.initial_state(problem)
    assert exact == [1] and problem.rank_checked
    with pytest.raises(ValueError, match=r"aliased column\(s\): x2"):
        irls.initial_state(GLMProblem(np.column_stack([X[:, :2], 2 * x]), y, gt.Poisson()))


def test_a_replaced_state_does_not_inherit_normal_equations_of_other_weights():
    X, y, w = _data(gt.Poisson())
    problem = GLMProblem(X, y, gt.Poisson())
    state = irls.initial_state(problem)
    gram = irls.fisher_normal_equations(state, problem)[0]
    other = irls.dataclasses.replace(state, w=state.w * 2.0)
    np.testing.assert_allclose(irls.fisher_normal_equations(other, problem)[0], 2 * gram,
                               rtol=1e-12)


def test_weighted_normal_equations_with_two_right_hand_sides():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((5000, 4))
    w = rng.uniform(0, 2, 5000)
    rhs = rng.standard_normal((5000, 2))
    gram, xt = weighted_normal_equations(X, w, rhs)
    np.testing.assert_allclose(xt, X.T @ rhs, rtol=1e-12)
    _, xt0 = weighted_normal_equations(X, w, rhs[:, 0])
    np.testing.assert_allclose(xt[:, 0], xt0, rtol=1e-13)
    # stored by columns (how a fit passes them: rhs.T contiguous) - the same numbers
    gram_f, xt_f = weighted_normal_equations(X, w, np.asfortranarray(rhs))
    np.testing.assert_array_equal(gram_f, gram)
    np.testing.assert_array_equal(xt_f, xt)


def test_blas_runs_on_one_thread_only_inside_a_large_pass_with_few_columns():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from glmteach.linalg import SINGLE_THREAD_MAX_P, SINGLE_THREAD_MIN_SIZE, threads_for_pass

    def blas_threads():
        return [lib["num_threads"] for lib in threadpoolctl.threadpool_info()
                if lib["user_api"] == "blas"]

    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        before = blas_threads()
        with threads_for_pass(SINGLE_THREAD_MIN_SIZE // 20, 20) as threads:
            assert set(blas_threads()) == {1} and threads >= 1
        assert blas_threads() == before  # restored
        with threads_for_pass(100, 20) as threads:  # small: left alone, one thread
            assert blas_threads() == before and threads == 1
        with threads_for_pass(10**7, SINGLE_THREAD_MAX_P + 1) as threads:  # many columns
            assert blas_threads() == before and threads == 1


@pytest.mark.parametrize("signed", [False, True])
def test_the_pass_gives_the_same_numbers_whatever_the_number_of_threads(signed):
    from glmteach.linalg import PART_BLOCKS, _block_rows

    rng = np.random.default_rng(5)
    p = 7
    n = 3 * PART_BLOCKS * _block_rows(p) + 123  # four parts, the last one short
    X = rng.standard_normal((n, p))
    w = rng.uniform(0.0, 2.0, n) * (rng.choice([-1.0, 1.0], n) if signed else 1.0)
    rhs = rng.standard_normal((2, n)).T
    one = weighted_normal_equations(X, w, rhs, threads=1)
    for threads in (2, 3, 8):
        many = weighted_normal_equations(X, w, rhs, threads=threads)
        np.testing.assert_array_equal(many[0], one[0])
        np.testing.assert_array_equal(many[1], one[1])
    np.testing.assert_allclose(one[0], X.T @ (w[:, None] * X), rtol=1e-11, atol=1e-9)
    np.testing.assert_allclose(one[1], X.T @ rhs, rtol=1e-11, atol=1e-9)


def test_a_block_without_rows_gives_zero_sums():
    from glmteach.linalg import matvec, weighted_column_sums_of_squares

    X = np.empty((0, 3))
    gram, xt = weighted_normal_equations(X, np.empty(0), np.empty(0))
    np.testing.assert_array_equal(gram, np.zeros((3, 3)))
    np.testing.assert_array_equal(xt, np.zeros(3))
    assert matvec(X, np.ones(3)).shape == (0,)
    np.testing.assert_array_equal(weighted_column_sums_of_squares(X, np.empty(0)), np.zeros(3))
    np.testing.assert_array_equal(weighted_column_sums_of_squares(X, None), np.zeros(3))


def test_column_sums_of_squares_without_weights_are_those_of_unit_weights():
    from glmteach.linalg import PART_BLOCKS, _block_rows, weighted_column_sums_of_squares

    rng = np.random.default_rng(18)
    n = 2 * PART_BLOCKS * _block_rows(4) + 77  # several parts, the last block short
    X = rng.standard_normal((n, 4))
    unweighted = weighted_column_sums_of_squares(X, None, threads=2)
    np.testing.assert_array_equal(unweighted, weighted_column_sums_of_squares(X, np.ones(n)))
    np.testing.assert_allclose(unweighted, np.sum(X ** 2, axis=0), rtol=1e-12)


def test_matvec_is_x_times_v_whatever_the_number_of_threads():
    from glmteach.linalg import PART_BLOCKS, _block_rows, matvec

    rng = np.random.default_rng(6)
    p = 5
    n = 2 * PART_BLOCKS * _block_rows(p) + 7
    X, v = rng.standard_normal((n, p)), rng.standard_normal(p)
    one = matvec(X, v, threads=1)
    np.testing.assert_allclose(one, X @ v, rtol=1e-14, atol=1e-14)
    for threads in (2, 5):
        np.testing.assert_array_equal(matvec(X, v, threads=threads), one)
    problem = GLMProblem(X, rng.poisson(1.0, n).astype(float), gt.Poisson(),
                         offset=np.full(n, 0.25))
    np.testing.assert_array_equal(problem.linear_predictor(v), one + 0.25)


def test_contains_all_is_contains_and_finite_for_every_edge():
    from glmteach.families import Interval

    values = [0.0, 1.0, -1.0, 1e-300, np.inf, -np.inf, np.nan, 0.5]
    intervals = [Interval(0.0, np.inf), Interval(0.0, 1.0, True, True), Interval(0.0, 1.0),
                 Interval(), Interval(-np.inf, 0.0, upper_closed=True)]
    rng = np.random.default_rng(1)
    for interval in intervals:
        for _ in range(200):
            x = rng.choice(values, size=rng.integers(1, 5))
            expected = bool(np.all(np.isfinite(x)) and np.all(interval.contains(x)))
            assert interval.contains_all(x) == expected, (interval, x)
        assert interval.contains_all(np.array([]))


def test_no_offset_and_unit_weights_shortcuts_give_the_same_numbers():
    X, y, _ = _data(gt.Poisson())
    eta = X @ np.array([0.2, 0.1, -0.1, 0.05])
    mu = np.exp(eta)
    family = gt.Poisson()
    full = irls.working_response_and_weights(family, y, np.ones_like(y), np.zeros_like(y),
                                             eta, mu)
    short = irls.working_response_and_weights(family, y, None, None, eta, mu)
    for a, b in zip(full, short, strict=True):
        np.testing.assert_array_equal(a, b)
    problem = GLMProblem(X, y, family)
    assert not problem.has_offset and problem.unit_weights
    shifted = GLMProblem(X, y, family, offset=np.full(len(y), 0.3), weights=np.full(len(y), 2.0))
    assert shifted.has_offset and not shifted.unit_weights


def _large_poisson(seed: int = 7, parts: int = 3):
    """A Poisson problem of a few parts of element-wise rows, the last one short."""
    from glmteach.linalg import VECTOR_PART_ROWS

    rng = np.random.default_rng(seed)
    n = parts * VECTOR_PART_ROWS + 321
    X = np.column_stack([np.ones(n), rng.standard_normal((n, 2))])
    exposure = rng.uniform(0.5, 2.0, n)
    y = rng.poisson(exposure * np.exp(0.2 + X[:, 1:] @ [0.3, -0.2])).astype(float)
    return X, y, exposure


def test_element_wise_parts_give_the_same_fit_whatever_the_number_of_threads(monkeypatch):
    import importlib

    from glmteach import linalg

    fit_problem = importlib.import_module("glmteach.fit").fit_problem

    X, y, exposure = _large_poisson()
    weights = np.random.default_rng(8).uniform(0.5, 1.5, y.size)
    fits = {}
    for threads in (1, 2, 3):
        monkeypatch.setattr(linalg, "threads_for_rows", lambda n, t=threads: t)
        problem = GLMProblem(X, y, gt.Poisson(), weights=weights, exposure=exposure)
        assert problem.row_threads == threads
        fits[threads] = fit_problem(problem)
    for threads in (2, 3):  # bit for bit: the parts depend on n only
        np.testing.assert_array_equal(fits[threads].params, fits[1].params)
        np.testing.assert_array_equal(fits[threads].bse, fits[1].bse)
        assert fits[threads].deviance == fits[1].deviance
        np.testing.assert_array_equal(fits[threads].history[-1].w, fits[1].history[-1].w)


def test_element_wise_parts_agree_with_whole_vector_formulas():
    from glmteach.irls import working_response_and_weights

    X, y, exposure = _large_poisson(seed=9)
    y = y + 0.5  # positive responses for the gamma family
    fam = gt.Gamma(link=gt.links.Log())
    weights = np.linspace(0.5, 2.0, y.size)
    problem = GLMProblem(X, y, fam, weights=weights, offset=np.log(exposure))
    eta = problem.linear_predictor(np.array([0.5, 0.1, -0.1]))
    mu = problem.mean(eta)
    np.testing.assert_array_equal(mu, np.exp(eta))
    assert problem.deviance(mu) == pytest.approx(fam.deviance(y, mu, weights), rel=1e-13)
    z, w = irls._working_response_and_weights_of(problem, eta, mu)
    z_all, w_all = working_response_and_weights(fam, y, weights, problem.offset, eta, mu)
    np.testing.assert_array_equal(z, z_all)
    np.testing.assert_array_equal(w, w_all)


def test_log_link_derivative_from_the_mean_is_the_exponential():
    eta = np.linspace(-30.0, 30.0, 101)
    for link in (gt.links.Log(), gt.links.Logit(), gt.links.Probit(), gt.links.CLogLog(),
                 gt.links.Identity(), gt.links.Inverse(), gt.links.Power(0.5)):
        with np.errstate(all="ignore"):
            np.testing.assert_array_equal(link.inverse_deriv_at(eta, link.inverse(eta)),
                                          link.inverse_deriv(eta))


def test_llf_is_computed_only_when_asked_for():
    X, y, _ = _large_poisson(seed=10, parts=1)
    res = gt.fit(X, y, family=gt.Poisson())
    problem = res.problem
    assert problem._saturated_llf is None  # the fit itself never needed ln y!
    assert res.history[0].mu is None and res.history[0].llf is None  # (a large fit)
    direct = float(np.sum(gt.Poisson().loglike_obs(y, res.fittedvalues)))
    assert res.llf == pytest.approx(direct, rel=1e-12)
    assert res.history[-1].llf is None  # (a large problem: computed when asked, above)
    assert res.aic == pytest.approx(-2 * direct + 2 * X.shape[1], rel=1e-12)
    assert problem._saturated_llf is not None


def test_x_beyond_the_square_of_the_largest_float_is_still_finite():
    rng = np.random.default_rng(11)
    X = np.column_stack([np.ones(50), rng.standard_normal(50)])
    big = X.copy()
    big[:, 1] *= 1e200  # squares overflow; X is finite all the same
    GLMProblem(big, rng.poisson(2.0, 50).astype(float), gt.Poisson())
    X[3, 1] = np.nan
    with pytest.raises(ValueError, match="X: must not contain NaN"):
        GLMProblem(X, np.ones(50), gt.Poisson())


@pytest.mark.parametrize("threads", [1, 2])
def test_parts_on_threads_keep_the_callers_floating_point_error_settings(threads):
    import warnings

    from glmteach.linalg import VECTOR_PART_ROWS, map_vector_parts

    big = np.full(3 * VECTOR_PART_ROWS, 1000.0)

    def part(rows):
        return float(np.exp(big[rows]).sum())

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="ignore"):
            assert map_vector_parts(part, big.size, threads) == [np.inf] * 3
    with np.errstate(over="raise"), pytest.raises(FloatingPointError):
        map_vector_parts(part, big.size, threads)


def _weighted_large_poisson(seed: int) -> GLMProblem:
    X, y, exposure = _large_poisson(seed=seed)
    weights = np.random.default_rng(seed + 1).uniform(0.5, 1.5, y.size)
    return GLMProblem(X, y, gt.Poisson(), weights=weights, exposure=exposure)


def _assert_the_numbers_of_the_separate_passes(state, problem, eta, mu):
    """``state``, made in one pass, against the element-wise functions at (eta, mu) and a
    ``fisher_normal_equations`` formed apart (on a copy without the cached sums);
    returns the separate normal equations."""
    import dataclasses

    assert "fisher" in state._normal_equations  # (formed by the one pass)
    np.testing.assert_array_equal(state.eta, eta)
    np.testing.assert_array_equal(state.mu, mu)
    assert state.deviance == problem.deviance(mu)
    z, w = irls._working_response_and_weights_of(problem, eta, mu)
    filled = irls.with_working(state, problem)  # (a large problem's steps leave them out)
    np.testing.assert_array_equal(filled.z, z)
    np.testing.assert_array_equal(filled.w, w)
    separate = irls.fisher_normal_equations(dataclasses.replace(filled), problem)
    for fused, apart in zip(irls.fisher_normal_equations(state, problem), separate,
                            strict=True):
        np.testing.assert_array_equal(fused, apart)
    return separate


def test_a_fisher_step_in_one_pass_gives_the_numbers_of_the_separate_passes():
    problem = _weighted_large_poisson(seed=12)
    state = irls.irls_step(irls.initial_state(problem), problem)
    assert state.step_size == 1.0
    eta = problem.linear_predictor(state.params)
    _assert_the_numbers_of_the_separate_passes(state, problem, eta, problem.mean(eta))


def test_the_data_start_in_one_pass_gives_the_numbers_of_the_separate_passes():
    """Iteration 0 (mu from ``starting_mu``, eta = g(mu)) is made in the same one pass
    as a Fisher step; its numbers are those of the element-wise functions and of
    ``fisher_normal_equations``, which at the data start forms X'(Wz) directly."""
    problem = _weighted_large_poisson(seed=15)
    state = irls.initial_state(problem)
    assert state.params is None
    mu = problem.family.starting_mu(problem.y, problem.weights)
    separate = _assert_the_numbers_of_the_separate_passes(state, problem,
                                                          problem.link.link(mu), mu)
    z, w = irls.working_vectors(state, problem)
    np.testing.assert_allclose(separate[1], problem.X.T @ (w * z), rtol=1e-12)


def test_a_large_problem_keeps_z_and_w_out_of_its_steps_but_not_out_of_its_results():
    """Above KEEP_VECTORS_UP_TO rows a step leaves z and W out of the state (the next
    step needs only the sums of its pass); ``working_vectors`` gives them, ``iterate``
    fills in the last state, and ``keep_vectors=True`` every state - the same numbers."""
    X, y, exposure = _large_poisson(seed=18)
    problem = GLMProblem(X, y, gt.Poisson(), exposure=exposure)
    assert problem.n > irls.KEEP_VECTORS_UP_TO
    start = irls.initial_state(problem)
    step = irls.irls_step(start, problem)
    assert start.z is None and start.w is None and step.z is None and step.w is None
    z, w = irls.working_vectors(step, problem)
    expected = irls.working_response_and_weights(problem.family, y, None, problem.offset,
                                                 step.eta, step.mu)
    np.testing.assert_allclose(z, expected[0], rtol=1e-14)
    np.testing.assert_allclose(w, expected[1], rtol=1e-14)
    lean = gt.fit(X, y, family=gt.Poisson(), exposure=exposure)
    kept = gt.fit(X, y, family=gt.Poisson(), exposure=exposure, keep_vectors=True)
    assert lean.history[-2].z is None and lean.history[-1].z is not None
    assert all(state.z is not None and state.w is not None for state in kept.history)
    np.testing.assert_array_equal(lean.history[-1].w, kept.history[-1].w)
    np.testing.assert_array_equal(lean.params, kept.params)
    np.testing.assert_array_equal(lean.bse, kept.bse)


def test_a_large_data_start_takes_the_weight_range_of_the_rank_check_part_by_part(
        monkeypatch):
    """Above KEEP_VECTORS_UP_TO rows the data start keeps no W: its pass takes the range
    of W / w over the rows of positive weight part by part, the range of the whole W,
    and the rank check is then proved from X'WX without a pass of its own."""
    X, y, exposure = _large_poisson(seed=19)
    weights = np.random.default_rng(19).uniform(0.5, 2.0, len(y))
    weights[::7] = 0.0  # (rows of weight 0 are left out of the range)
    exact = []
    original = GLMProblem._check_rank_exactly
    monkeypatch.setattr(GLMProblem, "_check_rank_exactly",
                        lambda self: (exact.append(1), original(self))[1])
    problem = GLMProblem(X, y, gt.Poisson(), weights=weights, exposure=exposure)
    state = irls.initial_state(problem)
    assert state.w is None and exact == [] and problem.rank_checked
    W = irls.working_vectors(state, problem)[1]
    used = weights > 0
    expected = (np.min(W[used] / weights[used]), np.max(W[used] / weights[used]))
    assert state._normal_equations["weight range"] == pytest.approx(expected, rel=1e-15)
    assert problem.working_weight_range(W) == pytest.approx(expected, rel=1e-15)


def test_x_wz_at_coefficients_is_the_information_times_beta_plus_the_score():
    """At coefficients beta, z = X beta + (z - eta + offset), so the pass forms only X'WX
    and the score U, and X'Wz = X'WX beta + U: the direct product, to rounding."""
    X, y, exposure = _large_poisson(seed=17)
    problem = GLMProblem(X, y, gt.Poisson(), exposure=exposure)
    state = irls.irls_step(irls.initial_state(problem), problem)
    gram, xt_wz, score = irls.fisher_normal_equations(state, problem)
    z, w = irls.working_vectors(state, problem)
    np.testing.assert_allclose(xt_wz, X.T @ (w * z), rtol=1e-11)
    np.testing.assert_allclose(score, X.T @ (w * (z - state.eta + problem.offset)),
                               rtol=1e-9, atol=1e-9 * np.max(np.abs(xt_wz)))


@pytest.mark.parametrize("family", [gt.Binomial(), gt.Poisson()])
def test_edge_rows_shortcut_agrees_with_the_row_by_row_rule(family):
    rng = np.random.default_rng(14)
    y = (rng.random(200) < 0.5).astype(float)
    for low, high in ((0.2, 0.8), (1e-5, 0.8), (0.2, 1 - 1e-5), (1e-3, 0.999)):
        mu = np.concatenate([[low, high], rng.uniform(low, high, 198)])
        for edge in (1e-3, 1e-4):
            expected = np.zeros(200, dtype=bool)
            for end in family.perfect_prediction_ends:
                expected |= (y == end) & (np.abs(mu - end) < edge)
            np.testing.assert_array_equal(family.edge_rows(y, mu, edge), expected)
