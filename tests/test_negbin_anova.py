"""gt.anova (R's anova.glm) and gt.fit_negative_binomial / gt.glm_nb (R's MASS::glm.nb)
against deviance differences, scipy.stats tail probabilities, R's documented output and
statsmodels' NegativeBinomial maximum likelihood (issue 17, items 8 and 9)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import glmteach as gt
from glmteach import links as L

ANOVA_COLUMNS = ["Resid. Df", "Resid. Dev", "Df", "Deviance"]


def _counts(seed: int = 2, n: int = 120):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"x": rng.normal(size=n), "z": rng.uniform(-1, 1, n),
                       "g": rng.choice(["a", "b", "c"], n)})
    df["y"] = rng.poisson(np.exp(0.3 + 0.5 * df["x"] + 0.2 * (df["g"] == "b")))
    df["w"] = rng.uniform(0.5, 2.0, n)
    df["pos"] = rng.gamma(2.0, np.exp(0.1 + 0.3 * df["x"]) / 2.0)
    return df


def test_anova_dobson_example_as_documented_by_r():
    """R's ?glm example (Dobson 1990, An Introduction to Generalized Linear Models, p. 93):
    counts by outcome and treatment.  R prints for the three nested fits NULL, + outcome,
    + treatment: residual deviances 10.5814, 5.1291, 5.1291 on 8, 6, 4 df; the outcome
    term's deviance 5.4523 on 2 df with Pr(>Chi) = 0.06547."""
    df = pd.DataFrame({"counts": [18, 17, 15, 20, 10, 20, 25, 13, 12],
                       "outcome": ["1", "2", "3"] * 3,
                       "treatment": ["1"] * 3 + ["2"] * 3 + ["3"] * 3})
    fits = [gt.glm(f, data=df, family=gt.Poisson(), tol=1e-12)
            for f in ("counts ~ 1", "counts ~ C(outcome)", "counts ~ C(outcome) + C(treatment)")]
    table = gt.anova(*fits)
    assert list(table.columns) == [*ANOVA_COLUMNS, "Pr(>Chi)"]
    assert list(table.index) == [1, 2, 3]
    np.testing.assert_allclose(table["Resid. Df"], [8, 6, 4])
    np.testing.assert_allclose(table["Resid. Dev"], [10.5814, 5.1291, 5.1291], atol=5e-5)
    assert abs(table.loc[2, "Deviance"] - 5.4523) < 5e-5
    assert abs(table.loc[2, "Pr(>Chi)"] - 0.06547) < 5e-6
    assert abs(table.loc[3, "Deviance"]) < 1e-10
    assert table.loc[1, ["Df", "Deviance", "Pr(>Chi)"]].isna().all()


@pytest.mark.parametrize("weighted", [False, True])
def test_anova_chisq_is_the_deviance_difference(weighted):
    df = _counts()
    w = "w" if weighted else None
    small = gt.glm("y ~ x", data=df, family=gt.Poisson(), weights=w, tol=1e-12)
    mid = gt.glm("y ~ x + z", data=df, family=gt.Poisson(), weights=w, tol=1e-12)
    big = gt.glm("y ~ x + z + C(g)", data=df, family=gt.Poisson(), weights=w, tol=1e-12)
    table = gt.anova(small, mid, big)
    np.testing.assert_allclose(table["Resid. Dev"], [small.deviance, mid.deviance, big.deviance])
    np.testing.assert_allclose(table["Df"].iloc[1:], [1, 2])
    dev = [small.deviance - mid.deviance, mid.deviance - big.deviance]
    np.testing.assert_allclose(table["Deviance"].iloc[1:], dev, rtol=1e-12)
    np.testing.assert_allclose(table["Pr(>Chi)"].iloc[1:],
                               [stats.chi2.sf(dev[0], 1), stats.chi2.sf(dev[1], 2)], rtol=1e-10)
    # the same models in decreasing order: R's table with negative Df, same p-values
    down = gt.anova(big, mid, small)
    np.testing.assert_allclose(down["Df"].iloc[1:], [-2, -1])
    np.testing.assert_allclose(down["Pr(>Chi)"].iloc[1:], table["Pr(>Chi)"].iloc[1:][::-1],
                               rtol=1e-10)
    assert gt.anova(small, big, test="LRT")["Pr(>Chi)"].iloc[1] == pytest.approx(
        stats.chi2.sf(small.deviance - big.deviance, 3), rel=1e-10)


def test_anova_with_estimated_dispersion_uses_the_largest_model():
    """Gamma: R's anova(test="F") takes the dispersion of the largest model (its Pearson
    X^2 / df_resid): F = (Deviance / Df) / phi on (Df, df_resid of the largest model);
    test="Chisq" refers Deviance / phi to chi^2_Df."""
    df = _counts()
    fam = gt.Gamma(L.Log())
    small = gt.glm("pos ~ x", data=df, family=fam, tol=1e-12)
    big = gt.glm("pos ~ x + z + C(g)", data=df, family=fam, tol=1e-12)
    phi = big.pearson_chi2 / big.df_resid
    assert phi == pytest.approx(big.scale, rel=1e-12)
    dev = small.deviance - big.deviance
    table = gt.anova(small, big, test="F")
    assert list(table.columns) == [*ANOVA_COLUMNS, "F", "Pr(>F)"]
    f = dev / 3 / phi
    assert table.loc[2, "F"] == pytest.approx(f, rel=1e-10)
    assert table.loc[2, "Pr(>F)"] == pytest.approx(stats.f.sf(f, 3, big.df_resid), rel=1e-10)
    chisq = gt.anova(small, big)
    assert chisq.loc[2, "Pr(>Chi)"] == pytest.approx(stats.chi2.sf(dev / phi, 3), rel=1e-10)


def test_anova_f_test_with_fixed_dispersion_warns_like_r():
    df = _counts()
    small = gt.glm("y ~ x", data=df, family=gt.Poisson())
    big = gt.glm("y ~ x + z", data=df, family=gt.Poisson())
    with pytest.warns(UserWarning, match="F test with a Poisson family"):
        table = gt.anova(small, big, test="F")
    dev = small.deviance - big.deviance
    assert table.loc[2, "Pr(>F)"] == pytest.approx(stats.chi2.sf(dev, 1), rel=1e-10)


def test_anova_f_test_of_quasi_poisson_fits_uses_the_fits_scale_rule():
    """Poisson fits with scale="X2" (R's quasipoisson) estimate the dispersion, so
    anova(test="F") is R's anova(quasipoisson fits, test="F"): F = (dD / dDf) / phi-hat
    with phi-hat = X^2 / df_resid of the larger model and Pr(>F) on (dDf, df_resid) -
    by hand from statsmodels' fits, and no 'fixed dispersion' warning."""
    import statsmodels.api as sm

    rng = np.random.default_rng(13)
    n = 150
    x, z = rng.normal(size=n), rng.uniform(-1, 1, n)
    mu = np.exp(0.5 + 0.4 * x)
    y = rng.negative_binomial(2.0, 2.0 / (2.0 + mu)).astype(float)  # over-dispersed
    X_small = np.column_stack([np.ones(n), x])
    X_big = np.column_stack([X_small, z, z**2])
    ours = [gt.fit(X, y, family=gt.Poisson(), scale="X2", tol=1e-12)
            for X in (X_small, X_big)]
    theirs = [sm.GLM(y, X, family=sm.families.Poisson()).fit(scale="X2", tol=1e-12)
              for X in (X_small, X_big)]
    phi = theirs[1].pearson_chi2 / theirs[1].df_resid
    assert phi > 1.5  # clearly over-dispersed: the F and chi-squared tails differ
    d_dev = theirs[0].deviance - theirs[1].deviance
    d_df = theirs[0].df_resid - theirs[1].df_resid
    f_value = d_dev / d_df / phi
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a 'dispersion fixed' warning would fail here
        table = gt.anova(*ours, test="F")
    assert table.loc[2, "Df"] == d_df == 2
    assert table.loc[2, "F"] == pytest.approx(f_value, rel=1e-9)
    assert table.loc[2, "Pr(>F)"] == pytest.approx(
        stats.f.sf(f_value, d_df, theirs[1].df_resid), rel=1e-9)
    chisq = gt.anova(*ours)  # R's test="Chisq" for quasi fits also scales by phi-hat
    assert chisq.loc[2, "Pr(>Chi)"] == pytest.approx(stats.chi2.sf(d_dev / phi, d_df),
                                                     rel=1e-9)


def test_anova_recognises_nesting_in_another_parametrisation():
    """y ~ C(g) with treatment coding and the same space written as three indicators
    without an intercept: nested both ways (Df 0), accepted."""
    df = _counts()
    X1 = np.column_stack([np.ones(len(df)), df["g"] == "b", df["g"] == "c"]).astype(float)
    X2 = np.column_stack([df["g"] == "a", df["g"] == "b", df["g"] == "c"]).astype(float)
    X3 = np.column_stack([X2, df["x"]])
    y = df["y"].to_numpy(float)
    fits = [gt.fit(X, y, family=gt.Poisson(), tol=1e-12) for X in (X1, X2, X3)]
    table = gt.anova(*fits)
    assert table.loc[2, "Df"] == 0
    assert np.isnan(table.loc[2, "Pr(>Chi)"])
    assert table.loc[3, "Df"] == 1


def test_anova_refuses_what_r_would_get_wrong():
    df = _counts()
    a = gt.glm("y ~ x", data=df, family=gt.Poisson())
    b = gt.glm("y ~ z", data=df, family=gt.Poisson())
    with pytest.raises(ValueError, match=r"^results: models 1 and 2 are not nested"):
        gt.anova(a, b)
    with pytest.raises(ValueError, match=r"^results: anova needs at least two"):
        gt.anova(a)
    with pytest.raises(ValueError, match=r"^test: must be one of"):
        gt.anova(a, gt.glm("y ~ x + z", data=df, family=gt.Poisson()), test="Wald")
    with pytest.raises(ValueError, match=r"^results: model 2 is not a GLMResults"):
        gt.anova(a, "y ~ x + z")
    other = df.assign(y=df["y"] + 1)
    with pytest.raises(ValueError, match=r"^results: model 2 is not fitted to the same data.*"
                                         r"responses differ"):
        gt.anova(a, gt.glm("y ~ x + z", data=other, family=gt.Poisson()))
    with pytest.raises(ValueError, match=r"prior weights differ"):
        gt.anova(a, gt.glm("y ~ x + z", data=df, family=gt.Poisson(), weights="w"))
    with pytest.raises(ValueError, match=r"offsets \(or exposures\) differ"):
        gt.anova(a, gt.glm("y ~ x + z", data=df, family=gt.Poisson(), exposure="w"))
    with pytest.raises(ValueError, match=r"families differ"):
        gt.anova(a, gt.glm("y ~ x + z", data=df, family=gt.NegativeBinomial(alpha=0.5)))
    with pytest.raises(ValueError, match=r"\(100 rows against 120\)"):
        gt.anova(a, gt.glm("y ~ x + z", data=df.iloc[:100], family=gt.Poisson()))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gt.anova([a, gt.glm("y ~ x + z", data=df, family=gt.Poisson())])  # a list works too


# -- negative binomial with alpha estimated ------------------------------------------------------

def _nb_data(seed: int, n: int = 400, alpha: float = 0.6, exposure: bool = False):
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(n), rng.normal(size=n), rng.uniform(-1, 1, n)])
    t = rng.uniform(0.5, 3.0, n) if exposure else np.ones(n)
    mu = t * np.exp(X @ np.array([0.7, 0.4, -0.6]))
    r = 1.0 / alpha
    y = rng.negative_binomial(r, r / (r + mu)).astype(float)
    return X, y, t


def _statsmodels_nb(y, X, exposure=None):
    import statsmodels.api as sm

    return sm.NegativeBinomial(y, X, loglike_method="nb2", exposure=exposure).fit(
        method="newton", maxiter=300, tol=1e-14, disp=0)


@pytest.mark.parametrize(("seed", "alpha", "exposure"),
                         [(1, 0.6, False), (2, 2.5, False), (3, 0.15, True), (4, 1.0, True)])
def test_negative_binomial_matches_statsmodels_maximum_likelihood(seed, alpha, exposure):
    X, y, t = _nb_data(seed, alpha=alpha, exposure=exposure)
    res = gt.fit_negative_binomial(X, y, exposure=t if exposure else None)
    ref = _statsmodels_nb(y, X, exposure=t if exposure else None)
    assert isinstance(res, gt.GLMResults)
    assert isinstance(res.family, gt.NegativeBinomial)
    assert res.family.alpha == res.alpha
    np.testing.assert_allclose(res.alpha, ref.params[-1], rtol=1e-8)
    np.testing.assert_allclose(res.params, ref.params[:-1], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(res.llf, ref.llf, rtol=1e-10)
    np.testing.assert_allclose(res.aic, ref.aic, rtol=1e-10)
    np.testing.assert_allclose(res.bic, ref.bic, rtol=1e-10)
    np.testing.assert_allclose(res.alpha_se, ref.bse[-1], rtol=1e-6)
    assert res.alpha_converged
    # at alpha-hat the likelihood is maximal in alpha too: a GLM fit at alpha-hat * (1 +/- 1%)
    for factor in (0.99, 1.01):
        other = gt.fit(X, y, family=gt.NegativeBinomial(alpha=res.alpha * factor),
                       exposure=t if exposure else None, tol=1e-12)
        assert other.llf < res.llf


def test_negative_binomial_prior_weights_count_like_repeated_rows():
    """R's glm.nb weights multiply each row's log-likelihood: whole-number weights give
    the fit of the data with the rows repeated (checked against statsmodels on those)."""
    X, y, _ = _nb_data(5, n=200)
    w = np.random.default_rng(9).integers(1, 4, len(y)).astype(float)
    res = gt.fit_negative_binomial(X, y, weights=w)
    rows = np.repeat(np.arange(len(y)), w.astype(int))
    ref = _statsmodels_nb(y[rows], X[rows])
    np.testing.assert_allclose(res.alpha, ref.params[-1], rtol=1e-8)
    np.testing.assert_allclose(res.params, ref.params[:-1], rtol=1e-8)
    np.testing.assert_allclose(res.llf, ref.llf, rtol=1e-10)


def test_glm_nb_formula_front_end():
    X, y, t = _nb_data(6, exposure=True)
    df = pd.DataFrame({"y": y, "a": X[:, 1], "b": X[:, 2], "t": t})
    res = gt.glm_nb("y ~ a + b", data=df, exposure="t")
    ref = _statsmodels_nb(y, X, exposure=t)
    assert list(res.params.index) == ["Intercept", "a", "b"]
    np.testing.assert_allclose(res.params.to_numpy(), ref.params[:-1], rtol=1e-8)
    np.testing.assert_allclose(res.alpha, ref.params[-1], rtol=1e-8)
    np.testing.assert_allclose(res.llf, ref.llf, rtol=1e-10)
    # R reports theta = 1 / alpha with se alpha_se / alpha^2; predict takes new raw data
    new = df.iloc[:3]
    np.testing.assert_allclose(res.predict(new, exposure="t"), res.fittedvalues.iloc[:3],
                               rtol=1e-12)


def test_poisson_data_warn_that_alpha_is_zero():
    """Poisson counts whose sample variance is below the mean (score of alpha at 0,
    sum[(y - mu)^2 - y] / 2, negative): alpha-hat = 0, a warning, and the Poisson fit."""
    rng = np.random.default_rng(0)
    n = 200
    X = np.column_stack([np.ones(n), rng.normal(size=n)])
    y = rng.poisson(np.exp(X @ np.array([0.5, 0.3]))).astype(float)
    poisson = gt.fit(X, y, family=gt.Poisson(), tol=1e-12)
    mu = poisson.fittedvalues
    assert np.sum((y - mu) ** 2 - y) < 0
    with pytest.warns(gt.AlphaAtZeroWarning, match=r"look Poisson"):
        res = gt.fit_negative_binomial(X, y)
    assert issubclass(gt.AlphaAtZeroWarning, UserWarning)
    assert res.alpha <= 1e-8
    assert np.isnan(res.alpha_se)
    np.testing.assert_allclose(res.params, poisson.params, rtol=1e-7)
    np.testing.assert_allclose(res.llf, poisson.llf, rtol=1e-8)
    # the profile log-likelihood (statsmodels' NB2 loglike at the best beta for each
    # alpha) falls as alpha leaves 0; statsmodels' own Newton fit steps to alpha < 0 (NaN)
    import statsmodels.api as sm

    model = sm.NegativeBinomial(y, X, loglike_method="nb2")
    profile = []
    for alpha in (1e-6, 1e-4, 1e-2, 1e-1):
        beta = gt.fit(X, y, family=gt.NegativeBinomial(alpha=alpha), tol=1e-12).params
        profile.append(model.loglike(np.r_[beta, alpha]))
    assert np.all(np.diff(profile) < 0)
    assert profile[0] < res.llf + 1e-9


def test_negative_binomial_bad_inputs():
    X, y, _ = _nb_data(1, n=50)
    with pytest.raises(ValueError, match=r"^alpha_start: must be a positive finite number"):
        gt.fit_negative_binomial(X, y, alpha_start=-1.0)
    with pytest.raises(ValueError, match=r"^tol: must be a number between 0 and 1"):
        gt.fit_negative_binomial(X, y, tol=0)
    with pytest.raises(ValueError, match=r"^maxiter: must be a positive whole number"):
        gt.fit_negative_binomial(X, y, maxiter=0)
    with pytest.raises(ValueError, match=r"^family: fit_negative_binomial fits"):
        gt.fit_negative_binomial(X, y, family=gt.Poisson())
    with pytest.raises(ValueError, match=r"^start: fit_negative_binomial starts beta"):
        gt.fit_negative_binomial(X, y, start=np.zeros(3))
    with pytest.raises(ValueError, match=r"^freq_weights: not supported"):
        gt.glm_nb("y ~ x", data=pd.DataFrame({"y": y, "x": X[:, 1]}), freq_weights=y)
    with pytest.raises(ValueError, match=r"^y: the Poisson family needs non-negative counts"):
        gt.fit_negative_binomial(X, -y - 1)
