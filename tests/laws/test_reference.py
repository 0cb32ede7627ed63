"""The paper's laws reproduced from a catalog imported from the reference data."""

from __future__ import annotations

import numpy as np
import pytest

from vvshub.laws import (
    allocation,
    compute_relation,
    fit_law,
    read_selection,
    selection,
)
from vvshub.laws._api import frame_inputs


def _fit(catalog, key, n_bootstrap=0):
    sel = selection(key)
    frame = read_selection(sel.sql, form=sel.form, params=sel.params, catalog=catalog)
    X, score = frame_inputs(frame, sel.form)
    return frame, fit_law(sel.form, X, score, scales=sel.scales, n_bootstrap=n_bootstrap)


@pytest.fixture(scope="module")
def paper(_reference_catalog_master):
    cat = _reference_catalog_master
    return {key: _fit(cat, key) for key in ("compute_neural", "compute_behavior", "joint")}


def test_selection_sizes(paper):
    assert len(paper["compute_neural"][0]) == 620
    assert len(paper["compute_behavior"][0]) == 620
    assert len(paper["joint"][0]) == 444
    frame = paper["joint"][0]
    # ConvNeXt and ViT only at 300 samples per class or full data; Flex families merged
    tr = frame[frame.arch_family.isin(["ConvNeXt", "ViT"])]
    assert set(tr.samples_per_class) <= {0, 300}
    assert not frame.arch_family.str.endswith("Flex").any()
    assert frame.model_id.is_monotonic_increasing


def test_neural_law_matches_the_paper(paper):
    """S = 0.48 - 0.55 C̃^-0.16."""
    p = paper["compute_neural"][1].params
    assert round(1 - p["E"], 2) == 0.48
    assert round(p["A"], 2) == 0.55
    assert round(p["alpha"], 2) == 0.16


def test_behavioural_law_matches_the_paper(paper):
    """S = 1 - 1.4 C̃^-0.06 (E -> 0: compare E, never e)."""
    p = paper["compute_behavior"][1].params
    assert p["E"] < 0.005
    assert round(p["A"], 1) == 1.4
    assert round(p["alpha"], 2) == 0.06


def test_allocation_matches_the_paper(paper, _reference_catalog_master):
    """a' = 0.277, b' = 0.723, n = 1.028, a'/n = 0.270, b'/n = 0.703 (DESIGN.md section 4)."""
    rel = compute_relation(catalog=_reference_catalog_master)
    assert rel.n_rows == 444
    alloc = allocation(paper["joint"][1], rel)
    assert round(alloc.a_prime, 3) == 0.277
    assert round(alloc.b_prime, 3) == 0.723
    assert round(rel.n, 3) == 1.028
    assert round(alloc.n_exponent, 3) == 0.270
    assert round(alloc.d_exponent, 3) == 0.703
    n_opt, d_opt = alloc.optimal(np.array([1e18, 1e20]))
    assert np.all(np.diff(n_opt) > 0) and np.all(np.diff(d_opt) > 0)
    # positive exponents and G (not 1/G): N* D* reproduces the compute relation
    np.testing.assert_allclose(rel.m * (n_opt * d_opt) ** rel.n, [1e18, 1e20], rtol=1e-9)


def test_bootstrap_band_on_the_neural_law(_reference_catalog_master):
    _frame, fit = _fit(_reference_catalog_master, "compute_neural", n_bootstrap=50)
    lo, hi = fit.ci()["E"]
    assert lo < fit.params["E"] < hi
    assert fit.converged


@pytest.mark.parametrize("x_scale", [1.0, 1e17, 1e20])
def test_optimum_does_not_depend_on_the_scale(paper, x_scale):
    """x_scale only reparametrises A: the grid search must reach the same optimum."""
    frame, ref = paper["compute_neural"]
    X, score = frame_inputs(frame, "power")
    fit = fit_law("power", X, score, scales=(x_scale,), n_bootstrap=0)
    assert fit.objective == pytest.approx(ref.objective, rel=1e-8)
    assert fit.params["E"] == pytest.approx(ref.params["E"], abs=1e-5)
    assert fit.params["A"] * x_scale ** fit.params["alpha"] == pytest.approx(
        ref.params["A"] * 1e13 ** ref.params["alpha"], rel=1e-4
    )
