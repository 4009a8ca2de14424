"""gt.fit on a 2-worker dask LocalCluster: time and client memory (issue 16).

The data (Poisson, X = [1, Z] with Z standard normal, default 3,000,000 x 20, 480 MB)
are generated on the workers chunk by chunk and kept there (``persist``); the client
never holds them.  For each chunk size the fit is timed (median of ``--repeats`` fits)
and the client process's peak resident memory during the first fit is measured (the
kernel's high-water mark ``VmHWM`` reset through ``/proc/self/clear_refs`` just before
it), as in ``run.py``.  The client process also hosts the LocalCluster's scheduler (it
only keeps task metadata); the workers are separate processes.

For contrast, the last row pulls X and y into the client (``X.compute()``) and fits in
memory - what ``gt.fit`` did with a dask array before issue 16 - with the same clock
and memory measure, and its coefficients are compared with the dask fit's.

Usage::

    python benchmarks/dask_cluster.py                   # prints the table
    python benchmarks/dask_cluster.py --readme          # and writes its README section
    python benchmarks/dask_cluster.py --n 1e6 --chunks 125000,250000
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
import _readme  # noqa: E402
from run import _proc_status_kib as _status_kib  # noqa: E402  (one /proc reader)

SEED = 20240616
BASE_ROWS = 75_000  # data are drawn in blocks of this many rows, whatever the chunk size


def _slopes(p: int) -> np.ndarray:
    """Coefficients of the simulated model: intercept 0.5, slopes N(0, 1) 0.5 / sqrt(p - 1)
    (as run.py's data: the linear predictor's spread is about 0.5)."""
    rng = np.random.default_rng([SEED, p])
    beta = rng.standard_normal(p) * (0.5 / np.sqrt(max(p - 1, 1)))
    beta[0] = 0.5
    return beta


def _rows_block(block_info=None, p: int = 20):
    """Rows [start, stop) of [X | y], drawn on a worker.  Each BASE_ROWS rows come from
    their own seeded generator, so the data are the same for every chunk size (a
    multiple of BASE_ROWS)."""
    start, stop = block_info[None]["array-location"][0]
    beta = _slopes(p)
    out = np.empty((stop - start, p + 1))
    for first in range(start, stop, BASE_ROWS):
        last = min(first + BASE_ROWS, stop)
        rng = np.random.default_rng([SEED, p, first // BASE_ROWS])
        block = out[first - start:last - start]
        block[:, 0] = 1.0
        block[:, 1:p] = rng.standard_normal((last - first, p - 1))
        block[:, p] = rng.poisson(np.exp(block[:, :p] @ beta))
    return out


def make_data(n: int, p: int, rows: int, client):
    """X (n x p) and y on the workers, chunked by ``rows`` rows, persisted."""
    import dask.array as da
    from distributed import wait

    if rows % BASE_ROWS and rows < n:
        raise ValueError(f"--chunks: chunk sizes must be multiples of {BASE_ROWS} rows")
    chunks = tuple(min(rows, n - s) for s in range(0, n, rows))
    both = da.map_blocks(_rows_block, p=p, chunks=(chunks, (p + 1,)), dtype=float,
                         meta=np.empty((0, 0)))
    X, y = client.persist([both[:, :p], both[:, p]])
    wait([X, y])
    return X, y


def _reset_peak() -> int | None:
    """Reset VmHWM; the current RSS in bytes, or None where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        return None
    rss = _status_kib("VmRSS")
    return None if rss is None else rss * 1024


def _peak_since(base: int | None) -> int | None:
    hwm = _status_kib("VmHWM")
    return None if base is None or hwm is None else max(hwm * 1024 - base, 0)


def timed(fit, repeats: int):
    """(result, median seconds, client peak extra bytes of the first call)."""
    times, peak, res = [], None, None
    for k in range(repeats):
        gc.collect()
        base = _reset_peak() if k == 0 else None
        t0 = time.perf_counter()
        res = fit()
        times.append(time.perf_counter() - t0)
        if k == 0:
            peak = _peak_since(base)
    return res, statistics.median(times), peak


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=float, default=3e6)
    ap.add_argument("--p", type=int, default=20)
    ap.add_argument("--chunks", default="150000,375000,750000",
                    help="comma list of rows per chunk (multiples of 75000)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-in-memory", action="store_true",
                    help="skip the X.compute() + in-memory fit row")
    ap.add_argument("--readme", action="store_true",
                    help="write the 'dask' section of benchmarks/README.md")
    args = ap.parse_args(argv)
    n, p = int(args.n), args.p
    sizes = [int(float(c)) for c in args.chunks.split(",") if c.strip()]

    import logging

    from distributed import Client, LocalCluster

    import glmteach as gt

    logging.getLogger("distributed").setLevel(logging.ERROR)  # no shutdown chatter

    head = ("| rows per chunk | chunks | median time (s) | fits | iters | client peak extra "
            "memory (MB) | (× X) | max abs Δβ vs in-memory fit |\n"
            "|---|---|---|---|---|---|---|---|")
    print(head, flush=True)
    lines = []
    x_bytes = 8 * n * p
    t_start = time.perf_counter()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None, silence_logs=logging.CRITICAL) as cluster, \
            Client(cluster) as client:
        results = {}
        for rows in sizes:
            X, y = make_data(n, p, rows, client)
            res, median, peak = timed(lambda X=X, y=y: gt.fit(X, y, family=gt.Poisson()),
                                      args.repeats)
            results[rows] = (res, median, peak, len(X.chunks[0]))
            del X, y
            client.run(gc.collect)
        reference = None
        if not args.no_in_memory:
            X, y = make_data(n, p, sizes[-1], client)

            def in_memory(X=X, y=y):
                return gt.fit(X.compute(), y.compute(), family=gt.Poisson())

            reference, ref_median, ref_peak = timed(in_memory, 1)
            del X, y
        for rows, (res, median, peak, k) in results.items():
            diff = "—" if reference is None else \
                f"{np.max(np.abs(np.asarray(res.params) - reference.params)):.1e}"
            mem = "—" if peak is None else f"{peak / 2**20:.0f} | {peak / x_bytes:.3f}"
            line = (f"| {rows:,} | {k} | {median:.2f} | {args.repeats} | {res.n_iter} "
                    f"| {mem} | {diff} |")
            lines.append(line)
            print(line, flush=True)
        if reference is not None:
            mem = "—" if ref_peak is None else f"{ref_peak / 2**20:.0f} | {ref_peak / x_bytes:.2f}"
            line = (f"| in memory: X.compute() + gt.fit | 1 | {ref_median:.2f} | 1 "
                    f"| {reference.n_iter} | {mem} | 0 |")
            lines.append(line)
            print(line, flush=True)
    elapsed = time.perf_counter() - t_start
    if args.readme:
        cmd = "python benchmarks/dask_cluster.py" + ("" if argv is None and len(sys.argv) < 2
                                                     else " " + " ".join(sys.argv[1:]))
        body = "\n".join([
            "## gt.fit on a 2-worker dask LocalCluster (issue 16)",
            "",
            f"Poisson, n = {n:,}, p = {p} (X = {x_bytes / 2**20:.0f} MB), generated on the "
            "workers chunk by chunk and persisted there; `LocalCluster(n_workers=2, "
            "threads_per_worker=1, processes=True)`. Each iteration is one reduction over "
            "the chunks; only p × p sums come back to the client. *Client peak extra memory* "
            "is the rise of the client process's peak resident set (`VmHWM`, reset just "
            "before the first fit) during that fit; the client process also hosts the "
            "scheduler. The last row pulls X and y into the client and fits in memory, for "
            "contrast.",
            "",
            f"`{cmd}` ({_readme.now()}, load average {_readme.load_average()}, "
            f"{elapsed / 60:.1f} min):",
            "",
            head,
            *lines,
        ])
        _readme.put_section("dask", body)
        print(f"updated {_readme.README}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
