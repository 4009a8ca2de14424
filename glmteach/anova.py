r"""Analysis of deviance for nested GLMs: ``gt.anova(res_1, res_2, ..., test="Chisq")``.

R's ``anova(fit_1, fit_2, ..., test = ...)`` for ``glm`` fits (``stats:::anova.glmlist``),
with its columns.  For consecutive models i - 1 and i,

    Df_i = df_resid(i - 1) - df_resid(i),     Deviance_i = D(i - 1) - D(i),

and, with phi the dispersion of the largest model (the one with the fewest residual
degrees of freedom), its ``scale`` by the fit's scale rule (R's
``summary(fit)$dispersion``): by default 1 for the binomial, Poisson and negative
binomial and Pearson X^2 / df_resid otherwise; with ``scale="X2"`` X^2 / df_resid for
every family (R's quasipoisson and quasibinomial); a number when the scale was fixed:

- ``test="Chisq"`` (or ``"LRT"``): Pr(>Chi) = P(chi^2_{|Df|} > Deviance / phi), the
  (scaled) likelihood ratio test;
- ``test="F"``: F = (Deviance / Df) / phi and Pr(>F) = P(F_{|Df|, df_phi} > F), df_phi the
  residual degrees of freedom of the largest model, or infinity when phi is not
  estimated (then F |Df| is chi^2_{|Df|}; R warns that the F test is inappropriate
  there, and so does glmteach).  Whether phi is estimated follows the fit's scale rule,
  not its family: a Poisson fit with ``scale="X2"`` gets the F test of R's
  ``anova(quasipoisson_fit, test = "F")``.

The models must be fits of the same data - the same response, prior weights, offset and
family - and consecutive models must be nested: the columns of the smaller design
matrix must lie in the column space of the larger one (checked numerically on the rows
with positive weight, so ``y ~ x`` and ``y ~ C(g)`` in another parametrisation of the
same space are recognised).  Anything else is a ``ValueError``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["anova"]

TESTS = ("Chisq", "LRT", "F")
SPAN_TOL = 1e-8


def _same(a, b) -> bool:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.array_equal(a, b))


def _family_key(family) -> tuple:
    return type(family).__name__, type(family.link).__name__, repr(family)


def _check_same_data(first, other, k: int) -> None:
    p0, p1 = first.problem, other.problem
    where = f"results: model {k + 1} is not fitted to the same data as model 1"
    if p0.n != p1.n:
        raise ValueError(f"{where} ({p1.n} rows against {p0.n})")
    if not _same(p0.y, p1.y):
        raise ValueError(f"{where}: the responses differ")
    if not _same(p0.weights, p1.weights):
        raise ValueError(f"{where}: the prior weights differ")
    if not _same(p0.offset, p1.offset):
        raise ValueError(f"{where}: the offsets (or exposures) differ")
    fw0, fw1 = getattr(p0, "freq_weights", None), getattr(p1, "freq_weights", None)
    if (fw0 is None) != (fw1 is None) or (fw0 is not None and not _same(fw0, fw1)):
        raise ValueError(f"{where}: the frequency weights differ")
    if _family_key(first.family) != _family_key(other.family):
        raise ValueError(f"{where}: the families differ ({first.family!r} against "
                         f"{other.family!r}); a deviance difference compares models of one "
                         f"family and link")


def _lies_in_span(small: np.ndarray, big: np.ndarray) -> bool:
    """Every column of ``small`` is a linear combination of the columns of ``big``:
    the residual of its least squares projection is below SPAN_TOL of its norm."""
    from scipy import linalg

    q, _ = linalg.qr(big, mode="economic", check_finite=False)
    residual = small - q @ (q.T @ small)
    norms = np.linalg.norm(small, axis=0)
    return bool(np.all(np.linalg.norm(residual, axis=0) <= SPAN_TOL * np.maximum(norms,
                                                                              1e-300)))


def _check_nested(a, b, k: int) -> None:
    used = (a.problem.weights > 0) & (b.problem.weights > 0)
    Xa, Xb = a.problem.X[used], b.problem.X[used]
    small, big = (Xa, Xb) if Xa.shape[1] <= Xb.shape[1] else (Xb, Xa)
    if not _lies_in_span(small, big):
        raise ValueError(
            f"results: models {k} and {k + 1} are not nested - the columns of the smaller "
            f"model ({small.shape[1]} coefficients) do not lie in the column space of the "
            f"larger one ({big.shape[1]}), so their deviance difference has no chi-squared "
            f"or F distribution; compare non-nested models by AIC instead")


def anova(*results, test: str = "Chisq"):
    """Analysis of deviance table of nested fits of the same data (R's ``anova.glm`` with
    several models).  Returns a pandas DataFrame with the rows 1, 2, ... (one per model)
    and the columns ``Resid. Df``, ``Resid. Dev``, ``Df``, ``Deviance`` and ``Pr(>Chi)``
    (``test="Chisq"``) or ``F`` and ``Pr(>F)`` (``test="F"``); the first row has no
    difference (NaN).  See the module docstring for the formulas."""
    import warnings

    import pandas as pd
    from scipy import stats  # here, not at import: scipy.stats takes a third of a second

    from glmteach.results import GLMResults

    if len(results) == 1 and isinstance(results[0], list | tuple):
        results = tuple(results[0])
    if len(results) < 2:
        raise ValueError(f"results: anova needs at least two fitted models (nested fits of "
                         f"the same data), got {len(results)}")
    for k, res in enumerate(results):
        if not isinstance(res, GLMResults):
            raise ValueError(f"results: model {k + 1} is not a GLMResults (a gt.fit or "
                             f"gt.glm result), got {type(res).__name__}")
    if test not in TESTS:
        raise ValueError(f"test: must be one of {TESTS}, got {test!r}")
    for k, res in enumerate(results[1:], start=1):
        _check_same_data(results[0], res, k)
    for k in range(1, len(results)):
        _check_nested(results[k - 1], results[k], k)

    resid_df = np.array([float(r.df_resid) for r in results])
    resid_dev = np.array([float(r.deviance) for r in results])
    df = np.r_[np.nan, resid_df[:-1] - resid_df[1:]]
    dev = np.r_[np.nan, resid_dev[:-1] - resid_dev[1:]]
    big = results[int(np.argmin(resid_df))]
    scale = float(big.scale)
    # the fit's scale rule decides, not the family: a Poisson fit with scale="X2" (R's
    # quasipoisson) has an estimated dispersion, and its F test is the right one
    fixed = not big.problem.scale_estimated
    table = {"Resid. Df": resid_df, "Resid. Dev": resid_dev, "Df": df, "Deviance": dev}
    valid = np.isfinite(df) & (df != 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        if test in ("Chisq", "LRT"):
            stat = np.where(valid, dev / scale * np.sign(df), np.nan)
            table["Pr(>Chi)"] = np.where(valid, stats.chi2.sf(stat, np.abs(df)), np.nan)
        else:
            if fixed:
                warnings.warn(f"anova: the F test with a {big.family.name} family (dispersion "
                              f"fixed at {scale:g}) is inappropriate; its F is chi-squared / "
                              f"Df (R gives the same warning) - use test='Chisq', or fit with "
                              f"scale='X2' to estimate the dispersion", UserWarning,
                              stacklevel=2)
            fvalue = np.where(valid, dev / df / scale, np.nan)
            fvalue = np.where(fvalue < 0, np.nan, fvalue)
            if fixed:
                pvalue = stats.chi2.sf(fvalue * np.abs(df), np.abs(df))
            else:
                pvalue = stats.f.sf(fvalue, np.abs(df), float(big.df_resid))
            table["F"] = fvalue
            table["Pr(>F)"] = np.where(np.isfinite(fvalue), pvalue, np.nan)
    return pd.DataFrame(table, index=pd.RangeIndex(1, len(results) + 1))
