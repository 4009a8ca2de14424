r"""Leverage and influence of the observations of a fitted GLM: ``res.get_influence()``.

The fit is the weighted least squares regression of the last IRLS step, so its leverages
are those of that regression (Pregibon 1981; McCullagh and Nelder 1989, section 12.7):

    h_i = w_i x_i' (X' W X)^{-1} x_i,

the diagonal of H = W^{1/2} X (X' W X)^{-1} X' W^{1/2}, with W the working (Fisher)
weights at the estimate (prior weights included).  With R the upper Cholesky factor of
X' W X (R' R = X' W X), h_i = || R^{-T} sqrt(w_i) x_i ||^2: one triangular solve per row,
O(n p^2) work and O(n p) memory, never the n x n matrix H.

From the leverages (names and definitions as statsmodels' ``GLMInfluence``; R's
``rstandard.glm`` and ``cooks.distance.glm`` give the same numbers):

- ``resid_studentized``  r_i = e_i / sqrt(phi (1 - h_i)), e_i the Pearson residual
  (statsmodels' ``resid_studentized``; R's ``rstandard(fit, type = "pearson")``);
- ``resid_studentized_deviance``  d_i / sqrt(phi (1 - h_i)), d_i the deviance residual
  (R's ``rstandard(fit)``, the default ``type = "deviance"``);
- ``cooks_distance``  D_i = r_i^2 h_i / (p (1 - h_i)) = e_i^2 h_i / (phi p (1 - h_i)^2)
  (statsmodels' ``cooks_distance[0]``; R's ``cooks.distance``).

phi is the fit's ``scale`` (R uses ``summary(fit)$dispersion``, the same Pearson
estimate).  Rows of weight 0 have leverage 0 and residuals that do not count: their
measures are NaN.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
from scipy import linalg, stats

__all__ = ["GLMInfluence"]

BLOCK_ROWS = 65536


class GLMInfluence:
    """Influence measures of the observations of a ``GLMResults`` (see the module
    docstring for the formulas).  Arrays, or pandas Series labelled by row when the fit's
    data were labelled."""

    def __init__(self, results):
        self.results = results
        problem = results.problem
        self._problem = problem
        self._W = np.asarray(results._final.w, dtype=float)
        self.k_vars = problem.p
        self.nobs = results.nobs
        self.scale = float(results.scale)

    def _by_row(self, values):
        return self.results._by_row(values)

    @cached_property
    def _hat(self) -> np.ndarray:
        problem, W = self._problem, self._W
        info = problem.weighted_normal_equations(W)
        upper = linalg.cholesky(info, lower=False, check_finite=False)
        hat = np.empty(problem.n)
        root_w = np.sqrt(np.maximum(W, 0.0))
        for start in range(0, problem.n, BLOCK_ROWS):
            block = problem.X[start:start + BLOCK_ROWS] * root_w[start:start + BLOCK_ROWS, None]
            # solve R' A = block'  (A = R^{-T} W^{1/2} X_b'), then h = column sums of A^2
            a = linalg.solve_triangular(upper, block.T, trans="T", lower=False,
                                        check_finite=False)
            hat[start:start + BLOCK_ROWS] = np.einsum("ij,ij->j", a, a)
        return hat

    @property
    def hat_matrix_diag(self):
        """h_i = w_i x_i' (X' W X)^{-1} x_i (they add up to p); 0 for rows of weight 0."""
        return self._by_row(self._hat.copy())

    def _studentize(self, resid: np.ndarray) -> np.ndarray:
        used = self._problem.weights > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            out = resid / np.sqrt(self.scale * (1.0 - self._hat))
        return np.where(used, out, np.nan)

    @cached_property
    def _rstud(self) -> np.ndarray:
        return self._studentize(np.asarray(self.results.resid_pearson, dtype=float))

    @property
    def resid_studentized(self):
        """Pearson residual / sqrt(phi (1 - h_i)) (statsmodels' ``resid_studentized``)."""
        return self._by_row(self._rstud.copy())

    @property
    def resid_studentized_deviance(self):
        """Deviance residual / sqrt(phi (1 - h_i)): R's ``rstandard(fit)``."""
        return self._by_row(self._studentize(np.asarray(self.results.resid_deviance,
                                                        dtype=float)))

    @cached_property
    def _cooks(self) -> np.ndarray:
        hat = self._hat
        with np.errstate(divide="ignore", invalid="ignore"):
            return self._rstud**2 * hat / (1.0 - hat) / self.k_vars

    @property
    def cooks_distance(self):
        """D_i = r_i^2 h_i / (p (1 - h_i)), r_i = ``resid_studentized`` (statsmodels'
        ``cooks_distance[0]``, R's ``cooks.distance``)."""
        return self._by_row(self._cooks.copy())

    @property
    def cooks_distance_pvalues(self) -> np.ndarray:
        """P(F(p, df_resid) > D_i), statsmodels' ``cooks_distance[1]`` (only a rough guide
        outside the linear Gaussian model)."""
        return stats.f.sf(self._cooks, self.k_vars, self.results.df_resid)

    @cached_property
    def _d_params(self) -> np.ndarray:
        """One-step change of the coefficients when row i is left out (statsmodels'
        ``GLMInfluence.d_params``, R's ``influence(fit)$coefficients``):
        (X'WX)^{-1} x_i sqrt(w_i) e_i / (1 - h_i), e_i the Pearson residual (Pregibon's
        one-step approximation; = sqrt(phi) r_i / sqrt(1 - h_i) in place of e_i / (1 - h_i))."""
        problem = self._problem
        bread = self.results.normalized_cov_params
        pearson = np.asarray(self.results.resid_pearson, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = np.sqrt(np.maximum(self._W, 0.0)) * pearson / (1.0 - self._hat)
        factor = np.where(self._problem.weights > 0, factor, np.nan)
        return (problem.X @ bread) * factor[:, None]

    @property
    def dfbetas(self) -> np.ndarray:
        """d_params / bse, one row per observation (statsmodels' ``dfbetas``)."""
        return self._d_params / np.asarray(self.results.bse, dtype=float)

    @property
    def d_fittedvalues_scaled(self) -> np.ndarray:
        """Change of mu_i from ``d_params``, (dmu_i/deta_i) x_i' d_params_i, divided by the
        standard error of mu-hat_i (statsmodels' ``dffits_internal`` column)."""
        problem, final = self._problem, self.results._final
        dmu = problem.link.inverse_deriv(final.eta)
        change = dmu * np.einsum("ij,ij->i", problem.X, self._d_params)
        cov = np.asarray(self.results.cov_params(), dtype=float)
        se_eta = np.sqrt(np.einsum("ij,jk,ik->i", problem.X, cov, problem.X))
        with np.errstate(divide="ignore", invalid="ignore"):
            return change / (np.abs(dmu) * se_eta)

    def summary_frame(self):
        """A DataFrame with statsmodels' columns ``dfb_<name>`` (one per coefficient),
        ``cooks_d``, ``standard_resid`` (= resid_studentized), ``hat_diag`` and
        ``dffits_internal``, plus ``standard_resid_deviance`` (R's rstandard)."""
        import pandas as pd

        names = self._problem.param_names
        index = self._problem.row_index
        frame = pd.DataFrame(self.dfbetas, columns=[f"dfb_{n}" for n in names], index=index)
        frame["cooks_d"] = self._cooks
        frame["standard_resid"] = self._rstud
        frame["hat_diag"] = self._hat
        frame["dffits_internal"] = self.d_fittedvalues_scaled
        frame["standard_resid_deviance"] = np.asarray(self.resid_studentized_deviance)
        return frame

    def __repr__(self) -> str:
        return f"<GLMInfluence of {self.nobs} observations, {self.k_vars} coefficients>"
