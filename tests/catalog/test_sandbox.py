"""User SQL reads the catalog and nothing else: every escape from the issue is refused."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from vvshub.catalog import export_catalog, open_catalog
from vvshub.errors import QueryError


@pytest.fixture(scope="session")
def parquet_catalog(
    _reference_catalog_master: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The reference catalog exported as Parquet (a folder catalog), shared: tests must not change it."""
    dest = tmp_path_factory.mktemp("sandbox") / "export"
    export_catalog(dest, catalog=_reference_catalog_master)
    return dest


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("kind", ["duckdb", "parquet"])
def test_copy_cannot_overwrite_the_catalogs_own_files(
    kind: str, reference_catalog: Path, parquet_catalog: Path, cli
) -> None:
    location = reference_catalog if kind == "duckdb" else parquet_catalog
    target = parquet_catalog / "scores.parquet"
    before = _digest(target)
    for options in ("", " (FORMAT parquet, USE_TMP_FILE false)", " (FORMAT parquet)"):
        result = cli(
            "sql", f"COPY (SELECT 1 AS x) TO '{target}'{options}", "--catalog", str(location)
        )
        assert result.code == 1, result.out
        assert "disabled by configuration" in result.err
        assert len(result.err.strip().splitlines()) == 1
    assert _digest(target) == before
    count = cli("sql", "SELECT count(*) AS n FROM scores", "--catalog", str(location), "-f", "json")
    assert count.json() == [{"n": 4965}]


@pytest.mark.parametrize("kind", ["duckdb", "parquet"])
@pytest.mark.parametrize(
    "escape",
    [
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_text('/etc/passwd')",
        "SELECT * FROM read_blob('/etc/hostname')",
        "SELECT * FROM glob('/etc/*')",
        "SELECT * FROM read_parquet('{export}/models.parquet')",
        "COPY (SELECT 1 AS x) TO '{tmp}/written.csv'",
        "EXPORT DATABASE '{tmp}/dump'",
        "ATTACH '{tmp}/other.duckdb' AS other",
        "INSTALL httpfs",
        "LOAD httpfs",
        "SELECT * FROM read_csv('http://127.0.0.1:9/x.csv')",
        "SET enable_external_access = true",
        "SET lock_configuration = false",
        "RESET enable_external_access",
    ],
)
def test_sql_cannot_touch_the_machine(
    kind: str,
    escape: str,
    _reference_catalog_master: Path,
    parquet_catalog: Path,
    tmp_path: Path,
) -> None:
    # the shared session catalog: opened read-only here, and nothing may change it
    location = _reference_catalog_master if kind == "duckdb" else parquet_catalog
    sql = escape.format(tmp=tmp_path, export=parquet_catalog)
    with open_catalog(location, read_only=True) as cat:
        with pytest.raises(QueryError):
            cat.query(sql)
        # and the catalog still answers
        assert cat.fetchall("SELECT count(*) FROM models")[0][0] == 993
    assert not (tmp_path / "written.csv").exists()
    assert not (tmp_path / "dump").exists()
    assert not (tmp_path / "other.duckdb").exists()


def test_install_writes_nothing_under_home(
    reference_catalog: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess
    import sys

    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "VVSHUB_HOME": str(reference_catalog.parent)}
    run = subprocess.run(
        [sys.executable, "-m", "vvshub.cli._app", "sql", "INSTALL json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert run.returncode == 1 and "disabled by configuration" in run.stderr
    assert not (home / ".duckdb").exists()


def test_laws_and_models_queries_are_sandboxed(cli, reference_catalog: Path) -> None:
    fit = cli(
        "laws",
        "fit",
        "--sql",
        "SELECT length(content) AS x, 0.5 AS score FROM read_text('/etc/passwd')",
        "--form",
        "power",
        "--bootstrap",
        "0",
    )
    assert fit.code == 1 and "disabled by configuration" in fit.err
    listed = cli("models", "ls", "--where", "m.model_id IN (SELECT * FROM read_csv('/etc/passwd'))")
    assert listed.code == 1 and "disabled by configuration" in listed.err


def test_sandbox_still_allows_ordinary_reads(
    reference_catalog: Path, parquet_catalog: Path
) -> None:
    for location in (reference_catalog, parquet_catalog):
        with open_catalog(location, read_only=True) as cat:
            frame = cat.query(
                "WITH it AS (SELECT model_id, score FROM scores WHERE region = 'IT') "
                "SELECT count(*) AS n, avg(score) AS mean FROM it JOIN models USING (model_id)"
            )
            assert int(frame["n"][0]) == 993
            assert 0 < float(frame["mean"][0]) < 1


def test_writers_are_not_sandboxed_out_of_their_own_catalog(reference_catalog: Path) -> None:
    with open_catalog(reference_catalog, read_only=False) as cat, cat.transaction():
        cat.execute("UPDATE models SET acc = acc WHERE model_id = 'resnet18_imagenet_full'")


def test_read_snapshot_of_a_locked_catalog_is_sandboxed(
    reference_catalog: Path, tmp_path: Path
) -> None:
    import subprocess
    import sys

    from vvshub.catalog._connection import snapshot_path

    with open_catalog(reference_catalog, read_only=False) as cat, cat.transaction():
        cat.execute("UPDATE models SET acc = acc WHERE model_id = 'resnet18_imagenet_full'")
    assert snapshot_path(reference_catalog).exists()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from vvshub.catalog import open_catalog; "
            f"c = open_catalog({str(reference_catalog)!r}, read_only=False); print('ready', flush=True); "
            "sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        with open_catalog(reference_catalog, read_only=True) as cat:
            assert cat.location == str(snapshot_path(reference_catalog))
            assert cat.fetchall("SELECT count(*) FROM models")[0][0] == 993
            with pytest.raises(QueryError, match="disabled by configuration"):
                cat.query(f"COPY (SELECT 1 AS x) TO '{tmp_path}/out.csv'")
        assert not (tmp_path / "out.csv").exists()
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
