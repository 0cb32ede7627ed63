"""The numerical core of ``laws suggest``: which runs most narrow a law's band, per FLOP.

Everything here works on arrays; :mod:`vvshub.laws._suggest` reads the catalog, builds
the candidates and shapes the result.

The method, for a law fitted on ``n`` rows and a scalar target ``T(θ)`` (the predicted
score at a compute, one parameter, or the allocation exponent):

1. **Linearised ranking.** Around the fitted optimum ``θ̂`` the fit is an M-estimator:
   the Huber loss at δ = 1e-3 is nearly L1, whose asymptotic covariance is the sandwich
   ``A⁻¹BA⁻¹`` with ``A = Σ_i f_i j_i j_iᵀ`` and ``B = Σ_i j_i j_iᵀ`` (``j_i = ∂ log L̂_i / ∂θ``,
   ``f_i`` the density of row ``i``'s residual at zero). The residuals are far from equally
   noisy (on the study's compute -> neural selection their spread in ``log L`` is 0.23
   around 1e16 FLOPs and 0.03 above 1e19), so ``f_i ∝ 1/σ_i`` with ``σ_i`` the robust
   spread of the residuals of the ``k`` fitted rows nearest to row ``i``. With
   ``g = ∂T/∂θ`` the target's variance is ``gᵀA⁻¹BA⁻¹g``; adding a run ``c`` adds
   ``j_c j_cᵀ/σ_c`` to ``A`` and ``j_c j_cᵀ`` to ``B``, which Sherman–Morrison turns into an
   exact, cheap score for every candidate, conditioned on the runs already chosen. (A
   run noisier than the rows it joins can widen an unweighted fit's band; the score says so.)
2. **Bootstrap check on a shortlist.** The best candidates per unit of compute go through
   warm-started bootstrap refits: every replicate resamples the rows (as count weights),
   draws an outcome for each hypothetical run from the current law plus a residual of the
   current fit, and refits starting from that replicate's previous optimum. The band of
   ``T`` over the replicates is the expected band after adding the run. Candidates in one
   step share the resamples and the outcome draws (common random numbers), so their
   differences are not swamped by Monte Carlo noise.
3. **Greedy under the budget.** Each step takes the shortlisted run with the largest band
   reduction per FLOP (or in absolute terms, whichever rule's linearised plan ends
   narrower: see :func:`_greedy_mode`) that still fits the remaining budget, then
   conditions on it.

An outcome is the current law's prediction plus one of ``Q`` quantiles of the residuals of
the ``k`` fitted rows nearest to the run (the local noise): each hypothetical run
contributes ``Q`` rows to the batched problem and a replicate puts its count on one of
them, so the solver (which shares rows across problems) needs no per-problem data.
Replicates weight rows by Poisson(1) counts, drawn once for the fitted rows and one slot
per run to come, so every step refits on the same resamples.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from vvshub._progress import track
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
        linear_gain: linearised variance reduction of every candidate alone, shape ``(m,)``
            (negative: the run would widen the band).
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


def linear_gains(
    A: np.ndarray, B: np.ndarray, g: np.ndarray, jac: np.ndarray, f: np.ndarray
) -> tuple[float, np.ndarray]:
    """Target variance ``gᵀA⁻¹BA⁻¹g`` now and its reduction by each candidate alone.

    Adding candidate ``c`` makes ``A + f_c j_c j_cᵀ`` and ``B + j_c j_cᵀ``; the inverse of
    the first is a Sherman–Morrison update, so all ``m`` candidates cost ``O(m p²)``.

    Args:
        A: ``Σ f_i j_i j_iᵀ`` of the rows so far, shape ``(p, p)``.
        B: ``Σ j_i j_iᵀ``, shape ``(p, p)``.
        g: target gradient, shape ``(p,)``.
        jac: candidates' ``∂ log L̂ / ∂θ``, shape ``(m, p)``.
        f: candidates' residual densities at zero (``1/σ``), shape ``(m,)``.

    Returns:
        The variance now and the reductions, shape ``(m,)`` (negative: the run widens it).
    """
    Ainv = _pinv(A)
    a = Ainv @ g
    var = float(a @ B @ a)
    h = jac @ Ainv  # rows A⁻¹j (A symmetric)
    s_ = np.einsum("mp,mp->m", jac, h)
    t = jac @ a
    u = a[None, :] - h * (f * t / (1.0 + f * s_))[:, None]  # (A + f j jᵀ)⁻¹ g
    var_c = np.einsum("mp,pq,mq->m", u, B, u) + np.einsum("mp,mp->m", u, jac) ** 2
    return var, var - var_c


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
    max_iter: int = 30,
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
        max_iter: iteration cap of each warm-started refit (one added run moves a
            replicate's optimum little: they converge in about 7-25 iterations).

    Returns:
        The :class:`Plan`.
    """
    # a degenerate optimum (E -> 0 gives e = -inf) is pulled to a finite, equivalent point
    theta = np.nan_to_num(np.asarray(theta, dtype=float), nan=0.0, posinf=50.0, neginf=-50.0)
    cost = np.asarray(cost, dtype=float)
    n, m_cand = len(log_l), len(cost)
    rng = np.random.default_rng(seed)
    resid = form.log_loss(theta[None], feats)[0] - log_l
    # local noise: residuals of the k fitted rows nearest to each row and each candidate
    k = int(min(n, max(10, n // 10)))
    near_fit = _nearest(_coords(form, feats), _coords(form, feats), k)
    near_cand = _nearest(_coords(form, feats), _coords(form, cand_feats), k)
    sigma_fit = _spread(resid[near_fit])
    floor = max(1e-3 * float(np.median(sigma_fit)), 1e-6)
    sigma_fit = np.maximum(sigma_fit, floor)
    sigma_cand = np.maximum(_spread(resid[near_cand]), floor)
    # outcome = law + a local residual: Q quantiles of the neighbours' -(residual) per candidate
    levels = (np.arange(N_QUANTILES) + 0.5) / N_QUANTILES
    q_cand = np.quantile(-resid[near_cand], levels, axis=1).T  # (m, Q)

    # linearised sandwich of the fitted rows, and every candidate's Jacobian
    _, J = form.residuals_jacobian(theta[None], feats, log_l)
    _, Jc = form.residuals_jacobian(theta[None], cand_feats, np.zeros(m_cand))
    J, Jc = J[0], Jc[0]
    f_cand = 1.0 / sigma_cand
    g = target_gradient(target, theta)
    A = (J * (1.0 / sigma_fit)[:, None]).T @ J
    B = J.T @ J
    var_now, gain0 = linear_gains(A, B, g, Jc, f_cand)
    mode = _greedy_mode(A, B, g, Jc, f_cand, cost, budget=budget, max_runs=max_runs)

    # common random numbers for every step: Poisson(1) counts of the fitted rows and of one
    # slot per run to come, and the outcome quantile each replicate draws for each slot
    counts = rng.poisson(1.0, size=(n_bootstrap, n + max_runs)).astype(float)
    k_slot = rng.integers(0, N_QUANTILES, size=(n_bootstrap, max_runs))
    cand_pred = form.log_loss(theta[None], cand_feats)[0]

    # the replicates start from the fit's optimum: give them room to converge
    th_now = _refit(
        form, feats, log_l, counts[:, :n], np.tile(theta, (n_bootstrap, 1)), delta, 4 * max_iter
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
    for step in track(range(max_runs), description="planning runs", total=max_runs):
        avail = np.ones(m_cand, dtype=bool)
        avail[chosen] = False
        avail &= cost <= budget - spent
        if not avail.any():
            stop = "budget spent" if chosen else "no candidate fits the budget"
            break
        _, gain = linear_gains(A, B, g, Jc, f_cand)
        useful = avail & (gain > 0)
        if not useful.any():
            stop = "no candidate narrows the band"
            break
        score = gain / np.maximum(cost, 1e-300) if mode == "per-flop" else gain
        order = np.argsort(-np.where(useful, score, -np.inf), kind="stable")
        short = [int(i) for i in order[: min(shortlist, int(useful.sum()))]]
        slot_w = _slot_weights(counts[:, n + step], k_slot[:, step], N_QUANTILES)
        widths = np.empty(len(short))
        sols = []
        for s, i in enumerate(short):
            f_i = _concat_feats(base_feats, [cand_feats[i]], N_QUANTILES)
            l_i = np.concatenate([base_log_l, cand_pred[i] + q_cand[i]])
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
        A = A + f_cand[i] * np.outer(Jc[i], Jc[i])
        B = B + np.outer(Jc[i], Jc[i])
        var_after = _variance(A, B, g)
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
    return Plan(
        steps=tuple(steps),
        width_now=width_now,
        linear_gain=gain0,
        replicate_theta=th_now,
        stop_reason=stop,
        mode=mode,
    )


def _greedy_mode(
    A: np.ndarray,
    B: np.ndarray,
    g: np.ndarray,
    jac: np.ndarray,
    f: np.ndarray,
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
        A_, B_ = A.copy(), B.copy()
        avail = np.ones(len(cost), dtype=bool)
        left = budget
        for _ in range(max_runs):
            _, gain = linear_gains(A_, B_, g, jac, f)
            ok = avail & (cost <= left) & (gain > 0)
            if not ok.any():
                break
            score = gain / np.maximum(cost, 1e-300) if mode == "per-flop" else gain
            i = int(np.argmax(np.where(ok, score, -np.inf)))
            A_ = A_ + f[i] * np.outer(jac[i], jac[i])
            B_ = B_ + np.outer(jac[i], jac[i])
            avail[i] = False
            left -= cost[i]
        var = _variance(A_, B_, g)
        if var < best_var * (1.0 - 1e-9):
            best_mode, best_var = mode, var
    return best_mode


def _variance(A: np.ndarray, B: np.ndarray, g: np.ndarray) -> float:
    a = _pinv(A) @ g
    return float(a @ B @ a)


def _coords(form: Form, feats: np.ndarray) -> np.ndarray:
    """Points in which "nearest" is measured: log inputs, shape ``(n, d)``."""
    f = np.asarray(feats, dtype=float)
    if form.name == "power_shift":  # its features are x̃ itself
        f = np.log(f)
    return f.reshape(len(f), -1)


def _nearest(fit_pts: np.ndarray, pts: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` rows of ``fit_pts`` nearest to each of ``pts``, shape ``(m, k)``."""
    d = ((pts[:, None, :] - fit_pts[None, :, :]) ** 2).sum(axis=2)
    if k >= d.shape[1]:
        return np.tile(np.arange(d.shape[1]), (len(pts), 1))
    return np.argpartition(d, k - 1, axis=1)[:, :k]


def _spread(r: np.ndarray) -> np.ndarray:
    """Robust spread of each row of ``r`` (``(m, k)``): 1.4826 × median absolute deviation."""
    med = np.median(r, axis=1, keepdims=True)
    return 1.4826 * np.median(np.abs(r - med), axis=1)


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
