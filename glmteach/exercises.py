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

How it works: every exercise is a table of ``Part`` s.  A part says where the student's
function is evaluated, what the reference values are (from ``glmteach.families``) and
with which tolerance they are compared, the hint for an unanswered or unrecognised
answer, a list of typical mistakes (the values a known slip gives, with its hint)
and an optional ``diagnose`` hook that explains other wrong values.  One loop
(``_run``) evaluates the parts in order and fills the ``Feedback``; a check that needs
several parts at once (the assembled gamma density, equation 13.12) is an ``across``
hook that runs after the loop.

This module imports only numpy, scipy and glmteach's families at import time (pandas
only inside ``check_13_2_ratemaking``), and ``glmteach/__init__.py`` does not import it.
"""

from __future__ import annotations

import functools
import itertools
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special

from glmteach import families as F

__all__ = [
    "Feedback",
    "check_13_1_gamma",
    "check_13_2_ratemaking",
    "check_13_3_tweedie",
    "exercise_parts",
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

    def __post_init__(self) -> None:
        if self.status not in _MARK:
            raise ValueError(f"status: must be one of {sorted(_MARK)}, got {self.status!r}")


class Feedback:
    """The result of a self-check: a list of ``Item`` s that prints as friendly text."""

    def __init__(self, title: str, items: tuple[Item, ...] | list[Item] = ()):
        self.title = title
        self.items: list[Item] = list(items)

    def add(self, part: str, status: str, message: str, hint: str = "", code: str = "") -> None:
        """Append one item (``status`` must be one of "ok", "note", "wrong", "todo")."""
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
# The engine: a table of parts, one loop
# --------------------------------------------------------------------------------------
NOT_QUITE = "not quite: {where}."


@dataclass(frozen=True)
class Mistake:
    """A typical wrong answer: the values it gives at the part's points, and its hint.
    ``message`` may contain ``{where}`` (the first point where the answer is off)."""

    code: str
    values: Any
    hint: str
    message: str = NOT_QUITE


@dataclass(frozen=True)
class Diagnosis:
    """What a ``diagnose`` hook found: a code, a hint ("" = the part's own hint) and a
    message, which may contain ``{where}``."""

    code: str
    hint: str = ""
    message: str = NOT_QUITE


@dataclass(frozen=True)
class Part:
    """One checked part of an exercise: a row of the table.

    The student's ``answer`` (a keyword of the checker) is evaluated at ``points`` (or by
    ``evaluate``) and compared with ``reference`` within ``rtol``/``atol``.  Right gives
    ``right``; unanswered gives ``hint``; a wrong answer is matched against ``mistakes``
    in order, then ``diagnose(part, got)``, else it is "other" (``wrong`` with
    ``other_hint``).  ``where(got)`` points at the error (default: the first point that
    is off, named with ``arg_names``).  ``report_unanswered=False`` drops the item of an
    unanswered part; ``error_code``/``error_hint`` replace those of a failing function.
    """

    name: str
    answer: str
    reference: Any
    right: str
    hint: str
    points: tuple = ()
    arg_names: tuple[str, ...] = ()
    signature: str = ""
    size: int = 1
    rtol: float = RTOL
    atol: float = ATOL
    mistakes: tuple[Mistake, ...] = ()
    diagnose: Callable[[Part, np.ndarray], Diagnosis | None] | None = None
    other_hint: str = ""
    wrong: str = NOT_QUITE
    evaluate: Callable[[Any], np.ndarray] | None = None
    where: Callable[[np.ndarray], str] | None = None
    report_unanswered: bool = True
    error_code: str = ""
    error_hint: str = ""

    @property
    def function(self) -> tuple[str, str]:
        """(name, signature) of the student's function, e.g. ("theta", "(alpha, gamma)")."""
        head, _, tail = self.name.partition("(")
        return head, self.signature or "(" + tail


@dataclass(frozen=True)
class Outcome:
    """What one part gave: its item (None when it is not reported) and, when the answer
    could be evaluated, its values."""

    item: Item | None
    values: np.ndarray | None = None


# An ``across`` hook sees every outcome and the answers, and returns the items to add
# after the parts and {part: note} for wrong parts it accepts after all.
Across = Callable[[Mapping[str, Outcome], Mapping[str, Any]],
                  tuple[tuple[Item, ...], dict[str, str]]]


class _Problem(Exception):
    """Raised internally when a student's answer cannot be evaluated."""

    def __init__(self, status: str, message: str, hint: str, code: str):
        super().__init__(message)
        self.status, self.message, self.hint, self.code = status, message, hint, code


def _fmt_args(args) -> str:
    return "(" + ", ".join(f"{a:g}" for a in args) + ")"


def _call(func, name: str, signature: str, args, size: int = 1) -> np.ndarray:
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


def _close(a, b, rtol: float = RTOL, atol: float = ATOL) -> bool:
    """All of ``a`` finite and within |a - b| <= atol + rtol |b| (numpy's allclose)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return bool(np.all(np.isfinite(a)) and np.allclose(a, b, rtol=rtol, atol=atol))


def _first_mismatch(points, got, want, names, rtol: float = RTOL, atol: float = ATOL) -> str:
    """'at alpha=0.5, gamma=0.2 you get ... but the answer is ...' for the first bad point."""
    got = np.asarray(got).reshape(len(points), -1)
    want = np.asarray(want).reshape(len(points), -1)
    for args, g, w in zip(points, got, want, strict=True):
        if not _close(g, w, rtol, atol):
            where = ", ".join(f"{n}={a:g}" for n, a in zip(names, args, strict=True))
            shown_g = ", ".join(f"{x + 0.0:.6g}" for x in g)
            shown_w = ", ".join(f"{x + 0.0:.6g}" for x in w)
            return f"at {where} you get {shown_g} but the answer is {shown_w}"
    return ""


def _at_points(part: Part, func) -> np.ndarray:
    """The student's function evaluated at every point of the part."""
    name, signature = part.function
    got = [_call(func, name, signature, args, part.size) for args in part.points]
    return np.array(got).reshape(np.shape(part.reference))


def _run_part(part: Part, answer) -> Outcome:
    """Evaluate one part: unanswered, failing, right, a known mistake, or diagnosed."""
    if answer is None:
        todo = Item(part.name, "todo", "not answered yet (None).", part.hint, "none")
        return Outcome(todo if part.report_unanswered else None)
    try:
        got = part.evaluate(answer) if part.evaluate else _at_points(part, answer)
    except _Problem as problem:
        if problem.status == "todo":
            item = Item(part.name, "todo", problem.message, part.hint, problem.code)
            return Outcome(item if part.report_unanswered else None)
        return Outcome(Item(part.name, "wrong", problem.message,
                            part.error_hint or problem.hint, part.error_code or problem.code))
    if _close(got, part.reference, part.rtol, part.atol):
        return Outcome(Item(part.name, "ok", part.right, "", "ok"), got)
    found: Mistake | Diagnosis | None = next(
        (m for m in part.mistakes if _close(got, m.values, part.rtol, part.atol)), None)
    if found is None and part.diagnose is not None:
        found = part.diagnose(part, got)
    if found is None:
        found = Diagnosis("other", part.other_hint, part.wrong)
    where = part.where(got) if part.where else _first_mismatch(
        part.points, got, part.reference, part.arg_names, part.rtol, part.atol)
    return Outcome(Item(part.name, "wrong", found.message.format(where=where),
                        found.hint or part.other_hint or part.hint, found.code), got)


def _run(title: str, parts: tuple[Part, ...], answers: Mapping[str, Any],
         across: Across | None = None, before: tuple[Item, ...] = ()) -> Feedback:
    """The one loop: every part in order, then the ``across`` hook; the Feedback."""
    outcomes = {part.name: _run_part(part, answers.get(part.answer)) for part in parts}
    extra, accepted = across(outcomes, answers) if across else ((), {})
    items = list(before)
    for name, outcome in outcomes.items():
        item = outcome.item
        if item is not None and item.status == "wrong" and name in accepted:
            item = Item(name, "note", accepted[name], "", "alternative")
        if item is not None:
            items.append(item)
    return Feedback(title, items + list(extra))


def _require_callables(parts: tuple[Part, ...], answers: Mapping[str, Any]) -> None:
    """Misuse of a checker (a number where a function is expected) is a ValueError."""
    for part in parts:
        value = answers.get(part.answer)
        if value is not None and not callable(value):
            name, signature = part.function
            raise ValueError(
                f"{name}: pass a function {name}{signature} (or leave it as None), "
                f"got {type(value).__name__} {value!r}"
            )


def _per_block(diff: np.ndarray, design: np.ndarray, blocks, rtol: float,
               atol: float) -> np.ndarray | None:
    """Least-squares coefficients c_k with diff[block_k] = design @ c_k, one row per block;
    None when some block is not (to the tolerance) such a combination of the columns."""
    coefs = []
    for block in blocks:
        c = np.linalg.lstsq(design, diff[block], rcond=None)[0]
        if not np.allclose(design @ c, diff[block], rtol=rtol, atol=atol):
            return None
        coefs.append(c)
    return np.array(coefs)


def _grid(*axes) -> tuple[tuple[float, ...], np.ndarray]:
    """All combinations of the axes (last varies fastest) as points and as columns."""
    points = tuple(itertools.product(*axes))
    return points, np.array(points, dtype=float).T


# --------------------------------------------------------------------------------------
# Exercise 13.1: the gamma distribution in the linear exponential family
# --------------------------------------------------------------------------------------
_ALPHAS = (0.5, 1.0, 2.5, 7.0)
_RATES = (0.2, 1.0, 3.0)
_THETAS = (-4.0, -1.0, -0.3, -0.05)
_PHIS = (0.2, 0.5, 1.0, 2.0)
_YS = (0.1, 0.5, 1.0, 2.0, 5.0, 20.0)
_GAMMA = F.Gamma()
_GAMMA_PARTS = ("theta(alpha, gamma)", "phi(alpha, gamma)", "b(theta)", "S(y, phi)")
_DENSITY_OK = ("exp((y theta - b(theta))/phi + S(y, phi)) is the gamma density: the gamma is in "
               "the linear exponential family.")
_ALTERNATIVE = ("differs from Table 13.8's choice, but your components still give the gamma "
                "density.")


def _b_plus_constant(part: Part, got: np.ndarray) -> Diagnosis | None:
    """b(theta) = -ln(-theta) + c: right derivatives, but a density off by a factor."""
    shift = got - part.reference
    if np.all(np.isfinite(shift)) and np.allclose(shift, shift[0], atol=1e-8):
        return Diagnosis(
            "b_plus_constant",
            "a constant in b does not change b' or b'' (the mean and variance), but it "
            "changes the density unless S makes up for it; Table 13.8 has no constant.",
            f"your b(theta) is -ln(-theta) plus the constant {shift[0]:.6g}.")
    return None


def _s_gamma_terms(part: Part, got: np.ndarray) -> Diagnosis | None:
    """Describe a wrong S(y, phi) per phi as c0(phi) + c1(phi) ln y + c2(phi) y."""
    ys, phis = np.array(_YS), np.array(part.points)[:, 1]
    design = np.column_stack([np.ones(len(ys)), np.log(ys), ys])
    coefs = _per_block(got - part.reference, design, [phis == ph for ph in _PHIS], 1e-6, 1e-8)
    if coefs is None:
        return None
    tiny = np.abs(coefs) < 1e-7
    if not tiny[:, 2].all():
        return Diagnosis(
            "S_depends_on_theta",
            "your S has a term proportional to y. The y-linear part of the log-density is "
            "y theta / phi = -y gamma, and it belongs to (y theta - b(theta))/phi, not to S; "
            "S(y, phi) may not involve theta (or the rate gamma).")
    if not tiny[:, 1].all():
        k = int(np.argmax(~tiny[:, 1]))
        ph = _PHIS[k]
        yours = 1 / ph - 1 + coefs[k, 1]
        return Diagnosis(
            "S_log_y_coefficient",
            f"your S(y, phi) is off by a term that depends on y: check the ln y coefficient. "
            f"At phi = {ph:g} yours is {yours:.4g}, but y^(alpha - 1) gives "
            f"(alpha - 1) ln y = (1/phi - 1) ln y = {1 / ph - 1:.4g}.")
    return Diagnosis(
        "S_phi_terms",
        "your S(y, phi) has the right dependence on y but is off by a term in phi alone: "
        "check -ln(phi)/phi - ln Gamma(1/phi).")


@functools.cache
def _gamma_parts() -> tuple[Part, ...]:
    """Exercise 13.1 as a table; references from ``families.Gamma`` (Table 13.8)."""
    ag, (A, G) = _grid(_ALPHAS, _RATES)
    th, (t,) = _grid(_THETAS)
    yp, (Y, P) = _grid(_YS, _PHIS)
    tp, (T2, P2) = _grid(_THETAS, _PHIS)
    s_ref = _GAMMA.S(Y, P)
    return (
        Part("theta(alpha, gamma)", "theta", _GAMMA.theta(A / G),
             "theta = -gamma/alpha = -1/mu, as in Table 13.8.",
             "collect the terms of ln f(y) that multiply y and match them with y theta / phi; "
             "write the result in terms of the mean mu = alpha/gamma.",
             ag, ("alpha", "gamma"), mistakes=(
                 Mistake("theta_sign", G / A,
                         "your theta has the wrong sign: for the gamma, theta = -1/mu = "
                         "-gamma/alpha, so that b'(theta) = -1/theta = mu is positive."),
                 Mistake("theta_is_minus_mean", -A / G,
                         "you have -mu. The natural parameter is minus the reciprocal of the "
                         "mean: theta = -1/mu = -gamma/alpha."),
                 Mistake("theta_is_mean", A / G,
                         "you have the mean mu = alpha/gamma. The natural parameter is minus "
                         "its reciprocal: theta = -1/mu = -gamma/alpha."),
                 Mistake("theta_missing_alpha", -G,
                         "-gamma is the coefficient of y in ln f(y); divide it by 1/phi = alpha "
                         "to get theta = -gamma/alpha."))),
        Part("phi(alpha, gamma)", "phi", 1 / A,
             "phi = 1/alpha: the dispersion is the reciprocal of the shape.",
             "the gamma's variance is alpha/gamma^2; compare it with phi v(mu), where v(mu) = "
             "mu^2 (Table 13.1) and mu = alpha/gamma.",
             ag, ("alpha", "gamma"), mistakes=(
                 Mistake("phi_is_shape", A,
                         "you have the shape alpha; the dispersion is its reciprocal, phi = "
                         "1/alpha, so that Var y = phi mu^2 = alpha/gamma^2."),
                 Mistake("phi_is_scale", 1 / G,
                         "1/gamma is the scale of the claim size, not the dispersion: phi = "
                         "1/alpha does not depend on the rate."),
                 Mistake("phi_is_variance", A / G**2,
                         "that is Var y. The dispersion phi is Var y divided by the variance "
                         "function v(mu) = mu^2: phi = (alpha/gamma^2) / (alpha/gamma)^2 = "
                         "1/alpha."))),
        Part("b(theta)", "b", _GAMMA.b(t),
             "b(theta) = -ln(-theta), so b'(theta) = -1/theta = mu.",
             "once y theta / phi is taken out, the rest of ln f(y) that involves the mean is "
             "-b(theta)/phi: write alpha ln(gamma) with gamma = alpha/mu and mu in terms of "
             "theta.",
             th, ("theta",), diagnose=_b_plus_constant, mistakes=(
                 Mistake("b_sign", np.log(-t),
                         "your b has the wrong sign: b(theta) = -ln(-theta), whose derivative "
                         "-1/theta is the (positive) mean."),
                 Mistake("b_is_mean", -1 / t,
                         "-1/theta is b'(theta), the mean. Integrate once more: b(theta) = "
                         "-ln(-theta)."))),
        Part("S(y, phi)", "S", s_ref,
             "S(y, phi) = -ln(phi)/phi - ln Gamma(1/phi) + (1/phi - 1) ln y.",
             "write ln f(y) with alpha = 1/phi and gamma = alpha/mu, take away "
             "(y theta - b(theta))/phi, and keep what is left.",
             yp, ("y", "phi"), diagnose=_s_gamma_terms,
             other_hint="S(y, phi) differs from the table by more than a ln y or phi term: "
                        "write out ln f(y) in full and subtract (y theta - b(theta))/phi.",
             mistakes=(
                 Mistake("S_missing_log_phi", s_ref + np.log(P) / P,
                         "the term -ln(phi)/phi is missing: it comes from alpha ln(gamma) = "
                         "(1/phi) ln(1/(phi mu)) after the part -b(theta)/phi = (1/phi) "
                         "ln(1/mu) is taken out."),
                 Mistake("S_sign_log_phi", s_ref + 2 * np.log(P) / P,
                         "the term in ln(phi)/phi has the wrong sign: it is -ln(phi)/phi."),
                 Mistake("S_missing_lgamma", s_ref + special.gammaln(1 / P),
                         "the normalising term -ln Gamma(1/phi) is missing (the gamma density "
                         "divides by Gamma(alpha) with alpha = 1/phi)."),
                 Mistake("S_lgamma_phi", s_ref + special.gammaln(1 / P) - special.gammaln(P),
                         "you wrote ln Gamma(phi) where the density has ln Gamma(alpha) = "
                         "ln Gamma(1/phi)."))),
        Part("mean(theta)", "mean", _GAMMA.b_prime(t),
             "E y = b'(theta) = -1/theta = alpha/gamma, the gamma mean.",
             "E y = b'(theta): differentiate your b(theta) once.",
             th, ("theta",), mistakes=(
                 Mistake("mean_sign", 1 / t,
                         "with theta < 0 the mean must be positive: b'(theta) = -1/theta."),
                 Mistake("mean_is_variance", 1 / t**2,
                         "1/theta^2 is b''(theta); the mean is the first derivative, "
                         "b'(theta) = -1/theta."))),
        Part("variance(theta, phi)", "variance", P2 * _GAMMA.b_double_prime(T2),
             "Var y = phi b''(theta) = phi/theta^2 = alpha/gamma^2, the gamma variance.",
             "Var y = phi b''(theta): differentiate b(theta) twice.",
             tp, ("theta", "phi"), mistakes=(
                 Mistake("variance_missing_phi", 1 / T2**2,
                         "you have b''(theta) = 1/theta^2; the variance is phi b''(theta) = "
                         "phi/theta^2."),
                 Mistake("variance_first_derivative", -P2 / T2,
                         "that is phi b'(theta). Differentiate b'(theta) = -1/theta once more: "
                         "b''(theta) = 1/theta^2."),
                 Mistake("variance_sign", -P2 / T2**2,
                         "a variance is positive: phi b''(theta) = +phi/theta^2."),
                 Mistake("variance_phi_squared", P2**2 / T2**2,
                         "phi enters once: Var y = phi b''(theta) = phi/theta^2."))),
    )


def _gamma_density(outcomes: Mapping[str, Outcome], answers: Mapping[str, Any]):
    """Across hook of 13.1: is exp((y theta - b(theta))/phi + S(y, phi)) the gamma density?

    Components that differ from Table 13.8 may still be another valid decomposition (theta
    and phi can be rescaled together): when they give the gamma density, they are accepted
    with a note.  When they do not, a 'density' item is added only if no component had a
    more specific diagnosis than "other" (or a failing function)."""
    if any(outcomes[part].values is None for part in _GAMMA_PARTS):
        return (), {}
    codes = [outcomes[part].item.code for part in _GAMMA_PARTS]
    if all(code == "ok" for code in codes):
        return (Item("density", "ok", _DENSITY_OK, "", "ok"),), {}
    quiet = any(code not in ("ok", "other") for code in codes)
    theta, phi, b, S = (answers[name] for name in ("theta", "phi", "b", "S"))
    points, (ys, alphas, rates) = _grid(_YS, _ALPHAS, _RATES)
    got = []
    try:
        for y, a, g in points:
            th = _call(theta, "theta", "(alpha, gamma)", (a, g))[0]
            ph = _call(phi, "phi", "(alpha, gamma)", (a, g))[0]
            bb = _call(b, "b", "(theta)", (th,))[0]
            got.append((y * th - bb) / ph + _call(S, "S", "(y, phi)", (y, ph))[0])
    except _Problem as problem:
        items = () if quiet else (
            Item("density", "wrong", problem.message, problem.hint, problem.code),)
        return items, {}
    want = _GAMMA.loglike_obs(ys, alphas / rates, scale=1 / alphas)
    if _close(got, want):
        return (Item("density", "ok", _DENSITY_OK, "", "ok"),), dict.fromkeys(
            _GAMMA_PARTS, _ALTERNATIVE)
    if quiet:
        return (), {}
    where = _first_mismatch(points, got, want, ("y", "alpha", "gamma"))
    return (Item("density", "wrong", f"your components do not give the gamma log-density: "
                 f"{where}.", "fix the parts marked above; the pieces must fit together.",
                 "density"),), {}


def check_13_1_gamma(theta=None, phi=None, b=None, S=None, mean=None, variance=None) -> Feedback:
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
    answers = dict(theta=theta, phi=phi, b=b, S=S, mean=mean, variance=variance)
    _require_callables(_gamma_parts(), answers)
    return _run("Exercise 13.1 - the gamma distribution in the linear exponential family",
                _gamma_parts(), answers, across=_gamma_density)


# --------------------------------------------------------------------------------------
# Exercise 13.2: the ratemaking fit of Table 13.3
# --------------------------------------------------------------------------------------
_AGES = ("17-20", "21-24", "25-29", "30-34", "35-39", "40-49", "50-59", "60+")
_USES = ("Pleasure", "DriveShort", "DriveLong", "Business")


@functools.lru_cache(maxsize=1)
def _ratemaking_fits():
    """Fitted severities (32 rows, in the order of ``load_mildenhall()``) of the right model
    and of the typical wrong ones; the data's severities, age groups and vehicle uses."""
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
    models = {
        "ok": (F.Gamma(link=L.Log()), n),
        "no_weights": (F.Gamma(link=L.Log()), None),
        "inverse_link": (F.Gamma(), n),
        "identity_link": (F.Gamma(link=L.Identity()), n),
        "gaussian": (F.Gaussian(link=L.Log()), n),
        "gaussian_identity": (F.Gaussian(), n),
        "poisson": (F.Poisson(), n),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fits = {code: fit(X, y, family, weights=w, tol=1e-12).fittedvalues
                for code, (family, w) in models.items()}
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

_BOOK_LABELS = ("the printed Table 13.4 has its DriveShort and DriveLong column headings "
                "interchanged (e.g. 17-20 and DriveLong is 322.17, which the book prints under "
                "DriveShort); your values follow the data's labels.")


def _labels(values) -> list[str]:
    return [str(v).strip() for v in values]


def _table_to_rows(table) -> tuple[np.ndarray | None, tuple[Item, ...]]:
    """An 8 x 4 (age x use) table -> (32 values in data order, notes); (None, [problem])
    when the labels cannot be found."""
    _, _, age, use = _ratemaking_fits()
    rows, cols = _labels(table.index), _labels(table.columns)
    notes: tuple[Item, ...] = ()
    if set(_AGES) <= set(cols) and set(_USES) <= set(rows):
        table, rows, cols = table.T, cols, rows
        notes = (Item("layout", "note", "your table has vehicle use in the rows; read it "
                      "transposed.", "", "transposed"),)
    if not (set(_AGES) <= set(rows) and set(_USES) <= set(cols)):
        return None, (Item(
            "table", "wrong", f"could not find the 8 age groups {list(_AGES)} in the rows and "
            f"the 4 vehicle uses {list(_USES)} in the columns (rows: {rows[:10]}, columns: "
            f"{cols[:6]}).", "label the table like the data, e.g. with df.pivot_table("
            "index='age_group', columns='vehicle_use', values='fitted', observed=True).",
            "labels"),)
    values = np.asarray(table, dtype=float)
    r = {lab: i for i, lab in enumerate(rows)}
    c = {lab: j for j, lab in enumerate(cols)}
    return np.array([values[r[a], c[u]] for a, u in zip(age, use, strict=True)]), notes


def _thirty_two(source: str) -> Callable[[np.ndarray], np.ndarray]:
    def evaluate(values: np.ndarray) -> np.ndarray:
        if values.shape != (32,):
            raise _Problem("wrong", f"{source} have {values.size} values; Table 13.3 has 32 "
                           "cells.", "fit all 32 rows of gt.datasets.load_mildenhall() (drop "
                           "nothing).", "size")
        return values
    return evaluate


def _ratemaking_part(source: str) -> Part:
    """Exercise 13.2 as one part; ``source`` names what the student gave ("your table")."""
    fits, observed, age, use = _ratemaking_fits()
    ref = fits["ok"]
    order = {(a, u): i for i, (a, u) in enumerate(zip(age, use, strict=True))}
    swap = {"DriveShort": "DriveLong", "DriveLong": "DriveShort"}
    swapped = np.array([ref[order[(a, swap.get(u, u))]] for a, u in zip(age, use, strict=True)])
    wrong_models = [(code, vals) for code, vals in fits.items() if code != "ok"]

    def worst_cell(got: np.ndarray) -> str:
        k = int(np.argmax(np.abs(got - ref) / ref))
        return f"for {age[k]} and {use[k]} you have {got[k]:.2f}, the fit gives {ref[k]:.2f}"

    return Part(
        "fit", "answer", ref,
        f"{source} reproduce Table 13.4 (e.g. 17-20 and Business: "
        f"{ref[order[('17-20', 'Business')]]:.2f}; 35-39 and Pleasure: "
        f"{ref[order[('35-39', 'Pleasure')]]:.2f}).",
        _RATEMAKING_TODO,
        rtol=5e-4, atol=1e-8,  # a table typed with 2 decimals is accepted
        evaluate=_thirty_two(source), where=worst_cell,
        other_hint="use the gamma family with a log link, the two categorical variables as "
                   "main effects, and the claim counts as prior weights (and keep the data's "
                   "row order).",
        wrong=f"{source} do not match Table 13.4: {{where}}.",
        mistakes=(
            Mistake("swapped_labels", swapped,
                    "the printed Table 13.4 swaps these two headings; label the columns from "
                    "the data (DriveLong is the most expensive commuting use).",
                    f"{source} have the DriveShort and DriveLong columns interchanged."),
            *(Mistake(code, vals, _RATEMAKING_HINTS[code], f"{source} do not match Table 13.4.")
              for code, vals in [*wrong_models, ("saturated", observed)]),
        ),
    )


def _book_labels(outcomes: Mapping[str, Outcome], answers: Mapping[str, Any]):
    """Across hook of 13.2: a right fit gets the note about the book's column headings."""
    if outcomes["fit"].item is not None and outcomes["fit"].item.status == "ok":
        return (Item("labels", "note", _BOOK_LABELS, "", "book_labels"),), {}
    return (), {}


def check_13_2_ratemaking(answer=None) -> Feedback:
    """Exercise 13.2: the gamma, log-link fit of Table 13.3 with claim counts as weights.

    ``answer`` may be
    - a fitted model: glmteach or statsmodels GLM results (its ``fittedvalues`` are used,
      in the row order of ``gt.datasets.load_mildenhall()``),
    - a table of expected severities (a pandas DataFrame with the age groups as rows and
      the vehicle uses as columns, extra rows/columns such as 'Average' are ignored),
    - or the 32 fitted severities as an array in the data's row order.
    """
    title = "Exercise 13.2 - ratemaking: gamma regression with a log link (Table 13.4)"
    before: tuple[Item, ...] = ()
    source = "your severities"
    values = None
    if answer is None:
        pass
    elif hasattr(answer, "fittedvalues"):
        values = np.asarray(answer.fittedvalues, dtype=float).reshape(-1)
        source = "your fitted severities"
    elif hasattr(answer, "columns") and hasattr(answer, "index"):
        values, before = _table_to_rows(answer)
        if values is None:
            return Feedback(title, before)
        source = "the severities in your table"
    else:
        try:
            values = np.asarray(answer, dtype=float).reshape(-1)
        except (TypeError, ValueError):
            raise ValueError(
                "answer: pass fitted results (glmteach or statsmodels), a DataFrame of "
                f"expected severities, or 32 numbers; got {type(answer).__name__}"
            ) from None
    return _run(title, (_ratemaking_part(source),), {"answer": values}, across=_book_labels,
                before=before)


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
_ZERO_HINT = ("at y = 0 the density is the probability e^(-lambda) of no claim, which is "
              "exactly exp(-b(theta)/phi); so S(0, phi) = 0.")


def _s_tweedie_terms(part: Part, got: np.ndarray) -> Diagnosis | None:
    """Explain a wrong Tweedie S: not finite, off by c0 + c1 ln y per (phi, p), or a
    series stopped too early."""
    points, diff = part.points, got - part.reference
    if not np.all(np.isfinite(got)):
        bad = points[int(np.argmax(~np.isfinite(got)))]
        return Diagnosis(
            "S_not_finite",
            f"your S is not finite at y={bad[0]:g}, phi={bad[1]:g}, p={bad[2]:g}: the terms "
            "of the series overflow; add them in log space (scipy.special.logsumexp of "
            "n ln z - ln n! - ln Gamma(n alpha)).")
    y = np.array([pt[0] for pt in points])
    n_y = len(_TW_YS)
    design = np.column_stack([np.ones(n_y), np.log(_TW_YS)])
    # the points run over y fastest: one block of n_y values per (p, phi)
    blocks = [slice(k, k + n_y) for k in range(0, len(points), n_y)]
    coefs = _per_block(diff, design, blocks, 1e-5, 1e-7)
    if coefs is not None:
        c1 = coefs[:, 1]
        if not np.allclose(c1, 0, atol=1e-6):
            if np.allclose(c1, 1.0, atol=1e-6):
                return Diagnosis(
                    "S_log_y",
                    "your S(y, phi) is off by a term that depends on y: check the ln y "
                    "coefficient. The density of a gamma sum has y^(n alpha - 1): when the "
                    "series is written in powers of y^alpha, a factor 1/y is left over, "
                    "outside the sum.")
            return Diagnosis(
                "S_log_y",
                "your S(y, phi) is off by a term that depends on y: check the ln y "
                f"coefficient (you are off by {c1[0]:.4g} ln y at the first (phi, p)). "
                "Each term of (13.9) has y^(n alpha - 1) = y^(n alpha) / y.")
        return Diagnosis(
            "S_phi_p_terms",
            "your S(y, phi) has the right dependence on y but is off by a term in phi and p "
            "alone: check the constant that multiplies y^alpha in each term, "
            "lambda gamma^alpha, after inserting lambda and gamma of (mu, phi, p) (the mu's "
            "cancel).")
    if np.all(diff <= 1e-9) and abs(diff[int(np.argmax(y))]) > abs(diff[int(np.argmin(y))]):
        return Diagnosis(
            "S_truncated",
            "your S is too small, most of all for large y: the series seems to stop too "
            "early. The largest terms are near n = y^(2-p) / (phi (2-p)); sum well past it.")
    return None


def _s_at_zero(part: Part, got: np.ndarray) -> Diagnosis:
    return Diagnosis("S_zero", _ZERO_HINT, f"S(0, 1, 1.5) is {got[0]:.6g}, not 0.")


def _map_columns(part: Part, got: np.ndarray) -> Diagnosis:
    """An unrecognised map: say which of (lambda, alpha, gamma) are off."""
    bad = [name for j, name in enumerate(("lambda", "alpha", "gamma"))
           if not _close(got[:, j], part.reference[:, j])]
    return Diagnosis("other", "", NOT_QUITE + f" Wrong: {', '.join(bad)}.")


@functools.cache
def _tweedie_parts() -> tuple[Part, ...]:
    """Exercise 13.3 as a table; S and the map from ``families`` (section 13.6)."""
    ys_points = tuple((y, ph, p) for p in _POWERS for ph in _TW_PHIS for y in _TW_YS)
    s_ref = np.array([F.Tweedie(power=p).S(np.array([y]), ph)[0] for y, ph, p in ys_points])
    lag, (lam, a, g) = _grid(_LAMS, _SHAPES, _TW_RATES)
    mpp, _ = _grid(_MUS, _TW_PHIS, _POWERS)
    ref_map = np.array([F.tweedie_poisson_gamma(*row) for row in mpp])
    return (
        Part("S(y, phi, p)", "S", s_ref,
             "matches the Dunn-Smyth series, S = -ln y + ln sum_n z^n / (n! Gamma(n alpha)).",
             "insert lambda, alpha and gamma of (mu, phi, p) into (13.9); the factor "
             "e^(-lambda - y gamma) is the exponential-family part of (13.11), and the sum "
             "that is left no longer involves mu.",
             ys_points, ("y", "phi", "p"), rtol=1e-6, atol=1e-8, diagnose=_s_tweedie_terms,
             other_hint="compare your series term by term with "
                        "lambda^n gamma^(n alpha) y^(n alpha - 1) / (n! Gamma(n alpha)) "
                        "after inserting lambda and gamma of (mu, phi, p)."),
        # y = 0: Pr(S_N = 0) = e^(-lambda) is all of the exponential-family part
        Part("S(0, phi, p)", "S", np.zeros(1),
             "S(0, phi) = 0, since Pr(S_N = 0) = e^(-lambda) = exp(-b(theta)/phi).",
             _ZERO_HINT, ((0.0, 1.0, 1.5),), ("y", "phi", "p"), signature="(y, phi, p)",
             atol=1e-12, rtol=0.0, diagnose=_s_at_zero, report_unanswered=False,
             error_code="S_zero_error", error_hint=_ZERO_HINT + " Treat y = 0 apart."),
        Part("mean(lam, alpha, gamma)", "mean", lam * a / g,
             "E S_N = E N x E y_1 = lambda alpha / gamma.",
             "condition on the number of claims: E S_N = E[ E(S_N | N) ].",
             lag, ("lam", "alpha", "gamma"), mistakes=(
                 Mistake("mean_rate_as_scale", lam * a * g,
                         "in section 13.6 gamma is a rate: one claim has mean alpha/gamma, so "
                         "E S_N = lambda alpha/gamma."),
                 Mistake("mean_missing_lambda", a / g,
                         "that is the mean of one claim; multiply by the expected number of "
                         "claims, lambda."),
                 Mistake("mean_missing_alpha", lam / g,
                         "one gamma claim has mean alpha/gamma (shape over rate)."))),
        Part("variance(lam, alpha, gamma)", "variance", lam * a * (1 + a) / g**2,
             "Var S_N = lambda alpha (1 + alpha) / gamma^2 = lambda E(y_1^2).",
             "use the law of total variance, Var S_N = E[Var(S_N | N)] + Var[E(S_N | N)], "
             "with the mean and variance of one gamma claim and of the Poisson N.",
             lag, ("lam", "alpha", "gamma"), mistakes=(
                 Mistake("variance_only_within", lam * a / g**2,
                         "that is E[Var(S_N | N)] = lambda alpha/gamma^2 only; add "
                         "Var[E(S_N | N)] = Var(N) (alpha/gamma)^2 = lambda alpha^2/gamma^2."),
                 Mistake("variance_only_between", lam * a**2 / g**2,
                         "that is Var[E(S_N | N)] = lambda (alpha/gamma)^2 only; add "
                         "E[Var(S_N | N)] = lambda alpha/gamma^2."),
                 Mistake("variance_rate_as_scale", lam * a * (1 + a) * g**2,
                         "in section 13.6 gamma is a rate: one claim has variance "
                         "alpha/gamma^2."))),
        Part("params(mu, phi, p)", "params", ref_map,
             "lambda = mu^(2-p)/(phi (2-p)), alpha = (2-p)/(p-1), 1/gamma = phi (p-1) "
             "mu^(p-1).",
             "return the tuple (lam, alpha, gamma) of section 13.6 in terms of mu, phi and p "
             "(note that the section gives 1/gamma, not gamma).",
             mpp, ("mu", "phi", "p"), size=3, diagnose=_map_columns, mistakes=(
                 Mistake("params_gamma_not_inverted",
                         np.column_stack([ref_map[:, :2], 1 / ref_map[:, 2]]),
                         "section 13.6 gives 1/gamma = phi (p-1) mu^(p-1): invert it to get "
                         "the rate gamma."),
                 Mistake("params_alpha_inverted",
                         np.column_stack([ref_map[:, 0], 1 / ref_map[:, 1], ref_map[:, 2]]),
                         "alpha = (2-p)/(p-1), not (p-1)/(2-p): as p -> 1 the claims become "
                         "many tiny ones with a large shape."))),
    )


_MOMENT_PARTS = ("mean(lam, alpha, gamma)", "variance(lam, alpha, gamma)", "params(mu, phi, p)")


def _equation_13_12(outcomes: Mapping[str, Outcome], answers: Mapping[str, Any]):
    """Across hook of 13.3: with the student's own map and moments, E S_N = mu and
    Var S_N = phi mu^p (equation 13.12)."""
    if not all(outcomes[part].item is not None and outcomes[part].item.status == "ok"
               for part in _MOMENT_PARTS):
        return (), {}
    mpp, (mu, ph, pw) = _grid(_MUS, _TW_PHIS, _POWERS)
    try:
        m = [_call(answers["mean"], "mean", "", tuple(row))[0]
             for row in outcomes["params(mu, phi, p)"].values]
        v = [_call(answers["variance"], "variance", "", tuple(row))[0]
             for row in outcomes["params(mu, phi, p)"].values]
    except _Problem:
        return (), {}
    if _close(m, mu) and _close(v, ph * mu**pw):
        return (Item("equation 13.12", "ok", "with your map, E S_N = mu and Var S_N = "
                     "phi mu^p.", "", "ok"),), {}
    return (), {}


def check_13_3_tweedie(S=None, mean=None, variance=None, params=None) -> Feedback:
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
    answers = dict(S=S, mean=mean, variance=variance, params=params)
    _require_callables(_tweedie_parts(), answers)
    return _run("Exercise 13.3 - the Tweedie distribution as a linear exponential family",
                _tweedie_parts(), answers, across=_equation_13_12)


def exercise_parts(exercise: str) -> tuple[Part, ...]:
    """The table of parts that the checker of ``exercise`` ("13.1", "13.2" or "13.3") runs:
    what is evaluated where, the reference, the tolerance, the typical mistakes and hints."""
    tables = {"13.1": _gamma_parts, "13.2": lambda: (_ratemaking_part("your severities"),),
              "13.3": _tweedie_parts}
    if exercise not in tables:
        raise ValueError(f"exercise: must be one of {sorted(tables)}, got {exercise!r}")
    return tables[exercise]()
