r"""Inference and residuals of a fitted GLM: ``GLMResults``.

Conventions follow statsmodels' GLM (so that what a learner sees here matches what
they will see there), and R where statsmodels has a known quirk:

- Covariance: phi-hat (X' W X)^{-1}, W the Fisher weights at the estimate (the inverse
  of the information matrix 13.14); ``cov_type="HC0"``/``"HC1"`` gives the sandwich
  (robust, "empirical") estimator of section 13.9.3, HC1 with the factor n / (n - p).
- Tests use the normal distribution (z statistics), as statsmodels does for GLMs.
- scale: 1 for Binomial, Poisson and NegativeBinomial, else Pearson X^2 / (n - p).
- llf: at that scale, except Gaussian with identity link, which reports the
  concentrated log-likelihood (scale = sum w (y - mu)^2 / n).
- aic = -2 llf + 2 p, bic = -2 llf + p ln n, with p the number of coefficients (the
  scale is not counted; R counts it for Gaussian, Gamma and inverse Gaussian, and R's
  Gamma AIC uses the dispersion deviance / n).
- Residuals are on the scale of y (proportions for the binomial).  Working residuals
  are (y - mu) g'(mu) as in R; statsmodels multiplies binomial working residuals by the
  number of trials squared (statsmodels issue: resid_working uses n_trials twice).
"""

from __future__ import annotations

import numbers
import warnings
from functools import cached_property

import numpy as np
from scipy import linalg, special

from glmteach.irls import IterationState
from glmteach.problem import GLMProblem, _holds_text, _is_pandas, _to_float_array

__all__ = ["GLMResults", "Summary"]

COV_TYPES = ("nonrobust", "HC0", "HC1")


def _check_alpha(alpha) -> float:
    """alpha for intervals: a real number strictly between 0 and 1 (text such as '0.05'
    is refused rather than compared with numbers)."""
    if isinstance(alpha, bool | np.bool_) or not isinstance(alpha, numbers.Real) \
            or not 0 < alpha < 1:
        raise ValueError(f"alpha: must be between 0 and 1, got {alpha!r} (a number "
                         f"strictly between them, e.g. 0.05)")
    return float(alpha)


def _normal_quantile(alpha: float) -> float:
    """z_{1 - alpha/2} = -ndtri(alpha / 2): finite even for alpha = 1e-20, where
    1 - alpha/2 rounds to 1 and ndtri(1) = inf."""
    return float(-special.ndtri(alpha / 2.0))


def _new_vector(value, name: str, rows: int, index=None) -> np.ndarray:
    """An offset or exposure for ``predict``: a number or one finite value per new row.
    A pandas Series is paired with the new rows by label: its index must equal theirs."""
    if _is_pandas(value) and index is not None and not value.index.equals(index):
        raise ValueError(f"{name}: its index (row labels) differs from X_new's, so values "
                         f"would be paired by position with other rows; align it first "
                         f"({name}.reindex(X_new.index)) or pass a plain array")
    if _holds_text(value):
        raise ValueError(f"{name}: must be numeric, got text")
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: must be numeric (one number per row of X_new), got "
                         f"{value!r:.60}") from exc
    if arr.ndim == 0:
        arr = np.full(rows, float(arr))
    arr = arr.reshape(-1) if arr.ndim == 2 and 1 in arr.shape else arr
    if arr.shape != (rows,):
        raise ValueError(f"{name}: must have one value per row of X_new ({rows} rows), got "
                         f"shape {np.shape(value)}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: must not contain NaN or infinite values")
    return arr


def _column(data, name: str, what: str):
    if name not in data.columns:
        raise ValueError(f"{what}: {name!r} is not a column of X_new")
    return data[name]


def _cell(value: float, width: int, decimals: int) -> str:
    """A right-aligned table cell that always keeps a blank before it: fixed-point when
    it fits, otherwise scientific (huge standard errors of separated fits must not run
    into the next column)."""
    text = f"{value:.{decimals}f}"
    if len(text) > width - 1:
        text = f"{value:.{max(decimals - 2, 1)}e}"
    return f"{text:>{width}}" if len(text) < width else f" {text}"


class Summary(str):
    """A plain-text table that displays itself without quotes in notebooks."""

    def __repr__(self) -> str:
        return str(self)


class GLMResults:
    """The result of ``gt.fit``: the problem, the iteration history and inference."""

    def __init__(self, problem: GLMProblem, history: list[IterationState], converged: bool,
                 method: str = "irls", cov_type: str = "nonrobust"):
        if cov_type not in COV_TYPES:
            raise ValueError(f"cov_type: must be one of {COV_TYPES}, got {cov_type!r}")
        self.problem = problem
        self.history = history
        self.converged = bool(converged)
        self.method = method
        self.cov_type = cov_type
        self.family = problem.family
        self.model_spec = None  # set by gt.glm: turns new data into a design matrix
        final = history[-1]
        self._final = final
        self.n_iter = final.iteration
        self.nobs = problem.nobs  # rows with positive weight
        self.df_model = problem.p - 1
        self.df_resid = problem.df_resid
        self.deviance = final.deviance
        self.llf = final.llf
        self.scale = problem.scale(final.mu)
        self.pearson_chi2 = problem.pearson_chi2(final.mu)
        self.aic = -2.0 * self.llf + 2.0 * problem.p
        self.bic = -2.0 * self.llf + problem.p * np.log(problem.nobs)

    # -- labelling --------------------------------------------------------------------
    def _by_param(self, values):
        if self.problem.labelled:
            import pandas as pd

            return pd.Series(values, index=self.problem.param_names)
        return values

    def _by_row(self, values):
        if self.problem.row_index is not None:
            import pandas as pd

            return pd.Series(values, index=self.problem.row_index)
        return values

    # -- coefficients -------------------------------------------------------------------
    @property
    def params(self):
        return self._by_param(self._final.params.copy())

    @cached_property
    def normalized_cov_params(self) -> np.ndarray:
        """(X' W X)^{-1}: the inverse information matrix for phi = 1."""
        info = self.problem.weighted_normal_equations(self._final.w)
        try:
            factor = linalg.cho_factor(info, check_finite=False)
            return linalg.cho_solve(factor, np.eye(self.problem.p), check_finite=False)
        except linalg.LinAlgError:
            return np.linalg.pinv(info)

    def _cov(self, cov_type: str) -> np.ndarray:
        if cov_type not in COV_TYPES:
            raise ValueError(f"cov_type: must be one of {COV_TYPES}, got {cov_type!r}")
        bread = self.normalized_cov_params
        if cov_type == "nonrobust":
            return self.scale * bread
        final, problem = self._final, self.problem
        # score of observation i with respect to eta_i: w_i (y_i - mu_i) / (v(mu_i) g'(mu_i))
        score = final.w * (final.z - final.eta + problem.offset)
        cov = bread @ problem.weighted_normal_equations(score**2) @ bread
        if cov_type == "HC1":  # n / (n - p); undefined (NaN) when n = p
            df = problem.df_resid
            cov *= problem.nobs / df if df > 0 else float("nan")
        return cov

    def cov_params(self, cov_type: str | None = None):
        """Covariance matrix of the estimates (``cov_type`` defaults to the fit's)."""
        cov = self._cov(cov_type or self.cov_type)
        if self.problem.labelled:
            import pandas as pd

            names = self.problem.param_names
            return pd.DataFrame(cov, index=names, columns=names)
        return cov

    @cached_property
    def _bse(self) -> np.ndarray:
        return np.sqrt(np.diag(self._cov(self.cov_type)))

    @property
    def bse(self):
        return self._by_param(self._bse.copy())

    @property
    def tvalues(self):
        with np.errstate(divide="ignore", invalid="ignore"):  # bse = 0: an exact fit
            return self._by_param(self._final.params / self._bse)

    @property
    def pvalues(self):
        """Two-sided p-values from the normal distribution: 2 P(Z > |z|)."""
        with np.errstate(divide="ignore", invalid="ignore"):  # bse = 0: an exact fit
            z = self._final.params / self._bse
        return self._by_param(2.0 * special.ndtr(-np.abs(z)))

    def conf_int(self, alpha: float = 0.05):
        """Wald intervals beta-hat +/- z_{1 - alpha/2} se, one row per coefficient."""
        alpha = _check_alpha(alpha)
        half = _normal_quantile(alpha) * self._bse
        bounds = np.column_stack([self._final.params - half, self._final.params + half])
        if self.problem.labelled:
            import pandas as pd

            return pd.DataFrame(bounds, index=self.problem.param_names, columns=[0, 1])
        return bounds

    # -- fit statistics -------------------------------------------------------------------
    @cached_property
    def null_deviance(self) -> float:
        """Deviance of the intercept-only model (with the same offset, if any)."""
        problem = self.problem
        if not np.any(problem.offset):
            mu_null = np.average(problem.y, weights=problem.weights)
            return problem.family.deviance(problem.y, np.full(problem.n, mu_null),
                                           problem.weights)
        from glmteach.irls import fit_problem

        null_problem = GLMProblem(np.ones((problem.n, 1)), problem.y, problem.family,
                                  weights=problem.weights, offset=problem.offset)
        return fit_problem(null_problem, tol=1e-12, keep_vectors=False).deviance

    # -- fitted values and prediction --------------------------------------------------------
    @property
    def fittedvalues(self):
        return self._by_row(self._final.mu.copy())

    @property
    def linear_predictor(self):
        """eta = X beta + offset (including ln(exposure))."""
        return self._by_row(self._final.eta.copy())

    def predict(self, X_new=None, offset=None, exposure=None, linear: bool = False):
        """Predicted means g^{-1}(X_new beta + offset + ln exposure) (or eta if ``linear``).

        Without ``X_new`` this returns the fitted values.  For a formula model, X_new may
        be a DataFrame of raw variables; it is turned into a design matrix by the formula.
        """
        if X_new is None:
            return self.linear_predictor if linear else self.fittedvalues
        X, eta, index = self._new_rows(X_new, offset, exposure, stacklevel=3)
        values = eta if linear else self.family.link.inverse(eta)
        if index is not None and len(index) == len(values):
            import pandas as pd

            return pd.Series(values, index=index)
        return values

    def _new_rows(self, X_new, offset=None, exposure=None, stacklevel: int = 2):
        """The design matrix of new rows, their linear predictor X_new beta + offset +
        ln(exposure), and their row labels (or None): what ``predict`` and
        ``get_prediction`` accept, checked the same way."""
        index = X_new.index if _is_pandas(X_new) else None
        raw = X_new
        if self.model_spec is not None and hasattr(X_new, "columns"):
            # column names of the raw data may name an offset or exposure, as in gt.glm
            if isinstance(offset, str):
                offset = _column(raw, offset, "offset")
            if isinstance(exposure, str):
                exposure = _column(raw, exposure, "exposure")
            X_new = self.model_spec(X_new)
        elif hasattr(X_new, "columns") and self.problem.labelled:
            X_new = self._by_column_names(X_new)
        if isinstance(X_new, (list, tuple)) and X_new and not isinstance(
                X_new[0], (list, tuple, np.ndarray)):
            X_new = [X_new]  # one new row given as a flat list
        X = _to_float_array(X_new, "X_new")
        if X.ndim == 1:
            X = X[None, :] if X.shape[0] == self.problem.p else X[:, None]
        if X.ndim != 2 or X.shape[1] != self.problem.p:
            raise ValueError(
                f"X_new: must have {self.problem.p} columns (the model's coefficients), got "
                f"shape {X.shape}"
            )
        if not np.all(np.isfinite(X)):
            bad = int(np.count_nonzero(~np.isfinite(X).all(axis=1)))
            raise ValueError(f"X_new: must not contain NaN or infinite values (found in {bad} "
                             f"of {X.shape[0]} rows)")
        eta = X @ self._final.params
        if offset is not None:
            eta = eta + _new_vector(offset, "offset", X.shape[0], index)
        if exposure is None and self.problem.exposure is not None:
            warnings.warn(
                "predict: the model was fitted with an exposure but none is given for the "
                "new rows, so exposure 1 is assumed (the predictions are rates per unit of "
                "exposure); pass exposure= to predict totals", UserWarning, stacklevel=stacklevel)
        if exposure is not None:
            from glmteach.links import Log

            if not isinstance(self.family.link, Log):
                raise ValueError(f"exposure: enters as ln(exposure), a multiplicative effect "
                                 f"only with the log link; this model uses "
                                 f"{self.family.link!r} (pass an offset instead)")
            exposure = _new_vector(exposure, "exposure", X.shape[0], index)
            if np.any(exposure <= 0):
                k = int(np.count_nonzero(exposure <= 0))
                raise ValueError(f"exposure: must be positive; {k} value"
                                 f"{' is' if k == 1 else 's are'} not")
            eta = eta + np.log(exposure)
        return X, eta, index

    def _by_column_names(self, frame):
        """A DataFrame X_new with the model's column names, reordered to the model's
        order (pairing by label, not by position); refused when names differ."""
        names = [str(c) for c in frame.columns]
        wanted = self.problem.param_names
        if sorted(names) != sorted(wanted):
            missing = [c for c in wanted if c not in names]
            extra = [c for c in names if c not in wanted]
            raise ValueError(
                f"X_new: its columns must be the model's ({', '.join(wanted)}); missing: "
                f"{', '.join(missing) or 'none'}, unknown: {', '.join(extra) or 'none'} "
                f"(pass a plain array to pair columns by position)")
        position = {name: k for k, name in enumerate(names)}
        return frame.iloc[:, [position[c] for c in wanted]]

    # -- influence and prediction with uncertainty (glmteach.influence, glmteach.prediction) --
    def get_influence(self):
        """Leverages, studentized residuals and Cook's distances: a ``GLMInfluence``
        (statsmodels' ``GLMResults.get_influence(observed=False)``; R's hatvalues,
        rstandard, cooks.distance)."""
        from glmteach.influence import GLMInfluence

        return GLMInfluence(self)

    def get_prediction(self, X_new=None, offset=None, exposure=None, linear: bool = False):
        """Predicted means with standard errors and intervals: a ``PredictionResults``
        (statsmodels' ``get_prediction``; R's ``predict(fit, se.fit = TRUE)``).  Accepts
        what ``predict`` accepts; ``linear=True`` gives the link scale."""
        from glmteach.prediction import PredictionResults

        return PredictionResults.from_results(self, X_new, offset=offset, exposure=exposure,
                                              linear=linear)

    # -- residuals ---------------------------------------------------------------------------
    @property
    def resid_response(self):
        """y - mu."""
        return self._by_row(self.problem.y - self._final.mu)

    @property
    def resid_pearson(self):
        """(y - mu) sqrt(w / v(mu)); their squares add up to ``pearson_chi2``."""
        p, mu = self.problem, self._final.mu
        resid = p.y - mu
        # (y - mu) / sqrt(v) rather than (y - mu) sqrt(1 / v): a mean of 1e-320 next to
        # y = 0 must give -1e-160, not -inf.  0 where y = mu with v(mu) = 0 (separation),
        # and where y = 0 and v(mu) underflows to 0: -mu / sqrt(v(mu)) -> 0 as mu -> 0 for
        # every family whose support contains 0 (v ~ mu^p with p < 2).
        var = p.family.variance(mu)
        with np.errstate(divide="ignore"):
            standardised = np.divide(resid, np.sqrt(var), out=np.zeros_like(resid),
                                     where=(resid != 0) & ((var > 0) | (p.y != 0)))
        return self._by_row(standardised * np.sqrt(p.weights))

    @property
    def resid_deviance(self):
        """sign(y - mu) sqrt(w d(y, mu)); their squares add up to ``deviance``."""
        p, mu = self.problem, self._final.mu
        unit = np.maximum(p.family.unit_deviance(p.y, mu), 0.0)
        return self._by_row(np.sign(p.y - mu) * np.sqrt(p.weights * unit))

    @property
    def resid_working(self):
        """(y - mu) g'(mu) = z - (eta - offset): the residual of the last WLS regression."""
        final = self._final
        return self._by_row(final.z - final.eta + self.problem.offset)

    @property
    def resid_anscombe(self):
        """sqrt(w / phi) (A(y) - A(mu)) / v(mu)^{1/6}, A the family's Anscombe transform
        (divided by sqrt(scale) as in statsmodels >= 0.15)."""
        p, mu = self.problem, self._final.mu
        fam = p.family
        diff = fam.anscombe_transform(p.y) - fam.anscombe_transform(mu)
        var = fam.variance(mu)
        # 0 where v(mu) = 0 and y = mu or y = 0, as for the Pearson residuals
        with np.errstate(divide="ignore"):
            ratio = np.divide(diff, var ** (1 / 6), out=np.zeros_like(diff),
                              where=(diff != 0) & ((var > 0) | (p.y != 0)))
            # divided by sqrt(scale) last (a scale of 1e-312 must not overflow 1/scale);
            # an exact fit (scale 0) has only zero residuals: 0, not 0/0
            scaled = np.divide(ratio * np.sqrt(p.weights), np.sqrt(self.scale),
                               out=np.zeros_like(ratio), where=ratio != 0)
        return self._by_row(scaled)

    # -- display -----------------------------------------------------------------------------
    def summary(self, alpha: float = 0.05) -> Summary:
        """A coefficient table and fit statistics, laid out like statsmodels and R."""
        alpha = _check_alpha(alpha)
        names = self.problem.param_names
        params = self._final.params
        ci = np.asarray(self.conf_int(alpha))
        with np.errstate(divide="ignore", invalid="ignore"):  # bse = 0: an exact fit
            z = params / self._bse
        pv = 2.0 * special.ndtr(-np.abs(z))
        width = max(12, *(len(n) for n in names)) + 2
        lo, hi = f"[{alpha / 2:.3f}", f"{1 - alpha / 2:.3f}]"
        header = (f"{'':<{width}}{'coef':>11}{'std err':>11}{'z':>9}{'P>|z|':>9}"
                  f"{lo:>11}{hi:>11}")
        rows = [
            f"{n:<{width}}{_cell(b, 11, 4)}{_cell(s, 11, 4)}{_cell(t, 9, 3)}{_cell(q, 9, 3)}"
            f"{_cell(a, 11, 4)}{_cell(c, 11, 4)}"
            for n, b, s, t, q, (a, c) in zip(names, params, self._bse, z, pv, ci, strict=True)
        ]
        rule = "=" * len(header)
        left = [
            ("Family:", self.family.name),
            ("Link:", type(self.family.link).__name__),
            ("Method:", f"{self.method.upper()}, {self.cov_type}"),
            ("Iterations:", f"{self.n_iter} ({'' if self.converged else 'NOT '}converged)"),
            ("No. observations:", f"{self.nobs}"),
            ("Df residuals:", f"{self.df_resid}"),
        ]
        right = [
            ("Scale:", f"{self.scale:.6g}"),
            ("Deviance:", f"{self.deviance:.6g}"),
            ("Pearson chi2:", f"{self.pearson_chi2:.6g}"),
            ("Log-likelihood:", f"{self.llf:.6g}"),
            ("AIC:", f"{self.aic:.6g}"),
            ("BIC:", f"{self.bic:.6g}"),
        ]
        half = len(header) // 2
        info = [
            f"{a:<18}{b:>{half - 20}}  {c:<16}{d:>{len(header) - half - 18}}"
            for (a, b), (c, d) in zip(left, right, strict=True)
        ]
        dep = self.problem.response_name or "y"
        title = f"Generalized Linear Model: {dep}".center(len(header))
        return Summary("\n".join([title, rule, *info, rule, header, "-" * len(header),
                                  *rows, rule]))

    def __repr__(self) -> str:
        return (f"<GLMResults {self.family!r}: {self.nobs} observations, {self.problem.p} "
                f"coefficients, deviance {self.deviance:.6g}, "
                f"{'converged' if self.converged else 'not converged'} in {self.n_iter} "
                f"iterations>")
