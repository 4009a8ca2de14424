"""gt.fit on dask arrays (glmteach.distributed): the same fit as in memory, computed as one
reduction over chunks of rows per iteration, with nothing of size n sent to the client.

The cluster tests run on a real ``dask.distributed.LocalCluster`` with two worker
processes, started once for this module and closed at its end."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")
from distributed.diagnostics.plugin import SchedulerPlugin  # noqa: E402

import glmteach as gt  # noqa: E402
from glmteach.distributed import DaskGLMResults  # noqa: E402

RTOL = 1e-8
CHUNK = 700


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None)
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def _design(n: int, p: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.column_stack([np.ones(n), rng.standard_normal((n, p - 1))])


def _case(name: str, n: int = 3000):
    """(family, X, y, weights, offset) with prior weights and an offset."""
    rng = np.random.default_rng(["poisson", "gamma", "probit"].index(name) + 11)
    X = _design(n, 4, rng.integers(1 << 30))
    weights = rng.uniform(0.5, 2.0, n)
    offset = rng.normal(0.0, 0.2, n)
    eta = X @ np.array([0.4, 0.3, -0.2, 0.1]) + offset
    if name == "poisson":
        return gt.Poisson(), X, rng.poisson(np.exp(eta)).astype(float), weights, offset
    if name == "gamma":
        fam = gt.Gamma(link=gt.links.Log())
        return fam, X, rng.gamma(2.0, np.exp(eta) / 2.0), weights, offset
    fam = gt.Binomial(link=gt.links.Probit())
    from scipy.special import ndtr

    trials = rng.integers(1, 6, n).astype(float)
    y = rng.binomial(trials.astype(int), ndtr(eta - 0.4)) / trials
    return fam, X, y, trials * weights, offset


def _chunked(*arrays):
    return [None if a is None else da.from_array(a, chunks=(CHUNK,) + a.shape[1:])
            for a in arrays]


def _assert_same(dask_res, numpy_res):
    for name in ("params", "bse", "deviance", "llf", "aic", "bic", "scale",
                 "pearson_chi2", "null_deviance", "tvalues", "pvalues"):
        np.testing.assert_allclose(np.asarray(getattr(dask_res, name)),
                                   np.asarray(getattr(numpy_res, name)), rtol=RTOL,
                                   err_msg=name)
    np.testing.assert_allclose(dask_res.cov_params(), numpy_res.cov_params(), rtol=RTOL)
    assert (dask_res.nobs, dask_res.df_resid) == (numpy_res.nobs, numpy_res.df_resid)
    assert dask_res.converged and numpy_res.converged


@pytest.mark.parametrize("name", ["poisson", "gamma", "probit"])
def test_fit_on_local_cluster_equals_numpy_fit(client, name):
    """Canonical (Poisson log) and non-canonical (Gamma log, binomial probit) models,
    with prior weights and an offset: params, bse, deviance, llf, ... to 1e-8."""
    fam, X, y, weights, offset = _case(name)
    expected = gt.fit(X, y, family=fam, weights=weights, offset=offset)
    dX, dy, dw, doff = client.persist(_chunked(X, y, weights, offset))
    res = gt.fit(dX, dy, family=fam, weights=dw, offset=doff)
    assert isinstance(res, DaskGLMResults)
    assert client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.workers)) == 2
    _assert_same(res, expected)
    # the n-vectors are lazy dask arrays, chunked like X, equal to the in-memory ones
    for name_ in ("fittedvalues", "resid_pearson", "resid_deviance", "resid_working"):
        lazy = getattr(res, name_)
        assert isinstance(lazy, da.Array) and lazy.chunks[0] == dX.chunks[0]
        np.testing.assert_allclose(lazy.compute(), getattr(expected, name_), rtol=1e-7,
                                   atol=1e-12, err_msg=name_)
    assert res.summary() == expected.summary()  # the same table, from p x p numbers


def test_exposure_and_robust_covariance_on_the_default_scheduler():
    """Without a Client (dask's threaded scheduler), with exposure as a dask array and
    the HC1 sandwich."""
    import dask

    rng = np.random.default_rng(5)
    n = 2500
    X = _design(n, 3, 6)
    exposure = rng.uniform(0.5, 3.0, n)
    y = rng.poisson(exposure * np.exp(X @ [0.1, 0.4, -0.3])).astype(float)
    expected = gt.fit(X, y, family=gt.Poisson(), exposure=exposure, cov_type="HC1")
    dX, dy, dexp = _chunked(X, y, exposure)
    with dask.config.set(scheduler="threads"):
        res = gt.fit(dX, dy, family=gt.Poisson(), exposure=dexp, cov_type="HC1")
        np.testing.assert_allclose(res.fittedvalues.compute(), expected.fittedvalues,
                                   rtol=1e-10)
    np.testing.assert_allclose(res.params, expected.params, rtol=RTOL)
    np.testing.assert_allclose(res.bse, expected.bse, rtol=RTOL)
    np.testing.assert_allclose(res.llf, expected.llf, rtol=RTOL)
    assert res.n_iter == expected.n_iter


class ResultSizes(SchedulerPlugin):
    """Records the size of every task result that a client is waiting for (what the
    scheduler will send to the client), as (key, nbytes)."""

    name = "glmteach-result-sizes"

    def __init__(self):
        self.records: list[tuple[str, int]] = []

    async def start(self, scheduler):
        self.scheduler = scheduler

    def transition(self, key, start, finish, *args, **kwargs):
        if finish == "memory":
            task = self.scheduler.tasks.get(key)
            if task is not None and task.who_wants:
                self.records.append((str(key), int(task.nbytes)))


def _records(client, clear: bool = False):
    def read(dask_scheduler):
        plugin = dask_scheduler.plugins[ResultSizes.name]
        out = list(plugin.records)
        if clear:
            plugin.records.clear()
        return out

    return client.run_on_scheduler(read)


def test_no_n_sized_array_reaches_the_client(client):
    """1,000,000 rows generated on the workers: every result the client receives
    during the fit is a few kB (p x p sums), while asking for the fitted values (one
    n-vector, 8 MB) is seen by the same check - so the check can fail."""
    client.register_plugin(ResultSizes())
    n, p, rows = 1_000_000, 5, 125_000
    rng = da.random.default_rng(7)
    Z = rng.standard_normal((n, p - 1), chunks=(rows, p - 1))
    X = da.concatenate([da.ones((n, 1), chunks=(rows, 1)), Z], axis=1).rechunk({1: -1})
    y = rng.poisson(da.exp(X @ np.array([0.3, 0.2, -0.1, 0.05, 0.0])), chunks=(rows,))
    X, y = client.persist([X, y])
    distributed.wait([X, y])
    _records(client, clear=True)
    res = gt.fit(X, y, family=gt.Poisson())
    during_fit = _records(client, clear=True)
    assert res.converged and np.max(np.abs(res.params - [0.3, 0.2, -0.1, 0.05, 0.0])) < 0.01
    assert len(during_fit) >= res.n_iter  # one reduction per iteration, all recorded
    largest = max(size for _, size in during_fit)
    assert largest < 20_000, during_fit  # p x p + p + a few floats, never 8 * n bytes
    res.fittedvalues.compute()
    assert max(size for _, size in _records(client)) >= 8 * n


def test_x_chunked_along_columns_is_refused():
    X = da.ones((100, 4), chunks=(50, 2))
    with pytest.raises(ValueError, match=r"X: must be chunked along rows only .* 2 column "
                                         r"chunks"):
        gt.fit(X, da.ones(100, chunks=50), family=gt.Poisson())


@pytest.mark.parametrize("argument", ["y", "weights", "offset"])
def test_chunks_that_do_not_match_X_are_refused(argument):
    X = da.from_array(_design(100, 2, 1), chunks=(50, 2))
    arrays = {"y": da.ones(100, chunks=50), "weights": None, "offset": None}
    arrays[argument] = da.ones(100, chunks=40)
    with pytest.raises(ValueError, match=rf"{argument}: its chunks \(40, 40, 20\) do not "
                                         r"match the row chunks of X \(50, 50\)"):
        gt.fit(X, arrays["y"], family=gt.Poisson(), weights=arrays["weights"],
               offset=arrays["offset"])


def test_bad_values_are_named_with_their_row_counts():
    X = da.from_array(_design(100, 2, 1), chunks=(30, 2))
    y = np.ones(100)
    y[[3, 70]] = -1.0
    with pytest.raises(ValueError, match=r"y: the Poisson family needs .*; 2 rows break"):
        gt.fit(X, da.from_array(y, chunks=30), family=gt.Poisson())
    w = np.ones(100)
    w[5] = -2.0
    with pytest.raises(ValueError, match=r"weights: must be non-negative; 1 row is negative"):
        gt.fit(X, da.ones(100, chunks=30), family=gt.Poisson(), weights=w)
    with pytest.raises(ValueError, match=r"X: columns are linearly dependent .* x1"):
        gt.fit(da.ones((100, 2), chunks=(30, 2)), da.ones(100, chunks=30),
               family=gt.Poisson())


def test_import_glmteach_does_not_import_dask():
    code = "import sys, glmteach; print(any(m.split('.')[0] in ('dask', 'distributed') " \
           "for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("family, options", [
    ("gamma", {"scale": "dev", "use_t": True}),
    ("poisson", {"scale": "X2"}),
    ("gaussian", {}),
    ("poisson", {"scale": 2.5, "cov_type": "HC0"}),
])
def test_scale_rules_inference_options_and_prediction(family, options):
    """The shared scale rules (GLMProblem.scale), t tests, a sandwich, and predictions for
    numpy and dask rows, on the threaded scheduler."""
    import dask

    rng = np.random.default_rng(3)
    n = 3000
    X = _design(n, 3, 4)
    mean = np.exp(X @ [0.5, 0.2, -0.1])
    fam = {"gamma": gt.Gamma(link=gt.links.Log()), "poisson": gt.Poisson(),
           "gaussian": gt.Gaussian()}[family]
    y = rng.poisson(mean).astype(float) if family == "poisson" else rng.gamma(2.0, mean / 2)
    expected = gt.fit(X, y, family=fam, **options)
    X_new = rng.standard_normal((5, 3))
    with dask.config.set(scheduler="threads"):
        res = gt.fit(da.from_array(X, chunks=(700, 3)), da.from_array(y, chunks=700),
                     family=fam, **options)
        lazy_prediction = res.predict(da.from_array(X_new, chunks=(2, 3))).compute()
    for name in ("params", "bse", "pvalues", "llf", "scale", "aic"):
        np.testing.assert_allclose(np.asarray(getattr(res, name)),
                                   np.asarray(getattr(expected, name)), rtol=RTOL,
                                   err_msg=name)
    assert res.summary() == expected.summary()
    np.testing.assert_allclose(res.predict(X_new), expected.predict(X_new), rtol=1e-12)
    np.testing.assert_allclose(lazy_prediction, expected.predict(X_new), rtol=1e-12)
    np.testing.assert_allclose(res.get_prediction(X_new).summary_frame()["mean_se"],
                               expected.get_prediction(X_new).summary_frame()["mean_se"],
                               rtol=1e-8)


@pytest.mark.parametrize("family, y_of", [
    (gt.Poisson(), lambda group, i: np.where(group == 1, 0.0, i % 4 + 1.0)),
    (gt.Binomial(), lambda group, i: np.where(group == 1, 0.0, (i % 3 > 0) * 1.0)),
], ids=["poisson", "binomial"])
def test_separation_warns_on_dask_as_in_memory(family, y_of):
    """Every response of one group sits on the end of the support (zero counts, or all 0
    in a logistic model): in memory and on dask alike the fit warns that the estimates
    do not exist, from the rows the final pass counts."""
    import warnings

    import dask

    n = 2100
    i = np.arange(n)
    group = (i % 2).astype(float)
    X = np.column_stack([np.ones(n), group])
    y = y_of(group, i)
    with warnings.catch_warnings(record=True) as memory:
        warnings.simplefilter("always")
        gt.fit(X, y, family=family)
    with dask.config.set(scheduler="threads"), warnings.catch_warnings(record=True) as lazy:
        warnings.simplefilter("always")
        gt.fit(*_chunked(X, y), family=family)
    texts = [[str(w.message) for w in record if w.category is gt.PerfectSeparationWarning]
             for record in (memory, lazy)]
    assert len(texts[0]) == 1 and len(texts[1]) == 1, texts
    # the same count of separated rows, and the same kind of separation
    assert texts[0][0].split(":")[0] == texts[1][0].split(":")[0]
    assert "x1 = " in texts[1][0]


def test_a_well_posed_dask_fit_does_not_warn_of_separation():
    import warnings

    import dask

    rng = np.random.default_rng(8)
    X = _design(2100, 3, 8)
    y = (rng.random(2100) < 1 / (1 + np.exp(-X @ [0.2, 1.0, -0.5]))).astype(float)
    with dask.config.set(scheduler="threads"), warnings.catch_warnings():
        warnings.simplefilter("error", gt.PerfectSeparationWarning)
        gt.fit(*_chunked(X, y), family=gt.Binomial())
