"""The data of one GLM fit, validated once: ``GLMProblem``.

Everything the fitting and inference layers compute from the data alone lives here
too (deviance, Pearson X^2, the scale estimate and the log-likelihood at a given
mean vector), so that the IRLS history and the final results use the very same
formulas.

Validation rules (each failure is a ``ValueError`` that names the argument, the rule
and the number of rows that break it) are listed in ``docs/bad_inputs.md``.
"""

from __future__ import annotations

import copy
import numbers
from collections.abc import Callable

import numpy as np

from glmteach import families as F
from glmteach import linalg as LA
from glmteach import links as L

__all__ = ["GLMProblem", "check_scale", "row_vector", "log_exposure"]

# A column is aliased when the part of it that the earlier columns cannot explain has
# less than sqrt(1e-12) = 1e-6 of its length (R's QR uses 1e-7 on the same quantity).
ALIAS_TOLERANCE = 1e-12


def _rows(mask: np.ndarray, verb: str = "") -> str:
    """'1 row' / '3 rows', followed by ``verb`` ('is/are', 'does/do', ...) in the number
    that agrees with the count."""
    count = int(np.count_nonzero(mask))
    text = f"{count} row{'s' if count != 1 else ''}"
    if verb:
        singular, plural = verb.split("/")
        text += f" {singular if count == 1 else plural}"
    return text


def _first_rows(mask: np.ndarray, limit: int = 5) -> str:
    idx = np.flatnonzero(mask)
    shown = ", ".join(str(i) for i in idx[:limit]) + (", ..." if len(idx) > limit else "")
    return f" (first at row{'s' if len(idx) > 1 else ''} {shown})"


def holds_text(value) -> bool:
    """Strings, even ones that look like numbers ('1.5'), are not numeric data: numpy
    would convert them silently, hiding e.g. a CSV column read as text."""
    if hasattr(value, "columns"):  # DataFrame
        return any(t.kind in "OSU" and any(isinstance(v, str) for v in value[c])
                   for c, t in value.dtypes.items())
    raw = np.asarray(value) if not hasattr(value, "dtype") else value
    kind = getattr(raw.dtype, "kind", "")
    if kind in "SU":
        return True
    return kind == "O" and any(isinstance(v, str) for v in np.ravel(np.asarray(raw)))


def is_pandas(value) -> bool:
    """A pandas Series or DataFrame (a list also has an ``index`` attribute: a method)."""
    return type(value).__module__.startswith("pandas") and hasattr(value, "index") \
        and not callable(value.index)


def _refuse_non_numeric_kinds(value, name: str) -> None:
    """Datetimes, timedeltas, pandas categoricals and complex numbers are not silently
    turned into floats (nanoseconds, category codes, the real part)."""
    if hasattr(value, "dtypes") and hasattr(value, "columns"):
        kinds = [(str(c), t) for c, t in value.dtypes.items()]
    elif hasattr(value, "dtype"):
        kinds = [(None, value.dtype)]
    else:
        try:
            kinds = [(None, np.asarray(value).dtype)]
        except (TypeError, ValueError):
            return
    for col, dtype in kinds:
        where = f" (column {col})" if col is not None else ""
        if str(dtype) == "category":
            raise ValueError(
                f"{name}: holds a pandas Categorical{where}, whose categories have no "
                f"numeric meaning; use the formula front end, e.g. gt.glm('y ~ C(group)', "
                f"data=df), or encode it with pd.get_dummies(..., drop_first=True)")
        kind = getattr(dtype, "kind", "")
        if kind in "mM":
            raise ValueError(
                f"{name}: holds dates or times{where}, which would be used as nanoseconds; "
                f"convert them to a number with a meaningful unit first (e.g. years since "
                f"a reference date)")
        if kind == "c":
            raise ValueError(
                f"{name}: holds complex numbers{where}; a GLM needs real numbers (pass "
                f"the real part, or the modulus, explicitly if that is what you mean)")


def to_float_array(value, name: str) -> np.ndarray:
    if name.startswith("X"):  # (a categorical y is refused below as non-numeric)
        _refuse_non_numeric_kinds(value, name)
    try:
        if holds_text(value):
            raise ValueError("text")
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        bad = ""
        if hasattr(value, "columns"):
            cols = [str(c) for c, t in value.dtypes.items() if t.kind not in "biufb"]
            bad = f"; non-numeric column(s): {', '.join(cols)}" if cols else ""
        raise ValueError(
            f"{name}: must be numeric{bad} (encode categories as dummy columns, "
            f"or use gt.glm with a formula such as 'y ~ C(group)')"
        ) from exc
    return arr


def _check_index(value, name: str, index) -> None:
    """pandas inputs are paired with the rows of X by position; refuse when their row
    labels say that would pair different observations."""
    other = value.index if is_pandas(value) else None
    if index is None or other is None:
        return
    if len(other) == len(index) and not other.equals(index):
        raise ValueError(
            f"{name}: its index (row labels) differs from X's, so rows would be paired by "
            f"position with different observations; align them first (e.g. "
            f"{name}.reindex(X.index)) or pass plain arrays"
        )


def constant_vector(value: float, n: int) -> np.ndarray:
    """An n-vector whose entries are all ``value`` and which takes no memory: a read-only
    view of one number (stride 0).  The prior weights and the offset of a problem that
    has none: at large n two n-vectors less to write, fault in and read (numpy reads a
    stride-0 vector as it reads any other)."""
    return np.broadcast_to(np.float64(value), (n,))


def _owned(arr: np.ndarray, original) -> np.ndarray:
    """``arr`` as a read-only array that shares no memory with the caller's ``original``
    (copied only when it does: conversion from lists, other dtypes or pandas frames of
    mixed columns already made a new array).  Contiguous, for BLAS - except a
    ``constant_vector``, which is kept as it is."""
    if original is None and arr.strides == (0,):  # a ``constant_vector``: ours already
        return arr
    if isinstance(original, np.ndarray) and np.may_share_memory(arr, original):
        arr = arr.copy(order="K")
    elif is_pandas(original) and np.may_share_memory(arr, np.asarray(original)):
        arr = arr.copy(order="K")
    if not (arr.flags.c_contiguous or arr.flags.f_contiguous):
        arr = np.ascontiguousarray(arr)
    arr.flags.writeable = False
    return arr


def _read_only_design(arr: np.ndarray) -> np.ndarray:
    """X as a read-only, contiguous array, *without* a copy when the caller's array is
    already one (statsmodels and scikit-learn do not copy X either).

    Copying X so that later edits of the caller's array cannot reach a fitted result
    costs a full pass over X and as much memory again (at n = 1e6, p = 20: 160 MB and,
    on a fresh process, more time than three IRLS passes, since new memory must be
    faulted in), which issue 16 weighs against a fit of about 6 BLAS passes.  So X is
    shared: what a fit computes is computed during the fit (coefficients, the history,
    fitted values, deviance, llf, and the covariance from the X'WX the last step formed),
    but quantities read from X afterwards (influence, robust covariances) follow later
    edits of the caller's X.  Pass ``X.copy()`` to be safe.  Here the array is a view
    marked read-only, so glmteach itself can never write into it; the caller's own array
    keeps its flags.  The n-vectors (y, weights, offset) are still copied (``_owned``):
    they are p times smaller."""
    arr = arr.view() if arr.flags.c_contiguous or arr.flags.f_contiguous \
        else np.ascontiguousarray(arr)
    arr.flags.writeable = False
    return arr


def _check_finite(arr: np.ndarray, name: str) -> None:
    if np.isfinite(np.sum(arr)):  # fast path; an overflowing sum falls through to the count
        return
    bad = ~np.isfinite(arr)
    if arr.ndim > 1:
        bad = bad.any(axis=tuple(range(1, arr.ndim)))
    if bad.any():
        raise ValueError(
            f"{name}: must not contain NaN or infinite values; {_rows(bad, 'does/do')}"
            f"{_first_rows(bad)}"
        )


def add_parts(parts: list):
    """The sum of the parts of a pass over the rows, added in order (so the same whatever
    the threads): arrays, or tuples of arrays summed element by element."""
    total = parts[0]
    for part in parts[1:]:
        total = tuple(a + b for a, b in zip(total, part, strict=True)) \
            if isinstance(total, tuple) else total + part
    return total


def row_vector(value, name: str, n: int, rows_of: str = "X") -> np.ndarray:
    """``value`` as one finite number per row of ``rows_of`` (n rows; a single number is
    repeated): the one check of every per-row argument (weights, offset, exposure,
    frequency weights, and the offset and exposure of new rows in ``predict``)."""
    arr = to_float_array(value, name)
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    arr = arr.reshape(-1) if arr.ndim == 2 and 1 in arr.shape else arr
    if arr.ndim != 1 or arr.shape[0] != n:
        raise ValueError(
            f"{name}: must have one value per row of {rows_of} ({n} rows), got shape "
            f"{np.shape(value)}"
        )
    _check_finite(arr, name)
    return arr


def log_exposure(value, link: L.Link, n: int, rows_of: str = "X"):
    """(exposure, ln exposure): the one check of an exposure, for a fit and for
    ``predict``.  An exposure t_i enters the linear predictor as the offset ln t_i, so
    that mu_i = t_i exp(x_i' beta) (Frees 2010, section 13.4): it must be positive, and
    it is multiplicative only with the log link."""
    exposure = row_vector(value, "exposure", n, rows_of)
    bad = exposure <= 0
    if bad.any():
        raise ValueError(f"exposure: must be positive; {_rows(bad, 'is/are')} not"
                         f"{_first_rows(bad)}")
    if not isinstance(link, L.Log):
        raise ValueError(
            f"exposure: enters as ln(exposure) in the linear predictor, which is a "
            f"multiplicative effect only with the log link; this model uses "
            f"{link!r} (pass an offset instead)"
        )
    return exposure, np.log(exposure)


def _design_matrix(X) -> tuple[np.ndarray, np.ndarray]:
    """(X, squares): X as a finite (n, p) float array with n, p >= 1 (a vector is one
    column), and its column sums of squares sum_i x_ij^2.  Those come from one pass over
    X (on all CPUs for a large X: ``glmteach.linalg.threads_for_pass``) and double as the
    check that X is finite: they are, unless some x is NaN or infinite - or beyond 1e154,
    whose square overflows, which is why only then X itself is searched."""
    X = to_float_array(X, "X")
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2:
        raise ValueError(f"X: must be a 2-D array (rows x columns), got {X.ndim} dimensions")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"X: must have at least one row and one column, got shape {X.shape}")
    n, p = X.shape
    with np.errstate(over="ignore", invalid="ignore"), LA.threads_for_pass(n, p) as threads:
        squares = LA.weighted_column_sums_of_squares(X, None, threads=threads)
    if not np.all(np.isfinite(squares)):
        _check_finite(X, "X")
    return X, squares


SCALE_RULES = ("X2", "dev")


def check_scale(scale):
    """The ``scale`` argument of ``gt.fit`` (statsmodels' ``GLM.fit(scale=)``): None (the
    default rule), a positive finite number (phi fixed at it), or "X2" / "dev" (either
    case, as statsmodels).  Returns None, a float, "X2" or "dev".  Whole numbers are
    accepted as fixed scales (statsmodels raises for ``scale=3``; it wants ``3.0``)."""
    if scale is None:
        return None
    if isinstance(scale, str):
        for rule in SCALE_RULES:
            if scale.lower() == rule.lower():
                return rule
        raise ValueError(
            f"scale: must be None (the default: 1 for Binomial, Poisson and "
            f"NegativeBinomial, Pearson X2 / df_resid otherwise), a positive number, 'X2' "
            f"(Pearson X2 / df_resid) or 'dev' (deviance / df_resid), got {scale!r}")
    if isinstance(scale, bool | np.bool_) or not isinstance(scale, numbers.Real) \
            or not np.isfinite(scale) or scale <= 0:
        raise ValueError(f"scale: a fixed scale must be a positive finite number, got "
                         f"{scale!r} (or pass None, 'X2' or 'dev')")
    return float(scale)


def _check_freq_weights(freq: np.ndarray) -> np.ndarray:
    """Frequency weights are counts of identical rows: whole numbers >= 0.  Non-integer
    values are refused (statsmodels accepts them; R's glm has no frequency weights):
    a fractional count has no repeated-data meaning - pass such weights as ``weights``."""
    negative = freq < 0
    if negative.any():
        raise ValueError(f"freq_weights: must be non-negative whole numbers (counts of "
                         f"identical rows); {_rows(negative, 'is/are')} negative"
                         f"{_first_rows(negative)}")
    fractional = np.abs(freq - np.rint(freq)) > 1e-8 * np.maximum(1.0, freq)
    if fractional.any():
        raise ValueError(
            f"freq_weights: must be whole numbers (a row with weight 3 counts as three "
            f"identical rows); {_rows(fractional, 'is/are')} not{_first_rows(fractional)}. "
            f"For non-integer weights use weights= (prior weights, phi_i = phi / w_i)")
    return np.rint(freq)


class GLMProblem:
    """X, y, family, prior weights and offset, checked and stored as float arrays.

    Parameters
    ----------
    X : (n, p) array or DataFrame
        The design matrix; its column names become the parameter names.  A float64
        contiguous array is used in place, not copied (see ``_read_only_design``): do
        not edit it while the fit's results are still in use, or pass ``X.copy()``.
    y : (n,) array or Series, or (n, 2) array of binomial (successes, failures)
    family : Family, default Gaussian()
    weights : (n,) prior weights w_i, giving phi_i = phi / w_i (binomial: trials)
    offset : (n,) known part of the linear predictor
    exposure : (n,) positive exposure; adds ln(exposure) to the offset (log link only)
    freq_weights : (n,) frequency (case) weights f_i: whole numbers >= 0, a row with
        f_i = 3 counts as three identical rows.  Every result equals the fit of the data
        with each row repeated f_i times.  The fit uses the total weight f_i w_i
        (``weights``; ``prior_weights`` holds w_i alone); ``nobs`` is the number of
        repeated rows, sum f_i over the rows of positive weight (statsmodels' ``nobs``
        counts the rows as given; its ``df_resid`` counts the repeats).
    scale : None, a positive number, "X2" or "dev"; see ``scale`` below
    """

    def __init__(self, X, y, family: F.Family | None = None, weights=None, offset=None,
                 exposure=None, freq_weights=None, scale=None):
        family = F.Gaussian() if family is None else family
        if not isinstance(family, F.Family):
            raise ValueError(
                f"family: must be a glmteach family instance such as gt.Poisson(), "
                f"got {family!r}"
            )
        self.family = family
        self.link = family.link

        original_y = y
        self.labelled = hasattr(X, "columns")
        self.param_names = [str(c) for c in X.columns] if self.labelled else None
        self.row_index = X.index if is_pandas(X) else None
        if self.row_index is None and is_pandas(y):
            self.row_index = y.index
        self.response_name = getattr(y, "name", None) if is_pandas(y) else None
        self.scale_rule = check_scale(scale)
        for value, name in ((y, "y"), (weights, "weights"), (offset, "offset"),
                            (exposure, "exposure"), (freq_weights, "freq_weights")):
            _check_index(value, name, X.index if is_pandas(X) else None)

        X, squares = _design_matrix(X)
        n, p = X.shape
        if self.param_names is None:
            self.param_names = [f"x{j}" for j in range(p)]
        prior = None if weights is None else row_vector(weights, "weights", n)
        if prior is not None and (prior < 0).any():
            raise ValueError(f"weights: must be non-negative; {_rows(prior < 0, 'is/are')} "
                             f"negative"
                             f"{_first_rows(prior < 0)}")
        y, prior = self._response(y, prior, n)
        freq = None
        if freq_weights is not None:
            freq = _check_freq_weights(row_vector(freq_weights, "freq_weights", n))
        if prior is None:
            prior = constant_vector(1.0, n)
        if not (prior > 0).any():
            raise ValueError("weights: at least one weight must be positive")
        if freq is not None and not (prior * freq > 0).any():
            raise ValueError("freq_weights: at least one row must have a positive frequency "
                             "weight (and a positive prior weight)")
        if family.trials_as_weights and weights is not None and np.ndim(y) == 1:
            self._check_binomial_counts(y, prior)

        self._check_variance_range(y, prior)
        self.offset_given = offset is not None
        off = constant_vector(0.0, n) if offset is None else row_vector(offset, "offset", n)
        self.exposure = None
        if exposure is not None:
            self.exposure, log_t = log_exposure(exposure, self.link, n)
            off = off + log_t

        # Own, read-only copies of the n-vectors: later edits of the caller's arrays
        # (y -= 1) must not change a fitted result, and nothing here may change the data.
        # X is shared with the caller, read-only here (see ``_read_only_design``).
        self.X = _read_only_design(X)
        self.y = _owned(y, original_y)
        # ``weights`` is what the fit uses: w_i, or f_i w_i with frequency weights (the
        # score, deviance and X^2 of f_i identical rows are f_i times those of one)
        self.prior_weights = _owned(prior, weights)
        self.freq_weights = None
        if freq is None:
            self.weights = self.prior_weights
        else:
            self.freq_weights = _owned(freq, freq_weights)
            total = prior * freq
            total.flags.writeable = False
            self.weights = total
        self.offset = _owned(off, offset)
        if self.exposure is not None:
            self.exposure = _owned(self.exposure, exposure)
        self.n, self.p = n, p
        self.row_threads = LA.threads_for_rows(n)  # for element-wise work: ``by_row_parts``
        # (a fit skips adding a zero offset and multiplying by unit weights: two passes
        # over an n-vector less per iteration)
        self.has_offset = bool(np.any(self.offset))
        self.unit_weights = bool(np.all(self.weights == 1.0))
        self.nobs = self._count_observations()
        self._saturated_llf: tuple[float, float] | None = None  # (scale, llf(y)): loglike
        # s_j = sqrt(sum_i w_i x_ij^2 / sum_i w_i), the root mean square of column j, which
        # the convergence rule uses to compare coefficients of columns in different units
        if not self.unit_weights:
            with LA.threads_for_pass(n, p) as threads:
                squares = LA.weighted_column_sums_of_squares(self.X, self.weights,
                                                             threads=threads)
        self.total_weight = float(np.sum(self.weights))  # sum_i w_i
        self.column_scale = np.sqrt(squares / self.total_weight)
        self.rank_checked = False  # see ``check_rank``: done by ``irls.initial_state``

    def _count_observations(self) -> int:
        """Rows of weight 0 carry no information and are counted nowhere (nobs, df_resid,
        scale, llf, aic, bic, HC1), so a fit with them equals the fit without them; with
        frequency weights a row counts f_i times."""
        used = self.weights > 0
        if self.freq_weights is None:
            return int(np.count_nonzero(used))
        return int(np.sum(self.freq_weights[used]))

    # -- construction helpers -------------------------------------------------------
    def _response(self, y, prior, n: int):
        """(y, prior weights): y as n finite responses inside the family's support; for a
        family with trials as weights (the binomial) an (n, 2) array of successes and
        failures becomes proportions, and the trials multiply the prior weights."""
        family = self.family
        y = to_float_array(y, "y")
        if y.ndim == 2 and y.shape[1] == 2 and family.trials_as_weights:
            y, prior = self._from_successes_failures(y, prior, n)
        else:
            if y.ndim == 2 and 1 in y.shape:
                y = y.reshape(-1)
            if y.ndim != 1:
                raise ValueError(
                    f"y: must be one-dimensional (a two-column successes/failures array is "
                    f"accepted only by the Binomial family), got shape {y.shape}"
                )
            if y.shape[0] != n:
                raise ValueError(f"y: has {y.shape[0]} values but X has {n} rows")
            _check_finite(y, "y")
        bad_y = family.y_violations(y)
        if bad_y.any():
            raise ValueError(
                f"y: the {family.name} family needs {family.y_rule}; "
                f"{_rows(bad_y, 'breaks/break')} this rule{_first_rows(bad_y)}"
            )
        return y, prior

    @staticmethod
    def _from_successes_failures(counts: np.ndarray, prior, n: int):
        if counts.shape[0] != n:
            raise ValueError(f"y: has {counts.shape[0]} rows but X has {n} rows")
        _check_finite(counts, "y")
        negative = (counts < 0).any(axis=1)
        if negative.any():
            raise ValueError(f"y: successes and failures must be non-negative; "
                             f"{_rows(negative, 'is/are')} not{_first_rows(negative)}")
        fractional = (np.abs(counts - np.rint(counts)) > 1e-8).any(axis=1)
        if fractional.any():
            raise ValueError(f"y: successes and failures must be whole numbers; "
                             f"{_rows(fractional, 'is/are')} not{_first_rows(fractional)}")
        trials = counts.sum(axis=1)
        y = np.divide(counts[:, 0], trials, out=np.zeros(n), where=trials > 0)
        weights = trials if prior is None else trials * prior
        return y, weights

    @staticmethod
    def _check_binomial_counts(y: np.ndarray, trials: np.ndarray) -> None:
        """With whole-number weights (numbers of trials), n*y must be a whole number."""
        if np.all(np.abs(trials - np.rint(trials)) < 1e-8):
            successes = trials * y
            bad = np.abs(successes - np.rint(successes)) > 1e-6 * np.maximum(trials, 1)
            if bad.any():
                raise ValueError(
                    f"y: with weights = numbers of trials, weights * y must be whole numbers "
                    f"of successes; {_rows(bad, 'is/are')} not{_first_rows(bad)}"
                )

    def _check_variance_range(self, y: np.ndarray, prior: np.ndarray) -> None:
        """Refuse responses so large or so small that v(mu) = mu^p overflows or
        underflows for means of their size (Gamma with y ~ 1e300: v = 1e600 = inf): the
        working weights would be 0 or inf and the fit would report wrong numbers."""
        fam = self.family
        power = fam.variance_power
        if not power:
            return
        used = np.abs(y[(prior > 0) & (y != 0)])
        if used.size == 0:
            return
        big, small = float(used.max()), float(used.min())
        tiny = np.finfo(float).tiny
        with np.errstate(over="ignore", under="ignore"):
            var = fam.variance(np.array([big, small]))
            # the working weight needs 1 / (v g'^2); with the log link g' = 1/mu
            ok = np.all(np.isfinite(var)) and np.all(var >= tiny) and \
                np.all(np.isfinite(1.0 / var)) and np.isfinite(big ** 2) and small ** 2 >= tiny
        if not ok:
            raise ValueError(
                f"y: values from {small:.3g} to {big:.3g} are too extreme for the "
                f"{fam.name} variance function v(mu) = mu^{power:g} in double precision "
                f"(it overflows or underflows), so the fit would be wrong; rescale y (e.g. "
                f"y / {big:.0e}), fit, and scale the means back - with the log link only "
                f"the intercept changes, by ln(scale)")

    def check_rank(self, gram: np.ndarray | None = None,
                   weight_range: tuple[float, float] | None = None) -> None:
        """Reject aliased columns, naming them (see ``ALIAS_TOLERANCE``); once per problem.

        The check is on the weighted design sqrt(w) X: rows with weight 0 carry no
        information, so a column that only they tell apart from the others has no
        estimate (it would come out as 0 with standard error 0).  On X' w X scaled to
        unit diagonal, 1 - R_j^2 of column j on the earlier kept columns decides
        (``glmteach.linalg.aliased_columns``).  That takes one pass over X, unless:

        ``gram`` = X' W X at working weights W = w d (a fit's first normal equations,
        ``irls.initial_state``), with a <= d_i <= b on the rows of positive weight
        (``weight_range`` = (a, b), see ``working_weight_range``).  The
        residual sum of squares of column j on the others, and its squared norm, change
        under the weights d by factors between a and b, so 1 - R_j^2 changes by at most
        the factor b / a: when every pivot of ``gram`` is at least b / a times the
        tolerance, every pivot of X' w X is at least the tolerance, and the check has
        passed for free.  Otherwise (a zero or widely spread W, or a near-aliased column)
        the pass over X decides, exactly as without ``gram``.
        """
        if self.rank_checked:
            return
        if gram is None or weight_range is None or not self._full_rank_by(gram,
                                                                           weight_range):
            self._check_rank_exactly()
        self.rank_checked = True

    def working_weight_range(self, W: np.ndarray,
                             rows: slice = slice(None)) -> tuple[float, float]:
        """(a, b): the smallest and largest d_i = W_i / w_i of working weights W (of the
        rows ``rows``; all rows by default) over the rows of positive prior weight w_i,
        (inf, -inf) when there are none: what ``check_rank`` needs of W.  A pass may
        take it part by part: the range of the whole is (min of the a, max of the b)."""
        prior = self.weights[rows]
        used = prior > 0
        if not used.all():  # (boolean indexing costs a pass: only when needed)
            W, prior = W[used], prior[used]
        if W.size == 0:
            return float("inf"), float("-inf")
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = W if self.unit_weights else W / prior
        return float(np.min(ratio)), float(np.max(ratio))

    def _full_rank_by(self, gram: np.ndarray, weight_range: tuple[float, float]) -> bool:
        """True when the bound of ``check_rank`` shows X' w X of full rank from ``gram``."""
        low, high = weight_range
        if not (low > 0 and np.isfinite(high) and ALIAS_TOLERANCE * high / low < 1.0):
            return False
        aliased, _ = LA.aliased_columns(gram, ALIAS_TOLERANCE * high / low)
        return not aliased

    def _check_rank_exactly(self) -> None:
        """The check of ``check_rank`` on X' w X itself (one pass over X)."""
        # all weights 1 (the common case): X'X by one BLAS syrk over X as it is stored,
        # without scaling each block of rows first
        unit = bool(np.all(self.weights == 1.0))
        gram = LA.crossprod(self.X) if unit else self.weighted_normal_equations(self.weights)
        aliased, keep = LA.aliased_columns(gram, ALIAS_TOLERANCE)
        if aliased:
            names = ", ".join(self.param_names[j] for j in aliased)
            zero_w = bool(np.any(self.weights == 0))
            where = " on the rows with positive weight" if zero_w else ""
            raise ValueError(
                f"X: columns are linearly dependent{where} (rank {len(keep)} < {self.p} "
                f"columns); aliased column(s): {names}. Drop them (or one level of each "
                f"categorical variable when there is an intercept)"
                + (" - rows with weight 0 do not count, so a column that only they make "
                   "non-zero has no estimate" if zero_w else "")
            )

    def linear_predictor(self, params: np.ndarray) -> np.ndarray:
        """eta = X params + offset, a new array (``glmteach.linalg.matvec``, on all CPUs
        for a large X with few columns, like ``weighted_normal_equations``)."""
        with LA.threads_for_pass(self.n, self.p) as threads:
            eta = LA.matvec(self.X, np.asarray(params, dtype=float), threads=threads)
        if self.has_offset:
            eta += self.offset  # (in place: one n-vector, not two)
        return eta

    def weighted_normal_equations(self, weights: np.ndarray, rhs: np.ndarray | None = None):
        """X' diag(weights) X, and X' rhs when ``rhs`` ((n,) or (n, k)) is given, in one
        blocked pass over this problem's X: ``glmteach.linalg.weighted_normal_equations``
        of each part of the rows of ``by_row_parts``, the parts added in order - for a
        large X with few columns on all CPUs, the BLAS on one thread
        (``glmteach.linalg.threads_for_pass``).  A fit's Fisher steps form the same sums,
        part by part, in their own pass (``irls``)."""
        with LA.threads_for_pass(self.n, self.p) as threads:
            return add_parts(self.by_row_parts(lambda rows: LA.weighted_normal_equations(
                self.X[rows], weights[rows], None if rhs is None else rhs[rows]), threads))

    # -- quantities of a mean vector ------------------------------------------------
    @property
    def df_resid(self) -> int:
        """nobs - p (rows of weight 0 do not count)."""
        return self.nobs - self.p

    def by_row_parts(self, function: Callable[[slice], object],
                     threads: int | None = None) -> list:
        """[function(rows) for each part ``rows`` of the n rows], in order: the parts of
        ``glmteach.linalg.map_vector_parts`` (they depend on n only), on ``threads``
        threads (default ``row_threads``: all CPUs for a large n).  What every pass of a
        fit over the rows is shared out with."""
        return LA.map_vector_parts(function, self.n,
                                   self.row_threads if threads is None else threads)

    def mean(self, eta: np.ndarray) -> np.ndarray:
        """mu = g^{-1}(eta), a new array, by parts of the rows (``by_row_parts``: the
        exponential of a log link costs more than any other element-wise step of a fit)."""
        mu = np.empty(self.n)

        def part(rows: slice) -> None:
            mu[rows] = self.link.inverse(eta[rows])

        self.by_row_parts(part)
        return mu

    def deviance(self, mu: np.ndarray) -> float:
        """D(y, mu) = sum_i w_i d(y_i, mu_i), summed by parts of the rows
        (``by_row_parts``), the parts added in order: the same number on any machine."""
        y, weights, family = self.y, self.weights, self.family
        return float(sum(self.by_row_parts(lambda rows: family.deviance(
            y[rows], mu[rows], 1.0 if self.unit_weights else weights[rows]))))

    def pearson_chi2(self, mu: np.ndarray) -> float:
        """X^2 = sum_i w_i (y_i - mu_i)^2 / v(mu_i).  A response fitted exactly on the edge
        of the mean space (y = mu with v(mu) = 0, as in a separated binomial fit whose
        probabilities round to 0 or 1) contributes 0, not 0/0."""
        var = self.family.variance(mu)
        sq = self.weights * (self.y - mu) ** 2
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            terms = np.divide(sq, var, out=sq)  # (no masked divide: it costs 5-10 plain ones)
            total = np.sum(terms)
            if not np.isfinite(total):  # 0/0 on the edge of the mean space: those rows are 0
                total = np.sum(np.where(self.weights * (self.y - mu) ** 2 > 0, terms, 0.0))
        return float(total)

    def with_scale(self, scale) -> GLMProblem:
        """The same problem (sharing its arrays) with another scale rule."""
        other = copy.copy(self)
        other.scale_rule = check_scale(scale)
        return other

    @property
    def scale_estimated(self) -> bool:
        """True when phi-hat is estimated from the residuals (needs df_resid > 0)."""
        rule = self.scale_rule
        return rule in SCALE_RULES or (rule is None and not self.family.scale_is_fixed)

    def scale(self, mu: np.ndarray) -> float:
        """phi-hat, by the rule ``scale_rule`` (statsmodels' ``GLM.fit(scale=)``):

        - None (default): 1 for Binomial, Poisson and NegativeBinomial; otherwise
          X^2 / (n - p), the moment estimator of section 13.4 (statsmodels' and R's
          summary default);
        - a number: phi fixed at that value (for any family);
        - "X2": X^2 / (n - p) for every family (the quasi-likelihood dispersion of
          R's quasipoisson / quasibinomial);
        - "dev": D / (n - p), the deviance-based estimator.

        NaN when an estimated scale has no residual degrees of freedom."""
        rule = self.scale_rule
        if isinstance(rule, float):
            return rule
        if rule is None and self.family.scale_is_fixed:
            return 1.0
        if self.df_resid <= 0:
            return float("nan")
        if rule == "dev":
            return self.deviance(mu) / self.df_resid
        return self.pearson_chi2(mu) / self.df_resid

    def llf_scale(self, mu: np.ndarray) -> float:
        """The scale at which the log-likelihood is reported, as statsmodels does for
        every scale rule: the Gaussian identity-link model reports the concentrated
        (profile) likelihood, at the maximum likelihood scale sum w (y - mu)^2 / nobs,
        whatever ``scale_rule`` says; the binomial log-likelihood is that of the counts,
        which has no dispersion (statsmodels' ``Binomial.loglike_obs`` ignores the
        scale), so 1; every other model uses ``scale`` (a Poisson fit with scale="X2"
        reports sum w ln f(y; mu) / phi-hat, statsmodels' scaled quasi-likelihood)."""
        rule = self.family.llf_scale_rule
        if rule == "profile":
            return float(np.sum(self.weights * (self.y - mu) ** 2) / self.nobs)
        if rule == "none":
            return 1.0
        return self.scale(mu)

    def loglike(self, mu: np.ndarray, deviance: float | None = None) -> float:
        """Log-likelihood sum_i ln f(y_i; mu_i, phi / w_i) at ``llf_scale``.  Rows with
        zero weight carry no information and are left out; a row of frequency weight f_i
        counts f_i times, at its prior weight.  NaN when the family has no
        density implemented (Tweedie with 2 < p != 3): the fit itself needs only the
        deviance, so it must not fail for want of the likelihood.

        ``deviance`` (D at ``mu``, when the caller has it) makes this cheap for the
        families whose dispersion is known (Binomial, Poisson, NegativeBinomial): the
        deviance is twice the distance to the saturated model (mu = y), in units of phi,

            llf(mu) = llf(y) - D(y, mu) / (2 phi) ,

        so the log-densities (ln y! and the like, a gammaln per row) are summed once per
        problem, at the saturated model, and every iterate of a fit gets its llf from
        its deviance for free (``tests/test_performance_kernels.py`` checks the identity
        against the direct sum for each of these families)."""
        scale = self.llf_scale(mu)
        if not np.isfinite(scale) or scale <= 0:
            return float("nan")
        if deviance is None or not self.family.scale_is_fixed or not np.isfinite(deviance):
            return self._loglike_at(mu, scale)
        cached = self._saturated_llf
        if cached is None or cached[0] != scale:
            cached = (scale, self._loglike_at(self.y, scale))
            self._saturated_llf = cached
        if not np.isfinite(cached[1]):  # (no density, or one undefined at mu = y)
            return self._loglike_at(mu, scale)
        return cached[1] - deviance / (2.0 * scale)

    def _loglike_at(self, mu: np.ndarray, scale: float) -> float:
        """sum_i ln f(y_i; mu_i, scale / w_i) over the rows of positive weight, summed
        directly; NaN when the family has no density implemented."""
        used = self.weights > 0
        try:
            if self.freq_weights is not None:  # f_i identical rows, each of prior w_i
                return float(np.sum(self.freq_weights[used] * self.family.loglike_obs(
                    self.y[used], np.asarray(mu)[used], scale, self.prior_weights[used])))
            if used.all():
                return float(np.sum(self.family.loglike_obs(self.y, mu, scale, self.weights)))
            return float(np.sum(self.family.loglike_obs(
                self.y[used], np.asarray(mu)[used], scale, self.weights[used])))
        except NotImplementedError:
            return float("nan")
