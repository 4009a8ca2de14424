"""res.get_influence() and res.get_prediction() against statsmodels and R's formulas
(issue 17, items 6 and 7)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

import glmteach as gt
from glmteach import links as L

RTOL = 1e-7


def _data(kind: str, seed: int = 7, n: int = 60):
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(n), rng.normal(size=n), rng.uniform(-1, 1, n)])
    w = rng.uniform(0.5, 3.0, n)
    eta = X @ np.array([0.4, 0.3, -0.5])
    if kind == "poisson":
        y = rng.poisson(np.exp(eta)).astype(float)
        ours, theirs = gt.Poisson(), sm.families.Poisson()
    elif kind == "gamma-log":
        y = rng.gamma(3.0, np.exp(eta) / 3.0)
        ours, theirs = gt.Gamma(L.Log()), sm.families.Gamma(sm.families.links.Log())
    else:  # binomial proportions with weights = trials
        w = rng.integers(1, 8, n).astype(float)
        y = rng.binomial(w.astype(int), 1 / (1 + np.exp(-eta))) / w
        ours, theirs = gt.Binomial(), sm.families.Binomial()
    return X, y, w, ours, theirs


def _pair(kind: str, weighted: bool = True):
    X, y, w, ours, theirs = _data(kind)
    weights = w if weighted else None
    res = gt.fit(X, y, family=ours, weights=weights, tol=1e-12)
    ref = sm.GLM(y, X, family=theirs, var_weights=weights).fit(tol=1e-13,
                                                               tol_criterion="params")
    return res, ref, X


KINDS = ["poisson", "gamma-log", "binomial"]


@pytest.mark.parametrize("weighted", [True, False], ids=["weights", "no-weights"])
@pytest.mark.parametrize("kind", KINDS)
def test_influence_matches_statsmodels(kind, weighted):
    res, ref, _ = _pair(kind, weighted)
    # statsmodels' default leverage uses the observed information, which differs from the
    # expected (Fisher) one for a non-canonical link such as the gamma with log link; R
    # and glmteach use the working weights of the fit (observed=False in statsmodels)
    ours = res.get_influence()
    theirs = ref.get_influence(observed=False)
    if kind != "gamma-log":  # canonical links: observed = expected information
        np.testing.assert_allclose(ref.get_influence().hat_matrix_diag,
                                   theirs.hat_matrix_diag, rtol=1e-9)
    np.testing.assert_allclose(ours.hat_matrix_diag, theirs.hat_matrix_diag, rtol=RTOL)
    np.testing.assert_allclose(ours.resid_studentized, theirs.resid_studentized, rtol=RTOL)
    np.testing.assert_allclose(ours.cooks_distance, theirs.cooks_distance[0], rtol=RTOL)
    np.testing.assert_allclose(ours.cooks_distance_pvalues, theirs.cooks_distance[1],
                               rtol=1e-6)
    frame, ref_frame = ours.summary_frame(), theirs.summary_frame()
    # statsmodels names array columns const, x1, x2; glmteach x0, x1, x2: dfb_ by position
    assert frame.columns[:3].str.startswith("dfb_").all()
    np.testing.assert_allclose(frame.iloc[:, :3], ref_frame.iloc[:, :3], rtol=1e-6)
    for column in ref_frame.columns[3:]:
        np.testing.assert_allclose(frame[column], ref_frame[column], rtol=1e-6, atol=1e-12,
                                   err_msg=column)
    assert abs(np.sum(ours.hat_matrix_diag) - X_P) < 1e-9


X_P = 3


@pytest.mark.parametrize("kind", KINDS)
def test_influence_matches_r_formulas(kind):
    """R: hatvalues() = diag of W^{1/2} X (X'WX)^{-1} X' W^{1/2} (an explicit n x n matrix
    here, small n); rstandard(fit) = d_i / sqrt(phi (1 - h_i)); cooks.distance(fit) =
    (e_i / (1 - h_i))^2 h_i / (phi p), e_i Pearson residuals, phi = summary()$dispersion
    (R's stats:::rstandard.glm and stats:::cooks.distance.glm)."""
    res, _, X = _pair(kind)
    inf = res.get_influence()
    w = res.history[-1].w
    Xw = X * np.sqrt(w)[:, None]
    H = Xw @ np.linalg.inv(Xw.T @ Xw) @ Xw.T
    h = np.diag(H)
    phi = res.scale
    np.testing.assert_allclose(inf.hat_matrix_diag, h, rtol=1e-9)
    np.testing.assert_allclose(inf.resid_studentized_deviance,
                               res.resid_deviance / np.sqrt(phi * (1 - h)), rtol=1e-9)
    np.testing.assert_allclose(inf.cooks_distance,
                               (res.resid_pearson / (1 - h)) ** 2 * h / (phi * 3), rtol=1e-9)
    # Poisson and binomial: phi = 1; the gamma fit estimates it
    assert (phi == 1.0) == (kind != "gamma-log")


def test_influence_keeps_row_labels_and_zero_weight_rows():
    X, y, w, _, _ = _data("poisson")
    index = pd.Index([f"r{i}" for i in range(len(y))])
    frame = pd.DataFrame(X, columns=["const", "a", "b"], index=index)
    w = w.copy()
    w[4] = 0.0
    res = gt.fit(frame, pd.Series(y, index=index), family=gt.Poisson(), weights=w)
    inf = res.get_influence()
    assert list(inf.hat_matrix_diag.index) == list(index)
    assert inf.hat_matrix_diag["r4"] == 0.0
    assert np.isnan(inf.cooks_distance["r4"])
    table = inf.summary_frame()
    assert list(table.columns[:3]) == ["dfb_const", "dfb_a", "dfb_b"]
    assert list(table.index) == list(index)
    # the measures of the other rows equal those of the fit without row 4
    keep = np.arange(len(y)) != 4
    sub = gt.fit(X[keep], y[keep], family=gt.Poisson(), weights=w[keep]).get_influence()
    np.testing.assert_allclose(np.asarray(inf.hat_matrix_diag)[keep], sub.hat_matrix_diag,
                               rtol=1e-7)


def test_hat_values_without_an_n_by_n_matrix():
    """n = 200,000 rows: an n x n matrix would need 320 GB; the leverages still add up
    to p, in blocks of rows."""
    rng = np.random.default_rng(3)
    n = 200_000
    X = np.column_stack([np.ones(n), rng.normal(size=n)])
    y = rng.poisson(np.exp(0.2 + 0.1 * X[:, 1])).astype(float)
    h = gt.fit(X, y, family=gt.Poisson()).get_influence().hat_matrix_diag
    assert h.shape == (n,)
    assert abs(h.sum() - 2.0) < 1e-8
    assert stats.describe(h).minmax[0] > 0


# -- get_prediction -----------------------------------------------------------------------------

FRAME_COLUMNS = ["mean", "mean_se", "mean_ci_lower", "mean_ci_upper"]


@pytest.mark.parametrize("alpha", [0.05, 0.2])
@pytest.mark.parametrize("kind", KINDS)
def test_prediction_frame_matches_statsmodels(kind, alpha):
    res, ref, X = _pair(kind)
    rng = np.random.default_rng(11)
    X_new = np.column_stack([np.ones(5), rng.normal(size=5), rng.uniform(-1, 1, 5)])
    ours = res.get_prediction(X_new).summary_frame(alpha=alpha)
    theirs = ref.get_prediction(X_new).summary_frame(alpha=alpha)
    assert list(ours.columns) == FRAME_COLUMNS == list(theirs.columns)
    np.testing.assert_allclose(ours.to_numpy(), theirs.to_numpy(), rtol=1e-7)
    # the link scale: statsmodels' which="linear" (R's predict(type="link", se.fit=TRUE))
    lin = res.get_prediction(X_new, linear=True)
    ref_lin = ref.get_prediction(X_new, which="linear")
    np.testing.assert_allclose(lin.predicted_mean, ref_lin.predicted, rtol=1e-7)
    np.testing.assert_allclose(lin.se_mean, ref_lin.se, rtol=1e-7)
    np.testing.assert_allclose(lin.conf_int(alpha), ref_lin.conf_int(alpha=alpha), rtol=1e-7)
    assert list(lin.summary_frame().columns) == ["predicted", "se", "ci_lower", "ci_upper"]
    # without X_new: the rows of the fit
    whole = res.get_prediction()
    np.testing.assert_allclose(whole.predicted_mean, res.fittedvalues, rtol=1e-12)
    np.testing.assert_allclose(whole.se_mean, ref.get_prediction().se_mean, rtol=1e-7)


def test_prediction_interval_is_formed_on_the_link_scale():
    res, _, X = _pair("binomial")
    pred = res.get_prediction(X[:4])
    q = stats.norm.isf(0.025)
    eta = X[:4] @ np.asarray(res.params)
    se = np.sqrt(np.einsum("ij,jk,ik->i", X[:4], res.cov_params(), X[:4]))
    expit = 1 / (1 + np.exp(-(eta[:, None] + np.array([-q, q]) * se[:, None])))
    np.testing.assert_allclose(pred.conf_int(), expit, rtol=1e-10)
    mu = 1 / (1 + np.exp(-eta))
    np.testing.assert_allclose(pred.se_mean, mu * (1 - mu) * se, rtol=1e-10)
    assert np.all((pred.conf_int() > 0) & (pred.conf_int() < 1))


def test_prediction_with_exposure_offset_and_a_formula():
    rng = np.random.default_rng(5)
    n = 80
    df = pd.DataFrame({"x": rng.normal(size=n), "g": rng.choice(["a", "b", "c"], n),
                       "t": rng.uniform(0.5, 4.0, n)})
    df["y"] = rng.poisson(df["t"] * np.exp(0.2 + 0.4 * df["x"]))
    import statsmodels.formula.api as smf

    res = gt.glm("y ~ x + C(g)", data=df, family=gt.Poisson(), exposure="t", tol=1e-12)
    ref = smf.glm("y ~ x + C(g)", data=df, family=sm.families.Poisson(),
                  exposure=df["t"]).fit(tol=1e-13, tol_criterion="params")
    new = pd.DataFrame({"x": [0.0, 1.0, -1.0], "g": ["a", "c", "b"], "t": [1.0, 2.0, 0.5]},
                       index=["p", "q", "r"])
    ours = res.get_prediction(new, exposure="t").summary_frame()
    theirs = ref.get_prediction(new, exposure=new["t"]).summary_frame()
    assert list(ours.index) == ["p", "q", "r"]
    np.testing.assert_allclose(ours.to_numpy(), theirs.to_numpy(), rtol=1e-7)
    np.testing.assert_allclose(ours["mean"], res.predict(new, exposure="t"), rtol=1e-12)
    # an offset of ln(t) is the same as the exposure t
    with pytest.warns(UserWarning, match="exposure 1 is assumed"):
        by_offset = res.get_prediction(new, offset=np.log(new["t"]))
    np.testing.assert_allclose(by_offset.predicted_mean, ours["mean"], rtol=1e-12)
    # an array design matrix with the same coefficients
    X = np.column_stack([np.ones(n), df["g"] == "b", df["g"] == "c", df["x"]]).astype(float)
    arr = gt.fit(X, df["y"].to_numpy(float), family=gt.Poisson(), exposure=df["t"].to_numpy(),
                 tol=1e-12)
    X_new = np.array([[1, 0, 0, 0.0], [1, 0, 1, 1.0], [1, 1, 0, -1.0]])
    np.testing.assert_allclose(arr.get_prediction(X_new, exposure=[1.0, 2.0, 0.5]).se_mean,
                               theirs["mean_se"], rtol=1e-6)


def test_prediction_uses_robust_covariance_of_the_fit():
    X, y, _, _, _ = _data("poisson")
    res = gt.fit(X, y, family=gt.Poisson(), cov_type="HC0", tol=1e-12)
    ref = sm.GLM(y, X, family=sm.families.Poisson()).fit(cov_type="HC0", tol=1e-13,
                                                         tol_criterion="params")
    np.testing.assert_allclose(res.get_prediction(X[:6]).summary_frame().to_numpy(),
                               ref.get_prediction(X[:6]).summary_frame().to_numpy(), rtol=1e-7)


def test_prediction_bad_inputs():
    res, _, X = _pair("poisson")
    with pytest.raises(ValueError, match=r"^X_new: must have 3 columns"):
        res.get_prediction(np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"^alpha: must be between 0 and 1"):
        res.get_prediction(X[:2]).summary_frame(alpha=1.5)
    with pytest.raises(ValueError, match=r"^linear: must be True or False"):
        res.get_prediction(X[:2], linear="yes")
    with pytest.raises(ValueError, match=r"^offset: without X_new the fit's own offset"):
        res.get_prediction(offset=np.zeros(len(X)))


def test_prediction_with_t_statistics():
    """use_t=True: t quantiles on df_resid, as statsmodels' get_prediction; with clusters
    the fit's G - 1 degrees of freedom, so that predicting x_0 = e_j with the identity
    link reproduces coefficient j's conf_int (statsmodels 0.15 keeps df_resid there)."""
    X, y, _, _, _ = _data("gamma-log")
    fam, ref_fam = gt.Gamma(L.Log()), sm.families.Gamma(sm.families.links.Log())
    res = gt.fit(X, y, family=fam, use_t=True, tol=1e-12)
    ref = sm.GLM(y, X, family=ref_fam).fit(use_t=True, tol=1e-13, tol_criterion="params")
    np.testing.assert_allclose(res.get_prediction(X[:5]).summary_frame(alpha=0.1).to_numpy(),
                               ref.get_prediction(X[:5]).summary_frame(alpha=0.1).to_numpy(),
                               rtol=1e-7)
    groups = np.arange(len(y)) % 6
    res_c = gt.fit(X, y, family=fam, use_t=True, cov_type="cluster",
                   cov_kwds={"groups": groups}, tol=1e-12)
    lin = res_c.get_prediction(np.eye(3), linear=True)
    np.testing.assert_allclose(lin.conf_int(0.05), np.asarray(res_c.conf_int(0.05)),
                               rtol=1e-12)
    assert lin.df == 5
