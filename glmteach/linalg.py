"""The linear algebra of a fit, as pure functions of arrays: X'WX, X'r and their solution.

Every Fisher scoring step is one weighted least squares regression (Frees 2010,
section 13.9.4): with working weights W_i and a right-hand side r_i = W_i z_i,

    (X' W X) beta = X' r .

This module forms X'WX and X'r in one blocked pass over the rows of X (never an n x n
matrix, never a copy of X) and solves the p x p system with a Cholesky factor, falling
back to least squares by pivoted QR when the matrix is not positive definite.  It knows
nothing of families, links or GLMs: it imports only numpy and scipy (and, for a large
pass, ``threadpoolctl`` to put the BLAS on one thread while the rows are shared among
threads), so every layer above it (``problem``, ``irls``, a chunked back end) can use it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy import linalg

__all__ = ["BLOCK_BYTES", "crossprod", "threads_for_pass", "map_row_parts", "matvec",
           "threads_for_rows", "map_vector_parts",
           "weighted_column_sums_of_squares", "weighted_normal_equations", "cholesky_solver",
           "solve_weighted_least_squares", "aliased_columns"]

# X' W X is accumulated over blocks of rows of about this many bytes of X: small enough
# that a block scaled by sqrt(W) stays in the CPU cache while BLAS adds it in, large
# enough that the Python loop over blocks costs nothing next to the arithmetic.
BLOCK_BYTES = 1 << 20

Solver = Callable[[np.ndarray], np.ndarray]

# The blocked pass makes one small BLAS product per block of rows.  With p columns a block
# product costs about BLOCK_BYTES / 8 * p flops; up to SINGLE_THREAD_MAX_P columns that is
# too little work to share: waking the BLAS's other threads for every block costs more
# than it saves (benchmarks/README.md machine, 2 cores, 1e6 x 20: 33 ms with one thread,
# 40-80 ms with two; 4e5 x 50: 54 against 78 ms; but 1e5 x 200: 122 against 87 ms).
# So a large pass with few columns runs the BLAS on one thread and shares the rows out
# instead (``threads_for_pass``): parts of PART_BLOCKS blocks go to a pool of threads,
# one per CPU (numpy's ``dot`` and ufuncs release the GIL; 1e6 x 20: 33 -> 19-27 ms on
# 2 cores).  The parts depend on n and p only, and their sums are added in order, so the
# result is the same whatever the number of threads.
SINGLE_THREAD_MAX_P = 64
SINGLE_THREAD_MIN_SIZE = 1_000_000  # n * p below this: one thread, the BLAS left alone
PART_BLOCKS = 16
# Element-wise work on n-vectors is shared out in parts of this many rows (512 KB of each
# float vector: a part's temporaries stay in the cache); see ``map_vector_parts``.
VECTOR_PART_ROWS = 1 << 16
_blas_controller = None
_pools: dict[int, ThreadPoolExecutor] = {}
if hasattr(os, "register_at_fork"):  # a forked child has none of the parent's threads
    os.register_at_fork(after_in_child=_pools.clear)


def crossprod(A: np.ndarray) -> np.ndarray:
    """A'A as a full symmetric matrix: numpy's ``A.T @ A`` calls BLAS ``syrk`` (half the
    work of a general product) on A as it is stored, by rows or by columns, without a
    copy."""
    return A.T @ A


@contextlib.contextmanager
def threads_for_pass(n: int, p: int):
    """Context for a pass of BLAS products over an n x p X; yields the number of threads
    to share its rows among (``threads`` of ``weighted_normal_equations`` and
    ``matvec``).  When p <= SINGLE_THREAD_MAX_P and n * p >= SINGLE_THREAD_MIN_SIZE (see
    there) that is the number of CPUs this process may use, and the BLAS runs on one
    thread inside the context (``threadpoolctl``, imported only then; the previous
    thread counts are restored on exit); otherwise it is 1 and the BLAS is left alone."""
    global _blas_controller
    if p > SINGLE_THREAD_MAX_P or n * p < SINGLE_THREAD_MIN_SIZE:
        yield 1
        return
    if _blas_controller is None:
        import threadpoolctl
        _blas_controller = threadpoolctl.ThreadpoolController()
    with _blas_controller.limit(limits=1, user_api="blas"):
        yield _cpus()


def _cpus() -> int:
    """The number of CPUs this process may use."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, cpus or 1)


def threads_for_rows(n: int) -> int:
    """How many threads to share row-by-row work on n-vectors among
    (``map_vector_parts``): the number of CPUs when there are at least two parts of
    VECTOR_PART_ROWS rows, else 1."""
    return _cpus() if n >= 2 * VECTOR_PART_ROWS else 1


def weighted_column_sums_of_squares(X: np.ndarray, weights: np.ndarray | None,
                                    threads: int = 1) -> np.ndarray:
    """sum_i w_i x_ij^2 for each column j (``weights`` None: all 1): the diagonal of
    X' W X without the rest of it, in one blocked pass over X (squares of a block of
    rows, then one matrix-vector product), a fifth of the time of the whole X' W X; by
    the parts of rows of ``map_row_parts``, shared among ``threads`` threads."""
    n, p = X.shape
    rows = _block_rows(p)
    ones = np.ones(min(rows, n)) if weights is None else None  # (one block's worth)

    def part(start: int, stop: int) -> np.ndarray:
        buffer = np.empty((min(rows, stop - start), p))
        sums = np.zeros(p)
        for first in range(start, stop, rows):
            last = min(first + rows, stop)
            squares = buffer[:last - first]
            np.square(X[first:last], out=squares)
            sums += np.dot(ones[:last - first] if weights is None else weights[first:last],
                           squares)
        return sums

    return np.sum(map_row_parts(part, n, p, threads), axis=0)


def weighted_normal_equations(X: np.ndarray, weights: np.ndarray,
                              rhs: np.ndarray | None = None, threads: int = 1):
    """X' W X with W = diag(weights), and X' rhs when ``rhs`` is given, in one pass over
    the rows of X (in a fit, ``weights`` are the working weights W_i of a step).

    The sums run over rows, sum_i W_i x_i x_i' and sum_i rhs_i x_i, so a block of rows
    gives its own part and the parts add up: the function works on the whole X or on any
    block of its rows.  X is read in blocks of about ``BLOCK_BYTES``.  For weights w >= 0
    (Fisher scoring, and Newton's observed information with a canonical link) each block
    is scaled by sqrt(w) into a small buffer that is reused, and (sqrt(W) X_b)' (sqrt(W)
    X_b) is added to the sum: numpy's ``dot`` of A' and A calls BLAS ``syrk`` (half the
    work of a general product; on the machine of benchmarks/README.md numpy's BLAS does
    it in half the time of SciPy's ``dsyrk``).  Weights of either sign use one general
    product per block.  X' rhs is taken from the same block while it is still in the
    cache, one matrix-vector product per right-hand side (faster than one n x p by p x k
    product for a few columns); ``rhs`` may be an (n, k) array, giving the p x k matrix
    X' rhs of k right-hand sides from the same pass (stored by columns, ``rhs.T``
    contiguous, it is read without a copy).  The blocks are summed in parts of
    PART_BLOCKS blocks, and the parts in order (``map_row_parts``); ``threads`` > 1
    shares the parts among that many threads, with the same result (see
    ``threads_for_pass``).  Memory: p x p plus one block per thread - no n x n matrix
    and no n x p copy of X.
    """
    n, p = X.shape
    rows = _block_rows(p)
    signed = weights.size > 0 and bool(np.min(weights) < 0)  # (no n-vector of booleans)
    row_factor = weights if signed else np.sqrt(weights)  # scaled: W X_b or sqrt(W) X_b
    columns = None if rhs is None else np.ascontiguousarray(np.atleast_2d(np.asarray(rhs).T))

    def part(start: int, stop: int) -> tuple[np.ndarray, np.ndarray | None]:
        buffer = np.empty((min(rows, stop - start), p))
        gram = np.zeros((p, p))
        xt_rhs = None if columns is None else np.zeros((columns.shape[0], p))
        for first in range(start, stop, rows):
            last = min(first + rows, stop)
            block = X[first:last]
            scaled = buffer[:last - first]
            np.multiply(block, row_factor[first:last, None], out=scaled)
            gram += np.dot(block.T, scaled) if signed else np.dot(scaled.T, scaled)
            if columns is not None:
                for j, column in enumerate(columns):
                    xt_rhs[j] += np.dot(column[first:last], block)
        return gram, xt_rhs

    parts = map_row_parts(part, n, p, threads)
    gram, xt_rhs = parts[0]
    for more_gram, more_rhs in parts[1:]:
        gram += more_gram
        if xt_rhs is not None:
            xt_rhs += more_rhs
    if signed:  # rounding makes X_b' (W X_b) asymmetric in the last bits
        gram = (gram + gram.T) / 2.0
    if xt_rhs is None:
        return gram
    return gram, (xt_rhs[0] if np.ndim(rhs) == 1 else xt_rhs.T)


def matvec(X: np.ndarray, v: np.ndarray, threads: int = 1) -> np.ndarray:
    """X v (in a fit, the linear predictor X beta), computed in the parts of rows of
    ``map_row_parts`` and shared among ``threads`` threads.  Inside ``threads_for_pass``
    this matters beyond the product itself: a matrix-vector product on the BLAS's own
    threads leaves them spinning for a while after it, on the cores the next pass over X
    wants (1e6 x 20 on 2 cores: that pass took 38 ms instead of 22)."""
    n, p = X.shape
    out = np.empty(n)

    def part(start: int, stop: int) -> None:
        np.dot(X[start:stop], v, out=out[start:stop])

    map_row_parts(part, n, p, threads)
    return out


def map_row_parts(function: Callable, n: int, p: int, threads: int = 1) -> list:
    """[function(start, stop) for each part of the rows of an n x p X], in order: parts
    of PART_BLOCKS blocks of ``BLOCK_BYTES`` (they depend on n and p only), shared among
    ``threads`` threads when there are several parts; no rows are one empty part.  What
    every row-wise pass of a large fit is made of; the function must only read shared
    arrays, or write its own rows of them."""
    part_rows = _block_rows(p) * PART_BLOCKS
    bounds = [(start, min(start + part_rows, n)) for start in range(0, n, part_rows)]
    bounds = bounds or [(0, 0)]  # (a chunk of a dask array can have no rows)
    if threads > 1 and len(bounds) > 1:
        return _map_on_pool(lambda bound: function(*bound), bounds, threads)
    return [function(start, stop) for start, stop in bounds]


def map_vector_parts(function: Callable, n: int, threads: int = 1) -> list:
    """[function(rows) for each slice ``rows`` of VECTOR_PART_ROWS rows of n], in order,
    shared among ``threads`` threads: for element-wise work on n-vectors (a mean from a
    linear predictor, the working response and weights, a deviance), where the parts
    depend on n only - so sums of the parts, added in order, are the same whatever the
    number of threads - and each part's temporaries stay in the cache.  numpy's ufuncs
    release the GIL, so the exponentials and logarithms of a large fit (5 ns a row here,
    the bulk of its element-wise work) run on all CPUs.  The function must only read
    shared arrays, or write its own rows of them."""
    parts = [slice(start, min(start + VECTOR_PART_ROWS, n))
             for start in range(0, n, VECTOR_PART_ROWS)] or [slice(0, 0)]
    if threads > 1 and len(parts) > 1:
        return _map_on_pool(function, parts, threads)
    return [function(rows) for rows in parts]


def _map_on_pool(function: Callable, items: list, threads: int) -> list:
    """[function(item) for item in items] on a pool of ``threads`` threads, under the
    caller's numpy floating-point error settings (``np.errstate``): they belong to a
    thread, so without this an overflow the caller silenced would warn in the pool."""
    settings = np.geterr()

    def run(item):
        with np.errstate(**settings):
            return function(item)

    return list(_pool(threads).map(run, items))


def _pool(threads: int) -> ThreadPoolExecutor:
    """A pool of ``threads`` threads for ``map_row_parts``, made once."""
    if threads not in _pools:
        _pools[threads] = ThreadPoolExecutor(threads, thread_name_prefix="glmteach")
    return _pools[threads]


def _block_rows(p: int) -> int:
    """Rows per block of an n x p X: about ``BLOCK_BYTES`` of it."""
    return max(64, BLOCK_BYTES // (8 * p))


def cholesky_solver(matrix: np.ndarray) -> Solver | None:
    """v -> matrix^{-1} v through the Cholesky factor matrix = R'R, or None when
    ``matrix`` is not (numerically) positive definite."""
    try:
        factor = linalg.cho_factor(matrix, lower=False, check_finite=False)
    except linalg.LinAlgError:
        return None
    return lambda v: linalg.cho_solve(factor, v, check_finite=False)


def solve_weighted_least_squares(X: np.ndarray, weights: np.ndarray, rhs: np.ndarray,
                                 normal_equations: tuple[np.ndarray, np.ndarray] | None = None
                                 ) -> tuple[np.ndarray, Solver]:
    """(beta, solver): beta solves (X' W X) beta = X' rhs for weights W >= 0, and
    solver(v) applies (X' W X)^{-1} to another vector v.

    X'WX and X' rhs come from one blocked pass over X (``weighted_normal_equations``) and
    the p x p system is solved with its Cholesky factor; if that fails (not positive
    definite, e.g. too many zero weights), least squares on sqrt(W) X by QR with column
    pivoting (LAPACK ``gelsy``) is used instead, which also copes with columns that the
    weights leave without information.  (For a Fisher step rhs = W z, so the fallback
    regresses sqrt(W) z on sqrt(W) X.)  ``normal_equations`` = (X'WX, X' rhs) when they
    were already formed (a fit forms them once per state: the convergence rule's
    look-ahead, the next step and the covariance share them); X is then read only if the
    fallback is needed.
    """
    if normal_equations is None:
        normal_equations = weighted_normal_equations(X, weights, rhs)
    xtwx, xt_rhs = normal_equations
    solver = cholesky_solver(xtwx)
    if solver is not None:
        return solver(xt_rhs), solver
    root_w = np.sqrt(weights)
    target = np.divide(rhs, root_w, out=np.zeros_like(rhs), where=root_w > 0)
    beta = linalg.lstsq(X * root_w[:, None], target, lapack_driver="gelsy",
                        check_finite=False)[0]
    return beta, lambda v: linalg.lstsq(xtwx, v, lapack_driver="gelsy", check_finite=False)[0]


def aliased_columns(gram: np.ndarray, tolerance: float) -> tuple[list[int], list[int]]:
    """(aliased, kept) column indices of the matrix X'WX = ``gram``.

    On ``gram`` scaled to unit diagonal, 1 - R_j^2 of column j regressed on the earlier
    kept columns is the pivot a Cholesky factorisation takes for it, 1 - |L^{-1} g_j|^2,
    with L the factor of the kept columns and g_j their scaled products with column j;
    column j is aliased when that pivot is below ``tolerance`` (or its norm is 0).  The
    factor grows by one row per kept column, one triangular solve each.  Only the p x p
    matrix is needed, so it serves a fit in memory and one over chunks of rows alike.
    """
    p = gram.shape[0]
    norms = np.sqrt(np.diag(gram))
    factor = np.zeros((p, p))
    aliased: list[int] = []
    keep: list[int] = []
    for j in range(p):
        if norms[j] == 0:
            aliased.append(j)
            continue
        k = len(keep)
        g = gram[keep, j] / (norms[keep] * norms[j])
        r = linalg.solve_triangular(factor[:k, :k], g, lower=True, check_finite=False)
        pivot = 1.0 - r @ r
        if pivot < tolerance:
            aliased.append(j)
            continue
        factor[k, :k] = r
        factor[k, k] = np.sqrt(pivot)
        keep.append(j)
    return aliased, keep
