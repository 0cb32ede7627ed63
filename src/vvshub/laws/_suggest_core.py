"""The numerical core of ``laws suggest``: which runs most narrow a law's band, per FLOP.

Everything here works on arrays; :mod:`vvshub.laws._suggest` reads the catalog, builds
the candidates and shapes the result.

The method, for a law fitted on ``n`` rows and a scalar target ``T(θ)`` (the predicted
score at a compute, one parameter, or the allocation exponent):

1. **Linearised ranking.** Around the fitted optimum ``θ̂`` the estimator's covariance is
   proportional to ``M⁻¹`` with ``M = Σ_i j_i j_iᵀ`` (``j_i = ∂ log L̂_i / ∂θ``; the
   Huber loss at δ = 1e-3 is nearly L1, whose asymptotic covariance is a scalar times the
   Gauss–Newton inverse). With ``g = ∂T/∂θ`` the target's variance is ``gᵀM⁻¹g``, and
   adding a run ``c`` lowers it by ``(gᵀM⁻¹j_c)² / (1 + j_cᵀM⁻¹j_c)`` (Sherman–Morrison):
   an exact, cheap score for every candidate, conditioned on the runs already chosen.
2. **Bootstrap check on a shortlist.** The best candidates per unit of compute go through
   warm-started bootstrap refits: every replicate resamples the rows (as count weights),
   draws an outcome for each hypothetical run from the current law plus a residual of the
   current fit, and refits starting from that replicate's previous optimum. The band of
   ``T`` over the replicates is the expected band after adding the run. Candidates in one
   step share the resamples and the outcome draws (common random numbers), so their
   differences are not swamped by Monte Carlo noise.
3. **Greedy under the budget.** Each step takes the shortlisted run with the largest band
   reduction per FLOP that still fits the remaining budget, then conditions on it.

An outcome is one of ``Q`` residual quantiles of the current fit: each hypothetical run
contributes ``Q`` rows to the batched problem and a replicate puts its count on one of
them, so the solver (which shares rows across problems) needs no per-problem data.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from vvshub.laws._forms import Form
from vvshub.laws._solver import Problem

logger = logging.getLogger(__name__)

#: A target: LSE parameters ``(K, p)`` -> target values ``(K,)``.
TargetFn = Callable[[np.ndarray], np.ndarray]

#: Residual quantiles that stand for a hypothetical run's noise.
N_QUANTILES = 16


@dataclass(frozen=True)
class Step:
    """One greedy choice.

    Attributes:
        index: the chosen candidate (row of the candidate arrays).
        width: expected band width of the target after adding it (bootstrap).
        width_before: band width before it, on the same resamples.
        linear_width: the linearised estimate of ``width``, calibrated on the current band.
        shortlist: candidates the bootstrap compared at this step.
        confirmed: the bootstrap refits saw this run narrow the band; ``False`` when no
            shortlisted run did beyond Monte Carlo noise and the linearised choice was kept.
    """

    index: int
    width: float
    width_before: float
    linear_width: float
    shortlist: tuple[int, ...]
    confirmed: bool = True


@dataclass(frozen=True)
class Plan:
    """What :func:`plan` chose, and the bands along the way.

    Attributes:
        steps: the greedy choices, in order.
        width_now: band width of the target on the current data (bootstrap).
        linear_gain: linearised variance reduction of every candidate alone, shape ``(m,)``.
        replicate_theta: bootstrap optima on the current data, shape ``(B, p)``.
        stop_reason: why the greedy loop ended.
        mode: the greedy rule used, ``per-flop`` or ``absolute`` (see :func:`plan`).
    """

    steps: tuple[Step, ...]
    width_now: float
    linear_gain: np.ndarray
    replicate_theta: np.ndarray
    stop_reason: str
    mode: str = "per-flop"


def band_width(values: np.ndarray, level: float = 0.95) -> float:
    """Band width from replicates ``values`` (shape ``(B,)``): ``2 z sd``, the normal
    approximation of the central ``level`` interval.

    Percentile widths from a few hundred replicates jump with single replicates; the
    standard deviation moves smoothly, so bands of candidates refitted on the same
    replicates can be compared.
    """
    from statistics import NormalDist

    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size < 2:
        return float("nan")
    z = NormalDist().inv_cdf(0.5 + level / 2.0)
    return float(2.0 * z * v.std(ddof=1))


def target_gradient(target: TargetFn, theta: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """``∂T/∂θ`` at ``theta`` (shape ``(p,)``) by central differences; shape ``(p,)``."""
    theta = np.asarray(theta, dtype=float)
    p = len(theta)
    h = eps * np.maximum(1.0, np.abs(theta))
    pts = np.concatenate([theta + np.diag(h), theta - np.diag(h)])
    vals = target(pts)
    return (vals[:p] - vals[p:]) / (2.0 * h)


def linear_gains(info: np.ndarray, g: np.ndarray, jac: np.ndarray) -> tuple[float, np.ndarray]:
    """Target variance now and its reduction by each candidate alone (Sherman–Morrison).

    Args:
        info: information matrix ``M``, shape ``(p, p)``.
        g: target gradient, shape ``(p,)``.
        jac: candidates' ``∂ log L̂ / ∂θ``, shape ``(m, p)``.

    Returns:
        ``gᵀM⁻¹g`` and the reductions, shape ``(m,)`` (all ≥ 0).
    """
    Minv = _pinv(info)
    u = Minv @ g
    var = float(g @ u)
    a = jac @ u  # gᵀM⁻¹j
    b = np.einsum("mp,pq,mq->m", jac, Minv, jac)
    return var, np.maximum(a * a / (1.0 + np.maximum(b, 0.0)), 0.0)


def _pinv(M: np.ndarray) -> np.ndarray:
    # a tiny ridge keeps directions the data cannot see (E -> 0) from blowing up
    ridge = 1e-10 * max(float(np.trace(M)), 1e-300)
    return np.linalg.pinv(M + ridge * np.eye(len(M)), hermitian=True)


def plan(
    form: Form,
    feats: np.ndarray,
    log_l: np.ndarray,
    theta: np.ndarray,
    target: TargetFn,
    cand_feats: np.ndarray,
    cost: np.ndarray,
    *,
    budget: float,
    max_runs: int,
    seed: int = 0,
    n_bootstrap: int = 100,
    shortlist: int = 4,
    delta: float = 1e-3,
    level: float = 0.95,
    max_iter: int = 100,
    progress: Callable[[int], None] | None = None,
) -> Plan:
    """Choose runs greedily under ``budget``; see the module docstring for the method.

    Args:
        form: the law form.
        feats: the form's features of the fitted rows (``n`` rows).
        log_l: their observed log-misalignment, shape ``(n,)``.
        theta: LSE optimum of the current fit, shape ``(p,)``.
        target: the quantity to sharpen, LSE parameters ``(K, p)`` -> ``(K,)``.
        cand_feats: the form's features of the ``m`` candidates.
        cost: candidates' costs in FLOPs, shape ``(m,)``.
        budget: total FLOPs to spend.
        max_runs: most runs to choose.
        seed: seed of the resamples and outcome draws.
        n_bootstrap: replicates per band.
        shortlist: candidates per step checked by bootstrap refits.
        delta: Huber threshold of the fit.
        level: band coverage.
        max_iter: iteration cap of each warm-started refit.
        progress: called with the step number after each step.

    Returns:
        The :class:`Plan`.
    """
    # a degenerate optimum (E -> 0 gives e = -inf) is pulled to a finite, equivalent point
    theta = np.nan_to_num(np.asarray(theta, dtype=float), nan=0.0, posinf=50.0, neginf=-50.0)
    cost = np.asarray(cost, dtype=float)
    n, m_cand = len(log_l), len(cost)
    rng = np.random.default_rng(seed)
    resid = form.log_loss(theta[None], feats)[0] - log_l
    # outcome = law + noise; noise = quantiles of the fit's residuals, centred on their median
    # (the Huber fit at small delta is a median fit)
    noise = -(resid - np.median(resid))
    q = np.quantile(noise, (np.arange(N_QUANTILES) + 0.5) / N_QUANTILES)

    # linearised information of the fitted rows and of every candidate
    _, J = form.residuals_jacobian(theta[None], feats, log_l)
    _, Jc = form.residuals_jacobian(theta[None], cand_feats, np.zeros(m_cand))
    J, Jc = J[0], Jc[0]
    g = target_gradient(target, theta)
    info = J.T @ J
    var_now, gain0 = linear_gains(info, g, Jc)
    mode = _greedy_mode(info, g, Jc, cost, budget=budget, max_runs=max_runs)

    # common random numbers for every step: Poisson(1) counts of the fitted rows and of one
    # slot per run to come, and the outcome quantile each replicate draws for each slot
    counts = rng.poisson(1.0, size=(n_bootstrap, n + max_runs)).astype(float)
    k_slot = rng.integers(0, N_QUANTILES, size=(n_bootstrap, max_runs))
    cand_pred = form.log_loss(theta[None], cand_feats)[0]

    th_now = _refit(
        form, feats, log_l, counts[:, :n], np.tile(theta, (n_bootstrap, 1)), delta, max_iter
    )
    t_now = target(th_now)
    width_now = band_width(t_now, level)
    scale = width_now / np.sqrt(max(var_now, 1e-300))

    chosen: list[int] = []
    steps: list[Step] = []
    base_feats, base_log_l, w_base = feats, log_l, counts[:, :n]
    th_null, width_null = th_now, width_now
    spent = 0.0
    stop = "max-runs reached"
    for step in range(max_runs):
        avail = np.ones(m_cand, dtype=bool)
        avail[chosen] = False
        avail &= cost <= budget - spent
        if not avail.any():
            stop = "budget spent" if chosen else "no candidate fits the budget"
            break
        _, gain = linear_gains(info, g, Jc)
        score = gain / np.maximum(cost, 1e-300) if mode == "per-flop" else gain
        order = np.argsort(-np.where(avail, score, -np.inf), kind="stable")
        short = [int(i) for i in order[: min(shortlist, int(avail.sum()))]]
        slot_w = _slot_weights(counts[:, n + step], k_slot[:, step], N_QUANTILES)
        widths = np.empty(len(short))
        sols = []
        for s, i in enumerate(short):
            f_i = _concat_feats(base_feats, [cand_feats[i]], N_QUANTILES)
            l_i = np.concatenate([base_log_l, cand_pred[i] + q])
            w_i = np.concatenate([w_base, slot_w], axis=1)
            th_i = _refit(form, f_i, l_i, w_i, th_null, delta, max_iter)
            widths[s] = band_width(target(th_i), level)
            sols.append((th_i, f_i, l_i, w_i))
        red = width_null - widths
        if mode == "per-flop":
            red = red / cost[short]
        best = int(np.argmax(np.where(np.isfinite(red), red, -np.inf)))
        confirmed = bool(np.isfinite(red[best]) and red[best] > 0)
        if not confirmed:
            # the refits see no narrowing beyond their Monte Carlo noise: keep the
            # linearised choice (always a gain in expectation) and say so
            best = 0
        i = short[best]
        th_null, base_feats, base_log_l, w_base = sols[best]
        info = info + np.outer(Jc[i], Jc[i])
        var_after = float(g @ _pinv(info) @ g)
        steps.append(
            Step(
                index=i,
                width=float(widths[best]),
                width_before=width_null,
                linear_width=float(scale * np.sqrt(max(var_after, 0.0))),
                shortlist=tuple(short),
                confirmed=confirmed,
            )
        )
        width_null = float(widths[best])
        chosen.append(i)
        spent += float(cost[i])
        if progress is not None:
            progress(step + 1)
    return Plan(
        steps=tuple(steps),
        width_now=width_now,
        linear_gain=gain0,
        replicate_theta=th_now,
        stop_reason=stop,
        mode=mode,
    )


def _greedy_mode(
    info: np.ndarray,
    g: np.ndarray,
    jac: np.ndarray,
    cost: np.ndarray,
    *,
    budget: float,
    max_runs: int,
) -> str:
    """``per-flop`` or ``absolute``: the greedy rule whose linearised plan ends narrower.

    Greedy by gain per FLOP alone can fill ``max_runs`` with cheap runs that barely help
    and leave the budget unspent; taking the better of it and plain greedy by gain is
    the classic fix for budgeted greedy selection.
    """
    best_mode, best_var = "per-flop", np.inf
    for mode in ("per-flop", "absolute"):
        M = info.copy()
        avail = np.ones(len(cost), dtype=bool)
        left = budget
        for _ in range(max_runs):
            ok = avail & (cost <= left)
            if not ok.any():
                break
            _, gain = linear_gains(M, g, jac)
            score = gain / np.maximum(cost, 1e-300) if mode == "per-flop" else gain
            i = int(np.argmax(np.where(ok, score, -np.inf)))
            M = M + np.outer(jac[i], jac[i])
            avail[i] = False
            left -= cost[i]
        var = float(g @ _pinv(M) @ g)
        if var < best_var * (1.0 - 1e-9):
            best_mode, best_var = mode, var
    return best_mode


def _concat_feats(feats: np.ndarray, extra: list[np.ndarray], q: int) -> np.ndarray:
    """``feats`` followed by each extra row repeated ``q`` times (once per outcome quantile)."""
    if not extra:
        return feats
    rows = [np.repeat(np.asarray(e)[None, ...], q, axis=0) for e in extra]
    return np.concatenate([feats, *rows], axis=0)


def _slot_weights(count: np.ndarray, k: np.ndarray, q: int) -> np.ndarray:
    """Weights ``(B, q)``: each replicate's count on its drawn outcome quantile."""
    w = np.zeros((len(count), q))
    w[np.arange(len(count)), k] = count
    return w


def _refit(
    form: Form,
    feats: np.ndarray,
    log_l: np.ndarray,
    weights: np.ndarray,
    theta0: np.ndarray,
    delta: float,
    max_iter: int,
) -> np.ndarray:
    """Refit every replicate (row ``b`` of ``weights``) from ``theta0[b]``; shape ``(B, p)``."""
    problem = Problem(form, feats, log_l, weights, delta)
    wrow = np.arange(len(weights))
    state = problem.start(theta0, wrow)
    state = problem.iterate(state, wrow, max_iter=max_iter, newton=True)
    return state.theta
