"""The catalog's commands: sql, models, export, and their errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from vvshub.catalog import open_catalog
from vvshub.errors import CatalogLockedError, ModelNotFoundError

VVSHUB = [sys.executable, "-m", "vvshub.cli._app"]


def test_import_then_region_counts(cli, reference_dir: Path) -> None:
    result = cli("catalog", "import-reference", str(reference_dir))
    assert result.code == 0, result.err
    assert "993 models" in result.out
    again = cli("catalog", "import-reference", str(reference_dir), "--json")
    assert again.json()["changed"] is False
    result = cli(
        "sql", "SELECT region, count(*) AS n FROM scores GROUP BY 1 ORDER BY 1", "--format", "json"
    )
    assert result.json() == [
        {"region": r, "n": 993} for r in ["Behavioral", "IT", "V1", "V2", "V4"]
    ]


def test_sql_formats(cli, reference_catalog: Path, tmp_path: Path) -> None:
    query = "SELECT model_id, score FROM scores WHERE region = 'IT' ORDER BY model_id LIMIT 3"
    as_csv = cli("sql", query, "--format", "csv")
    assert as_csv.out.splitlines()[0] == "model_id,score" and len(as_csv.out.splitlines()) == 4
    table = cli("sql", query)
    assert "model_id" in table.out and table.code == 0
    out = tmp_path / "it.parquet"
    assert cli("sql", query, "--format", "parquet", "-o", str(out)).code == 0
    assert list(pd.read_parquet(out).columns) == ["model_id", "score"]
    assert cli("sql", query, "--format", "xml").code != 0


def test_sql_is_read_only(cli, reference_catalog: Path) -> None:
    result = cli("sql", "DROP VIEW scores")
    assert result.code == 1
    assert "read-only" in result.err and "Traceback" not in result.err
    assert len(result.err.strip().splitlines()) == 1
    with open_catalog(reference_catalog) as cat:
        assert "scores" in cat.tables()


@pytest.mark.parametrize(
    ("query", "needle"),
    [
        ("SELEC 1", "syntax error"),
        ("SELECT nope FROM scores", "nope"),
        ("SELECT * FROM nothing", "nothing"),
    ],
)
def test_bad_sql_is_one_line(cli, reference_catalog: Path, query: str, needle: str) -> None:
    result = cli("sql", query)
    assert result.code == 1
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and lines[0].startswith("error:")


def test_missing_catalog_says_how_to_make_one(cli) -> None:
    result = cli("sql", "SELECT 1")
    assert result.code == 1 and "import-reference" in result.err


def test_second_writer_gets_a_lock_error(reference_catalog: Path, reference_dir: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from vvshub.catalog import open_catalog; "
            f"c = open_catalog({str(reference_catalog)!r}, read_only=False); print('ready', flush=True); "
            "sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(CatalogLockedError) as err:
            open_catalog(reference_catalog, read_only=False)
        assert f"catalog is locked by another vvshub process (pid {holder.pid})" in str(err.value)
        assert err.value.pid == holder.pid
        env = {**os.environ, "VVSHUB_HOME": str(reference_catalog.parent)}
        run = subprocess.run(
            [*VVSHUB, "catalog", "import-reference", str(reference_dir)],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert run.returncode == 1
        assert f"catalog is locked by another vvshub process (pid {holder.pid})" in run.stderr
        assert "Traceback" not in run.stderr
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)


def test_models_ls_filters(cli, reference_catalog: Path) -> None:
    rows = cli("models", "ls", "--arch", "resnet18", "--dataset", "ecoset", "--json").json()
    assert rows and all(r["arch"] == "resnet18" and r["dataset"] == "ecoset" for r in rows)
    assert all(0 < r["neural"] < 1 for r in rows)
    big = cli(
        "models", "ls", "--family", "ConvNeXt", "--where", "m.n_params > 1e8", "--json"
    ).json()
    assert big and all(r["n_params"] > 1e8 for r in big)
    bad = cli("models", "ls", "--where", "m.nope > 1")
    assert bad.code == 1 and "nope" in bad.err


def test_models_show_any_spelling(cli, reference_catalog: Path) -> None:
    by_study = cli(
        "models", "show", "resnetflexfilters-f-1-16-20-11_imagenet_full_seed-0", "--json"
    ).json()
    assert by_study["aliases"] == [
        "resnetflexfilters-f-1-16-20-11_imagenet_full_seed-0",
        "resnet18_w0.402_dfull",
    ]
    by_short = cli("models", "show", "resnet18_w0.402_dfull", "--json").json()
    assert by_short == by_study
    assert by_study["model"]["n_params"] == 1_995_685  # zoo.count of the architecture
    assert {s["region"] for s in by_study["scores"]} == {"V1", "V2", "V4", "IT", "Behavioral"}
    shown = cli("models", "show", "resnet18_dfull")
    assert "resnet18_imagenet_full" in shown.out and "checkpoints" in shown.out


def test_models_show_unknown_suggests(cli, reference_catalog: Path) -> None:
    from vvshub.catalog import model_detail

    with open_catalog(reference_catalog) as cat, pytest.raises(ModelNotFoundError) as err:
        model_detail(cat, "resnet18_imagenet_ful")
    assert "resnet18_imagenet_full" in err.value.suggestions
    result = cli("models", "show", "resnet18_imagenet_ful")
    assert result.code == 1 and "closest: resnet18_imagenet_full" in result.err


def test_export_reads_back_everywhere(cli, reference_catalog: Path, tmp_path: Path) -> None:
    dest = tmp_path / "export"
    result = cli("catalog", "export", str(dest), "--json")
    files = {Path(p).name for p in result.json()}
    assert {
        "models.parquet",
        "scores.parquet",
        "checkpoints.parquet",
        "leaderboard.parquet",
    } <= files
    assert len(pd.read_parquet(dest / "scores.parquet")) == 4965
    again = cli(
        "sql", "SELECT count(*) AS n FROM scores", "--catalog", str(dest), "--format", "json"
    )
    assert again.json() == [{"n": 4965}]
    refused = cli("sql", "DROP VIEW scores", "--catalog", str(dest))
    assert refused.code == 1 and "read-only" in refused.err
    shown = cli("models", "show", "resnet18_dfull", "--catalog", str(dest), "--json")
    assert shown.json()["model"]["n_params"] == 11_689_512
    assert not list(dest.glob(".export-*"))  # no half-written staging left behind


def test_export_is_readable_by_hf_datasets_format(reference_catalog: Path, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    from vvshub.catalog import export_catalog

    files = export_catalog(tmp_path / "out")
    with open_catalog(reference_catalog) as cat:
        for f in files:
            table = pq.read_table(f)  # datasets' Parquet builder reads through pyarrow
            name = f.stem
            columns = [
                r[0]
                for r in cat.fetchall(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
                    "ORDER BY ordinal_position",
                    [name],
                )
            ]
            assert table.column_names == columns, name
            assert table.num_rows == cat.fetchall(f'SELECT count(*) FROM "{name}"')[0][0], name
    assert {f.stem for f in files} >= {"models", "scores", "score_records", "benchmarks"}


def test_catalog_info(cli, reference_catalog: Path) -> None:
    info = cli("catalog", "info", "--json").json()
    assert info["rows"]["models"] == 993 and info["schema_version"] == "2"
    assert len(info["imports"]) == 5


def test_help_is_fast_and_imports_nothing_heavy() -> None:
    code = (
        "import sys; from vvshub.cli import app; "
        "heavy = [m for m in ('torch', 'timm', 'duckdb', 'numpy', 'pandas', 'scipy') if m in sys.modules]; "
        "print(json.dumps(heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", "import json; " + code], capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout) == []
