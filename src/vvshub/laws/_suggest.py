"""``laws suggest``: the next training runs that most sharpen a law, for a compute budget.

A law is fitted to a catalog selection (``--sql``); a target says what to sharpen (the
predicted score at a compute, one parameter, or the allocation exponent); candidates are
runs that could be trained (the zoo's grid, or any SQL returning runs with their cost).
:func:`suggest_runs` chooses among them greedily under the budget with the method of
:mod:`vvshub.laws._suggest_core` and returns a :class:`Suggestion`.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from vvshub.errors import SuggestError
from vvshub.laws._allocation import ComputeRelation, fit_compute_relation
from vvshub.laws._api import Location, frame_inputs, read_selection
from vvshub.laws._candidates import (
    STUDY_DATASETS,
    STUDY_SAMPLES_PER_CLASS,
    candidate_inputs,
    grid_candidates,
    infer_x_column,
    next_seeds,
    sql_candidates,
    within_data,
)
from vvshub.laws._forms import Form, get_form
from vvshub.laws._law import fit_law
from vvshub.laws._suggest_core import Plan, TargetFn, plan
from vvshub.laws._sweepfile import write_sweep

if TYPE_CHECKING:
    import pandas as pd

logger = logging.getLogger(__name__)

TargetKind = Literal["flops", "param", "allocation"]

#: What the backtest found (benchmarks/laws_suggest.py; README), said with every plan.
BACKTEST_CAVEAT = (
    "widths are expected under the current law; in backtests on the study's compute -> "
    "neural models, realised bands after such plans were no narrower than after equal-cost "
    "random picks (see the README's numbers)"
)


@dataclass(frozen=True)
class Target:
    """What to sharpen.

    Attributes:
        kind: ``flops`` (the predicted score at a compute), ``param`` (one law parameter)
            or ``allocation`` (the joint law's ``a' = β/(α+β)``, the share of compute
            growth that goes to parameters).
        flops: the compute, for ``flops``.
        param: the parameter's name, for ``param``.
    """

    kind: TargetKind
    flops: float | None = None
    param: str | None = None

    def __str__(self) -> str:
        if self.kind == "flops":
            return f"flops={self.flops:.3g}"
        if self.kind == "param":
            return f"param={self.param}"
        return "allocation"


def parse_target(text: str, form: str) -> Target:
    """Read ``flops=1e20``, ``param=E`` or ``allocation`` for a law of ``form``.

    Raises:
        SuggestError: malformed, or outside the law's variables (a parameter the form does
            not have, ``allocation`` for a one-variable law).

    Example:
        >>> parse_target("param=alpha", "power")
        Target(kind='param', flops=None, param='alpha')
    """
    spec = get_form(form)
    raw = text.strip()
    key, _, value = raw.partition("=")
    key = key.strip().lower()
    value = value.strip()
    if key == "allocation" and not value:
        if spec.n_inputs != 2:
            raise SuggestError(
                f"--target allocation needs the joint chinchilla law (n, d); the {form} law has "
                f"one variable: use --target flops=C or param=NAME ({', '.join(spec.public_names)})"
            )
        return Target("allocation")
    if key in ("flops", "compute", "c") and value:
        try:
            c = float(value)
        except ValueError:
            c = math.nan
        if not (math.isfinite(c) and c > 0):
            raise SuggestError(f"--target {raw!r}: the compute must be a positive number of FLOPs")
        return Target("flops", flops=c)
    if key == "param" and value:
        names = {n.lower(): n for n in spec.public_names}
        if value.lower() not in names:
            raise SuggestError(
                f"--target {raw!r}: the {form} law has no parameter {value!r}; "
                f"choose one of {', '.join(spec.public_names)}"
            )
        return Target("param", param=names[value.lower()])
    raise SuggestError(
        f"--target {raw!r} is not a target; use flops=C (e.g. flops=1e20), "
        f"param=NAME ({', '.join(spec.public_names)})"
        + (" or allocation" if spec.n_inputs == 2 else "")
    )


def target_function(
    target: Target,
    form: Form,
    scales: tuple[float, ...],
    *,
    relation: ComputeRelation | None = None,
) -> TargetFn:
    """The target as a function of LSE parameters ``(K, p)`` -> ``(K,)``.

    For ``flops`` on a one-variable law the law's ``x`` is the compute; on the joint law
    the score is taken at the compute-optimal ``N*(C)``, ``D*(C)``, which needs the
    compute relation ``C = m (N D)^n``.

    Raises:
        SuggestError: ``flops`` on the joint law without a compute relation.
    """
    if target.kind == "param":
        idx = form.public_names.index(target.param)
        return lambda th: form.to_public(np.atleast_2d(th))[:, idx]
    if target.kind == "allocation":
        return lambda th: _share(np.atleast_2d(th))
    feats = form.features(np.array([target.flops]), scales) if form.n_inputs == 1 else None
    if form.n_inputs == 1:
        return lambda th: 1.0 - np.exp(form.log_loss(np.atleast_2d(th), feats)[:, 0])
    if relation is None:
        raise SuggestError(
            "--target flops=C on the joint law needs the compute of each fitted row: "
            "return total_flops beside n, d, score in --sql"
        )
    n_scale, d_scale = scales
    log_nd = (math.log(target.flops / relation.m) / relation.n) - math.log(n_scale * d_scale)

    def at_optimum(th: np.ndarray) -> np.ndarray:
        th = np.atleast_2d(th)
        e, a, alpha, b, beta = (th[:, i] for i in range(5))
        with np.errstate(all="ignore"):
            s = alpha + beta
            log_g = (np.log(alpha) + a - np.log(beta) - b) / s
            log_n = log_g + beta / s * log_nd
            log_d = -log_g + alpha / s * log_nd
            loss = np.exp(e) + np.exp(a - alpha * log_n) + np.exp(b - beta * log_d)
            out = 1.0 - loss
        return np.where((alpha > 0) & (beta > 0), out, np.nan)

    return at_optimum


def _share(th: np.ndarray) -> np.ndarray:
    alpha, beta = th[:, 2], th[:, 4]
    with np.errstate(all="ignore"):
        return np.where((alpha > 0) & (beta > 0), beta / (alpha + beta), np.nan)


# ----------------------------------------------------------------------------- the result


@dataclass(frozen=True)
class SuggestedRun:
    """One run of the plan.

    Attributes:
        rank: 1 for the first choice.
        label: the candidate (``arch_dataset_spc`` for the grid, ``model_id`` for SQL).
        cost: its training compute in FLOPs.
        cumulative_cost: compute of this run and every one before it.
        inputs: the law's inputs at this run (``x``, or ``n`` and ``d``).
        score: alignment the current law predicts for it.
        score_band: the current law's band for that prediction.
        width_after: expected band width of the target once this run and those before it
            are added (warm-started bootstrap refits).
        linear_width_after: the same from the linearised information (calibrated on the
            current band).
        confirmed: the refits saw this run narrow the band (``False``: the linearised
            choice, kept because no shortlisted run narrowed it beyond Monte Carlo noise).
        info: the candidate's other columns (arch, dataset, samples_per_class ...).
    """

    rank: int
    label: str
    cost: float
    cumulative_cost: float
    inputs: dict[str, float]
    score: float
    score_band: tuple[float, float]
    width_after: float
    linear_width_after: float
    confirmed: bool
    info: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return {
            "rank": self.rank,
            "label": self.label,
            "cost": self.cost,
            "cumulative_cost": self.cumulative_cost,
            "inputs": dict(self.inputs),
            "score": self.score,
            "score_band": list(self.score_band),
            "width_after": self.width_after,
            "linear_width_after": self.linear_width_after,
            "confirmed": self.confirmed,
            "info": dict(self.info),
        }


@dataclass(frozen=True)
class Suggestion:
    """The plan ``vvshub laws suggest`` prints.

    Attributes:
        query: the SQL of the fitted selection.
        form: the law form.
        scales: the law's input scales.
        target: what is sharpened (``flops=1e+20``, ``param=E``, ``allocation``).
        value: the target's value under the current law.
        band: its current band (bootstrap of the current data).
        width: the current band's width.
        width_after: expected width after the whole plan (``width`` with no runs).
        budget: FLOPs allowed.
        spent: FLOPs the plan uses.
        runs: the chosen runs, in order.
        mode: greedy rule, ``per-flop`` or ``absolute``.
        stop_reason: why the plan ended.
        n_candidates: candidates considered (after dropping unusable ones).
        n_bootstrap: replicates per band.
        seed: seed of the resamples and outcome draws.
        level: band coverage.
        notes: caveats, one line each.
    """

    query: str
    form: str
    scales: dict[str, float]
    target: str
    value: float
    band: tuple[float, float]
    width: float
    width_after: float
    budget: float
    spent: float
    runs: tuple[SuggestedRun, ...]
    mode: str
    stop_reason: str
    n_candidates: int
    n_bootstrap: int
    seed: int
    level: float = 0.95
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``vvshub laws suggest --json``."""
        return {
            "query": self.query,
            "form": self.form,
            "scales": dict(self.scales),
            "target": self.target,
            "value": self.value,
            "band": list(self.band),
            "width": self.width,
            "width_after": self.width_after,
            "budget": self.budget,
            "spent": self.spent,
            "runs": [r.to_dict() for r in self.runs],
            "mode": self.mode,
            "stop_reason": self.stop_reason,
            "n_candidates": self.n_candidates,
            "n_bootstrap": self.n_bootstrap,
            "seed": self.seed,
            "level": self.level,
            "notes": list(self.notes),
        }


# ----------------------------------------------------------------------------- the verb


@dataclass(frozen=True)
class _Problem:
    """A fitted law with its data, ready for planning (shared with the backtest)."""

    form: Form
    scales: tuple[float, ...]
    X: np.ndarray
    score: np.ndarray
    theta: np.ndarray
    target_fn: TargetFn
    delta: float


def prepare(
    form_name: str,
    X: np.ndarray,
    score: np.ndarray,
    *,
    scales: tuple[float, ...],
    target: Target,
    relation: ComputeRelation | None = None,
    delta: float = 1e-3,
) -> _Problem:
    """Fit the law (no bootstrap) and build the target function."""
    form = get_form(form_name)
    fit = fit_law(form_name, X, score, scales=scales, delta=delta, n_bootstrap=0)
    # a degenerate optimum (E -> 0 gives e = -inf) becomes a finite, equivalent point
    theta = np.nan_to_num(form.to_lse(fit.param_array()), nan=0.0, posinf=50.0, neginf=-50.0)
    fn = target_function(target, form, scales, relation=relation)
    return _Problem(form, scales, np.asarray(X, float), np.asarray(score, float), theta, fn, delta)


def run_plan(
    prob: _Problem,
    cand_X: np.ndarray,
    cost: np.ndarray,
    *,
    budget: float,
    max_runs: int,
    seed: int,
    n_bootstrap: int,
    shortlist: int,
    level: float = 0.95,
) -> Plan:
    """:func:`~vvshub.laws._suggest_core.plan` on a prepared problem."""
    feats = prob.form.features(prob.X, prob.scales)
    log_l = np.log1p(-prob.score)
    cand_feats = prob.form.features(cand_X, prob.scales)
    return plan(
        prob.form,
        feats,
        log_l,
        prob.theta,
        prob.target_fn,
        cand_feats,
        cost,
        budget=budget,
        max_runs=max_runs,
        seed=seed,
        n_bootstrap=n_bootstrap,
        shortlist=shortlist,
        delta=prob.delta,
        level=level,
    )


def suggest_runs(
    query: str,
    *,
    budget: float,
    target: str | Target = "flops=1e20",
    form: str = "power",
    scales: tuple[float, ...] | None = None,
    candidates: str | pd.DataFrame = "grid",
    max_runs: int = 10,
    seed: int = 0,
    n_bootstrap: int = 100,
    shortlist: int = 4,
    x_column: str | None = None,
    params: tuple[Any, ...] = (),
    catalog: Location = None,
    level: float = 0.95,
) -> Suggestion:
    """The runs that most narrow the target's band per FLOP, within ``budget``.

    Args:
        query: SQL of the selection the law is fitted on (``x, score`` or ``n, d, score``).
        budget: FLOPs to spend.
        target: ``flops=C``, ``param=NAME`` or ``allocation`` (or a :class:`Target`).
        form: ``power``, ``power_shift`` or ``chinchilla``.
        scales: the law's input scales (ones by default; the paper: ``(1e13,)`` for compute).
        candidates: ``"grid"`` (the zoo's trainable grid, :func:`grid_candidates`), a SQL
            query returning runs with ``cost`` (:func:`sql_candidates`), or a DataFrame of
            the same shape.
        max_runs: most runs to choose.
        seed: seed of the resamples and outcome draws; the same seed gives the same plan.
        n_bootstrap: replicates per expected band.
        shortlist: candidates per step checked by bootstrap refits.
        x_column: the candidates' column that is the law's ``x`` (inferred from ``query``
            when it returns ``total_flops``, ``n_params`` or ``n_samples_seen`` beside ``x``).
        params: values bound to ``?`` in ``query``.
        catalog: catalog location.
        level: band coverage.

    Returns:
        The :class:`Suggestion`.

    Raises:
        SuggestError: a budget below the cheapest candidate, a target outside the law's
            variables, candidates without cost or inputs.
        FitDataError: the selection cannot be fitted.

    Example:
        >>> from vvshub.laws import PAPER_SELECTIONS
        >>> plan = suggest_runs(PAPER_SELECTIONS[0].sql, budget=1e19,
        ...                     target="flops=1e20", scales=(1e13,))  # doctest: +SKIP
        >>> [r.label for r in plan.runs]  # doctest: +SKIP
    """
    spec = get_form(form)
    tgt = target if isinstance(target, Target) else parse_target(target, form)
    if not (isinstance(budget, (int, float)) and math.isfinite(budget) and budget > 0):
        raise SuggestError(f"--budget must be a positive number of FLOPs, got {budget!r}")
    if max_runs < 1:
        raise SuggestError(f"--max-runs must be at least 1, got {max_runs}")
    if n_bootstrap < 20:
        raise SuggestError(f"the bands need at least 20 bootstrap replicates, got {n_bootstrap}")
    if scales is None:
        scales = (1.0,) * spec.n_inputs
    frame = read_selection(query, form=form, params=params, catalog=catalog)
    X, score = frame_inputs(frame, form)
    relation = None
    if tgt.kind == "flops" and spec.n_inputs == 2:
        if "total_flops" not in frame.columns:
            target_function(tgt, spec, tuple(scales))  # raises the explanation
        relation = fit_compute_relation(X[:, 0], X[:, 1], frame["total_flops"])
    if spec.n_inputs == 1 and x_column is None:
        x_column = infer_x_column(frame)
    if isinstance(candidates, str):
        if candidates.strip().lower() == "grid":
            cands = next_seeds(grid_candidates(), catalog=catalog)
        else:
            cands = sql_candidates(candidates, catalog=catalog)
    else:
        cands = candidates.reset_index(drop=True)
        if "cost" not in cands.columns:
            raise SuggestError("candidate frame needs a cost column (FLOPs)")
        if "label" not in cands.columns:
            cands = cands.assign(label=[f"candidate-{i}" for i in range(len(cands))])
    cands, notes = _usable(cands, spec, frame, x_column=x_column or "x")
    cand_X, cost = candidate_inputs(cands, spec, x_column=x_column or "x")
    inside = within_data(cand_X, X)
    if not inside.all():
        notes.append(
            f"{int((~inside).sum())} candidates below the fitted data's smallest "
            f"{' or '.join(('n', 'd') if spec.n_inputs == 2 else ('x',))} left out"
        )
        if not inside.any():
            raise SuggestError(
                "every candidate lies below the fitted data's range, where the law is an "
                "unsupported extrapolation; offer larger runs"
            )
        cands, cand_X, cost = cands[inside].reset_index(drop=True), cand_X[inside], cost[inside]
    prob = prepare(form, X, score, scales=tuple(scales), target=tgt, relation=relation)
    # where the law predicts no alignment at all (score <= 0, far below the data) its
    # hypothetical outcomes mean nothing: such runs are not candidates
    pred = 1.0 - np.exp(spec.log_loss(prob.theta[None], spec.features(cand_X, prob.scales))[0])
    meaningless = ~(pred > 0)
    if meaningless.any():
        notes.append(
            f"{int(meaningless.sum())} candidates where the law predicts no alignment "
            "(score <= 0) left out"
        )
        if meaningless.all():
            raise SuggestError(
                "the law predicts no alignment (score <= 0) for every candidate; "
                "offer candidates within the fitted data's range"
            )
        keep = ~meaningless
        cands, cand_X, cost = cands[keep].reset_index(drop=True), cand_X[keep], cost[keep]
    cheapest = int(np.argmin(cost))
    if budget < cost[cheapest]:
        raise SuggestError(
            f"--budget {budget:.3g} FLOPs is below the cheapest candidate "
            f"({cands['label'].iloc[cheapest]}, {cost[cheapest]:.3g} FLOPs); "
            f"raise --budget to at least {cost[cheapest]:.3g}"
        )
    pl = run_plan(
        prob,
        cand_X,
        cost,
        budget=budget,
        max_runs=max_runs,
        seed=seed,
        n_bootstrap=n_bootstrap,
        shortlist=shortlist,
        level=level,
    )
    return _suggestion(
        query, prob, tgt, pl, cands, cand_X, cost, budget, n_bootstrap, seed, level, notes
    )


def _usable(
    cands: pd.DataFrame, spec: Form, frame: pd.DataFrame, *, x_column: str
) -> tuple[pd.DataFrame, list[str]]:
    """Drop candidates already fitted, or without a positive cost and inputs."""
    notes = []
    n0 = len(cands)
    if "model_id" in frame.columns and "label" in cands.columns:
        fitted = set(frame["model_id"].astype(str))
        dup = cands["label"].astype(str).isin(fitted)
        if dup.any():
            notes.append(f"{int(dup.sum())} candidates are already in the fit; left out")
            cands = cands[~dup]
            if cands.empty:
                raise SuggestError(
                    f"all {n0} candidates are already in the fit; offer runs or models it "
                    "does not hold"
                )
    X, cost = candidate_inputs(cands, spec, x_column=x_column)
    ok = np.isfinite(cost) & (cost > 0)
    ok &= np.all(np.isfinite(X.reshape(len(cost), -1)) & (X.reshape(len(cost), -1) > 0), axis=1)
    if not ok.all():
        notes.append(
            f"{int((~ok).sum())} of {n0} candidates have no positive cost or inputs; left out"
        )
        cands = cands[ok]
    if cands.empty:
        raise SuggestError("no usable candidates: each needs a positive cost and law inputs")
    return cands.reset_index(drop=True), notes


_INFO_COLUMNS = (
    "model_id",
    "arch",
    "arch_family",
    "dataset",
    "samples_per_class",
    "seed",
    "n_params",
    "n_samples_seen",
    "total_flops",
)


def _suggestion(
    query: str,
    prob: _Problem,
    tgt: Target,
    pl: Plan,
    cands: pd.DataFrame,
    cand_X: np.ndarray,
    cost: np.ndarray,
    budget: float,
    n_bootstrap: int,
    seed: int,
    level: float,
    notes: list[str],
) -> Suggestion:
    from vvshub.laws._bootstrap import percentile_band

    form = prob.form
    reps = pl.replicate_theta
    t_now = prob.target_fn(reps)
    lo, hi = percentile_band(t_now[np.isfinite(t_now)][:, None], level)
    value = float(prob.target_fn(prob.theta[None])[0])
    names = ("n", "d") if form.n_inputs == 2 else ("x",)
    runs = []
    total = 0.0
    for rank, st in enumerate(pl.steps, start=1):
        i = st.index
        total += float(cost[i])
        xi = np.atleast_1d(cand_X[i])
        feats = form.features(cand_X[i : i + 1], prob.scales)
        s_hat = 1.0 - float(np.exp(form.log_loss(prob.theta[None], feats)[0, 0]))
        s_rep = 1.0 - np.exp(form.log_loss(reps, feats)[:, 0])
        s_lo, s_hi = percentile_band(s_rep[:, None], level)
        row = cands.iloc[i]
        info = {
            c: _plain(row[c]) for c in _INFO_COLUMNS if c in cands.columns and row[c] is not None
        }
        runs.append(
            SuggestedRun(
                rank=rank,
                label=str(row["label"]),
                cost=float(cost[i]),
                cumulative_cost=total,
                inputs={k: float(v) for k, v in zip(names, xi, strict=True)},
                score=s_hat,
                score_band=(float(s_lo[0]), float(s_hi[0])),
                width_after=st.width,
                linear_width_after=st.linear_width,
                confirmed=st.confirmed,
                info=info,
            )
        )
    notes = list(notes)
    notes.append(BACKTEST_CAVEAT)
    if any(not r.confirmed for r in runs):
        notes.append(
            "bootstrap refits could not tell some runs' gain from Monte Carlo noise "
            "(confirmed = no); those were chosen by the linearised ranking"
        )
    if runs and runs[-1].width_after > pl.width_now * 0.99:
        notes.append(
            "the plan narrows the band by less than 1%: the law is already well determined "
            "at this target, or the budget buys too little"
        )
    scale_names = ("n_scale", "d_scale") if form.n_inputs == 2 else ("x_scale",)
    return Suggestion(
        query=query,
        form=form.name,
        scales=dict(zip(scale_names, map(float, prob.scales), strict=True)),
        target=str(tgt),
        value=value,
        band=(float(lo[0]), float(hi[0])),
        width=pl.width_now,
        width_after=runs[-1].width_after if runs else pl.width_now,
        budget=float(budget),
        spent=total,
        runs=tuple(runs),
        mode=pl.mode,
        stop_reason=pl.stop_reason,
        n_candidates=len(cands),
        n_bootstrap=n_bootstrap,
        seed=seed,
        level=level,
        notes=tuple(notes),
    )


def _plain(v: Any) -> Any:
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float) and math.isnan(v):
        return None
    return v


__all__ = [
    "STUDY_DATASETS",
    "STUDY_SAMPLES_PER_CLASS",
    "SuggestedRun",
    "Suggestion",
    "Target",
    "grid_candidates",
    "parse_target",
    "sql_candidates",
    "suggest_runs",
    "target_function",
    "write_sweep",
]
