"""Bootstrap resamples as count weights, solved together, warm-started.

The study drew ``default_rng(seed).integers(0, n, size=(B, n))`` row indices and re-ran its
whole grid search on each resample. A resample only re-weights rows, so here each one is
a row of counts, and every resample starts from the distinct optima of the fit to the
original data: all (resample × start) problems advance together in one batch.
"""

from __future__ import annotations

import logging

import numpy as np

from vvshub._progress import track
from vvshub.laws._forms import Form
from vvshub.laws._solver import Problem

logger = logging.getLogger(__name__)


def resample_indices(n: int, n_bootstrap: int, seed: int) -> np.ndarray:
    """The study's resamples: row indices, shape ``(n_bootstrap, n)``.

    Example:
        >>> resample_indices(5, 2, 42).shape
        (2, 5)
    """
    return np.random.default_rng(seed).integers(0, n, size=(n_bootstrap, n))


def resample_counts(n: int, n_bootstrap: int, seed: int) -> np.ndarray:
    """How often each row appears in each resample, shape ``(n_bootstrap, n)``."""
    idx = resample_indices(n, n_bootstrap, seed)
    flat = (idx + np.arange(n_bootstrap)[:, None] * n).ravel()
    return np.bincount(flat, minlength=n_bootstrap * n).reshape(n_bootstrap, n).astype(float)


def bootstrap_fits(
    form: Form,
    feats: np.ndarray,
    log_l: np.ndarray,
    *,
    starts: np.ndarray,
    n_bootstrap: int,
    seed: int,
    delta: float,
    max_iter: int = 2000,
    chunk: int = 250,
    prune_after: int | None = None,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Fit every resample from each of ``starts``; keep each resample's best optimum.

    Args:
        form: the law form.
        feats: the form's features for ``n`` rows.
        log_l: observed log-misalignment, shape ``(n,)``.
        starts: LSE starting points (the original fit's distinct optima), shape ``(M, p)``.
        n_bootstrap: number of resamples ``B``.
        seed: seed of ``numpy.random.default_rng``.
        delta: Huber threshold.
        max_iter: iteration cap per problem.
        chunk: resamples solved per batch (bounds memory at ``chunk * M * n * p`` floats).
        prune_after: iterations after which starts already 0.1% worse than the resample's
            best stop; ``None`` (the default) runs every start to convergence. Pruning saves
            about a fifth of the time, but on the compute -> neural selection it lost one
            resample in 1,000 (a start 0.1% behind after 8 iterations won by 0.3%).

    Returns:
        LSE parameters of shape ``(B, p)``, objectives of shape ``(B,)``, and how many
        resamples did not converge.
    """
    n = len(log_l)
    counts = resample_counts(n, n_bootstrap, seed)
    starts = np.atleast_2d(starts)
    m = len(starts)
    theta_out = np.empty((n_bootstrap, form.n_params))
    f_out = np.empty(n_bootstrap)
    n_failed = 0
    chunks = range(0, n_bootstrap, chunk)
    for lo in track(chunks, description="bootstrap", total=len(chunks)):
        hi = min(lo + chunk, n_bootstrap)
        problem = Problem(form, feats, log_l, counts[lo:hi], delta)
        wrow = np.repeat(np.arange(hi - lo), m)
        theta0 = np.tile(starts, (hi - lo, 1))
        state = problem.start(theta0, wrow)
        if m > 1 and prune_after is not None:
            # a few iterations tell which start each resample's optimum is near; starts
            # already 0.1% worse than that resample's best cannot win and stop here
            state = problem.iterate(state, wrow, max_iter=prune_after, newton=True)
            f = state.f.reshape(hi - lo, m)
            alive = (f <= f.min(axis=1, keepdims=True) * (1.0 + 1e-3)).ravel()
            keep = np.flatnonzero(alive)
            sub = problem.iterate(state.take(keep), wrow[keep], max_iter=max_iter, newton=True)
            state.f[:] = np.inf
            state.theta[keep], state.f[keep], state.converged[keep] = (
                sub.theta,
                sub.f,
                sub.converged,
            )
        else:
            state = problem.iterate(state, wrow, max_iter=max_iter, newton=True)
        f = state.f.reshape(hi - lo, m)
        best = np.argmin(f, axis=1)
        rows = np.arange(hi - lo) * m + best
        theta_out[lo:hi] = state.theta[rows]
        f_out[lo:hi] = state.f[rows]
        n_failed += int((~state.converged[rows]).sum())
    return theta_out, f_out, n_failed


def percentile_band(values: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise percentile interval over resamples.

    Args:
        values: one row per resample, shape ``(B, ...)``.
        level: coverage, e.g. 0.95 for the 2.5th and 97.5th percentiles.

    Returns:
        Lower and upper bounds, each of shape ``values.shape[1:]``.
    """
    tail = 50.0 * (1.0 - level)
    lo, hi = np.nanpercentile(values, [tail, 100.0 - tail], axis=0)
    return lo, hi
