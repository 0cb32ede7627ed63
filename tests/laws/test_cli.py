"""`vvshub laws ...` and `vvshub predict` end to end on the reference catalog."""

from __future__ import annotations

import pytest

from vvshub.laws._selections import COMPUTE_NEURAL


def test_help_lists_the_commands(cli):
    res = cli("--help")
    assert res.code == 0
    assert "laws" in res.out and "predict" in res.out


def test_fit_json_then_reuse(cli, reference_catalog):
    args = (
        "laws",
        "fit",
        "--sql",
        COMPUTE_NEURAL,
        "--x-scale",
        "1e13",
        "--bootstrap",
        "30",
        "--json",
    )
    res = cli(*args)
    assert res.code == 0, res.err
    out = res.json()
    for key in ("form", "n", "objective", "params", "x_scale", "ci"):
        assert key in out
    assert out["n"] == 620 and out["form"] == "power" and out["x_scale"] == 1e13
    assert set(out["params"]) == {"E", "A", "alpha"}
    assert round(1 - out["params"]["E"], 2) == 0.48
    assert out["reused"] is False and out["stored"] is True
    again = cli(*args).json()
    assert again["reused"] is True
    assert again["params"] == out["params"] and again["ci"] == out["ci"]
    # another bootstrap count is another fit
    assert cli(*args[:-2], "5", "--json").json()["reused"] is False

    import duckdb

    con = duckdb.connect(str(reference_catalog), read_only=True)
    rows = con.execute(
        "SELECT form, n_rows, n_bootstrap, query FROM fits ORDER BY n_bootstrap"
    ).fetchall()
    con.close()
    assert [(r[0], r[1], r[2]) for r in rows] == [("power", 620, 5), ("power", 620, 30)]
    assert rows[0][3] == COMPUTE_NEURAL


def test_fit_table_output_and_chinchilla_keys(cli, reference_catalog):
    sql = (
        "SELECT any_value(n_params) AS n, any_value(n_samples_seen) AS d, avg(score) AS score "
        "FROM scores WHERE dataset = 'imagenet' AND arch_family = 'ResNet' "
        "AND NOT is_pretrained AND NOT is_random AND NOT is_ssl AND NOT is_adv AND NOT is_ablation "
        "GROUP BY model_id ORDER BY model_id"
    )
    res = cli(
        "laws",
        "fit",
        "--sql",
        sql,
        "--form",
        "chinchilla",
        "--n-scale",
        "1e5",
        "--d-scale",
        "1e4",
        "--bootstrap",
        "0",
        "--json",
    )
    assert res.code == 0, res.err
    out = res.json()
    assert set(out["params"]) == {"E", "A", "alpha", "B", "beta"}
    assert out["n_scale"] == 1e5 and out["d_scale"] == 1e4
    assert "ci" not in out
    table = cli("laws", "fit", "--sql", COMPUTE_NEURAL, "--x-scale", "1e13", "--bootstrap", "0")
    assert table.code == 0 and "alpha" in table.out and "S = 0.48" in table.out


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT total_flops AS x, score FROM scores WHERE model_id = 'nope'", "no rows"),
        ("SELECT total_flops AS x FROM scores", "missing score"),
        ("SELECT total_flops AS x, score FROM scores WHERE is_random", "NaN"),
        ("SELECT 1e15 AS x, 1.2 AS score FROM range(10)", "score >= 1"),
        ("SELECT -1.0 AS x, 0.3 AS score FROM range(10)", "x <= 0"),
        ("SELECT * FROM no_such_table", "no_such_table"),
    ],
)
def test_fit_errors_are_one_line(cli, reference_catalog, sql, message):
    res = cli("laws", "fit", "--sql", sql, "--bootstrap", "0")
    assert res.code == 1
    first = res.err.strip().splitlines()[0]
    assert first.startswith("error:") and message in first
    assert "Traceback" not in res.err


def test_user_sql_cannot_write(cli, reference_catalog):
    res = cli("laws", "fit", "--sql", "DELETE FROM fits RETURNING 1.0 AS x, 0.5 AS score")
    assert res.code == 1
    assert "read-only" in res.err


def test_drop_missing_reports_rows(cli, reference_catalog):
    sql = (
        "SELECT any_value(total_flops) AS x, avg(score) AS score FROM scores "
        "WHERE dataset IN ('imagenet', 'ecoset') AND region = 'IT' GROUP BY model_id ORDER BY model_id"
    )
    res = cli(
        "laws",
        "fit",
        "--sql",
        sql,
        "--x-scale",
        "1e13",
        "--bootstrap",
        "0",
        "--drop-missing",
        "--json",
    )
    assert res.code == 0, res.err
    out = res.json()
    missing = cli(
        "sql", f"SELECT count(*) AS n FROM ({sql}) WHERE x IS NULL OR score IS NULL", "--json"
    ).json()[0]["n"]
    assert missing > 0 and out["n_dropped"] == missing
    assert f"dropped {missing} of" in res.err


def test_a_fit_made_while_the_catalog_is_locked_is_spooled_then_stored(
    cli, reference_catalog, catalog_lock
):
    from vvshub.catalog import open_catalog, pending_spool

    args = ("laws", "fit", "--sql", COMPUTE_NEURAL, "--x-scale", "1e13", "--bootstrap", "0")
    with catalog_lock(reference_catalog):
        res = cli(*args, "--json")
        assert res.code == 0, res.err
        assert res.json()["reused"] is False
        assert len(pending_spool(reference_catalog)) == 1
    # the holder closed: the spooled fit was applied on its way out, and is reused now
    assert pending_spool(reference_catalog) == []
    with open_catalog(reference_catalog) as cat:
        assert cat.fetchall("SELECT count(*) FROM fits")[0][0] == 1
    assert cli(*args, "--json").json()["reused"] is True


def test_predict(cli, reference_catalog):
    res = cli("predict", "--flops", "1e20", "--bootstrap", "40", "--json")
    assert res.code == 0, res.err
    out = res.json()
    assert out["flops"] == 1e20
    for key in ("neural", "behavior"):
        lo, hi = out[key]["ci"]
        assert lo <= out[key]["score"] <= hi
    assert 0.40 < out["neural"]["score"] < 0.46
    assert 1e6 < out["n_params_opt"] < 1e8 and 1e9 < out["n_samples_seen_opt"] < 1e11
    assert len(out["nearest"]) == 5 and out["nearest"][0]["model_id"].startswith("convnext_large")
    assert out["warnings"] == []
    far = cli("predict", "--flops", "1e23", "--bootstrap", "40", "--json").json()
    assert any("extrapolation" in w for w in far["warnings"])
    text = cli("predict", "--flops", "1e23", "--bootstrap", "40")
    assert "neural alignment" in text.out and "N*" in text.out and "D*" in text.out
    assert "extrapolation" in text.err
    assert cli("predict", "--flops", "-5").code != 0
    # past the fitted rows' largest compute (1.55e20), though a pretrained model outside
    # the fit has more compute in the catalog: warned, the ratio in scientific notation
    past = cli("predict", "--flops", "3e21", "--bootstrap", "40", "--json").json()
    assert any("1.9e+01× the largest compute the compute_neural law" in w for w in past["warnings"])
    low = cli("predict", "--flops", "1e10", "--bootstrap", "40", "--json").json()
    assert any("smallest compute" in w for w in low["warnings"])
    assert low["neural"]["score"] < 0 and low["neural"]["valid"] is False
    assert any("below 0: not an alignment score" in w for w in low["warnings"])
    text = cli("predict", "--flops", "1e10", "--bootstrap", "40")
    assert "below 0: not a score" in text.out and "-1.15" not in text.out.split("(")[0]


def test_paper_prints_the_headline_laws(cli, reference_catalog, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # one table row per law
    res = cli("laws", "paper", "--bootstrap", "0")
    assert res.code == 0, res.err
    out = " ".join(res.out.split())
    assert "S = 0.48 - 0.55·(C/1e13)^-0.16" in out
    assert "S = 1.00 - 1.40·(C/1e13)^-0.06" in out
    assert "C^0.270" in out and "C^0.703" in out
    js = cli("laws", "paper", "--bootstrap", "0", "--json").json()
    assert js["fits"]["compute_neural"]["n"] == 620 and js["fits"]["joint"]["n"] == 444
    assert round(js["allocation"]["n_exponent"], 3) == 0.270
    assert js["fits"]["compute_neural"]["reused"] is True


@pytest.mark.slow
def test_plots(cli, reference_catalog, tmp_path):
    png = tmp_path / "neural.png"
    res = cli(
        "laws",
        "plot",
        "--sql",
        COMPUTE_NEURAL,
        "--x-scale",
        "1e13",
        "--bootstrap",
        "20",
        "--x-label",
        "compute C (FLOPs)",
        "-o",
        str(png),
    )
    assert res.code == 0, res.err
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = tmp_path / "neural.svg"
    assert (
        cli(
            "laws",
            "plot",
            "--sql",
            COMPUTE_NEURAL,
            "--x-scale",
            "1e13",
            "--bootstrap",
            "0",
            "-o",
            str(svg),
        ).code
        == 0
    )
    assert "<svg" in svg.read_text()[:500]
    figs = tmp_path / "figs"
    res = cli("laws", "plot", "--paper", "--bootstrap", "10", "-o", str(figs))
    assert res.code == 0, res.err
    assert sorted(p.name for p in figs.iterdir()) == [
        "fig1b.png",
        "fig2c.png",
        "fig3a.png",
        "fig4a.png",
    ]
    assert cli("laws", "plot", "-o", str(png)).code != 0


def test_backtest(cli, reference_catalog):
    res = cli(
        "laws",
        "backtest",
        "--sql",
        COMPUTE_NEURAL,
        "--x-scale",
        "1e13",
        "--holdout-top",
        "4",
        "--bootstrap",
        "30",
        "--json",
    )
    assert res.code == 0, res.err
    out = res.json()
    # the 4 largest compute levels each hold the 3 seeds of one configuration
    assert out["n_train"] == 608 and out["holdout"] == 12 and len(out["rows"]) == 12
    assert out["holdout_levels"] == 4
    computes = [r["compute"] for r in out["rows"]]
    assert computes == sorted(computes, reverse=True)
    # the held-out rows are the selection's 12 largest-compute models, with their scores
    # (seeds tie on compute, so compare in label order)
    top = cli("sql", f"SELECT * FROM ({COMPUTE_NEURAL}) ORDER BY x DESC LIMIT 12", "--json")
    held = sorted((r["label"], r["compute"], r["score"]) for r in out["rows"])
    expected_rows = sorted((t["model_id"], t["x"], t["score"]) for t in top.json())
    assert [h[:2] for h in held] == [e[:2] for e in expected_rows]
    assert [h[2] for h in held] == pytest.approx([e[2] for e in expected_rows], rel=1e-12)
    # predictions are the fitted law's, written out here: S = 1 - (E + A (C/1e13)^-alpha)
    p = out["params"]
    expected = [1 - (p["E"] + p["A"] * (r["compute"] / 1e13) ** -p["alpha"]) for r in out["rows"]]
    assert [r["predicted"] for r in out["rows"]] == pytest.approx(expected, rel=1e-9)
    errors = [e - r["score"] for e, r in zip(expected, out["rows"], strict=True)]
    assert out["mae"] == pytest.approx(sum(abs(e) for e in errors) / 12)
    assert out["mae"] < 0.1
    covered = [r["ci"][0] <= r["score"] <= r["ci"][1] for r in out["rows"]]
    assert [r["covered"] for r in out["rows"]] == covered
    assert out["coverage"] == pytest.approx(sum(covered) / 12)
    bad = cli("laws", "backtest", "--sql", COMPUTE_NEURAL, "--holdout-top", "619")
    assert bad.code == 1 and "holdout-top" in bad.err
    text = cli(
        "laws",
        "backtest",
        "--sql",
        COMPUTE_NEURAL,
        "--x-scale",
        "1e13",
        "--holdout-top",
        "3",
        "--bootstrap",
        "10",
    )
    assert text.code == 0 and "mean absolute error" in text.out


def test_version(cli):
    from importlib.metadata import version

    res = cli("--version")
    assert res.code == 0, res.err
    assert res.out.strip() == version("vvshub")


def test_json_output_is_valid_with_infinities(capsys):
    import json
    import math

    from vvshub.cli._common import print_json, to_jsonable

    assert to_jsonable({"a": math.inf, "b": [-math.inf, math.nan, 1.5]}) == {
        "a": "inf",
        "b": ["-inf", None, 1.5],
    }
    import numpy as np

    print_json({"A": np.float64(np.inf), "x": np.array([1.0, np.nan])})
    out = capsys.readouterr().out
    assert "Infinity" not in out and "NaN" not in out
    assert json.loads(out) == {"A": "inf", "x": [1.0, None]}
