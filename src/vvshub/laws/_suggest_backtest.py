"""Proof by backtest for ``laws suggest``: hide models, let it choose, reveal, refit, compare.

For each seed a random fraction of the selection's models is hidden (and, optionally,
every model at or above a compute, a frontier still to reach). The hidden models are the
candidates, with their real compute as cost. Three plans spend the budget on them:

* ``suggest``: :func:`vvshub.laws.suggest_runs`'s method;
* ``random``: hidden models in a random order, each taken while the total stays within
  what ``suggest`` spent (equal cost) and the count within ``max_runs`` (the same limits);
* ``largest``: the largest-compute hidden models first, under the same budget and
  ``max_runs`` as ``suggest``;

plus ``none`` (no new run). Each plan's models are revealed with their measured scores,
the law is refitted with the usual bootstrap, and two things are measured: the realised
percentile band width of the target, and the mean absolute error of the predicted score
on the hidden models that no plan took (the same held-out models for every plan).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from vvshub._progress import track
from vvshub.errors import SuggestError
from vvshub.laws._allocation import fit_compute_relation
from vvshub.laws._api import Location, frame_inputs, read_selection
from vvshub.laws._bootstrap import percentile_band
from vvshub.laws._forms import get_form
from vvshub.laws._law import fit_law, misalignment
from vvshub.laws._suggest import Target, parse_target, prepare, run_plan, within_data

logger = logging.getLogger(__name__)

STRATEGIES = ("suggest", "random", "largest", "none")


@dataclass(frozen=True)
class BacktestRun:
    """One plan of one seed, revealed and refitted.

    Attributes:
        seed: the repetition (which models were hidden).
        strategy: ``suggest``, ``random``, ``largest`` or ``none``.
        n_runs: hidden models the plan took.
        spent: their compute.
        width: realised band width of the target after the refit.
        mae: mean absolute error on the held-out hidden models.
        plan_seconds: time ``suggest`` took to plan (0 for the other strategies).
        n_candidates: hidden models offered.
    """

    seed: int
    strategy: str
    n_runs: int
    spent: float
    width: float
    mae: float
    plan_seconds: float = 0.0
    n_candidates: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Plain dict."""
        return {
            "seed": self.seed,
            "strategy": self.strategy,
            "n_runs": self.n_runs,
            "spent": self.spent,
            "width": self.width,
            "mae": self.mae,
            "plan_seconds": self.plan_seconds,
            "n_candidates": self.n_candidates,
        }


@dataclass(frozen=True)
class SuggestBacktest:
    """Every seed's plans, and how ``suggest`` compares.

    Attributes:
        target: the target sharpened.
        budget: FLOPs per plan.
        hide: fraction hidden at random.
        visible_below: compute at and above which every model was hidden (``None``: none).
        rows: one :class:`BacktestRun` per seed and strategy.
    """

    target: str
    budget: float
    hide: float
    visible_below: float | None
    rows: tuple[BacktestRun, ...]

    def _by(self, strategy: str, attr: str) -> np.ndarray:
        return np.array([getattr(r, attr) for r in self.rows if r.strategy == strategy])

    def ratio(self, baseline: str, attr: str = "width") -> float:
        """Geometric mean over seeds of ``baseline / suggest`` (> 1: suggest is narrower)."""
        a, b = self._by(baseline, attr), self._by("suggest", attr)
        ok = np.isfinite(a) & np.isfinite(b) & (a > 0) & (b > 0)
        if not ok.any():
            return math.nan
        return float(np.exp(np.mean(np.log(a[ok] / b[ok]))))

    def wins(self, baseline: str, attr: str = "width") -> float:
        """Fraction of seeds where ``suggest`` is strictly below ``baseline``."""
        a, b = self._by(baseline, attr), self._by("suggest", attr)
        return float(np.mean(b < a)) if len(a) else math.nan

    def to_dict(self) -> dict[str, Any]:
        """Plain dict with the ratios."""
        return {
            "target": self.target,
            "budget": self.budget,
            "hide": self.hide,
            "visible_below": self.visible_below,
            "ratios": {
                f"{b}_over_suggest": {
                    "band_width": self.ratio(b),
                    "mae": self.ratio(b, "mae"),
                    "suggest_narrower_share": self.wins(b),
                }
                for b in STRATEGIES[1:]
            },
            "plan_seconds_mean": float(np.mean(self._by("suggest", "plan_seconds"))),
            "rows": [r.to_dict() for r in self.rows],
        }

    def summary_lines(self) -> list[str]:
        """What the backtest found, in plain lines (the target: random/suggest >= 1.5)."""
        lines = []
        for b in STRATEGIES[1:]:
            lines.append(
                f"{b}/suggest: band width x{self.ratio(b):.3f} (suggest narrower in "
                f"{self.wins(b):.0%} of seeds), held-out error x{self.ratio(b, 'mae'):.3f}"
            )
        r = self.ratio("random")
        verdict = (
            "meets the 1.5x target"
            if r >= 1.5
            else "does NOT meet the 1.5x target: its bands are not 1.5x narrower than "
            "equal-cost random picks here"
        )
        lines.append(f"suggest {verdict} (random/suggest band width x{r:.3f})")
        secs = self._by("suggest", "plan_seconds")
        lines.append(f"planning took {np.mean(secs):.1f} s per seed on average")
        return lines


def backtest_suggest(
    query: str,
    *,
    budget: float,
    target: str | Target = "flops=1e20",
    form: str = "power",
    scales: tuple[float, ...] | None = None,
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4),
    hide: float = 0.5,
    visible_below: float | None = None,
    max_runs: int = 10,
    n_bootstrap: int = 100,
    shortlist: int = 4,
    eval_bootstrap: int = 200,
    params: tuple[Any, ...] = (),
    catalog: Location = None,
    level: float = 0.95,
) -> SuggestBacktest:
    """Hide models of ``query``, plan with each strategy, reveal, refit, compare.

    Args:
        query: SQL of the selection (``x, score`` or ``n, d, score``), with ``total_flops``
            when ``x`` is not the compute.
        budget: FLOPs each plan may spend.
        target: what ``suggest`` sharpens, and what the band is measured on.
        form: law form.
        scales: the law's input scales.
        seeds: repetitions; seed ``k`` hides a different random set.
        hide: fraction of models hidden at random.
        visible_below: also hide every model at or above this compute.
        max_runs: most runs per plan (``suggest`` and ``largest``).
        n_bootstrap: replicates inside ``suggest``.
        shortlist: candidates per step checked by refits.
        eval_bootstrap: resamples of the refits that measure the realised band.
        params: values bound to ``?`` in ``query``.
        catalog: catalog location.
        level: band coverage.

    Returns:
        The :class:`SuggestBacktest`.

    Raises:
        SuggestError: bad fractions, or too few visible models.

    Example:
        >>> bt = backtest_suggest(COMPUTE_NEURAL, budget=1e19, scales=(1e13,))  # doctest: +SKIP
        >>> bt.ratio("random")  # doctest: +SKIP
    """
    spec = get_form(form)
    tgt = target if isinstance(target, Target) else parse_target(target, form)
    if not 0.0 < hide < 1.0:
        raise SuggestError(f"--hide must be a fraction between 0 and 1, got {hide!r}")
    if scales is None:
        scales = (1.0,) * spec.n_inputs
    scales = tuple(float(s) for s in scales)
    frame = read_selection(query, form=form, params=params, catalog=catalog)
    X, score = frame_inputs(frame, form)
    if "total_flops" in frame.columns:
        compute = frame["total_flops"].to_numpy(dtype=float)
    elif spec.n_inputs == 1:
        compute = X
    else:
        raise SuggestError("the backtest needs each model's compute: return total_flops in --sql")
    usable = np.isfinite(compute) & (compute > 0)
    X, score, compute = X[usable], score[usable], compute[usable]
    relation = None
    if tgt.kind == "flops" and spec.n_inputs == 2:
        relation = fit_compute_relation(X[:, 0], X[:, 1], compute)
    rows: list[BacktestRun] = []
    for seed in track(seeds, description="backtest", total=len(seeds)):
        rows.extend(
            _one_seed(
                seed,
                X,
                score,
                compute,
                form=form,
                scales=scales,
                target=tgt,
                relation=relation,
                budget=budget,
                hide=hide,
                visible_below=visible_below,
                max_runs=max_runs,
                n_bootstrap=n_bootstrap,
                shortlist=shortlist,
                eval_bootstrap=eval_bootstrap,
                level=level,
            )
        )
    return SuggestBacktest(str(tgt), float(budget), float(hide), visible_below, tuple(rows))


def _one_seed(
    seed: int,
    X: np.ndarray,
    score: np.ndarray,
    compute: np.ndarray,
    *,
    form: str,
    scales: tuple[float, ...],
    target: Target,
    relation: Any,
    budget: float,
    hide: float,
    visible_below: float | None,
    max_runs: int,
    n_bootstrap: int,
    shortlist: int,
    eval_bootstrap: int,
    level: float,
) -> list[BacktestRun]:
    spec = get_form(form)
    rng = np.random.default_rng(seed)
    hidden = rng.random(len(score)) < hide
    if visible_below is not None:
        hidden |= compute >= visible_below
    vis = np.flatnonzero(~hidden)
    if len(vis) <= spec.n_params + 2:
        raise SuggestError(
            f"seed {seed}: only {len(vis)} models stay visible; hide fewer (--hide, --visible-below)"
        )
    prob = prepare(form, X[vis], score[vis], scales=scales, target=target, relation=relation)
    hid = np.flatnonzero(hidden)
    # the same rules as suggest_runs: no candidates below the data or where the law
    # predicts no alignment
    pred = 1.0 - misalignment_at(prob, X[hid])
    hid = hid[(pred > 0) & within_data(X[hid], X[vis])]
    cost = compute[hid]
    t0 = time.perf_counter()
    if len(hid) and cost.min() <= budget:
        pl = run_plan(
            prob,
            X[hid],
            cost,
            budget=budget,
            max_runs=max_runs,
            seed=seed,
            n_bootstrap=n_bootstrap,
            shortlist=shortlist,
            level=level,
        )
        picks_s = [int(hid[st.index]) for st in pl.steps]
    else:
        picks_s = []
    secs = time.perf_counter() - t0
    spent_s = float(compute[picks_s].sum()) if picks_s else 0.0

    order = np.argsort(-cost, kind="stable")
    picks_l, left = [], budget
    for j in order:
        if len(picks_l) >= max_runs:
            break
        if cost[j] <= left:
            picks_l.append(int(hid[j]))
            left -= cost[j]
    perm = np.random.default_rng([seed, 7]).permutation(len(hid))
    picks_r, total = [], 0.0
    for j in perm:
        if len(picks_r) >= max_runs:
            break
        if total + cost[j] <= spent_s:
            picks_r.append(int(hid[j]))
            total += cost[j]

    taken = set(picks_s) | set(picks_l) | set(picks_r)
    held = np.array([i for i in np.flatnonzero(hidden) if i not in taken], dtype=int)
    out = []
    for name, picks in (
        ("suggest", picks_s),
        ("random", picks_r),
        ("largest", picks_l),
        ("none", []),
    ):
        rows = np.concatenate([vis, np.asarray(picks, dtype=int)])
        width, mae = _reveal(prob, X, score, rows, held, eval_bootstrap=eval_bootstrap, level=level)
        out.append(
            BacktestRun(
                seed=seed,
                strategy=name,
                n_runs=len(picks),
                spent=float(compute[picks].sum()) if picks else 0.0,
                width=width,
                mae=mae,
                plan_seconds=secs if name == "suggest" else 0.0,
                n_candidates=len(hid),
            )
        )
    return out


def misalignment_at(prob: Any, X: np.ndarray) -> np.ndarray:
    """Predicted ``L`` of a prepared problem's current law at raw inputs ``X``."""
    f = prob.form
    return np.exp(f.log_loss(prob.theta[None], f.features(X, prob.scales))[0])


def _reveal(
    prob: Any,
    X: np.ndarray,
    score: np.ndarray,
    rows: np.ndarray,
    held: np.ndarray,
    *,
    eval_bootstrap: int,
    level: float,
) -> tuple[float, float]:
    """Refit on ``rows``; the target's realised band width and the error on ``held``."""
    fit = fit_law(
        prob.form.name, X[rows], score[rows], scales=prob.scales, n_bootstrap=eval_bootstrap
    )
    lse = prob.form.to_lse(fit.bootstrap_array())
    lse = np.nan_to_num(lse, nan=0.0, posinf=50.0, neginf=-50.0)
    t = prob.target_fn(lse)
    t = t[np.isfinite(t)]
    if t.size >= 2:
        lo, hi = percentile_band(t[:, None], level)
        width = float(hi[0] - lo[0])
    else:
        width = math.nan
    if len(held):
        pred = 1.0 - misalignment(fit, X[held])
        mae = float(np.mean(np.abs(pred - score[held])))
    else:
        mae = math.nan
    return width, mae
