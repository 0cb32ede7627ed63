"""Fits from catalog SQL: read a selection, fit (or reuse a stored fit), store the result."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from vvshub.errors import FitDataError
from vvshub.laws._bootstrap import check_n_bootstrap
from vvshub.laws._forms import get_form
from vvshub.laws._law import (
    SOLVER_VERSION,
    LawFit,
    ScalingLaw,
    check_delta,
    check_scales,
    fit_law,
)
from vvshub.laws._store import data_hash, fit_id, load_fit, save_fit

if TYPE_CHECKING:
    import pandas as pd

logger = logging.getLogger(__name__)

Location = str | Path | None


def input_columns(form: str) -> tuple[str, ...]:
    """Columns a query must return for ``form``: ``(x, score)`` or ``(n, d, score)``."""
    return ("n", "d", "score") if get_form(form).n_inputs == 2 else ("x", "score")


_ORDER_BY = re.compile(r"\border\s+by\b", re.IGNORECASE)


def has_order_by(query: str) -> bool:
    """Whether ``query`` orders its rows (an ``ORDER BY`` anywhere in its text)."""
    return _ORDER_BY.search(query) is not None


def read_selection(
    query: str, *, form: str, params: tuple[Any, ...] = (), catalog: Location = None
) -> pd.DataFrame:
    """Run ``query`` on a read-only connection and check it returns the form's columns.

    Rows come back in the query's order when it has an ``ORDER BY`` (the study's resamples
    are drawn over the rows in that order). Without one, DuckDB may return them in any
    order, so they are sorted by the form's columns (then the others): the same query on
    the same data then gives the same resamples, bands and data hash on every run.

    Raises:
        QueryError: the SQL fails.
        FitDataError: a required column is missing.
    """
    from vvshub.catalog import open_catalog

    with open_catalog(catalog, read_only=True) as cat:
        frame = cat.query(query, list(params) if params else None)
    need = input_columns(form)
    missing = [c for c in need if c not in frame.columns]
    if missing:
        raise FitDataError(
            f"the query must return columns {', '.join(need)} for the {form} form; missing "
            f"{', '.join(missing)} (it returned {', '.join(map(str, frame.columns)) or 'no columns'}); "
            "alias them, e.g. SELECT total_flops AS x, avg(score) AS score ..."
        )
    if frame.empty:
        raise FitDataError("no rows to fit: the query returned no rows; check its WHERE clause")
    _check_numeric(frame, need)
    if not has_order_by(query):
        others = [c for c in frame.columns if c not in need]
        keys = list(need) + [c for c in others if frame[c].dtype.kind in "biufcOSUMm"]
        try:
            frame = frame.sort_values(keys, kind="stable", na_position="last")
        except TypeError:  # mixed types in an extra column: order by the form's columns
            frame = frame.sort_values(list(need), kind="stable", na_position="last")
        frame = frame.reset_index(drop=True)
    return frame


def _check_numeric(frame: pd.DataFrame, columns: tuple[str, ...]) -> None:
    """Refuse a form column that holds text (or anything else that is not a number)."""
    import pandas as pd

    for col in columns:
        values = frame[col]
        if values.dtype.kind in "biuf":
            continue
        numeric = pd.to_numeric(values, errors="coerce")
        bad = values.notna() & numeric.isna()
        if bad.any() or values.dtype.kind not in "O":
            i = int(bad.to_numpy().argmax()) if bad.any() else 0
            raise FitDataError(
                f"column {col!r} must be numeric, but it is {values.dtype} (e.g. "
                f"{values.iloc[i]!r} at row {i}); cast it in SQL, e.g. CAST({col} AS DOUBLE)"
            )


def frame_inputs(frame: pd.DataFrame, form: str) -> tuple[np.ndarray, np.ndarray]:
    """``X`` (``(n,)`` or ``(n, 2)``) and ``score`` (``(n,)``) from a selection."""
    cols = input_columns(form)
    _check_numeric(frame, cols)
    try:
        X = frame[list(cols[:-1])].to_numpy(dtype=float, na_value=np.nan)
        score = frame["score"].to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise FitDataError(f"columns {', '.join(cols)} must be numeric: {exc}") from None
    return (X if X.shape[1] == 2 else X[:, 0]), score


@dataclass(frozen=True)
class SqlFit:
    """A fit of a catalog selection.

    Attributes:
        fit: the law.
        query: the SQL that selected the rows.
        fit_id: key of the fit in the ``fits`` table.
        data_hash: sha256 of the fitted columns.
        reused: the fit was read from the catalog, not recomputed.
        stored: the fit is in the catalog.
        data: the selected rows (not compared, not serialised).
    """

    fit: LawFit
    query: str
    fit_id: str
    data_hash: str
    reused: bool = False
    stored: bool = False
    data: Any = field(default=None, compare=False, repr=False)

    @property
    def law(self) -> ScalingLaw:
        """The fit as an estimator (``predict``, ``predict_interval``)."""
        return ScalingLaw.from_fit(self.fit)

    def to_dict(self, *, level: float = 0.95) -> dict[str, Any]:
        """The JSON of ``vvshub laws fit --json`` (DESIGN.md section 3)."""
        f = self.fit
        out: dict[str, Any] = {"form": f.form, "n": f.n_rows, "objective": f.objective}
        out["params"] = dict(f.params)
        out["log_params"] = dict(zip(f.spec.lse_names, map(float, f.lse_array()), strict=True))
        out.update(f.scales)
        out["degenerate"] = bool(f.degenerate)
        if f.degenerate:
            out["degenerate_reason"] = f.degenerate
        if f.n_bootstrap:
            out["ci"] = {k: list(v) for k, v in f.ci(level).items()}
            out["log_ci"] = {k: list(v) for k, v in f.log_ci(level).items()}
            out["ci_level"] = level
        out.update(
            {
                "n_bootstrap": f.n_bootstrap,
                "delta": f.delta,
                "converged": f.converged,
                "n_starts": f.n_starts,
                "n_minima": f.n_minima,
                "query": self.query,
                "fit_id": self.fit_id,
                "data_hash": self.data_hash,
                "reused": self.reused,
                "stored": self.stored,
            }
        )
        for key in ("n_dropped", "n_degenerate_resamples", "bootstrap_starts"):
            if f.extra.get(key):
                out[key] = f.extra[key]
        out["under_identified"] = bool(f.extra.get("under_identified", False))
        out["warnings"] = list(f.extra.get("warnings", []))
        return out


def fit_sql(
    query: str,
    *,
    form: str = "power",
    params: tuple[Any, ...] = (),
    catalog: Location = None,
    scales: tuple[float, ...] | None = None,
    n_bootstrap: int = 1000,
    seed: int = 42,
    delta: float = 1e-3,
    grid: tuple[tuple[float, ...], ...] | None = None,
    drop_missing: bool = False,
    reuse: bool = True,
    store: bool = True,
) -> SqlFit:
    """Fit a law to the rows a SQL query selects from the catalog.

    The query runs read-only and must return ``x, score`` (``n, d, score`` for
    chinchilla). A fit with the same query, data, form and options already in the
    ``fits`` table is reused; a new one is stored (unless the catalog is locked).

    Args:
        query: SQL over the catalog (``scores`` view...).
        form: ``power``, ``power_shift`` or ``chinchilla``.
        params: values bound to ``?`` placeholders in ``query``.
        catalog: catalog location (``None``: ``$VVSHUB_HOME/catalog.duckdb``).
        scales: ``(x_scale,)`` or ``(n_scale, d_scale)``; ones by default.
        n_bootstrap: row resamples (0 skips them).
        seed: seed of the resamples.
        delta: Huber threshold.
        grid: starting values per LSE parameter (``None``: the paper's grid).
        drop_missing: drop rows with NULL/NaN values (and say how many) instead of raising.
        reuse: look for a stored fit first.
        store: save a new fit in the catalog.

    Returns:
        The :class:`SqlFit`.

    Raises:
        QueryError: the SQL fails.
        FitDataError: the rows cannot be fitted.

    Example:
        >>> res = fit_sql("SELECT total_flops AS x, avg(score) AS score FROM scores "
        ...               "WHERE region = 'IT' AND total_flops > 0 GROUP BY model_id, x",
        ...               scales=(1e13,), n_bootstrap=0)  # doctest: +SKIP
        >>> res.fit.params  # doctest: +SKIP
    """
    spec = get_form(form)
    if scales is None:
        scales = (1.0,) * spec.n_inputs
    scales = check_scales(spec, scales)
    delta = check_delta(delta)
    check_n_bootstrap(n_bootstrap)
    frame = read_selection(query, form=form, params=params, catalog=catalog)
    cols = input_columns(form)
    digest = data_hash(frame, cols)
    options = {
        "form": form,
        "scales": {
            k: float(v)
            for k, v in zip(
                ("n_scale", "d_scale") if spec.n_inputs == 2 else ("x_scale",), scales, strict=True
            )
        },
        "delta": float(delta),
        "grid": [list(map(float, g)) for g in (grid or spec.default_grid)],
        "n_bootstrap": int(max(n_bootstrap, 0)),
        "seed": int(seed),
        "drop_missing": bool(drop_missing),
        "query_params": [str(p) for p in params],
        "solver": SOLVER_VERSION,
    }
    key = fit_id(query, digest, form, options)
    if reuse:
        from vvshub.catalog import open_catalog

        with open_catalog(catalog, read_only=True) as cat:
            cached = load_fit(cat, key)
        if cached is not None:
            logger.info("reusing stored fit %s", key)
            return SqlFit(cached, query, key, digest, reused=True, stored=True, data=frame)
    X, score = frame_inputs(frame, form)
    fit = fit_law(
        form,
        X,
        score,
        scales=tuple(scales),
        delta=delta,
        grid=grid,
        n_bootstrap=n_bootstrap,
        seed=seed,
        drop_missing=drop_missing,
    )
    stored = False
    if store:
        stored = save_fit(
            catalog, key=key, query=query, data_hash_=digest, options=options, fit=fit
        )
    return SqlFit(fit, query, key, digest, reused=False, stored=stored, data=frame)


@dataclass(frozen=True)
class BacktestRow:
    """One held-out model.

    Attributes:
        label: the row's ``model_id`` (or its index).
        compute: what ranked it among the largest (x, or total_flops / n·d).
        score: measured alignment.
        predicted: predicted alignment.
        low: lower band edge (NaN without bootstrap).
        high: upper band edge.
    """

    label: str
    compute: float
    score: float
    predicted: float
    low: float
    high: float

    @property
    def error(self) -> float:
        """``predicted - score``."""
        return self.predicted - self.score

    @property
    def covered(self) -> bool | None:
        """Whether the band holds the measured score (``None`` without a band)."""
        if np.isnan(self.low):
            return None
        return bool(self.low <= self.score <= self.high)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict, with the error and coverage."""
        return {
            "label": self.label,
            "compute": self.compute,
            "score": self.score,
            "predicted": self.predicted,
            "ci": [self.low, self.high],
            "error": self.error,
            "covered": self.covered,
        }


@dataclass(frozen=True)
class Backtest:
    """Refit without the ``K`` largest compute levels and score the prediction on them.

    Attributes:
        fit: the law fitted on the remaining rows.
        rows: the held-out rows, largest compute first.
    """

    fit: LawFit
    rows: tuple[BacktestRow, ...]

    @property
    def mae(self) -> float:
        """Mean absolute error on the held-out rows."""
        return float(np.mean([abs(r.error) for r in self.rows]))

    @property
    def coverage(self) -> float | None:
        """Fraction of held-out rows inside the band (``None`` without bootstrap)."""
        cov = [r.covered for r in self.rows]
        if any(c is None for c in cov):
            return None
        return float(np.mean(cov))

    def to_dict(self) -> dict[str, Any]:
        """Plain dict."""
        return {
            "form": self.fit.form,
            "n_train": self.fit.n_rows,
            "holdout": len(self.rows),
            "holdout_levels": len({r.compute for r in self.rows}),
            "params": dict(self.fit.params),
            "objective": self.fit.objective,
            "mae": self.mae,
            "coverage": self.coverage,
            "rows": [r.to_dict() for r in self.rows],
        }


def backtest(
    query: str,
    *,
    holdout_top: int,
    form: str = "power",
    params: tuple[Any, ...] = (),
    catalog: Location = None,
    scales: tuple[float, ...] | None = None,
    n_bootstrap: int = 1000,
    seed: int = 42,
    level: float = 0.95,
) -> Backtest:
    """Refit without the ``holdout_top`` largest compute levels; report error and band coverage.

    Compute ranks rows by ``x`` (one-variable forms) or by ``total_flops`` when the query
    returns it, else ``n·d`` (chinchilla). A level is one compute value: every row at it
    (the seeds of one configuration, say) is held out together, never split by the cut.

    Raises:
        FitDataError: ``holdout_top`` is not between 1 and the number of levels that leaves
            enough rows to fit, or the rows cannot be fitted.

    Example:
        >>> bt = backtest(COMPUTE_NEURAL, holdout_top=10, scales=(1e13,))  # doctest: +SKIP
        >>> bt.mae, bt.coverage  # doctest: +SKIP
    """
    spec = get_form(form)
    frame = read_selection(query, form=form, params=params, catalog=catalog)
    X, score = frame_inputs(frame, form)
    if spec.n_inputs == 2:
        rank = (
            frame["total_flops"].to_numpy(dtype=float)
            if "total_flops" in frame.columns
            else X[:, 0] * X[:, 1]
        )
    else:
        rank = X
    n = len(score)
    rank = np.nan_to_num(np.asarray(rank, dtype=float), nan=-np.inf)
    levels = np.unique(rank)[::-1]  # distinct compute values, largest first
    # rows left after holding out the k largest levels, for k = 1, 2, ...
    left = n - np.cumsum([np.count_nonzero(rank == v) for v in levels])
    max_k = int(np.count_nonzero(left >= spec.n_params + 1))
    if not 1 <= holdout_top <= max_k:
        raise FitDataError(
            f"--holdout-top {holdout_top} must be between 1 and {max_k} compute levels for "
            f"{n} rows at {len(levels)} levels (the {form} form needs {spec.n_params + 1} "
            "rows to fit)"
        )
    cut = levels[holdout_top - 1]
    order = np.argsort(-rank, kind="stable")
    held = order[rank[order] >= cut]
    kept = np.sort(order[rank[order] < cut])
    fit = fit_law(
        form,
        X[kept],
        score[kept],
        scales=scales,
        n_bootstrap=n_bootstrap,
        seed=seed,
    )
    law = ScalingLaw.from_fit(fit, ci_level=level)
    pred = law.predict(X[held])
    if n_bootstrap > 0:
        lo, hi = law.predict_interval(X[held])
    else:
        lo = hi = np.full(len(held), np.nan)
    labels = (
        frame["model_id"].astype(str).to_numpy()[held]
        if "model_id" in frame.columns
        else [str(i) for i in held]
    )
    rows = tuple(
        BacktestRow(str(lab), float(rank[i]), float(score[i]), float(p), float(a), float(b))
        for lab, i, p, a, b in zip(labels, held, pred, lo, hi, strict=True)
    )
    return Backtest(fit, rows)
