"""Every bad input listed in docs/bad_inputs.md, and exactly what the user gets (issue 3).

Each row of the table in docs/bad_inputs.md names its test here: ``test_bad_input[<id>]``
for the errors, or one of the named tests further down for warnings and FitErrors.
``test_docs_table_lists_every_case`` keeps the two in step.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import glmteach as gt
from glmteach import links as L
from glmteach.datasets import load_insurance

N = 20
RNG = np.random.default_rng(0)
X = np.column_stack([np.ones(N), RNG.uniform(0, 1, N)])
Y_POS = RNG.gamma(2.0, 1.0, N)
Y_COUNT = RNG.poisson(2.0, N).astype(float)
Y_PROP = RNG.integers(0, 5, N) / 4.0
TRIALS = np.full(N, 4.0)
DOC = Path(__file__).resolve().parent.parent / "docs" / "bad_inputs.md"


def put(values, value, rows=(3,)):
    """A copy of ``values`` with ``value`` at the given rows (row 3 by default)."""
    out = np.array(values, dtype=float, copy=True)
    flat = out.reshape(len(out), -1)
    for r in rows:
        flat[r, -1] = value
    return out


def poisson(**kw):
    return gt.fit(kw.pop("X", X), kw.pop("y", Y_COUNT), family=kw.pop("family", gt.Poisson()),
                  **kw)


def fitted():
    return gt.fit(X, Y_COUNT, family=gt.Poisson())


def formula_fit():
    return gt.glm("Claims ~ C(Age)", data=load_insurance(), family=gt.Poisson(),
                  exposure="Holders")


def _frame_with(**columns):
    return pd.DataFrame({"const": np.ones(N), "x": X[:, 1], **columns})


# (id, call, exception, regex the message must match).  Row-level rules also say how
# many rows break them ("1 row", "2 rows") and where the first ones are.
CASES = [
    # -- response outside the family's support --
    ("y-negative-count-poisson", lambda: poisson(y=put(Y_COUNT, -1)), ValueError,
     r"^y: the Poisson family needs non-negative counts; 1 row breaks this rule "
     r"\(first at row 3\)"),
    ("y-negative-count-negbin",
     lambda: poisson(y=put(Y_COUNT, -2, (3, 8)), family=gt.NegativeBinomial()), ValueError,
     r"^y: the NegativeBinomial family needs non-negative counts; 2 rows break this rule "
     r"\(first at rows 3, 8\)"),
    ("y-proportion-above-one",
     lambda: gt.fit(X, put(Y_PROP, 1.25), family=gt.Binomial(), weights=TRIALS), ValueError,
     r"^y: the Binomial family needs proportions in \[0, 1\].*1 row breaks this rule"),
    ("y-proportion-below-zero", lambda: gt.fit(X, put(Y_PROP, -0.25), family=gt.Binomial()),
     ValueError, r"^y: the Binomial family needs proportions in \[0, 1\].*1 row breaks"),
    ("y-zero-gamma", lambda: gt.fit(X, put(Y_POS, 0.0), family=gt.Gamma()), ValueError,
     r"^y: the Gamma family needs positive numbers \(y > 0\); 1 row breaks this rule"),
    ("y-negative-inverse-gaussian",
     lambda: gt.fit(X, put(Y_POS, -1.0), family=gt.InverseGaussian()), ValueError,
     r"^y: the InverseGaussian family needs positive numbers \(y > 0\); 1 row breaks"),
    ("y-negative-tweedie", lambda: gt.fit(X, put(Y_POS, -1.0), family=gt.Tweedie(power=1.5)),
     ValueError, r"^y: the Tweedie family needs non-negative numbers \(y >= 0\); 1 row"),
    ("y-zero-tweedie-power-above-2",
     lambda: gt.fit(X, put(Y_POS, 0.0), family=gt.Tweedie(power=2.5)), ValueError,
     r"^y: the Tweedie family needs positive numbers \(y > 0\); 1 row breaks"),
    ("y-counts-negative",
     lambda: gt.fit(X, np.column_stack([put(Y_COUNT, -1), Y_COUNT]), family=gt.Binomial()),
     ValueError, r"^y: successes and failures must be non-negative; 1 row is not"),
    ("y-counts-not-whole",
     lambda: gt.fit(X, np.column_stack([put(Y_COUNT, 1.5), Y_COUNT]), family=gt.Binomial()),
     ValueError, r"^y: successes and failures must be whole numbers; 1 row is not"),
    ("y-successes-not-whole",
     lambda: gt.fit(X, put(Y_PROP, 0.3), family=gt.Binomial(), weights=TRIALS), ValueError,
     r"^y: with weights = numbers of trials, weights \* y must be whole numbers of "
     r"successes; 1 row is not \(first at row 3\)"),
    ("y-three-columns", lambda: gt.fit(X, np.ones((N, 3)), family=gt.Binomial()), ValueError,
     r"^y: must be one-dimensional .*got shape \(20, 3\)"),
    ("y-two-columns-not-binomial", lambda: poisson(y=np.ones((N, 2))), ValueError,
     r"^y: must be one-dimensional \(a two-column successes/failures array is accepted "
     r"only by the Binomial family\)"),
    # -- NaN and infinity --
    ("X-nan", lambda: poisson(X=put(X, np.nan)), ValueError,
     r"^X: must not contain NaN or infinite values; 1 row does \(first at row 3\)"),
    ("X-inf", lambda: poisson(X=put(X, np.inf, (2, 5))), ValueError,
     r"^X: must not contain NaN or infinite values; 2 rows do \(first at rows 2, 5\)"),
    ("y-nan", lambda: poisson(y=put(Y_COUNT, np.nan)), ValueError,
     r"^y: must not contain NaN or infinite values; 1 row does"),
    ("y-inf", lambda: gt.fit(X, put(Y_POS, np.inf), family=gt.Gamma()), ValueError,
     r"^y: must not contain NaN or infinite values; 1 row does"),
    ("y-pandas-NA",
     lambda: poisson(y=pd.Series(Y_COUNT).astype("Int64").where(np.arange(N) != 3)),
     ValueError, r"^y: must not contain NaN or infinite values; 1 row does"),
    ("weights-nan", lambda: poisson(weights=put(np.ones(N), np.nan)), ValueError,
     r"^weights: must not contain NaN or infinite values; 1 row does"),
    ("offset-inf", lambda: poisson(offset=put(np.zeros(N), -np.inf)), ValueError,
     r"^offset: must not contain NaN or infinite values; 1 row does"),
    ("exposure-nan", lambda: poisson(exposure=put(np.ones(N), np.nan)), ValueError,
     r"^exposure: must not contain NaN or infinite values; 1 row does"),
    # -- lengths and row labels --
    ("y-length", lambda: poisson(y=Y_COUNT[:-1]), ValueError,
     r"^y: has 19 values but X has 20 rows"),
    ("weights-length", lambda: poisson(weights=np.ones(N - 1)), ValueError,
     r"^weights: must have one value per row of X \(20 rows\), got shape \(19,\)"),
    ("offset-length", lambda: poisson(offset=np.zeros(N + 1)), ValueError,
     r"^offset: must have one value per row of X \(20 rows\), got shape \(21,\)"),
    ("exposure-length", lambda: poisson(exposure=np.ones(N - 2)), ValueError,
     r"^exposure: must have one value per row of X \(20 rows\), got shape \(18,\)"),
    ("index-misaligned",
     lambda: poisson(X=pd.DataFrame(X), y=pd.Series(Y_COUNT, index=np.arange(N)[::-1])),
     ValueError, r"^y: its index \(row labels\) differs from X's"),
    ("weights-index-misaligned",
     lambda: poisson(X=pd.DataFrame(X), weights=pd.Series(np.ones(N), index=np.arange(N) + 1)),
     ValueError, r"^weights: its index \(row labels\) differs from X's"),
    # -- weights and exposure --
    ("weights-negative", lambda: poisson(weights=put(np.ones(N), -1.0)), ValueError,
     r"^weights: must be non-negative; 1 row is negative \(first at row 3\)"),
    ("weights-all-zero", lambda: poisson(weights=np.zeros(N)), ValueError,
     r"^weights: at least one weight must be positive"),
    ("exposure-zero", lambda: poisson(exposure=put(np.ones(N), 0.0)), ValueError,
     r"^exposure: must be positive; 1 row is not \(first at row 3\)"),
    ("exposure-negative", lambda: poisson(exposure=put(np.ones(N), -2.0, (1, 2))), ValueError,
     r"^exposure: must be positive; 2 rows are not"),
    ("exposure-with-identity-link",
     lambda: poisson(y=Y_COUNT + 1, family=gt.Poisson(L.Identity()), exposure=np.ones(N)),
     ValueError, r"^exposure: .*only with the log link; this model uses Identity\(\)"),
    # -- empty or mis-shaped data --
    ("X-no-rows", lambda: poisson(X=np.empty((0, 2)), y=np.empty(0)), ValueError,
     r"^X: must have at least one row and one column, got shape \(0, 2\)"),
    ("X-no-columns", lambda: poisson(X=np.empty((N, 0))), ValueError,
     r"^X: must have at least one row and one column, got shape \(20, 0\)"),
    ("X-three-dimensional", lambda: poisson(X=np.ones((N, 2, 2))), ValueError,
     r"^X: must be a 2-D array \(rows x columns\), got 3 dimensions"),
    # -- non-numeric data --
    ("X-text-column", lambda: poisson(X=_frame_with(group=["a", "b"] * (N // 2))), ValueError,
     r"^X: must be numeric; non-numeric column\(s\): group \(encode categories as dummy "
     r"columns, or use gt.glm with a formula such as 'y ~ C\(group\)'\)"),
    ("X-numbers-as-text", lambda: poisson(X=X.astype(str)), ValueError,
     r"^X: must be numeric"),
    ("y-text", lambda: poisson(y=["yes", "no"] * (N // 2)), ValueError,
     r"^y: must be numeric"),
    ("y-categorical", lambda: poisson(y=pd.Series(pd.Categorical(["a", "b"] * (N // 2)))),
     ValueError, r"^y: must be numeric"),
    # -- family, link and their parameters --
    ("family-class-not-instance", lambda: poisson(family=gt.Poisson), ValueError,
     r"^family: must be a glmteach family instance such as gt.Poisson\(\)"),
    ("family-string", lambda: poisson(family="poisson"), ValueError,
     r"^family: must be a glmteach family instance"),
    ("link-class-not-instance", lambda: gt.Poisson(link=L.Log), ValueError,
     r"^link: must be a glmteach.links.Link instance such as gt.links.Log\(\)"),
    ("link-not-allowed-for-family", lambda: gt.Poisson(link=L.Logit()), ValueError,
     r"^link: Logit\(\) is not a valid link for the Poisson family; use one of: Log, "
     r"Identity, Power"),
    ("power-link-zero", lambda: L.Power(0.0), ValueError,
     r"^power: must be a finite, non-zero number .*Log link"),
    ("tweedie-power-between-0-and-1", lambda: gt.Tweedie(power=0.5), ValueError,
     r"^power: must be 0 or at least 1 \(no Tweedie distribution has 0 < p < 1 or p < 0\), "
     r"got 0.5"),
    ("tweedie-power-negative", lambda: gt.Tweedie(power=-1), ValueError,
     r"^power: must be 0 or at least 1"),
    ("tweedie-power-nan", lambda: gt.Tweedie(power=float("nan")), ValueError,
     r"^power: must be 0 or at least 1"),
    ("tweedie-power-text", lambda: gt.Tweedie(power="1.5"), ValueError,
     r"^power: must be 0 or at least 1 .*got '1.5'"),
    ("negbin-alpha-zero", lambda: gt.NegativeBinomial(alpha=0), ValueError,
     r"^alpha: must be a positive finite number, got 0"),
    ("negbin-alpha-negative", lambda: gt.NegativeBinomial(alpha=-0.5), ValueError,
     r"^alpha: must be a positive finite number, got -0.5"),
    ("negbin-alpha-inf", lambda: gt.NegativeBinomial(alpha=float("inf")), ValueError,
     r"^alpha: must be a positive finite number, got inf"),
    ("negbin-alpha-text", lambda: gt.NegativeBinomial(alpha="1"), ValueError,
     r"^alpha: must be a positive finite number, got '1'"),
    # -- fitting controls --
    ("tol-zero", lambda: poisson(tol=0), ValueError,
     r"^tol: must be a positive finite number, got 0"),
    ("tol-negative", lambda: poisson(tol=-1e-8), ValueError, r"^tol: must be a positive"),
    ("tol-nan", lambda: poisson(tol=float("nan")), ValueError, r"^tol: must be a positive"),
    ("tol-text", lambda: poisson(tol="1e-8"), ValueError, r"^tol: must be a positive .*'1e-8'"),
    ("maxiter-zero", lambda: poisson(maxiter=0), ValueError,
     r"^maxiter: must be a whole number >= 1, got 0"),
    ("maxiter-fraction", lambda: poisson(maxiter=2.5), ValueError,
     r"^maxiter: must be a whole number >= 1, got 2.5"),
    ("maxiter-bool", lambda: poisson(maxiter=True), ValueError,
     r"^maxiter: must be a whole number >= 1, got True"),
    ("convergence-unknown", lambda: poisson(convergence="deviance"), ValueError,
     r"^convergence: must be 'glmteach' .* or 'R' .*got 'deviance'"),
    ("method-unknown", lambda: poisson(method="bfgs"), ValueError,
     r"^method: must be one of \['irls', 'newton'\], got 'bfgs'"),
    ("start-wrong-length", lambda: poisson(start=[0.0]), ValueError,
     r"^start: must be 2 finite coefficients \(one per column of X\), got shape \(1,\)"),
    ("start-nan", lambda: poisson(start=[np.nan, 0.0]), ValueError,
     r"^start: must be 2 finite coefficients; 1 of them is NaN or infinite"),
    ("start-text", lambda: poisson(start=["a", "b"]), ValueError,
     r"^start: must be 2 numbers \(one coefficient per column of X\)"),
    ("start-outside-mean-space", lambda: gt.fit(X, Y_POS, family=gt.Gamma(), start=[-1, 0]),
     ValueError, r"^start: gives means outside the Gamma family's mean space .*Inverse\(\)"),
    ("cov-type-unknown", lambda: poisson(cov_type="HC3"), ValueError,
     r"^cov_type: must be 'nonrobust', 'HC0', 'HC1' or 'cluster', got 'HC3'"),
    # -- inference options (issue 17) --
    ("scale-unknown-string", lambda: poisson(scale="pearson"), ValueError,
     r"^scale: must be None .*'X2' \(Pearson X2 / df_resid\) or 'dev' .*got 'pearson'"),
    ("scale-not-positive", lambda: poisson(scale=0.0), ValueError,
     r"^scale: a fixed scale must be a positive finite number, got 0.0"),
    ("scale-bool", lambda: poisson(scale=True), ValueError,
     r"^scale: a fixed scale must be a positive finite number, got True"),
    ("use-t-not-bool", lambda: poisson(use_t="yes"), ValueError,
     r"^use_t: must be True or False, got 'yes'"),
    ("freq-weights-negative", lambda: poisson(freq_weights=put(np.ones(N), -1)), ValueError,
     r"^freq_weights: must be non-negative whole numbers .*; 1 row is negative "
     r"\(first at row 3\)"),
    ("freq-weights-not-whole", lambda: poisson(freq_weights=put(np.ones(N), 1.5)),
     ValueError, r"^freq_weights: must be whole numbers .*; 1 row is not \(first at row 3\)"
     r"\. For non-integer weights use weights="),
    ("freq-weights-wrong-length", lambda: poisson(freq_weights=np.ones(N - 1)), ValueError,
     r"^freq_weights: must have one value per row of X \(20 rows\)"),
    ("freq-weights-nan", lambda: poisson(freq_weights=put(np.ones(N), np.nan)), ValueError,
     r"^freq_weights: must not contain NaN or infinite values; 1 row does"),
    ("freq-weights-all-zero", lambda: poisson(freq_weights=np.zeros(N)), ValueError,
     r"^freq_weights: at least one row must have a positive frequency weight"),
    ("cluster-without-groups", lambda: poisson(cov_type="cluster"), ValueError,
     r"^cov_kwds: cov_type='cluster' needs cov_kwds=\{'groups': g\}"),
    ("cluster-unknown-key", lambda: poisson(cov_type="cluster",
                                            cov_kwds={"groups": np.arange(N) % 4,
                                                      "use_correction": False}),
     ValueError, r"^cov_kwds: unknown key\(s\) \['use_correction'\]"),
    ("cov-kwds-without-cluster", lambda: poisson(cov_kwds={"groups": np.arange(N)}),
     ValueError, r"^cov_kwds: only used with cov_type='cluster'"),
    ("groups-wrong-length", lambda: poisson(cov_type="cluster",
                                            cov_kwds={"groups": np.arange(N - 1)}),
     ValueError, r"^groups: must have one group label per row of X \(20 rows\), got shape "
     r"\(19,\)"),
    ("groups-nan", lambda: poisson(cov_type="cluster",
                                   cov_kwds={"groups": put(np.arange(N) % 4, np.nan)}),
     ValueError, r"^groups: must not contain missing values \(NaN/None\); 1 row is missing "
     r"\(first at row 3\)"),
    ("groups-one-group", lambda: poisson(cov_type="cluster", cov_kwds={"groups": np.ones(N)}),
     ValueError, r"^groups: cluster-robust covariance needs at least 2 groups"),
    ("formula-groups-column-missing",
     lambda: gt.glm("Claims ~ C(Age)", data=load_insurance(), family=gt.Poisson(),
                    cov_type="cluster", cov_kwds={"groups": "Region"}), ValueError,
     r"^groups: 'Region' is not a column of data"),
    # -- rank deficiency --
    ("X-duplicate-column", lambda: poisson(X=_frame_with(x_copy=X[:, 1])), ValueError,
     r"^X: columns are linearly dependent \(rank 2 < 3 columns\); aliased column\(s\): "
     r"x_copy"),
    ("X-dummy-trap",
     lambda: poisson(X=_frame_with(a=(np.arange(N) % 2 == 0) * 1.0,
                                   b=(np.arange(N) % 2 == 1) * 1.0)), ValueError,
     r"^X: columns are linearly dependent \(rank 3 < 4 columns\); aliased column\(s\): b"),
    ("X-all-zero-column", lambda: poisson(X=_frame_with(empty=np.zeros(N))), ValueError,
     r"^X: .*aliased column\(s\): empty"),
    # -- prediction and inference on a fitted model --
    ("predict-wrong-columns", lambda: fitted().predict(np.ones((3, 5))), ValueError,
     r"^X_new: must have 2 columns \(the model's coefficients\), got shape \(3, 5\)"),
    ("predict-nan", lambda: fitted().predict(np.array([[1.0, np.nan], [1.0, 0.5]])),
     ValueError, r"^X_new: must not contain NaN or infinite values \(found in 1 of 2 rows\)"),
    ("predict-exposure-length", lambda: fitted().predict(np.ones((3, 2)), exposure=[1, 2]),
     ValueError, r"^exposure: must have one value per row of X_new \(3 rows\)"),
    ("predict-exposure-not-positive",
     lambda: fitted().predict(np.ones((2, 2)), exposure=[1.0, 0.0]), ValueError,
     r"^exposure: must be positive; 1 row is not \(first at row 1\)"),
    ("predict-exposure-identity-link",
     lambda: gt.fit(X, Y_COUNT + 1, family=gt.Poisson(L.Identity())).predict(
         np.ones((3, 2)), exposure=np.ones(3)), ValueError,
     r"^exposure: .*only with the log link"),
    ("predict-offset-nan", lambda: fitted().predict(np.ones((2, 2)), offset=[0.0, np.nan]),
     ValueError, r"^offset: must not contain NaN or infinite values"),
    ("predict-unseen-level",
     lambda: formula_fit().predict(pd.DataFrame({"Age": ["<18"], "Holders": [1]})),
     ValueError, r"^X_new: holds a category level the model was not fitted on"),
    ("predict-missing-column", lambda: formula_fit().predict(pd.DataFrame({"age": ["<25"]})),
     ValueError, r"^X_new: cannot build the model's design matrix"),
    ("conf-int-alpha", lambda: fitted().conf_int(alpha=1.5), ValueError,
     r"^alpha: must be between 0 and 1, got 1.5"),
    ("conf-int-alpha-text", lambda: fitted().conf_int(alpha="0.05"), ValueError,
     r"^alpha: must be between 0 and 1, got '0.05'"),
    ("summary-alpha-text", lambda: fitted().summary(alpha="0.05"), ValueError,
     r"^alpha: must be between 0 and 1, got '0.05'"),
    ("predict-columns-by-name",
     lambda: gt.fit(pd.DataFrame(X, columns=["const", "x"]), Y_COUNT,
                    family=gt.Poisson()).predict(pd.DataFrame({"const": [1.0], "z": [0.5]})),
     ValueError, r"^X_new: its columns must be the model's \(const, x\); missing: x, "
                 r"unknown: z"),
    ("predict-exposure-index-misaligned",
     lambda: gt.fit(pd.DataFrame(X, columns=["const", "x"]), Y_COUNT, family=gt.Poisson(),
                    exposure=np.ones(N)).predict(
         pd.DataFrame(X[:3], columns=["const", "x"]),
         exposure=pd.Series([1.0, 2.0, 3.0], index=[2, 1, 0])),
     ValueError, r"^exposure: its index \(row labels\) differs from X_new's"),
    ("predict-exposure-text-column",
     lambda: formula_fit().predict(load_insurance().head(3), exposure="Age"), ValueError,
     r"^exposure: must be numeric"),
    ("predict-exposure-unknown-column",
     lambda: formula_fit().predict(load_insurance().head(3), exposure="holders"),
     ValueError, r"^exposure: 'holders' is not a column of X_new"),
    # -- extreme scales and column types (issue 12) --
    ("y-gamma-too-large",
     lambda: gt.fit(X, Y_POS * 1e300, family=gt.Gamma(L.Log())), ValueError,
     r"^y: values from .* are too extreme for the Gamma variance function "
     r"v\(mu\) = mu\^2 .*rescale y"),
    ("y-gamma-too-small",
     lambda: gt.fit(X, Y_POS * 1e-300, family=gt.Gamma(L.Log())), ValueError,
     r"^y: values from .* are too extreme for the Gamma variance function"),
    ("X-datetime-column",
     lambda: gt.fit(pd.DataFrame({"when": pd.date_range("2020-01-01", periods=N)}),
                    Y_COUNT, family=gt.Poisson()), ValueError,
     r"^X: holds dates or times \(column when\), which would be used as nanoseconds"),
    ("X-categorical-column",
     lambda: gt.fit(pd.DataFrame({"const": 1.0, "g": pd.Categorical(np.arange(N) % 3)}),
                    Y_COUNT, family=gt.Poisson()), ValueError,
     r"^X: holds a pandas Categorical \(column g\).*use the formula front end"),
    ("X-complex", lambda: gt.fit(X + 1j, Y_COUNT, family=gt.Poisson()), ValueError,
     r"^X: holds complex numbers; a GLM needs real numbers"),
    ("X-column-only-zero-weight-rows",
     lambda: gt.fit(np.column_stack([X, np.r_[1.0, np.zeros(N - 1)]]), Y_COUNT,
                    family=gt.Poisson(), weights=np.r_[0.0, np.ones(N - 1)]), ValueError,
     r"^X: columns are linearly dependent on the rows with positive weight \(rank 2 < 3 "
     r"columns\); aliased column\(s\): x2"),
    # -- formula front end --
    ("formula-not-a-formula", lambda: gt.glm("Claims", data=load_insurance()), ValueError,
     r"^formula: must be a string like 'y ~ x1 \+ C\(x2\)'"),
    ("formula-unknown-variable",
     lambda: gt.glm("Claims ~ C(Region)", data=load_insurance(), family=gt.Poisson()),
     ValueError, r"^formula: could not build the model from 'Claims ~ C\(Region\)'"),
    ("formula-column-name-missing",
     lambda: gt.glm("Claims ~ C(Age)", data=load_insurance(), family=gt.Poisson(),
                    exposure="holders"), ValueError,
     r"^exposure: 'holders' is not a column of data"),
    ("formula-weights-text-column",
     lambda: gt.glm("Claims ~ C(Age)", data=load_insurance(), family=gt.Poisson(),
                    weights="Age"), ValueError,
     r"^weights: column 'Age' must be numeric, but it holds text or categories"),
    ("formula-text-response",
     lambda: gt.glm("Age ~ Holders", data=load_insurance(), family=gt.Binomial()),
     ValueError, r"^y: the response column 'Age' holds text or categories"),
    ("formula-data-not-a-frame",
     lambda: gt.glm("Claims ~ Age", data=load_insurance().to_dict("list")), ValueError,
     r"^data: must be a pandas DataFrame"),
]


@pytest.mark.parametrize(("call", "error", "pattern"),
                         [pytest.param(c, e, p, id=i) for i, c, e, p in CASES])
def test_bad_input(call, error, pattern):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an error, not an error plus stray warnings
        with pytest.raises(error) as info:
            call()
    message = str(info.value)
    assert re.search(pattern, message), message
    # the message starts with the argument's name, as "name: ..."
    assert re.match(r"^[A-Za-z_]+: ", message), message


# -- behaviours that are warnings or FitErrors (their rows in the table name these) -----------

def test_no_residual_degrees_of_freedom_warns():
    with pytest.warns(UserWarning, match=r"2 observations and 2 coefficients leave no "
                                         r"residual degrees of freedom"):
        res = gt.fit(X[:2], Y_POS[:2], family=gt.Gaussian())
    assert np.isnan(res.scale) and np.all(np.isnan(res.bse))
    assert np.all(np.isfinite(res.params))
    # a fixed-scale family has inference even when saturated: no warning there
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        saturated = gt.fit(X[:2], Y_COUNT[:2] + 1, family=gt.Poisson())
    assert np.all(np.isfinite(saturated.bse))


def test_maxiter_reached_warns():
    with pytest.warns(gt.ConvergenceWarning, match=r"did not converge in maxiter=1 "
                                                   r"iterations .* Raise maxiter"):
        res = gt.fit(X, Y_POS, family=gt.Gamma(L.Log()), maxiter=1)
    assert res.converged is False


def test_separated_binomial_warns():
    x = np.array([-2.0, -1.0, 1.0, 2.0])
    with pytest.warns(gt.PerfectSeparationWarning, match=r"completely separated.*"
                                                         r"largest coefficients"):
        gt.fit(np.column_stack([np.ones(4), x]), (x > 0).astype(float), family=gt.Binomial())


def test_first_step_outside_mean_space_is_a_fit_error():
    x = np.linspace(0, 1, 60)
    y = np.random.default_rng(0).gamma(20.0, np.exp(4 * x) / 20.0)
    with pytest.raises(gt.FitError, match=r"^iteration 1: the first step from the data "
                                          r"start .*pass start= coefficients"):
        gt.fit(np.column_stack([1.0 + x, x]), y, family=gt.Gamma())  # no intercept


def test_first_step_outside_mean_space_restarts_with_a_warning():
    x = np.linspace(0, 1, 60)
    y = np.random.default_rng(0).gamma(20.0, np.exp(4 * x) / 20.0)
    with pytest.warns(UserWarning, match=r"^the fit could not start from the data .*"
                                         r"restarted from the intercept-only fit"):
        res = gt.fit(np.column_stack([np.ones(60), x]), y, family=gt.Gamma())
    assert res.converged


def test_no_step_fraction_recovers_is_a_fit_error():
    X5 = np.column_stack([np.ones(5), np.arange(5.0)])
    y5 = np.array([0.0, 0.1, 0.3, 0.5, 0.7])
    with pytest.raises(gt.FitError, match=r"^iteration 1: after \d+ step halvings .*still "
                                          r"gives means outside the Binomial mean space"):
        gt.fit(X5, y5, family=gt.Binomial(L.Identity()), weights=np.full(5, 10.0),
               start=[0.0, 0.2])


def test_all_responses_zero_is_a_fit_error():
    with pytest.raises(gt.FitError, match=r"^cannot start from the data: every response is "
                                          r"0, so the Poisson means would have to be 0"):
        poisson(y=np.zeros(N))


def test_exact_fit_warns():
    with pytest.warns(UserWarning, match=r"the model fits every observation exactly \(to "
                                         r"rounding error\): the estimated Gaussian scale"):
        gt.fit(X, 1.0 + 2.0 * X[:, 1], family=gt.Gaussian())


def test_zero_counts_separated_warns():
    group = (np.arange(N) < N // 2).astype(float)
    with pytest.warns(gt.PerfectSeparationWarning, match=r"fitted means of zero counts are "
                                                         r"numerically 0"):
        poisson(X=np.column_stack([np.ones(N), group]), y=np.where(group == 1, 0.0, 3.0))


NAMED_TESTS = ["test_no_residual_degrees_of_freedom_warns", "test_maxiter_reached_warns",
               "test_all_responses_zero_is_a_fit_error", "test_exact_fit_warns",
               "test_zero_counts_separated_warns",
               "test_separated_binomial_warns",
               "test_first_step_outside_mean_space_is_a_fit_error",
               "test_first_step_outside_mean_space_restarts_with_a_warning",
               "test_no_step_fraction_recovers_is_a_fit_error"]


def test_docs_table_lists_every_case():
    """docs/bad_inputs.md has one row per case, naming its test - and no stale rows."""
    text = DOC.read_text(encoding="utf-8")
    named = set(re.findall(r"`test_bad_input\[([^\]]+)\]`", text))
    ids = {case[0] for case in CASES}
    assert named == ids, (sorted(ids - named), sorted(named - ids))
    for name in NAMED_TESTS:
        assert f"`{name}`" in text
        assert name in globals()
