r"""IRLS on dask arrays: the same Fisher scoring step, as one map-reduce per iteration.

Each IRLS step needs only two things from the data (Frees 2010, section 13.9.4):

    X' W X = sum over chunks c of X_c' W_c X_c        (p x p)
    X' W z = sum over chunks c of X_c' W_c z_c        (p)

Both are sums over rows, so a fit on X split into chunks of rows is a loop on the
client around one reduction on the dask scheduler:

- on the workers, for each chunk of rows and the current coefficients beta:
  eta_c = X_c beta + offset_c, mu_c = g^{-1}(eta_c), the deviance of the chunk, the
  working response z_c and weights W_c, then X_c' W_c X_c and the chunk's score
  X_c' W_c (z_c - eta_c + offset_c) (the blocked BLAS ``syrk`` of
  ``weighted_normal_equations``) - all of it ``irls.fisher_rows``, the very function
  each part of rows of the in-memory fit calls;
- the chunks' results are added in a tree of sums on the workers;
- on the client X'Wz = (X'WX) beta + U, as in memory (``irls.xt_wz_and_score``);
- on the client: the p x p Cholesky solve, step-halving, the convergence rule and the
  history.  Only p x p + p + a few numbers per iteration travel to the client; no array
  of length n ever does.  The n-vectors of the result (fitted values, residuals) are
  lazy dask arrays, computed only when asked for.

It runs on dask's default (threaded) scheduler or on a ``dask.distributed`` cluster when
a ``Client`` is connected: ``dask.compute`` uses whichever is active.  For data that are
expensive to produce, ``X = X.persist()`` first (otherwise every iteration rebuilds the
chunks from their graph).

The convergence rule is glmteach's (see ``glmteach.irls``): stop at the first beta_k
whose estimated relative distance to the optimum, max_j |d_j| s_j / max_j |beta_kj| s_j,
is at most tol/10.  The next Fisher step d = (X'WX)^{-1} U(beta_k) comes out of the same
reduction (U = X'Wz - X'WX beta_k), and for a canonical link it is the Newton step, the
first-order distance itself - the in-memory rule exactly.  For another link Fisher scoring
converges linearly, e_{k+1} ~ r e_k, so the step d_k = (1 - r) e_k is shorter than the
distance e_k; the ratio r of successive steps estimates the contraction and d_k / (1 - r)
the distance (without the extra pass over X that the observed information would need).

Separation warns as in memory (``PerfectSeparationWarning``, from the rows the final
pass counts), but the loop does not stop early when rows drift towards an end as the
in-memory one does: a separated dask fit runs to ``maxiter`` and warns of that too.

Not available on dask arrays (each raises a ValueError that says so): frequency weights,
a binomial y given as (successes, failures) columns, ``method="newton"``,
``cov_type="cluster"``, and ``gt.glm`` on a dask DataFrame (the formula front end needs
the data in memory; build the design matrix as a dask array instead).  Influence
measures need an n x n projection and are refused.

``dask[array,distributed]`` is the optional extra ``pip install glmteach[dask]``;
``import glmteach`` never imports this module.
"""

from __future__ import annotations

import dataclasses
import warnings
from functools import cached_property

import numpy as np
from scipy import linalg

try:
    import dask
    import dask.array as da
except ImportError as exc:  # pragma: no cover - the extra is not installed
    raise ImportError("glmteach.distributed needs dask: pip install 'glmteach[dask]' "
                      "(dask[array,distributed])") from exc

from glmteach import irls
from glmteach import linalg as LA
from glmteach import links as L
from glmteach.exceptions import ConvergenceWarning, FitError, PerfectSeparationWarning
from glmteach.families import Binomial, Family, Gaussian
from glmteach.problem import ALIAS_TOLERANCE, GLMProblem, check_scale
from glmteach.results import COV_TYPES, GLMResults

__all__ = ["fit", "is_dask_array", "DaskGLMResults", "DaskGLMProblem"]

# the in-memory fit's constants, so that both fits follow the same rules
MAX_HALVINGS = irls.MAX_HALVINGS
# chunk results are added in groups of this many (a tree of sums on the workers)
FAN_IN = 8
# the contraction factor r of linearly converging Fisher scoring is capped here, so a
# distance estimate d / (1 - r) is at most 100 times the step
MAX_CONTRACTION = 0.99


def is_dask_array(value) -> bool:
    """True for a dask array (checked without importing dask in the caller)."""
    return type(value).__module__.split(".")[0] == "dask" and hasattr(value, "chunks") \
        and hasattr(value, "__dask_graph__") and hasattr(value, "ndim")


# --------------------------------------------------------------------------- shared work
# The per-chunk work calls the in-memory fit's own pure functions on arrays: each
# iteration's chunk is ``irls.fisher_rows``, the work of each part of rows of an
# in-memory Fisher step (eta, mu, deviance, z and W, X' W X and the score by blocked
# syrk); the final pass uses ``irls.working_response_and_weights`` and
# ``linalg.weighted_normal_equations`` directly.  ``GLMProblem.pearson_chi2`` and
# ``GLMResults``' residual formulas read a few attributes; ``_Rows`` and ``_ChunkView``
# present a chunk with exactly those.


class _Rows:
    """One chunk of rows, with the attributes ``GLMProblem.pearson_chi2`` and the
    residual formulas of ``GLMResults`` read (family, y, weights, prior_weights, offset)."""

    pearson_chi2 = GLMProblem.pearson_chi2

    def __init__(self, y, weights, offset, family: Family):
        self.y, self.weights, self.offset = y, weights, offset
        self.prior_weights = weights
        self.family, self.link = family, family.link


_normal_equations = LA.weighted_normal_equations
_working = irls.working_response_and_weights


def _add(*parts: dict) -> dict:
    """Sum of the chunks' results, key by key ("valid" and "finite" are and-ed)."""
    out = dict(parts[0])
    for part in parts[1:]:
        for key, value in part.items():
            if key in ("valid", "finite"):
                out[key] = out[key] and value
            elif value is not None:
                out[key] = value if out.get(key) is None else out[key] + value
    return out


def _aligned(*arrays):
    """The chunks as arrays aligned in memory (copied only when they are not).  A chunk
    that arrived over the network can sit at an odd address inside its message, and
    numpy sums unaligned data with another loop - same values, other rounding - so
    without this the fit's last digits would depend on which worker read which chunk."""
    return [None if a is None else np.require(a, dtype=float, requirements="A")
            for a in arrays]


def _defaults(y, weights, offset):
    n = y.shape[0]
    return (np.ones(n) if weights is None else weights,
            np.zeros(n) if offset is None else offset)


def _check_chunk(X, y, weights, offset, exposure, family: Family) -> dict:
    """Validation of one chunk: counts of rows breaking each rule, the sums the start
    needs, and X' W X at the prior weights (for the rank check and column scales)."""
    X, y, weights, offset, exposure = _aligned(X, y, weights, offset, exposure)
    weights, offset = _defaults(y, weights, offset)
    bad_x = ~np.isfinite(X).all(axis=1)
    out = {
        "rows": X.shape[0],
        "bad_X": int(bad_x.sum()),
        "bad_y": int((~np.isfinite(y)).sum()),
        "bad_weights": int((~np.isfinite(weights)).sum()),
        "negative_weights": int((weights < 0).sum()),
        "bad_offset": int((~np.isfinite(offset)).sum()),
        "bad_exposure": 0 if exposure is None else int((~np.isfinite(exposure)).sum()),
        "nonpositive_exposure": 0 if exposure is None else int((exposure <= 0).sum()),
        "y_rule": 0, "sum_w": 0.0, "sum_wy": 0.0, "used": 0, "zero_w": 0, "gram": None,
        "valid": True, "finite": True,
    }
    if out["bad_X"] or out["bad_y"] or out["bad_weights"] or out["negative_weights"]:
        return out
    out["y_rule"] = int(family.y_violations(y).sum())
    out["sum_w"] = float(weights.sum())
    out["sum_wy"] = float(weights @ y)
    out["used"] = int((weights > 0).sum())
    out["zero_w"] = int((weights == 0).sum())
    out["gram"] = _normal_equations(X, weights, None)
    return out


def _start_mu(family: Family, y, weights, mean_y: float):
    """``family.starting_mu`` with the weighted mean of y over *all* chunks: the
    default rule (y + mean(y)) / 2 of ``Family.starting_mu`` needs the global mean, a
    family's own row-wise rule (the binomial's) is called as it is."""
    if type(family).starting_mu is Family.starting_mu:
        return (y + mean_y) / 2.0
    return family.starting_mu(y, weights)


def _iteration_chunk(X, y, weights, offset, family: Family, beta, mean_y) -> dict:
    """The work of one chunk in one iteration: at beta (or, when beta is None, at the
    data start) the deviance, Pearson X^2, X' W X and the score terms' X' rhs of the
    chunk - ``irls.fisher_rows``, the function each part of an in-memory fit calls."""
    X, y, weights, offset = _aligned(X, y, weights, offset)
    weights, offset = _defaults(y, weights, offset)
    with np.errstate(all="ignore"):
        start = _start_mu(family, y, weights, mean_y) if beta is None else None
        work = irls.fisher_rows(X, y, weights, offset, family, beta, start)
        if work is None:
            return {"valid": False, "finite": True}
        if not np.isfinite(work.deviance):
            return {"valid": True, "finite": False}
        size = np.abs(work.mu * family.link.deriv(work.mu))  # for the rule's floor
        ok = np.isfinite(size) & (weights > 0)
        x2 = _Rows(y, weights, offset, family).pearson_chi2(work.mu)
    return {"valid": True, "finite": True, "deviance": work.deviance, "x2": x2,
            "gram": work.gram, "xt_rhs": work.xt_rhs,
            "size2": float(np.sum(weights[ok] * size[ok] ** 2)),
            "size_w": float(np.sum(weights[ok]))}


def _final_chunk(X, y, weights, offset, family: Family, beta, previous_beta,
                 llf_scale: float, cov_type: str) -> dict:
    """After the fit: the log-likelihood of the chunk at the reporting scale, for a
    sandwich covariance the meat sum_i s_i^2 x_i x_i' (s_i the score of row i), and the
    number of the chunk's rows that show separation (``irls.separation_rows``, the rows
    of ``fit``'s PerfectSeparationWarning in memory) after the last step from
    ``previous_beta`` (None: no last step)."""
    X, y, weights, offset = _aligned(X, y, weights, offset)
    weights, offset = _defaults(y, weights, offset)
    eta = X @ beta + offset
    mu = family.link.inverse(eta)
    used = weights > 0
    step = None if previous_beta is None else beta - previous_beta
    out: dict = {"llf": float("nan"), "meat": None, "edge_rows": int(np.count_nonzero(
        irls.separation_rows(X, y, weights, family, mu, step)))}
    if np.isfinite(llf_scale) and llf_scale > 0:
        try:
            out["llf"] = float(np.sum(family.loglike_obs(y[used], mu[used], llf_scale,
                                                         weights[used])))
        except NotImplementedError:
            pass
    if cov_type in ("HC0", "HC1"):
        z, w = _working(family, y, weights, offset, eta, mu)
        score = w * (z - eta + offset)
        out["meat"] = _normal_equations(X, score**2, None)
    return out


def _null_chunk(y, weights, family: Family, mean_y: float) -> dict:
    y, weights = _aligned(y, weights)
    weights, _ = _defaults(y, weights, None)
    return {"deviance": family.deviance(y, np.full(y.shape[0], mean_y), weights)}


def _ones_column(y_chunk):
    """The intercept column for the rows of a chunk of y (made where y is)."""
    return np.ones((y_chunk.shape[0], 1))


def _vector_chunk(X, y, weights, offset, *, kind: str, family: Family, beta, scale):
    """One chunk of a lazy n-vector of the result, computed by ``GLMResults``' own
    formulas on the chunk (see ``_ChunkView``)."""
    X, y, weights, offset = _aligned(X, y, weights, offset)
    weights, offset = _defaults(y, weights, offset)
    eta = X @ beta + offset
    if kind == "linear_predictor":
        return eta
    mu = family.link.inverse(eta)
    if kind == "fittedvalues":
        return mu
    z, w = _working(family, y, weights, offset, eta, mu)
    view = _ChunkView(_Rows(y, weights, offset, family), eta, mu, z, w, scale)
    return getattr(GLMResults, kind).fget(view)


class _ChunkView:
    """What ``GLMResults``' residual formulas read, for one chunk of rows."""

    def __init__(self, rows: _Rows, eta, mu, z, w, scale: float):
        self.problem = rows
        self._final = irls.IterationState(iteration=0, params=None, eta=eta, mu=mu, z=z,
                                          w=w, deviance=float("nan"), llf=None)
        self.family = rows.family
        self.scale = scale

    @staticmethod
    def _by_row(values):
        return values


# --------------------------------------------------------------------------- the data


class DaskGLMProblem:
    """The data of a dask fit, checked once by one pass over the chunks.

    Holds the (lazy) dask arrays and what the fit needs from all rows together: n, p,
    nobs (rows of positive weight), the column scales s_j, the weighted mean of y.
    Validation mirrors ``GLMProblem`` (same rules, same kind of messages), with the
    counts computed chunk by chunk on the workers.
    """

    scale_estimated = GLMProblem.scale_estimated
    scale = GLMProblem.scale  # the same scale rules, from the totals of a final pass
    labelled = False
    row_index = None
    response_name = None
    freq_weights = None

    def __init__(self, X, y, family: Family | None = None, weights=None, offset=None,
                 exposure=None, scale=None):
        family = Gaussian() if family is None else family
        if not isinstance(family, Family):
            raise ValueError(f"family: must be a glmteach family instance such as "
                             f"gt.Poisson(), got {family!r}")
        self.family, self.link = family, family.link
        self.scale_rule = check_scale(scale)
        if not is_dask_array(X):
            if hasattr(X, "columns"):
                raise ValueError(
                    "X: a dask DataFrame is not supported (nor is gt.glm on one: a formula "
                    "needs the data in memory); pass a dask array chunked by rows, e.g. "
                    "X.to_dask_array(lengths=True), with the dummy columns built already")
            raise ValueError("X: must be a dask array for glmteach.distributed.fit "
                             "(use gt.fit for numpy arrays and DataFrames)")
        if X.ndim == 1:
            X = X[:, None]
        if X.ndim != 2:
            raise ValueError(f"X: must be a 2-D dask array (rows x columns), got {X.ndim} "
                             f"dimensions")
        if any(np.isnan(c) for c in X.chunks[0]):
            raise ValueError("X: its chunk sizes are unknown (NaN); compute them first, "
                             "e.g. X.compute_chunk_sizes() or df.to_dask_array(lengths=True)")
        if len(X.chunks[1]) != 1:
            raise ValueError(
                f"X: must be chunked along rows only (each chunk holds whole rows, all "
                f"{X.shape[1]} columns), got {len(X.chunks[1])} column chunks "
                f"{X.chunks[1]}; rechunk with X.rechunk({{1: -1}})")
        n, p = X.shape
        if n == 0 or p == 0:
            raise ValueError(f"X: must have at least one row and one column, got shape "
                             f"{X.shape}")
        self.row_chunks = X.chunks[0]
        self.X = X.astype(float) if X.dtype != float else X
        if is_dask_array(y) and y.ndim == 2 and y.shape[1] == 2 and isinstance(family,
                                                                                Binomial):
            raise ValueError("y: a (successes, failures) pair of columns is not supported "
                             "on dask arrays; pass the proportions successes / trials as y "
                             "and the trials as weights")
        self.y = self._vector(y, "y", required=True)
        self.prior_weights = self._vector(weights, "weights")
        self.weights = self.prior_weights
        given_offset = self._vector(offset, "offset")
        self.offset_given = offset is not None
        self.exposure = self._vector(exposure, "exposure")
        if self.exposure is not None and not isinstance(self.link, L.Log):
            raise ValueError(
                f"exposure: enters as ln(exposure) in the linear predictor, which is a "
                f"multiplicative effect only with the log link; this model uses "
                f"{self.link!r} (pass an offset instead)")
        self.n, self.p = int(n), int(p)
        self.param_names = [f"x{j}" for j in range(self.p)]
        self._validate(given_offset)
        offset = given_offset
        if self.exposure is not None:
            log_exposure = da.log(self.exposure)
            offset = log_exposure if offset is None else offset + log_exposure
        self.offset = offset  # None: no offset (zeros)

    def _vector(self, value, name: str, required: bool = False):
        """A dask vector chunked like the rows of X (numpy and numbers are turned into
        one); None stays None."""
        if value is None:
            if required:
                raise ValueError(f"{name}: is required")
            return None
        n = self.X.shape[0]
        if not is_dask_array(value):
            arr = np.asarray(value, dtype=float)
            if arr.ndim == 0:
                return da.full(n, float(arr), chunks=(self.row_chunks,))
            arr = arr.reshape(-1) if arr.ndim == 2 and 1 in arr.shape else arr
            if arr.shape != (n,):
                raise ValueError(f"{name}: must have one value per row of X ({n} rows), got "
                                 f"shape {np.shape(value)}")
            return da.from_array(arr, chunks=(self.row_chunks,))
        if value.ndim == 2 and value.shape[1] == 1:
            value = value[:, 0]
        if value.ndim != 1 or value.shape[0] != n:
            raise ValueError(f"{name}: must have one value per row of X ({n} rows), got "
                             f"shape {value.shape}")
        if value.chunks[0] != self.row_chunks:
            raise ValueError(
                f"{name}: its chunks {value.chunks[0]} do not match the row chunks of X "
                f"{self.row_chunks}; chunk every input the same way (e.g. "
                f"{name}.rechunk(X.chunks[0])) so that each chunk of X meets its own rows")
        return value.astype(float) if value.dtype != float else value

    def blocks(self, *names: str):
        """For each chunk of rows, the tuple of its blocks (Delayed) of the named arrays
        (None where an array is absent)."""
        columns = []
        for name in names:
            value = getattr(self, name)
            if value is None:
                columns.append([None] * len(self.row_chunks))
            elif value.ndim == 2:
                columns.append(list(value.to_delayed()[:, 0]))
            else:
                columns.append(list(value.to_delayed()))
        return list(zip(*columns, strict=True))

    def reduce(self, func, names: tuple[str, ...], *args) -> dict:
        """func on every chunk (with its blocks of ``names`` and ``args``), the results
        added on the scheduler in a tree of sums, computed: one dict of small numbers."""
        parts = [dask.delayed(func, pure=True)(*blocks, *args)
                 for blocks in self.blocks(*names)]
        while len(parts) > 1:
            parts = [dask.delayed(_add, pure=True)(*parts[i:i + FAN_IN])
                     for i in range(0, len(parts), FAN_IN)]
        (total,) = dask.compute(parts[0])
        return total

    def _validate(self, given_offset) -> None:
        self.given_offset = given_offset  # the offset argument alone (no exposure)
        t = self.reduce(_check_chunk, ("X", "y", "prior_weights", "given_offset", "exposure"),
                        self.family)
        checks = [
            ("bad_X", "X", "must not contain NaN or infinite values; {} contain them"),
            ("bad_y", "y", "must not contain NaN or infinite values; {} contain them"),
            ("bad_weights", "weights", "must not contain NaN or infinite values; {} do"),
            ("negative_weights", "weights", "must be non-negative; {} negative"),
            ("bad_offset", "offset", "must not contain NaN or infinite values; {} do"),
            ("bad_exposure", "exposure", "must not contain NaN or infinite values; {} do"),
            ("nonpositive_exposure", "exposure", "must be positive; {} not"),
            ("y_rule", "y", f"the {self.family.name} family needs {self.family.y_rule}; "
                            "{} this rule"),
        ]
        for key, name, rule in checks:
            count = t[key]
            if count:
                verb = {"y_rule": ("breaks", "break"), "negative_weights": ("is", "are"),
                        "nonpositive_exposure": ("is", "are")}.get(key, ("", ""))
                rows = f"{count} row{'s' if count != 1 else ''}"
                if verb[0]:
                    rows += f" {verb[0] if count == 1 else verb[1]}"
                raise ValueError(f"{name}: " + rule.format(rows))
        if t["used"] == 0:
            raise ValueError("weights: at least one weight must be positive")
        self.nobs = int(t["used"])
        self.mean_y = t["sum_wy"] / t["sum_w"]
        self.total_weight = t["sum_w"]  # sum_i w_i, as ``GLMProblem.total_weight``
        gram = t["gram"]
        self.column_scale = np.sqrt(np.diag(gram)) / np.sqrt(t["sum_w"])
        self._check_rank(gram, zero_weights=t["zero_w"] > 0)

    def _check_rank(self, gram: np.ndarray, zero_weights: bool) -> None:
        """Aliased columns, found as ``GLMProblem`` finds them, on X' W X alone
        (``linalg.aliased_columns``: Cholesky pivots 1 - R_j^2 below ALIAS_TOLERANCE)."""
        aliased, keep = LA.aliased_columns(gram, ALIAS_TOLERANCE)
        if aliased:
            where = " on the rows with positive weight" if zero_weights else ""
            raise ValueError(
                f"X: columns are linearly dependent{where} (rank {len(keep)} < {self.p} "
                f"columns); aliased column(s): "
                f"{', '.join(self.param_names[j] for j in aliased)}. Drop them (or one "
                f"level of each categorical variable when there is an intercept)")

    @property
    def df_resid(self) -> int:
        return self.nobs - self.p

    # totals of a pass, read by the shared ``GLMProblem.scale``
    @staticmethod
    def deviance(totals: dict) -> float:
        return float(totals["deviance"])

    @staticmethod
    def pearson_chi2(totals: dict) -> float:
        return float(totals["x2"])

    def llf_scale(self, totals: dict) -> float:
        """As ``GLMProblem.llf_scale``: the Gaussian identity model at the maximum
        likelihood scale sum w (y - mu)^2 / nobs (= X^2 / nobs, v = 1), the binomial at
        1, every other model at ``scale``."""
        rule = self.family.llf_scale_rule
        if rule == "profile":  # (v = 1, so X^2 is sum w (y - mu)^2)
            return float(totals["x2"]) / self.nobs
        if rule == "none":
            return 1.0
        return self.scale(totals)


# --------------------------------------------------------------------------- the fit


def _solve(gram: np.ndarray, rhs: np.ndarray):
    """(gram^{-1} rhs, factor or None): Cholesky, least squares when not positive
    definite (as the in-memory fit falls back from Cholesky)."""
    try:
        factor = linalg.cho_factor(gram, lower=False, check_finite=False)
    except linalg.LinAlgError:
        return linalg.lstsq(gram, rhs, lapack_driver="gelsy", check_finite=False)[0], None
    return linalg.cho_solve(factor, rhs, check_finite=False), factor


def _deviance_rose(new: float, old: float) -> bool:
    """As the in-memory fit: a rise by more than 1e-12 of the deviance (relative)."""
    return new - old > 1e-12 * abs(old)


def _check_options(method, cov_type, cov_kwds, freq_weights, tol, maxiter, convergence):
    if method != "irls":
        raise ValueError(f"method: dask fits use Fisher scoring, method='irls' (got "
                         f"{method!r}); for a canonical link it is Newton-Raphson")
    if freq_weights is not None:
        raise ValueError("freq_weights: not supported for dask arrays; pass the counts as "
                         "rows or fit in memory with gt.fit")
    if cov_type not in COV_TYPES or cov_type == "cluster":
        raise ValueError(f"cov_type: dask fits offer 'nonrobust', 'HC0' and 'HC1', got "
                         f"{cov_type!r}")
    if cov_kwds:
        raise ValueError("cov_kwds: only used with cov_type='cluster', which dask fits do "
                         "not offer")
    if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not np.isfinite(tol) \
            or tol <= 0:
        raise ValueError(f"tol: must be a positive finite number, got {tol!r}")
    if isinstance(maxiter, bool) or not isinstance(maxiter, (int, np.integer)) or maxiter < 1:
        raise ValueError(f"maxiter: must be a whole number >= 1, got {maxiter!r}")
    if convergence not in ("glmteach", "R"):
        raise ValueError(f"convergence: must be 'glmteach' or 'R', got {convergence!r}")


def fit(X, y, family: Family | None = None, weights=None, offset=None, exposure=None,
        method: str = "irls", start=None, tol: float = 1e-8, maxiter: int = 100,
        keep_vectors=None, cov_type: str = "nonrobust", convergence: str = "glmteach", *,
        freq_weights=None, scale=None, use_t: bool = False, cov_kwds: dict | None = None
        ) -> DaskGLMResults:
    """Fit a GLM to dask arrays by IRLS, one reduction over the chunks per iteration.

    Arguments as ``gt.fit`` (which calls this when X is a dask array).  X must be chunked
    along rows only; y, weights, offset and exposure may be dask arrays with the same
    row chunks as X, or numpy arrays / numbers (turned into dask arrays chunked like X).
    ``keep_vectors`` is ignored: no n-vector is kept (the history holds coefficients,
    deviances and criteria).  Returns a ``DaskGLMResults``.
    """
    _check_options(method, cov_type, cov_kwds, freq_weights, tol, maxiter, convergence)
    problem = DaskGLMProblem(X, y, family, weights=weights, offset=offset,
                             exposure=exposure, scale=scale)
    fam = problem.family
    names = ("X", "y", "prior_weights", "offset")
    threshold = irls.threshold(tol)

    def at(beta):
        totals = problem.reduce(_iteration_chunk, names, fam, beta, problem.mean_y)
        if totals["valid"] and totals["finite"]:  # X'Wz as in memory: (X'WX) beta + U
            totals["xt_wz"] = irls.xt_wz_and_score(totals["gram"], totals["xt_rhs"], beta)[0]
        return totals

    if start is None:
        current = at(None)
        if not current["valid"] or not current["finite"]:
            raise FitError(f"cannot start from the data: the {problem.link!r} link or the "
                           f"{fam.name} deviance is not defined at the starting means; pass "
                           f"start= coefficients")
        params = None
    else:
        params = np.asarray(start, dtype=float).reshape(-1)
        if params.shape != (problem.p,) or not np.all(np.isfinite(params)):
            raise ValueError(f"start: must be {problem.p} finite coefficients (one per "
                             f"column of X), got {start!r}")
        current = at(params)
        if not current["valid"] or not current["finite"]:
            raise ValueError(f"start: gives means outside the {fam.name} family's mean "
                             f"space (or a non-finite deviance); choose other start values")
    history = [irls.IterationState(0, None if params is None else params.copy(), None, None,
                                   None, None, current["deviance"], None)]
    floor = None
    converged = stalled = False
    previous_look = None
    criterion = float("inf")
    for _ in range(maxiter):
        target, _factor = _solve(current["gram"], current["xt_wz"])
        step, new = 1.0, None
        for _halving in range(MAX_HALVINGS + 1):
            candidate = target if params is None or step == 1.0 else \
                params + step * (target - params)
            trial = at(candidate)
            ok = trial["valid"] and trial["finite"]
            if ok and (params is None or not _deviance_rose(trial["deviance"],
                                                             current["deviance"])):
                new = trial
                break
            if params is None:
                raise FitError("iteration 1: the first step from the data start gives means "
                               "outside the mean space or a non-finite deviance; pass start= "
                               "coefficients or choose another link")
            step /= 2.0
        if new is None:
            if trial["valid"] and trial["finite"]:  # only rises: the deviance is at its best
                stalled = True
                history.append(dataclasses.replace(history[-1],
                                                   iteration=history[-1].iteration + 1,
                                                   step_size=0.0))
                break
            raise FitError(f"iteration {history[-1].iteration + 1}: after {MAX_HALVINGS} "
                           f"step halvings the step still gives means outside the "
                           f"{fam.name} mean space; try another link or start= values")
        params, current = candidate, new
        if floor is None:
            floor = 1e-3 * float(np.sqrt(current["size2"] / current["size_w"])) \
                if current["size_w"] > 0 else 0.0
        old_deviance = history[-1].deviance
        if convergence == "R":
            criterion = abs(current["deviance"] - old_deviance) / \
                (abs(current["deviance"]) + 0.1)
        else:
            # the next Fisher step from beta_k, out of this very reduction
            look_target, _ = _solve(current["gram"], current["xt_wz"])
            look = irls.relative_size(look_target - params, params, problem.column_scale, floor)
            if fam.is_canonical:
                criterion = look
            elif previous_look is None or previous_look == 0:
                criterion = float("inf") if look > 0 else 0.0
            else:
                r = min(look / previous_look, MAX_CONTRACTION)
                criterion = look / (1.0 - r)
            previous_look = look
        history.append(irls.IterationState(history[-1].iteration + 1, params.copy(), None,
                                           None, None, None, current["deviance"], None,
                                           step_size=step, criterion=criterion))
        if (criterion <= threshold) if convergence == "glmteach" else (criterion < tol):
            converged = True
            break
        if convergence == "glmteach" and _rounding_stall(history):
            converged = True
            break
    # (stacklevel 3: the line that called gt.fit)
    if stalled:
        warnings.warn(f"IRLS stopped at iteration {history[-1].iteration}: no fraction of "
                      f"the next step lowers the deviance, yet the estimated relative "
                      f"distance to the optimum is {criterion:.3g} > {threshold:.3g}; results "
                      f"are from the last iteration", ConvergenceWarning, stacklevel=3)
    elif not converged:
        warnings.warn(f"IRLS did not converge in maxiter={maxiter} iterations (criterion "
                      f"{criterion:.3g}); results are from the last iteration. Raise maxiter "
                      f"or check the model.", ConvergenceWarning, stacklevel=3)
    results = DaskGLMResults(problem, history, current, converged=converged,
                             cov_type=cov_type, use_t=use_t)
    _warn_if_separated(results)
    return results


def _warn_if_separated(results: DaskGLMResults) -> None:
    """The PerfectSeparationWarning of ``gt.fit``, from the rows the final pass counted
    (``_final_chunk``); complete separation when all rows of positive weight are among
    them or the deviance has gone to 0."""
    n_edge, problem = results._edge_rows, results.problem
    if n_edge == 0:
        return
    complete = n_edge >= problem.nobs or results.deviance <= 1e-6 * problem.total_weight
    warnings.warn(irls.separation_message(problem.family, n_edge, problem.nobs,
                                          results.params, problem.param_names, complete),
                  PerfectSeparationWarning, stacklevel=4)  # (the caller of gt.fit)


def _rounding_stall(history) -> bool:
    """As the in-memory rule: no new best criterion in two steps while the deviance
    changed by no more than rounding error (1e-13 relative)."""
    if len(history) < 5:
        return False
    criteria = [h.criterion for h in history[1:]]
    if not min(criteria[-2:]) >= 0.99 * min(criteria[:-2]):
        return False
    flat = max(abs(history[-1].deviance - history[-3].deviance),
               abs(history[-2].deviance - history[-4].deviance))
    return flat <= 1e-13 * abs(history[-1].deviance)


# --------------------------------------------------------------------------- results


class DaskGLMResults(GLMResults):
    """``GLMResults`` of a dask fit: the same inference formulas (bse, z, p-values,
    intervals, aic, bic, summary) from the p x p sums; the n-vectors (fitted values,
    linear predictor, residuals) are lazy dask arrays chunked like X.

    The covariance phi-hat (X' W X)^{-1} uses X' W X at the final coefficients, already
    summed by the last iteration; llf (and the sandwich meat for HC0/HC1) take one more
    pass over the chunks.
    """

    def __init__(self, problem: DaskGLMProblem, history, totals: dict, converged: bool,
                 cov_type: str = "nonrobust", use_t: bool = False):
        if not isinstance(use_t, bool | np.bool_):
            raise ValueError(f"use_t: must be True or False, got {use_t!r}")
        self.use_t = bool(use_t)
        self.cov_kwds = {}
        self._groups = None
        self.problem = problem
        self.converged = bool(converged)
        self.method = "irls"
        self.cov_type = cov_type
        self.family = problem.family
        self.model_spec = None
        self.n_iter = history[-1].iteration
        self.nobs = problem.nobs
        self.df_model = problem.p - 1
        self.df_resid = problem.df_resid
        self.deviance = float(totals["deviance"])
        self.pearson_chi2 = float(totals["x2"])
        self.scale = problem.scale(totals)
        self._gram = totals["gram"]
        params = history[-1].params
        previous = history[-2].params if len(history) >= 2 else None
        final = problem.reduce(_final_chunk, ("X", "y", "prior_weights", "offset"),
                               problem.family, params, previous, problem.llf_scale(totals),
                               cov_type)
        self._meat = final["meat"]
        self._edge_rows = int(final["edge_rows"])  # (see ``_warn_if_separated``)
        self.llf = float(final["llf"])
        history[-1] = dataclasses.replace(history[-1], llf=self.llf)
        self.history = history
        self._final = history[-1]
        self.aic = -2.0 * self.llf + 2.0 * problem.p
        self.bic = -2.0 * self.llf + problem.p * np.log(problem.nobs)

    @cached_property
    def normalized_cov_params(self) -> np.ndarray:
        """(X' W X)^{-1} at the estimate, from the last reduction's p x p sum."""
        try:
            factor = linalg.cho_factor(self._gram, check_finite=False)
            return linalg.cho_solve(factor, np.eye(self.problem.p), check_finite=False)
        except linalg.LinAlgError:
            return np.linalg.pinv(self._gram)

    def _cov(self, cov_type: str) -> np.ndarray:
        if cov_type == "nonrobust":
            return self.scale * self.normalized_cov_params
        if cov_type in ("HC0", "HC1") and cov_type == self.cov_type:
            bread = self.normalized_cov_params
            cov = bread @ self._meat @ bread
            if cov_type == "HC1":
                df = self.problem.df_resid
                cov = cov * (self.nobs / df if df > 0 else float("nan"))
            return cov
        raise ValueError(f"cov_type: a dask fit offers 'nonrobust' and the cov_type it was "
                         f"fitted with ({self.cov_type!r}), got {cov_type!r}")

    @cached_property
    def null_deviance(self) -> float:
        """Deviance of the intercept-only model: one pass at the weighted mean of y, or,
        with an offset, a dask fit of the column of ones."""
        p = self.problem
        if p.offset is None:
            return float(p.reduce(_null_chunk, ("y", "prior_weights"), p.family,
                                  p.mean_y)["deviance"])
        ones = p.y.map_blocks(_ones_column, new_axis=1, chunks=(p.row_chunks, (1,)),
                              dtype=float)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fit(ones, p.y, p.family, weights=p.prior_weights, offset=p.offset,
                       tol=1e-10).deviance

    # -- lazy n-vectors ------------------------------------------------------------
    def _lazy(self, kind: str):
        p = self.problem
        args = [p.X, p.y]
        inputs = [(p.X, "ij"), (p.y, "i")]
        for value in (p.prior_weights, p.offset):
            args.append(value)
            inputs.append((value, "i") if value is not None else (None, None))
        flat = []
        for value, index in inputs:
            flat.extend([value, index])
        return da.blockwise(_vector_chunk, "i", *flat, dtype=float, concatenate=True,
                            kind=kind, family=p.family, beta=self._final.params,
                            scale=self.scale, meta=np.empty(0))

    @property
    def fittedvalues(self):
        """mu-hat, a lazy dask array."""
        return self._lazy("fittedvalues")

    @property
    def linear_predictor(self):
        """eta-hat = X beta-hat + offset, a lazy dask array."""
        return self._lazy("linear_predictor")

    @property
    def resid_response(self):
        return self._lazy("resid_response")

    @property
    def resid_pearson(self):
        return self._lazy("resid_pearson")

    @property
    def resid_deviance(self):
        return self._lazy("resid_deviance")

    @property
    def resid_working(self):
        return self._lazy("resid_working")

    @property
    def resid_anscombe(self):
        return self._lazy("resid_anscombe")

    def predict(self, X_new=None, offset=None, exposure=None, linear: bool = False):
        """As ``GLMResults.predict``; without X_new, or with a dask X_new, a lazy dask
        array."""
        if X_new is None:
            return self.linear_predictor if linear else self.fittedvalues
        if is_dask_array(X_new):
            if offset is not None or exposure is not None:
                raise ValueError("offset: with a dask X_new pass offset/exposure folded "
                                 "into a numpy X_new, or compute X_new first")
            eta = X_new @ self._final.params
            return eta if linear else eta.map_blocks(self.family.link.inverse, dtype=float)
        return super().predict(X_new, offset=offset, exposure=exposure, linear=linear)

    def get_influence(self):
        raise ValueError("get_influence: leverages need every row's diagonal of the hat "
                         "matrix; compute them from an in-memory fit (gt.fit on numpy)")

    def get_prediction(self, X_new=None, offset=None, exposure=None, linear: bool = False):
        if X_new is None or is_dask_array(X_new):
            raise ValueError("X_new: a dask fit predicts with standard errors only for "
                             "new rows given as a numpy array or DataFrame")
        return super().get_prediction(X_new, offset=offset, exposure=exposure,
                                      linear=linear)

    def __repr__(self) -> str:
        return (f"<DaskGLMResults {self.family!r}: {self.nobs} observations in "
                f"{len(self.problem.row_chunks)} chunks, {self.problem.p} coefficients, "
                f"deviance {self.deviance:.6g}, "
                f"{'converged' if self.converged else 'not converged'} in {self.n_iter} "
                f"iterations>")
