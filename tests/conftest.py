"""Fixtures and set-up shared by the test files.

- ``tools/`` is put on ``sys.path`` once, so test files import the course tools
  (``import course``, ``import make_student``) without a path line of their own.
- The hypothesis profiles: "ci" (the default: derandomized, the same examples on every
  run) and "explore" (fresh random examples); choose with ``HYPOTHESIS_PROFILE``.
- ``project_root``: the repository folder; ``mildenhall``: the ratemaking data of
  Frees (2010, Table 13.3), loaded once per session.
- Fitted models for the figure and widget tests (tests/test_plotting.py,
  tests/test_widgets.py): synthetic data with a fixed random seed, built once per session.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings

import glmteach as gt

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "tools") not in sys.path:
    sys.path.insert(0, str(ROOT / "tools"))

settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


# -- paths and data -----------------------------------------------------------------------
@pytest.fixture(scope="session")
def project_root() -> Path:
    """The repository folder (the parent of tests/)."""
    return ROOT


@pytest.fixture(scope="session")
def mildenhall():
    """Frees (2010, Table 13.3): 32 cells of age group x vehicle use (a fresh copy is not
    needed: tests must not modify it)."""
    return gt.datasets.load_mildenhall()


def synthetic_fit(kind: str, beta: list[float], n: int, seed: int) -> gt.GLMResults:
    """Fit a GLM to n rows of synthetic data: X = [1, N(0, 1) columns], eta = X beta and
    y drawn with mean g^{-1}(eta): ``kind`` "poisson" (log link), "gamma-log" (shape 2)
    or "logit" (Bernoulli)."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(n), rng.standard_normal((n, len(beta) - 1))])
    eta = X @ np.asarray(beta, dtype=float)
    if kind == "poisson":
        y, family = rng.poisson(np.exp(eta)), gt.Poisson()
    elif kind == "gamma-log":
        y, family = rng.gamma(2.0, np.exp(eta) / 2.0), gt.Gamma(link=gt.links.Log())
    elif kind == "logit":
        y, family = rng.binomial(1, 1.0 / (1.0 + np.exp(-eta))).astype(float), gt.Binomial()
    else:
        raise ValueError(f"kind: must be 'poisson', 'gamma-log' or 'logit', got {kind!r}")
    return gt.fit(X, y, family=family)


# -- figures and widgets ------------------------------------------------------------------
@pytest.fixture(scope="session")
def poisson2():
    """Poisson, log link, two coefficients (the path is drawn over likelihood contours)."""
    return synthetic_fit("poisson", [0.4, 0.5], n=500, seed=21)


@pytest.fixture(scope="session")
def gamma_log():
    """A non-canonical link, two coefficients: Fisher scoring and Newton-Raphson differ."""
    return synthetic_fit("gamma-log", [1.0, 0.5], n=400, seed=22)


@pytest.fixture(scope="session")
def gamma3():
    """Gamma with the log link and three coefficients (path drawn against k)."""
    return synthetic_fit("gamma-log", [1.0, 0.4, -0.2], n=300, seed=12)


@pytest.fixture(scope="session")
def binomial4():
    """Logistic regression with four coefficients."""
    return synthetic_fit("logit", [0.2, 0.8, -0.5, 0.3], n=600, seed=23)


@pytest.fixture(scope="session")
def big_poisson():
    """n > 20,000: only the last iteration keeps its vectors (eta, mu, z, W)."""
    return synthetic_fit("poisson", [0.2, 0.3], n=20_050, seed=24)
