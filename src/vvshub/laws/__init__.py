"""Scaling laws of alignment, fitted straight from catalog SQL (the paper's method, fast).

Three forms on misalignment ``L = 1 - score``: ``power`` (eq. 1), ``power_shift`` (eq. 3)
and the joint ``chinchilla`` law ``L(N, D)`` (eq. 5); the Huber objective on log residuals
in the LSE parametrisation (eq. 2 / eq. 6), multi-start over the paper's grids, row
bootstraps with pointwise percentile bands, and the compute-optimal allocation.

Example:
    >>> import numpy as np
    >>> from vvshub.laws import SaturatingPowerLaw
    >>> flops = np.geomspace(1e14, 1e19, 30)
    >>> law = SaturatingPowerLaw(x_scale=1e13, n_bootstrap=0).fit(
    ...     flops, 0.48 - 0.55 * (flops / 1e13) ** -0.16)
    >>> round(1 - law.params_["E"], 2)
    0.48
"""

from vvshub.laws._allocation import (
    Allocation,
    ComputeRelation,
    allocation,
    fit_compute_relation,
)
from vvshub.laws._api import Backtest, BacktestRow, SqlFit, backtest, fit_sql, read_selection
from vvshub.laws._forms import FORMS, Form, get_form
from vvshub.laws._law import (
    JointScalingLaw,
    LawFit,
    SaturatingPowerLaw,
    ScalingLaw,
    ShiftedPowerLaw,
    fit_law,
    misalignment,
)
from vvshub.laws._paper import (
    PAPER_REPORTED,
    Nearest,
    Prediction,
    compute_relation,
    paper_fits,
    predict,
)
from vvshub.laws._plot import (
    draw_law,
    formula,
    plain_formula,
    plot_fit,
    plot_paper,
    short_number,
)
from vvshub.laws._selections import PAPER_SELECTIONS, Selection, selection
from vvshub.laws._solver import huber, objective

__all__ = [
    "FORMS",
    "PAPER_REPORTED",
    "PAPER_SELECTIONS",
    "Allocation",
    "Backtest",
    "BacktestRow",
    "ComputeRelation",
    "Form",
    "JointScalingLaw",
    "LawFit",
    "Nearest",
    "Prediction",
    "SaturatingPowerLaw",
    "ScalingLaw",
    "Selection",
    "ShiftedPowerLaw",
    "SqlFit",
    "allocation",
    "backtest",
    "compute_relation",
    "draw_law",
    "fit_compute_relation",
    "fit_law",
    "fit_sql",
    "formula",
    "get_form",
    "huber",
    "misalignment",
    "objective",
    "paper_fits",
    "plain_formula",
    "plot_fit",
    "plot_paper",
    "predict",
    "read_selection",
    "selection",
    "short_number",
]
