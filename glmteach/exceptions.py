"""Warnings and errors raised by glmteach.

They are glmteach's own classes so that a notebook can filter or catch exactly them:
``warnings.simplefilter("error", gt.ConvergenceWarning)`` turns non-convergence into
an error, for example.
"""

__all__ = ["ConvergenceWarning", "PerfectSeparationWarning", "FitError", "ComparisonError"]


class ConvergenceWarning(UserWarning):
    """The fit stopped at ``maxiter`` before the convergence rule was met."""


class PerfectSeparationWarning(UserWarning):
    """Some fitted binomial probabilities are numerically 0 or 1: the data are (quasi-)
    completely separated and the maximum likelihood estimate does not exist (it lies at
    infinity in the direction of the coefficients that keep growing)."""


class FitError(RuntimeError):
    """The fit cannot continue: even a tiny step leaves the family's mean space or
    gives a non-finite deviance.  The message says at which iteration and why."""



class ComparisonError(AssertionError):
    """``gt.compare`` found two fits that disagree beyond a tolerance.  It is an
    ``AssertionError`` so that test runners and nbval report it as a failed check."""
