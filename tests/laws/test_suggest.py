"""`vvshub laws suggest`: the linearised ranking, the greedy plan, candidates, sweep files, CLI."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vvshub.errors import SuggestError
from vvshub.laws import (
    Target,
    allocation,
    backtest_suggest,
    get_form,
    grid_candidates,
    parse_target,
    suggest_runs,
    write_sweep,
)
from vvshub.laws._allocation import ComputeRelation
from vvshub.laws._law import LawFit, misalignment
from vvshub.laws._selections import COMPUTE_NEURAL
from vvshub.laws._suggest import target_function, within_data
from vvshub.laws._suggest_core import band_width, linear_gains, plan, target_gradient

# A small fit for the catalog tests: ResNet models only (a few hundred ms per fit).
RESNET_NEURAL = COMPUTE_NEURAL.replace(
    "dataset IN ('imagenet', 'ecoset')",
    "dataset IN ('imagenet', 'ecoset') AND arch_family = 'ResNet' AND samples_per_class BETWEEN 1 AND 100",
)
# Candidates: the ResNets the fit did not see (more data per class), with their real cost.
RESNET_CANDIDATES = (
    "SELECT model_id, any_value(arch) AS arch, any_value(dataset) AS dataset, "
    "any_value(samples_per_class) AS samples_per_class, any_value(total_flops) AS cost "
    "FROM scores WHERE arch_family = 'ResNet' AND dataset IN ('imagenet', 'ecoset') "
    "AND (samples_per_class > 100 OR samples_per_class = 0) AND NOT is_pretrained "
    "AND NOT is_random AND NOT is_ssl AND NOT is_adv AND NOT is_ablation "
    "GROUP BY model_id ORDER BY model_id"
)


# ----------------------------------------------------------------------------- numerics


def test_linear_gains_match_the_direct_sandwich():
    rng = np.random.default_rng(0)
    J = rng.normal(size=(40, 3))
    f = rng.uniform(0.5, 5.0, size=40)
    A, B = (J * f[:, None]).T @ J, J.T @ J
    g = rng.normal(size=3)
    cand = rng.normal(size=(5, 3))
    fc = rng.uniform(0.1, 5.0, size=5)

    def sandwich(A, B):
        Ai = np.linalg.inv(A)
        return g @ Ai @ B @ Ai @ g

    var, gain = linear_gains(A, B, g, cand, fc)
    assert var == pytest.approx(sandwich(A, B), rel=1e-8)
    for j, w, gj in zip(cand, fc, gain, strict=True):
        after = sandwich(A + w * np.outer(j, j), B + np.outer(j, j))
        assert gj == pytest.approx(var - after, abs=1e-6 * var)  # ridge of 1e-10 in A
    # with equal densities the sandwich is the Gauss–Newton inverse, and a run always helps
    var1, gain1 = linear_gains(B, B, g, cand, np.ones(5))
    assert var1 == pytest.approx(g @ np.linalg.inv(B) @ g, rel=1e-8)
    assert (gain1 > 0).all()


def test_target_gradient_matches_the_analytic_one():
    form = get_form("power")
    fn = target_function(Target("flops", flops=1e20), form, (1e13,))
    theta = np.array([np.log(0.52), np.log(0.55), 0.16])
    g = target_gradient(fn, theta)
    # S = 1 - L, L = exp(LSE(a - alpha*u, e)), u = log(1e7): dS/dθ = -L * dlogL/dθ
    u = np.log(1e7)
    E, A, alpha = 0.52, 0.55, 0.16
    L = E + A * np.exp(-alpha * u)
    s1 = A * np.exp(-alpha * u) / L
    expected = -L * np.array([1 - s1, s1, -s1 * u])
    np.testing.assert_allclose(g, expected, rtol=1e-5)


def test_band_width_is_the_normal_interval():
    v = np.random.default_rng(1).normal(0.0, 2.0, size=200_000)
    assert band_width(v, 0.95) == pytest.approx(2 * 1.959964 * 2.0, rel=1e-2)


def test_joint_target_at_the_optimum_matches_the_allocation_module():
    form = get_form("chinchilla")
    params = {"E": 0.3, "A": 0.6, "alpha": 0.35, "B": 0.9, "beta": 0.12}
    scales = (1e5, 1e4)
    fit = LawFit("chinchilla", params, 0.0, 10, {"n_scale": 1e5, "d_scale": 1e4})
    rel = ComputeRelation(m=6.0, n=1.028, n_rows=10)
    n_opt, d_opt = allocation(fit, rel).optimal(np.array([1e20]))
    expected = 1.0 - misalignment(fit, np.array([[n_opt[0], d_opt[0]]]))[0]
    fn = target_function(Target("flops", flops=1e20), form, scales, relation=rel)
    theta = form.to_lse(fit.param_array())
    assert fn(theta[None])[0] == pytest.approx(expected, rel=1e-10)
    share = target_function(Target("allocation"), form, scales)(theta[None])[0]
    assert share == pytest.approx(0.12 / (0.35 + 0.12))


def test_parse_target_accepts_and_refuses():
    assert parse_target("flops=1e20", "power") == Target("flops", flops=1e20)
    assert parse_target("param=e", "power") == Target("param", param="E")
    assert parse_target("allocation", "chinchilla") == Target("allocation")
    with pytest.raises(SuggestError, match="no parameter 'beta'"):
        parse_target("param=beta", "power")
    with pytest.raises(SuggestError, match="allocation needs the joint"):
        parse_target("allocation", "power")
    with pytest.raises(SuggestError, match="positive number"):
        parse_target("flops=-3", "power")
    with pytest.raises(SuggestError, match="not a target"):
        parse_target("speed=3", "power")


def _synthetic(rng, n=60):
    x = np.geomspace(1e13, 1e17, n)
    L = 0.5 + 0.5 * (x / 1e13) ** -0.2
    score = 1.0 - L * np.exp(rng.normal(0.0, 0.03, n))
    return x, score


def _plan_for(x, score, cand_x, cost, **kw):
    from vvshub.laws._suggest import prepare

    prob = prepare("power", x, score, scales=(1e13,), target=Target("flops", flops=1e20))
    form = prob.form
    return plan(
        form,
        form.features(x, (1e13,)),
        np.log1p(-score),
        prob.theta,
        prob.target_fn,
        form.features(cand_x, (1e13,)),
        cost,
        **kw,
    )


def test_plan_prefers_runs_near_the_target_at_equal_cost():
    x, score = _synthetic(np.random.default_rng(3))
    cand_x = np.array([3e13, 1e14, 1e19, 2e15])
    pl = _plan_for(x, score, cand_x, np.ones(4), budget=1.0, max_runs=1, n_bootstrap=100)
    assert [s.index for s in pl.steps] == [2]
    assert pl.steps[0].width < pl.width_now  # a run at 1e19 narrows the band at 1e20
    assert pl.steps[0].confirmed


def test_plan_respects_budget_and_max_runs_and_is_deterministic():
    x, score = _synthetic(np.random.default_rng(4))
    cand_x = np.geomspace(2e13, 1e19, 12)
    cost = cand_x / 1e13
    kw = {"budget": 2e5, "max_runs": 3, "n_bootstrap": 60, "shortlist": 3, "seed": 5}
    a = _plan_for(x, score, cand_x, cost, **kw)
    b = _plan_for(x, score, cand_x, cost, **kw)
    assert [s.index for s in a.steps] == [s.index for s in b.steps]
    assert [s.width for s in a.steps] == [s.width for s in b.steps]
    assert 1 <= len(a.steps) <= 3
    assert cost[[s.index for s in a.steps]].sum() <= 2e5
    assert len({s.index for s in a.steps}) == len(a.steps)


def test_within_data_keeps_only_runs_at_or_above_the_smallest_input():
    X = np.array([10.0, 100.0])
    assert within_data(np.array([5.0, 10.0, 1e6]), X).tolist() == [False, True, True]
    J = np.array([[1.0, 10.0], [5.0, 2.0]])
    assert within_data(np.array([[1.0, 2.0], [0.5, 50.0]]), J).tolist() == [True, False]


# ----------------------------------------------------------------------------- candidates


@pytest.mark.slow
def test_grid_costs_match_the_study_catalog(reference_catalog):
    from vvshub.catalog import open_catalog

    archs = ("resnet18", "convnext_tiny", "deit_tiny", "resnetflexfilters-f-1-16-20-11")
    grid = grid_candidates(archs=archs, samples_per_class=(10, 0))
    with open_catalog(reference_catalog) as cat:
        ref = cat.query(
            "SELECT DISTINCT arch, dataset, samples_per_class, total_flops, n_params, "
            "n_samples_seen FROM models WHERE NOT is_pretrained AND NOT is_random AND NOT is_ssl "
            "AND NOT is_adv AND NOT is_ablation AND samples_per_class IN (10, 0) "
            "AND arch IN ('resnet18', 'convnext_tiny', 'deit_tiny', "
            "'resnetflexfilters-f-1-16-20-11')"
        )
    merged = grid.merge(ref, on=["arch", "dataset", "samples_per_class"], suffixes=("", "_ref"))
    assert len(merged) == 14  # the flex ResNet was trained on full data only
    np.testing.assert_allclose(merged.total_flops, merged.total_flops_ref, rtol=1e-12)
    np.testing.assert_array_equal(merged.n_params, merged.n_params_ref)
    np.testing.assert_array_equal(merged.n_samples_seen, merged.n_samples_seen_ref)
    assert (grid.cost == grid.total_flops).all()


def test_grid_runs_get_the_next_untrained_seed(reference_catalog):
    from vvshub.laws._suggest import next_seeds

    grid = grid_candidates(
        archs=("resnet18", "resnetflexfilters-f-1-16-20-11"),
        datasets=("imagenet",),
        samples_per_class=(10, 30),
    )
    labels = set(next_seeds(grid).label)
    # the study trained resnet18 on 10 images per class with seeds 0-2, on 30 with seed 0,
    # and the width-scaled ResNets on the full data only
    assert labels == {
        "resnet18_imagenet_10_seed-3",
        "resnet18_imagenet_30_seed-1",
        "resnetflexfilters-f-1-16-20-11_imagenet_10_seed-0",
        "resnetflexfilters-f-1-16-20-11_imagenet_30_seed-0",
    }


def test_grid_refuses_an_unknown_dataset():
    with pytest.raises(SuggestError, match=r"'places'.*imagenet, ecoset"):
        grid_candidates(archs=("resnet18",), datasets=("places",))


# ----------------------------------------------------------------------------- the verb


def _suggest(**kw):
    args = {
        "budget": 5e18,
        "scales": (1e13,),
        "candidates": RESNET_CANDIDATES,
        "max_runs": 2,
        "n_bootstrap": 40,
        "shortlist": 2,
    }
    args.update(kw)
    return suggest_runs(RESNET_NEURAL, **args)


def test_suggest_on_the_catalog_is_a_budgeted_deterministic_plan(reference_catalog):
    a = _suggest()
    assert 1 <= len(a.runs) <= 2
    assert a.spent <= 5e18
    assert [r.cumulative_cost for r in a.runs] == pytest.approx(
        np.cumsum([r.cost for r in a.runs]).tolist()
    )
    assert all(r.info["arch"].startswith("resnet") for r in a.runs)
    first = a.runs[0]
    assert first.score_band[0] <= first.score <= first.score_band[1]
    d = a.to_dict()
    for key in ("target", "value", "band", "width", "width_after", "budget", "spent", "runs"):
        assert key in d
    assert d["target"] == "flops=1e+20"
    b = _suggest()  # the same plan; floats agree to solver precision (BLAS sums may reorder)
    assert [r.label for r in b.runs] == [r.label for r in a.runs]
    assert [r.width_after for r in b.runs] == pytest.approx([r.width_after for r in a.runs])
    assert b.width == pytest.approx(a.width)
    c = _suggest(seed=1)
    assert c.runs[0].width_after != a.runs[0].width_after  # the seed drives the resamples


def test_suggest_refuses_a_budget_below_the_cheapest_candidate(reference_catalog):
    with pytest.raises(SuggestError, match=r"below the cheapest candidate \(resnet"):
        _suggest(budget=1e12)


def test_suggest_refuses_a_target_outside_the_law(reference_catalog):
    with pytest.raises(SuggestError, match="no parameter 'B'"):
        _suggest(target="param=B")


def test_suggest_needs_a_cost_column(reference_catalog):
    with pytest.raises(SuggestError, match="cost or total_flops"):
        _suggest(candidates="SELECT model_id FROM models LIMIT 3")


def test_suggest_refuses_candidates_that_are_all_in_the_fit(reference_catalog):
    with pytest.raises(SuggestError, match="already in the fit"):
        _suggest(candidates=RESNET_NEURAL.replace("any_value(total_flops) AS x", "1 AS cost"))


def test_suggest_takes_a_frame_of_candidates_and_drops_fitted_models(reference_catalog):
    from vvshub.catalog import open_catalog

    with open_catalog(reference_catalog) as cat:
        frame = cat.query(RESNET_NEURAL.replace("avg(score) AS score", "avg(score) AS s"))
    cands = pd.DataFrame(
        {"label": frame.model_id, "cost": frame.total_flops, "x": frame.total_flops}
    )
    cands = pd.concat(
        [cands, pd.DataFrame({"label": ["new"], "cost": [1e18], "x": [1e18]})], ignore_index=True
    )
    res = _suggest(candidates=cands, max_runs=1, budget=2e18)
    assert [r.label for r in res.runs] == ["new"]
    assert any("already in the fit" in n for n in res.notes)


# ----------------------------------------------------------------------------- sweep files


def test_write_sweep_lists_one_grid_per_run(tmp_path, reference_catalog):
    import yaml

    res = _suggest()
    files = write_sweep(res, tmp_path / "runs.yaml", data={"imagenet": "/data/imagenet"})
    assert files == [tmp_path / "runs.yaml"]
    grids = yaml.safe_load(files[0].read_text())["grids"]
    assert len(grids) == len(res.runs)
    for grid, run in zip(grids, res.runs, strict=True):
        assert grid["arch"] == run.info["arch"]
        assert grid["dataset_name"] == run.info["dataset"]
        spc = run.info["samples_per_class"]
        assert grid["samples_per_class"] == (spc if spc else "full")
        if run.info["dataset"] == "imagenet":
            assert grid["dataset"] == "/data/imagenet"
    assert not list(tmp_path.glob("*.part"))


def test_the_sweep_file_expands_in_the_trainer_to_the_plan(tmp_path, reference_catalog):
    from vvshub import trainer

    res = _suggest()
    (path,) = write_sweep(res, tmp_path / "runs.yaml")
    configs = trainer.expand_grid(trainer.load_grid(path))
    assert len(configs) == len(res.runs) >= 2
    for cfg, run in zip(configs, res.runs, strict=True):
        assert cfg.arch == run.info["arch"]
        assert cfg.samples_per_class == run.info["samples_per_class"]


def test_write_sweep_needs_architecture_and_data(tmp_path, reference_catalog):
    from vvshub.catalog import open_catalog

    with open_catalog(reference_catalog) as cat:
        frame = cat.query(RESNET_CANDIDATES)
    res = _suggest(candidates=frame[["model_id", "cost"]].assign(x=frame.cost), max_runs=1)
    with pytest.raises(SuggestError, match="has no arch, dataset, samples_per_class"):
        write_sweep(res, tmp_path / "runs.yaml")


# ----------------------------------------------------------------------------- backtest + CLI


def test_backtest_compares_equal_cost_plans(reference_catalog):
    bt = backtest_suggest(
        RESNET_NEURAL,
        budget=1e17,
        scales=(1e13,),
        seeds=(0,),
        max_runs=2,
        n_bootstrap=30,
        shortlist=2,
        eval_bootstrap=30,
    )
    rows = {r.strategy: r for r in bt.rows}
    assert set(rows) == {"suggest", "random", "largest", "none"}
    assert rows["random"].spent <= rows["suggest"].spent <= 1e17
    assert rows["largest"].spent <= 1e17 and rows["largest"].n_runs <= 2
    assert rows["none"].n_runs == 0
    assert all(np.isfinite(r.width) and r.width > 0 for r in bt.rows)
    assert np.isfinite(bt.ratio("random"))
    assert any("1.5x target" in line for line in bt.summary_lines())


def test_cli_prints_a_plan_and_writes_sweep_files(cli, reference_catalog, tmp_path):
    out = tmp_path / "runs.yaml"
    args = ("laws", "suggest", "--sql", RESNET_NEURAL, "--budget", "5e18",
            "--candidates", RESNET_CANDIDATES, "--max-runs", "1", "--bootstrap", "40",
            "--shortlist", "2")  # fmt: skip
    res = cli(*args, "--json", "-o", str(out))
    assert res.code == 0, res.err
    d = res.json()
    assert len(d["runs"]) == 1 and d["sweep_files"] == [str(out)]
    assert out.exists()
    table = cli(*args)
    assert table.code == 0, table.err
    # the label may fold over two lines in a narrow terminal
    assert "suggested runs" in table.out and d["runs"][0]["label"][:12] in table.out


def test_cli_errors_are_one_line(cli, reference_catalog):
    res = cli("laws", "suggest", "--sql", RESNET_NEURAL, "--budget", "10",
              "--candidates", RESNET_CANDIDATES)  # fmt: skip
    assert res.code == 1
    assert "below the cheapest candidate" in res.err and "Traceback" not in res.err
    res = cli("laws", "suggest", "--sql", RESNET_NEURAL, "--budget", "1e19",
              "--target", "allocation", "--candidates", RESNET_CANDIDATES)  # fmt: skip
    assert res.code == 1 and "allocation needs the joint" in res.err


def test_cli_backtest_prints_ratios(cli, reference_catalog):
    res = cli("laws", "suggest", "--sql", RESNET_NEURAL, "--budget", "1e17", "--backtest",
              "--seeds", "1", "--max-runs", "1", "--bootstrap", "20", "--shortlist", "1",
              "--json")  # fmt: skip
    assert res.code == 0, res.err
    d = res.json()
    assert {r["strategy"] for r in d["rows"]} == {"suggest", "random", "largest", "none"}
    assert set(d["ratios"]) == {"random_over_suggest", "largest_over_suggest", "none_over_suggest"}
