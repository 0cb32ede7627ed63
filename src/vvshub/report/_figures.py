"""The mini zoo's figures: accuracy and alignment against data and compute."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

    from vvshub.laws import SqlFit

__all__ = ["plot_trained"]


def _agg():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _by_width(frame: pd.DataFrame):
    """Rows grouped by width (one curve each), widths ascending; NaN width as one group."""
    widths = frame["width"].fillna(1.0)
    for w in sorted(widths.unique()):
        yield w, frame[widths == w].sort_values("samples_per_class")


def plot_trained(
    trained: pd.DataFrame, out_dir: str | Path, *, law: SqlFit | None = None
) -> list[Path]:
    """Write ``zoo_accuracy.png`` and ``zoo_alignment.png`` for the models vvshub trained.

    Args:
        trained: :func:`vvshub.catalog.trained_models` rows (one per model).
        out_dir: where the PNGs go.
        law: the mini zoo's samples-seen -> neural alignment fit, drawn with its band.

    Returns:
        The files written (none when ``trained`` is empty).
    """
    if trained.empty:
        return []
    from vvshub.laws import ScalingLaw, formula

    plt = _agg()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cmap = plt.get_cmap("viridis")
    widths = sorted(trained["width"].fillna(1.0).unique())

    def color(w: float):
        return cmap(widths.index(w) / max(len(widths) - 1, 1) * 0.85)

    written = []
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), dpi=110)
    for w, rows in _by_width(trained):
        kw = dict(color=color(w), marker="o", label=f"width ×{w:g}")
        subset = rows[rows["samples_per_class"] > 0]  # 0 means the full set: no place on a log axis
        axes[0].plot(subset["samples_per_class"], subset["acc"], **kw)
        axes[1].plot(rows["total_flops"], rows["acc"], **kw)
    axes[0].set_xlabel("images per class")
    axes[1].set_xlabel("training compute C (FLOPs)")
    for ax in axes:
        ax.set_xscale("log")
        ax.set_ylabel("top-1 validation accuracy")
        ax.grid(alpha=0.3, which="both", lw=0.4)
        ax.legend(fontsize=8)
    fig.suptitle("Mini zoo: accuracy against data and compute", fontsize=11)
    fig.tight_layout()
    written.append(out / "zoo_accuracy.png")
    fig.savefig(written[-1])
    plt.close(fig)

    scored = trained.dropna(subset=["neural"])
    if scored.empty:
        return written
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), dpi=110)
    for w, rows in _by_width(scored):
        axes[0].plot(rows["n_samples_seen"], rows["neural"], "o", color=color(w),
                     label=f"neural, width ×{w:g}")  # fmt: skip
        axes[1].plot(rows["total_flops"], rows["neural"], "o-", color=color(w),
                     label=f"neural, width ×{w:g}")  # fmt: skip
        if rows["behavior"].notna().any():
            axes[1].plot(rows["total_flops"], rows["behavior"], "s--", color=color(w), alpha=0.6,
                         label=f"behaviour, width ×{w:g}")  # fmt: skip
    if law is not None:
        x = scored["n_samples_seen"].to_numpy(dtype=float)
        grid = np.geomspace(x.min(), x.max(), 100)
        fitted = ScalingLaw.from_fit(law.fit)
        axes[0].plot(
            grid, fitted.predict(grid), color="black", lw=2, label=formula(law.fit, symbol="D")
        )
        if law.fit.n_bootstrap:
            lo, hi = fitted.predict_interval(grid)
            axes[0].fill_between(grid, lo, hi, color="black", alpha=0.15, lw=0)
    axes[0].set_xlabel("samples seen D")
    axes[1].set_xlabel("training compute C (FLOPs)")
    for ax in axes:
        ax.set_xscale("log")
        ax.set_ylabel("alignment score S")
        ax.grid(alpha=0.3, which="both", lw=0.4)
        ax.legend(fontsize=7)
    suite = scored["suite"].dropna().unique()
    label = f" ({', '.join(suite)} suite)" if len(suite) else ""
    fig.suptitle(f"Mini zoo: alignment against data and compute{label}", fontsize=11)
    fig.tight_layout()
    written.append(out / "zoo_alignment.png")
    fig.savefig(written[-1])
    plt.close(fig)
    return written
