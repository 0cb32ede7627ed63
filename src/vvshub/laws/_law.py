"""Scaling-law estimators (scikit-learn contract) and their saved result, :class:`LawFit`."""

from __future__ import annotations

import functools
import logging
import math
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from vvshub.errors import ConvergenceWarning, FitDataError, NotFittedError
from vvshub.laws._bootstrap import Starts, bootstrap_fits, check_n_bootstrap, percentile_band
from vvshub.laws._forms import FORMS, Form, get_form, grid_starts
from vvshub.laws._limit import DEGENERATE_REASON, shift_limits
from vvshub.laws._solver import Problem, distinct_minima, multistart

logger = logging.getLogger(__name__)

#: Changes whenever the solver could return a different optimum; part of a stored fit's key.
SOLVER_VERSION = "lm-newton-3"
#: Resamples with an objective at or below this fit their rows exactly.
_EXACT = 1e-12


@dataclass(frozen=True)
class LawFit:
    """A fitted law: what is saved in the catalog and printed as JSON.

    Attributes:
        form: ``power``, ``power_shift`` or ``chinchilla``.
        params: public parameters (``E, A, alpha`` / ``E, A, lambda, alpha`` /
            ``E, A, alpha, B, beta``).
        objective: the paper's objective (eq. 2 / eq. 6) at the optimum.
        n_rows: rows fitted.
        scales: ``{"x_scale": s}`` or ``{"n_scale": s, "d_scale": s}``.
        delta: Huber threshold.
        n_bootstrap: resamples fitted (0: none).
        seed: seed of the resamples.
        bootstrap_params: public parameters per resample, ``n_bootstrap`` tuples.
        bootstrap_objectives: objective per resample.
        converged: whether the optimum (and every resample) converged.
        n_starts: starting points of the grid.
        n_minima: distinct optima the grid reached.
        extra: other facts (``n_dropped``, ``warnings``, ``bootstrap_starts``...).
        log_params: the fitted (LSE) parameters, ``e = log E``, ``a = log A``...; finite
            even where a public one overflows.
        bootstrap_log_params: LSE parameters per resample.
        degenerate: why the optimum is degenerate (empty when it is not).
    """

    form: str
    params: dict[str, float]
    objective: float
    n_rows: int
    scales: dict[str, float]
    delta: float = 1e-3
    n_bootstrap: int = 0
    seed: int = 42
    bootstrap_params: tuple[tuple[float, ...], ...] = ()
    bootstrap_objectives: tuple[float, ...] = ()
    converged: bool = True
    n_starts: int = 0
    n_minima: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    log_params: dict[str, float] = field(default_factory=dict)
    bootstrap_log_params: tuple[tuple[float, ...], ...] = ()
    degenerate: str = ""

    def __post_init__(self) -> None:
        if self.form not in FORMS:
            raise ValueError(f"unknown law form {self.form!r}; expected one of {', '.join(FORMS)}")
        names = get_form(self.form).public_names
        if tuple(self.params) != names:
            raise ValueError(f"{self.form} parameters must be {names}, got {tuple(self.params)}")
        if len(self.bootstrap_params) != self.n_bootstrap:
            raise ValueError(
                f"{len(self.bootstrap_params)} bootstrap parameter rows for n_bootstrap={self.n_bootstrap}"
            )

    @property
    def spec(self) -> Form:
        """The form's definition."""
        return get_form(self.form)

    def param_array(self) -> np.ndarray:
        """Public parameters, shape ``(p,)``."""
        return np.array([self.params[k] for k in self.spec.public_names])

    def bootstrap_array(self) -> np.ndarray:
        """Public parameters per resample, shape ``(B, p)``."""
        return np.array(self.bootstrap_params, dtype=float).reshape(-1, self.spec.n_params)

    def lse_array(self) -> np.ndarray:
        """LSE parameters, shape ``(p,)`` (from the public ones for fits saved without them)."""
        if self.log_params:
            return np.array([self.log_params[k] for k in self.spec.lse_names])
        return self.spec.to_lse(self.param_array())

    def bootstrap_lse_array(self) -> np.ndarray:
        """LSE parameters per resample, shape ``(B, p)``."""
        if self.bootstrap_log_params:
            return np.array(self.bootstrap_log_params, dtype=float).reshape(-1, self.spec.n_params)
        return self.spec.to_lse(self.bootstrap_array())

    def ci(self, level: float = 0.95) -> dict[str, tuple[float, float]]:
        """Percentile interval of each parameter over the resamples (empty without any)."""
        if not self.n_bootstrap:
            return {}
        pub = self.bootstrap_array()
        lo, hi = percentile_band(pub, level)
        if not np.all(np.isfinite(pub)) and self.bootstrap_log_params:
            # A = exp(a) overflowed in some resamples: percentiles of a, then exp
            lse_lo, lse_hi = percentile_band(self.bootstrap_lse_array(), level)
            bad = ~np.all(np.isfinite(pub), axis=0)
            with np.errstate(over="ignore"):
                lo = np.where(bad, self.spec.to_public(lse_lo), lo)
                hi = np.where(bad, self.spec.to_public(lse_hi), hi)
        return {
            k: (float(a), float(b)) for k, a, b in zip(self.spec.public_names, lo, hi, strict=True)
        }

    def log_ci(self, level: float = 0.95) -> dict[str, tuple[float, float]]:
        """Percentile interval of each LSE parameter over the resamples (always finite)."""
        if not self.n_bootstrap:
            return {}
        lo, hi = percentile_band(self.bootstrap_lse_array(), level)
        return {
            k: (float(a), float(b)) for k, a, b in zip(self.spec.lse_names, lo, hi, strict=True)
        }

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict; :meth:`from_dict` inverts it."""
        d = asdict(self)
        d["bootstrap_params"] = [list(p) for p in self.bootstrap_params]
        d["bootstrap_objectives"] = list(self.bootstrap_objectives)
        d["bootstrap_log_params"] = [list(p) for p in self.bootstrap_log_params]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LawFit:
        """Rebuild from :meth:`to_dict` output."""
        d = dict(d)
        d["bootstrap_params"] = tuple(
            tuple(float(v) for v in p) for p in d.get("bootstrap_params", ())
        )
        d["bootstrap_objectives"] = tuple(float(v) for v in d.get("bootstrap_objectives", ()))
        d["bootstrap_log_params"] = tuple(
            tuple(float(v) for v in p) for p in d.get("bootstrap_log_params", ())
        )
        d["log_params"] = {k: float(v) for k, v in d.get("log_params", {}).items()}
        names = get_form(d["form"]).public_names
        d["params"] = {k: float(d["params"][k]) for k in names if k in d["params"]}
        d["scales"] = {k: float(v) for k, v in d["scales"].items()}
        return cls(**d)


def misalignment(fit: LawFit, X: np.ndarray, params: np.ndarray | None = None) -> np.ndarray:
    """Predicted misalignment ``L`` at raw inputs.

    Args:
        fit: the law.
        X: raw inputs, shape ``(m,)`` (or ``(m, 2)`` for chinchilla).
        params: public parameters, shape ``(p,)`` or ``(B, p)``; the fit's own by default.

    Returns:
        ``L`` with shape ``(m,)``, or ``(B, m)`` for a batch of parameters.
    """
    if params is None:
        return _misalignment_lse(fit, X, fit.lse_array())
    P = np.asarray(params, dtype=float)
    single = P.ndim == 1
    P = np.atleast_2d(P)
    X = np.asarray(X, dtype=float)
    col = lambda i: P[:, i : i + 1]  # noqa: E731
    if fit.form == "chinchilla":
        n = X[:, 0] / fit.scales["n_scale"]
        d = X[:, 1] / fit.scales["d_scale"]
        out = col(0) + col(1) * n ** -col(2) + col(3) * d ** -col(4)
    elif fit.form == "power_shift":
        x = X / fit.scales["x_scale"]
        out = col(0) + col(1) * (x + 10.0 ** col(2)) ** -col(3)
    else:
        x = X / fit.scales["x_scale"]
        out = col(0) + col(1) * x ** -col(2)
    return out[0] if single else out


def _misalignment_lse(fit: LawFit, X: Any, theta: np.ndarray) -> np.ndarray:
    """``L`` from LSE parameters (shape ``(p,)`` or ``(B, p)``): finite where ``A`` overflows."""
    single = np.ndim(theta) == 1
    spec = fit.spec
    X = np.asarray(X, dtype=float)
    feats = spec.features(X, tuple(fit.scales.values()))
    with np.errstate(over="ignore"):
        out = np.exp(spec.log_loss(np.atleast_2d(theta), feats))
    return out[0] if single else out


def band_misalignment(fit: LawFit, X: Any) -> np.ndarray:
    """``L`` at raw inputs for every resample, shape ``(B, m)``."""
    return _misalignment_lse(fit, X, fit.bootstrap_lse_array())


def validate(
    form: Form, X: Any, score: Any, *, drop_missing: bool = False
) -> tuple[np.ndarray, np.ndarray, int]:
    """Check inputs; return ``X`` (``(n,)`` or ``(n, 2)``), ``score`` (``(n,)``) and rows dropped.

    Policy: rows with a missing (NaN) input or score are an error, unless ``drop_missing``
    drops them (and says how many). Scores ≥ 1 and inputs ≤ 0 are always errors.

    Raises:
        FitDataError: no rows, NaN values, scores ≥ 1, inputs ≤ 0, wrong shape, too few rows.
    """
    names = ("n", "d") if form.n_inputs == 2 else ("x",)
    try:
        X = np.asarray(X, dtype=float)
        score = np.asarray(score, dtype=float).ravel()
    except (TypeError, ValueError) as exc:
        raise FitDataError(f"inputs must be numbers: {exc}") from None
    if form.n_inputs == 2:
        if X.ndim != 2 or X.shape[1] != 2:
            raise FitDataError(
                f"the chinchilla form needs two inputs (n, d) per row, shape (rows, 2); got {X.shape}"
            )
    else:
        X = X.ravel()
    if len(X) != len(score):
        raise FitDataError(f"{len(X)} input rows but {len(score)} scores")
    if len(score) == 0:
        raise FitDataError("no rows to fit: the selection is empty; check its WHERE clause")
    cols = X.reshape(len(score), -1)
    bad = ~np.isfinite(score) | ~np.all(np.isfinite(cols), axis=1)
    n_dropped = 0
    if bad.any():
        which = [n for i, n in enumerate(names) if not np.all(np.isfinite(cols[:, i]))]
        if not np.all(np.isfinite(score)):
            which.append("score")
        if not drop_missing:
            raise FitDataError(
                f"{int(bad.sum())} of {len(score)} rows have NaN/NULL values in "
                f"{', '.join(repr(w) for w in which)} (first at row {int(np.argmax(bad))}); "
                "filter them in SQL (WHERE ... IS NOT NULL) or pass --drop-missing"
            )
        n_dropped = int(bad.sum())
        logger.warning(
            "dropped %d of %d rows with NaN/NULL values in %s", n_dropped, len(score), which
        )
        warnings.warn(
            f"dropped {n_dropped} of {len(score)} rows with NaN/NULL values in {', '.join(which)}",
            UserWarning,
            stacklevel=3,
        )
        X, score = X[~bad], score[~bad]
        cols = X.reshape(len(score), -1)
        if len(score) == 0:
            raise FitDataError("no rows left to fit after dropping rows with NaN/NULL values")
    high = score >= 1.0
    if high.any():
        i = int(np.argmax(high))
        raise FitDataError(
            f"{int(high.sum())} rows have score >= 1 (e.g. {score[i]:.4g} at row {i}): no "
            "misalignment L = 1 - score left to fit; scores must be < 1"
        )
    for j, name in enumerate(names):
        nonpos = cols[:, j] <= 0
        if nonpos.any():
            i = int(np.argmax(nonpos))
            raise FitDataError(
                f"{int(nonpos.sum())} rows have {name} <= 0 (e.g. {cols[i, j]:.4g} at row {i}); "
                "the law needs positive inputs"
            )
    for j, name in enumerate(names):
        if np.ptp(cols[:, j]) == 0:
            raise FitDataError(
                f"{name} is constant ({name} = {cols[0, j]:.6g} in all {len(score)} rows): a law "
                f"of {name} needs rows at different {name}; check the query's WHERE clause"
            )
    if len(score) <= form.n_params:
        raise FitDataError(
            f"{len(score)} rows cannot determine the {form.n_params} parameters of the "
            f"{form.name} form; select more rows"
        )
    return X, score, n_dropped


def fit_law(
    form_name: str,
    X: Any,
    score: Any,
    *,
    scales: tuple[float, ...] | None = None,
    delta: float = 1e-3,
    grid: tuple[tuple[float, ...], ...] | None = None,
    n_bootstrap: int = 1000,
    seed: int = 42,
    bootstrap_starts: int = 3,
    drop_missing: bool = False,
    max_iter: int = 2000,
) -> LawFit:
    """Fit a law to raw data with the paper's objective; the functional core of the estimators.

    Args:
        form_name: ``power``, ``power_shift`` or ``chinchilla``.
        X: raw inputs, shape ``(n,)`` (or ``(n, 2)`` columns ``n, d`` for chinchilla).
        score: alignment scores, shape ``(n,)``; the fit is on ``L = 1 - score``.
        scales: ``(x_scale,)`` or ``(n_scale, d_scale)``; ones by default.
        delta: Huber threshold of the objective.
        grid: starting values per LSE parameter; the paper's grid by default.
        n_bootstrap: row resamples (0 skips the bootstrap).
        seed: seed of ``numpy.random.default_rng`` for the resamples.
        bootstrap_starts: distinct optima of the original fit each resample starts from.
        drop_missing: drop rows with NaN instead of raising.
        max_iter: iteration cap of each solve; a fit that reaches it warns.

    Returns:
        The fitted :class:`LawFit`.

    Raises:
        FitDataError: the data cannot be fitted.

    Example:
        >>> x = np.geomspace(1e13, 1e19, 40)
        >>> fit = fit_law("power", x, 1 - (0.5 + 0.6 * (x / 1e13) ** -0.2), scales=(1e13,),
        ...               n_bootstrap=0)
        >>> round(fit.params["alpha"], 3)
        0.2
    """
    form = get_form(form_name)
    check_delta(delta)
    check_n_bootstrap(n_bootstrap)
    X, score, n_dropped = validate(form, X, score, drop_missing=drop_missing)
    if scales is None:
        scales = (1.0,) * form.n_inputs
    scales = check_scales(form, scales)
    grid = form.default_grid if grid is None else tuple(tuple(float(v) for v in g) for g in grid)
    if len(grid) != form.n_params or any(len(g) == 0 for g in grid):
        raise ValueError(f"{form.name} needs a non-empty grid for each of {form.lse_names}")
    feats = form.features(X, scales)
    log_l = np.log1p(-score)
    starts = grid_starts(grid)
    ones = np.ones((1, len(score)))
    problem = Problem(form, feats, log_l, ones, delta)
    # the shifted form's two ends (10^lambda -> infinity, -> 0), fitted as laws of their own
    ends = []
    for limit in shift_limits(feats) if form.name == "power_shift" else ():
        lim = multistart(limit.problem(feats, log_l, ones, delta), limit.grid, max_iter=max_iter)
        lim_minima = distinct_minima(lim.theta, lim.f)
        ends.append((limit, lim, lim_minima))
    stop_at = min((float(lim.f[m[0]]) for _, lim, m in ends), default=None)
    state = multistart(problem, starts, max_iter=max_iter, stop_at=stop_at)
    minima = distinct_minima(state.theta, state.f)
    best = minima[0] if len(minima) else 0
    theta, f, converged = state.theta[best], float(state.f[best]), bool(state.converged[best])
    degenerate = ""
    for limit, lim, lim_minima in ends:
        lim_f = float(lim.f[lim_minima[0]])
        if lim_f <= f:
            theta, f = limit.to_shift(lim.theta[lim_minima[0]])[0], lim_f
            converged = bool(lim.converged[lim_minima[0]])
            degenerate = DEGENERATE_REASON if limit.degenerate else ""
    if not math.isfinite(f):
        raise FitDataError(f"the {form.name} fit diverged from every start; check the data's scale")
    notes: list[str] = []
    if not converged:
        warnings.warn(
            f"the {form.name} fit stopped before converging (objective {f:.6g}); its parameters "
            "may be unreliable",
            ConvergenceWarning,
            stacklevel=2,
        )
    if degenerate:
        notes.append(f"degenerate {form.name} fit: {degenerate}")
    public = form.to_public(theta)
    notes += _exponent_notes(form, dict(zip(form.public_names, public, strict=True)))
    boot_p: tuple[tuple[float, ...], ...] = ()
    boot_lse: tuple[tuple[float, ...], ...] = ()
    boot_f: tuple[float, ...] = ()
    extra: dict[str, Any] = {"n_dropped": n_dropped} if n_dropped else {}
    if n_bootstrap > 0:
        warm_starts = state.theta[minima[:bootstrap_starts]] if len(minima) else state.theta[:1]
        if form.name == "power_shift":
            warm_starts = _shift_warm_starts(warm_starts, feats)
        warm = Starts(
            warm=warm_starts,
            widen=(
                functools.partial(_shift_valley_starts, feats, log_l, delta)
                if form.name == "power_shift"
                else None
            ),
            grid=starts,
            limits=tuple(
                (limit, lim.theta[lim_minima[:bootstrap_starts]]) for limit, lim, lim_minima in ends
            ),
        )
        res = bootstrap_fits(
            form,
            feats,
            log_l,
            starts=warm,
            n_bootstrap=n_bootstrap,
            seed=seed,
            delta=delta,
            max_iter=max_iter,
        )
        if res.n_failed:
            converged = False
            warnings.warn(
                f"{res.n_failed} of {n_bootstrap} bootstrap fits stopped before converging",
                ConvergenceWarning,
                stacklevel=2,
            )
        with np.errstate(over="ignore"):
            boot_p = tuple(tuple(float(v) for v in row) for row in form.to_public(res.theta))
        boot_lse = tuple(tuple(float(v) for v in row) for row in res.theta)
        boot_f = tuple(float(v) for v in res.f)
        extra["bootstrap_starts"] = res.starts
        if res.limit.any():
            extra["n_degenerate_resamples"] = int(res.limit.sum())
        n_exact = int(np.sum(res.f <= _EXACT))
        if n_exact >= max(1, 0.05 * n_bootstrap):
            extra["under_identified"] = True
            notes.append(
                f"the bootstrap cannot identify the {form.name} law: {n_exact} of {n_bootstrap} "
                f"resamples of {len(score)} rows fit exactly (objective 0), so its intervals' "
                "endpoints are arbitrary; select more rows"
            )
    for note in notes:
        warnings.warn(note, ConvergenceWarning, stacklevel=2)
    if notes:
        extra["warnings"] = notes
    scale_names = ("n_scale", "d_scale") if form.n_inputs == 2 else ("x_scale",)
    with np.errstate(over="ignore"):
        public = form.to_public(theta)
    return LawFit(
        form=form.name,
        params={k: float(v) for k, v in zip(form.public_names, public, strict=True)},
        objective=f,
        n_rows=len(score),
        scales=dict(zip(scale_names, scales, strict=True)),
        delta=float(delta),
        n_bootstrap=int(n_bootstrap) if n_bootstrap > 0 else 0,
        seed=int(seed),
        bootstrap_params=boot_p,
        bootstrap_objectives=boot_f,
        converged=converged,
        n_starts=len(starts),
        n_minima=len(minima),
        extra=extra,
        log_params={k: float(v) for k, v in zip(form.lse_names, theta, strict=True)},
        bootstrap_log_params=boot_lse,
        degenerate=degenerate,
    )


def _shift_warm_starts(optima: np.ndarray, feats: np.ndarray) -> np.ndarray:
    """Warm starts for shifted-form resamples: the optima, and the best at other shifts.

    The objective is nearly flat in ``lambda`` wherever the shift is far below or above the
    data, so a resample whose optimum has another shift than the original's cannot reach it
    from the original's optima; copies of the best optimum with ``10^lambda`` at each decade
    of the data's range (and one below) can.
    """
    spread = np.repeat(optima[:1], len(lams := _decades(feats)), axis=0)
    spread[:, 2] = lams
    return np.vstack([optima, spread])


def _shift_valley_starts(feats: np.ndarray, log_l: np.ndarray, delta: float) -> np.ndarray:
    """Starts on the shifted form's valley floor, for resamples that warm starts missed.

    Resampled optima lie along a valley where ``lambda``, ``a`` and ``alpha`` move together:
    a copy of the original optimum at another shift lies off it. For ``10^lambda`` at each
    decade of the data's range, the power law in ``log(x̃ + 10^lambda)`` fitted to the original
    data is the point of the valley at that shift.
    """
    power = get_form("power")
    grid = grid_starts(power.default_grid)
    ones = np.ones((1, len(log_l)))
    floor = []
    for lam in _decades(feats):
        problem = Problem(power, np.log(feats + 10.0**lam), log_l, ones, delta)
        e, a, alpha = multistart(problem, grid, keep_min=4).theta[0]
        floor.append((e, a, lam, alpha))
    return np.array(floor)


def _decades(feats: np.ndarray) -> np.ndarray:
    """``lambda`` at each decade of the scaled inputs' range, and one below."""
    lo, hi = np.log10(np.min(feats)), np.log10(np.max(feats))
    return np.arange(np.floor(lo) - 1.0, np.ceil(hi) + 1.0)


def check_delta(delta: Any) -> float:
    """The Huber threshold, checked.

    Raises:
        FitDataError: ``delta`` is not a positive finite number.
    """
    try:
        value = float(delta)
    except (TypeError, ValueError):
        value = math.nan
    if not (value > 0 and math.isfinite(value)):
        raise FitDataError(
            f"--delta must be a positive number (the Huber threshold; the paper's is 1e-3), "
            f"got {delta!r}"
        )
    return value


def check_scales(form: Form, scales: Any) -> tuple[float, ...]:
    """The form's input scales, checked: ``form.n_inputs`` positive finite numbers.

    Raises:
        FitDataError: a scale is missing, not a number, non-positive, NaN or infinite.
    """
    names = ("--n-scale", "--d-scale") if form.n_inputs == 2 else ("--x-scale",)
    try:
        values = tuple(float(v) for v in scales)
    except (TypeError, ValueError):
        raise FitDataError(f"{form.name} scales must be numbers, got {scales!r}") from None
    if len(values) != form.n_inputs:
        raise FitDataError(f"{form.name} needs {form.n_inputs} scale(s), got {values}")
    for name, v in zip(names, values, strict=True):
        if not (v > 0 and math.isfinite(v)):
            raise FitDataError(
                f"{name} must be a positive finite number, got {v!r} (the paper: C/1e13, "
                "N/1e5, D/1e4)"
            )
    return values


def _exponent_notes(form: Form, params: dict[str, float]) -> list[str]:
    """Warnings for exponents that make the law grow or stay flat instead of saturating."""
    notes = []
    for name in ("alpha", "beta"):
        if name in params and params[name] < 0:
            notes.append(
                f"the {form.name} fit has a negative exponent ({name} = {params[name]:.3g}): "
                "misalignment grows with the input instead of falling, so the data cannot "
                "identify this law; check the selection (more rows, a wider range)"
            )
        elif name in params and params[name] < 1e-6:
            notes.append(
                f"the {form.name} fit has a zero exponent ({name} = {params[name]:.3g}): the "
                "law is flat in that input"
            )
    return notes


class ScalingLaw:
    """A saturating scaling law of alignment, fitted with the paper's method.

    ``fit`` minimises the Huber (δ) objective on log-misalignment ``L = 1 - score`` in the
    LSE parametrisation from every point of a grid of starts, then refits ``n_bootstrap``
    row resamples for percentile intervals. Fitted attributes end in ``_``.

    Args:
        form: ``power`` (eq. 1), ``power_shift`` (eq. 3) or ``chinchilla`` (eq. 5).
        x_scale: divisor of ``x`` (one-variable forms).
        n_scale: divisor of ``n`` (chinchilla).
        d_scale: divisor of ``d`` (chinchilla).
        delta: Huber threshold.
        grid: starting values per LSE parameter (``None``: the paper's grid).
        n_bootstrap: row resamples; 0 skips them.
        random_state: seed of ``numpy.random.default_rng`` for the resamples.
        ci_level: coverage of ``ci_`` and of :meth:`predict_interval`.

    Attributes:
        params_: public parameters (dict).
        objective_: the objective at the optimum.
        ci_: parameter -> (low, high) percentile interval (empty without bootstrap).
        bootstrap_params_: public parameters per resample, shape ``(B, p)``.
        fit_: the :class:`LawFit`.

    Example:
        >>> flops = np.geomspace(1e14, 1e19, 30)
        >>> law = SaturatingPowerLaw(x_scale=1e13, n_bootstrap=20).fit(
        ...     flops, 0.48 - 0.55 * (flops / 1e13) ** -0.16)
        >>> round(law.params_["E"], 2), law.predict([1e20]).shape
        (0.52, (1,))
    """

    def __init__(
        self,
        form: str = "power",
        *,
        x_scale: float = 1.0,
        n_scale: float = 1.0,
        d_scale: float = 1.0,
        delta: float = 1e-3,
        grid: tuple[tuple[float, ...], ...] | None = None,
        n_bootstrap: int = 1000,
        random_state: int = 42,
        ci_level: float = 0.95,
    ) -> None:
        self.form = form
        self.x_scale = x_scale
        self.n_scale = n_scale
        self.d_scale = d_scale
        self.delta = delta
        self.grid = grid
        self.n_bootstrap = n_bootstrap
        self.random_state = random_state
        self.ci_level = ci_level

    def _scales(self) -> tuple[float, ...]:
        if get_form(self.form).n_inputs == 2:
            return (self.n_scale, self.d_scale)
        return (self.x_scale,)

    def fit(self, X: Any, score: Any, *, drop_missing: bool = False) -> ScalingLaw:
        """Fit to inputs ``X`` (shape ``(n,)``, or ``(n, 2)`` for chinchilla) and ``score`` (``(n,)``)."""
        fit = fit_law(
            self.form,
            X,
            score,
            scales=self._scales(),
            delta=self.delta,
            grid=self.grid,
            n_bootstrap=self.n_bootstrap,
            seed=self.random_state,
            drop_missing=drop_missing,
        )
        self._set_fit(fit)
        return self

    @classmethod
    def from_fit(cls, fit: LawFit, *, ci_level: float = 0.95) -> ScalingLaw:
        """An already-fitted estimator from a saved :class:`LawFit`."""
        s = fit.scales
        law = cls.__new__(cls)
        ScalingLaw.__init__(
            law,
            fit.form,
            x_scale=s.get("x_scale", 1.0),
            n_scale=s.get("n_scale", 1.0),
            d_scale=s.get("d_scale", 1.0),
            delta=fit.delta,
            n_bootstrap=fit.n_bootstrap,
            random_state=fit.seed,
            ci_level=ci_level,
        )
        law._set_fit(fit)
        return law

    def _set_fit(self, fit: LawFit) -> None:
        self.fit_ = fit
        self.params_ = dict(fit.params)
        self.objective_ = fit.objective
        self.ci_ = fit.ci(self.ci_level)
        self.bootstrap_params_ = fit.bootstrap_array()
        self.n_rows_ = fit.n_rows

    def _check(self) -> LawFit:
        fit = getattr(self, "fit_", None)
        if fit is None:
            raise NotFittedError(
                f"this {type(self).__name__} is not fitted yet; call fit(X, score) first"
            )
        return fit

    def predict(self, X: Any) -> np.ndarray:
        """Predicted alignment ``1 - L`` at inputs ``X`` (shape ``(m,)`` or ``(m, 2)``)."""
        fit = self._check()
        return 1.0 - misalignment(fit, _as_inputs(fit, X))

    def predict_interval(self, X: Any, level: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Pointwise percentile band of the predicted alignment over the resamples.

        Returns:
            ``(low, high)``, each of shape ``(m,)``.

        Raises:
            NotFittedError: not fitted, or fitted without bootstrap.
        """
        fit = self._check()
        if not fit.n_bootstrap:
            raise NotFittedError("no bootstrap resamples: fit with n_bootstrap > 0 for intervals")
        S = 1.0 - band_misalignment(fit, _as_inputs(fit, X))
        return percentile_band(S, self.ci_level if level is None else level)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(form={self.form!r}, n_bootstrap={self.n_bootstrap})"


def _as_inputs(fit: LawFit, X: Any) -> np.ndarray:
    X = np.asarray(X, dtype=float)
    if fit.form == "chinchilla":
        return X.reshape(-1, 2)
    return X.ravel()


class SaturatingPowerLaw(ScalingLaw):
    """``L = E + A·(x/x_scale)^-alpha`` (eq. 1). Arguments as :class:`ScalingLaw`, less ``form``."""

    def __init__(self, *, x_scale: float = 1.0, **kwargs: Any) -> None:
        super().__init__("power", x_scale=x_scale, **kwargs)


class ShiftedPowerLaw(ScalingLaw):
    """``L = E + A·(x/x_scale + 10^lambda)^-alpha`` (eq. 3). Arguments as :class:`ScalingLaw`."""

    def __init__(self, *, x_scale: float = 1.0, **kwargs: Any) -> None:
        super().__init__("power_shift", x_scale=x_scale, **kwargs)


class JointScalingLaw(ScalingLaw):
    """``L = E + A·(n/n_scale)^-alpha + B·(d/d_scale)^-beta`` (eq. 5). ``X`` is ``(m, 2)``."""

    def __init__(self, *, n_scale: float = 1.0, d_scale: float = 1.0, **kwargs: Any) -> None:
        super().__init__("chinchilla", n_scale=n_scale, d_scale=d_scale, **kwargs)
