"""A formula front end: ``gt.glm("claims ~ C(age) + C(use)", data=df, family=...)``.

The formula is turned into a response vector and a labelled design matrix by
formulaic (the same Wilkinson notation as R, patsy and statsmodels' ``smf.glm``), then
fitted by ``gt.fit``.  ``weights``, ``offset``, ``exposure``, ``freq_weights`` and the
cluster ``groups`` of ``cov_kwds`` may be column names.
"""

from __future__ import annotations

import warnings

import numpy as np

from glmteach.fit import fit
from glmteach.problem import holds_text

__all__ = ["glm"]


def _column_or_values(data, value, name: str):
    if isinstance(value, str):
        if value not in data.columns:
            raise ValueError(f"{name}: {value!r} is not a column of data")
        column = data[value]
        if holds_text(column) or str(column.dtype) == "category":
            raise ValueError(f"{name}: column {value!r} must be numeric, but it holds text "
                             f"or categories")
        return np.asarray(column, dtype=float)
    return value


class _NewDesign:
    """Turns raw new data into the fitted model's design matrix, or raises ValueError.

    formulaic only *warns* (DataMismatchWarning) when new data hold a category level
    the model never saw, and then encodes it like the reference level - a prediction
    for a level that does not exist.  Here that, and a missing column, is an error.
    A class (not a closure) so that formula results can be pickled and deep-copied."""

    def __init__(self, spec):
        self.spec = spec

    def __call__(self, new_data):
        from formulaic.errors import DataMismatchWarning, FormulaicError

        with warnings.catch_warnings():
            warnings.simplefilter("error", DataMismatchWarning)
            try:
                return self.spec.get_model_matrix(new_data)
            except DataMismatchWarning as exc:
                raise ValueError(f"X_new: holds a category level the model was not fitted "
                                 f"on, so it has no coefficient (formulaic: {exc})") from None
            except FormulaicError as exc:
                raise ValueError(f"X_new: cannot build the model's design matrix from "
                                 f"these data: {exc}") from exc


def _new_design(spec):
    return _NewDesign(spec)


def _refuse_text_response(formula: str, data) -> None:
    """A text, boolean-like categorical response is refused: formulaic would expand it
    into one indicator per level and the model would describe the *first* level (e.g.
    P('no')), silently.  R models the second level; glmteach asks for an explicit 0/1."""
    lhs = formula.split("~", 1)[0].strip()
    if lhs in data.columns:
        column = data[lhs]
        if holds_text(column) or str(column.dtype) == "category":
            levels = sorted(map(str, column.dropna().unique()))[:5]
            raise ValueError(
                f"y: the response column {lhs!r} holds text or categories "
                f"({', '.join(levels)}); say which level is the 'success': e.g. "
                f"df['{lhs}_01'] = (df[{lhs!r}] == {levels[-1]!r}).astype(float) and the "
                f"formula '{lhs}_01 ~ ...' (R would model the second level, "
                f"{levels[-1]!r} here; glmteach does not guess)")


def _groups_column(data, cov_kwds):
    """cov_kwds={"groups": "firm"} names a column of data (of any type: labels)."""
    if not isinstance(cov_kwds, dict) or not isinstance(cov_kwds.get("groups"), str):
        return cov_kwds
    name = cov_kwds["groups"]
    if name not in data.columns:
        raise ValueError(f"groups: {name!r} is not a column of data")
    return {**cov_kwds, "groups": data[name].to_numpy()}


def glm(formula: str, data, family=None, weights=None, offset=None, exposure=None,
        freq_weights=None, **fit_options):
    """Fit a GLM described by a formula; returns ``GLMResults`` with labelled params.

    Categorical variables are written ``C(x)`` (or are detected from string columns);
    the first level is the reference.  ``fit_options`` go to ``gt.fit`` (method, start,
    tol, maxiter, cov_type, scale, use_t, ...).  ``freq_weights`` may be a column name,
    and so may the groups of ``cov_kwds={"groups": "firm"}`` for ``cov_type="cluster"``.
    ``results.predict(new_data)`` accepts raw data.
    """
    from formulaic import model_matrix

    if not isinstance(formula, str) or "~" not in formula:
        raise ValueError(f"formula: must be a string like 'y ~ x1 + C(x2)', got {formula!r}")
    if type(data).__module__.split(".")[0] == "dask":
        raise ValueError("data: a dask DataFrame is not supported by gt.glm; build the "
                         "design matrix as a dask array chunked by rows and call gt.fit "
                         "(docs: chapter 13, IRLS at scale)")
    if not hasattr(data, "columns"):
        raise ValueError("data: must be a pandas DataFrame")
    _refuse_text_response(formula, data)
    try:
        matrices = model_matrix(formula, data, na_action="raise")
    except Exception as exc:  # formulaic raises several types; report them uniformly
        raise ValueError(f"formula: could not build the model from {formula!r}: {exc}") from exc
    y, X = matrices.lhs, matrices.rhs
    y = y.iloc[:, 0] if y.shape[1] == 1 else y
    results = fit(
        X, y, family=family,
        weights=_column_or_values(data, weights, "weights"),
        offset=_column_or_values(data, offset, "offset"),
        exposure=_column_or_values(data, exposure, "exposure"),
        freq_weights=_column_or_values(data, freq_weights, "freq_weights"),
        **{**fit_options, **({"cov_kwds": _groups_column(data, fit_options["cov_kwds"])}
                             if "cov_kwds" in fit_options else {})},
    )
    results.model_spec = _new_design(X.model_spec)
    results.formula = formula
    return results
