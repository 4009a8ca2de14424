"""glmteach: how a generalized linear model is really fitted, step by step.

    import glmteach as gt
    res = gt.fit(X, y, family=gt.Poisson(), exposure=holders)
    res.summary()

The package is layered, each layer importing only from the ones before it (see
docs/architecture.md; tests/test_architecture.py enforces the order): ``links``,
``linalg`` (X'WX and its solution, pure array code) and ``datasets``; ``families`` (the
exponential family as code); ``problem`` (validated data); ``irls`` (one step as a pure
function, and ``iterate``, the loop of steps); ``results`` (inference and residuals of a
history); ``fit`` (``gt.fit``: problem, loop, results and warnings; ``distributed`` for
dask arrays); ``formula`` (``gt.glm``), ``negbin``, ``anova`` and ``compare``; and,
imported only on demand, ``traces``, ``plotting`` (matplotlib), ``exercises`` and
``widgets`` (ipywidgets).
"""

from glmteach import datasets, families, links
from glmteach.anova import anova
from glmteach.compare import compare
from glmteach.exceptions import (
    ComparisonError,
    ConvergenceWarning,
    FitError,
    PerfectSeparationWarning,
)
from glmteach.families import (
    Binomial,
    Family,
    Gamma,
    Gaussian,
    InverseGaussian,
    NegativeBinomial,
    Poisson,
    Tweedie,
)
from glmteach.fit import fit
from glmteach.formula import glm
from glmteach.irls import IterationState, initial_state, irls_step, newton_step
from glmteach.negbin import AlphaAtZeroWarning, fit_negative_binomial, glm_nb
from glmteach.problem import GLMProblem
from glmteach.results import GLMResults

__version__ = "0.1.0"

__all__ = [
    "datasets",
    "families",
    "links",
    "Family",
    "Gaussian",
    "Binomial",
    "Poisson",
    "Gamma",
    "InverseGaussian",
    "NegativeBinomial",
    "Tweedie",
    "GLMProblem",
    "IterationState",
    "initial_state",
    "irls_step",
    "newton_step",
    "fit",
    "glm",
    "GLMResults",
    "ConvergenceWarning",
    "PerfectSeparationWarning",
    "FitError",
    "ComparisonError",
    "compare",
    "anova",
    "fit_negative_binomial",
    "glm_nb",
    "AlphaAtZeroWarning",
]
