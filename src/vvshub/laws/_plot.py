"""Figures: data, fitted law and bootstrap band on a log-x axis; the paper's figure analogues.

matplotlib is imported inside the functions (with the non-interactive Agg backend), so
importing :mod:`vvshub.laws` stays light.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from vvshub.laws._law import LawFit, ScalingLaw

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from vvshub.laws._allocation import Allocation
    from vvshub.laws._api import SqlFit

logger = logging.getLogger(__name__)


def _sci(v: float) -> str:
    """``1e+13`` -> ``10^{13}`` for mathtext."""
    exp = int(np.floor(np.log10(v)))
    mant = v / 10**exp
    return f"10^{{{exp}}}" if abs(mant - 1) < 1e-9 else f"{mant:g}\\cdot10^{{{exp}}}"


def formula(fit: LawFit, *, symbol: str = "x") -> str:
    """The law as mathtext, in alignment terms (``S = 1 - L``), e.g. ``S = 0.48 - 0.55 x̃^-0.16``.

    Example:
        >>> fit = LawFit("power", {"E": .52, "A": .55, "alpha": .16}, 0.0, 10, {"x_scale": 1e13})
        >>> formula(fit, symbol="C")
        '$S = 0.48 - 0.55\\\\,(C/10^{13})^{-0.16}$'
    """
    p = fit.params
    smax = 1.0 - p["E"]
    if fit.form == "chinchilla":
        n = f"(N/{_sci(fit.scales['n_scale'])})"
        d = f"(D/{_sci(fit.scales['d_scale'])})"
        return (
            f"$S = {smax:.2f} - {p['A']:.2f}\\,{n}^{{-{p['alpha']:.2f}}}"
            f" - {p['B']:.2f}\\,{d}^{{-{p['beta']:.2f}}}$"
        )
    x = f"({symbol}/{_sci(fit.scales['x_scale'])})"
    if fit.form == "power_shift" and fit.degenerate:
        c, k = limit_params(fit)
        return f"$S = {smax:.2f} - {c:.3g}\\,e^{{-{k:.3g}\\,{x}}}$"
    if fit.form == "power_shift":
        x = f"({symbol}/{_sci(fit.scales['x_scale'])} + 10^{{{p['lambda']:.2f}}})"
    return f"$S = {smax:.2f} - {p['A']:.2f}\\,{x}^{{-{p['alpha']:.2f}}}$"


def short_number(v: float) -> str:
    """A law's scale as its formula writes it: ``1e+13`` -> ``1e13``; ``1.0`` -> ``1``.

    Example:
        >>> short_number(1e13), short_number(1.0)
        ('1e13', '1')
    """
    from vvshub._format import format_number

    return format_number(v, compact=True)


def plain_formula(fit: LawFit, *, symbol: str = "x") -> str:
    """The law in plain text, e.g. ``S = 0.48 - 0.55·(C/1e13)^-0.16``."""
    p = fit.params
    head = f"S = {1.0 - p['E']:.2f}"
    if fit.degenerate and fit.form == "power_shift":
        c, k = limit_params(fit)
        return f"{head} - {c:.3g}·exp(-{k:.3g}·{symbol}/{short_number(fit.scales['x_scale'])})"
    if fit.form == "chinchilla":
        s = fit.scales
        return (
            f"{head} - {p['A']:.2f}·(N/{short_number(s['n_scale'])})^-{p['alpha']:.2f}"
            f" - {p['B']:.2f}·(D/{short_number(s['d_scale'])})^-{p['beta']:.2f}"
        )
    x = f"{symbol}/{short_number(fit.scales['x_scale'])}"
    if fit.form == "power_shift":
        x = f"{x} + 10^{p['lambda']:.2f}"
    return f"{head} - {p['A']:.2f}·({x})^-{p['alpha']:.2f}"


def limit_params(fit: LawFit) -> tuple[float, float]:
    """``(C, k)`` of a degenerate shifted fit's exponential limit ``L = E + C·exp(-k·x̃)``."""
    lse = fit.log_params
    lam, alpha = lse["lambda"], lse["alpha"]
    return float(np.exp(lse["a"] - alpha * lam * np.log(10.0))), float(alpha / 10.0**lam)


def _agg():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def draw_law(
    ax: Axes,
    fit: LawFit,
    x: np.ndarray,
    score: np.ndarray,
    *,
    color: str | None = None,
    label: str | None = None,
    symbol: str = "x",
    level: float = 0.95,
    x_max: float | None = None,
) -> None:
    """Draw data points, the fitted curve and its band on ``ax`` (one-variable forms).

    The curve is solid over the fitted rows' range and dashed (its band lighter) where it
    extrapolates, up to ``x_max``.

    Args:
        ax: matplotlib axes (set to log-x).
        fit: the law.
        x: raw inputs, shape ``(n,)``.
        score: measured alignment, shape ``(n,)``.
        color: one colour for points, curve and band.
        label: prefix of the legend entry (the row count and the formula follow).
        symbol: the input's symbol in the formula.
        level: band coverage.
        x_max: extend the curve to this input.
    """
    law = ScalingLaw.from_fit(fit, ci_level=level)
    x = np.asarray(x, dtype=float)
    lo_x, hi_x = float(np.nanmin(x)), float(np.nanmax(x))
    color = color or "tab:blue"
    ax.scatter(x, score, s=9, alpha=0.35, color=color, linewidths=0)
    text = formula(fit, symbol=symbol)
    head = f"{label} (n = {len(x)})" if label else f"n = {len(x)}"
    inside = np.geomspace(lo_x, hi_x, 200)
    ax.plot(inside, law.predict(inside), color=color, lw=2, label=f"{head}: {text}")
    parts = [(inside, 0.25)]
    if x_max is not None and x_max > hi_x:
        beyond = np.geomspace(hi_x, x_max, 100)
        ax.plot(beyond, law.predict(beyond), color=color, lw=1.5, ls="--")
        parts.append((beyond, 0.12))
    if fit.n_bootstrap:
        for grid, alpha in parts:
            lo, hi = law.predict_interval(grid)
            ax.fill_between(grid, lo, hi, color=color, alpha=alpha, lw=0)
    ax.set_xscale("log")


def clip_y(ax: Axes, scores: list[np.ndarray], *, margin: float = 0.15) -> None:
    """Limit the y axis to the data's range (plus ``margin`` of it), whatever curves do."""
    values = np.concatenate([np.asarray(s, dtype=float).ravel() for s in scores])
    values = values[np.isfinite(values)]
    if not len(values):
        return
    lo, hi = float(values.min()), float(values.max())
    pad = margin * max(hi - lo, 1e-3)
    ax.set_ylim(lo - pad, hi + pad)


def plot_fit(
    result: SqlFit,
    output: str | Path,
    *,
    x_label: str = "x",
    symbol: str = "x",
    title: str | None = None,
) -> Path:
    """Save a figure of one fit (data, law, band) to ``output`` (.png or .svg).

    Example:
        >>> res = fit_sql(COMPUTE_NEURAL, scales=(1e13,))  # doctest: +SKIP
        >>> plot_fit(res, "neural.png", x_label="compute C (FLOPs)")  # doctest: +SKIP
    """
    from vvshub.laws._api import frame_inputs

    plt = _agg()
    X, score = frame_inputs(result.data, result.fit.form)
    fig, ax = plt.subplots(figsize=(6.4, 4.4), dpi=110)
    if result.fit.form == "chinchilla":
        _draw_joint(ax, result.fit, X, score)
    else:
        draw_law(ax, result.fit, X, score, symbol=symbol)
        ax.set_xlabel(x_label)
    clip_y(ax, [score])
    ax.set_ylabel("alignment score S")
    ax.set_title(title or f"{result.fit.form} fit ({result.fit.n_rows} rows)", fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(alpha=0.3, which="both", lw=0.4)
    return _save(fig, output)


def _draw_joint(ax: Axes, fit: LawFit, X: np.ndarray, score: np.ndarray) -> None:
    """Joint law: alignment against samples seen D, one curve per parameter-count quartile."""
    law = ScalingLaw.from_fit(fit)
    n, d = X[:, 0], X[:, 1]
    cmap = _agg().get_cmap("viridis")
    qs = np.quantile(np.log10(n), [0.1, 0.4, 0.7, 0.95])
    grid = np.geomspace(d.min(), d.max(), 200)
    sc = ax.scatter(d, score, c=np.log10(n), cmap=cmap, s=9, alpha=0.5, linewidths=0)
    for q in qs:
        color = cmap((q - qs.min()) / max(qs.max() - qs.min(), 1e-9))
        Xg = np.column_stack([np.full_like(grid, 10**q), grid])
        ax.plot(grid, law.predict(Xg), color=color, lw=2, label=f"N = {10**q:.2g}")
    ax.plot([], [], " ", label=formula(fit))
    ax.figure.colorbar(sc, ax=ax, label="log10 parameters N")
    ax.set_xscale("log")
    ax.set_xlabel("samples seen D")


def _save(fig: Any, output: str | Path) -> Path:
    out = Path(output)
    if out.suffix.lower() not in (".png", ".svg"):
        raise ValueError(f"plot output must end in .png or .svg, got {out.name!r}")
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out)
    _agg().close(fig)
    logger.info("wrote %s", out)
    return out


def plot_paper(
    fits: dict[str, SqlFit],
    allocation_: Allocation | None,
    out_dir: str | Path,
    *,
    fmt: str = "png",
) -> list[Path]:
    """The analogues of the paper's Figures 1b, 2c, 3a and 4a, one file each in ``out_dir``.

    * ``fig1b``: compute -> neural and behavioural alignment.
    * ``fig2c``: parameters -> alignment (full-data models).
    * ``fig3a``: samples seen -> alignment, one law per training set.
    * ``fig4a``: compute-optimal N*(C) and D*(C) over the joint law's models.

    Returns:
        The files written.
    """
    from vvshub.laws._api import frame_inputs

    plt = _agg()
    out_dir = Path(out_dir)
    written: list[Path] = []

    fig, ax = plt.subplots(figsize=(6.4, 4.4), dpi=110)
    shown = []
    for key, label, color in (
        ("compute_neural", "neural", "tab:blue"),
        ("compute_behavior", "behaviour", "tab:red"),
    ):
        if key in fits:
            X, s = frame_inputs(fits[key].data, "power")
            draw_law(ax, fits[key].fit, X, s, color=color, label=label, symbol="C", x_max=1e21)
            shown.append(s)
    if shown:
        clip_y(ax, shown)
    ax.set_xlabel("compute C (FLOPs)")
    ax.set_ylabel("alignment score S")
    ax.set_title("Fig. 1b: alignment vs compute", fontsize=10)
    if shown:
        ax.legend(fontsize=8, loc="upper left")
    ax.grid(alpha=0.3, which="both", lw=0.4)
    written.append(_save(fig, out_dir / f"fig1b.{fmt}"))

    if "params_alignment" in fits:
        fig, ax = plt.subplots(figsize=(6.4, 4.4), dpi=110)
        X, s = frame_inputs(fits["params_alignment"].data, "power")
        draw_law(ax, fits["params_alignment"].fit, X, s, color="tab:green", symbol="N")
        clip_y(ax, [s])
        ax.set_xlabel("parameters N")
        ax.set_ylabel("alignment score S (V1, V2, V4, IT, behaviour)")
        ax.set_title("Fig. 2c: alignment vs parameters (full data)", fontsize=10)
        ax.legend(fontsize=8, loc="lower right")
        ax.grid(alpha=0.3, which="both", lw=0.4)
        written.append(_save(fig, out_dir / f"fig2c.{fmt}"))

    sample_keys = [k for k in fits if k.startswith("samples_")]
    if sample_keys:
        fig, ax = plt.subplots(figsize=(6.4, 4.4), dpi=110)
        colors = plt.get_cmap("tab10")
        shown = []
        for i, key in enumerate(sample_keys):
            X, s = frame_inputs(fits[key].data, "power")
            shown.append(s)
            draw_law(
                ax,
                fits[key].fit,
                X,
                s,
                color=colors(i),
                label=key.removeprefix("samples_"),
                symbol="D",
            )
        clip_y(ax, shown)
        ax.set_xlabel("samples seen D")
        ax.set_ylabel("alignment score S")
        ax.set_title("Fig. 3a: alignment vs samples seen, per training set", fontsize=10)
        # one entry per training set with its row count, outside the axes so it hides no data
        fig.set_size_inches(9.6, 4.4)
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0)
        ax.grid(alpha=0.3, which="both", lw=0.4)
        written.append(_save(fig, out_dir / f"fig3a.{fmt}"))

    if "joint" in fits and allocation_ is not None:
        frame = fits["joint"].data
        fig, axes = plt.subplots(1, 2, figsize=(9.6, 4.0), dpi=110)
        c = frame["total_flops"].to_numpy(dtype=float)
        grid = np.geomspace(np.nanmin(c), 1e21, 100)
        n_opt, d_opt = allocation_.optimal(grid)
        for ax, col, opt, name, expo in (
            (axes[0], "n", n_opt, "parameters N", allocation_.n_exponent),
            (axes[1], "d", d_opt, "samples seen D", allocation_.d_exponent),
        ):
            pts = ax.scatter(
                c, frame[col], c=frame["score"], cmap="viridis", s=9, alpha=0.6, linewidths=0
            )
            ax.plot(grid, opt, color="black", lw=2, label=f"optimal: ∝ $C^{{{expo:.3f}}}$")
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel("compute C (FLOPs)")
            ax.set_ylabel(name)
            ax.legend(fontsize=8, loc="upper left")
            ax.grid(alpha=0.3, which="both", lw=0.4)
        fig.colorbar(pts, ax=axes[1], label="alignment score S")
        fig.suptitle("Fig. 4a: compute-optimal allocation from the joint law", fontsize=10)
        written.append(_save(fig, out_dir / f"fig4a.{fmt}"))
    return written
