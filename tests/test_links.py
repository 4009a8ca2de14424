"""Link functions checked numerically: round trips, derivatives against finite
differences, and the tails of the binomial links (issue 2).

Every derivative is compared with a Richardson-extrapolated central difference of the
function one order lower, so a wrong formula cannot hide behind a restated one.
"""

from __future__ import annotations

import numpy as np
import pytest
from numerics import central_difference
from scipy import stats

import glmteach as gt
from glmteach import links as L
from glmteach.irls import working_response_and_weights

# (link, means inside its domain) - every link class, several Power exponents.
UNIT = np.array([0.003, 0.05, 0.2, 0.5, 0.77, 0.95, 0.997])
POSITIVE = np.array([0.01, 0.3, 1.0, 2.5, 10.0, 120.0])
LINK_CASES = [
    (L.Identity(), np.array([-50.0, -1.5, 0.0, 0.3, 7.0, 1e3])),
    (L.Log(), POSITIVE),
    (L.Logit(), UNIT),
    (L.Probit(), UNIT),
    (L.CLogLog(), UNIT),
    (L.Inverse(), POSITIVE),
    (L.InverseSquared(), POSITIVE),
    (L.Power(0.5), POSITIVE),
    (L.Power(2.0), POSITIVE),
    (L.Power(-0.5), POSITIVE),
    (L.Power(1.0 / 3.0), POSITIVE),
    (L.Power(3.0), POSITIVE),
    (L.NegativeBinomialLink(0.5), POSITIVE),
    (L.NegativeBinomialLink(2.0), POSITIVE),
]
IDS = [repr(link) for link, _ in LINK_CASES]


def _fd_step(link, mu):
    """A step that keeps mu +/- h inside (0, 1) for the binomial links."""
    if isinstance(link, (L.Logit, L.Probit, L.CLogLog)):
        return 1e-4 * np.minimum(mu, 1.0 - mu) / mu
    return 1e-4


@pytest.mark.parametrize(("link", "mu"), LINK_CASES, ids=IDS)
def test_inverse_undoes_link(link, mu):
    np.testing.assert_allclose(link.inverse(link.link(mu)), mu, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(("link", "mu"), LINK_CASES, ids=IDS)
def test_link_undoes_inverse(link, mu):
    eta = link.link(mu)
    np.testing.assert_allclose(link.link(link.inverse(eta)), eta, rtol=1e-10,
                               atol=1e-12)


@pytest.mark.parametrize(("link", "mu"), LINK_CASES, ids=IDS)
def test_deriv_matches_finite_differences(link, mu):
    fd = central_difference(link.link, mu, _fd_step(link, mu))
    np.testing.assert_allclose(link.deriv(mu), fd, rtol=1e-7)


@pytest.mark.parametrize(("link", "mu"), LINK_CASES, ids=IDS)
def test_deriv2_matches_finite_differences_of_deriv(link, mu):
    fd = central_difference(link.deriv, mu, _fd_step(link, mu))
    np.testing.assert_allclose(link.deriv2(mu), fd, rtol=1e-6,
                               atol=1e-9 * np.max(np.abs(fd)))


@pytest.mark.parametrize(("link", "mu"), LINK_CASES, ids=IDS)
def test_inverse_deriv_matches_finite_differences(link, mu):
    eta = link.link(mu)
    fd = central_difference(link.inverse, eta)
    np.testing.assert_allclose(link.inverse_deriv(eta), fd, rtol=1e-7)
    # and it is the reciprocal of d eta / d mu at the same point
    np.testing.assert_allclose(link.inverse_deriv(eta), 1.0 / link.deriv(mu), rtol=1e-10)


def test_inverse_and_inverse_squared_are_power_links():
    mu = POSITIVE
    np.testing.assert_allclose(L.Inverse().link(mu), 1.0 / mu)
    np.testing.assert_allclose(L.InverseSquared().link(mu), 1.0 / mu**2)


def test_negative_binomial_link_maps_onto_negative_half_line():
    link = L.NegativeBinomialLink(0.7)
    eta = link.link(POSITIVE)
    assert np.all(eta < 0)
    np.testing.assert_allclose(np.exp(eta), 0.7 * POSITIVE / (1 + 0.7 * POSITIVE))


@pytest.mark.parametrize("power", [0.0, np.inf, np.nan])
def test_power_link_rejects_invalid_power(power):
    with pytest.raises(ValueError, match="power"):
        L.Power(power)


def test_links_compare_by_type_and_parameters():
    assert L.Log() == L.Log()
    assert L.Power(0.5) == L.Power(0.5)
    assert L.Power(0.5) != L.Power(2.0)
    assert L.Inverse() != L.Power(-1.0)  # a different class, even with the same power
    assert len({L.Log(), L.Log(), L.Logit()}) == 2


# -- tails of the binomial links ----------------------------------------------------------

TAIL_ETA = np.array([-1e3, -745.0, -700.0, -100.0, -40.0, -30.0, -20.0, -10.0, -1.0, 0.0,
                     1.0, 10.0, 20.0, 30.0, 40.0, 100.0, 700.0, 745.0, 1e3])
BINOMIAL_LINKS = [L.Logit(), L.Probit(), L.CLogLog()]


def _reference_log_mu_eta(link, eta):
    """ln(d mu / d eta) computed in log space with scipy.stats (no under/overflow)."""
    if isinstance(link, L.Logit):
        return stats.logistic.logpdf(eta)
    if isinstance(link, L.Probit):
        return stats.norm.logpdf(eta)
    return stats.gumbel_l.logpdf(eta)  # 1 - exp(-e^eta) is the Gumbel (minimum) cdf


def _reference_log_weight(link, eta):
    """ln W = 2 ln(d mu/d eta) - ln mu - ln(1 - mu), every piece in log space."""
    if isinstance(link, L.CLogLog):
        # mu = 1 - exp(-x), x = e^eta: ln mu = ln(-expm1(-x)), which is ln x - x/2 + O(x^2)
        # for tiny x (scipy's gumbel_l.logcdf returns -inf there); ln(1 - mu) = -x.
        with np.errstate(over="ignore", divide="ignore"):
            x = np.exp(eta)
            log_mu = np.where(eta < -30, eta - x / 2, np.log(-np.expm1(-x)))
            return 2.0 * (eta - x) - log_mu + x
    dist = {L.Logit: stats.logistic, L.Probit: stats.norm}[type(link)]
    return 2.0 * dist.logpdf(eta) - dist.logcdf(eta) - dist.logsf(eta)


@pytest.mark.parametrize("link", BINOMIAL_LINKS, ids=repr)
def test_tail_inverse_and_inverse_deriv_are_finite(link):
    with np.errstate(over="ignore", under="ignore"):
        mu = link.inverse(TAIL_ETA)
        mu_eta = link.inverse_deriv(TAIL_ETA)
    assert np.all(np.isfinite(mu)) and np.all((mu >= 0) & (mu <= 1))
    assert np.all(np.isfinite(mu_eta)) and np.all(mu_eta >= 0)
    # where d mu / d eta is a normal double, it is accurate (not 0 or a rounding artefact)
    with np.errstate(over="ignore"):
        ref = np.exp(_reference_log_mu_eta(link, TAIL_ETA))
    normal = ref > 1e-300
    np.testing.assert_allclose(mu_eta[normal], ref[normal], rtol=1e-10)


@pytest.mark.parametrize("link", BINOMIAL_LINKS, ids=repr)
@pytest.mark.parametrize("y_value", [0.0, 0.5, 1.0])
def test_tail_working_weights_are_finite_and_accurate(link, y_value):
    """IRLS working weights W = n (d mu/d eta)^2 / (mu (1 - mu)) and working responses at
    |eta| up to 1e3: never NaN or inf, never negative, and accurate wherever the true
    weight is a normal double (so no side of the tail is cut off by rounding 1 - mu)."""
    n = TAIL_ETA.size
    X = np.column_stack([np.ones(n), np.linspace(-1, 1, n)])
    y = np.full(n, y_value)
    problem = gt.GLMProblem(X, y, gt.Binomial(link=link), weights=np.full(n, 2.0))
    with np.errstate(over="ignore", under="ignore"):
        mu = link.inverse(TAIL_ETA)
        z, w = working_response_and_weights(problem.family, problem.y, problem.weights,
                                            problem.offset, TAIL_ETA, mu)
    assert np.all(np.isfinite(z)) and np.all(np.isfinite(w))
    assert np.all(w >= 0)
    with np.errstate(invalid="ignore", over="ignore"):
        ref = 2.0 * np.exp(_reference_log_weight(link, TAIL_ETA))
    normal = ref > 1e-290
    np.testing.assert_allclose(w[normal], ref[normal], rtol=1e-6)
