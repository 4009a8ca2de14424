"""Self-checks of glmteach.exercises: right answers pass, typical mistakes get their hint."""

from __future__ import annotations

import math
import subprocess
import sys
import warnings

import numpy as np
import pytest
from scipy import special

import glmteach as gt
from glmteach import exercises as ex

# --------------------------------------------------------------------------------------
# Exercise 13.1
# --------------------------------------------------------------------------------------
GAMMA_RIGHT = dict(
    theta=lambda a, g: -g / a,
    phi=lambda a, g: 1 / a,
    b=lambda t: -math.log(-t),
    S=lambda y, p: -math.log(p) / p - math.lgamma(1 / p) + (1 / p - 1) * math.log(y),
    mean=lambda t: -1 / t,
    variance=lambda t, p: p / t**2,
)


def gamma_answer(**changes):
    answer = dict(GAMMA_RIGHT)
    answer.update(changes)
    return answer


def test_13_1_right_answer_passes():
    fb = ex.check_13_1_gamma(**GAMMA_RIGHT)
    assert fb.passed and bool(fb)
    assert set(fb.codes) == {"ok"}
    assert "density" in [it.part for it in fb.items]
    assert "well done" in str(fb)


def test_13_1_numpy_answers_pass_too():
    fb = ex.check_13_1_gamma(
        theta=lambda a, g: -np.divide(g, a),
        phi=lambda a, g: np.reciprocal(a),
        b=lambda t: -np.log(-t),
        S=lambda y, p: -np.log(p) / p - special.gammaln(1 / p) + (1 / p - 1) * np.log(y),
        mean=lambda t: -1 / t,
        variance=lambda t, p: p / t**2,
    )
    assert fb.passed


def test_13_1_nothing_answered_is_todo_not_error():
    fb = ex.check_13_1_gamma()
    assert not fb.passed
    assert {it.status for it in fb.items} == {"todo"}
    assert "Nothing answered yet" in str(fb)


def test_13_1_skeleton_returning_none_is_todo():
    fb = ex.check_13_1_gamma(theta=lambda a, g: None, phi=lambda a, g: None)
    assert fb.item("theta(alpha, gamma)").status == "todo"
    assert fb.item("phi(alpha, gamma)").status == "todo"


@pytest.mark.parametrize(
    "part, changes, code, phrase",
    [
        ("theta(alpha, gamma)", dict(theta=lambda a, g: g / a), "theta_sign", "wrong sign"),
        ("theta(alpha, gamma)", dict(theta=lambda a, g: -a / g), "theta_is_minus_mean",
         "reciprocal"),
        ("theta(alpha, gamma)", dict(theta=lambda a, g: -g), "theta_missing_alpha", "divide"),
        ("phi(alpha, gamma)", dict(phi=lambda a, g: a), "phi_is_shape", "reciprocal"),
        ("phi(alpha, gamma)", dict(phi=lambda a, g: a / g**2), "phi_is_variance", "Var y"),
        ("b(theta)", dict(b=lambda t: math.log(-t)), "b_sign", "wrong sign"),
        ("b(theta)", dict(b=lambda t: -math.log(-t) + 2.0), "b_plus_constant", "constant"),
        ("mean(theta)", dict(mean=lambda t: 1 / t), "mean_sign", "positive"),
        ("variance(theta, phi)", dict(variance=lambda t, p: 1 / t**2), "variance_missing_phi",
         "phi b''"),
        ("variance(theta, phi)", dict(variance=lambda t, p: -p / t), "variance_first_derivative",
         "once more"),
    ],
)
def test_13_1_typical_mistakes_get_their_hint(part, changes, code, phrase):
    fb = ex.check_13_1_gamma(**gamma_answer(**changes))
    item = fb.item(part)
    assert item.status == "wrong"
    assert item.code == code
    assert phrase in item.hint
    assert not fb.passed


def test_13_1_student_code_that_raises_is_reported_not_raised():
    fb = ex.check_13_1_gamma(b=lambda t: -math.log(t))  # log of a negative theta
    item = fb.item("b(theta)")
    assert item.status == "wrong" and item.code == "error"
    assert "math domain error" in item.message


def test_13_1_non_numeric_return_value():
    fb = ex.check_13_1_gamma(theta=lambda a, g: "minus gamma over alpha")
    assert fb.item("theta(alpha, gamma)").code == "not_numeric"


def test_13_1_another_valid_decomposition_is_accepted_with_a_note():
    # theta and phi both doubled, b and S adjusted: the same density.
    fb = ex.check_13_1_gamma(
        theta=lambda a, g: -2 * g / a,
        phi=lambda a, g: 2 / a,
        b=lambda t: -2 * math.log(-t / 2),
        S=lambda y, p: GAMMA_RIGHT["S"](y, p / 2),
    )
    parts = ("theta(alpha, gamma)", "phi(alpha, gamma)", "b(theta)", "S(y, phi)")
    assert [fb.item(part).status for part in parts] == ["note"] * 4
    assert fb.item("density").status == "ok"


def test_13_1_misuse_raises_value_error():
    with pytest.raises(ValueError, match="theta: pass a function"):
        ex.check_13_1_gamma(theta=-0.5)


# --------------------------------------------------------------------------------------
# Exercise 13.2
# --------------------------------------------------------------------------------------
FORMULA = "average_severity ~ C(age_group) + C(vehicle_use)"


@pytest.fixture(scope="module")
def right_fit(mildenhall):
    return gt.glm(FORMULA, mildenhall, family=gt.Gamma(link=gt.links.Log()),
                  weights="claim_count")


def severity_table(df, fitted):
    df = df.assign(fitted=np.asarray(fitted))
    return df.pivot_table(index="age_group", columns="vehicle_use", values="fitted",
                          observed=True)


def test_13_2_none_is_todo():
    fb = ex.check_13_2_ratemaking(None)
    assert fb.item("fit").status == "todo"


def test_13_2_glmteach_results_pass(right_fit):
    fb = ex.check_13_2_ratemaking(right_fit)
    assert fb.passed
    assert "419.07" in str(fb)


def test_13_2_statsmodels_results_pass(mildenhall):
    sm = pytest.importorskip("statsmodels.api")
    smf = pytest.importorskip("statsmodels.formula.api")
    res = smf.glm(FORMULA, mildenhall, family=sm.families.Gamma(sm.families.links.Log()),
                  var_weights=mildenhall["claim_count"]).fit()
    assert ex.check_13_2_ratemaking(res).passed


def test_13_2_rounded_table_and_array_pass(mildenhall, right_fit):
    table = severity_table(mildenhall, right_fit.fittedvalues).round(2)
    assert ex.check_13_2_ratemaking(table).passed
    assert ex.check_13_2_ratemaking(table.T).passed  # transposed, with a note
    assert ex.check_13_2_ratemaking(np.asarray(right_fit.fittedvalues)).passed


def test_13_2_book_labels_are_flagged(mildenhall, right_fit):
    table = severity_table(mildenhall, right_fit.fittedvalues)
    book = table.rename(columns={"DriveShort": "DriveLong", "DriveLong": "DriveShort"})
    fb = ex.check_13_2_ratemaking(book)
    assert fb.item("fit").code == "swapped_labels"


@pytest.mark.parametrize(
    "family, weights, code, phrase",
    [
        (gt.Gamma(link=gt.links.Log()), None, "no_weights", "prior weights"),
        (gt.Gamma(), "claim_count", "inverse_link", "log link"),
        (gt.Gaussian(link=gt.links.Log()), "claim_count", "gaussian", "gamma"),
        (gt.Poisson(), "claim_count", "poisson", "v = mu^2"),
    ],
)
def test_13_2_wrong_models_get_their_hint(mildenhall, family, weights, code, phrase):
    res = gt.glm(FORMULA, mildenhall, family=family, weights=weights)
    fb = ex.check_13_2_ratemaking(res)
    item = fb.item("fit")
    assert (item.status, item.code) == ("wrong", code)
    assert phrase in item.hint


def test_13_2_interaction_model_is_recognised(mildenhall):
    with warnings.catch_warnings():  # 32 coefficients for 32 rows: no scale estimate
        warnings.simplefilter("ignore")
        res = gt.glm("average_severity ~ C(age_group) * C(vehicle_use)", mildenhall,
                     family=gt.Gamma(link=gt.links.Log()), weights="claim_count")
    assert ex.check_13_2_ratemaking(res).item("fit").code == "saturated"


def test_13_2_wrong_size_and_bad_labels(mildenhall):
    assert ex.check_13_2_ratemaking(np.ones(10)).item("fit").code == "size"
    bad = mildenhall.pivot_table(index="vehicle_use", columns="claim_count",
                                 values="average_severity", observed=True)
    assert ex.check_13_2_ratemaking(bad).item("table").code == "labels"


def test_13_2_misuse_raises_value_error():
    with pytest.raises(ValueError, match="answer: pass fitted results"):
        ex.check_13_2_ratemaking({"age": 1})


# --------------------------------------------------------------------------------------
# Exercise 13.3
# --------------------------------------------------------------------------------------
def tweedie_S(y, phi, p, terms=400):
    if y == 0:
        return 0.0
    a = (2 - p) / (p - 1)
    n = np.arange(1, terms)
    log_z = a * np.log(y) - np.log(2 - p) - a * np.log(p - 1) - (1 + a) * np.log(phi)
    return -np.log(y) + special.logsumexp(n * log_z - special.gammaln(n + 1)
                                          - special.gammaln(n * a))


TWEEDIE_RIGHT = dict(
    S=tweedie_S,
    mean=lambda lam, a, g: lam * a / g,
    variance=lambda lam, a, g: lam * a * (1 + a) / g**2,
    params=lambda mu, phi, p: (mu ** (2 - p) / (phi * (2 - p)), (2 - p) / (p - 1),
                               1 / (phi * (p - 1) * mu ** (p - 1))),
)


def test_13_3_right_answer_passes_and_confirms_13_12():
    fb = ex.check_13_3_tweedie(**TWEEDIE_RIGHT)
    assert fb.passed
    assert fb.item("equation 13.12").status == "ok"


def test_13_3_nothing_answered():
    fb = ex.check_13_3_tweedie()
    assert {it.status for it in fb.items} == {"todo"}


@pytest.mark.parametrize(
    "check, part, S, code, phrase",
    [
        # Exercise 13.1: (1/phi) ln y instead of (1/phi - 1) ln y
        (ex.check_13_1_gamma, "S(y, phi)",
         lambda y, p: -math.log(p) / p - math.lgamma(1 / p) + (1 / p) * math.log(y),
         "S_log_y_coefficient", "ln y coefficient"),
        # the -ln(phi)/phi term forgotten
        (ex.check_13_1_gamma, "S(y, phi)",
         lambda y, p: -math.lgamma(1 / p) + (1 / p - 1) * math.log(y), "S_missing_log_phi",
         "-ln(phi)/phi"),
        # ln Gamma(phi) for ln Gamma(1/phi)
        (ex.check_13_1_gamma, "S(y, phi)",
         lambda y, p: -math.log(p) / p - math.lgamma(p) + (1 / p - 1) * math.log(y),
         "S_lgamma_phi", "Gamma(1/phi)"),
        # a y-linear term that belongs to y theta / phi
        (ex.check_13_1_gamma, "S(y, phi)",
         lambda y, p: -math.log(p) / p - math.lgamma(1 / p) + (1 / p - 1) * math.log(y) - y / p,
         "S_depends_on_theta", "proportional to y"),
        # some other function of phi alone
        (ex.check_13_1_gamma, "S(y, phi)",
         lambda y, p: -math.lgamma(1 / p) + (1 / p - 1) * math.log(y) + p, "S_phi_terms",
         "phi alone"),
        # Exercise 13.3: the factor 1/y left inside the sum
        (ex.check_13_3_tweedie, "S(y, phi, p)",
         lambda y, f, p: tweedie_S(y, f, p) + (math.log(y) if y > 0 else 0.0), "S_log_y",
         "ln y"),
        # a constant of (phi, p) wrong
        (ex.check_13_3_tweedie, "S(y, phi, p)",
         lambda y, f, p: tweedie_S(y, f, p) + (math.log(2 - p) if y > 0 else 0.0),
         "S_phi_p_terms", "phi and p"),
        # the series stopped after two terms
        (ex.check_13_3_tweedie, "S(y, phi, p)", lambda y, f, p: tweedie_S(y, f, p, terms=3),
         "S_truncated", "too early"),
    ],
)
def test_wrong_S_is_explained(check, part, S, code, phrase):
    """Both exercises explain a wrong S(y, phi) term by term (13.1 and 13.3)."""
    item = check(S=S).item(part)
    assert (item.status, item.code) == ("wrong", code)
    assert phrase in item.hint


def test_13_3_S_at_zero_must_be_zero():
    fb = ex.check_13_3_tweedie(S=lambda y, f, p: tweedie_S(y, f, p) if y > 0 else 1.0)
    assert fb.item("S(0, phi, p)").code == "S_zero"
    fb = ex.check_13_3_tweedie(S=lambda y, f, p: math.log(y) * 0 + tweedie_S(y, f, p))
    assert fb.item("S(0, phi, p)").code == "S_zero_error"


@pytest.mark.parametrize(
    "part, changes, code, phrase",
    [
        ("mean(lam, alpha, gamma)", dict(mean=lambda lam, a, g: lam * a * g),
         "mean_rate_as_scale", "rate"),
        ("mean(lam, alpha, gamma)", dict(mean=lambda lam, a, g: a / g), "mean_missing_lambda",
         "lambda"),
        ("variance(lam, alpha, gamma)", dict(variance=lambda lam, a, g: lam * a / g**2),
         "variance_only_within", "Var[E(S_N | N)]"),
        ("variance(lam, alpha, gamma)", dict(variance=lambda lam, a, g: lam * a**2 / g**2),
         "variance_only_between", "E[Var(S_N | N)]"),
        ("params(mu, phi, p)",
         dict(params=lambda mu, phi, p: (mu ** (2 - p) / (phi * (2 - p)), (2 - p) / (p - 1),
                                         phi * (p - 1) * mu ** (p - 1))),
         "params_gamma_not_inverted", "invert"),
        ("params(mu, phi, p)",
         dict(params=lambda mu, phi, p: (mu ** (2 - p) / (phi * (2 - p)), (p - 1) / (2 - p),
                                         1 / (phi * (p - 1) * mu ** (p - 1)))),
         "params_alpha_inverted", "(2-p)/(p-1)"),
    ],
)
def test_13_3_typical_mistakes_get_their_hint(part, changes, code, phrase):
    answer = dict(TWEEDIE_RIGHT)
    answer.update(changes)
    fb = ex.check_13_3_tweedie(**answer)
    item = fb.item(part)
    assert (item.status, item.code) == ("wrong", code)
    assert phrase in item.hint
    assert "equation 13.12" not in [it.part for it in fb.items]


def test_13_3_params_with_wrong_count_of_values():
    fb = ex.check_13_3_tweedie(params=lambda mu, phi, p: (1.0, 2.0))
    assert fb.item("params(mu, phi, p)").code == "wrong_size"


def test_13_3_misuse_raises_value_error():
    with pytest.raises(ValueError, match="S: pass a function"):
        ex.check_13_3_tweedie(S="-ln y + ...")


# --------------------------------------------------------------------------------------
# The tables: every typical mistake they list is recognised, with its own code and hint
# --------------------------------------------------------------------------------------
def _answer_giving(part, values):
    """A student's answer that gives ``values`` at the part's points."""
    if part.evaluate is not None:  # 13.2: the 32 severities themselves
        return np.asarray(values, dtype=float)
    rows = np.asarray(values, dtype=float).reshape(len(part.points), -1)
    table = dict(zip(part.points, rows, strict=True))

    def answer(*args):
        row = table[args]
        return float(row[0]) if part.size == 1 else tuple(row)

    return answer


CHECKERS = {"13.1": ex.check_13_1_gamma, "13.2": ex.check_13_2_ratemaking,
            "13.3": ex.check_13_3_tweedie}


@pytest.mark.parametrize("exercise", sorted(CHECKERS))
def test_every_listed_mistake_is_recognised(exercise):
    parts = ex.exercise_parts(exercise)
    listed = [(part, mistake) for part in parts for mistake in part.mistakes]
    assert len(listed) >= {"13.1": 17, "13.2": 8, "13.3": 8}[exercise]
    for part, mistake in listed:
        fb = CHECKERS[exercise](**{part.answer: _answer_giving(part, mistake.values)})
        item = fb.item(part.name)
        assert (item.status, item.code, item.hint) == ("wrong", mistake.code, mistake.hint)
    # ... and the reference values themselves pass
    for part in parts:
        if part.report_unanswered:
            fb = CHECKERS[exercise](**{part.answer: _answer_giving(part, part.reference)})
            assert fb.item(part.name).status == "ok", part.name


def test_exercise_parts_names_the_exercises():
    with pytest.raises(ValueError, match="exercise: must be one of"):
        ex.exercise_parts("13.4")


# --------------------------------------------------------------------------------------
# The module stays light and out of the package namespace
# --------------------------------------------------------------------------------------
def test_exercises_not_imported_by_glmteach_and_light():
    code = (
        "import sys, glmteach; assert 'glmteach.exercises' not in sys.modules; "
        "from glmteach import exercises; "
        "bad = [m for m in ('pandas', 'matplotlib', 'statsmodels', 'ipywidgets') "
        "if m in sys.modules]; print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_feedback_prints_marks_and_hints():
    fb = ex.check_13_1_gamma(theta=lambda a, g: g / a)
    text = repr(fb)
    assert text.startswith("Exercise 13.1")
    assert "\u2717 theta(alpha, gamma)" in text
    assert "Hint: your theta has the wrong sign" in text
