"""The exponential family table (Table 13.8 of the seed chapter) checked numerically.

Nothing here restates a formula of ``glmteach.families``: every identity is checked by
an independent computation - summing a mass function or integrating a density
(``scipy.integrate.quad``), scipy.stats log-densities, finite differences, a Monte
Carlo sample, or the compound Poisson-gamma series of the Tweedie distribution.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from numerics import central_difference
from scipy import integrate, special, stats

import glmteach as gt
from glmteach import links as L


def log_density(fam, y, mu, scale, weights):
    return np.asarray(fam.loglike_obs(np.asarray(y, dtype=float), mu, scale, weights))


# -- moments by summation / integration -------------------------------------------------
# Each case: (family, mean, scale phi, prior weight w).  The dispersion of the
# observation is phi / w; for the binomial w is the number of trials n (y = k / n).

DISCRETE_CASES = [
    *[(gt.Poisson(), mu, 1.0, 1.0) for mu in (0.4, 3.0, 25.0)],
    *[(gt.Binomial(), mu, 1.0, n) for mu in (0.1, 0.5, 0.85) for n in (1, 7, 25)],
    *[(gt.NegativeBinomial(alpha=a), mu, 1.0, 1.0) for a in (0.2, 1.5) for mu in (0.5, 4, 30)],
]
CONTINUOUS_CASES = [
    *[(gt.Gaussian(), mu, phi, w) for mu in (-1.5, 0.3, 4.0) for phi, w in ((0.5, 1), (2, 2.5))],
    *[(gt.Gamma(), mu, phi, w) for mu in (0.7, 3.0) for phi, w in ((0.3, 1), (1.0, 1), (0.8, 2))],
    *[(gt.InverseGaussian(), mu, phi, w) for mu in (0.5, 2.0) for phi, w in ((0.2, 1), (1, 1.5))],
]
TWEEDIE_CASES = [
    (gt.Tweedie(power=p), mu, phi, w)
    for p in (1.3, 1.5, 1.8) for mu in (0.5, 2.0) for phi, w in ((0.5, 1), (1.5, 1), (1, 3))
]


def _id(case):
    fam, mu, phi, w = case
    return f"{fam!r}-mu={mu:g}-phi={phi:g}-w={w:g}"


def _discrete_support(fam, mu, w):
    if isinstance(fam, gt.Binomial):
        return np.arange(int(w) + 1) / w
    if isinstance(fam, gt.Poisson):
        return np.arange(int(mu + 40 * np.sqrt(mu) + 60), dtype=float)
    r = 1.0 / fam.alpha
    top = stats.nbinom.isf(1e-20, r, r / (r + mu))  # far beyond any visible mass
    return np.arange(int(top) + 10, dtype=float)


@pytest.mark.parametrize("case", DISCRETE_CASES, ids=_id)
def test_discrete_mass_sums_to_one_with_mean_b_prime_and_variance_phi_b_double_prime(case):
    fam, mu, phi, w = case
    y = _discrete_support(fam, mu, w)
    pmf = np.exp(log_density(fam, y, mu, phi, w))
    theta = fam.theta(mu)
    dispersion = phi / w  # binomial: 1 / n (y is a proportion)
    mean = np.sum(y * pmf)
    assert np.sum(pmf) == pytest.approx(1.0, rel=1e-11)
    assert mean == pytest.approx(float(fam.b_prime(theta)), rel=1e-10)
    assert mean == pytest.approx(mu, rel=1e-10)
    variance = np.sum((y - mean) ** 2 * pmf)
    assert variance == pytest.approx(dispersion * float(fam.b_double_prime(theta)), rel=1e-9)


def _integrate(f, lower, upper, breaks):
    points = [lower, *breaks, upper]
    return sum(integrate.quad(f, a, b, limit=200, epsabs=1e-13, epsrel=1e-12)[0]
               for a, b in zip(points[:-1], points[1:], strict=True))


@pytest.mark.parametrize("case", CONTINUOUS_CASES, ids=_id)
def test_density_integrates_to_one_with_mean_b_prime_and_variance_phi_b_double_prime(case):
    fam, mu, phi, w = case
    sd = np.sqrt(phi / w * float(fam.variance(mu)))

    def f(y):
        return float(np.exp(log_density(fam, np.array([y]), mu, phi, w))[0])

    if isinstance(fam, gt.Gaussian):
        lower, upper, breaks = -np.inf, np.inf, [mu - 5 * sd, mu, mu + 5 * sd]
    else:
        lower, upper, breaks = 0.0, np.inf, [mu / 4, mu, mu + 5 * sd]
    theta = fam.theta(mu)
    total = _integrate(f, lower, upper, breaks)
    mean = _integrate(lambda y: y * f(y), lower, upper, breaks)
    variance = _integrate(lambda y: (y - mu) ** 2 * f(y), lower, upper, breaks)
    assert total == pytest.approx(1.0, rel=1e-9)
    assert mean == pytest.approx(float(fam.b_prime(theta)), rel=1e-9)
    assert mean == pytest.approx(mu, rel=1e-9)
    assert variance == pytest.approx(phi / w * float(fam.b_double_prime(theta)), rel=1e-8)


@pytest.mark.parametrize("case", TWEEDIE_CASES, ids=_id)
def test_tweedie_point_mass_plus_density_is_one_with_tweedie_moments(case):
    """1 < p < 2: P(y = 0) = e^{-lambda}, lambda = mu^{2-p} / (phi (2-p)), plus the
    integral of the density over y > 0 is 1; E y = mu and Var y = phi mu^p (13.12)."""
    fam, mu, phi, w = case
    p = fam.power
    disp = phi / w
    lam = mu ** (2 - p) / (disp * (2 - p))
    mass_at_zero = float(np.exp(log_density(fam, np.array([0.0]), mu, phi, w))[0])
    assert mass_at_zero == pytest.approx(np.exp(-lam), rel=1e-12)

    def f(y):
        return float(np.exp(log_density(fam, np.array([y]), mu, phi, w))[0])

    breaks = [mu / 8, mu, mu + 6 * np.sqrt(disp * mu**p)]
    total = mass_at_zero + _integrate(f, 0.0, np.inf, breaks)
    mean = _integrate(lambda y: y * f(y), 0.0, np.inf, breaks)
    variance = mass_at_zero * mu**2 + _integrate(lambda y: (y - mu) ** 2 * f(y), 0.0,
                                                 np.inf, breaks)
    theta = fam.theta(mu)
    assert total == pytest.approx(1.0, rel=1e-8)
    assert mean == pytest.approx(float(fam.b_prime(theta)), rel=1e-8)
    assert variance == pytest.approx(disp * float(fam.b_double_prime(theta)), rel=1e-7)
    assert variance == pytest.approx(disp * mu**p, rel=1e-7)


@pytest.mark.parametrize("power", [1.2, 1.5, 1.8])
def test_tweedie_density_equals_compound_poisson_gamma_series(power):
    """Section 13.6: y = sum of N ~ Poisson(lambda) gamma(alpha, rate gamma) claims, so
    f(y) = sum_N Poisson(N; lambda) Gamma(y; N alpha, gamma) for y > 0 - computed here
    with scipy.stats, independently of the Wright Bessel series used by glmteach.

    S(y, phi) comes from scipy.special.log_wright_bessel, whose own error reaches ~5e-6
    (absolute, in the log) at isolated arguments - p = 1.2, x ~ 1.8e5, checked against the
    series summed in log space; elsewhere for 1.1 <= p <= 1.9 it is below 1e-9.  Hence
    rtol 1e-5 here and p = 1.3, 1.5, 1.8 in the tighter moment test above."""
    fam = gt.Tweedie(power=power)
    mu, phi = 1.7, 0.6
    lam = mu ** (2 - power) / (phi * (2 - power))
    shape = (2 - power) / (power - 1)
    rate = 1.0 / (phi * (power - 1) * mu ** (power - 1))
    y = np.geomspace(0.01, 12.0, 40)
    counts = np.arange(1, 400)[:, None]
    log_terms = (stats.poisson.logpmf(counts, lam)
                 + stats.gamma.logpdf(y, counts * shape, scale=1.0 / rate))
    series = special.logsumexp(log_terms, axis=0)
    # rtol: scipy's log_wright_bessel is accurate to ~5e-6 at worst (see above)
    np.testing.assert_allclose(log_density(fam, y, mu, phi, 1.0), series, rtol=1e-5,
                               atol=1e-5)


# -- loglike_obs against scipy.stats ----------------------------------------------------

RNG = np.random.default_rng(20240513)


def test_gaussian_loglike_equals_scipy_norm():
    y, mu = RNG.normal(size=9), RNG.normal(size=9)
    phi, w = 1.7, RNG.uniform(0.5, 3, 9)
    np.testing.assert_allclose(gt.Gaussian().loglike_obs(y, mu, phi, w),
                               stats.norm.logpdf(y, mu, np.sqrt(phi / w)), rtol=1e-12)


@pytest.mark.parametrize("max_trials", [1, 40])  # Bernoulli rows take a shortcut
def test_binomial_loglike_equals_scipy_binom(max_trials):
    n = RNG.integers(1, max_trials + 1, 12).astype(float)
    k = np.floor(RNG.uniform(0, 1, 12) * (n + 1))
    mu = RNG.uniform(0.02, 0.98, 12)
    np.testing.assert_allclose(gt.Binomial().loglike_obs(k / n, mu, 1.0, n),
                               stats.binom.logpmf(k, n, mu), rtol=1e-12)


def test_poisson_loglike_equals_scipy_poisson_times_weight():
    y, mu = RNG.poisson(4.0, 10).astype(float), RNG.uniform(0.5, 9, 10)
    np.testing.assert_allclose(gt.Poisson().loglike_obs(y, mu), stats.poisson.logpmf(y, mu),
                               rtol=1e-12)
    # a prior weight multiplies the log-likelihood of the observation (R, statsmodels)
    w = RNG.uniform(0.5, 3, 10)
    np.testing.assert_allclose(gt.Poisson().loglike_obs(y, mu, 1.0, w),
                               w * stats.poisson.logpmf(y, mu), rtol=1e-12)


@pytest.mark.parametrize("alpha", [0.1, 0.8, 3.0])
def test_negative_binomial_loglike_equals_scipy_nbinom(alpha):
    y, mu = RNG.poisson(5.0, 10).astype(float), RNG.uniform(0.3, 12, 10)
    r = 1.0 / alpha  # scipy: n = r successes, p = r / (r + mu) = 1 / (1 + alpha mu)
    np.testing.assert_allclose(gt.NegativeBinomial(alpha=alpha).loglike_obs(y, mu),
                               stats.nbinom.logpmf(y, r, r / (r + mu)), rtol=1e-11)


def test_gamma_loglike_equals_scipy_gamma():
    y, mu = RNG.gamma(2.0, 1.5, 10), RNG.uniform(0.5, 6, 10)
    phi, w = 0.45, RNG.uniform(0.5, 3, 10)
    shape = w / phi  # mean mu, variance (phi / w) mu^2
    np.testing.assert_allclose(gt.Gamma().loglike_obs(y, mu, phi, w),
                               stats.gamma.logpdf(y, shape, scale=mu / shape), rtol=1e-12)


def test_inverse_gaussian_loglike_equals_scipy_invgauss():
    y, mu = RNG.wald(1.5, 2.0, 10), RNG.uniform(0.5, 4, 10)
    phi, w = 0.7, RNG.uniform(0.5, 3, 10)
    lam = w / phi  # scipy: invgauss(mu / lam, scale=lam) has mean mu and shape lam
    np.testing.assert_allclose(gt.InverseGaussian().loglike_obs(y, mu, phi, w),
                               stats.invgauss.logpdf(y, mu / lam, scale=lam), rtol=1e-12)


def test_tweedie_special_powers_equal_scipy_distributions():
    y = RNG.gamma(2.0, 1.0, 8)
    mu = RNG.uniform(0.5, 3, 8)
    phi = 0.6
    np.testing.assert_allclose(gt.Tweedie(power=0).loglike_obs(y, mu, phi),
                               stats.norm.logpdf(y, mu, np.sqrt(phi)), rtol=1e-12)
    np.testing.assert_allclose(gt.Tweedie(power=2).loglike_obs(y, mu, phi),
                               stats.gamma.logpdf(y, 1 / phi, scale=mu * phi), rtol=1e-12)
    np.testing.assert_allclose(gt.Tweedie(power=3).loglike_obs(y, mu, phi),
                               stats.invgauss.logpdf(y, mu * phi, scale=1 / phi), rtol=1e-12)
    counts = np.arange(8.0)
    np.testing.assert_allclose(gt.Tweedie(power=1).loglike_obs(counts, mu, 1.0),
                               stats.poisson.logpmf(counts, mu), rtol=1e-12)


# -- loglike_obs is the exponential family form (y theta - b) / phi + S --------------------

_Y_POS, _MU_POS = np.array([0.2, 1.0, 5.0]), np.array([0.5, 1.5, 4.0])
_Y_TW, _MU_TW = np.array([0.0, 0.4, 1.3, 6.0]), np.array([0.7, 1.1, 2.0, 4.5])
_FREE_SCALE = [(1.0, 1.0), (0.6, 1.0), (1.4, 2.5)]  # (phi, prior weight w)
FORM_CASES = [
    # families with phi = 1 fixed; binomial: y = k / 4 with w = 4 trials
    (gt.Binomial(), np.array([0.0, 0.25, 0.75, 1.0]), np.array([0.2, 0.3, 0.5, 0.9]), 1.0, 4.0),
    (gt.Poisson(), np.array([0.0, 1.0, 7.0]), np.array([0.5, 2.0, 6.0]), 1.0, 1.0),
    (gt.NegativeBinomial(alpha=0.6), np.array([0.0, 3.0, 12.0]), np.array([1.0, 2.5, 9.0]),
     1.0, 1.0),
    *[(fam, y, mu, phi, w) for phi, w in _FREE_SCALE for fam, y, mu in [
        (gt.Gaussian(), np.array([-2.0, 0.1, 3.5]), np.array([-1.0, 0.4, 2.0])),
        (gt.Gamma(), _Y_POS, _MU_POS),
        (gt.InverseGaussian(), _Y_POS, _MU_POS),
        (gt.Tweedie(power=0.0), _Y_TW, _MU_TW),
        *[(gt.Tweedie(power=p), _Y_TW, _MU_TW) for p in (1.3, 1.5, 1.7)],
        (gt.Tweedie(power=2.0), _Y_POS, _MU_POS),
        (gt.Tweedie(power=3.0), _Y_POS, _MU_POS),
    ]],
]


@pytest.mark.parametrize(("fam", "y", "mu", "phi", "w"), FORM_CASES,
                         ids=lambda v: repr(v)[:40])
def test_loglike_obs_is_exponential_family_form(fam, y, mu, phi, w):
    """ln f = (y theta - b(theta)) / phi_i + S(y, phi_i) with phi_i = phi / w (eq. 13.2)."""
    disp = phi / w
    theta = fam.theta(mu)
    expected = (y * theta - fam.b(theta)) / disp + fam.S(y, disp)
    np.testing.assert_allclose(fam.loglike_obs(y, mu, phi, w), expected, rtol=1e-11,
                               atol=1e-12)


# -- derivatives of b and of the variance function ----------------------------------------

DERIV_CASES = [
    (gt.Gaussian(), [-3.0, 0.5, 4.0]),
    (gt.Binomial(), [0.05, 0.4, 0.9]),
    (gt.Poisson(), [0.3, 2.0, 40.0]),
    (gt.NegativeBinomial(alpha=0.5), [0.3, 2.0, 40.0]),
    (gt.NegativeBinomial(alpha=2.0), [0.3, 2.0, 40.0]),
    (gt.Gamma(), [0.3, 2.0, 40.0]),
    (gt.InverseGaussian(), [0.3, 2.0, 40.0]),
    *[(gt.Tweedie(power=p), [0.3, 2.0, 40.0]) for p in (0, 1, 1.25, 1.5, 1.8, 2, 2.5, 3)],
]


@pytest.mark.parametrize(("fam", "mu"), DERIV_CASES, ids=lambda v: repr(v)[:40])
def test_b_prime_and_b_double_prime_match_finite_differences_of_b(fam, mu):
    theta = fam.theta(np.array(mu))
    np.testing.assert_allclose(fam.b_prime(theta), central_difference(fam.b, theta),
                               rtol=1e-8)
    np.testing.assert_allclose(fam.b_double_prime(theta),
                               central_difference(fam.b_prime, theta), rtol=1e-8)
    # theta(mu) inverts b'(theta)
    np.testing.assert_allclose(fam.b_prime(theta), mu, rtol=1e-12)


@pytest.mark.parametrize(("fam", "mu"), DERIV_CASES, ids=lambda v: repr(v)[:40])
def test_variance_deriv_matches_finite_differences(fam, mu):
    mu = np.array(mu)
    fd = central_difference(fam.variance, mu)
    np.testing.assert_allclose(fam.variance_deriv(mu), fd, rtol=1e-8,
                               atol=1e-12 * np.max(np.abs(fd)))


@pytest.mark.parametrize(("fam", "mu"), DERIV_CASES, ids=lambda v: repr(v)[:40])
def test_canonical_link_derivative_is_proportional_to_one_over_variance(fam, mu):
    """g is canonical when theta = eta (up to an affine map): g'(mu) v(mu) is constant."""
    mu = np.array(mu)
    product = fam.canonical_link.deriv(mu) * fam.variance(mu)
    np.testing.assert_allclose(product, product[0], rtol=1e-12)


@pytest.mark.parametrize(("fam", "mu"), DERIV_CASES, ids=lambda v: repr(v)[:40])
def test_anscombe_transform_derivative_is_variance_to_minus_one_third(fam, mu):
    """A(y) = integral of v(t)^{-1/3} dt (the chapter's approximate-normality transform)."""
    y = np.array(mu)
    np.testing.assert_allclose(central_difference(fam.anscombe_transform, y),
                               fam.variance(y) ** (-1.0 / 3.0), rtol=1e-8)


# -- deviance --------------------------------------------------------------------------------

DEVIANCE_CASES = [
    (gt.Gaussian(), [-1.0, 0.0, 2.5], [0.5, 0.0, 2.0], 1.3),
    (gt.Binomial(), [0.0, 0.25, 1.0, 0.5], [0.3, 0.25, 0.8, 0.1], 1.0),
    (gt.Poisson(), [0.0, 2.0, 5.0], [1.5, 2.0, 3.0], 1.0),
    (gt.NegativeBinomial(alpha=0.7), [0.0, 2.0, 9.0], [1.5, 2.0, 3.0], 1.0),
    (gt.Gamma(), [0.4, 2.0, 5.0], [1.5, 2.0, 3.0], 0.5),
    (gt.InverseGaussian(), [0.4, 2.0, 5.0], [1.5, 2.0, 3.0], 0.5),
    *[(gt.Tweedie(power=p), [0.0, 0.7, 2.0, 5.0], [1.5, 0.7, 2.2, 3.0], 0.8)
      for p in (1.2, 1.5, 1.8)],
]


@pytest.mark.parametrize(("fam", "y", "mu", "phi"), DEVIANCE_CASES,
                         ids=lambda v: repr(v)[:40])
def test_unit_deviance_is_twice_phi_times_log_likelihood_ratio_to_saturated(fam, y, mu, phi):
    """d(y, mu) = 2 phi [l(y; y) - l(y; mu)], with l from ``loglike_obs``.  For the
    binomial, phi = 1/n: n = 4 trials here."""
    y, mu = np.array(y), np.array(mu)
    w = 4.0 if isinstance(fam, gt.Binomial) else 1.0
    # the saturated model has mu = y; for counts and Tweedie at y = 0 that is the limit
    # mu -> 0 (ln f(0; mu) -> 0), which mu = 1e-300 reaches to double precision
    mu_saturated = y if isinstance(fam, gt.Gaussian | gt.Binomial) else np.maximum(y, 1e-300)
    ll_sat = fam.loglike_obs(y, mu_saturated, phi, w)
    expected = 2.0 * (phi / w) * (ll_sat - fam.loglike_obs(y, mu, phi, w))
    np.testing.assert_allclose(fam.unit_deviance(y, mu), expected, rtol=1e-10, atol=1e-12)
    assert np.all(fam.unit_deviance(y, mu) >= -1e-12)
    np.testing.assert_allclose(fam.unit_deviance(y[y > 0], y[y > 0]), 0.0, atol=1e-12)


QUASI_CASES = [(fam, y, mu) for fam, y, mu, _ in DEVIANCE_CASES] + [
    (gt.Tweedie(power=p), [0.3, 2.0, 5.0], [1.5, 2.0, 3.0]) for p in (0.0, 1.0, 2.0, 2.5, 3.0)
]


@pytest.mark.parametrize(("fam", "y", "mu"), QUASI_CASES, ids=lambda v: repr(v)[:40])
def test_unit_deviance_is_twice_the_quasi_likelihood_integral(fam, y, mu):
    """d(y, mu) = 2 integral_mu^y (y - t) / v(t) dt, which needs only the variance
    function (McCullagh & Nelder 9.2) - an independent route, valid for every power."""
    for yi, mi in zip(y, mu, strict=True):
        value = 2.0 * integrate.quad(lambda t, yi=yi: (yi - t) / float(fam.variance(t)),
                                     mi, yi, epsabs=1e-13, epsrel=1e-12)[0]
        got = float(np.asarray(fam.unit_deviance(np.array([yi]), np.array([mi])))[0])
        assert got == pytest.approx(value, rel=1e-9, abs=1e-12)


def test_poisson_unit_deviance_at_zero_count_is_two_mu():
    mu = np.array([0.1, 1.0, 7.5])
    np.testing.assert_allclose(gt.Poisson().unit_deviance(np.zeros(3), mu), 2 * mu)


def test_binomial_unit_deviance_is_zero_at_the_boundary_and_finite():
    """Fitted probabilities that round to exactly 0 or 1 (separated data) next to y = 0
    or 1 have deviance 0, not NaN from 0 * log(0/0)."""
    fam = gt.Binomial()
    y = np.array([1.0, 0.0, 1.0, 0.0])
    mu = np.array([1.0, 0.0, 1.0 - 1e-16, 1e-300])
    with np.errstate(all="raise"):
        dev = fam.unit_deviance(y, mu)
    assert np.all(np.isfinite(dev))
    np.testing.assert_allclose(dev, 0.0, atol=1e-12)
    # and a 1 fitted with probability exactly 0 is infinitely unlikely
    with np.errstate(divide="ignore"):
        assert fam.unit_deviance(np.array([1.0]), np.array([0.0]))[0] == np.inf


# -- sampling, starting values, domains -------------------------------------------------------

SAMPLE_CASES = [
    (gt.Gaussian(), 1.5, 0.7, 2.0),
    (gt.Binomial(), 0.3, 1.0, 12.0),
    (gt.Poisson(), 3.5, 1.0, 1.0),
    (gt.NegativeBinomial(alpha=0.8), 3.5, 1.0, 1.0),
    (gt.Gamma(), 2.5, 0.4, 2.0),
    (gt.InverseGaussian(), 1.5, 0.3, 1.0),
    (gt.Tweedie(power=1.5), 1.5, 0.8, 1.0),
    (gt.Tweedie(power=1.2), 0.6, 1.3, 2.0),
]


@pytest.mark.parametrize(("fam", "mu", "phi", "w"), SAMPLE_CASES, ids=lambda v: repr(v)[:40])
def test_sample_has_mean_mu_and_variance_phi_v_over_w(fam, mu, phi, w):
    n = 200_000
    draws = fam.sample(np.full(n, mu), phi, rng=np.random.default_rng(7),
                       weights=np.full(n, w))
    var = phi / w * float(fam.variance(mu))
    centred = draws - mu
    # 6 standard errors: deterministic (fixed seed) and far from flaky
    assert abs(centred.mean()) < 6 * np.sqrt(var / n)
    se_var = np.sqrt((np.mean(centred**4) - var**2) / n)
    assert abs(np.mean(centred**2) - var) < 6 * se_var
    assert not fam.y_violations(draws).any()


STARTS = [
    (gt.Binomial(), [0.0, 1.0, 0.5, 1.0]),
    (gt.Poisson(), [0.0, 0.0, 3.0, 10.0]),
    (gt.NegativeBinomial(alpha=2.0), [0.0, 0.0, 3.0, 10.0]),
    (gt.Gamma(), [0.1, 1.0, 30.0, 2.0]),
    (gt.InverseGaussian(), [0.1, 1.0, 30.0, 2.0]),
    (gt.Tweedie(power=1.5), [0.0, 0.0, 3.0, 10.0]),
]


@pytest.mark.parametrize(("fam", "y"), STARTS, ids=lambda v: repr(v)[:40])
def test_starting_mu_is_inside_the_mean_space_even_at_boundary_responses(fam, y):
    mu = fam.starting_mu(np.array(y), np.full(4, 3.0))
    assert fam.valid_mu(mu)
    assert np.all(np.isfinite(fam.canonical_link.link(mu)))
    if isinstance(fam, gt.Binomial):
        assert np.all((mu > 0) & (mu < 1))


@pytest.mark.parametrize(("fam", "bad", "good"), [
    (gt.Binomial(), [-0.1, 1.2], [0.0, 0.4, 1.0]),
    (gt.Poisson(), [-1.0], [0.0, 2.0, 0.5]),
    (gt.NegativeBinomial(), [-2.0], [0.0, 3.0]),
    (gt.Gamma(), [0.0, -1.0], [1e-9, 4.0]),
    (gt.InverseGaussian(), [0.0, -1.0], [1e-9, 4.0]),
    (gt.Tweedie(power=1.5), [-0.5], [0.0, 4.0]),
    (gt.Tweedie(power=2.5), [0.0], [0.3]),
    (gt.Gaussian(), [], [-1e9, 0.0, 1e9]),
], ids=lambda v: repr(v)[:40])
def test_y_violations_marks_exactly_the_responses_outside_the_support(fam, bad, good):
    y = np.array(bad + good, dtype=float)
    np.testing.assert_array_equal(fam.y_violations(y), [True] * len(bad) + [False] * len(good))


@pytest.mark.parametrize(("fam", "bad_mu"), [
    (gt.Binomial(), [0.5, 1.2]),
    (gt.Poisson(), [1.0, -0.1]),
    (gt.Gamma(), [1.0, 0.0]),
    (gt.InverseGaussian(), [np.nan, 1.0]),
    (gt.NegativeBinomial(), [np.inf, 1.0]),
    (gt.Tweedie(power=1.5), [-1.0, 1.0]),
], ids=lambda v: repr(v)[:30])
def test_valid_mu_rejects_means_outside_the_mean_space(fam, bad_mu):
    assert not fam.valid_mu(np.array(bad_mu))


# -- links allowed per family -----------------------------------------------------------------

def test_canonical_links_follow_table_13_2():
    assert gt.Gaussian().link == L.Identity()
    assert gt.Binomial().link == L.Logit()
    assert gt.Poisson().link == L.Log()
    assert gt.Gamma().link == L.Inverse()
    assert gt.InverseGaussian().link == L.InverseSquared()
    assert gt.NegativeBinomial(alpha=0.5).canonical_link == L.NegativeBinomialLink(0.5)
    assert gt.Tweedie(power=1.5).canonical_link == L.Power(-0.5)
    # the default links of NB and Tweedie are the log link (statsmodels, MASS::glm.nb)
    assert gt.NegativeBinomial().link == L.Log()
    assert gt.Tweedie(power=1.5).link == L.Log()


@pytest.mark.parametrize(("factory", "link"), [
    (gt.Poisson, L.Logit()),
    (gt.Binomial, L.Inverse()),
    (gt.Gamma, L.Probit()),
    (gt.Gaussian, L.CLogLog()),
], ids=lambda v: repr(v)[:30])
def test_family_rejects_links_outside_allowed_links(factory, link):
    with pytest.raises(ValueError, match="not a valid link"):
        factory(link=link)


def test_family_rejects_link_classes_and_strings():
    with pytest.raises(ValueError, match="Link instance"):
        gt.Poisson(link=L.Log)
    with pytest.raises(ValueError, match="Link instance"):
        gt.Poisson(link="log")


def test_binomial_loglike_uses_gammaln_for_large_trials():
    """C(n, k) for n = 10^6 trials: no overflow (gammaln, not factorials)."""
    n, k = 1e6, 3e5
    value = gt.Binomial().loglike_obs(np.array([k / n]), np.array([0.3]), 1.0, np.array([n]))
    assert value[0] == pytest.approx(stats.binom.logpmf(k, n, 0.3), rel=1e-10)
    # C(n, k) itself is about 10^(2.6e5), far beyond double precision: the family's
    # S(y, 1/n) = ln C(n, n y) must be the log-gamma difference (stdlib math here)
    log_choose = math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
    assert log_choose > 700  # exp() of it overflows: factorials cannot be used
    assert gt.Binomial().S(np.array([k / n]), 1.0 / n)[0] == pytest.approx(log_choose,
                                                                          rel=1e-12)
