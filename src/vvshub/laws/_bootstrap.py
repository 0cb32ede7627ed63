"""Bootstrap resamples as count weights, solved together.

The study drew ``default_rng(seed).integers(0, n, size=(B, n))`` row indices and re-ran its
whole grid search on each resample. A resample only re-weights rows, so here each one is
a row of counts, and all (resample × start) problems advance together in one batch.

Two ways to start a resample: *warm*, from the distinct optima of the fit to the original
data (fast, ≈0.5 ms a resample), or *grid*, the whole grid of starts for every resample,
pruned per resample by successive halving. Warm starts can miss an optimum that only the
resample has (on small selections they do), so small problems always run the grid; larger
ones run warm, then refit a random subset from the grid. When any of the subset found a lower
optimum, every resample also starts from the optima the subset found (they mark basins that
other resamples fall into too) and, for the shifted form, from points on its valley floor, and a
fresh subset is checked; when that one misses too, every
resample is refitted from the grid.

For the shifted form every resample also fits the form's two limits (:mod:`vvshub.laws._limit`:
the exponential at ``10^λ → ∞``, the power law at ``10^λ → 0``) and keeps whichever is lowest;
shifted-form starts that still crawl after 30 iterations above a limit's objective stop there.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from vvshub._progress import track
from vvshub.constants import fit_threads
from vvshub.errors import FitDataError
from vvshub.laws._forms import Form
from vvshub.laws._limit import PowerLimit, ShiftLimit
from vvshub.laws._solver import (
    STOP_AFTER,
    Problem,
    SolverState,
    multistart_batch,
    run_with_stop,
)

logger = logging.getLogger(__name__)

Limit = ShiftLimit | PowerLimit

#: Most resamples one fit keeps (their parameters live in memory and in the catalog).
MAX_BOOTSTRAP = 100_000
#: Largest ``n_rows × grid starts`` for which every resample runs the whole grid.
GRID_BUDGET = 8_000
#: Resamples refitted from the whole grid to check warm starts: at most this many, and
#: at most ``CHECK_BUDGET / (n_rows × grid starts)`` (but at least 2), which bounds its time.
CHECK_RESAMPLES = 24
CHECK_BUDGET = 300_000
#: Floats one batch of problems may hold (Jacobians: problems × rows × parameters).
BATCH_FLOATS = 4_000_000
#: Iterations the starts added by a widening run before the stop rule (slow but finite optima
#: along the shifted form's valley take up to about 100 to pass below a limit's objective).
WIDE_STOP_AFTER = 100
#: Most resamples in one block of warm-started fits (a block is one batch of problems).
WARM_BLOCK = 500
#: Seconds between progress lines when stderr is not a terminal.
PROGRESS_EVERY_S = 10.0


def resample_indices(n: int, n_bootstrap: int, seed: int) -> np.ndarray:
    """The study's resamples: row indices, shape ``(n_bootstrap, n)``.

    Example:
        >>> resample_indices(5, 2, 42).shape
        (2, 5)
    """
    return np.random.default_rng(seed).integers(0, n, size=(n_bootstrap, n))


def _counts(idx: np.ndarray, n: int) -> np.ndarray:
    b = len(idx)
    flat = (idx + np.arange(b)[:, None] * n).ravel()
    return np.bincount(flat, minlength=b * n).reshape(b, n).astype(float)


def resample_counts(n: int, n_bootstrap: int, seed: int) -> np.ndarray:
    """How often each row appears in each resample, shape ``(n_bootstrap, n)``."""
    return _counts(resample_indices(n, n_bootstrap, seed), n)


def iter_resample_counts(
    n: int, n_bootstrap: int, seed: int, chunk: int
) -> Iterator[tuple[int, np.ndarray]]:
    """:func:`resample_counts` in blocks of ``chunk`` resamples (same draws, bounded memory)."""
    rng = np.random.default_rng(seed)
    for lo in range(0, n_bootstrap, chunk):
        hi = min(lo + chunk, n_bootstrap)
        yield lo, _counts(rng.integers(0, n, size=(hi - lo, n)), n)


def check_n_bootstrap(n_bootstrap: int) -> None:
    """Refuse a resample count vvshub cannot hold in memory.

    Raises:
        FitDataError: ``n_bootstrap`` is negative or above :data:`MAX_BOOTSTRAP`.
    """
    if n_bootstrap < 0 or n_bootstrap > MAX_BOOTSTRAP:
        raise FitDataError(
            f"--bootstrap {n_bootstrap} is outside 0..{MAX_BOOTSTRAP:,}: each resample's "
            f"parameters are kept in memory and stored with the fit; use at most "
            f"{MAX_BOOTSTRAP:,} (the paper used 1,000)"
        )


@dataclass
class Solution:
    """Best optimum per weight row.

    Attributes:
        theta: LSE parameters, shape ``(W, p)``.
        f: objectives, shape ``(W,)``.
        converged: shape ``(W,)``.
        limit: the optimum is the shifted form's exponential limit, shape ``(W,)``.
    """

    theta: np.ndarray
    f: np.ndarray
    converged: np.ndarray
    limit: np.ndarray


@dataclass(frozen=True)
class Starts:
    """Where resamples start: the original fit's optima (warm) and the whole grid.

    Attributes:
        warm: the original fit's distinct optima, shape ``(M, p)``.
        grid: the grid of starts, shape ``(S, p)``.
        limits: the shifted form's limits, each with its fit's optima (shape ``(M', 3)``).
        widen: makes further starts, shape ``(V, p)``, for when a check finds that warm
            starts missed (the shifted form's valley floor); called only then. They run longer
            before the stop rule.
    """

    warm: np.ndarray
    grid: np.ndarray
    limits: tuple[tuple[Limit, np.ndarray], ...] = ()
    widen: Callable[[], np.ndarray] | None = None


def solve_rows(
    form: Form,
    feats: np.ndarray,
    log_l: np.ndarray,
    weights: np.ndarray,
    delta: float,
    *,
    starts: Starts,
    grid: bool,
    max_iter: int = 2000,
    stop_after: int = STOP_AFTER,
) -> Solution:
    """Fit every weight row (resample), warm or from the whole grid; each row's best optimum.

    Args:
        form: the law form.
        feats: the form's features for ``n`` rows.
        log_l: observed log-misalignment, shape ``(n,)``.
        weights: count weights, shape ``(W, n)``.
        delta: Huber threshold.
        starts: warm and grid starts.
        grid: run the whole grid (plus the warm starts) for every row.
        max_iter: iteration cap per problem.
        stop_after: iterations before warm starts above a limit's objective stop.

    Returns:
        The best optimum of each row (``limit``: the exponential limit won).
    """
    w = len(weights)
    stop_at = None
    ends = []
    for limit, warm in starts.limits:
        lp = limit.problem(feats, log_l, weights, delta)
        if grid:
            ls = multistart_batch(lp, np.vstack([limit.grid, warm]), max_iter=max_iter)
        else:
            ls = _warm(lp, warm, w, max_iter=max_iter)
        # a limit's own objective is the infimum the shifted form slides towards
        ends.append((limit, limit.to_shift(ls.theta), ls.f, ls.converged))
        stop_at = ls.f if stop_at is None else np.minimum(stop_at, ls.f)
    problem = Problem(form, feats, log_l, weights, delta)
    if not grid and not len(starts.warm):  # a widening run for the limits alone
        inf = np.full(w, np.inf)
        st = SolverState(
            np.zeros((w, form.n_params)), inf, inf, np.ones(w, dtype=bool), np.zeros(w, dtype=int)
        )
    elif grid:
        st = multistart_batch(
            problem, np.vstack([starts.grid, starts.warm]), max_iter=max_iter, stop_at=stop_at
        )
    else:
        st = _warm(
            problem, starts.warm, w, max_iter=max_iter, stop_at=stop_at, stop_after=stop_after
        )
    sol = Solution(st.theta, st.f, st.converged, np.zeros(w, dtype=bool))
    for limit, lim_theta, lim_f, lim_conv in ends:
        use = lim_f <= sol.f
        sol.theta = np.where(use[:, None], lim_theta, sol.theta)
        sol.f = np.where(use, lim_f, sol.f)
        sol.converged = np.where(use, lim_conv, sol.converged)
        sol.limit = np.where(use, limit.degenerate, sol.limit)
    return sol


def _warm(
    problem: Problem,
    starts: np.ndarray,
    w: int,
    *,
    max_iter: int,
    stop_at=None,
    stop_after: int = STOP_AFTER,
):
    """Each weight row from each of ``starts``; the best per row."""
    starts = np.atleast_2d(starts)
    m = len(starts)
    wrow = np.repeat(np.arange(w), m)
    state = problem.start(np.tile(starts, (w, 1)), wrow)
    state = run_with_stop(
        problem, state, wrow, max_iter=max_iter, stop_at=stop_at, stop_after=stop_after
    )
    f = np.where(np.isfinite(state.f), state.f, np.inf).reshape(w, m)
    return state.take(np.arange(w) * m + np.argmin(f, axis=1))


@dataclass
class BootstrapResult:
    """Resampled optima.

    Attributes:
        theta: LSE parameters, shape ``(B, p)``.
        f: objectives, shape ``(B,)``.
        converged: whether each resample's optimum converged, shape ``(B,)``.
        limit: resamples whose optimum is the exponential limit, shape ``(B,)``.
        starts: ``grid`` (every resample from the whole grid), ``warm`` (checked against
            grid refits of a subset, which agreed), ``widened`` (the first check found lower
            optima; every resample also started from them, and a second subset agreed) or
            ``escalated`` (every resample refitted from the grid).
    """

    theta: np.ndarray
    f: np.ndarray
    converged: np.ndarray
    limit: np.ndarray
    starts: str

    @property
    def n_failed(self) -> int:
        """Resamples whose optimum did not converge."""
        return int((~self.converged).sum())


def _batch_rows(n: int, n_starts: int, p: int) -> int:
    return int(max(1, min(250, BATCH_FLOATS // max(1, n * n_starts * p))))


def bootstrap_fits(
    form: Form,
    feats: np.ndarray,
    log_l: np.ndarray,
    *,
    starts: Starts,
    n_bootstrap: int,
    seed: int,
    delta: float,
    max_iter: int = 2000,
    mode: str = "auto",
) -> BootstrapResult:
    """Fit every resample; keep each resample's best optimum.

    Args:
        form: the law form.
        feats: the form's features for ``n`` rows.
        log_l: observed log-misalignment, shape ``(n,)``.
        starts: warm and grid starts (:class:`Starts`).
        n_bootstrap: number of resamples ``B`` (at most :data:`MAX_BOOTSTRAP`).
        seed: seed of ``numpy.random.default_rng``.
        delta: Huber threshold.
        max_iter: iteration cap per problem.
        mode: ``auto`` (grid when ``n × S ≤ GRID_BUDGET``, else warm with a checked
            subset), ``grid`` or ``warm`` (unchecked).

    Returns:
        The :class:`BootstrapResult`.
    """
    check_n_bootstrap(n_bootstrap)
    n = len(log_l)
    if mode == "auto":
        mode = "grid" if n * len(starts.grid) <= GRID_BUDGET else "checked"
    if mode == "grid":
        return _run(form, feats, log_l, starts, n_bootstrap, seed, delta, max_iter, True)
    res = _run(form, feats, log_l, starts, n_bootstrap, seed, delta, max_iter, False)
    if mode == "warm":
        return res
    size = n * (len(starts.grid) + len(starts.warm))
    k = min(n_bootstrap, CHECK_RESAMPLES, max(2, CHECK_BUDGET // size))
    rng = np.random.default_rng(seed + 1)
    for attempt in ("warm", "widened"):
        pick = np.sort(rng.choice(n_bootstrap, size=k, replace=False))
        idx = resample_indices(n, int(pick[-1]) + 1, seed)[pick]
        check = solve_rows(
            form,
            feats,
            log_l,
            _counts(idx, n),
            delta,
            starts=starts,
            grid=True,
            max_iter=max_iter,
        )
        # below convergence accuracy (1e-5: the loss is nearly L1, optima are kinks) is a tie
        missed = check.f < res.f[pick] * (1 - 1e-5) - 1e-12
        if not missed.any():
            res.starts = attempt
            return res
        logger.info(
            "%s starts missed a lower optimum on %d of %d resamples checked against whole-grid "
            "refits",
            attempt,
            int(missed.sum()),
            k,
        )
        if attempt == "widened":
            break
        # the optima the missed resamples found mark basins other resamples fall into too:
        # start every resample from them as well, and from the widening starts (the shifted
        # form's valley floor) near them, which run longer before the stop rule; each start is
        # solved on its own, so only the new ones run and each resample keeps the better
        # optimum. Then check a fresh subset
        extra = _widened(starts, check.theta[missed], check.limit[missed])
        starts = Starts(
            warm=np.vstack([starts.warm, extra.warm]), grid=starts.grid, limits=extra.limits
        )
        more = _run(
            form, feats, log_l, extra, n_bootstrap, seed, delta, max_iter, False, WIDE_STOP_AFTER
        )
        res = _better(res, more)
    logger.warning(
        "warm-started resamples missed a lower optimum on %d of %d checked; refitting all %d "
        "resamples from the whole grid",
        int(missed.sum()),
        k,
        n_bootstrap,
    )
    res = _run(form, feats, log_l, starts, n_bootstrap, seed, delta, max_iter, True)
    res.starts = "escalated"
    return res


def _widened(starts: Starts, found: np.ndarray, at_limit: np.ndarray) -> Starts:
    """Starts for a widening run from the optima that whole-grid refits found and warm missed.

    Each optimum goes back to the problem it came from: the exponential limit's (``at_limit``),
    the power-law limit's (written at its ``lambda``) or the shifted form's; the shifted form
    also gets the widening starts within a decade of a missed shift (``lambda``) or of the
    original fit's.
    """
    owned = np.zeros(len(found), dtype=bool)
    limits = []
    for limit, warm in starts.limits:
        mine = limit.owns(found, at_limit) & ~owned
        owned |= mine
        limits.append((limit, np.vstack([warm, limit.from_shift(found[mine])])))
    shift = found[~owned]
    widen = starts.widen() if starts.widen is not None else found[:0]
    if len(widen):
        # near the shifts of the missed optima and of the original fit's best optimum
        lams = np.concatenate([shift[:, 2], starts.warm[:1, 2]])
        gap = np.abs(widen[:, 2][:, None] - lams[None, :]).min(axis=1)
        shift = np.vstack([shift, widen[gap <= 1.0]])
    return Starts(warm=shift, grid=starts.grid, limits=tuple(limits))


def _better(a: BootstrapResult, b: BootstrapResult) -> BootstrapResult:
    """Per resample, the lower optimum of two runs over the same resamples (``a`` on ties)."""
    use = b.f < a.f

    def pick(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.where(use.reshape(-1, *[1] * (x.ndim - 1)), y, x)

    return BootstrapResult(
        pick(a.theta, b.theta),
        pick(a.f, b.f),
        pick(a.converged, b.converged),
        pick(a.limit, b.limit),
        a.starts,
    )


def _run(
    form, feats, log_l, starts, n_bootstrap, seed, delta, max_iter, grid, stop_after=STOP_AFTER
):
    n = len(log_l)
    n_starts = len(starts.grid) + len(starts.warm) if grid else len(starts.warm)
    if grid:
        chunk = _batch_rows(n, n_starts, form.n_params)
    else:
        # a block iterates until its slowest problem converges, and each iteration has a fixed
        # cost, so few, large blocks are fastest: one per thread, within memory, and at most
        # WARM_BLOCK resamples so that progress still moves on a long bootstrap
        per_thread = -(-n_bootstrap // fit_threads())
        memory = BATCH_FLOATS // max(1, n * n_starts * form.n_params)
        chunk = max(1, min(per_thread, memory, WARM_BLOCK))
    theta = np.empty((n_bootstrap, form.n_params))
    f = np.empty(n_bootstrap)
    lim = np.zeros(n_bootstrap, dtype=bool)
    conv = np.zeros(n_bootstrap, dtype=bool)
    blocks = list(iter_resample_counts(n, n_bootstrap, seed, chunk))
    label = "bootstrap (whole grid)" if grid else "bootstrap"

    def solve(block: tuple[int, np.ndarray]) -> tuple[int, Solution]:
        lo, counts = block
        sol = solve_rows(
            form,
            feats,
            log_l,
            counts,
            delta,
            starts=starts,
            grid=grid,
            max_iter=max_iter,
            stop_after=stop_after,
        )
        return lo, sol

    # blocks are independent and numpy releases the GIL in its array loops, so threads
    # keep every core busy; results are placed by index, so they do not depend on timing
    with ThreadPoolExecutor(max_workers=fit_threads()) as pool:
        solved = pool.map(solve, blocks)
        for lo, sol in _progress(solved, label, len(blocks), n_bootstrap, chunk):
            hi = lo + len(sol.f)
            theta[lo:hi], f[lo:hi], lim[lo:hi] = sol.theta, sol.f, sol.limit
            conv[lo:hi] = sol.converged
    return BootstrapResult(theta, f, conv, lim, "grid" if grid else "warm")


def _progress(blocks, label: str, total: int, n_bootstrap: int, chunk: int):
    """Blocks with a progress bar on a terminal, else a line on stderr every few seconds."""
    from vvshub.constants import progress_enabled

    if sys.stderr.isatty() or not progress_enabled():
        yield from track(blocks, description=label, total=total)
        return
    t0 = last = time.monotonic()
    for i, block in enumerate(blocks):
        yield block
        now = time.monotonic()
        if now - last >= PROGRESS_EVERY_S and i + 1 < total:
            last = now
            done = min((i + 1) * chunk, n_bootstrap)
            print(
                f"{label}: {done:,}/{n_bootstrap:,} resamples, {now - t0:.0f} s",
                file=sys.stderr,
                flush=True,
            )


def percentile_band(values: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise percentile interval over resamples.

    Args:
        values: one row per resample, shape ``(B, ...)``.
        level: coverage, e.g. 0.95 for the 2.5th and 97.5th percentiles.

    Returns:
        Lower and upper bounds, each of shape ``values.shape[1:]``.
    """
    tail = 50.0 * (1.0 - level)
    with np.errstate(invalid="ignore"):  # inf - inf between two overflowed resamples
        lo, hi = np.nanpercentile(values, [tail, 100.0 - tail], axis=0)
    return lo, hi
