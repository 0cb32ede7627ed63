"""Batched Levenberg–Marquardt for the paper's Huber objective.

The objective of one problem is ``f(θ) = Σ_i w_i · Huber_δ(r_i(θ))`` with
``r_i = log L̂_i(θ) - log L_i`` (eq. 2 / eq. 6). With δ = 1e-3 the loss is nearly L1, so a
plain Gauss–Newton model is almost flat. Each step instead minimises the quadratic
majoriser of the Huber loss (the iteratively-reweighted least-squares weights
``ω_i = min(1, δ / |r_i|)``) around the current point, with the exact gradient and a
Levenberg–Marquardt damping that is adapted per problem. Steps are accepted only when
the true objective decreases, so every problem descends monotonically.

All ``K`` problems (starts × bootstrap resamples) advance together as numpy arrays;
problems that have converged drop out of the batch. A bootstrap resample is a row of
count weights, so resampled problems share the features of the original data.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from vvshub.laws._forms import Form

logger = logging.getLogger(__name__)

_MU0 = 1e-3
_MU_MAX = 1e12
_MU_MIN = 1e-15
#: Iterations after which a problem that cannot win any more stops (see :func:`run_with_stop`).
STOP_AFTER = 30


def huber(r: np.ndarray, delta: float) -> np.ndarray:
    """Huber loss, elementwise: ``r²/2`` for ``|r| ≤ δ``, ``δ(|r| - δ/2)`` beyond."""
    a = np.abs(r)
    return np.where(a <= delta, 0.5 * r * r, delta * (a - 0.5 * delta))


def objective(
    form: Form,
    theta: np.ndarray,
    feats: np.ndarray,
    log_l: np.ndarray,
    *,
    delta: float,
    weights: np.ndarray | None = None,
) -> np.ndarray:
    """The paper's objective for each parameter vector.

    Args:
        form: the law form.
        theta: LSE parameters, shape ``(K, p)``.
        feats: the form's features for ``n`` rows.
        log_l: observed log-misalignment, shape ``(n,)``.
        delta: Huber threshold.
        weights: row weights, shape ``(n,)`` or ``(K, n)``; ones when ``None``.

    Returns:
        Objective values, shape ``(K,)``.
    """
    r = form.log_loss(np.atleast_2d(theta), feats) - log_l
    h = huber(r, delta)
    if weights is not None:
        h = h * weights
    return h.sum(axis=1)


@dataclass
class SolverState:
    """Where a batch of problems stands.

    Attributes:
        theta: LSE parameters, shape ``(K, p)``.
        f: objective values, shape ``(K,)``.
        mu: damping per problem, shape ``(K,)``.
        converged: which problems have converged, shape ``(K,)``.
        n_iter: iterations each problem has run, shape ``(K,)``.
    """

    theta: np.ndarray
    f: np.ndarray
    mu: np.ndarray
    converged: np.ndarray
    n_iter: np.ndarray

    def take(self, idx: np.ndarray) -> SolverState:
        """The sub-batch of problems ``idx``."""
        return SolverState(
            self.theta[idx], self.f[idx], self.mu[idx], self.converged[idx], self.n_iter[idx]
        )


class Problem:
    """A batch of fitting problems over the same rows.

    Args:
        form: the law form.
        feats: the form's features for ``n`` rows.
        log_l: observed log-misalignment, shape ``(n,)``.
        weights: weight rows, shape ``(W, n)``; problem ``k`` uses row ``wrow[k]``.
        delta: Huber threshold.
    """

    def __init__(
        self,
        form: Form,
        feats: np.ndarray,
        log_l: np.ndarray,
        weights: np.ndarray,
        delta: float,
    ) -> None:
        self.form = form
        self.feats = feats
        self.log_l = log_l
        self.weights = np.atleast_2d(weights)
        self.delta = float(delta)

    def start(self, theta0: np.ndarray, wrow: np.ndarray) -> SolverState:
        """Initial state for starts ``theta0`` (shape ``(K, p)``) on weight rows ``wrow``."""
        theta0 = np.array(theta0, dtype=float)
        f = self._f(theta0, wrow)
        k = len(theta0)
        return SolverState(
            theta0, f, np.full(k, _MU0), np.zeros(k, dtype=bool), np.zeros(k, dtype=int)
        )

    def _f(self, theta: np.ndarray, wrow: np.ndarray) -> np.ndarray:
        # trial points may overflow (10^lambda, exp); they get f = inf and are rejected
        with np.errstate(all="ignore"):
            r = self.form.log_loss(theta, self.feats) - self.log_l
            f = (huber(r, self.delta) * self.weights[wrow]).sum(axis=1)
        return np.where(np.isfinite(f), f, np.inf)

    def iterate(
        self,
        state: SolverState,
        wrow: np.ndarray,
        *,
        max_iter: int,
        ftol: float = 1e-11,
        xtol: float = 1e-12,
        newton: bool = False,
    ) -> SolverState:
        """Run up to ``max_iter`` LM iterations on the problems that have not converged.

        Args:
            state: current state of ``K`` problems (not modified).
            wrow: weight row of each problem, shape ``(K,)``.
            max_iter: iteration budget for this call.
            ftol: a problem converges when an accepted step lowers its objective by less
                than ``ftol`` relative, twice in a row.
            xtol: or when its step is shorter than ``xtol`` (relative to ``|θ| + xtol``).
            newton: model the objective with its exact Hessian (fast near an optimum)
                instead of the IRLS majoriser (robust far from one); the damping still
                scales with the majoriser's diagonal.

        Returns:
            The new state of the ``K`` problems.
        """
        with np.errstate(all="ignore"):
            return self._iterate(
                state, wrow, max_iter=max_iter, ftol=ftol, xtol=xtol, newton=newton
            )

    def _model(
        self, th: np.ndarray, wrows: np.ndarray, newton: bool
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Gradient, model Hessian and damping scale of problems at points ``th``."""
        delta = self.delta
        w = self.weights[wrows]
        r, J, parts = self.form.residuals_parts(th, self.feats, self.log_l)
        absr = np.abs(r)
        psi = np.clip(r, -delta, delta) * w
        omega = w * np.minimum(1.0, delta / np.maximum(absr, 1e-300))
        g = np.einsum("kn,knp->kp", psi, J)
        Jt = J.transpose(0, 2, 1)
        H = np.matmul(Jt * omega[:, None, :], J)
        diag = np.einsum("kpp->kp", H).copy()
        if newton:
            inside = w * (absr <= delta)
            H = np.matmul(Jt * inside[:, None, :], J) + self.form.curvature(
                self.feats, J, parts, psi
            )
        scale = diag + 1e-12 * diag.max(axis=1, keepdims=True) + 1e-300
        return g, H, scale

    def _iterate(
        self,
        state: SolverState,
        wrow: np.ndarray,
        *,
        max_iter: int,
        ftol: float,
        xtol: float,
        newton: bool,
    ) -> SolverState:
        theta = state.theta.copy()
        f = state.f.copy()
        mu = state.mu.copy()
        conv = state.converged.copy()
        n_iter = state.n_iter.copy()
        small = np.zeros(len(f), dtype=int)
        k_all, p = theta.shape
        eye = np.eye(p)
        # the model (gradient, Hessian, damping scale) at each problem's current point; a
        # rejected step leaves the point unchanged, so its model is reused, not recomputed
        g_all = np.zeros((k_all, p))
        h_all = np.zeros((k_all, p, p))
        scale_all = np.zeros((k_all, p))
        fresh = np.zeros(k_all, dtype=bool)
        for _ in range(max_iter):
            act = np.flatnonzero(~conv)
            if act.size == 0:
                break
            stale = act[~fresh[act]]
            if stale.size:
                g_all[stale], h_all[stale], scale_all[stale] = self._model(
                    theta[stale], wrow[stale], newton
                )
                fresh[stale] = True
            th = theta[act]
            g, H, scale = g_all[act], h_all[act], scale_all[act]
            m = mu[act]
            A = H + (m[:, None] * scale)[:, :, None] * eye
            try:
                step = -np.linalg.solve(A, g[:, :, None])[:, :, 0]
            except np.linalg.LinAlgError:
                step = _safe_solve(A, g)
            cand = th + step
            f_new = self._f(cand, wrow[act])
            ok = (f_new < f[act]) & np.all(np.isfinite(cand), axis=1)
            n_iter[act] += 1
            gain = np.where(ok, (f[act] - f_new) / np.maximum(f[act], 1e-300), 0.0)
            tiny_step = np.all(np.abs(step) <= xtol * (np.abs(th) + xtol), axis=1)
            # accepted
            acc = act[ok]
            theta[acc] = cand[ok]
            f[acc] = f_new[ok]
            fresh[acc] = False
            mu[acc] = np.maximum(mu[acc] / 3.0, _MU_MIN)
            small[acc] = np.where(gain[ok] < ftol, small[acc] + 1, 0)
            # rejected
            rej = act[~ok]
            mu[rej] = mu[rej] * 4.0
            conv[act] = (small[act] >= 2) | (mu[act] > _MU_MAX) | tiny_step
        return SolverState(theta, f, mu, conv, n_iter)


def _safe_solve(A: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Least-squares fallback for singular damped systems, one problem at a time."""
    out = np.zeros_like(g)
    for k in range(len(g)):
        out[k] = -np.linalg.lstsq(A[k], g[k], rcond=None)[0]
    return out


def distinct_minima(
    theta: np.ndarray, f: np.ndarray, *, rtol: float = 1e-6, max_count: int | None = None
) -> np.ndarray:
    """Indices of distinct optima, best first.

    Two optima are the same when their objectives agree to ``rtol`` and their parameters
    to ``1e-3`` (absolute, LSE units); degenerate directions (``e → -∞``) make parameters
    alone an unreliable key.

    Args:
        theta: optima, shape ``(K, p)``.
        f: their objectives, shape ``(K,)``.
        rtol: relative objective tolerance.
        max_count: keep at most this many.

    Returns:
        Indices into ``theta``, shape ``(M,)``.
    """
    order = np.argsort(f, kind="stable")
    keep: list[int] = []
    for i in order:
        if not np.isfinite(f[i]):
            continue
        same = False
        for j in keep:
            close_f = abs(f[i] - f[j]) <= rtol * max(abs(f[j]), 1e-300)
            close_x = np.all(np.abs(theta[i] - theta[j]) < 1e-3)
            if close_f or close_x:
                same = True
                break
        if not same:
            keep.append(int(i))
            if max_count is not None and len(keep) >= max_count:
                break
    return np.asarray(keep, dtype=int)


def multistart(
    problem: Problem,
    starts: np.ndarray,
    *,
    schedule: tuple[tuple[float, int, float], ...] = ((1e-1, 5, 0.5), (1e-2, 6, 0.5)),
    round_iter: int = 10,
    keep_min: int = 12,
    max_iter: int = 2000,
    stop_at: float | None = None,
) -> SolverState:
    """Fit from every start, pruning by successive halving; the state of the survivors.

    Starts first descend a smoother objective (a coarse Huber δ), following
    ``schedule``: for each ``(delta, iterations, keep)`` all surviving starts run that
    many iterations at ``max(delta, problem.delta)`` and the best fraction ``keep``
    survive. Then, at the problem's own δ, survivors run ``round_iter`` iterations and
    the better half survive, until at most ``keep_min`` remain; they run to convergence.
    Starts that land on the same point are merged after each round.

    Args:
        problem: the problem (its first weight row is used).
        starts: LSE starting points, shape ``(S, p)``.
        schedule: coarse rounds, ``(delta, iterations, fraction kept)``.
        round_iter: iterations per halving round at the problem's δ.
        keep_min: survivors that run to convergence.
        max_iter: iteration cap for the final run.
        stop_at: survivors still unconverged after ``STOP_AFTER`` iterations of the final run whose
            objective is not below this value stop there (see :func:`run_with_stop`).

    Returns:
        The survivors' state at the problem's δ, sorted best first.
    """
    theta = np.asarray(starts, dtype=float)
    round_iter = min(round_iter, max_iter)
    for delta, n_iter, keep in schedule:
        if len(theta) <= keep_min:
            break
        coarse = Problem(
            problem.form,
            problem.feats,
            problem.log_l,
            problem.weights[:1],
            max(delta, problem.delta),
        )
        zeros = np.zeros(len(theta), dtype=int)
        state = coarse.iterate(coarse.start(theta, zeros), zeros, max_iter=n_iter)
        state = _prune(state, max(keep_min, int(np.ceil(keep * len(theta)))))
        theta = state.theta
    state = problem.start(theta, np.zeros(len(theta), dtype=int))
    while len(state.f) > keep_min:
        state = problem.iterate(
            state, np.zeros(len(state.f), dtype=int), max_iter=round_iter, newton=True
        )
        state = _prune(state, max(keep_min, (len(state.f) + 1) // 2))
    state = run_with_stop(
        problem,
        state,
        np.zeros(len(state.f), dtype=int),
        max_iter=max_iter,
        stop_at=None if stop_at is None else np.array([stop_at]),
        stop_after=STOP_AFTER,
    )
    order = np.argsort(state.f, kind="stable")
    return state.take(order)


def _prune(state: SolverState, n_keep: int) -> SolverState:
    """Merge problems at the same point, then keep the ``n_keep`` best."""
    _, uniq = np.unique(np.round(state.theta, 6), axis=0, return_index=True)
    state = state.take(np.sort(uniq))
    if len(state.f) <= n_keep:
        return state
    order = np.argsort(np.where(np.isfinite(state.f), state.f, np.inf), kind="stable")
    return state.take(np.sort(order[:n_keep]))


def multistart_batch(
    problem: Problem,
    starts: np.ndarray,
    *,
    schedule: tuple[tuple[float, int, float], ...] = ((1e-1, 5, 0.5), (1e-2, 6, 0.5)),
    round_iter: int = 10,
    keep_min: int = 4,
    max_iter: int = 2000,
    stop_at: np.ndarray | None = None,
    stop_after: int = STOP_AFTER,
) -> SolverState:
    """:func:`multistart` on every weight row of ``problem`` at once; each row's best optimum.

    Every row (a bootstrap resample) runs the whole grid of ``starts``, pruned per row by
    the same successive halving as :func:`multistart` (without merging, so all rows keep
    the same number of survivors), and its ``keep_min`` survivors run to convergence.

    Args:
        problem: ``W`` weight rows over the same data.
        starts: LSE starting points, shape ``(S, p)``, shared by all rows.
        schedule: coarse rounds, ``(delta, iterations, fraction kept)``.
        round_iter: iterations per halving round at the problem's δ.
        keep_min: survivors per row that run to convergence.
        max_iter: iteration cap of the final run.
        stop_at: objective per row, shape ``(W,)``: a survivor still unconverged after
            ``stop_after`` iterations whose objective is not below its row's value stops
            there (it is sliding towards a limit that another problem already holds).
        stop_after: see ``stop_at``.

    Returns:
        The state of the best optimum of each row, ``W`` problems.
    """
    starts = np.asarray(starts, dtype=float)
    n_rows = len(problem.weights)
    s = len(starts)
    theta = np.tile(starts, (n_rows, 1))
    round_iter = min(round_iter, max_iter)
    for delta, n_iter, keep in schedule:
        if s <= keep_min:
            break
        coarse = Problem(
            problem.form, problem.feats, problem.log_l, problem.weights, max(delta, problem.delta)
        )
        wrow = np.repeat(np.arange(n_rows), s)
        state = coarse.iterate(coarse.start(theta, wrow), wrow, max_iter=n_iter)
        k = max(keep_min, int(np.ceil(keep * s)))
        theta, s = _prune_rows(state, n_rows, s, k).theta, k
    wrow = np.repeat(np.arange(n_rows), s)
    state = problem.start(theta, wrow)
    while s > keep_min:
        state = problem.iterate(state, wrow, max_iter=round_iter, newton=True)
        k = max(keep_min, (s + 1) // 2)
        state, s = _prune_rows(state, n_rows, s, k), k
        wrow = np.repeat(np.arange(n_rows), s)
    state = run_with_stop(
        problem, state, wrow, max_iter=max_iter, stop_at=stop_at, stop_after=stop_after
    )
    f = np.where(np.isfinite(state.f), state.f, np.inf).reshape(n_rows, s)
    best = np.arange(n_rows) * s + np.argmin(f, axis=1)
    return state.take(best)


def run_with_stop(
    problem: Problem,
    state: SolverState,
    wrow: np.ndarray,
    *,
    max_iter: int,
    stop_at: np.ndarray | None,
    stop_after: int,
) -> SolverState:
    """Iterate to convergence; with ``stop_at`` (per weight row), stop slow problems early.

    A problem still running after ``stop_after`` iterations whose objective is not below
    ``stop_at[wrow]`` cannot beat the solution its row already has (the shifted form's
    exponential limit); it keeps its point and counts as stopped, not converged.
    """
    if stop_at is None or max_iter <= stop_after:
        return problem.iterate(state, wrow, max_iter=max_iter, newton=True)
    state = problem.iterate(state, wrow, max_iter=stop_after, newton=True)
    slow = ~state.converged & (state.f >= stop_at[wrow])
    state.converged |= slow
    state = problem.iterate(state, wrow, max_iter=max_iter - stop_after, newton=True)
    state.converged &= ~slow
    return state


def _prune_rows(state: SolverState, n_rows: int, s: int, k: int) -> SolverState:
    """Keep the ``k`` best of each row's ``s`` problems (problems ordered row by row)."""
    if k >= s:
        return state
    f = np.where(np.isfinite(state.f), state.f, np.inf).reshape(n_rows, s)
    keep = np.sort(np.argsort(f, axis=1, kind="stable")[:, :k], axis=1)
    return state.take((np.arange(n_rows)[:, None] * s + keep).ravel())
