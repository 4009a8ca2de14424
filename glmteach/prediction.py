r"""Predictions with standard errors and confidence intervals: ``res.get_prediction()``.

For new rows x_0 (with an offset o_0, ln(exposure) included) the linear predictor
eta_0 = x_0' beta-hat + o_0 has the delta-method variance x_0' V x_0, V = ``cov_params()``
(model-based or robust, as the fit), so

    se(eta_0) = sqrt(x_0' V x_0),        se(mu_0) = |d mu / d eta| se(eta_0)

(R's ``predict(fit, newdata, se.fit = TRUE)``, on the link scale with ``type = "link"`` and
on the response scale with ``type = "response"``).  The interval for the mean is formed on
the link scale, where the normal approximation is better, and mapped back through the
inverse link:

    [g^{-1}(eta_0 - q se(eta_0)),  g^{-1}(eta_0 + q se(eta_0))],

q the normal quantile z_{1 - alpha/2}, or with ``use_t=True`` the t quantile on the fit's
``df_resid_inference`` degrees of freedom (df_resid; G - 1 with cluster-robust covariance,
the same q as the fit's ``conf_int``, so that x_0 = e_j reproduces coefficient j's
interval; statsmodels 0.15 uses df_resid here even with clusters).  This is what
statsmodels' ``GLMResults.get_prediction`` does by default (``which="mean"``); its
``which="linear"`` is ``linear=True`` here.  The interval stays inside the mean space (a
probability interval inside [0, 1]), unlike mu-hat +/- q se(mu-hat).  For a decreasing
inverse link (e.g. the inverse link) the mapped end points are put in increasing order.
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats

__all__ = ["PredictionResults"]


def _check_alpha(alpha) -> float:
    import numbers

    if isinstance(alpha, bool | np.bool_) or not isinstance(alpha, numbers.Real) \
            or not 0 < alpha < 1:
        raise ValueError(f"alpha: must be between 0 and 1, got {alpha!r} (a number "
                         f"strictly between them, e.g. 0.05)")
    return float(alpha)


class PredictionResults:
    """Predicted means (or linear predictors) of some rows with their standard errors.

    Attributes: ``predicted_mean`` (mu-hat, or eta-hat when ``linear``), ``se_mean``,
    ``linpred`` and ``se_linpred`` (always on the link scale), ``linear``, ``row_labels``.
    """

    def __init__(self, eta: np.ndarray, se_eta: np.ndarray, link, linear: bool = False,
                 df: float | None = None, row_labels=None):
        self.linpred = np.asarray(eta, dtype=float)
        self.se_linpred = np.asarray(se_eta, dtype=float)
        self.link = link
        self.linear = bool(linear)
        self.df = df  # degrees of freedom of the t quantile, None for the normal one
        self.row_labels = row_labels
        if self.linear:
            self.predicted_mean = self.linpred.copy()
            self.se_mean = self.se_linpred.copy()
        else:
            self.predicted_mean = link.inverse(self.linpred)
            self.se_mean = np.abs(link.inverse_deriv(self.linpred)) * self.se_linpred

    @classmethod
    def from_results(cls, results, X_new=None, offset=None, exposure=None,
                     linear: bool = False) -> PredictionResults:
        """Build from a ``GLMResults``; X_new, offset and exposure as in ``predict``
        (without X_new: the rows of the fit, with their offset and exposure)."""
        if not isinstance(linear, bool | np.bool_):
            raise ValueError(f"linear: must be True or False, got {linear!r}")
        if X_new is None:
            if offset is not None or exposure is not None:
                raise ValueError("offset: without X_new the fit's own offset and exposure "
                                 "are used; pass X_new to predict with another offset or "
                                 "exposure")
            X = results.problem.X
            eta = np.asarray(results._final.eta, dtype=float)
            index = results.problem.row_index
        else:
            X, eta, index = results._new_rows(X_new, offset, exposure, stacklevel=4)
        cov = np.asarray(results.cov_params(), dtype=float)
        se = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", X, cov, X), 0.0))
        # t on the fit's degrees of freedom when it uses t (df_resid, G - 1 with clusters)
        df = getattr(results, "df_resid_inference", None)
        df = None if df is None else float(df)
        labels = index if index is not None and len(index) == len(eta) else None
        return cls(eta, se, results.family.link, linear=bool(linear), df=df,
                   row_labels=labels)

    def _quantile(self, alpha: float) -> float:
        if self.df is None:
            return float(-special.ndtri(alpha / 2.0))
        return float(stats.t.isf(alpha / 2.0, self.df))

    def conf_int(self, alpha: float = 0.05) -> np.ndarray:
        """An (n, 2) array of lower and upper limits: eta-hat +/- q se on the link scale,
        mapped back by the inverse link unless ``linear``."""
        alpha = _check_alpha(alpha)
        half = self._quantile(alpha) * self.se_linpred
        lower, upper = self.linpred - half, self.linpred + half
        if not self.linear:
            lower, upper = self.link.inverse(lower), self.link.inverse(upper)
            lower, upper = np.minimum(lower, upper), np.maximum(lower, upper)
        return np.column_stack([lower, upper])

    def summary_frame(self, alpha: float = 0.05):
        """A DataFrame with statsmodels' columns: ``mean``, ``mean_se``, ``mean_ci_lower``,
        ``mean_ci_upper`` (with ``linear=True``: statsmodels' ``which="linear"`` names
        ``predicted``, ``se``, ``ci_lower``, ``ci_upper``)."""
        import pandas as pd

        ci = self.conf_int(alpha)
        names = (["predicted", "se", "ci_lower", "ci_upper"] if self.linear
                 else ["mean", "mean_se", "mean_ci_lower", "mean_ci_upper"])
        columns = [self.predicted_mean, self.se_mean, ci[:, 0], ci[:, 1]]
        return pd.DataFrame(dict(zip(names, columns, strict=True)), index=self.row_labels)

    def __repr__(self) -> str:
        scale = "link" if self.linear else "response"
        return f"<PredictionResults: {len(self.linpred)} rows, {scale} scale>"
