"""gt.compare: the agreement table the chapters show instead of blocks of asserts."""

import numpy as np
import pytest
import statsmodels.api as sm

import glmteach as gt
from glmteach.compare import DEFAULT_QUANTITIES, relative_difference


@pytest.fixture(scope="module")
def ships():
    d = gt.datasets.load_ships()
    d = d[d["service"] > 0]
    X = np.column_stack([np.ones(len(d)), (d["year"] - 60) / 5])
    return X, d["incidents"].to_numpy(float), d["service"].to_numpy(float)


def test_agreeing_fits_give_a_table_of_every_common_quantity(ships):
    X, y, service = ships
    ours = gt.fit(X, y, family=gt.Poisson(), exposure=service)
    theirs = sm.GLM(y, X, family=sm.families.Poisson(), exposure=service).fit(tol=1e-12)
    result = gt.compare(ours, theirs)
    assert result.ok
    assert list(result.table.index) == list(DEFAULT_QUANTITIES)
    text = repr(result)
    assert text.splitlines()[0].split()[:3] == ["quantity", "glmteach", "statsmodels"]
    assert "93.332423" in text  # the deviance, shown to 8 significant digits
    assert "NO" not in text


def test_a_broken_tolerance_raises_with_the_table(ships):
    X, y, service = ships
    early = gt.fit(X, y, family=gt.Poisson(), exposure=service, maxiter=1, tol=1e-8)
    theirs = sm.GLM(y, X, family=sm.families.Poisson(), exposure=service).fit(tol=1e-12)
    with pytest.raises(gt.ComparisonError, match="disagree on params") as info:
        gt.compare(early, theirs)
    assert isinstance(info.value, AssertionError)
    assert "NO" in str(info.value)


def test_per_quantity_tolerance_and_mappings():
    ours = {"params": [1.0, 2.0], "deviance": 10.0}
    theirs = {"params": [1.0, 2.0 + 1e-6], "deviance": 10.0}
    with pytest.raises(gt.ComparisonError):
        gt.compare(ours, theirs)
    result = gt.compare(ours, theirs, rtol={"params": 1e-5}, labels=("ours", "R"))
    assert result.table.loc["params", "largest rel. diff"] == pytest.approx(5e-7)
    assert repr(result).splitlines()[0].split()[1:3] == ["ours", "R"]


def test_relative_difference_is_relative_to_the_whole_vector():
    # a residual near zero must not blow the relative difference up
    assert relative_difference(np.array([1.0, 1e-12]), np.array([1.0, 2e-12])) == 1e-12
    assert relative_difference(np.zeros(2), np.array([0.0, 1e-3])) == 1.0
    assert relative_difference(np.zeros(2), np.zeros(2)) == 0.0
    assert relative_difference(np.ones(2), np.ones(3)) == np.inf
    assert relative_difference(np.array([np.nan]), np.array([1.0])) == np.inf


def test_rounding_level_differences_are_not_printed_digit_by_digit():
    result = gt.compare({"deviance": 1.0 + 1e-15}, {"deviance": 1.0})
    assert "< 1e-13" in repr(result)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"rtol": -1.0}, "rtol"),
        ({"rtol": "1e-8"}, "rtol"),
        ({"quantities": ["deviance", "nonsense"]}, "quantities: glmteach has no quantity"),
        ({"labels": ("one",)}, "labels"),
    ],
)
def test_bad_arguments_are_value_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        gt.compare({"deviance": 1.0}, {"deviance": 1.0}, **kwargs)


def test_nothing_in_common_is_an_error():
    with pytest.raises(ValueError, match="nothing in common|no quantity in common"):
        gt.compare({"deviance": 1.0}, {"llf": 1.0})


def test_per_observation_vectors_get_a_looser_default_tolerance():
    ours = {"params": [1.0], "resid_pearson": [1.0, 2.0 + 5e-8]}
    theirs = {"params": [1.0], "resid_pearson": [1.0, 2.0]}
    result = gt.compare(ours, theirs)  # 2.5e-8 <= 1e-7 for residuals
    assert result.table.loc["resid_pearson", "rtol"] == 1e-7
    assert result.table.loc["params", "rtol"] == 1e-8
    with pytest.raises(gt.ComparisonError):
        gt.compare(ours, theirs, rtol=1e-8)  # one number applies to every quantity
    with pytest.raises(gt.ComparisonError):
        gt.compare({"params": [1.0 + 5e-8]}, {"params": [1.0]})


def test_coefficients_are_matched_by_name_when_both_are_labelled():
    """A formula fit whose columns come in another order than statsmodels' still agrees:
    coefficients are matched by name (and a real difference is still caught)."""
    pd = pytest.importorskip("pandas")
    ours = {"params": pd.Series([1.0, 2.0, 3.0], index=["Intercept", "x", "C(g)[T.b]"])}
    theirs = {"params": pd.Series([1.0, 3.0, 2.0], index=["Intercept", "C(g)[T.b]", "x"])}
    assert gt.compare(ours, theirs).ok
    wrong = {"params": pd.Series([1.0, 3.0, 2.5], index=["Intercept", "C(g)[T.b]", "x"])}
    with pytest.raises(gt.ComparisonError):
        gt.compare(ours, wrong)
    unlabelled = {"params": np.array([1.0, 3.0, 2.0])}  # no names: by position
    with pytest.raises(gt.ComparisonError):
        gt.compare(ours, unlabelled)
