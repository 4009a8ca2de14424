"""Link functions g(mu) = eta and their inverses.

A link maps the mean mu of the response onto the whole real line, where the linear
predictor eta = x'beta lives (Frees 2010, eq. 13.1: eta = g(mu)).
Each class below gives four functions, the same protocol as R's ``make.link``:

- ``link(mu)``            eta = g(mu)
- ``inverse(eta)``        mu = g^{-1}(eta), the *mean function*
- ``deriv(mu)``           d eta / d mu = g'(mu)
- ``inverse_deriv(eta)``  d mu / d eta = 1 / g'(mu)  (``inverse_deriv_at(eta, mu)``:
  the same, when mu is at hand too)

and ``deriv2(mu)`` = g''(mu), needed only by Newton-Raphson with the observed
information.  ``inverse_deriv`` is written directly in terms of eta wherever that is
more stable in the tails (logit, probit, cloglog), so working weights never become
0/0 at extreme linear predictors.

Only numpy and scipy.special are imported here.
"""

from __future__ import annotations

import numpy as np
from scipy import special

__all__ = [
    "Link",
    "Identity",
    "Log",
    "Logit",
    "Probit",
    "CLogLog",
    "Power",
    "Inverse",
    "InverseSquared",
    "NegativeBinomialLink",
    "LINK_NAMES",
    "make_link",
]


class Link:
    """Base class: a monotone, twice differentiable map from the mean to eta."""

    name = "link"

    def link(self, mu: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def inverse(self, eta: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def deriv(self, mu: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def deriv2(self, mu: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def inverse_deriv(self, eta: np.ndarray) -> np.ndarray:
        return 1.0 / self.deriv(self.inverse(eta))

    def inverse_deriv_at(self, eta: np.ndarray, mu: np.ndarray) -> np.ndarray:
        """d mu / d eta at eta when mu = inverse(eta) is known too, as in a fit: the same
        numbers as ``inverse_deriv(eta)``, from mu where that saves work (log link)."""
        return self.inverse_deriv(eta)

    def inverse_complement(self, eta: np.ndarray) -> np.ndarray:
        """1 - g^{-1}(eta).  The links onto (0, 1) override this with a formula that stays
        accurate when the mean is close to 1, where ``1 - inverse(eta)`` cancels."""
        return 1.0 - self.inverse(eta)

    def __call__(self, mu: np.ndarray) -> np.ndarray:
        return self.link(mu)

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and vars(self) == vars(other)

    def __hash__(self) -> int:
        return hash((type(self).__name__, tuple(sorted(vars(self).items()))))

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Identity(Link):
    """g(mu) = mu: the additive model; canonical for the normal distribution."""

    name = "identity"

    def link(self, mu):
        return np.asarray(mu, dtype=float)

    def inverse(self, eta):
        return np.asarray(eta, dtype=float)

    def deriv(self, mu):
        return np.ones_like(np.asarray(mu, dtype=float))

    def deriv2(self, mu):
        return np.zeros_like(np.asarray(mu, dtype=float))

    def inverse_deriv(self, eta):
        return np.ones_like(np.asarray(eta, dtype=float))


class Log(Link):
    """g(mu) = ln(mu): the multiplicative model (equation 13.3); canonical for Poisson."""

    name = "log"

    def link(self, mu):
        return np.log(mu)

    def inverse(self, eta):
        return np.exp(eta)

    def deriv(self, mu):
        return 1.0 / np.asarray(mu, dtype=float)

    def deriv2(self, mu):
        return -1.0 / np.asarray(mu, dtype=float) ** 2

    def inverse_deriv(self, eta):
        return np.exp(eta)

    def inverse_deriv_at(self, eta, mu):
        """d mu / d eta = e^eta = mu: the mean itself, not a second exponential."""
        return np.asarray(mu, dtype=float)


class Logit(Link):
    """g(mu) = ln(mu / (1 - mu)); canonical for the Bernoulli and binomial.

    The mean function is the logistic (sigmoid) function 1 / (1 + e^{-eta}) and
    d mu / d eta = mu (1 - mu) = e^{-|eta|} / (1 + e^{-|eta|})^2 (symmetric in eta),
    computed in that form so that both tails stay accurate with a single exponential.
    """

    name = "logit"

    def link(self, mu):
        return special.logit(mu)

    def inverse(self, eta):
        return special.expit(eta)

    def deriv(self, mu):
        mu = np.asarray(mu, dtype=float)
        return 1.0 / (mu * (1.0 - mu))

    def deriv2(self, mu):
        mu = np.asarray(mu, dtype=float)
        return (2.0 * mu - 1.0) / (mu * (1.0 - mu)) ** 2

    def inverse_deriv(self, eta):
        tail = np.exp(-np.abs(np.asarray(eta, dtype=float)))
        return tail / (1.0 + tail) ** 2

    def inverse_complement(self, eta):
        return special.expit(-np.asarray(eta, dtype=float))


class Probit(Link):
    """g(mu) = Phi^{-1}(mu), the standard normal quantile function."""

    name = "probit"

    def link(self, mu):
        return special.ndtri(mu)

    def inverse(self, eta):
        return special.ndtr(eta)

    def deriv(self, mu):
        return 1.0 / _normal_pdf(special.ndtri(mu))

    def deriv2(self, mu):
        eta = special.ndtri(mu)
        return eta / _normal_pdf(eta) ** 2

    def inverse_deriv(self, eta):
        return _normal_pdf(eta)

    def inverse_complement(self, eta):
        return special.ndtr(-np.asarray(eta, dtype=float))


class CLogLog(Link):
    """Complementary log-log: g(mu) = ln(-ln(1 - mu)); mean function 1 - exp(-e^eta)."""

    name = "cloglog"

    def link(self, mu):
        return np.log(-np.log1p(-np.asarray(mu, dtype=float)))

    def inverse(self, eta):
        return -np.expm1(-np.exp(eta))

    def deriv(self, mu):
        mu = np.asarray(mu, dtype=float)
        return -1.0 / ((1.0 - mu) * np.log1p(-mu))

    def deriv2(self, mu):
        mu = np.asarray(mu, dtype=float)
        minus_log = -np.log1p(-mu)
        return (minus_log - 1.0) / ((1.0 - mu) ** 2 * minus_log**2)

    def inverse_deriv(self, eta):
        eta = np.asarray(eta, dtype=float)
        return np.exp(eta - np.exp(eta))

    def inverse_complement(self, eta):
        return np.exp(-np.exp(np.asarray(eta, dtype=float)))


class Power(Link):
    """g(mu) = mu^p for a power p != 0 (p = 1 is the identity; use Log for p -> 0)."""

    name = "power"

    def __init__(self, power: float = 1.0):
        power = float(power)
        if power == 0.0 or not np.isfinite(power):
            raise ValueError(
                f"power: must be a finite, non-zero number (got {power!r}); "
                "the limit p -> 0 of the power link is the Log link"
            )
        self.power = power

    def link(self, mu):
        return np.power(np.asarray(mu, dtype=float), self.power)

    def inverse(self, eta):
        return np.power(np.asarray(eta, dtype=float), 1.0 / self.power)

    def deriv(self, mu):
        return self.power * np.power(np.asarray(mu, dtype=float), self.power - 1.0)

    def deriv2(self, mu):
        p = self.power
        return p * (p - 1.0) * np.power(np.asarray(mu, dtype=float), p - 2.0)

    def inverse_deriv(self, eta):
        p = self.power
        return np.power(np.asarray(eta, dtype=float), 1.0 / p - 1.0) / p

    def __repr__(self) -> str:
        return f"Power({self.power:g})"


class Inverse(Power):
    """g(mu) = 1 / mu, the canonical gamma link up to sign (Table 13.2: -1/mu)."""

    name = "inverse"

    def __init__(self):
        super().__init__(-1.0)

    def __repr__(self) -> str:
        return "Inverse()"


class InverseSquared(Power):
    """g(mu) = 1 / mu^2, the canonical inverse Gaussian link up to scale (-1/(2 mu^2))."""

    name = "inverse_squared"

    def __init__(self):
        super().__init__(-2.0)

    def __repr__(self) -> str:
        return "InverseSquared()"


class NegativeBinomialLink(Link):
    """Canonical negative binomial link g(mu) = ln(alpha mu / (1 + alpha mu)).

    It maps (0, inf) onto (-inf, 0): eta must stay negative, which is why the log link
    is the usual choice in practice.
    """

    name = "nbinom"

    def __init__(self, alpha: float = 1.0):
        self.alpha = float(alpha)

    def link(self, mu):
        a_mu = self.alpha * np.asarray(mu, dtype=float)
        return np.log(a_mu / (1.0 + a_mu))

    def inverse(self, eta):
        # e^eta = alpha mu / (1 + alpha mu)  =>  alpha mu = 1 / (e^{-eta} - 1)
        return 1.0 / (self.alpha * np.expm1(-np.asarray(eta, dtype=float)))

    def deriv(self, mu):
        mu = np.asarray(mu, dtype=float)
        return 1.0 / (mu + self.alpha * mu**2)

    def deriv2(self, mu):
        mu = np.asarray(mu, dtype=float)
        return -(1.0 + 2.0 * self.alpha * mu) / (mu + self.alpha * mu**2) ** 2

    def inverse_deriv(self, eta):
        mu = self.inverse(eta)
        return mu + self.alpha * mu**2

    def __repr__(self) -> str:
        return f"NegativeBinomialLink(alpha={self.alpha:g})"


def _normal_pdf(x):
    x = np.asarray(x, dtype=float)
    return np.exp(-0.5 * x * x) / np.sqrt(2.0 * np.pi)


LINK_NAMES = ("logit", "probit", "cloglog", "log", "identity")


def make_link(link: str | Link) -> Link:
    """A link instance from a name in ``LINK_NAMES`` or an instance (returned as is)."""
    if isinstance(link, Link):
        return link
    table = {"logit": Logit, "probit": Probit, "cloglog": CLogLog, "log": Log,
             "identity": Identity}
    key = str(link).lower()
    if key not in table:
        raise ValueError(f"link: must be one of {', '.join(table)} or a Link, got {link!r}")
    return table[key]()
