"""Fits that cannot be trusted say so or are refused (issue 11, item 3)."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest

from vvshub.errors import ConvergenceWarning, FitDataError
from vvshub.laws import fit_law, fit_sql, read_selection
from vvshub.laws._api import frame_inputs
from vvshub.laws._bootstrap import resample_indices
from vvshub.laws._selections import _CONTROLLED, _FAMILY

X_SCALE = 1e13


def _family_sql(families: tuple[str, ...], regions: tuple[str, ...], x: str = "total_flops"):
    fams = ", ".join(f"'{f}'" for f in families)
    regs = ", ".join(f"'{r}'" for r in regions)
    return (
        f"SELECT model_id, any_value({x}) AS x, avg(score) AS score FROM scores "
        f"WHERE {_CONTROLLED} AND region IN ({regs}) AND dataset IN ('imagenet', 'ecoset') "
        f"AND {_FAMILY} IN ({fams}) GROUP BY model_id ORDER BY model_id"
    )


CONVNEXT_NEURAL = _family_sql(("ConvNeXt",), ("V1", "V2", "V4", "IT"))
SIMCLR = (
    "SELECT model_id, any_value(total_flops) AS x, avg(score) AS score FROM scores "
    "WHERE is_ssl AND ssl_method = 'simclr' AND total_flops > 0 AND region = ? "
    "GROUP BY model_id ORDER BY model_id"
)


def _rows(catalog, sql, params=(), form="power"):
    frame = read_selection(sql, form=form, params=params, catalog=catalog)
    return frame_inputs(frame, form)


# --- degenerate shifted fits ------------------------------------------------------------------


def test_degenerate_shifted_fit_is_finite_marked_stored_and_predicts(cli, reference_catalog):
    """ConvNeXt alone, compute -> neural: the shifted form's optimum is at infinity."""
    with pytest.warns(ConvergenceWarning, match="degenerate power_shift fit"):
        res = fit_sql(CONVNEXT_NEURAL, form="power_shift", scales=(X_SCALE,), n_bootstrap=60)
    fit = res.fit
    assert fit.degenerate and "exponential" in fit.degenerate
    assert res.stored
    assert all(math.isfinite(v) for v in fit.log_params.values())
    assert math.isinf(fit.params["A"])  # the natural A overflows; a = log A does not
    assert fit.log_params["a"] > 709
    law = res.law
    x = np.geomspace(1e14, 1e22, 9)
    pred = law.predict(x)
    lo, hi = law.predict_interval(x)
    assert np.all(np.isfinite(pred)) and np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))
    assert np.all(lo <= pred + 1e-9) and np.all(pred <= hi + 1e-9)
    # the reported point is the exponential limit's optimum, which beats every finite one the
    # shifted form's solver reached (0.0059650 after 2,000 iterations, unconverged)
    assert fit.objective < 0.0059650
    # the stored fit reads back the same, and the CLI's JSON is valid
    out = cli(
        "laws",
        "fit",
        "--sql",
        CONVNEXT_NEURAL,
        "--form",
        "power_shift",
        "--x-scale",
        "1e13",
        "--bootstrap",
        "60",
        "--json",
    )
    assert out.code == 0, out.err
    assert "Infinity" not in out.out
    js = json.loads(out.out)
    assert js["reused"] is True and js["degenerate"] is True
    assert js["params"]["A"] == "inf" and js["log_params"]["a"] == fit.log_params["a"]
    assert "degenerate" in out.err  # the stored caveat is said again


def test_degenerate_resamples_are_fast_and_converge():
    """Data on an exact exponential: every resample's optimum is the limit, all converge."""
    rng = np.random.default_rng(3)
    x = np.geomspace(1e14, 1e18, 80)
    L = (0.5 + 0.4 * np.exp(-(x / X_SCALE) / 3e3)) * np.exp(0.002 * rng.standard_normal(80))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = fit_law("power_shift", x, 1 - L, scales=(X_SCALE,), n_bootstrap=200)
    messages = [str(w.message) for w in caught]
    assert fit.degenerate
    assert not any("stopped before converging" in m for m in messages), messages
    assert fit.converged
    assert fit.extra["n_degenerate_resamples"] > 150
    assert np.all(np.isfinite(fit.bootstrap_lse_array()))


def test_well_posed_shifted_fit_is_not_degenerate():
    x = np.geomspace(1e14, 1e20, 60)
    L = 0.5 + 0.6 * (x / X_SCALE + 10.0**1.5) ** -0.3
    fit = fit_law("power_shift", x, 1 - L, scales=(X_SCALE,), n_bootstrap=0)
    assert not fit.degenerate
    assert fit.params["lambda"] == pytest.approx(1.5, abs=0.05)


# --- warm starts against whole-grid refits ----------------------------------------------------


def _grid_refits(x, s, form, n_bootstrap):
    idx = resample_indices(len(x), n_bootstrap, 42)
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for b in range(n_bootstrap):
            out.append(fit_law(form, x[idx[b]], s[idx[b]], scales=(X_SCALE,), n_bootstrap=0))
    return np.array([f.objective for f in out])


@pytest.mark.slow
@pytest.mark.parametrize(
    ("sql", "params", "form"),
    [
        (SIMCLR, ("V1",), "power"),  # the case: 35 rows
        (SIMCLR, ("IT",), "power"),
        (_family_sql(("AlexNet",), ("Behavioral",)), (), "power"),
        (_family_sql(("CORnet-S",), ("V1", "V2", "V4", "IT")), (), "power_shift"),
        # warm starts miss here; the widening run (valley-floor starts, limits' own optima)
        (_family_sql(("AlexNet",), ("Behavioral",)), (), "power_shift"),
    ],
)
def test_every_resample_reaches_the_whole_grid_optimum(
    _reference_catalog_master, sql, params, form
):
    x, s = _rows(_reference_catalog_master, sql, params, form)
    n_boot = 40
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = fit_law(form, x, s, scales=(X_SCALE,), n_bootstrap=n_boot)
    grid = _grid_refits(x, s, form, n_boot)
    boot = np.array(fit.bootstrap_objectives)
    # equal to convergence accuracy (the loss is nearly L1, so optima are kinks)
    assert np.all(boot <= grid * (1 + 1e-5) + 1e-12), np.max((boot - grid) / grid)


def test_warm_starts_that_miss_are_caught_and_repaired(_reference_catalog_master, monkeypatch):
    """Forced to start warm, SimCLR V1 resamples miss optima; the subset check catches it."""
    import vvshub.laws._bootstrap as bs

    x, s = _rows(_reference_catalog_master, SIMCLR, ("V1",))
    monkeypatch.setattr(bs, "GRID_BUDGET", 0)  # never grid up front
    monkeypatch.setattr(bs, "CHECK_RESAMPLES", 40)
    monkeypatch.setattr(bs, "CHECK_BUDGET", 10**9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = fit_law("power", x, s, scales=(X_SCALE,), n_bootstrap=40)
    assert fit.extra["bootstrap_starts"] in ("widened", "escalated")
    grid = _grid_refits(x, s, "power", 40)
    assert np.all(np.array(fit.bootstrap_objectives) <= grid * (1 + 1e-5) + 1e-12)


# --- bootstraps that cannot identify the law --------------------------------------------------


def test_under_identified_bootstrap_says_so():
    x = np.geomspace(1e14, 1e18, 5)
    s = 1 - (0.5 + 0.5 * (x / X_SCALE) ** -0.2) * np.exp([0.01, -0.02, 0.015, 0.0, -0.01])
    with pytest.warns(ConvergenceWarning, match="cannot identify the power law"):
        fit = fit_law("power", x, s, scales=(X_SCALE,), n_bootstrap=100)
    assert fit.extra["under_identified"] is True
    rng = np.random.default_rng(0)
    x = np.geomspace(1e14, 1e18, 60)
    s = 1 - (0.5 + 0.5 * (x / X_SCALE) ** -0.2) * np.exp(0.01 * rng.standard_normal(60))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert (
            "under_identified"
            not in fit_law("power", x, s, scales=(X_SCALE,), n_bootstrap=50).extra
        )


# --- the same query gives the same fit whatever the row order ---------------------------------


def test_row_order_does_not_change_the_fit(reference_catalog, monkeypatch):
    import vvshub.catalog._connection as conn

    sql = (
        "SELECT any_value(total_flops) AS x, avg(score) AS score FROM scores "
        "WHERE dataset = 'imagenet' AND arch_family = 'AlexNet' AND region = 'IT' "
        "AND NOT is_pretrained AND NOT is_random GROUP BY model_id"
    )
    real = conn.Catalog.query
    seeds = iter(range(100))

    def shuffled(self, *args, **kwargs):  # DuckDB may return unordered rows in any order
        frame = real(self, *args, **kwargs)
        return frame.sample(frac=1.0, random_state=next(seeds)).reset_index(drop=True)

    monkeypatch.setattr(conn.Catalog, "query", shuffled)
    first = fit_sql(sql, scales=(X_SCALE,), n_bootstrap=30)
    second = fit_sql(sql, scales=(X_SCALE,), n_bootstrap=30, reuse=False, store=False)
    assert first.data_hash == second.data_hash and first.fit_id == second.fit_id
    assert first.fit.bootstrap_params == second.fit.bootstrap_params
    assert fit_sql(sql, scales=(X_SCALE,), n_bootstrap=30).reused


def test_an_ordered_query_keeps_its_order(_reference_catalog_master):
    sql = _family_sql(("AlexNet",), ("IT",)).replace("ORDER BY model_id", "ORDER BY x DESC")
    frame = read_selection(sql, form="power", catalog=_reference_catalog_master)
    assert list(frame["x"]) == sorted(frame["x"], reverse=True)
    assert not frame["x"].is_monotonic_increasing


# --- negative exponents -----------------------------------------------------------------------


def test_negative_joint_exponent_warns():
    rng = np.random.default_rng(5)
    n = 10 ** rng.uniform(5, 8, 40)
    d = 10 ** rng.uniform(5, 9, 40)
    L = 0.3 * (n / 1e5) ** 0.05 * np.exp(0.01 * rng.standard_normal(40))  # grows with N
    with pytest.warns(ConvergenceWarning, match="negative exponent"):
        fit = fit_law("chinchilla", np.c_[n, d], 1 - L, scales=(1e5, 1e4), n_bootstrap=0)
    assert min(fit.params["alpha"], fit.params["beta"]) < 0 or fit.extra["warnings"]


def test_predict_explains_a_joint_law_without_allocation(reference_catalog, monkeypatch):
    import vvshub.laws._paper as paper
    from vvshub.laws import LawFit, SqlFit, predict

    real = paper.fit_selection

    def broken(sel, **kwargs):
        if sel.key != "joint":
            return real(sel, **kwargs)
        # what an unidentifiable catalog gave: a negative exponent, "converged"
        params = {"E": 0.5, "A": 1.6e-21, "alpha": -5.7, "B": 0.4, "beta": 0.2}
        fit = LawFit("chinchilla", params, 1.0, 30, {"n_scale": 1e5, "d_scale": 1e4})
        return SqlFit(fit, sel.sql, "id", "hash")

    monkeypatch.setattr(paper, "fit_selection", broken)
    pred = predict(1e20, n_bootstrap=0)
    assert math.isnan(pred.n_params_opt) and pred.allocation == {}
    assert any("no compute-optimal N*, D*" in w and "alpha = -5.7" in w for w in pred.warnings)


# --- refusals in one line ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--delta", "0"), "--delta must be a positive number"),
        (("--delta", "-1e-3"), "--delta must be a positive number"),
        (("--x-scale", "nan"), "--x-scale must be a positive finite number"),
        (("--x-scale", "inf"), "--x-scale must be a positive finite number"),
        (("--bootstrap", "1000000000"), "--bootstrap 1000000000 is outside 0..100,000"),
    ],
)
def test_bad_options_are_one_line_user_errors(cli, reference_catalog, args, message):
    sql = _family_sql(("AlexNet",), ("IT",))
    res = cli("laws", "fit", "--sql", sql, *args)
    assert res.code == 1
    lines = res.err.strip().splitlines()
    assert lines[0].startswith("error:") and message in lines[0], res.err
    assert "bug" not in res.err and "Traceback" not in res.err


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT 1e15 AS x, 0.1 * i AS score FROM range(1, 9) t(i)", "x is constant"),
        ("SELECT 'big' AS x, 0.3 AS score FROM range(10)", "column 'x' must be numeric"),
    ],
)
def test_bad_columns_are_one_line_user_errors(cli, reference_catalog, sql, message):
    res = cli("laws", "fit", "--sql", sql, "--bootstrap", "0")
    assert res.code == 1
    assert res.err.startswith("error:") and message in res.err.splitlines()[0], res.err
    assert "bug" not in res.err


def test_constant_input_is_refused_in_the_api():
    with pytest.raises(FitDataError, match="constant"):
        fit_law("power", np.full(10, 1e15), np.linspace(0.1, 0.5, 10), n_bootstrap=0)


def test_long_bootstrap_prints_progress_lines_off_a_terminal(capsys, monkeypatch):
    import vvshub.laws._bootstrap as bs

    monkeypatch.delenv("VVSHUB_NO_PROGRESS", raising=False)
    monkeypatch.setattr(bs, "PROGRESS_EVERY_S", 0.0)
    monkeypatch.setattr(bs, "WARM_BLOCK", 200)
    monkeypatch.setenv("VVSHUB_THREADS", "1")
    x = np.geomspace(1e14, 1e18, 120)
    noise = np.exp(0.01 * np.random.default_rng(2).standard_normal(120))
    s = 1 - (0.5 + 0.5 * (x / X_SCALE) ** -0.2) * noise
    fit_law("power", x, s, scales=(X_SCALE,), n_bootstrap=600)
    err = capsys.readouterr().err
    assert "bootstrap: 200/600 resamples" in err and "bootstrap: 400/600 resamples" in err


def test_a_huge_bootstrap_is_refused_with_the_limit():
    with pytest.raises(FitDataError, match="100,000"):
        fit_law("power", np.geomspace(1, 10, 10), np.linspace(0.1, 0.5, 10), n_bootstrap=10**9)


# --- threads ------------------------------------------------------------------------------------


def test_bootstrap_is_the_same_on_any_number_of_threads(monkeypatch):
    """Blocks of resamples are solved on threads; the result does not depend on how many."""
    rng = np.random.default_rng(5)
    x = np.geomspace(1e14, 1e19, 50)
    s = 1 - (0.45 + 0.5 * (x / X_SCALE) ** -0.15) * np.exp(0.01 * rng.standard_normal(50))
    fits = []
    for threads in ("1", "3"):
        monkeypatch.setenv("VVSHUB_THREADS", threads)
        fits.append(fit_law("power", x, s, scales=(X_SCALE,), n_bootstrap=300))
    assert fits[0].bootstrap_lse_array().tobytes() == fits[1].bootstrap_lse_array().tobytes()
    assert fits[0].bootstrap_objectives == fits[1].bootstrap_objectives


@pytest.mark.parametrize("value", ["0", "two", "-1"])
def test_a_bad_thread_setting_is_refused(monkeypatch, value):
    from vvshub.errors import SettingError

    monkeypatch.setenv("VVSHUB_THREADS", value)
    with pytest.raises(SettingError, match="VVSHUB_THREADS"):
        fit_law("power", np.geomspace(1e14, 1e18, 20), np.linspace(0.3, 0.5, 20), n_bootstrap=5)
