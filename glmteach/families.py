r"""The linear exponential family, as code.

Every distribution here has a density or mass function of the form (Frees 2010,
eq. 13.2)

    f(y; theta, phi) = exp( (y theta - b(theta)) / phi + S(y, phi) )

with mean E y = b'(theta) and variance Var y = phi b''(theta) (section 13.9.2, by the
moment generating function).  Writing the variance in terms of the mean gives the
variance function v(mu) = b''(theta(mu)) of Table 13.1, so Var y = phi v(mu).

Each family class fills in the same small protocol (the idea of R's ``family``
objects): ``theta``, ``b``, ``b_prime``, ``b_double_prime``, ``S``, ``variance``,
``variance_deriv``, ``unit_deviance``, ``loglike_obs``, ``anscombe_transform``,
``starting_mu``, ``sample`` and its ``canonical_link``.  Table 13.8 of the chapter is this
module's test table.

Each family also *declares* its domains, as glum's distributions do: ``y_domain`` (the
support of y) and ``mu_domain`` (the mean space), each an ``Interval`` with its ends
open or closed.  One generic ``y_violations`` / ``valid_mu`` in ``Family`` reads them,
and so does ``edge_rows``, which finds the responses that only a mean on the boundary
predicts perfectly (separation).

Prior weights follow the chapter: observation i has dispersion phi_i = phi / w_i.
For the discrete families (Poisson, negative binomial) a weight multiplies the
log-likelihood of the observation, as in R and statsmodels; for the binomial the
weight is the number of trials n_i and y_i is the proportion of successes.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
from scipy import special

from glmteach import links as L

__all__ = [
    "Interval",
    "Family",
    "Gaussian",
    "Binomial",
    "Poisson",
    "Gamma",
    "InverseGaussian",
    "NegativeBinomial",
    "Tweedie",
    "FAMILY_NAMES",
    "make_family",
    "tweedie_poisson_gamma",
    "tweedie_from_poisson_gamma",
]


_SMALLEST_NORMAL = np.finfo(float).tiny


def _as_float(x) -> np.ndarray:
    return np.asarray(x, dtype=float)


def _real_or_nan(value) -> float:
    """A family parameter as a float; NaN (so that the caller's check fails) for
    anything that is not a real number - strings such as '1.5', booleans, arrays."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_):
        return float(value)
    return float("nan")


def _y_log_y_over_mu(y, mu) -> np.ndarray:
    """y ln(y / mu) with the limit 0 at y = 0 (whatever mu is, so a mean of exactly 0
    next to y = 0 gives 0, not the NaN of 0 ln(0/0)).

    Fast path, with no masked (``where=``) ufuncs, which cost 5-10 times a plain one:
    y = 0 is replaced by the smallest normal number before dividing, so its row gives
    0 * ln(tiny / mu) = 0 and every row with y > 0 gets exactly ln(y / mu) * y.  (Only a
    y below 2.2e-308 would change, by less than 1e-305.)  Where that is not finite (y / mu
    overflows, mu tiny or 0), the rows are redone as y (ln y - ln mu), or 0 at y = 0."""
    y, mu = _as_float(y), _as_float(mu)
    out = np.empty(np.broadcast_shapes(y.shape, mu.shape))
    with np.errstate(divide="ignore", over="ignore", invalid="ignore", under="ignore"):
        np.maximum(y, _SMALLEST_NORMAL, out=out)  # (the ratio is formed in ``out``:
        out /= mu                                 # one n-vector, not three)
        np.log(out, out=out)
        out *= y
        if not np.isfinite(np.sum(out)):  # rare: find the rows to redo
            bad = ~np.isfinite(out)
            yb, mb = np.broadcast_arrays(y, mu)
            out[bad] = np.where(yb[bad] > 0, yb[bad] * (np.log(yb[bad]) - np.log(mb[bad])),
                                0.0)
    return out


def _xlogy(y, mu) -> np.ndarray:
    """y ln(mu), 0 where y = 0: scipy's ``xlogy``, which evaluates a scalar special
    function per element and is 10-20 times slower than a vectorised log and product."""
    y, mu = _as_float(y), _as_float(mu)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log(mu) * y
        if not np.isfinite(np.sum(out)):  # 0 ln 0 = NaN there: 0
            out = np.where((y == 0) & ~np.isnan(mu), 0.0, out)
    return out


# ln y! by table lookup for whole-number counts up to this (a table of 8 MB at most)
LOG_FACTORIAL_TABLE_UP_TO = 1 << 20


def _log_factorial(y) -> np.ndarray:
    """ln y! = ln Gamma(y + 1).  For large arrays of whole numbers no bigger than
    LOG_FACTORIAL_TABLE_UP_TO (counts, in practice) the values are looked up in a table
    of ``gammaln(0 + 1), ..., gammaln(max y + 1)``, the same numbers ``gammaln`` gives
    row by row, 4-5 times faster (gammaln is a scalar special function per element);
    otherwise ``gammaln(y + 1)``."""
    y = _as_float(y)
    if y.size >= 10_000:
        with np.errstate(invalid="ignore"):
            top = float(np.max(y))
            counts = 0 <= np.min(y) and top <= LOG_FACTORIAL_TABLE_UP_TO
        if counts and np.array_equal(y, np.floor(y)):
            table = special.gammaln(np.arange(int(top) + 1) + 1.0)
            return table[y.astype(np.intp)]
    return special.gammaln(y + 1)


def _gammaln_of_weights(x) -> np.ndarray | float:
    """ln Gamma(x) for a per-row parameter such as the gamma shape w_i / phi: computed
    once when every row has the same value (equal prior weights, the usual case), which
    gives the very same numbers without a special function per row."""
    x = _as_float(x)
    if x.ndim == 1 and x.size > 1 and np.all(x == x[0]):
        return float(special.gammaln(x[0]))
    return special.gammaln(x)


def _stirling_correction(x) -> np.ndarray:
    """delta(x) = ln Gamma(x) - [(x - 1/2) ln x - x + ln(2 pi)/2], for x >= 1e4 (three
    terms of the asymptotic series 1/(12x) - 1/(360x^3) + 1/(1260x^5); error < 1e-37)."""
    x = _as_float(x)
    inv = 1.0 / x
    inv2 = inv * inv
    return inv * (1.0 / 12.0 - inv2 * (1.0 / 360.0 - inv2 / 1260.0))


def _log_rising_over_power(y, r: float) -> np.ndarray:
    """C(y, r) = ln Gamma(y + r) - ln Gamma(r) - y ln r, without cancellation.

    For r > 1e4 the two log-gammas are huge and nearly equal (at r = 1e10, ln Gamma(r) ~
    2e11 and the difference needs ~1e-6 absolute: 17 digits), so Stirling's formula is
    subtracted analytically:
    C = (y + r - 1/2) ln(1 + y/r) - y + delta(y + r) - delta(r)."""
    y = _as_float(y)
    if r <= 1e4:
        return special.gammaln(y + r) - special.gammaln(r) - special.xlogy(y, r)
    return ((y + r - 0.5) * np.log1p(y / r) - y
            + _stirling_correction(y + r) - _stirling_correction(r))


def _tweedie_log_w_series(y: np.ndarray, phi: np.ndarray, p: float) -> np.ndarray:
    """ln W(y, phi, p) = ln sum_{j>=1} z^j / (j! Gamma(-alpha j)) by direct summation
    around the largest term (Dunn & Smyth 2005, section 3), alpha = (2 - p)/(1 - p),
    z = y^{-alpha} (p - 1)^alpha / (phi^{1 - alpha} (2 - p)).  Used where scipy's
    ``log_wright_bessel`` is not finite (p close to 1, where -alpha is in the hundreds).
    Terms are added in log space until they fall 40 e-folds (1e-17) below the largest."""
    alpha = (2.0 - p) / (1.0 - p)
    out = np.empty(y.shape)
    for i, (yi, ph) in enumerate(zip(y, phi, strict=True)):
        log_z = (-alpha * np.log(yi) + alpha * np.log(p - 1.0) - (1.0 - alpha) * np.log(ph)
                 - np.log(2.0 - p))
        j_mode = max(1.0, np.floor(yi ** (2.0 - p) / ((2.0 - p) * ph)))

        def log_terms(j, log_z=log_z):
            return j * log_z - special.gammaln(j + 1.0) - special.gammaln(-alpha * j)

        half = 10.0 + 10.0 * np.sqrt(j_mode)
        while True:
            j = np.arange(max(1.0, j_mode - half), j_mode + half + 1.0)
            terms = log_terms(j)
            top = terms.max()
            low_ok = j[0] == 1.0 or terms[0] < top - 40.0
            if (low_ok and terms[-1] < top - 40.0) or half > 1e7:
                break
            half *= 2.0
        out[i] = top + np.log(np.sum(np.exp(terms - top)))
    return out


@dataclass(frozen=True)
class Interval:
    """The set lower < x < upper, with an end included when it is ``closed``; an
    infinite end is never reached (so a NaN is only refused by a finite end)."""

    lower: float = -np.inf
    upper: float = np.inf
    lower_closed: bool = False
    upper_closed: bool = False

    def contains(self, x) -> np.ndarray:
        """Boolean mask: x inside the interval."""
        x = _as_float(x)
        inside = np.ones(x.shape, dtype=bool)
        if np.isfinite(self.lower):
            inside &= (x >= self.lower) if self.lower_closed else (x > self.lower)
        if np.isfinite(self.upper):
            inside &= (x <= self.upper) if self.upper_closed else (x < self.upper)
        return inside

    def contains_all(self, x) -> bool:
        """True when every x is inside the interval and finite: ``contains(x).all()``
        with ``isfinite``, from the smallest and the largest x (two reductions, no
        n-vector of booleans; a NaN makes both NaN, and every comparison with NaN is
        False)."""
        x = _as_float(x)
        if x.size == 0:
            return True
        lo, hi = np.min(x), np.max(x)
        if not (np.isfinite(lo) and np.isfinite(hi)):
            return False
        low_ok = (lo >= self.lower) if self.lower_closed else (lo > self.lower)
        high_ok = (hi <= self.upper) if self.upper_closed else (hi < self.upper)
        return bool(low_ok and high_ok)

    def describe(self) -> str:
        """The interval in words, for error messages ("positive numbers (y > 0)")."""
        lo, hi = np.isfinite(self.lower), np.isfinite(self.upper)
        if not lo and not hi:
            return "any real number"
        if lo and not hi and self.lower == 0:
            return ("non-negative numbers (y >= 0)" if self.lower_closed
                    else "positive numbers (y > 0)")
        left = "[" if self.lower_closed else "("
        right = "]" if self.upper_closed else ")"
        return f"numbers in {left}{self.lower:g}, {self.upper:g}{right}"


REALS = Interval()
NON_NEGATIVE = Interval(0.0, np.inf, lower_closed=True)
POSITIVE = Interval(0.0, np.inf)
UNIT = Interval(0.0, 1.0, lower_closed=True, upper_closed=True)


class Family:
    """Base class of a linear exponential family with a link.

    Subclasses set ``name``, ``allowed_links`` (link classes that keep the model well
    defined), ``scale_is_fixed`` (phi = 1 known, e.g. Poisson), the domains ``y_domain``
    and ``mu_domain`` (``Interval``s; ``y_rule`` says the first in words), and implement
    the table's components.  A few attributes tell the fitting layers what differs
    between families, so that they never ask for a family's type:

    - ``trials_as_weights``: y is a proportion and the prior weight the number of
      trials (the binomial); then y may also be given as (successes, failures);
    - ``variance_power``: k for the families with v(mu) = mu^k, k > 1 possible, whose
      variance can overflow or underflow for extreme responses (Gamma 2, inverse
      Gaussian 3, Tweedie p); None otherwise.  ``GLMProblem`` refuses such responses;
    - ``llf_scale_rule``: at which scale the log-likelihood is reported (see
      ``GLMProblem.llf_scale``): "estimate" (phi-hat), "profile" (Gaussian with the
      identity link: the maximum likelihood scale) or "none" (the binomial counts have
      no dispersion);
    - ``has_density``: False when ``loglike_obs`` is not implemented (some Tweedie
      powers), so llf, aic and bic are NaN.
    """

    name = "family"
    allowed_links: tuple[type[L.Link], ...] = ()
    scale_is_fixed = False
    y_domain: Interval = REALS
    mu_domain: Interval = REALS
    trials_as_weights = False
    variance_power: float | None = None
    llf_scale_rule = "estimate"
    has_density = True

    @property
    def y_rule(self) -> str:
        """The support of y in words (for error messages)."""
        return self.y_domain.describe()

    def __init__(self, link: L.Link | None = None):
        if link is None:
            link = self.default_link()
        if not isinstance(link, L.Link):
            raise ValueError(
                f"link: must be a glmteach.links.Link instance such as gt.links.Log(), "
                f"got {link!r}"
            )
        if not isinstance(link, self.allowed_links):
            allowed = ", ".join(cls.__name__ for cls in self.allowed_links)
            raise ValueError(
                f"link: {link!r} is not a valid link for the {self.name} family; "
                f"use one of: {allowed}"
            )
        self.link = link

    # -- components of the table -------------------------------------------------
    @property
    def canonical_link(self) -> L.Link:
        """The link g = (b')^{-1}, for which theta = eta (section 13.2.2)."""
        raise NotImplementedError

    def default_link(self) -> L.Link:
        return self.canonical_link

    @property
    def is_canonical(self) -> bool:
        return self.link == self.canonical_link

    def theta(self, mu):
        """The natural parameter theta as a function of the mean: (b')^{-1}(mu)."""
        return self.canonical_link.link(mu)

    def b(self, theta):
        """The cumulant function b(theta)."""
        raise NotImplementedError

    def b_prime(self, theta):
        """b'(theta) = E y, the mean function of the canonical link."""
        return self.canonical_link.inverse(theta)

    def b_double_prime(self, theta):
        """b''(theta) = Var y / phi, i.e. the variance function at mu = b'(theta)."""
        return self.variance(self.b_prime(theta))

    def S(self, y, phi):
        """The term S(y, phi) of equation 13.2, which does not involve theta."""
        raise NotImplementedError

    def variance(self, mu):
        """The variance function v(mu) of Table 13.1: Var y = phi v(mu)."""
        raise NotImplementedError

    def variance_deriv(self, mu):
        """dv/dmu, used by Newton-Raphson with the observed information."""
        raise NotImplementedError

    def unit_deviance(self, y, mu):
        """d(y, mu) = 2 [ l(y; y) - l(y; mu) ] phi for one observation of weight 1."""
        raise NotImplementedError

    def deviance(self, y, mu, weights=1.0) -> float:
        """D = sum_i w_i d(y_i, mu_i): twice the log-likelihood ratio to the saturated
        model, times phi (the 'deviance', not the 'scaled deviance')."""
        unit = self.unit_deviance(y, mu)
        if np.ndim(weights) == 0 and weights == 1.0:  # (no product: one n-vector less)
            return float(np.sum(unit))
        return float(np.sum(weights * unit))

    def loglike_obs(self, y, mu, scale=1.0, weights=1.0):
        """Log density of each observation with dispersion phi_i = scale / w_i."""
        phi = scale / _as_float(weights)
        theta = self.theta(mu)
        return (y * theta - self.b(theta)) / phi + self.S(y, phi)

    def anscombe_transform(self, y):
        """A(y) = integral of v(t)^{-1/3} dt, the transform that makes y most nearly
        normal (the chapter's table of approximate-normality transforms).  Anscombe
        residuals are (A(y) - A(mu)) / (A'(mu) sqrt(v(mu))) = (A(y) - A(mu)) / v(mu)^{1/6}.
        """
        raise NotImplementedError

    def starting_mu(self, y, weights=1.0):
        """Where IRLS starts: a mean vector close to y but inside the link's domain.
        statsmodels' choice (y + mean(y)) / 2 unless a family overrides it."""
        y = _as_float(y)
        if np.ndim(weights) == 0 and weights == 1.0:  # (the same number, no product y w)
            return (y + np.mean(y)) / 2.0
        return (y + np.average(y, weights=np.broadcast_to(weights, y.shape))) / 2.0

    def sample(self, mu, scale=1.0, rng=None, weights=1.0):
        """Draw y with mean mu and variance scale * v(mu) / weights."""
        raise NotImplementedError

    # -- the working response's ingredients --------------------------------------------
    def variance_and_residual(self, y, mu, eta):
        """(v(mu), y - mu) for the working weights and response at the linear predictor
        eta = g(mu).  Families whose mean space is bounded above (the binomial) override
        this to take 1 - mu from the link, accurately (GLM.jl's ``inverselink`` idea)."""
        return self.variance(mu), y - mu

    # -- domains -------------------------------------------------------------------
    def y_violations(self, y) -> np.ndarray:
        """Boolean mask of responses outside the family's support ``y_domain``."""
        return ~self.y_domain.contains(y)

    def valid_mu(self, mu) -> bool:
        """True when every mean is finite and inside the family's ``mu_domain``."""
        return self.mu_domain.contains_all(mu)

    def edge_rows(self, y, mu, edge: float) -> np.ndarray:
        """Rows whose response sits on a closed, finite end of the support that is also
        an end of the mean space, with a mean within ``edge`` of it: a binomial 0 or 1,
        a zero count.  Only a mean *on* that end predicts such a response perfectly, so
        many of them near the end are the signature of separation (the maximum
        likelihood estimates do not exist).  All False for families without such ends
        (Gaussian, Gamma: y = 0 is not in the support)."""
        y, mu = _as_float(y), _as_float(mu)
        out = np.zeros(np.broadcast_shapes(y.shape, mu.shape), dtype=bool)
        for end in self._ends_near(mu, edge):
            out |= (y == end) & (np.abs(mu - end) < edge)
        return out

    def mean_near_end(self, mu, edge: float) -> bool:
        """Whether some mean is within ``edge`` of an end that ``edge_rows`` looks at:
        when not, no row is an edge row, and that is known from the smallest and the
        largest mean (two reductions, no n-vector of booleans)."""
        return bool(self._ends_near(_as_float(mu), edge))

    def _ends_near(self, mu: np.ndarray, edge: float) -> list[float]:
        """The ends of ``perfect_prediction_ends`` that some mean is within ``edge`` of
        (usually none: then no n-vector need be formed)."""
        if not self.perfect_prediction_ends or mu.size == 0:
            return []
        lowest, highest = np.min(mu), np.max(mu)
        return [end for end in self.perfect_prediction_ends
                if not (end <= lowest - edge or end >= highest + edge)]

    @property
    def perfect_prediction_ends(self) -> tuple[float, ...]:
        """The ends of ``y_domain`` that ``edge_rows`` looks at (see there)."""
        y, m = self.y_domain, self.mu_domain
        ends = []
        if y.lower_closed and np.isfinite(y.lower) and y.lower == m.lower:
            ends.append(float(y.lower))
        if y.upper_closed and np.isfinite(y.upper) and y.upper == m.upper:
            ends.append(float(y.upper))
        return tuple(ends)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(link={self.link!r})"


class Gaussian(Family):
    """Normal: theta = mu, phi = sigma^2, b = theta^2 / 2, v(mu) = 1."""

    name = "Gaussian"
    allowed_links = (L.Identity, L.Log, L.Power)

    @property
    def llf_scale_rule(self) -> str:
        """The identity-link model reports the concentrated (profile) likelihood."""
        return "profile" if isinstance(self.link, L.Identity) else "estimate"

    @property
    def canonical_link(self):
        return L.Identity()

    def b(self, theta):
        return _as_float(theta) ** 2 / 2.0

    def S(self, y, phi):
        return -(_as_float(y) ** 2) / (2.0 * phi) - np.log(2.0 * np.pi * phi) / 2.0

    def variance(self, mu):
        return np.ones_like(_as_float(mu))

    def variance_deriv(self, mu):
        return np.zeros_like(_as_float(mu))

    def unit_deviance(self, y, mu):
        return (_as_float(y) - mu) ** 2

    def loglike_obs(self, y, mu, scale=1.0, weights=1.0):
        phi = scale / _as_float(weights)
        return -((y - mu) ** 2) / (2.0 * phi) - np.log(2.0 * np.pi * phi) / 2.0

    def anscombe_transform(self, y):
        return _as_float(y)

    def sample(self, mu, scale=1.0, rng=None, weights=1.0):
        rng = np.random.default_rng(rng)
        return rng.normal(mu, np.sqrt(scale / _as_float(weights)))


class Binomial(Family):
    """Binomial proportions: y = successes / n with n = prior weight (trials).

    theta = logit(mu), b = ln(1 + e^theta) per trial, phi_i = 1 / n_i, v(mu) = mu(1-mu),
    S(y, 1/n) = ln C(n, n y).  With n = 1 this is the Bernoulli distribution.
    """

    name = "Binomial"
    allowed_links = (L.Logit, L.Probit, L.CLogLog, L.Log, L.Identity)
    scale_is_fixed = True
    y_rule = "proportions in [0, 1] (or a two-column array of successes and failures)"
    y_domain = UNIT
    mu_domain = UNIT  # probabilities that round to exactly 0 or 1 are still accepted
    trials_as_weights = True
    llf_scale_rule = "none"

    def variance_and_residual(self, y, mu, eta):
        """v(mu) = mu (1 - mu) and y - mu with 1 - mu taken from
        ``link.inverse_complement(eta)``, which does not cancel when mu is close to 1;
        and y - mu = (y - 1) + (1 - mu) there, which keeps the residual of a y = 1 whose
        mean rounds to 1 (its working residual tends to 1, as that of a y = 0 tends to
        -1), so both tails of logit, probit and cloglog keep their weights."""
        complement = self.link.inverse_complement(eta)
        return mu * complement, np.where(mu > 0.5, (y - 1.0) + complement, y - mu)

    @property
    def canonical_link(self):
        return L.Logit()

    def b(self, theta):
        return np.logaddexp(0.0, theta)

    def S(self, y, phi):
        n = 1.0 / _as_float(phi)
        k = n * y
        return special.gammaln(n + 1) - special.gammaln(k + 1) - special.gammaln(n - k + 1)

    def variance(self, mu):
        mu = _as_float(mu)
        return mu * (1.0 - mu)

    def variance_deriv(self, mu):
        return 1.0 - 2.0 * _as_float(mu)

    def unit_deviance(self, y, mu):
        y = _as_float(y)
        mu = _as_float(mu)
        return 2.0 * (_y_log_y_over_mu(y, mu) + _y_log_y_over_mu(1.0 - y, 1.0 - mu))

    def loglike_obs(self, y, mu, scale=1.0, weights=1.0):
        """ln C(n, k) + k ln mu + (n - k) ln(1 - mu) with n = weights / scale trials and
        k = n y successes; ln C(1, k) = 0 for Bernoulli rows (n = 1, k = 0 or 1)."""
        n = _as_float(weights) / scale
        k = n * y
        if np.all(n == 1) and np.all((k == 0) | (k == 1)):
            log_comb = 0.0
        else:
            log_comb = special.gammaln(n + 1) - special.gammaln(k + 1) - special.gammaln(n - k + 1)
        return log_comb + _xlogy(k, mu) + special.xlog1py(n - k, -_as_float(mu))

    def anscombe_transform(self, y):
        a = 2.0 / 3.0
        return special.betainc(a, a, y) * special.beta(a, a)

    def starting_mu(self, y, weights=1.0):
        """R's choice: (n y + 1/2) / (n + 1), strictly inside (0, 1)."""
        return (weights * _as_float(y) + 0.5) / (weights + 1.0)

    def sample(self, mu, scale=1.0, rng=None, weights=1.0):
        rng = np.random.default_rng(rng)
        n = np.broadcast_to(np.rint(weights).astype(int), np.shape(mu))
        return rng.binomial(n, mu) / np.maximum(n, 1)


class Poisson(Family):
    """Poisson: theta = ln(mu), phi = 1, b = e^theta, S = -ln(y!), v(mu) = mu."""

    name = "Poisson"
    allowed_links = (L.Log, L.Identity, L.Power)
    scale_is_fixed = True
    y_rule = "non-negative counts"
    y_domain = NON_NEGATIVE
    mu_domain = POSITIVE

    @property
    def canonical_link(self):
        return L.Log()

    def b(self, theta):
        return np.exp(theta)

    def S(self, y, phi):
        return -_log_factorial(y)

    def variance(self, mu):
        return _as_float(mu)

    def variance_deriv(self, mu):
        return np.ones_like(_as_float(mu))

    def unit_deviance(self, y, mu):
        """2 [y ln(y/mu) - (y - mu)]; at y = 0 this is 2 mu, not 0."""
        y = _as_float(y)
        out = _y_log_y_over_mu(y, mu)  # a new array, finished in place (no temporaries)
        out -= y
        out += mu
        out *= 2.0
        return out[()]  # (a numpy scalar for scalar input, as before)

    def loglike_obs(self, y, mu, scale=1.0, weights=1.0):
        y = _as_float(y)
        ll = _xlogy(y, mu) - mu - _log_factorial(y)
        return _as_float(weights) / scale * ll

    def anscombe_transform(self, y):
        return 1.5 * _as_float(y) ** (2.0 / 3.0)

    def sample(self, mu, scale=1.0, rng=None, weights=1.0):
        rng = np.random.default_rng(rng)
        return rng.poisson(mu).astype(float)



class Gamma(Family):
    """Gamma: theta = -1/mu, phi = 1/alpha (shape alpha), b = -ln(-theta), v = mu^2.

    S(y, phi) = -ln(phi)/phi - ln Gamma(1/phi) + (1/phi - 1) ln y   (Table 13.8).
    """

    name = "Gamma"
    allowed_links = (L.Inverse, L.Log, L.Identity, L.Power)
    y_domain = POSITIVE
    mu_domain = POSITIVE
    variance_power = 2.0

    @property
    def canonical_link(self):
        return L.Inverse()

    def theta(self, mu):
        return -1.0 / _as_float(mu)

    def b(self, theta):
        return -np.log(-_as_float(theta))

    def b_prime(self, theta):
        return -1.0 / _as_float(theta)

    def S(self, y, phi):
        phi = _as_float(phi)
        return -np.log(phi) / phi - _gammaln_of_weights(1.0 / phi) + (1.0 / phi - 1.0) * np.log(y)

    def variance(self, mu):
        return _as_float(mu) ** 2

    def variance_deriv(self, mu):
        return 2.0 * _as_float(mu)

    def unit_deviance(self, y, mu):
        y = _as_float(y)
        return 2.0 * ((y - mu) / mu - np.log(y / mu))

    def loglike_obs(self, y, mu, scale=1.0, weights=1.0):
        shape = _as_float(weights) / scale
        y = _as_float(y)
        return (
            shape * np.log(shape * y / mu) - shape * y / mu
            - _gammaln_of_weights(shape) - np.log(y)
        )

    def anscombe_transform(self, y):
        return 3.0 * _as_float(y) ** (1.0 / 3.0)

    def sample(self, mu, scale=1.0, rng=None, weights=1.0):
        rng = np.random.default_rng(rng)
        shape = _as_float(weights) / scale
        return rng.gamma(shape, _as_float(mu) / shape)



class InverseGaussian(Family):
    """Inverse Gaussian: theta = -1/(2 mu^2), phi = 1/lambda, b = -sqrt(-2 theta), v = mu^3.

    S(y, phi) = -1/(2 phi y) - ln(2 pi phi y^3)/2.  (Table 13.8 prints the first term
    as theta/(phi y), which is not free of theta; expanding the density gives this.)
    """

    name = "InverseGaussian"
    allowed_links = (L.InverseSquared, L.Inverse, L.Log, L.Identity, L.Power)
    y_domain = POSITIVE
    mu_domain = POSITIVE
    variance_power = 3.0

    @property
    def canonical_link(self):
        return L.InverseSquared()

    def theta(self, mu):
        return -1.0 / (2.0 * _as_float(mu) ** 2)

    def b(self, theta):
        return -np.sqrt(-2.0 * _as_float(theta))

    def b_prime(self, theta):
        return (-2.0 * _as_float(theta)) ** -0.5

    def S(self, y, phi):
        y = _as_float(y)
        return -1.0 / (2.0 * phi * y) - np.log(2.0 * np.pi * phi * y**3) / 2.0

    def variance(self, mu):
        return _as_float(mu) ** 3

    def variance_deriv(self, mu):
        return 3.0 * _as_float(mu) ** 2

    def unit_deviance(self, y, mu):
        y = _as_float(y)
        return (y - mu) ** 2 / (y * mu**2)

    def loglike_obs(self, y, mu, scale=1.0, weights=1.0):
        phi = scale / _as_float(weights)
        y = _as_float(y)
        return -((y - mu) ** 2) / (2.0 * phi * y * mu**2) - np.log(
            2.0 * np.pi * phi * y**3
        ) / 2.0

    def anscombe_transform(self, y):
        return np.log(y)

    def sample(self, mu, scale=1.0, rng=None, weights=1.0):
        rng = np.random.default_rng(rng)
        return rng.wald(mu, _as_float(weights) / scale)



class NegativeBinomial(Family):
    """Negative binomial with known alpha = 1/r: v(mu) = mu + alpha mu^2, phi = 1.

    theta = ln(alpha mu / (1 + alpha mu)), b = -r ln(1 - e^theta),
    S = ln Gamma(y + r) - ln y! - ln Gamma(r)   (Table 13.8, r fixed).
    The default link is the log link, as in statsmodels and MASS::glm.nb.
    """

    name = "NegativeBinomial"
    allowed_links = (L.Log, L.NegativeBinomialLink, L.Identity, L.Power)
    scale_is_fixed = True
    y_rule = "non-negative counts"
    y_domain = NON_NEGATIVE
    mu_domain = POSITIVE

    def __init__(self, link: L.Link | None = None, alpha: float = 1.0):
        alpha_f = _real_or_nan(alpha)
        if not (np.isfinite(alpha_f) and alpha_f > 0):
            raise ValueError(f"alpha: must be a positive finite number, got {alpha!r}")
        self.alpha = alpha_f
        super().__init__(link)

    @property
    def canonical_link(self):
        return L.NegativeBinomialLink(self.alpha)

    def default_link(self):
        return L.Log()

    def b(self, theta):
        return -np.log1p(-np.exp(theta)) / self.alpha

    def S(self, y, phi):
        """ln Gamma(y + r) - ln y! - ln Gamma(r), with the log-gamma difference taken
        without cancellation for large r (tiny alpha; see ``_log_rising_over_power``)."""
        r = 1.0 / self.alpha
        y = _as_float(y)
        return _log_rising_over_power(y, r) + special.xlogy(y, r) - _log_factorial(y)

    def variance(self, mu):
        mu = _as_float(mu)
        return mu + self.alpha * mu**2

    def variance_deriv(self, mu):
        return 1.0 + 2.0 * self.alpha * _as_float(mu)

    def unit_deviance(self, y, mu):
        y = _as_float(y)
        r = 1.0 / self.alpha
        return 2.0 * (
            _y_log_y_over_mu(y, mu)
            - (y + r) * (np.log1p(self.alpha * y) - np.log1p(self.alpha * mu))
        )

    def loglike_obs(self, y, mu, scale=1.0, weights=1.0):
        y = _as_float(y)
        a = self.alpha
        r = 1.0 / a
        # y ln(a mu) + ln Gamma(y + r) - ln Gamma(r) = y ln mu + C(y, r), since a r = 1:
        # written so, nothing cancels when alpha is tiny (issue 12, item 13)
        ll = (
            _xlogy(y, mu) + _log_rising_over_power(y, r) - (y + r) * np.log1p(a * mu)
            - _log_factorial(y)
        )
        return _as_float(weights) / scale * ll

    def anscombe_transform(self, y):
        y = _as_float(y)
        hyp = special.hyp2f1(2.0 / 3.0, 1.0 / 3.0, 5.0 / 3.0, -self.alpha * y)
        return 1.5 * y ** (2.0 / 3.0) * hyp

    def sample(self, mu, scale=1.0, rng=None, weights=1.0):
        rng = np.random.default_rng(rng)
        r = 1.0 / self.alpha
        return rng.negative_binomial(r, r / (r + _as_float(mu))).astype(float)

    def __repr__(self) -> str:
        return f"NegativeBinomial(link={self.link!r}, alpha={self.alpha:g})"


class Tweedie(Family):
    r"""Tweedie with power p: v(mu) = mu^p.

    p = 0 is the normal, p = 1 the Poisson, 1 < p < 2 the compound Poisson-gamma
    (a mass at zero plus a continuous part, section 13.6), p = 2 the gamma and p = 3
    the inverse Gaussian.  Powers in (0, 1) do not correspond to any distribution.

    theta = mu^{1-p} / (1 - p), b(theta) = mu^{2-p} / (2 - p) (logs at p = 1, 2).
    For 1 < p < 2, S(y, phi) comes from the series of Dunn & Smyth (2005):
    S(y, phi) = ln W(y, phi, p) - ln y with W a Wright Bessel function, and S(0, phi) = 0.
    The default link is the log link, as in statsmodels.

    At the special powers p = 0, 1, 2, 3 every component is that of the family it
    equals, ``self._special`` (a Gaussian, Poisson, Gamma or InverseGaussian with the
    same link; None at other powers): one delegate instead of a branch per power.  The
    one exception is p = 1 with a free dispersion, the over-dispersed Poisson
    y / phi ~ Poisson(mu / phi), whose S, density and draws are written here (the
    Poisson itself has phi = 1).
    """

    name = "Tweedie"
    allowed_links = (L.Log, L.Power, L.Identity)
    _SPECIAL = {0.0: Gaussian, 1.0: Poisson, 2.0: Gamma, 3.0: InverseGaussian}

    def __init__(self, link: L.Link | None = None, power: float = 1.5):
        p = _real_or_nan(power)
        if not np.isfinite(p) or (0 < p < 1) or p < 0:
            raise ValueError(
                f"power: must be 0 or at least 1 (no Tweedie distribution has 0 < p < 1 "
                f"or p < 0), got {power!r}"
            )
        self.power = p
        super().__init__(link)
        special_family = self._SPECIAL.get(p)
        self._special = None if special_family is None else special_family(self.link)
        # the delegate's density is the Tweedie's when its dispersion is free too
        self._same_density = self._special is not None and not self._special.scale_is_fixed

    @property
    def y_domain(self) -> Interval:
        if self._special is not None:
            return self._special.y_domain
        return NON_NEGATIVE if self.power < 2 else POSITIVE

    @property
    def mu_domain(self) -> Interval:
        return POSITIVE if self._special is None else self._special.mu_domain

    @property
    def y_rule(self) -> str:
        return self.y_domain.describe()

    @property
    def variance_power(self) -> float:
        return self.power

    @property
    def has_density(self) -> bool:
        """A density is implemented for p = 0, 1 <= p <= 2 and p = 3."""
        return self._special is not None or 1 < self.power < 2

    @property
    def scale_is_fixed(self):
        return False

    @property
    def canonical_link(self):
        p = self.power
        return L.Log() if p == 1 else (L.Identity() if p == 0 else L.Power(1.0 - p))

    def default_link(self):
        return L.Log()

    def theta(self, mu):
        if self._special is not None:
            return self._special.theta(mu)
        p = self.power
        return _as_float(mu) ** (1 - p) / (1 - p)

    def b(self, theta):
        if self._special is not None:
            return self._special.b(theta)
        p = self.power
        return self.b_prime(theta) ** (2 - p) / (2 - p)

    def b_prime(self, theta):
        if self._special is not None:
            return self._special.b_prime(theta)
        p = self.power
        return ((1 - p) * _as_float(theta)) ** (1.0 / (1 - p))

    def S(self, y, phi):
        y = _as_float(y)
        phi = np.broadcast_to(_as_float(phi), y.shape)
        if self._same_density:
            return self._special.S(y, phi)
        if self._special is not None:  # p = 1: y / phi ~ Poisson(mu / phi)
            return -special.gammaln(y / phi + 1) - (y / phi) * np.log(phi)
        p = self.power
        if not self.has_density:
            raise NotImplementedError(
                "The Tweedie density has no series implemented here for p > 2 other than "
                "p = 3; the log-likelihood (and so AIC/BIC) is not available for this power"
            )
        out = np.zeros_like(y)
        pos = y > 0
        a = (2 - p) / (1 - p)
        yp, ph = y[pos], phi[pos]
        with np.errstate(all="ignore"):  # x overflows for p near 1: series below
            x = ((p - 1) * ph / yp) ** a / ((2 - p) * ph)
            log_w = special.log_wright_bessel(-a, 0.0, x)
        bad = ~np.isfinite(log_w)
        if bad.any():  # p close to 1: sum the series directly
            log_w[bad] = _tweedie_log_w_series(yp[bad], ph[bad], p)
        out[pos] = log_w - np.log(yp)
        return out

    def variance(self, mu):
        return _as_float(mu) ** self.power

    def variance_deriv(self, mu):
        p = self.power
        return p * _as_float(mu) ** (p - 1)

    def unit_deviance(self, y, mu):
        if self._special is not None:
            return self._special.unit_deviance(y, mu)
        p = self.power
        y = _as_float(y)
        mu = _as_float(mu)
        return 2.0 * (
            y ** (2 - p) / ((1 - p) * (2 - p))
            - y * mu ** (1 - p) / (1 - p)
            + mu ** (2 - p) / (2 - p)
        )

    def loglike_obs(self, y, mu, scale=1.0, weights=1.0):
        if self._same_density:
            return self._special.loglike_obs(y, mu, scale, weights)
        phi = scale / _as_float(weights)
        y, mu = _as_float(y), _as_float(mu)
        if self._special is not None:  # p = 1: theta = ln mu, b = mu, the over-dispersed
            y_theta_minus_b = _xlogy(y, mu) - mu  # Poisson (= Poisson's at phi = 1)
        else:
            p = self.power
            y_theta_minus_b = y * mu ** (1 - p) / (1 - p) - mu ** (2 - p) / (2 - p)
        return y_theta_minus_b / phi + self.S(y, phi)

    def anscombe_transform(self, y):
        if self._special is not None:
            return self._special.anscombe_transform(y)
        c = (3.0 - self.power) / 3.0
        return _as_float(y) ** c / c

    def sample(self, mu, scale=1.0, rng=None, weights=1.0):
        """Compound Poisson-gamma draws for 1 < p < 2 (section 13.6): N ~ Poisson(lambda),
        y = sum of N gamma(alpha, gamma) claims, with lambda = mu^{2-p} / (phi (2-p)),
        alpha = (2-p)/(p-1), gamma = 1 / (phi (p-1) mu^{p-1})."""
        rng = np.random.default_rng(rng)
        if self._same_density:
            return self._special.sample(mu, scale, rng, weights)
        p = self.power
        mu = _as_float(mu)
        phi = np.broadcast_to(scale / _as_float(weights), mu.shape)
        if self._special is not None:  # p = 1: y / phi ~ Poisson(mu / phi)
            return phi * rng.poisson(mu / phi)
        if not 1 < p < 2:
            raise NotImplementedError("sampling is implemented for p = 0, 1 <= p <= 2 and 3")
        lam = mu ** (2 - p) / (phi * (2 - p))
        shape = (2 - p) / (p - 1)
        rate = 1.0 / (phi * (p - 1) * mu ** (p - 1))
        counts = rng.poisson(lam)
        out = np.zeros_like(mu)
        pos = counts > 0
        out[pos] = rng.gamma(shape * counts[pos], 1.0 / rate[pos])
        return out

    def __repr__(self) -> str:
        return f"Tweedie(link={self.link!r}, power={self.power:g})"


FAMILY_NAMES = ("Gaussian", "Binomial", "Poisson", "Gamma", "InverseGaussian",
                "NegativeBinomial", "Tweedie")


def make_family(family: str | Family, *, alpha: float = 1.0, power: float = 1.5) -> Family:
    """A family instance from a name in ``FAMILY_NAMES`` (case-insensitive) or an
    instance (returned unchanged); ``alpha`` for NegativeBinomial, ``power`` for Tweedie."""
    if isinstance(family, Family):
        return family
    name = str(family).replace(" ", "").replace("_", "").lower()
    table = {n.lower(): n for n in FAMILY_NAMES}
    table.update({"normal": "Gaussian", "bernoulli": "Binomial", "negbin": "NegativeBinomial",
                  "ig": "InverseGaussian"})
    if name not in table:
        raise ValueError(f"family: must be one of {', '.join(FAMILY_NAMES)}, got {family!r}")
    cls = globals()[table[name]]
    if cls is NegativeBinomial:
        return cls(alpha=alpha)
    if cls is Tweedie:
        return cls(power=power)
    return cls()


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
