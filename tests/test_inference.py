"""Inference options of issue 17: use_t, scale, frequency weights, cluster covariance.

Every check is against statsmodels' GLM (fitted with ``tol=1e-12, tol_criterion="params"``)
or against glmteach's own fit of the data with each row repeated, on data made here with
fixed random seeds.  Tolerance: 1e-8 relative unless a comment says why not.

Known convention differences, tested explicitly:
- ``nobs`` with frequency weights: glmteach counts the repeated rows (sum f_i);
  statsmodels counts the rows as given (its ``df_resid`` counts the repeats);
- HC1: statsmodels' GLM applies no factor (its HC1 equals its HC0); glmteach's HC1 is
  HC0 n / (n - p), with n the repeated rows;
- robust breads for non-canonical links: statsmodels uses the observed Hessian,
  glmteach the expected information (R's sandwich package), so cluster covariances are
  compared with statsmodels directly for canonical links only, and for a non-canonical
  link with the sandwich rebuilt from statsmodels' own scores and expected Hessian;
- binomial with a two-column response and ``scale="X2"``: statsmodels leaves the numbers
  of trials out of the Pearson sum it divides by df_resid (its scale is then its own
  ``pearson_chi2 / df_resid`` divided by about the number of trials); glmteach's scale is
  ``pearson_chi2 / df_resid`` (R's quasibinomial dispersion), compared with statsmodels
  fitted on proportions with ``var_weights`` = trials.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

import glmteach as gt
from glmteach import links as L

SML = sm.families.links
RTOL = 1e-8
N = 80
RNG = np.random.default_rng(17)
X = np.column_stack([np.ones(N), RNG.normal(size=N), RNG.uniform(size=N)])
ETA = 0.4 + 0.3 * X[:, 1] - 0.5 * X[:, 2]
MU = np.exp(ETA)
WEIGHTS = RNG.uniform(0.5, 2.0, N)
FREQ = RNG.integers(0, 4, N).astype(float)  # includes zeros: those rows drop out
GROUPS = RNG.integers(0, 9, N)
TRIALS = np.full(N, 6.0)
SUCCESSES = RNG.binomial(6, 1 / (1 + np.exp(-ETA))).astype(float)
Y = {
    "poisson": RNG.poisson(MU).astype(float),
    "gaussian": MU + RNG.normal(scale=0.4, size=N),
    "gamma": RNG.gamma(4.0, MU / 4.0),
    "inverse_gaussian": RNG.wald(MU, 8.0),
    "negbin": RNG.negative_binomial(2.0, 2.0 / (2.0 + MU)).astype(float),
    "tweedie": RNG.poisson(MU) * RNG.gamma(3.0, 1 / 3.0, N),
}

# (name, glmteach family, statsmodels family, response)
MODELS = [
    ("poisson", gt.Poisson(), sm.families.Poisson(), Y["poisson"]),
    ("gaussian", gt.Gaussian(), sm.families.Gaussian(), Y["gaussian"]),
    ("gaussian-log", gt.Gaussian(L.Log()), sm.families.Gaussian(SML.Log()), Y["gaussian"]),
    ("gamma-log", gt.Gamma(L.Log()), sm.families.Gamma(SML.Log()), Y["gamma"]),
    ("inverse-gaussian-log", gt.InverseGaussian(L.Log()),
     sm.families.InverseGaussian(SML.Log()), Y["inverse_gaussian"]),
    ("negbin", gt.NegativeBinomial(alpha=0.5), sm.families.NegativeBinomial(alpha=0.5),
     Y["negbin"]),
    ("tweedie", gt.Tweedie(power=1.5), sm.families.Tweedie(var_power=1.5), Y["tweedie"]),
]
MODEL_IDS = [m[0] for m in MODELS]


def close(ours, theirs, rtol=RTOL, atol=0.0):
    np.testing.assert_allclose(np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float),
                               rtol=rtol, atol=atol)


def sm_fit(y, family, **fit_kw):
    model_kw = {k: fit_kw.pop(k) for k in ("var_weights", "freq_weights") if k in fit_kw}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # statsmodels' SpecificationWarning for cluster
        return sm.GLM(y, X, family=family, **model_kw).fit(tol=1e-12, tol_criterion="params",
                                                            **fit_kw)


def gt_fit(y, family, **kw):
    return gt.fit(X, y, family=family, tol=1e-12, **kw)


# -- use_t ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "ours_family", "sm_family", "y"), MODELS, ids=MODEL_IDS)
def test_use_t_pvalues_and_intervals_match_statsmodels(name, ours_family, sm_family, y):
    ours = gt_fit(y, ours_family, weights=WEIGHTS, use_t=True)
    theirs = sm_fit(y, sm_family, var_weights=WEIGHTS, use_t=True)
    close(ours.params, theirs.params)
    close(ours.pvalues, theirs.pvalues)
    for alpha in (0.05, 0.2):
        close(ours.conf_int(alpha), theirs.conf_int(alpha))
    # and the t distribution on df_resid, written out
    t = np.asarray(ours.params) / np.asarray(ours.bse)
    close(ours.pvalues, 2 * stats.t.sf(np.abs(t), N - 3))
    q = stats.t.ppf(0.975, N - 3)
    close(ours.conf_int()[:, 1], np.asarray(ours.params) + q * np.asarray(ours.bse))


def test_use_t_default_is_z_and_t_intervals_are_wider():
    y = Y["gamma"]
    z_fit = gt_fit(y, gt.Gamma(L.Log()))
    t_fit = gt_fit(y, gt.Gamma(L.Log()), use_t=True)
    assert z_fit.use_t is False and z_fit.df_resid_inference is None
    assert t_fit.df_resid_inference == N - 3
    close(z_fit.pvalues, 2 * stats.norm.sf(np.abs(np.asarray(z_fit.tvalues))))
    assert np.all(np.diff(t_fit.conf_int(), axis=1) > np.diff(z_fit.conf_int(), axis=1))
    assert np.all(t_fit.pvalues > z_fit.pvalues)


def test_use_t_summary_columns():
    y = Y["gamma"]
    text_t = gt_fit(y, gt.Gamma(L.Log()), use_t=True).summary()
    text_z = gt_fit(y, gt.Gamma(L.Log())).summary()
    assert "P>|t|" in text_t and "P>|z|" not in text_t
    assert f"t, df = {N - 3}" in text_t
    assert "P>|z|" in text_z and "z (normal)" in text_z
    # the printed p-values are the t ones
    res = gt_fit(y, gt.Gamma(L.Log()), use_t=True)
    line = next(row for row in text_t.splitlines() if row.startswith("x2"))
    assert float(line.split()[4]) == pytest.approx(float(res.pvalues[2]), abs=6e-4)


def test_use_t_tiny_alpha_stays_finite():
    res = gt_fit(Y["gamma"], gt.Gamma(L.Log()), use_t=True)
    assert np.all(np.isfinite(res.conf_int(1e-20)))


# -- scale ----------------------------------------------------------------------------------

@pytest.mark.parametrize("scale", [None, 2.5, "X2", "dev", "x2", "DEV"])
@pytest.mark.parametrize(("name", "ours_family", "sm_family", "y"), MODELS, ids=MODEL_IDS)
def test_scale_rules_match_statsmodels(name, ours_family, sm_family, y, scale):
    """bse, cov_params, scale, llf and aic for every rule: statsmodels evaluates llf at
    the chosen scale, except the Gaussian identity link (always the concentrated
    likelihood); glmteach does the same."""
    ours = gt_fit(y, ours_family, weights=WEIGHTS, scale=scale)
    theirs = sm_fit(y, sm_family, var_weights=WEIGHTS, scale=scale)
    close(ours.params, theirs.params)
    close(ours.scale, theirs.scale)
    close(ours.bse, theirs.bse)
    close(ours.cov_params(), theirs.cov_params())
    close(ours.pvalues, theirs.pvalues)
    close(ours.llf, theirs.llf)
    close(ours.aic, theirs.aic)


def test_scale_rules_by_formula():
    y = Y["poisson"]
    base = gt_fit(y, gt.Poisson())
    x2 = gt_fit(y, gt.Poisson(), scale="X2")
    dev = gt_fit(y, gt.Poisson(), scale="dev")
    fixed = gt_fit(y, gt.Poisson(), scale=3)
    assert base.scale == 1.0
    close(x2.scale, base.pearson_chi2 / (N - 3))
    close(dev.scale, base.deviance / (N - 3))
    assert fixed.scale == 3.0
    close(x2.bse, np.asarray(base.bse) * np.sqrt(x2.scale))
    close(fixed.bse, np.asarray(base.bse) * np.sqrt(3.0))
    close(fixed.params, base.params)  # the scale never moves the coefficients
    close(x2.llf, base.llf / x2.scale)  # statsmodels' scaled Poisson likelihood
    # Gaussian identity: llf is the concentrated likelihood whatever the rule
    g = gt_fit(Y["gaussian"], gt.Gaussian())
    close(gt_fit(Y["gaussian"], gt.Gaussian(), scale=7.0).llf, g.llf)
    assert "Scale rule:" in x2.summary() and "Pearson X2 / df" in x2.summary()
    assert "deviance / df" in dev.summary() and "fixed" in fixed.summary()
    assert "1 (family)" in base.summary()


@pytest.mark.parametrize("scale", [None, 2.5, "X2", "dev"])
def test_binomial_scale_rules(scale):
    """Binomial: bse and scale against statsmodels on proportions with var_weights =
    trials; llf (the binomial likelihood has no dispersion: statsmodels ignores the scale
    there) against statsmodels' two-column fit."""
    y = SUCCESSES / TRIALS
    ours = gt_fit(y, gt.Binomial(), weights=TRIALS, scale=scale)
    theirs = sm_fit(y, sm.families.Binomial(), var_weights=TRIALS, scale=scale)
    close(ours.scale, theirs.scale)
    close(ours.bse, theirs.bse)
    counts = np.column_stack([SUCCESSES, TRIALS - SUCCESSES])
    two_col = sm_fit(counts, sm.families.Binomial(), scale=scale)
    close(ours.llf, two_col.llf)
    close(gt_fit(counts, gt.Binomial(), scale=scale).bse, ours.bse)
    if scale == "X2":  # the statsmodels quirk described in the module docstring
        mu = two_col.mu
        without_trials = np.sum((y - mu) ** 2 / (mu * (1 - mu))) / two_col.df_resid
        close(two_col.scale, without_trials)
        close(ours.scale, two_col.pearson_chi2 / two_col.df_resid)


def test_estimated_scale_without_residual_df_warns_and_is_nan():
    Xs, ys = X[:3], Y["poisson"][:3]
    with pytest.warns(UserWarning, match="no residual degrees of freedom"):
        res = gt.fit(Xs, ys, family=gt.Poisson(), scale="X2")
    assert np.isnan(res.scale) and np.all(np.isnan(res.bse))


# -- frequency weights ----------------------------------------------------------------------

def repeated(freq=FREQ):
    return np.repeat(np.arange(N), freq.astype(int))


FREQ_MODELS = [m for m in MODELS if m[0] != "negbin"] + [
    ("binomial", gt.Binomial(), sm.families.Binomial(), SUCCESSES / TRIALS)]


@pytest.mark.parametrize("with_prior", [False, True], ids=["freq-only", "freq-and-prior"])
@pytest.mark.parametrize(("name", "ours_family", "sm_family", "y"), FREQ_MODELS,
                         ids=[m[0] for m in FREQ_MODELS])
def test_freq_weights_equal_the_fit_of_repeated_rows(name, ours_family, sm_family, y,
                                                     with_prior):
    prior = TRIALS if name == "binomial" else (WEIGHTS if with_prior else None)
    rep = repeated()
    ours = gt_fit(y, ours_family, weights=prior, freq_weights=FREQ)
    long = gt.fit(X[rep], y[rep], family=ours_family, tol=1e-12,
                  weights=None if prior is None else prior[rep])
    close(ours.params, long.params)
    close(ours.bse, long.bse)
    for attr in ("nobs", "df_resid", "scale", "llf", "aic", "bic", "deviance",
                 "pearson_chi2", "null_deviance"):
        close(getattr(ours, attr), getattr(long, attr), atol=1e-12)
    assert ours.nobs == int(FREQ[FREQ > 0].sum()) == len(rep)
    for cov_type in ("HC0", "HC1"):
        close(ours.cov_params(cov_type), long.cov_params(cov_type))
    close(ours.pvalues, long.pvalues)


@pytest.mark.parametrize(("name", "ours_family", "sm_family", "y"), MODELS, ids=MODEL_IDS)
def test_freq_weights_match_statsmodels(name, ours_family, sm_family, y):
    """statsmodels' freq_weights: the same params, bse, df_resid, llf, aic, scale; its
    nobs is the number of rows as given (80 here), glmteach's the repeated rows."""
    ours = gt_fit(y, ours_family, weights=WEIGHTS, freq_weights=FREQ)
    theirs = sm_fit(y, sm_family, var_weights=WEIGHTS, freq_weights=FREQ)
    close(ours.params, theirs.params)
    close(ours.bse, theirs.bse)
    close(ours.scale, theirs.scale)
    close(ours.llf, theirs.llf)
    close(ours.aic, theirs.aic)
    assert ours.df_resid == theirs.df_resid == FREQ.sum() - 3
    assert theirs.nobs == N and ours.nobs == FREQ.sum()
    # t tests on the repeated rows' df_resid, in both
    ours_t = gt_fit(y, ours_family, weights=WEIGHTS, freq_weights=FREQ, use_t=True)
    theirs_t = sm_fit(y, sm_family, var_weights=WEIGHTS, freq_weights=FREQ, use_t=True)
    close(ours_t.pvalues, theirs_t.pvalues)
    close(ours_t.conf_int(), theirs_t.conf_int())


def test_freq_weights_sandwich_matches_statsmodels_on_positive_weights():
    """statsmodels' HC0 with frequency weights (all positive: it divides the scores by
    sqrt(f)) equals glmteach's; canonical link, so the breads agree too."""
    freq = FREQ + 1
    y = Y["poisson"]
    ours = gt_fit(y, gt.Poisson(), freq_weights=freq, cov_type="HC0")
    theirs = sm_fit(y, sm.families.Poisson(), freq_weights=freq, cov_type="HC0")
    close(ours.bse, theirs.bse)


def test_freq_weights_of_one_change_nothing():
    y = Y["gamma"]
    plain = gt_fit(y, gt.Gamma(L.Log()), weights=WEIGHTS)
    ones = gt_fit(y, gt.Gamma(L.Log()), weights=WEIGHTS, freq_weights=np.ones(N))
    for attr in ("params", "bse", "llf", "aic", "bic", "scale", "nobs", "df_resid"):
        close(getattr(ones, attr), getattr(plain, attr), rtol=1e-12)
    close(ones.resid_pearson, plain.resid_pearson, rtol=1e-12)
    assert "Freq. weights:" in ones.summary()
    assert "none" in plain.summary().split("Freq. weights:")[1].splitlines()[0]


def test_freq_weights_summary_and_residuals():
    y = Y["poisson"]
    res = gt_fit(y, gt.Poisson(), freq_weights=FREQ)
    used = int(np.count_nonzero(FREQ))
    text = res.summary()
    assert f"given ({used} rows)" in text
    assert re.search(rf"No\. observations:\s+{int(FREQ.sum())}\s", text)
    # residuals are per row (statsmodels' convention); weighted by f they add up
    close(np.sum(FREQ * np.asarray(res.resid_pearson) ** 2), res.pearson_chi2)
    close(np.sum(FREQ * np.asarray(res.resid_deviance) ** 2), res.deviance)
    theirs = sm_fit(y, sm.families.Poisson(), freq_weights=FREQ)
    close(res.resid_pearson, theirs.resid_pearson, atol=1e-10)
    close(res.resid_deviance, theirs.resid_deviance, atol=1e-10)


def test_freq_weights_in_formula_by_column_name():
    df = pd.DataFrame({"y": Y["poisson"], "x1": X[:, 1], "x2": X[:, 2], "f": FREQ,
                       "g": [f"firm{k}" for k in GROUPS]})
    res = gt.glm("y ~ x1 + x2", data=df, family=gt.Poisson(), freq_weights="f",
                 cov_type="cluster", cov_kwds={"groups": "g"}, tol=1e-12)
    arr = gt_fit(Y["poisson"], gt.Poisson(), freq_weights=FREQ, cov_type="cluster",
                 cov_kwds={"groups": GROUPS})
    close(res.params, arr.params)
    close(res.bse, arr.bse)
    assert res.nobs == FREQ.sum()


def test_binomial_two_column_with_freq_weights():
    counts = np.column_stack([SUCCESSES, TRIALS - SUCCESSES])
    rep = repeated()
    ours = gt_fit(counts, gt.Binomial(), freq_weights=FREQ)
    long = gt.fit(X[rep], counts[rep], family=gt.Binomial(), tol=1e-12)
    theirs = sm_fit(counts, sm.families.Binomial(), freq_weights=FREQ)
    for attr in ("params", "bse", "llf", "aic", "nobs", "df_resid"):
        close(getattr(ours, attr), getattr(long, attr))
    close(ours.llf, theirs.llf)
    close(ours.bse, theirs.bse)


# -- cluster-robust covariance --------------------------------------------------------------

CANONICAL = [("poisson", gt.Poisson(), sm.families.Poisson(), Y["poisson"]),
             ("gaussian", gt.Gaussian(), sm.families.Gaussian(), Y["gaussian"]),
             ("gamma-inverse", gt.Gamma(), sm.families.Gamma(), Y["gamma"])]


@pytest.mark.parametrize("use_t", [False, True])
@pytest.mark.parametrize(("name", "ours_family", "sm_family", "y"), CANONICAL,
                         ids=[m[0] for m in CANONICAL])
def test_cluster_matches_statsmodels(name, ours_family, sm_family, y, use_t):
    kw = {"cov_type": "cluster", "cov_kwds": {"groups": GROUPS}, "use_t": use_t}
    ours = gt_fit(y, ours_family, weights=WEIGHTS, **kw)
    theirs = sm_fit(y, sm_family, var_weights=WEIGHTS, **kw)
    close(ours.bse, theirs.bse)
    close(ours.cov_params(), theirs.cov_params())
    close(ours.pvalues, theirs.pvalues)
    close(ours.conf_int(), theirs.conf_int())
    if use_t:  # statsmodels' df_resid_inference: number of groups - 1
        assert ours.df_resid_inference == theirs.df_resid_inference == 8
    text = ours.summary()
    assert "cluster, G = 9" in text


def test_cluster_for_a_non_canonical_link_uses_the_expected_information():
    """Gamma with log link: statsmodels' bread is the observed Hessian, glmteach's the
    expected information; rebuilt from statsmodels' scores and hessian(observed=False)
    with the same correction, the sandwich is glmteach's."""
    y = Y["gamma"]
    ours = gt_fit(y, gt.Gamma(L.Log()), cov_type="cluster", cov_kwds={"groups": GROUPS})
    theirs = sm_fit(y, sm.families.Gamma(SML.Log()))
    model, params = theirs.model, theirs.params
    scores = model.score_obs(params)
    sums = np.vstack([scores[GROUPS == g].sum(axis=0) for g in np.unique(GROUPS)])
    bread = np.linalg.inv(-model.hessian(params, observed=False))
    G, n, p = len(np.unique(GROUPS)), N, 3
    expected = bread @ sums.T @ sums @ bread * G / (G - 1) * (n - 1) / (n - p)
    close(ours.cov_params(), expected)


def test_cluster_with_one_row_per_group_is_hc1():
    y = Y["poisson"]
    ours = gt_fit(y, gt.Poisson(), cov_type="cluster", cov_kwds={"groups": np.arange(N)})
    close(ours.cov_params(), gt_fit(y, gt.Poisson()).cov_params("HC1"))


def test_cluster_with_frequency_weights_equals_repeated_rows():
    rep = repeated()
    y = Y["gamma"]
    ours = gt_fit(y, gt.Gamma(L.Log()), freq_weights=FREQ, cov_type="cluster",
                  cov_kwds={"groups": GROUPS})
    long = gt.fit(X[rep], y[rep], family=gt.Gamma(L.Log()), tol=1e-12, cov_type="cluster",
                  cov_kwds={"groups": GROUPS[rep]})
    close(ours.cov_params(), long.cov_params())


def test_cluster_labels_of_any_type_and_zero_weight_rows():
    y = Y["poisson"]
    numeric = gt_fit(y, gt.Poisson(), cov_type="cluster", cov_kwds={"groups": GROUPS})
    text = gt_fit(y, gt.Poisson(), cov_type="cluster",
                  cov_kwds={"groups": pd.Series([f"g{k}" for k in GROUPS])})
    close(text.cov_params(), numeric.cov_params(), rtol=1e-12)
    # rows of prior weight 0 (here a group of their own) are dropped: same as without them
    w = np.ones(N)
    w[:5] = 0.0
    groups = GROUPS.copy()
    groups[:5] = 99
    with_zero = gt_fit(y, gt.Poisson(), weights=w, cov_type="cluster",
                       cov_kwds={"groups": groups})
    without = gt.fit(X[5:], y[5:], family=gt.Poisson(), tol=1e-12, cov_type="cluster",
                     cov_kwds={"groups": GROUPS[5:]})
    close(with_zero.bse, without.bse)
    assert "cluster, G = 9" in with_zero.summary()


def test_cluster_needs_groups_given_to_the_fit():
    res = gt_fit(Y["poisson"], gt.Poisson())
    with pytest.raises(ValueError, match="^cov_type: 'cluster' needs the groups"):
        res.cov_params("cluster")


@pytest.mark.parametrize("cov_type", ["HC3", "hc1", "robust", "NoneType", 1])
def test_cov_params_refuses_an_unknown_cov_type(cov_type):
    """cov_params(cov_type) checks its argument: without the check an unknown name
    would silently fall through to a sandwich (HC0-like) matrix."""
    res = gt_fit(Y["poisson"], gt.Poisson())
    with pytest.raises(ValueError, match=r"^cov_type: must be 'nonrobust', 'HC0', 'HC1' or "
                                         r"'cluster', got "):
        res.cov_params(cov_type)


# -- speed: no extra pass over X without frequency weights ------------------------------------

def test_no_freq_weights_shares_the_prior_weights():
    problem = gt.GLMProblem(X, Y["poisson"], gt.Poisson(), weights=WEIGHTS)
    assert problem.freq_weights is None
    assert problem.weights is problem.prior_weights


def test_cluster_with_frequency_weights_against_statsmodels():
    """statsmodels sums the scores of a group without dividing by the frequency weights
    (so the meat is that of the repeated rows, as here) but takes n in its correction
    (n - 1) / (n - p) as the number of rows given; glmteach's n is the repeated rows."""
    freq = FREQ + 1  # statsmodels' cluster code does not drop rows of weight 0
    y = Y["poisson"]
    kw = {"cov_type": "cluster", "cov_kwds": {"groups": GROUPS}}
    ours = gt_fit(y, gt.Poisson(), freq_weights=freq, **kw)
    theirs = sm_fit(y, sm.families.Poisson(), freq_weights=freq, **kw)
    n, rows, p = freq.sum(), N, 3
    close(ours.cov_params(),
          theirs.cov_params() * ((n - 1) / (n - p)) / ((rows - 1) / (rows - p)))


def test_dobson_quasipoisson_dispersion_from_r():
    """R's ?glm example (Dobson 1990, a randomized controlled trial): counts on outcome and
    treatment.  R prints residual deviance 5.1291 on 4 degrees of freedom, and with
    family = quasipoisson 'Dispersion parameter for quasipoisson family taken to be
    1.2933' - glmteach's scale="X2"; R's t tests for the quasi family are use_t=True."""
    counts = np.array([18, 17, 15, 20, 10, 20, 25, 13, 12], dtype=float)
    df = pd.DataFrame({"counts": counts, "outcome": [1, 2, 3] * 3,
                       "treatment": [1] * 3 + [2] * 3 + [3] * 3})
    res = gt.glm("counts ~ C(outcome) + C(treatment)", data=df, family=gt.Poisson(),
                 scale="X2", use_t=True, tol=1e-12)
    assert round(res.deviance, 4) == 5.1291 and res.df_resid == 4
    assert round(res.scale, 4) == 1.2933
    plain = gt.glm("counts ~ C(outcome) + C(treatment)", data=df, family=gt.Poisson(),
                   tol=1e-12)
    close(res.bse, np.asarray(plain.bse) * np.sqrt(res.scale))
    t = np.asarray(res.params) / np.asarray(res.bse)
    close(res.pvalues, 2 * stats.t.sf(np.abs(t), 4))
