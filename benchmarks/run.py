"""Benchmark glmteach's ``fit`` against statsmodels, glum and scikit-learn.

Every (family, n, p, engine) combination gets its own fresh Python subprocess, so that
peak memory is measured per engine and no engine profits from another's caches. For one
(family, n, p) cell all engines' workers are started together; each worker

1. imports its engine and fits a tiny problem once (lazy imports, BLAS buffers);
2. generates the data (fixed seed, identical for every engine), ``gc.collect()``;
3. waits for ``fit`` commands. Before its first fit it resets the kernel's
   resident-set high-water mark (``/proc/self/clear_refs`` <- 5) and reads the current
   RSS as the *baseline*; after it, the high-water mark (``VmHWM``): *extra memory* =
   HWM - baseline, reported in units of ``X.nbytes``.

The parent then asks the engines for one fit each in rounds (order rotated every round,
a short pause between fits), so all engines are timed under the same machine conditions,
and reports the median wall time of each engine's fits.

Where ``/proc/self/clear_refs`` is not writable the worker falls back to deltas of
``resource.getrusage(RUSAGE_SELF).ru_maxrss`` (the data are generated in row chunks so
that generation itself peaks barely above the size of X; the report says which method
was used).

Usage::

    python benchmarks/run.py                 # full run, writes benchmarks/README.md
    python benchmarks/run.py --quick         # n <= 1e5, few repeats, no README
    python benchmarks/run.py --families poisson --n 1e6 --p 20
    python benchmarks/run.py --skip-statsmodels-above 1e5
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _readme  # noqa: E402  (benchmarks/_readme.py, next to this script)

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

FAMILIES = ("poisson", "gamma", "binomial")
ENGINES = ("glmteach", "statsmodels", "glum", "sklearn")
SEED = 20240601
TOL = 1e-10
MAXITER = 100

# Targets from the issue (reported, never asserted).
TARGET_CELL = ("poisson", 1_000_000, 20)
TARGET_SKLEARN_RATIO = 1.0  # glmteach time / sklearn time <= 1.0
TARGET_SM_SPEEDUP = 8.0  # statsmodels time / glmteach time >= 8
TARGET_MEM_X = 4.0  # peak extra memory <= 4 x X.nbytes
TARGET_COEF = 1e-6  # max |beta - beta_statsmodels| <= 1e-6
# issue 16: the fit within 2x of (iterations + 1) syrk passes over X, under half of sklearn
TARGET_FLOOR = 2.0
TARGET_SKLEARN_HALF = 0.5


# --------------------------------------------------------------------------- data


def make_data(family: str, n: int, p: int, seed: int = SEED):
    """Synthetic, well-conditioned GLM data; identical for every engine.

    X = [1, Z] with Z standard normal (n x (p-1)), float64, C order, filled in row
    chunks so that generating it peaks at little more than X itself. The slopes are
    N(0, 1) * 0.5 / sqrt(p-1), so the linear predictor's spread is about 0.5 whatever
    p is and the means stay moderate: Poisson mean ~ exp(0.5) counts, Gamma (shape 2)
    mean ~ exp(1), Binomial probabilities ~ expit(-0.3 +- 1).
    """
    rng = np.random.default_rng([seed, FAMILIES.index(family), n, p])
    intercept = {"poisson": 0.5, "gamma": 1.0, "binomial": -0.3}[family]
    beta = np.empty(p)
    beta[0] = intercept
    beta[1:] = rng.standard_normal(p - 1) * (0.5 / np.sqrt(max(p - 1, 1)))
    X = np.empty((n, p), dtype=np.float64)
    X[:, 0] = 1.0
    eta = np.empty(n)
    chunk = 65_536
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        X[start:stop, 1:] = rng.standard_normal((stop - start, p - 1))
        eta[start:stop] = X[start:stop] @ beta
    if family == "poisson":
        y = rng.poisson(np.exp(eta)).astype(np.float64)
    elif family == "gamma":
        shape = 2.0
        y = rng.gamma(shape, np.exp(eta) / shape)
    elif family == "binomial":
        y = (rng.random(n) < 1.0 / (1.0 + np.exp(-eta))).astype(np.float64)
    else:  # pragma: no cover - guarded by argparse
        raise ValueError(family)
    del eta
    return X, y, beta


# --------------------------------------------------------------------------- engines


def _fit_glmteach(X, y, family, tol):
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    import glmteach as gt

    fam = {
        "poisson": lambda: gt.Poisson(),
        "gamma": lambda: gt.Gamma(link=gt.links.Log()),
        "binomial": lambda: gt.Binomial(),
    }[family]()
    res = gt.fit(X, y, family=fam, tol=tol, maxiter=MAXITER)
    return np.asarray(res.params, dtype=float), int(res.n_iter), bool(res.converged)


def _fit_statsmodels(X, y, family, tol):
    import statsmodels.api as sm

    fam = {
        "poisson": lambda: sm.families.Poisson(),
        "gamma": lambda: sm.families.Gamma(link=sm.families.links.Log()),
        "binomial": lambda: sm.families.Binomial(),
    }[family]()
    res = sm.GLM(y, X, family=fam).fit(tol=tol, maxiter=MAXITER)
    n_iter = int(res.fit_history.get("iteration", -1))
    return np.asarray(res.params, dtype=float), n_iter, bool(res.converged)


def _fit_glum(X, y, family, tol):
    from glum import GeneralizedLinearRegressor

    fam, link = {
        "poisson": ("poisson", "log"),
        "gamma": ("gamma", "log"),
        "binomial": ("binomial", "logit"),
    }[family]
    model = GeneralizedLinearRegressor(
        family=fam,
        link=link,
        alpha=0,
        fit_intercept=False,  # X carries its own intercept column, for every engine
        gradient_tol=tol,
        # glum's gradient cannot always get below 1e-10 (binomial, n = 1e6, p = 50: 100
        # iterations without converging); let it also stop once a step is negligible.
        step_size_tol=tol * 1e-2,
        max_iter=MAXITER,
    )
    model.fit(X, y)
    n_iter = int(getattr(model, "n_iter_", -1))
    return np.asarray(model.coef_, dtype=float).ravel(), n_iter, n_iter < MAXITER


def _fit_sklearn(X, y, family, tol):
    import inspect

    from sklearn import linear_model as lm

    common = dict(fit_intercept=False, solver="newton-cholesky", tol=tol, max_iter=MAXITER)
    if family == "poisson":
        model = lm.PoissonRegressor(alpha=0, **common)
    elif family == "gamma":
        model = lm.GammaRegressor(alpha=0, **common)  # log link is GammaRegressor's only link
    else:
        default_penalty = inspect.signature(lm.LogisticRegression).parameters["penalty"].default
        if default_penalty == "deprecated":  # scikit-learn >= 1.8: no penalty is C=inf
            model = lm.LogisticRegression(C=np.inf, **common)
        else:
            model = lm.LogisticRegression(penalty=None, **common)
    model.fit(X, y)
    n_iter = int(np.max(getattr(model, "n_iter_", -1)))
    return np.asarray(model.coef_, dtype=float).ravel(), n_iter, n_iter < MAXITER


FITTERS = {
    "glmteach": _fit_glmteach,
    "statsmodels": _fit_statsmodels,
    "glum": _fit_glum,
    "sklearn": _fit_sklearn,
}


# --------------------------------------------------------------------------- memory


def _proc_status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS counter (Linux >= 4.0); False if not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        return False
    return _proc_status_kib("VmHWM") is not None


def _maxrss_kib() -> int:
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r // 1024 if sys.platform == "darwin" else r


def blas_info() -> list[dict]:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    keep = ("user_api", "internal_api", "version", "architecture", "num_threads",
            "threading_layer", "filepath")
    return [{k: d.get(k) for k in keep} for d in threadpool_info()]


# --------------------------------------------------------------------------- worker

PROTO = "@@ "  # prefix of protocol lines on the worker's stdout (engines may print too)


def _send(obj: dict) -> None:
    sys.stdout.write(PROTO + json.dumps(obj) + "\n")
    sys.stdout.flush()


def worker_loop(spec: dict) -> None:
    """Serve ``fit`` / ``quit`` commands from stdin for one (family, n, p, engine)."""
    family, n, p, engine, tol = spec["family"], spec["n"], spec["p"], spec["engine"], spec["tol"]
    fitter = FITTERS[engine]
    caught: list[str] = []

    def run(Xa, ya):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            result = fitter(Xa, ya, family, tol)
        caught.extend(f"{x.category.__name__}: {str(x.message)[:160]}" for x in w)
        return result

    try:
        # warm-up on a small problem (imports, lazy initialisation, BLAS buffers)
        Xs, ys, _ = make_data(family, 2_000, p, seed=SEED + 1)
        run(Xs, ys)
        del Xs, ys
        caught.clear()
        X, y, beta_true = make_data(family, n, p)
        gc.collect()
        syrk = syrk_time(X)
    except Exception as exc:
        _send({"error": f"setup: {type(exc).__name__}: {str(exc)[:200]}"})
        return
    _send({"ready": True, "x_bytes": int(X.nbytes)})

    out: dict = {"x_bytes": int(X.nbytes), "times": [], "syrk": syrk}
    params = None
    while True:
        cmd = sys.stdin.readline().strip()
        if cmd != "fit":
            break
        gc.collect()
        first = params is None
        if first:
            if _reset_peak():
                method, base = "VmHWM", _proc_status_kib("VmRSS")
            else:
                method, base = "ru_maxrss", _maxrss_kib()
        try:
            t0 = time.perf_counter()
            fitted, n_iter, converged = run(X, y)
            dt = time.perf_counter() - t0
        except Exception as exc:
            _send({"error": f"fit: {type(exc).__name__}: {str(exc)[:200]}"})
            return
        if first:
            peak = _proc_status_kib("VmHWM") if method == "VmHWM" else _maxrss_kib()
            params = fitted
            out.update(mem_method=method, baseline_bytes=int(base) * 1024,
                       extra_bytes=max(int(peak - base), 0) * 1024,
                       n_iter=n_iter, converged=converged)
        del fitted
        out["times"].append(dt)
        _send({"time": dt})

    if params is not None:
        # the syrk again, now that X's pages are warm and the fits are done: the smaller
        # of the two medians is the floor (the one taken right after generating X varied
        # 50-110 ms between runs on a shared 2-core machine)
        out["syrk"] = min(out["syrk"], syrk_time(X))
        np.save(spec["params_path"], params)
        out.update(
            median=statistics.median(out["times"]),
            max_abs_err_true=float(np.max(np.abs(params - beta_true))),
            warnings=sorted(set(caught))[:5],
            blas=blas_info(),
        )
    _send({"result": out})


def syrk_time(X: np.ndarray, repeats: int = 5) -> float:
    """The fastest one BLAS ``syrk`` X'X over the whole of X can be had here: the smallest
    of the median wall times (one warm-up call each) of numpy's ``X.T @ X`` and SciPy's
    ``dsyrk`` (two BLAS builds: on the README's machine numpy's does it in about half
    the time), each with the BLAS's default threads and with one thread.  The cost of
    one pass over X at the speed of the best BLAS at hand, the floor of a fit.

    An IRLS fit reads X at least once per iteration (X'WX) plus once for the covariance,
    so (iterations + 1) x this time is what a fit costs if everything but the BLAS
    product were free; a fit's time divided by it is the *floor ratio* of the table."""
    from scipy.linalg import blas
    from threadpoolctl import threadpool_limits

    A = X.T if X.flags.c_contiguous else np.asfortranarray(X)  # p x n, column-major view
    trans = 0 if X.flags.c_contiguous else 1
    products = (lambda: X.T @ X, lambda: blas.dsyrk(1.0, A, trans=trans))

    def median_time(product) -> float:
        product()
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            product()
            times.append(time.perf_counter() - t0)
        return statistics.median(times)

    medians = [median_time(product) for product in products]
    with threadpool_limits(limits=1, user_api="blas"):
        medians += [median_time(product) for product in products]
    return min(medians)


class Worker:
    """Parent-side handle of one worker subprocess (line protocol over pipes)."""

    def __init__(self, spec: dict, env: dict, errfile):
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", json.dumps(spec)]
        self.engine = spec["engine"]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=errfile, env=env, bufsize=0)
        self._buf = b""
        self.error: str | None = None
        self.fits = 0

    def send(self, command: str) -> None:
        self.proc.stdin.write((command + "\n").encode())
        self.proc.stdin.flush()

    def recv(self, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while True:
            while b"\n" in self._buf:
                line, self._buf = self._buf.split(b"\n", 1)
                text = line.decode(errors="replace")
                if text.startswith(PROTO):
                    return json.loads(text[len(PROTO):])
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no answer within {timeout:.0f} s")
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                raise EOFError(f"worker exited with code {self.proc.wait()}")
            self._buf += chunk

    def request(self, command: str, timeout: float) -> dict:
        try:
            self.send(command)
            return self.recv(timeout)
        except (TimeoutError, EOFError, BrokenPipeError, OSError) as exc:
            return {"error": str(exc)}

    def close(self, kill: bool = False) -> None:
        if kill and self.proc.poll() is None:
            self.proc.kill()
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=30)
            except (subprocess.TimeoutExpired, OSError):
                self.proc.kill()
                self.proc.wait()


def run_cell(family: str, n: int, p: int, engines: list[str], repeats: dict, args,
             env: dict, tmp: str) -> list[dict]:
    """Start one worker per engine, then time the fits in interleaved rounds.

    Round r asks every engine that still owes fits for one fit, in an order rotated by
    r, with a short pause in between so no engine's BLAS / OpenMP threads still spin
    while the next one runs. Interleaving makes the ratios robust to slow drifts in the
    machine's speed (other processes, frequency changes) during the run.
    """
    rows = {e: {"family": family, "n": n, "p": p, "engine": e} for e in engines}
    workers: dict[str, Worker] = {}
    background: list[float] = []
    errlog = open(os.path.join(tmp, f"{family}-{n}-{p}.stderr"), "w+b")  # noqa: SIM115
    try:
        for e in engines:
            spec = dict(family=family, n=n, p=p, engine=e, tol=args.tol,
                        params_path=os.path.join(tmp, f"{family}-{n}-{p}-{e}.npy"))
            workers[e] = Worker(spec, env, errlog)
        for e, wk in list(workers.items()):
            msg = _recv_or_error(wk, args.timeout)
            if "error" in msg:
                rows[e]["error"] = msg["error"]
                wk.close()
                del workers[e]
        for r in range(max(repeats.values(), default=0)):
            order = engines[r % len(engines):] + engines[:r % len(engines)]
            for e in order:
                wk = workers.get(e)
                if wk is None or wk.fits >= repeats[e]:
                    continue
                busy = quiet_pause(args.pause, args.quiet_wait, args.quiet_threshold)
                if busy is not None:
                    background.append(busy)
                msg = wk.request("fit", args.timeout)
                if "error" in msg:
                    rows[e]["error"] = msg["error"]
                    wk.close()
                    del workers[e]
                    continue
                wk.fits += 1
        for e, wk in workers.items():
            msg = wk.request("quit", args.timeout)
            if "error" in msg:
                rows[e]["error"] = msg["error"]
            else:
                rows[e].update(msg["result"])
                rows[e]["params"] = np.load(os.path.join(tmp, f"{family}-{n}-{p}-{e}.npy"))
    except BaseException:  # interrupted (Ctrl-C, SIGTERM): stop the workers at once
        for wk in workers.values():
            wk.close(kill=True)
        raise
    finally:
        for wk in workers.values():
            wk.close()
        errlog.seek(0)
        tail = errlog.read().decode(errors="replace").strip().splitlines()
        errlog.close()
    for row in rows.values():
        row["background_cpu"] = statistics.mean(background) if background else None
        if "error" in row and tail:
            row["stderr_tail"] = tail[-3:]
    return [rows[e] for e in engines]


def _cpu_times() -> tuple[int, int] | None:
    """(busy, total) jiffies of all CPUs from /proc/stat, or None."""
    try:
        with open("/proc/stat") as fh:
            vals = [int(v) for v in fh.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = vals[3] + (vals[4] if len(vals) > 4 else 0)  # idle + iowait
    total = sum(vals[:8])  # guest time is already counted in user
    return total - idle, total


def quiet_pause(pause: float, max_wait: float, threshold: float) -> float | None:
    """Sleep ``pause`` seconds (our workers are all idle then) and return the fraction of
    CPU time other processes used meanwhile; with ``max_wait`` > 0 keep sleeping in
    ``pause`` slices, up to ``max_wait`` seconds, until that fraction is <= threshold."""
    waited = 0.0
    while True:
        a = _cpu_times()
        time.sleep(pause)
        b = _cpu_times()
        waited += pause
        busy = None if a is None or b is None or b[1] == a[1] else (b[0] - a[0]) / (b[1] - a[1])
        if busy is None or busy <= threshold or waited >= max_wait:
            return busy


def _recv_or_error(wk: Worker, timeout: float) -> dict:
    try:
        return wk.recv(timeout)
    except (TimeoutError, EOFError, OSError) as exc:
        return {"error": str(exc)}


# --------------------------------------------------------------------------- driver


def _parse_sizes(text: str) -> list[int]:
    return [int(float(t)) for t in text.split(",") if t.strip()]


def _parse_list(text: str, allowed) -> list[str]:
    items = [t.strip().lower() for t in text.split(",") if t.strip()]
    bad = [t for t in items if t not in allowed]
    if bad:
        raise argparse.ArgumentTypeError(f"unknown {bad}; choose from {list(allowed)}")
    return items


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="n in {1e4, 1e5}, 3 repeats, README not written")
    ap.add_argument("--families", default=",".join(FAMILIES),
                    help="comma list of poisson,gamma,binomial")
    ap.add_argument("--engines", default=",".join(ENGINES),
                    help="comma list of glmteach,statsmodels,glum,sklearn")
    ap.add_argument("--n", default=None, help="comma list of n (default 1e4,1e5,1e6)")
    ap.add_argument("--p", default="20,50", help="comma list of p (default 20,50)")
    ap.add_argument("--repeats", type=int, default=None,
                    help="fits per cell (default 5 for n <= 1e5, 3 above; quick: 3)")
    ap.add_argument("--statsmodels-repeats-large", type=int, default=1,
                    help="fits per cell for statsmodels when n > 1e5 (default 1)")
    ap.add_argument("--skip-statsmodels-above", type=float, default=None,
                    help="do not run statsmodels when n * p exceeds this (default: always run)")
    ap.add_argument("--tol", type=float, default=TOL,
                    help="tolerance given to every engine (default 1e-10)")
    ap.add_argument("--timeout", type=float, default=1800,
                    help="seconds allowed for one fit (or one worker's start-up)")
    ap.add_argument("--pause", type=float, default=0.3,
                    help="seconds of quiet between two fits (lets BLAS threads go idle)")
    ap.add_argument("--quiet-wait", type=float, default=0.0,
                    help="before each fit wait up to this many seconds for other processes "
                         "to use <= --quiet-threshold of the CPUs (default 0: do not wait)")
    ap.add_argument("--quiet-threshold", type=float, default=0.15,
                    help="fraction of all CPUs (default 0.15)")
    ap.add_argument("--threads", type=int, default=None,
                    help="limit BLAS/OpenMP threads in the workers (default: library defaults)")
    ap.add_argument("--openblas-coretype", default=None,
                    help="set OPENBLAS_CORETYPE for the workers (documented in the README)")
    ap.add_argument("--readme", default=None,
                    help="where to write the Markdown report (default benchmarks/README.md "
                         "for a full run, nothing for --quick)")
    ap.add_argument("--no-readme", action="store_true", help="do not write a README")
    ap.add_argument("--json", default=None, help="also dump raw results to this JSON file")
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    return ap


def fmt_time(t):
    return "—" if t is None else (f"{t:.3f}" if t < 10 else f"{t:.1f}")


def fmt_ratio(r):
    return "—" if r is None else f"{r:.2f}"


def fmt_err(e):
    return "—" if e is None else f"{e:.1e}"


def fmt_load(b):
    return "—" if b is None else f"{100 * b:.0f}%"


def fmt_mem(m):
    return "—" if m is None else f"{m:.1f}"


def _n_label(n: int) -> str:
    if n >= 1000 and n % 1000 == 0:
        exp = int(np.log10(n))
        if 10**exp == n:
            return f"1e{exp}"
    return str(n)


TABLE_HEAD = (
    "| family | n | p | engine | median time (s) | min (s) | fits | glmteach ÷ engine | iters "
    "| × floor | extra mem (× X) | max abs Δβ vs statsmodels | other load |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def table_rows(rows: list[dict]) -> list[str]:
    lines = []
    for r in rows:
        if "error" in r:
            lines.append(
                f"| {r['family']} | {_n_label(r['n'])} | {r['p']} | {r['engine']} "
                f"| error: {r['error']} {' / '.join(r.get('stderr_tail', []))[:200]} "
                f"| | | | | | | | |"
            )
            continue
        iters = f"{r['n_iter']}" + ("" if r["converged"] else " (not conv.)")
        lines.append(
            f"| {r['family']} | {_n_label(r['n'])} | {r['p']} | {r['engine']} "
            f"| {fmt_time(r['median'])} | {fmt_time(min(r['times']))} | {len(r['times'])} "
            f"| {fmt_ratio(r.get('ratio'))} "
            f"| {iters} | {fmt_ratio(floor_ratio(r))} "
            f"| {fmt_mem(r['extra_bytes'] / r['x_bytes'])} "
            f"| {fmt_err(r.get('diff_sm'))} | {fmt_load(r.get('background_cpu'))} |"
        )
    return lines


def floor_ratio(row: dict) -> float | None:
    """Median fit time / ((iterations + 1) x one syrk of X): see ``syrk_time``."""
    syrk, n_iter = row.get("syrk"), row.get("n_iter")
    if not syrk or n_iter is None or n_iter < 0:
        return None
    return row["median"] / ((n_iter + 1) * syrk)


def assess_targets(rows: list[dict]) -> list[str]:
    """Plain-language verdicts against the issue's targets (never asserted)."""
    ok = [r for r in rows if "error" not in r]
    by = {(r["family"], r["n"], r["p"], r["engine"]): r for r in ok}
    out = []
    fam, n, p = TARGET_CELL
    g = by.get((fam, n, p, "glmteach"))
    if g is None:
        out.append(f"- Target cell ({fam}, n={_n_label(n)}, p={p}) was not run for glmteach.")
    else:
        sk = by.get((fam, n, p, "sklearn"))
        sm = by.get((fam, n, p, "statsmodels"))
        if sk:
            r = g["median"] / sk["median"]
            verdict = "MET" if r <= TARGET_SKLEARN_RATIO else "MISSED"
            out.append(f"- glmteach ÷ scikit-learn time = {r:.2f} (target ≤ "
                       f"{TARGET_SKLEARN_RATIO:.1f}): {verdict}")
        if sm:
            s = sm["median"] / g["median"]
            verdict = "MET" if s >= TARGET_SM_SPEEDUP else "MISSED"
            out.append(f"- statsmodels ÷ glmteach time = {s:.1f}× (target ≥ "
                       f"{TARGET_SM_SPEEDUP:.0f}×): {verdict}")
        floor = floor_ratio(g)
        if floor is not None:
            out.append(f"- glmteach time ÷ ((iterations + 1) × one syrk of X) = {floor:.2f} "
                       f"(issue 16 target ≤ {TARGET_FLOOR:.0f}): "
                       f"{'MET' if floor <= TARGET_FLOOR else 'MISSED'}")
        if sk:
            r = g["median"] / sk["median"]
            out.append(f"- glmteach ÷ scikit-learn time = {r:.2f} (issue 16 target ≤ "
                       f"{TARGET_SKLEARN_HALF:.1f}): "
                       f"{'MET' if r <= TARGET_SKLEARN_HALF else 'MISSED'}")
        m = g["extra_bytes"] / g["x_bytes"]
        out.append(f"- glmteach peak extra memory = {m:.2f} × X (target ≤ {TARGET_MEM_X:.0f} × X): "
                   f"{'MET' if m <= TARGET_MEM_X else 'MISSED'}")
        if g.get("diff_sm") is not None:
            d = g["diff_sm"]
            out.append(f"- max |β_glmteach − β_statsmodels| = {d:.1e} "
                       f"(target ≤ {TARGET_COEF:.0e}): {'MET' if d <= TARGET_COEF else 'MISSED'}")
    slower = []
    compared = 0
    for (f, nn, pp, e), r in by.items():
        if e != "glmteach":
            continue
        sm = by.get((f, nn, pp, "statsmodels"))
        if sm is None:
            continue
        compared += 1
        if r["median"] > sm["median"]:
            slower.append(f"{f} n={_n_label(nn)} p={pp} ({r['median'] / sm['median']:.2f}×)")
    if compared:
        verdict = "MET" if not slower else "MISSED in " + ", ".join(slower)
        out.append(f"- glmteach at least as fast as statsmodels in all {compared} compared "
                   f"cells: {verdict}")
    return out


def machine_info(blas: list[dict]) -> list[str]:
    import importlib.metadata as md

    lines = [
        f"- date: {_readme.now()}",
        f"- platform: {platform.platform()}; CPU: {_cpu_name()}; "
        f"logical CPUs: {os.cpu_count()}; RAM: {_ram_gib():.0f} GiB",
        f"- Python {platform.python_version()}",
    ]
    vers = []
    for pkg in ("glmteach", "numpy", "scipy", "statsmodels", "glum", "tabmat", "scikit-learn",
                "threadpoolctl"):
        try:
            vers.append(f"{pkg} {md.version(pkg)}")
        except md.PackageNotFoundError:
            vers.append(f"{pkg} (not installed)")
    lines.append("- versions: " + ", ".join(vers))
    env = {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE",
                                          "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                          "MKL_NUM_THREADS")}
    lines.append("- environment: " + ", ".join(f"{k}={v if v is not None else '(unset)'}"
                                                 for k, v in env.items()))
    for d in blas:
        lines.append(
            f"- threadpoolctl (in the workers): {d.get('user_api')}/{d.get('internal_api')} "
            f"{d.get('version')}, kernel architecture **{d.get('architecture')}**, "
            f"{d.get('num_threads')} threads, {d.get('threading_layer')} "
            f"(`{Path(str(d.get('filepath'))).name}`)"
        )
    return lines


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_gib() -> float:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        return float("nan")


def git_state() -> str:
    try:
        head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "glmteach"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    if not head:
        return "unknown"
    return head + (" (glmteach/ has uncommitted changes)" if dirty else "")


def render_report(rows, args, argv, elapsed, blas, context) -> str:
    mem_methods = sorted({r["mem_method"] for r in rows if "mem_method" in r})
    cmd = "python benchmarks/run.py" + ("" if not argv else " " + " ".join(argv))
    parts = [
        "# glmteach benchmarks",
        "",
        "glmteach's `gt.fit` against statsmodels `GLM`, glum `GeneralizedLinearRegressor` and "
        "scikit-learn (`PoissonRegressor` / `GammaRegressor` / `LogisticRegression`, "
        "`solver=\"newton-cholesky\"`, no penalty), all measured **in the same run** "
        "on the same data. This file is written by `benchmarks/run.py`; do not edit the table "
        "by hand.",
        "",
        "## Reproduce",
        "",
        "```sh",
        "make bench                                   # installs the `bench` extra, full run",
        "python benchmarks/run.py --quick             # n <= 1e5, 3 repeats, prints only",
        "python benchmarks/run.py --families poisson --n 1e6 --p 20",
        "python benchmarks/run.py --skip-statsmodels-above 2e7   # skip statsmodels if n*p > 2e7",
        "python benchmarks/run.py --openblas-coretype Haswell    # compare another BLAS kernel",
        "python benchmarks/run.py --threads 1 --quiet-wait 5     # on a busy machine",
        "python benchmarks/notebooks_time.py          # wall time of every notebook",
        "python benchmarks/stepper_redraw.py          # IRLS stepper widget redraw latency",
        "```",
        "",
        f"This table came from `{cmd}` and took {elapsed / 60:.1f} min.",
        "",
        "## Method",
        "",
        "- Data: `X = [1, Z]`, `Z` standard normal, float64, C order; slopes "
        "`N(0,1)·0.5/√(p−1)` so the linear predictor's spread is ≈ 0.5; intercepts 0.5 "
        "(Poisson), 1.0 (Gamma, shape 2, log link), −0.3 (Binomial, logit). The seed is fixed "
        "per (family, n, p); every engine sees identical data.",
        "- Every engine gets X *with* its intercept column and `fit_intercept=False` "
        "(glum, scikit-learn), the same maximum of 100 iterations and a tight tolerance "
        f"({args.tol:g}): statsmodels `fit(tol=…)` (deviance change), glmteach `tol=…` "
        "(its default rule: the estimated relative distance of the coefficients to the "
        "optimum at most tol/10), glum `gradient_tol=…` and `step_size_tol=…/100` "
        "(without the latter glum's irls-ls solver can hit its iteration limit at a gradient "
        "that rounding keeps above 1e-10, e.g. binomial n = 1e6, p = 50), "
        "scikit-learn `tol=…`.",
        "- Each (family, n, p, engine) runs in its own fresh subprocess: import + warm-up fit on "
        "n = 2,000, then the data are generated. The engines of a cell are timed in "
        "interleaved rounds (one fit each per round, order rotated, "
        f"{args.pause:g} s pause between fits) so drifts in machine speed hit all of them "
        "alike. **Time** is the median wall time (`time.perf_counter`) of an engine's fits "
        "(column *fits*). "
        "**glmteach ÷ engine** < 1 means glmteach is faster.",
        "- **Extra memory** is the peak resident set size during the first full-size fit minus "
        "the resident set size just before it (data already in memory), divided by "
        "`X.nbytes`. "
        + (
            "It is measured by resetting the kernel's high-water mark "
            "(`echo 5 > /proc/self/clear_refs`) and reading `VmHWM` from "
            "`/proc/self/status` — this counts everything the process touches (NumPy, BLAS "
            "workspace, C extensions), unlike `tracemalloc`, and it is not polluted by the "
            "data generation's own peak, unlike a plain `ru_maxrss` delta. "
            if "VmHWM" in mem_methods
            else ""
        )
        + (
            "Where that was not possible, `ru_maxrss` deltas were used (generation is chunked "
            "so its own peak is ≈ X + y). "
            if "ru_maxrss" in mem_methods
            else ""
        )
        + "Memory the allocator reuses without returning to the OS is not double counted; "
        "memory kept by the result object is included.",
        "- **× floor** is the engine's median time ÷ ((its iterations + 1) × the median time "
        "of one BLAS syrk X'X over the whole of X (the fastest of numpy's `X.T @ X` and "
        "SciPy's `dsyrk`, each with the default threads and with one), measured in the "
        "same worker before and after the fits, the smaller of the two medians): how far "
        "the fit is from the cost of reading X once per iteration plus once for the "
        "covariance at BLAS speed (1 = nothing but the products).",
        "- **max abs Δβ vs statsmodels** is the largest absolute coefficient difference to "
        "statsmodels fitted on the same data.",
        ("- BLAS / OpenMP threads are left at the libraries' defaults (all cores)."
         if not args.threads else
         f"- BLAS / OpenMP threads limited to {args.threads} (`OMP_NUM_THREADS`, "
         "`OPENBLAS_NUM_THREADS`, `MKL_NUM_THREADS` set for the workers)."),
        "- **other load** is the mean share of all CPUs that *other* processes used during "
        "the pauses before the cell's fits (our workers are idle then; from `/proc/stat`). "
        "Multi-threaded fits slow down badly when it is high (a thread that loses its core "
        "stalls the others at every barrier), so times with a high value are noisy"
        + (f"; each fit waited up to {args.quiet_wait:g} s for it to drop to "
           f"{100 * args.quiet_threshold:.0f}%." if args.quiet_wait else "."),
        "",
        "## Machine",
        "",
        *machine_info(blas),
        f"- glmteach commit: {context['git']}",
        f"- load average (1, 5, 15 min) at start: {context['load_start']}; at end: "
        f"{_readme.load_average()} — other processes on the machine add noise; the interleaved "
        "rounds keep the ratios fair, the absolute times less so",
        "",
        "## Results",
        "",
        TABLE_HEAD,
        *table_rows(rows),
        "",
        "## Against the targets (issues 8 and 16)",
        "",
        "Targets: at n = 1e6, p = 20, Poisson: glmteach ≤ 1.0× scikit-learn's time, ≥ 8× faster "
        "than statsmodels, peak extra memory ≤ 4× X, coefficients within 1e-6 of statsmodels; "
        "everywhere at least as fast as statsmodels (issue 8); within 2× of (iterations + 1) "
        "syrk passes over X and under half of scikit-learn's time (issue 16).",
        "",
        *assess_targets(rows),
        "",
    ]
    warn_lines = []
    for r in rows:
        for w in r.get("warnings", []) or []:
            warn_lines.append(f"- {r['engine']} ({r['family']}, n={_n_label(r['n'])}, "
                              f"p={r['p']}): {w}")
    if warn_lines:
        parts += ["## Warnings raised during the fits", "", *warn_lines, ""]
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    if args.worker is not None:
        worker_loop(json.loads(args.worker))
        return 0

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run `finally`: stop workers
    families = _parse_list(args.families, FAMILIES)
    engines = _parse_list(args.engines, ENGINES)
    ns = _parse_sizes(args.n) if args.n else ([10_000, 100_000] if args.quick
                                              else [10_000, 100_000, 1_000_000])
    ps = _parse_sizes(args.p)

    env = dict(os.environ)
    if args.threads:
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = str(args.threads)
    if args.openblas_coretype:
        env["OPENBLAS_CORETYPE"] = args.openblas_coretype
        os.environ["OPENBLAS_CORETYPE"] = args.openblas_coretype  # for the README's record

    def repeats_for(engine, n):
        if engine == "statsmodels" and n > 100_000:
            return max(1, args.statsmodels_repeats_large)
        if args.repeats:
            return args.repeats
        if args.quick:
            return 3
        return 5 if n <= 100_000 else 3

    rows: list[dict] = []
    blas: list[dict] = []
    t_start = time.perf_counter()
    context = {"git": git_state(), "load_start": _readme.load_average()}
    print(TABLE_HEAD, flush=True)
    with tempfile.TemporaryDirectory(prefix="glmteach-bench-") as tmp:
        for family in families:
            for n in ns:
                for p in ps:
                    cell_engines = [
                        e for e in engines
                        if not (e == "statsmodels" and args.skip_statsmodels_above is not None
                                and n * p > args.skip_statsmodels_above)
                    ]
                    reps = {e: repeats_for(e, n) for e in cell_engines}
                    cell = run_cell(family, n, p, cell_engines, reps, args, env, tmp)
                    for res in cell:
                        blas = blas or res.get("blas", [])
                    _finish_cell(cell)
                    for line in table_rows(cell):
                        print(line, flush=True)
                    rows.extend(cell)
    elapsed = time.perf_counter() - t_start

    print()
    for line in assess_targets(rows):
        print(line)
    print(f"\ntotal {elapsed / 60:.1f} min")

    readme = None if args.no_readme else (args.readme or (None if args.quick
                                                          else str(HERE / "README.md")))
    if readme:
        report = render_report(rows, args, argv, elapsed, blas, context)
        if Path(readme).resolve() == _readme.README:  # keep the other scripts' sections
            kept = [_readme.get_section(name) for name in ("notebooks", "stepper", "dask")]
            report = report.rstrip() + "\n\n" + "\n\n".join(k for k in kept if k) + "\n"
        Path(readme).write_text(report)
        print(f"wrote {readme}")
    if args.json:
        clean = [{k: v for k, v in r.items() if k != "params"} for r in rows]
        Path(args.json).write_text(json.dumps(clean, indent=1))
    return 0


def _finish_cell(cell: list[dict]) -> None:
    ok = {r["engine"]: r for r in cell if "error" not in r}
    g = ok.get("glmteach")
    sm = ok.get("statsmodels")
    for r in ok.values():
        r["ratio"] = g["median"] / r["median"] if g else None
        r["diff_sm"] = float(np.max(np.abs(r["params"] - sm["params"]))) if sm else None


if __name__ == "__main__":
    sys.exit(main())
