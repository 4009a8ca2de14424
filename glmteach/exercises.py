r"""Self-check functions for the exercises of Frees (2010), Chapter 13 (section 13.8).

Each checker evaluates a student's answer numerically against glmteach's reference
implementation and returns a ``Feedback`` object.  Printed (or shown as the last value of
a notebook cell) it reads as a short report: which parts are right, which are wrong and
a hint aimed at the particular mistake (a wrong sign, a missing factor of phi, a wrong
ln y coefficient, ...).  ``bool(feedback)`` is True when every part was answered and is
right.  Wrong or unfinished answers never raise; only misuse of the functions themselves
(e.g. a number where a function is expected) raises a ``ValueError``.

    from glmteach import exercises
    exercises.check_13_1_gamma(theta=..., phi=..., b=..., S=..., mean=..., variance=...)
    exercises.check_13_2_ratemaking(results_or_table)
    exercises.check_13_3_tweedie(S=..., mean=..., variance=..., params=...)

Functions given by the student are called with plain Python floats, one point at a time,
so code written with ``math`` works as well as numpy code.

This module imports only numpy and scipy at import time (pandas only inside
``check_13_2_ratemaking``), and ``glmteach/__init__.py`` does not import it.
"""

from __future__ import annotations

import functools
import itertools
import warnings
from dataclasses import dataclass

import numpy as np
from scipy import special

__all__ = [
    "Feedback",
    "check_13_1_gamma",
    "check_13_2_ratemaking",
    "check_13_3_tweedie",
]

RTOL = 1e-6
ATOL = 1e-9

_MARK = {"ok": "\u2713", "note": "\u2713", "wrong": "\u2717", "todo": "\u25cb"}


# --------------------------------------------------------------------------------------
# The feedback object
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Item:
    """One checked part of an answer.

    ``status`` is "ok" (right), "note" (accepted, with a remark), "wrong" or "todo" (not
    answered yet); ``code`` is a short machine-readable name of the diagnosis (used by the
    tests, e.g. "theta_sign"); ``hint`` says what to look at next.
    """

    part: str
    status: str
    message: str
    hint: str = ""
    code: str = ""


class Feedback:
    """The result of a self-check: a list of ``Item`` s that prints as friendly text."""

    def __init__(self, title: str):
        self.title = title
        self.items: list[Item] = []

    def add(self, part, status, message, hint="", code=""):
        if status not in _MARK:
            raise ValueError(f"status: must be one of {sorted(_MARK)}, got {status!r}")
        self.items.append(Item(part, status, message, hint, code))

    @property
    def passed(self) -> bool:
        """True when at least one part was checked and none is wrong or unanswered."""
        return bool(self.items) and all(it.status in ("ok", "note") for it in self.items)

    @property
    def codes(self) -> list[str]:
        """The diagnosis codes of all items, in order."""
        return [it.code for it in self.items]

    def item(self, part: str) -> Item:
        """The (first) item about ``part``; KeyError when that part was not checked."""
        for it in self.items:
            if it.part == part:
                return it
        raise KeyError(part)

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        lines = [self.title]
        for it in self.items:
            lines.append(f"  {_MARK[it.status]} {it.part}: {it.message}")
            if it.hint:
                lines.append(f"      Hint: {it.hint}")
        right = sum(it.status in ("ok", "note") for it in self.items)
        todo = sum(it.status == "todo" for it in self.items)
        if self.passed:
            lines.append(f"All {right} part{'s' if right != 1 else ''} correct - well done!")
        elif todo == len(self.items):
            lines.append("Nothing answered yet: fill in the cell above and run this check again.")
        else:
            total = len(self.items)
            lines.append(f"{right} of {total} part{'s' if total != 1 else ''} correct so far - "
                         "keep going!")
        return "\n".join(lines)

    __repr__ = __str__


# --------------------------------------------------------------------------------------
# Calling the student's functions safely
# --------------------------------------------------------------------------------------
class _Problem(Exception):
    """Raised internally when a student's function cannot be evaluated."""

    def __init__(self, status: str, message: str, hint: str, code: str):
        super().__init__(message)
        self.status, self.message, self.hint, self.code = status, message, hint, code


def _require_callable(value, name: str, signature: str) -> None:
    if value is not None and not callable(value):
        raise ValueError(
            f"{name}: pass a function {name}{signature} (or leave it as None), "
            f"got {type(value).__name__} {value!r}"
        )


def _fmt_args(args) -> str:
    return "(" + ", ".join(f"{a:g}" for a in args) + ")"


def _call(func, name: str, signature: str, args, size: int = 1):
    """Call func(*args) quietly; return ``size`` floats or raise ``_Problem``."""
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            out = func(*args)
    except Exception as exc:  # the student's code failed: report it, never re-raise
        raise _Problem(
            "wrong",
            f"calling {name}{_fmt_args(args)} raised {type(exc).__name__}: {exc}",
            f"make sure {name}{signature} works for the values above (for example, "
            f"logarithms need positive arguments).",
            "error",
        ) from None
    if out is None:
        raise _Problem("todo", "not answered yet (your function returned None).", "", "none")
    try:
        values = np.asarray(out, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        raise _Problem(
            "wrong",
            f"{name}{_fmt_args(args)} returned {out!r}, which is not a number.",
            f"{name} should return {'a number' if size == 1 else f'{size} numbers'}.",
            "not_numeric",
        ) from None
    if values.size != size:
        what = "one number" if size == 1 else f"{size} numbers"
        raise _Problem(
            "wrong",
            f"{name}{_fmt_args(args)} returned {values.size} values instead of {what}.",
            f"{name} should return {what}.",
            "wrong_size",
        )
    return values


def _evaluate(func, name: str, signature: str, points, size: int = 1) -> np.ndarray:
    """Evaluate func at every point (a tuple of floats); shape (len(points), size)."""
    return np.array([_call(func, name, signature, args, size) for args in points])


def _close(a, b, rtol: float = RTOL, atol: float = ATOL) -> bool:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return bool(np.all(np.isfinite(a)) and np.allclose(a, b, rtol=rtol, atol=atol))


def _first_mismatch(points, got, want, names) -> str:
    got, want = np.asarray(got).reshape(len(points), -1), np.asarray(want).reshape(len(points), -1)
    for args, g, w in zip(points, got, want, strict=True):
        if not _close(g, w):
            where = ", ".join(f"{n}={a:g}" for n, a in zip(names, args, strict=True))
            shown_g = ", ".join(f"{x + 0.0:.6g}" for x in g)
            shown_w = ", ".join(f"{x + 0.0:.6g}" for x in w)
            return f"at {where} you get {shown_g} but the answer is {shown_w}"
    return ""


def _diagnose(got, candidates) -> tuple[str, str] | None:
    """The (code, hint) of the first candidate (code, values, hint) that ``got`` matches."""
    for code, values, hint in candidates:
        if _close(got, values):
            return code, hint
    return None


def _check_function(fb: Feedback, part: str, func, signature: str, points, names,
                    reference, right_message: str, candidates, generic_hint: str,
                    size: int = 1):
    """Evaluate one student function and add an item; return its values (or None)."""
    if func is None:
        fb.add(part, "todo", "not answered yet (None).", generic_hint, "none")
        return None
    try:
        got = _evaluate(func, part.split("(")[0], signature, points, size)
    except _Problem as problem:
        hint = problem.hint if problem.status == "wrong" else generic_hint
        fb.add(part, problem.status, problem.message, hint, problem.code)
        return None
    got = got.reshape(reference.shape)
    if _close(got, reference):
        fb.add(part, "ok", right_message, code="ok")
        return got
    found = _diagnose(got, candidates)
    where = _first_mismatch(points, got, reference, names)
    if found is not None:
        code, hint = found
        fb.add(part, "wrong", f"not quite: {where}.", hint, code)
    else:
        fb.add(part, "wrong", f"not quite: {where}.", generic_hint, "other")
    return got


# --------------------------------------------------------------------------------------
# Exercise 13.1: the gamma distribution in the linear exponential family
# --------------------------------------------------------------------------------------
_ALPHAS = (0.5, 1.0, 2.5, 7.0)
_RATES = (0.2, 1.0, 3.0)
_THETAS = (-4.0, -1.0, -0.3, -0.05)
_PHIS = (0.2, 0.5, 1.0, 2.0)
_YS = (0.1, 0.5, 1.0, 2.0, 5.0, 20.0)


def _s_gamma(y, phi):
    """Table 13.8: S(y, phi) = -ln(phi)/phi - ln Gamma(1/phi) + (1/phi - 1) ln y."""
    return -np.log(phi) / phi - special.gammaln(1.0 / phi) + (1.0 / phi - 1.0) * np.log(y)


def _gamma_logpdf(y, shape, rate):
    return shape * np.log(rate) - special.gammaln(shape) + (shape - 1) * np.log(y) - rate * y


def _s_hints_gamma(got, ys, phis):
    """Explain how a wrong S(y, phi) differs from the gamma's, term by term."""
    y = np.array([a for a, _ in itertools.product(ys, phis)])
    phi = np.array([b for _, b in itertools.product(ys, phis)])
    diff = got - _s_gamma(y, phi)
    named = [
        ("S_missing_log_phi", np.log(phi) / phi,
         "the term -ln(phi)/phi is missing: it comes from alpha ln(gamma) = (1/phi) ln(1/(phi mu))"
         " after the part -b(theta)/phi = (1/phi) ln(1/mu) is taken out."),
        ("S_sign_log_phi", 2 * np.log(phi) / phi,
         "the term in ln(phi)/phi has the wrong sign: it is -ln(phi)/phi."),
        ("S_missing_lgamma", special.gammaln(1 / phi),
         "the normalising term -ln Gamma(1/phi) is missing (the gamma density divides by "
         "Gamma(alpha) with alpha = 1/phi)."),
        ("S_lgamma_phi", special.gammaln(1 / phi) - special.gammaln(phi),
         "you wrote ln Gamma(phi) where the density has ln Gamma(alpha) = ln Gamma(1/phi)."),
    ]
    for code, values, hint in named:
        if _close(diff, values):
            return code, hint
    # Per phi, describe the difference as c0(phi) + c1(phi) ln y + c2(phi) y.
    design = np.column_stack([np.ones(len(ys)), np.log(ys), ys])
    coefs = []
    for ph in phis:
        sel = phi == ph
        c, *_ = np.linalg.lstsq(design, diff[sel], rcond=None)
        if not np.allclose(design @ c, diff[sel], rtol=1e-6, atol=1e-8):
            return None
        coefs.append(c)
    coefs = np.array(coefs)
    tiny = np.abs(coefs) < 1e-7
    if not tiny[:, 2].all():
        return ("S_depends_on_theta",
                "your S has a term proportional to y. The y-linear part of the log-density is "
                "y theta / phi = -y gamma, and it belongs to (y theta - b(theta))/phi, not to S; "
                "S(y, phi) may not involve theta (or the rate gamma).")
    if not tiny[:, 1].all():
        ph = phis[int(np.argmax(~tiny[:, 1]))]
        yours = 1 / ph - 1 + coefs[int(np.argmax(~tiny[:, 1])), 1]
        return ("S_log_y_coefficient",
                f"your S(y, phi) is off by a term that depends on y: check the ln y coefficient. "
                f"At phi = {ph:g} yours is {yours:.4g}, but y^(alpha - 1) gives "
                f"(alpha - 1) ln y = (1/phi - 1) ln y = {1 / ph - 1:.4g}.")
    return ("S_phi_terms",
            "your S(y, phi) has the right dependence on y but is off by a term in phi alone: "
            "check -ln(phi)/phi - ln Gamma(1/phi).")


def check_13_1_gamma(theta=None, phi=None, b=None, S=None, mean=None, variance=None):
    r"""Exercise 13.1: the gamma distribution as a linear exponential family.

    The gamma density of Table 13.8 is f(y) = gamma^alpha / Gamma(alpha) y^(alpha-1)
    exp(-y gamma), with shape ``alpha`` and rate ``gamma``.  Give the components of
    equation 13.2, f(y) = exp((y theta - b(theta)) / phi + S(y, phi)), as functions:

    theta(alpha, gamma)   the natural parameter
    phi(alpha, gamma)     the dispersion
    b(theta)              the cumulant function
    S(y, phi)             the term free of theta
    mean(theta)           E y as a function of theta, i.e. b'(theta)
    variance(theta, phi)  Var y as a function of theta and phi, i.e. phi b''(theta)

    Leave any of them as None to check the others.  When theta, phi, b and S are all
    given, the assembled density is also compared with the gamma density.
    """
    for name, value, sig in [("theta", theta, "(alpha, gamma)"), ("phi", phi, "(alpha, gamma)"),
                             ("b", b, "(theta)"), ("S", S, "(y, phi)"),
                             ("mean", mean, "(theta)"), ("variance", variance, "(theta, phi)")]:
        _require_callable(value, name, sig)
    fb = Feedback("Exercise 13.1 - the gamma distribution in the linear exponential family")
    ag = list(itertools.product(_ALPHAS, _RATES))
    A = np.array([a for a, _ in ag])
    G = np.array([g for _, g in ag])
    t = np.array(_THETAS)

    theta_vals = _check_function(
        fb, "theta(alpha, gamma)", theta, "(alpha, gamma)", ag, ("alpha", "gamma"), -G / A,
        "theta = -gamma/alpha = -1/mu, as in Table 13.8.",
        [("theta_sign", G / A,
          "your theta has the wrong sign: for the gamma, theta = -1/mu = -gamma/alpha, so that "
          "b'(theta) = -1/theta = mu is positive."),
         ("theta_is_minus_mean", -A / G,
          "you have -mu. The natural parameter is minus the reciprocal of the mean: "
          "theta = -1/mu = -gamma/alpha."),
         ("theta_is_mean", A / G,
          "you have the mean mu = alpha/gamma. The natural parameter is minus its "
          "reciprocal: theta = -1/mu = -gamma/alpha."),
         ("theta_missing_alpha", -G,
          "-gamma is the coefficient of y in ln f(y); divide it by 1/phi = alpha to get "
          "theta = -gamma/alpha.")],
        "collect the terms of ln f(y) that multiply y and match them with y theta / phi; "
        "write the result in terms of the mean mu = alpha/gamma.",
    )
    phi_vals = _check_function(
        fb, "phi(alpha, gamma)", phi, "(alpha, gamma)", ag, ("alpha", "gamma"), 1 / A,
        "phi = 1/alpha: the dispersion is the reciprocal of the shape.",
        [("phi_is_shape", A,
          "you have the shape alpha; the dispersion is its reciprocal, phi = 1/alpha, so that "
          "Var y = phi mu^2 = alpha/gamma^2."),
         ("phi_is_scale", 1 / G,
          "1/gamma is the scale of the claim size, not the dispersion: phi = 1/alpha does not "
          "depend on the rate."),
         ("phi_is_variance", A / G**2,
          "that is Var y. The dispersion phi is Var y divided by the variance function "
          "v(mu) = mu^2: phi = (alpha/gamma^2) / (alpha/gamma)^2 = 1/alpha.")],
        "the gamma's variance is alpha/gamma^2; compare it with phi v(mu), where v(mu) = "
        "mu^2 (Table 13.1) and mu = alpha/gamma.",
    )
    b_vals = _check_function(
        fb, "b(theta)", b, "(theta)", [(x,) for x in t], ("theta",), -np.log(-t),
        "b(theta) = -ln(-theta), so b'(theta) = -1/theta = mu.",
        [("b_sign", np.log(-t),
          "your b has the wrong sign: b(theta) = -ln(-theta), whose derivative -1/theta is "
          "the (positive) mean."),
         ("b_is_mean", -1 / t,
          "-1/theta is b'(theta), the mean. Integrate once more: b(theta) = -ln(-theta).")],
        "once y theta / phi is taken out, the rest of ln f(y) that involves the mean is "
        "-b(theta)/phi: write alpha ln(gamma) with gamma = alpha/mu and mu in terms of theta.",
    )
    if b_vals is not None and fb.items[-1].code == "other":
        shift = b_vals - (-np.log(-t))
        if np.all(np.isfinite(shift)) and np.allclose(shift, shift[0], atol=1e-8):
            fb.items[-1] = Item(
                "b(theta)", "wrong",
                f"your b(theta) is -ln(-theta) plus the constant {shift[0]:.6g}.",
                "a constant in b does not change b' or b'' (the mean and variance), but it "
                "changes the density unless S makes up for it; Table 13.8 has no constant.",
                "b_plus_constant",
            )

    yp = list(itertools.product(_YS, _PHIS))
    Y = np.array([a for a, _ in yp])
    P = np.array([c for _, c in yp])
    s_ref = _s_gamma(Y, P)
    s_vals = None
    if S is None:
        fb.add("S(y, phi)", "todo", "not answered yet (None).",
               "write ln f(y) with alpha = 1/phi and gamma = alpha/mu, take away "
               "(y theta - b(theta))/phi, and keep what is left.", "none")
    else:
        try:
            s_vals = _evaluate(S, "S", "(y, phi)", yp).reshape(-1)
        except _Problem as problem:
            hint = problem.hint if problem.status == "wrong" else (
                "write ln f(y) with alpha = 1/phi and gamma = alpha/mu, take away "
                "(y theta - b(theta))/phi, and keep what is left.")
            fb.add("S(y, phi)", problem.status, problem.message, hint, problem.code)
        else:
            if _close(s_vals, s_ref):
                fb.add("S(y, phi)", "ok",
                       "S(y, phi) = -ln(phi)/phi - ln Gamma(1/phi) + (1/phi - 1) ln y.", code="ok")
            else:
                where = _first_mismatch(yp, s_vals, s_ref, ("y", "phi"))
                found = _s_hints_gamma(s_vals, _YS, _PHIS)
                code, hint = found if found else (
                    "other", "S(y, phi) differs from the table by more than a ln y or phi term: "
                    "write out ln f(y) in full and subtract (y theta - b(theta))/phi.")
                fb.add("S(y, phi)", "wrong", f"not quite: {where}.", hint, code)

    _check_function(
        fb, "mean(theta)", mean, "(theta)", [(x,) for x in t], ("theta",), -1 / t,
        "E y = b'(theta) = -1/theta = alpha/gamma, the gamma mean.",
        [("mean_sign", 1 / t,
          "with theta < 0 the mean must be positive: b'(theta) = -1/theta."),
         ("mean_is_variance", 1 / t**2,
          "1/theta^2 is b''(theta); the mean is the first derivative, b'(theta) = -1/theta.")],
        "E y = b'(theta): differentiate your b(theta) once.",
    )
    tp = list(itertools.product(_THETAS, _PHIS))
    T2 = np.array([a for a, _ in tp])
    P2 = np.array([c for _, c in tp])
    _check_function(
        fb, "variance(theta, phi)", variance, "(theta, phi)", tp, ("theta", "phi"), P2 / T2**2,
        "Var y = phi b''(theta) = phi/theta^2 = alpha/gamma^2, the gamma variance.",
        [("variance_missing_phi", 1 / T2**2,
          "you have b''(theta) = 1/theta^2; the variance is phi b''(theta) = phi/theta^2."),
         ("variance_first_derivative", -P2 / T2,
          "that is phi b'(theta). Differentiate b'(theta) = -1/theta once more: "
          "b''(theta) = 1/theta^2."),
         ("variance_sign", -P2 / T2**2,
          "a variance is positive: phi b''(theta) = +phi/theta^2."),
         ("variance_phi_squared", P2**2 / T2**2,
          "phi enters once: Var y = phi b''(theta) = phi/theta^2.")],
        "Var y = phi b''(theta): differentiate b(theta) twice.",
    )

    parts = ("theta(alpha, gamma)", "phi(alpha, gamma)", "b(theta)", "S(y, phi)")
    codes = [fb.item(part).code for part in parts]
    if all(v is not None for v in (theta_vals, phi_vals, b_vals, s_vals)):
        if all(code == "ok" for code in codes):
            fb.add("density", "ok", _DENSITY_OK, code="ok")
        else:
            _assembled_gamma_density(fb, theta, phi, b, S, quiet=any(
                code not in ("ok", "other") for code in codes))
    return fb


_DENSITY_OK = ("exp((y theta - b(theta))/phi + S(y, phi)) is the gamma density: the gamma is in "
               "the linear exponential family.")


def _assembled_gamma_density(fb: Feedback, theta, phi, b, S, quiet: bool) -> None:
    """Compare exp((y theta - b(theta))/phi + S(y, phi)) with the gamma density.

    Components that differ from Table 13.8 may still be another valid decomposition (theta
    and phi can be rescaled together): when they give the gamma density, their items become
    notes instead of mistakes.  When they do not, a 'density' item is added only if the
    components had no more specific diagnosis (``quiet``)."""
    points = list(itertools.product(_YS, _ALPHAS, _RATES))
    got, want = [], []
    try:
        for y, a, g in points:
            th = _call(theta, "theta", "(alpha, gamma)", (a, g))[0]
            ph = _call(phi, "phi", "(alpha, gamma)", (a, g))[0]
            bb = _call(b, "b", "(theta)", (th,))[0]
            ss = _call(S, "S", "(y, phi)", (y, ph))[0]
            got.append((y * th - bb) / ph + ss)
            want.append(_gamma_logpdf(y, a, g))
    except _Problem as problem:
        if not quiet:
            fb.add("density", "wrong", problem.message, problem.hint, problem.code)
        return
    if _close(got, want):
        fb.add("density", "ok", _DENSITY_OK, code="ok")
        for i, it in enumerate(fb.items):
            if it.status == "wrong" and it.part in (
                    "theta(alpha, gamma)", "phi(alpha, gamma)", "b(theta)", "S(y, phi)"):
                fb.items[i] = Item(it.part, "note", "differs from Table 13.8's choice, but "
                                   "your components still give the gamma density.", "",
                                   "alternative")
    elif not quiet:
        where = _first_mismatch(points, got, want, ("y", "alpha", "gamma"))
        fb.add("density", "wrong", f"your components do not give the gamma log-density: {where}.",
               "fix the parts marked above; the pieces must fit together.", "density")


# --------------------------------------------------------------------------------------
# Exercise 13.2: the ratemaking fit of Table 13.3
# --------------------------------------------------------------------------------------
_AGES = ("17-20", "21-24", "25-29", "30-34", "35-39", "40-49", "50-59", "60+")
_USES = ("Pleasure", "DriveShort", "DriveLong", "Business")


@functools.lru_cache(maxsize=1)
def _ratemaking_fits():
    """Fitted severities (32 rows, in the order of ``load_mildenhall()``) of the right model
    and of the typical wrong ones; the data's severities and claim counts."""
    from glmteach import families as F
    from glmteach import links as L
    from glmteach.datasets import load_mildenhall
    from glmteach.fit import fit

    df = load_mildenhall()
    age = np.asarray(df["age_group"].astype(str))
    use = np.asarray(df["vehicle_use"].astype(str))
    X = np.column_stack(
        [np.ones(len(df))]
        + [(age == a).astype(float) for a in _AGES[1:]]
        + [(use == u).astype(float) for u in _USES[1:]]
    )
    y = df["average_severity"].to_numpy(float)
    n = df["claim_count"].to_numpy(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fits = {
            "ok": fit(X, y, F.Gamma(link=L.Log()), weights=n, tol=1e-12).fittedvalues,
            "no_weights": fit(X, y, F.Gamma(link=L.Log()), tol=1e-12).fittedvalues,
            "inverse_link": fit(X, y, F.Gamma(), weights=n, tol=1e-12).fittedvalues,
            "identity_link": fit(X, y, F.Gamma(link=L.Identity()), weights=n,
                                 tol=1e-12).fittedvalues,
            "gaussian": fit(X, y, F.Gaussian(link=L.Log()), weights=n, tol=1e-12).fittedvalues,
            "gaussian_identity": fit(X, y, F.Gaussian(), weights=n).fittedvalues,
            "poisson": fit(X, y, F.Poisson(), weights=n, tol=1e-12).fittedvalues,
        }
    return fits, y, age, use


_RATEMAKING_HINTS = {
    "no_weights": "these are the severities of an unweighted fit. Each row is an average of "
                  "claim_count claims, so its variance is phi mu^2 / count: pass the claim "
                  "counts as prior weights (gt.glm(..., weights='claim_count'), or "
                  "var_weights= in statsmodels).",
    "inverse_link": "this is the gamma's canonical (inverse) link. A multiplicative rating plan "
                    "(equation 13.3) needs the log link: gt.Gamma(link=gt.links.Log()).",
    "identity_link": "this is an additive plan (identity link). Equation 13.3 is multiplicative: "
                     "use the log link, gt.Gamma(link=gt.links.Log()).",
    "gaussian": "the link is right but the family is normal. The exercise asks for a gamma "
                "regression: family=gt.Gamma(link=gt.links.Log()).",
    "gaussian_identity": "this is weighted least squares (normal family, identity link). Use "
                         "family=gt.Gamma(link=gt.links.Log()).",
    "poisson": "the link is right but the variance function is Poisson's (v = mu). Severities "
               "have a standard deviation proportional to the mean: gamma, v = mu^2.",
    "saturated": "your model reproduces every observed severity: it has one parameter per cell "
                 "(an interaction). The rating plan is age effect x use effect: "
                 "'average_severity ~ C(age_group) + C(vehicle_use)' without ':' or '*'.",
}

_RATEMAKING_TODO = ("with df = gt.datasets.load_mildenhall(), fit a gamma GLM with a log link, "
                    "main effects of age_group and vehicle_use, and the claim counts as prior "
                    "weights; pass the results (or a table of expected severities) here.")


def _labels(values) -> list[str]:
    return [str(v).strip() for v in values]


def _table_to_rows(table, fb: Feedback):
    """An 8 x 4 (age x use) table -> 32 values in data order, or None (feedback added)."""
    _, _, age, use = _ratemaking_fits()
    rows, cols = _labels(table.index), _labels(table.columns)
    if set(_AGES) <= set(cols) and set(_USES) <= set(rows):
        table, rows, cols = table.T, cols, rows
        fb.add("layout", "note", "your table has vehicle use in the rows; read it transposed.",
               code="transposed")
    if not (set(_AGES) <= set(rows) and set(_USES) <= set(cols)):
        fb.add("table", "wrong", f"could not find the 8 age groups {list(_AGES)} in the rows and "
               f"the 4 vehicle uses {list(_USES)} in the columns (rows: {rows[:10]}, columns: "
               f"{cols[:6]}).", "label the table like the data, e.g. with df.pivot_table("
               "index='age_group', columns='vehicle_use', values='fitted', observed=True).",
               "labels")
        return None
    values = np.asarray(table, dtype=float)
    r = {lab: i for i, lab in enumerate(rows)}
    c = {lab: j for j, lab in enumerate(cols)}
    return np.array([values[r[a], c[u]] for a, u in zip(age, use, strict=True)])


def check_13_2_ratemaking(answer=None):
    """Exercise 13.2: the gamma, log-link fit of Table 13.3 with claim counts as weights.

    ``answer`` may be
    - a fitted model: glmteach or statsmodels GLM results (its ``fittedvalues`` are used,
      in the row order of ``gt.datasets.load_mildenhall()``),
    - a table of expected severities (a pandas DataFrame with the age groups as rows and
      the vehicle uses as columns, extra rows/columns such as 'Average' are ignored),
    - or the 32 fitted severities as an array in the data's row order.
    """
    fb = Feedback("Exercise 13.2 - ratemaking: gamma regression with a log link (Table 13.4)")
    if answer is None:
        fb.add("fit", "todo", "not answered yet (None).", _RATEMAKING_TODO, "none")
        return fb
    fits, observed, _, _ = _ratemaking_fits()
    if hasattr(answer, "fittedvalues"):
        got = np.asarray(answer.fittedvalues, dtype=float).reshape(-1)
        source = "your fitted severities"
    elif hasattr(answer, "columns") and hasattr(answer, "index"):
        got = _table_to_rows(answer, fb)
        if got is None:
            return fb
        source = "the severities in your table"
    else:
        try:
            got = np.asarray(answer, dtype=float).reshape(-1)
        except (TypeError, ValueError):
            raise ValueError(
                "answer: pass fitted results (glmteach or statsmodels), a DataFrame of "
                f"expected severities, or 32 numbers; got {type(answer).__name__}"
            ) from None
        source = "your severities"
    if got.shape != (32,):
        fb.add("fit", "wrong", f"{source} have {got.size} values; Table 13.3 has 32 cells.",
               "fit all 32 rows of gt.datasets.load_mildenhall() (drop nothing).", "size")
        return fb
    rtol = 5e-4  # a table typed with 2 decimals is accepted
    ref = fits["ok"]
    if np.all(np.isfinite(got)) and np.allclose(got, ref, rtol=rtol):
        ref_table = {(a, u): v for a, u, v in zip(*_ratemaking_fits()[2:], ref, strict=True)}
        fb.add("fit", "ok", f"{source} reproduce Table 13.4 (e.g. 17-20 and Business: "
               f"{ref_table[('17-20', 'Business')]:.2f}; 35-39 and Pleasure: "
               f"{ref_table[('35-39', 'Pleasure')]:.2f}).", code="ok")
        fb.add("labels", "note", "the printed Table 13.4 has its DriveShort and DriveLong column "
               "headings interchanged (e.g. 17-20 and DriveLong is 322.17, which the book prints "
               "under DriveShort); your values follow the data's labels.", code="book_labels")
        return fb
    _, _, age, use = _ratemaking_fits()
    swap = {"DriveShort": "DriveLong", "DriveLong": "DriveShort"}
    order = {(a, u): i for i, (a, u) in enumerate(zip(age, use, strict=True))}
    swapped = np.array([ref[order[(a, swap.get(u, u))]] for a, u in zip(age, use, strict=True)])
    if np.allclose(got, swapped, rtol=rtol):
        fb.add("fit", "wrong", f"{source} have the DriveShort and DriveLong columns interchanged.",
               "the printed Table 13.4 swaps these two headings; label the columns from the "
               "data (DriveLong is the most expensive commuting use).", "swapped_labels")
        return fb
    candidates = [(code, vals) for code, vals in fits.items() if code != "ok"]
    candidates.append(("saturated", observed))
    for code, vals in candidates:
        if np.all(np.isfinite(got)) and np.allclose(got, vals, rtol=rtol):
            fb.add("fit", "wrong", f"{source} do not match Table 13.4.",
                   _RATEMAKING_HINTS[code], code)
            return fb
    worst = int(np.argmax(np.abs(got - ref) / ref))
    fb.add("fit", "wrong", f"{source} do not match Table 13.4: for {age[worst]} and "
           f"{use[worst]} you have {got[worst]:.2f}, the fit gives {ref[worst]:.2f}.",
           "use the gamma family with a log link, the two categorical variables as main effects, "
           "and the claim counts as prior weights (and keep the data's row order).", "other")
    return fb


# --------------------------------------------------------------------------------------
# Exercise 13.3: the Tweedie distribution
# --------------------------------------------------------------------------------------
_POWERS = (1.2, 1.5, 1.8)
_TW_PHIS = (0.5, 1.0, 3.0)
_TW_YS = (0.05, 0.3, 1.0, 2.5, 8.0)
_LAMS = (0.3, 1.0, 4.0)
_SHAPES = (0.5, 2.0, 5.0)
_TW_RATES = (0.1, 1.0, 2.5)
_MUS = (0.4, 1.0, 6.0)


def _s_tweedie(y, phi, p):
    from glmteach.families import Tweedie

    return Tweedie(power=p).S(np.atleast_1d(float(y)), phi)[0]


def _s_tweedie_hint(points, got, ref):
    diff = got - ref
    if not np.all(np.isfinite(got)):
        bad = points[int(np.argmax(~np.isfinite(got)))]
        return ("S_not_finite",
                f"your S is not finite at y={bad[0]:g}, phi={bad[1]:g}, p={bad[2]:g}: the terms "
                "of the series overflow; add them in log space (scipy.special.logsumexp of "
                "n ln z - ln n! - ln Gamma(n alpha)).")
    y = np.array([pt[0] for pt in points])
    # Per (phi, p), describe diff as c0 + c1 ln y.
    design = np.column_stack([np.ones(len(_TW_YS)), np.log(_TW_YS)])
    coefs = []
    for k in range(0, len(points), len(_TW_YS)):
        d = diff[k:k + len(_TW_YS)]
        c, *_ = np.linalg.lstsq(design, d, rcond=None)
        if not np.allclose(design @ c, d, rtol=1e-5, atol=1e-7):
            coefs = None
            break
        coefs.append(c)
    if coefs is not None:
        coefs = np.array(coefs)
        if not np.allclose(coefs[:, 1], 0, atol=1e-6):
            c1 = coefs[:, 1]
            if np.allclose(c1, 1.0, atol=1e-6):
                return ("S_log_y",
                        "your S(y, phi) is off by a term that depends on y: check the ln y "
                        "coefficient. The density of a gamma sum has y^(n alpha - 1): when the "
                        "series is written in powers of y^alpha, a factor 1/y is left over, "
                        "outside the sum.")
            return ("S_log_y",
                    "your S(y, phi) is off by a term that depends on y: check the ln y "
                    f"coefficient (you are off by {c1[0]:.4g} ln y at the first (phi, p)). "
                    "Each term of (13.9) has y^(n alpha - 1) = y^(n alpha) / y.")
        return ("S_phi_p_terms",
                "your S(y, phi) has the right dependence on y but is off by a term in phi and p "
                "alone: check the constant that multiplies y^alpha in each term, "
                "lambda gamma^alpha, after inserting lambda and gamma of (mu, phi, p) (the mu's "
                "cancel).")
    if np.all(diff <= 1e-9) and abs(diff[int(np.argmax(y))]) > abs(diff[int(np.argmin(y))]):
        return ("S_truncated",
                "your S is too small, most of all for large y: the series seems to stop too "
                "early. The largest terms are near n = y^(2-p) / (phi (2-p)); sum well past it.")
    return None


def check_13_3_tweedie(S=None, mean=None, variance=None, params=None):
    r"""Exercise 13.3: the Tweedie (compound Poisson-gamma) distribution, 1 < p < 2.

    Conventions of section 13.6: N ~ Poisson(lam) claims, each gamma with shape ``alpha``
    and rate ``gamma`` (mean alpha/gamma).

    S(y, phi, p)                    the term S(y, phi) of equation 13.11 for y > 0
                                    (also checked at y = 0, where it must be 0)
    mean(lam, alpha, gamma)         E S_N (equation 13.10)
    variance(lam, alpha, gamma)     Var S_N (equation 13.10)
    params(mu, phi, p)              the map to (lam, alpha, gamma), returned as a tuple

    When ``params`` is given with ``mean`` and ``variance``, the checker also confirms
    equation 13.12: E S_N = mu and Var S_N = phi mu^p.
    """
    for name, value, sig in [("S", S, "(y, phi, p)"), ("mean", mean, "(lam, alpha, gamma)"),
                             ("variance", variance, "(lam, alpha, gamma)"),
                             ("params", params, "(mu, phi, p)")]:
        _require_callable(value, name, sig)
    fb = Feedback("Exercise 13.3 - the Tweedie distribution as a linear exponential family")

    # S(y, phi) -----------------------------------------------------------------------
    s_todo = ("insert lambda, alpha and gamma of (mu, phi, p) into (13.9); the factor "
              "e^(-lambda - y gamma) is the exponential-family part of (13.11), and the sum "
              "that is left no longer involves mu.")
    points = [(y, ph, p) for p in _POWERS for ph in _TW_PHIS for y in _TW_YS]
    if S is None:
        fb.add("S(y, phi, p)", "todo", "not answered yet (None).", s_todo, "none")
    else:
        try:
            got = _evaluate(S, "S", "(y, phi, p)", points).reshape(-1)
        except _Problem as problem:
            fb.add("S(y, phi, p)", problem.status, problem.message,
                   problem.hint if problem.status == "wrong" else s_todo, problem.code)
        else:
            ref = np.array([_s_tweedie(*pt) for pt in points])
            if _close(got, ref, rtol=1e-6, atol=1e-8):
                fb.add("S(y, phi, p)", "ok", "matches the Dunn-Smyth series, "
                       "S = -ln y + ln sum_n z^n / (n! Gamma(n alpha)).", code="ok")
            else:
                where = _first_mismatch(points, got, ref, ("y", "phi", "p"))
                found = _s_tweedie_hint(points, got, ref)
                code, hint = found if found else (
                    "other", "compare your series term by term with "
                    "lambda^n gamma^(n alpha) y^(n alpha - 1) / (n! Gamma(n alpha)) "
                    "after inserting lambda and gamma of (mu, phi, p).")
                fb.add("S(y, phi, p)", "wrong", f"not quite: {where}.", hint, code)
        # y = 0: Pr(S_N = 0) = e^(-lambda) is all of the exponential-family part.
        try:
            zero = _call(S, "S", "(y, phi, p)", (0.0, 1.0, 1.5))[0]
        except _Problem as problem:
            if problem.status == "wrong":
                fb.add("S(0, phi, p)", "wrong", problem.message,
                       "at y = 0 the density is the probability e^(-lambda) of no claim, which "
                       "is exactly exp(-b(theta)/phi); so S(0, phi) = 0. Treat y = 0 apart.",
                       "S_zero_error")
        else:
            if abs(zero) < 1e-12:
                fb.add("S(0, phi, p)", "ok", "S(0, phi) = 0, since Pr(S_N = 0) = e^(-lambda) "
                       "= exp(-b(theta)/phi).", code="ok")
            else:
                fb.add("S(0, phi, p)", "wrong", f"S(0, 1, 1.5) is {zero:.6g}, not 0.",
                       "at y = 0 the density is the probability e^(-lambda) of no claim, which "
                       "is exactly exp(-b(theta)/phi); so S(0, phi) = 0.", "S_zero")

    # moments (13.10) --------------------------------------------------------------------
    lag = list(itertools.product(_LAMS, _SHAPES, _TW_RATES))
    lam = np.array([x[0] for x in lag])
    a = np.array([x[1] for x in lag])
    g = np.array([x[2] for x in lag])
    _check_function(
        fb, "mean(lam, alpha, gamma)", mean, "(lam, alpha, gamma)", lag,
        ("lam", "alpha", "gamma"), lam * a / g,
        "E S_N = E N x E y_1 = lambda alpha / gamma.",
        [("mean_rate_as_scale", lam * a * g,
          "in section 13.6 gamma is a rate: one claim has mean alpha/gamma, so "
          "E S_N = lambda alpha/gamma."),
         ("mean_missing_lambda", a / g,
          "that is the mean of one claim; multiply by the expected number of claims, lambda."),
         ("mean_missing_alpha", lam / g,
          "one gamma claim has mean alpha/gamma (shape over rate).")],
        "condition on the number of claims: E S_N = E[ E(S_N | N) ].",
    )
    _check_function(
        fb, "variance(lam, alpha, gamma)", variance, "(lam, alpha, gamma)", lag,
        ("lam", "alpha", "gamma"), lam * a * (1 + a) / g**2,
        "Var S_N = lambda alpha (1 + alpha) / gamma^2 = lambda E(y_1^2).",
        [("variance_only_within", lam * a / g**2,
          "that is E[Var(S_N | N)] = lambda alpha/gamma^2 only; add Var[E(S_N | N)] = "
          "Var(N) (alpha/gamma)^2 = lambda alpha^2/gamma^2."),
         ("variance_only_between", lam * a**2 / g**2,
          "that is Var[E(S_N | N)] = lambda (alpha/gamma)^2 only; add E[Var(S_N | N)] = "
          "lambda alpha/gamma^2."),
         ("variance_rate_as_scale", lam * a * (1 + a) * g**2,
          "in section 13.6 gamma is a rate: one claim has variance alpha/gamma^2.")],
        "use the law of total variance, Var S_N = E[Var(S_N | N)] + Var[E(S_N | N)], with "
        "the mean and variance of one gamma claim and of the Poisson N.",
    )

    # the map (mu, phi, p) -> (lambda, alpha, gamma) ---------------------------------------
    mpp = list(itertools.product(_MUS, _TW_PHIS, _POWERS))
    mu = np.array([x[0] for x in mpp])
    ph = np.array([x[1] for x in mpp])
    pw = np.array([x[2] for x in mpp])
    ref_map = np.column_stack([
        mu ** (2 - pw) / (ph * (2 - pw)),
        (2 - pw) / (pw - 1),
        1 / (ph * (pw - 1) * mu ** (pw - 1)),
    ])
    map_vals = _check_function(
        fb, "params(mu, phi, p)", params, "(mu, phi, p)", mpp, ("mu", "phi", "p"), ref_map,
        "lambda = mu^(2-p)/(phi (2-p)), alpha = (2-p)/(p-1), 1/gamma = phi (p-1) mu^(p-1).",
        [("params_gamma_not_inverted", np.column_stack([ref_map[:, :2], 1 / ref_map[:, 2]]),
          "section 13.6 gives 1/gamma = phi (p-1) mu^(p-1): invert it to get the rate gamma."),
         ("params_alpha_inverted", np.column_stack([ref_map[:, 0], 1 / ref_map[:, 1],
                                                    ref_map[:, 2]]),
          "alpha = (2-p)/(p-1), not (p-1)/(2-p): as p -> 1 the claims become many tiny ones "
          "with a large shape.")],
        "return the tuple (lam, alpha, gamma) of section 13.6 in terms of mu, phi and p "
        "(note that the section gives 1/gamma, not gamma).",
        size=3,
    )
    if map_vals is not None and fb.items[-1].status == "wrong" and fb.items[-1].code == "other":
        names = ("lambda", "alpha", "gamma")
        bad = [names[j] for j in range(3) if not _close(map_vals[:, j], ref_map[:, j])]
        it = fb.items[-1]
        fb.items[-1] = Item(it.part, it.status, it.message + f" Wrong: {', '.join(bad)}.",
                            it.hint, it.code)

    # equation 13.12 with the student's own functions ---------------------------------------
    if mean is not None and variance is not None and params is not None and all(
            fb.item(part).status == "ok" for part in (
                "mean(lam, alpha, gamma)", "variance(lam, alpha, gamma)", "params(mu, phi, p)")):
        m = np.array([_call(mean, "mean", "", tuple(row))[0] for row in map_vals])
        v = np.array([_call(variance, "variance", "", tuple(row))[0] for row in map_vals])
        if _close(m, mu) and _close(v, ph * mu**pw):
            fb.add("equation 13.12", "ok", "with your map, E S_N = mu and Var S_N = phi mu^p.",
                   code="ok")
    return fb
