"""Figures say where they extrapolate, and keep to the data's range (issue 11, item 4)."""

from __future__ import annotations

import numpy as np

from vvshub.laws import fit_law
from vvshub.laws._plot import _agg, clip_y, draw_law, plot_paper


def _fit():
    rng = np.random.default_rng(4)
    x = np.geomspace(1e14, 1e18, 40)
    s = 1 - (0.5 + 0.6 * (x / 1e13) ** -0.2) * np.exp(0.01 * rng.standard_normal(40))
    return x, s, fit_law("power", x, s, scales=(1e13,), n_bootstrap=20)


def test_extrapolated_curve_is_dashed_and_y_is_clipped_to_the_data():
    x, s, fit = _fit()
    plt = _agg()
    fig, ax = plt.subplots()
    draw_law(ax, fit, x, s, label="neural", x_max=1e24)
    lines = ax.get_lines()
    solid = [ln for ln in lines if ln.get_linestyle() == "-"]
    dashed = [ln for ln in lines if ln.get_linestyle() == "--"]
    assert len(solid) == 1 and len(dashed) == 1
    assert solid[0].get_xdata().max() <= x.max() * (1 + 1e-12)
    assert dashed[0].get_xdata().min() >= x.max() * (1 - 1e-12)
    assert dashed[0].get_xdata().max() == 1e24
    assert "neural (n = 40)" in solid[0].get_label()
    clip_y(ax, [s])
    lo, hi = ax.get_ylim()
    span = s.max() - s.min()
    assert s.min() - 0.2 * span <= lo <= s.min() and s.max() <= hi <= s.max() + 0.2 * span
    plt.close(fig)


def test_fig3a_legend_has_row_counts_and_sits_outside_the_axes(tmp_path, monkeypatch):
    import pandas as pd

    import vvshub.laws._plot as plot
    from vvshub.laws import SqlFit

    x, s, fit = _fit()
    fits = {}
    for i, ds in enumerate(("imagenet", "ecoset", "places365")):
        k = 40 - 10 * i
        frame = pd.DataFrame({"x": x[:k], "score": s[:k]})
        fits[f"samples_{ds}"] = SqlFit(fit, "q", "id", "h", data=frame)
    saved = {}

    def keep(fig, output):
        if fig.axes[0].get_legend() is None:  # fig1b has no compute laws here
            plot._agg().close(fig)
            return output
        saved[str(output)] = (
            [t.get_text() for t in fig.axes[0].get_legend().get_texts()],
            (fig.axes[0].get_legend().get_bbox_to_anchor().x0 > fig.axes[0].bbox.x1 - 1),
        )
        plot._agg().close(fig)
        return output

    monkeypatch.setattr(plot, "_save", keep)
    plot_paper(fits, None, tmp_path)
    ((labels, outside),) = [v for k, v in saved.items() if k.endswith("fig3a.png")]
    assert [lab.split(":")[0] for lab in labels] == [
        "imagenet (n = 40)",
        "ecoset (n = 30)",
        "places365 (n = 20)",
    ]
    assert outside
