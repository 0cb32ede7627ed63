"""Estimator contract, bad input, bootstrap, saved results, allocation."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from vvshub.errors import ConvergenceWarning, FitDataError, NotFittedError
from vvshub.laws import (
    ComputeRelation,
    LawFit,
    SaturatingPowerLaw,
    ScalingLaw,
    allocation,
    fit_compute_relation,
    fit_law,
    get_form,
    objective,
)
from vvshub.laws._bootstrap import resample_counts, resample_indices
from vvshub.laws._forms import grid_starts
from vvshub.laws._solver import Problem, multistart


@pytest.fixture
def power_data():
    rng = np.random.default_rng(11)
    x = np.geomspace(1e14, 1e20, 60)
    L = (0.5 + 0.6 * (x / 1e13) ** -0.2) * np.exp(0.02 * rng.standard_normal(60))
    return x, 1 - L


def test_estimator_contract(power_data):
    x, s = power_data
    law = SaturatingPowerLaw(x_scale=1e13, n_bootstrap=40)
    assert not hasattr(law, "params_")
    with pytest.raises(NotFittedError):
        law.predict(x)
    assert law.fit(x, s) is law
    assert set(law.params_) == {"E", "A", "alpha"}
    # eq. 2 written out directly: sum of Huber(log L_hat - log L), delta = 1e-3
    E, A, alpha = (law.params_[k] for k in ("E", "A", "alpha"))
    r = np.abs(np.log(E + A * (x / 1e13) ** -alpha) - np.log(1 - s))
    direct = np.where(r <= 1e-3, 0.5 * r * r, 1e-3 * (r - 0.5e-3)).sum()
    assert law.objective_ == pytest.approx(direct, rel=1e-6)
    assert set(law.ci_) == {"E", "A", "alpha"}
    for k, (lo, hi) in law.ci_.items():
        assert lo <= hi, k
    assert law.bootstrap_params_.shape == (40, 3)
    pred = law.predict(x)
    lo, hi = law.predict_interval(x)
    assert pred.shape == lo.shape == hi.shape == (60,)
    assert np.all(lo <= hi)
    assert np.mean((lo <= pred) & (pred <= hi)) > 0.9


def test_interval_needs_bootstrap(power_data):
    law = SaturatingPowerLaw(x_scale=1e13, n_bootstrap=0).fit(*power_data)
    with pytest.raises(NotFittedError, match="bootstrap"):
        law.predict_interval([1e15])


def test_lawfit_round_trips_through_json(power_data):
    law = SaturatingPowerLaw(x_scale=1e13, n_bootstrap=5).fit(*power_data)
    d = json.loads(json.dumps(law.fit_.to_dict()))
    back = LawFit.from_dict(d)
    assert back == law.fit_
    again = ScalingLaw.from_fit(back)
    np.testing.assert_allclose(again.predict([1e21]), law.predict([1e21]))


def test_objective_is_the_papers_at_the_optimum(power_data):
    x, s = power_data
    fit = fit_law("power", x, s, scales=(1e13,), n_bootstrap=0)
    form = get_form("power")
    theta = form.to_lse(fit.param_array()[None])
    direct = objective(form, theta, form.features(x, (1e13,)), np.log(1 - s), delta=1e-3)[0]
    assert fit.objective == pytest.approx(direct, rel=1e-9)


@pytest.mark.parametrize(
    ("x", "s", "match"),
    [
        ([], [], "no rows"),
        ([1.0, 2.0, np.nan, 4.0, 5.0], [0.1, 0.2, 0.3, 0.4, 0.5], "NaN"),
        ([1.0, 2.0, 3.0, 4.0, 5.0], [0.1, 0.2, 1.0, 0.4, 0.5], "score >= 1"),
        ([1.0, -2.0, 3.0, 4.0, 5.0], [0.1, 0.2, 0.3, 0.4, 0.5], "x <= 0"),
        ([1.0, 2.0, 3.0], [0.1, 0.2, 0.3], "cannot determine"),
    ],
)
def test_bad_input_names_the_problem(x, s, match):
    with pytest.raises(FitDataError, match=match):
        fit_law("power", x, s, n_bootstrap=0)


def test_chinchilla_needs_two_columns():
    with pytest.raises(FitDataError, match=r"\(n, d\)"):
        fit_law("chinchilla", np.ones(10), np.full(10, 0.3), n_bootstrap=0)


def test_drop_missing_says_how_many(power_data):
    x, s = power_data
    x = x.copy()
    x[[3, 7]] = np.nan
    with pytest.warns(UserWarning, match="dropped 2 of 60"):
        fit = fit_law("power", x, s, scales=(1e13,), n_bootstrap=0, drop_missing=True)
    assert fit.n_rows == 58
    assert fit.extra["n_dropped"] == 2


def test_non_convergence_warns(power_data):
    with pytest.warns(ConvergenceWarning):
        fit_law("power", *power_data, scales=(1e13,), n_bootstrap=3, max_iter=1)


def test_converged_fit_does_not_warn(power_data):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit_law("power", *power_data, scales=(1e13,), n_bootstrap=20)


def test_resamples_are_the_studys():
    idx = np.random.default_rng(42).integers(0, 17, size=(9, 17))
    np.testing.assert_array_equal(resample_indices(17, 9, 42), idx)
    counts = resample_counts(17, 9, 42)
    for b in range(9):
        np.testing.assert_array_equal(counts[b], np.bincount(idx[b], minlength=17))


def test_bootstrap_matches_a_full_grid_fit_of_the_resampled_rows(power_data):
    """Count weights and warm starts give the optimum of a grid search on the taken rows."""
    x, s = power_data
    fit = fit_law("power", x, s, scales=(1e13,), n_bootstrap=6)
    form = get_form("power")
    idx = resample_indices(len(x), 6, 42)
    for b in range(6):
        xb, sb = x[idx[b]], s[idx[b]]
        problem = Problem(
            form, form.features(xb, (1e13,)), np.log1p(-sb), np.ones((1, len(xb))), 1e-3
        )
        best = multistart(problem, grid_starts(form.default_grid)).f[0]
        assert fit.bootstrap_objectives[b] <= best * (1 + 1e-8)
        assert fit.bootstrap_objectives[b] == pytest.approx(best, rel=1e-6)


def test_compute_relation_recovers_six_nd():
    rng = np.random.default_rng(0)
    N, D = 10 ** rng.uniform(5, 9, 30), 10 ** rng.uniform(5, 10, 30)
    rel = fit_compute_relation(N, D, 6 * N * D)
    assert rel.n == pytest.approx(1.0)
    assert rel.m == pytest.approx(6.0)
    with pytest.raises(FitDataError):
        fit_compute_relation([1.0], [1.0], [6.0])


def test_allocation_minimises_the_joint_law_at_fixed_compute():
    """N*(C), D*(C) against a brute-force minimum of L along C = m (N D)^n, in raw units."""
    fit = LawFit(
        "chinchilla",
        {"E": 0.5, "A": 0.18, "alpha": 0.58, "B": 0.5, "beta": 0.22},
        0.0,
        10,
        {"n_scale": 1e5, "d_scale": 1e4},
    )
    rel = ComputeRelation(m=333.0, n=1.03, n_rows=10)
    alloc = allocation(fit, rel)
    assert alloc.n_exponent > 0 and alloc.d_exponent > 0
    assert alloc.a_prime + alloc.b_prime == pytest.approx(1.0)
    law = ScalingLaw.from_fit(fit)
    for C in (1e16, 1e19, 1e22):
        nd = (C / rel.m) ** (1 / rel.n)
        N = np.geomspace(1e2, nd / 1e2, 200001)
        L = 1 - law.predict(np.c_[N, nd / N])
        n_best = N[np.argmin(L)]
        n_opt, d_opt = alloc.optimal(C)
        assert float(n_opt) == pytest.approx(n_best, rel=1e-3)
        assert float(n_opt) * float(d_opt) == pytest.approx(nd, rel=1e-9)


def test_allocation_rejects_other_forms():
    fit = LawFit("power", {"E": 0.5, "A": 0.5, "alpha": 0.2}, 0.0, 10, {"x_scale": 1.0})
    with pytest.raises(ValueError, match="chinchilla"):
        allocation(fit, ComputeRelation(1.0, 1.0, 2))


def test_lawfit_validates():
    with pytest.raises(ValueError, match="form"):
        LawFit("cubic", {"E": 1}, 0.0, 1, {})
    with pytest.raises(ValueError, match="parameters"):
        LawFit("power", {"E": 1.0, "A": 1.0}, 0.0, 1, {"x_scale": 1.0})
