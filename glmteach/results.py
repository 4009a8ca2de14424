r"""Inference and residuals of a fitted GLM: ``GLMResults``.

Conventions follow statsmodels' GLM (so that what a learner sees here matches what
they will see there), and R where statsmodels has a known quirk:

- Covariance: phi-hat (X' W X)^{-1}, W the Fisher weights at the estimate (the inverse
  of the information matrix 13.14); ``cov_type="HC0"``/``"HC1"`` gives the sandwich
  (robust, "empirical") estimator of section 13.9.3, HC1 with the factor n / (n - p);
  ``cov_type="cluster"`` the cluster-robust sandwich (see ``GLMResults.cov_params``).
- Tests use the normal distribution (z statistics), as statsmodels does for GLMs;
  ``use_t=True`` gives Student t on df_resid degrees of freedom, as R's summary.glm for
  families with an estimated dispersion.
- scale: 1 for Binomial, Poisson and NegativeBinomial, else Pearson X^2 / (n - p)
  (``scale=`` of ``gt.fit`` chooses another rule, as statsmodels' ``fit(scale=)``).
- Frequency weights: every result is that of the data with each row repeated f_i times;
  ``nobs`` counts the repeated rows (statsmodels counts the rows as given).
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

from glmteach.irls import IterationState, fisher_normal_equations, iterate
from glmteach.problem import (
    GLMProblem,
    is_pandas,
    log_exposure,
    row_vector,
    to_float_array,
)

__all__ = ["GLMResults", "Summary"]

COV_TYPES = ("nonrobust", "HC0", "HC1", "cluster")


def _group_codes(groups, problem: GLMProblem) -> np.ndarray:
    """Integer codes 0..G-1 of the cluster labels (any hashable values), one per row."""
    import pandas as pd

    if is_pandas(groups) and problem.row_index is not None \
            and len(groups) == len(problem.row_index) \
            and not groups.index.equals(problem.row_index):
        raise ValueError("groups: its index (row labels) differs from X's, so rows would "
                         "be paired by position with other observations; align it first "
                         "or pass a plain array")
    values = np.asarray(groups)
    if values.ndim == 2 and 1 in values.shape:
        values = values.reshape(-1)
    if values.ndim != 1 or values.shape[0] != problem.n:
        raise ValueError(f"groups: must have one group label per row of X ({problem.n} "
                         f"rows), got shape {np.shape(groups)}")
    missing = np.asarray(pd.isna(values), dtype=bool)
    if missing.any():
        raise ValueError(f"groups: must not contain missing values (NaN/None); "
                         f"{int(missing.sum())} row{'s are' if missing.sum() > 1 else ' is'} "
                         f"missing (first at row {int(np.flatnonzero(missing)[0])}); "
                         f"give them a group of their own or drop them")
    codes, _ = pd.factorize(values)
    return codes.astype(np.intp)


def check_cov_type(cov_type) -> str:
    """The one check of a ``cov_type`` (for a fit and for ``cov_params``)."""
    if not isinstance(cov_type, str) or cov_type not in COV_TYPES:
        raise ValueError(f"cov_type: must be 'nonrobust', 'HC0', 'HC1' or 'cluster', "
                         f"got {cov_type!r}")
    return cov_type


def check_inference_options(problem: GLMProblem, cov_type: str, cov_kwds, use_t) -> None:
    """Validate ``cov_type``, ``cov_kwds`` and ``use_t`` before a fit starts."""
    check_cov_type(cov_type)
    if not isinstance(use_t, bool | np.bool_):
        raise ValueError(f"use_t: must be True or False, got {use_t!r}")
    if cov_type == "cluster":
        if not isinstance(cov_kwds, dict) or "groups" not in cov_kwds:
            raise ValueError("cov_kwds: cov_type='cluster' needs cov_kwds={'groups': g}, "
                             "g one group label per row of X")
        unknown = sorted(set(cov_kwds) - {"groups"})
        if unknown:
            raise ValueError(f"cov_kwds: unknown key(s) {unknown}; only 'groups' is used "
                             f"(statsmodels' default small-sample correction is applied)")
        codes = _group_codes(cov_kwds["groups"], problem)
        if np.unique(codes[problem.weights > 0]).size < 2:
            raise ValueError("groups: cluster-robust covariance needs at least 2 groups "
                             "among the rows of positive weight (it divides by G - 1)")
    elif cov_kwds:
        raise ValueError(f"cov_kwds: only used with cov_type='cluster' (got cov_type="
                         f"{cov_type!r} and cov_kwds with keys {sorted(cov_kwds)})")


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


def _check_new_index(value, name: str, index) -> None:
    """A pandas Series is paired with the new rows by label: its index must equal theirs."""
    if is_pandas(value) and index is not None and not value.index.equals(index):
        raise ValueError(f"{name}: its index (row labels) differs from X_new's, so values "
                         f"would be paired by position with other rows; align it first "
                         f"({name}.reindex(X_new.index)) or pass a plain array")


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
    """The result of ``gt.fit``: the problem, the iteration history and inference.

    Inference options of the fit (statsmodels' names): ``use_t`` (t rather than z
    tests, on ``df_resid_inference`` degrees of freedom), ``cov_type`` and ``cov_kwds``
    (``{"groups": g}`` for "cluster"); the scale rule is ``problem.scale_rule`` and the
    frequency weights ``problem.freq_weights`` (None when not given).
    """

    def __init__(self, problem: GLMProblem, history: list[IterationState], converged: bool,
                 method: str = "irls", cov_type: str = "nonrobust", use_t: bool = False,
                 cov_kwds: dict | None = None):
        check_inference_options(problem, cov_type, cov_kwds, use_t)
        self.use_t = bool(use_t)
        self.cov_kwds = dict(cov_kwds) if cov_kwds else {}
        self._groups = None if cov_type != "cluster" else \
            _group_codes(self.cov_kwds["groups"], problem)
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
        self.scale = problem.scale(final.mu)

    # -- the likelihood and the fit statistics that need a pass over the rows: computed
    # on first use (as statsmodels does), so that a fit pays only for what is asked ------
    @cached_property
    def llf(self) -> float:
        """The log-likelihood at the estimate (at ``problem.llf_scale``): the final
        state's, or for a large problem (whose states leave it None) computed now."""
        final = self._final
        return final.llf if final.llf is not None else self.problem.loglike(final.mu,
                                                                             final.deviance)

    @cached_property
    def pearson_chi2(self) -> float:
        """Pearson's X^2 = sum_i w_i (y_i - mu_i)^2 / v(mu_i) at the estimate."""
        return self.problem.pearson_chi2(self._final.mu)

    @cached_property
    def aic(self) -> float:
        """-2 llf + 2 p."""
        return -2.0 * self.llf + 2.0 * self.problem.p

    @cached_property
    def bic(self) -> float:
        """-2 llf + p ln(nobs)."""
        return -2.0 * self.llf + self.problem.p * np.log(self.problem.nobs)

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
        """(X' W X)^{-1}: the inverse information matrix for phi = 1, W the Fisher working
        weights at the final coefficients (formed once: the fit's convergence rule has
        usually formed this X'WX already, see ``irls.fisher_normal_equations``)."""
        info = fisher_normal_equations(self._final, self.problem)[0]
        try:
            factor = linalg.cho_factor(info, check_finite=False)
            return linalg.cho_solve(factor, np.eye(self.problem.p), check_finite=False)
        except linalg.LinAlgError:
            return np.linalg.pinv(info)

    def _cov(self, cov_type: str) -> np.ndarray:
        check_cov_type(cov_type)
        bread = self.normalized_cov_params
        if cov_type == "nonrobust":
            return self.scale * bread
        final, problem = self._final, self.problem
        # score of row i with respect to eta_i: w_i (y_i - mu_i) / (v(mu_i) g'(mu_i)),
        # with w_i = f_i w_i^prior: the score of f_i identical rows together
        score = final.w * (final.z - final.eta + problem.offset)
        n_obs, df = problem.nobs, problem.df_resid
        if cov_type == "cluster":
            if self._groups is None:
                raise ValueError("cov_type: 'cluster' needs the groups, given to the fit "
                                 "(gt.fit(..., cov_type='cluster', cov_kwds={'groups': g}))")
            from scipy import sparse

            codes = self._groups
            used = problem.weights > 0
            n_groups = np.unique(codes[used]).size
            rows = np.arange(problem.n)
            summing = sparse.csr_matrix((score, (codes, rows)),
                                        shape=(int(codes.max()) + 1, problem.n))
            group_scores = np.asarray(summing @ problem.X)  # u_g = sum_{i in g} s_i x_i
            cov = bread @ (group_scores.T @ group_scores) @ bread
            correction = n_groups / (n_groups - 1) * (n_obs - 1) / df if df > 0 \
                else float("nan")
            return cov * correction
        if problem.freq_weights is not None:  # sum over the repeats: f_i s_i^2 = (f_i s_i)^2 / f_i
            square = np.divide(score**2, problem.freq_weights,
                               out=np.zeros(problem.n), where=problem.freq_weights > 0)
        else:
            square = score**2
        cov = bread @ problem.weighted_normal_equations(square) @ bread
        if cov_type == "HC1":  # n / (n - p); undefined (NaN) when n = p
            cov *= n_obs / df if df > 0 else float("nan")
        return cov

    def cov_params(self, cov_type: str | None = None):
        r"""Covariance matrix of the estimates (``cov_type`` defaults to the fit's).

        With B = (X' W X)^{-1}, s_i the score of row i with respect to its linear
        predictor and n, p, G the numbers of (repeated) observations, coefficients and
        groups:

        - "nonrobust": phi-hat B, the inverse information (13.14);
        - "HC0": B (sum_i s_i^2 x_i x_i') B, the sandwich of section 13.9.3;
        - "HC1": HC0 times n / (n - p);
        - "cluster": B (sum_g u_g u_g') B times G / (G - 1) (n - 1) / (n - p), with
          u_g = sum_{i in g} s_i x_i the score of group g: statsmodels' default
          (``use_correction=True``) and Stata's.  The scores of a group are summed
          before they are squared, so correlation within groups is allowed.  With one
          observation per group (G = n) the meat is HC0's and the factor
          n / (n - 1) (n - 1) / (n - p) = n / (n - p) makes it exactly HC1.

        With frequency weights each row counts f_i times: in HC0/HC1 a row adds
        f_i s_i^2 x_i x_i', in a cluster its f_i copies are in the same group.
        """
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
    def df_resid_inference(self) -> int | None:
        """Degrees of freedom of the t distribution when ``use_t``: df_resid, or G - 1
        with cluster-robust covariance (statsmodels' ``df_resid_inference``); None for z."""
        if not self.use_t:
            return None
        if self.cov_type == "cluster":
            return int(np.unique(self._groups[self.problem.weights > 0]).size) - 1
        return self.df_resid

    def _two_sided(self, stat: np.ndarray) -> np.ndarray:
        df = self.df_resid_inference
        if df is None:
            return 2.0 * special.ndtr(-np.abs(stat))
        if df <= 0:
            return np.full(np.shape(stat), np.nan)
        return 2.0 * special.stdtr(df, -np.abs(stat))

    def _quantile(self, alpha: float) -> float:
        """z_{1 - alpha/2}, or t_{df, 1 - alpha/2} when ``use_t`` (from the lower tail,
        -t_{df, alpha/2}, so that tiny alpha stays finite)."""
        df = self.df_resid_inference
        if df is None:
            return _normal_quantile(alpha)
        if df <= 0:
            return float("nan")
        return float(-special.stdtrit(df, alpha / 2.0))

    @property
    def pvalues(self):
        """Two-sided p-values 2 P(Z > |z|) from the normal distribution, or
        2 P(T > |t|) from Student's t on ``df_resid_inference`` degrees of freedom when
        the fit has ``use_t=True``."""
        with np.errstate(divide="ignore", invalid="ignore"):  # bse = 0: an exact fit
            z = self._final.params / self._bse
        return self._by_param(self._two_sided(z))

    def conf_int(self, alpha: float = 0.05):
        """Wald intervals beta-hat +/- q se, one row per coefficient; q = z_{1 - alpha/2},
        or t_{df, 1 - alpha/2} with ``use_t=True``."""
        alpha = _check_alpha(alpha)
        half = self._quantile(alpha) * self._bse
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
        null_problem = GLMProblem(np.ones((problem.n, 1)), problem.y, problem.family,
                                  weights=problem.weights, offset=problem.offset)
        history, _ = iterate(null_problem, tol=1e-12, keep_vectors=False)
        return history[-1].deviance

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
        index = X_new.index if is_pandas(X_new) else None
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
        X = to_float_array(X_new, "X_new")
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
            _check_new_index(offset, "offset", index)
            eta = eta + row_vector(offset, "offset", X.shape[0], rows_of="X_new")
        if exposure is None and self.problem.exposure is not None:
            warnings.warn(
                "predict: the model was fitted with an exposure but none is given for the "
                "new rows, so exposure 1 is assumed (the predictions are rates per unit of "
                "exposure); pass exposure= to predict totals", UserWarning, stacklevel=stacklevel)
        if exposure is not None:
            _check_new_index(exposure, "exposure", index)
            eta = eta + log_exposure(exposure, self.family.link, X.shape[0], rows_of="X_new")[1]
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
        """(y - mu) sqrt(w / v(mu)); their squares add up to ``pearson_chi2`` (each
        times its frequency weight, when given: w is the prior weight, as statsmodels)."""
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
        return self._by_row(standardised * np.sqrt(p.prior_weights))

    @property
    def resid_deviance(self):
        """sign(y - mu) sqrt(w d(y, mu)); their squares add up to ``deviance`` (each
        times its frequency weight, when given: w is the prior weight, as statsmodels)."""
        p, mu = self.problem, self._final.mu
        unit = np.maximum(p.family.unit_deviance(p.y, mu), 0.0)
        return self._by_row(np.sign(p.y - mu) * np.sqrt(p.prior_weights * unit))

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
            scaled = np.divide(ratio * np.sqrt(p.prior_weights), np.sqrt(self.scale),
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
        pv = self._two_sided(z)
        width = max(12, *(len(n) for n in names)) + 2
        lo, hi = f"[{alpha / 2:.3f}", f"{1 - alpha / 2:.3f}]"
        stat = "t" if self.use_t else "z"
        header = (f"{'':<{width}}{'coef':>11}{'std err':>11}{stat:>9}{f'P>|{stat}|':>9}"
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
            ("Method:", self.method.upper()),
            ("Iterations:", f"{self.n_iter} ({'' if self.converged else 'NOT '}converged)"),
            ("No. observations:", f"{self.nobs}"),
            ("Df residuals:", f"{self.df_resid}"),
            ("Covariance:", self._covariance_text()),
            ("Tests:", "z (normal)" if not self.use_t
             else f"t, df = {self.df_resid_inference}"),
        ]
        right = [
            ("Scale:", f"{self.scale:.6g}"),
            ("Scale rule:", self._scale_rule_text()),
            ("Freq. weights:", self._freq_weights_text()),
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

    def _covariance_text(self) -> str:
        if self.cov_type == "cluster":
            groups = np.unique(self._groups[self.problem.weights > 0]).size
            return f"cluster, G = {groups}"
        return self.cov_type

    def _scale_rule_text(self) -> str:
        rule = self.problem.scale_rule
        if isinstance(rule, float):
            return "fixed"
        if rule == "dev":
            return "deviance / df"
        if rule == "X2" or not self.family.scale_is_fixed:
            return "Pearson X2 / df"
        return "1 (family)"

    def _freq_weights_text(self) -> str:
        freq = self.problem.freq_weights
        if freq is None:
            return "none"
        return f"given ({int(np.count_nonzero(self.problem.weights > 0))} rows)"

    def __repr__(self) -> str:
        return (f"<GLMResults {self.family!r}: {self.nobs} observations, {self.problem.p} "
                f"coefficients, deviance {self.deviance:.6g}, "
                f"{'converged' if self.converged else 'not converged'} in {self.n_iter} "
                f"iterations>")
