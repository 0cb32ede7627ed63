"""URL catalogs: fetched over HTTP (or the Hub) into a content-addressed cache, opened locally."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from vvshub.catalog import export_catalog, open_catalog
from vvshub.catalog._remote import cache_root
from vvshub.errors import CatalogError, CatalogUnreachableError

VVSHUB = [sys.executable, "-m", "vvshub.cli._app"]


@pytest.fixture(scope="session")
def _export_master(
    _reference_catalog_master: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    dest = tmp_path_factory.mktemp("remote") / "export"
    export_catalog(dest, catalog=_reference_catalog_master)
    return dest


@pytest.fixture
def export_dir(_export_master: Path, tmp_path: Path) -> Path:
    """A served copy of the reference catalog's Parquet export (tests may change it)."""
    site = tmp_path / "site"
    shutil.copytree(_export_master, site / "export")
    return site


def _count(location: str) -> int:
    with open_catalog(location) as cat:
        return cat.fetchall("SELECT count(*) FROM scores")[0][0]


def test_url_catalog_is_fetched_once_and_reused(serve, export_dir: Path) -> None:
    server = serve(export_dir)
    url = f"{server.url}/export/"
    assert _count(url) == 4965
    first = server.downloads()
    assert "/export/manifest.json" in first and "/export/scores.parquet" in first
    blobs = sorted(p.name for p in (cache_root() / "blobs").iterdir())
    assert len(blobs) == len(first)  # content-addressed: one blob per file fetched
    server.requests.clear()
    with open_catalog(url) as cat:
        assert cat.location == url.rstrip("/")
        assert (
            cat.fetchall(
                "SELECT n_params FROM models WHERE model_id = ?", ["resnet18_imagenet_full"]
            )[0][0]
            == 11_689_512
        )
    # unchanged: only the manifest is asked for, conditionally, and nothing is downloaded again
    assert server.downloads() == []
    assert [(m, p, s) for m, p, s in server.requests] == [("GET", "/export/manifest.json", 304)]


def test_changed_file_is_fetched_again(serve, export_dir: Path, reference_catalog: Path) -> None:
    server = serve(export_dir)
    url = f"{server.url}/export"
    assert _count(url) == 4965
    # republish with one model fewer: only the files whose bytes changed come again
    with open_catalog(reference_catalog, read_only=False) as cat, cat.transaction():
        cat.execute("DELETE FROM score_records WHERE model_id = 'resnet18_imagenet_full'")
    export_catalog(export_dir / "export", catalog=reference_catalog)
    server.requests.clear()
    assert _count(url) == 4960
    fetched = server.downloads()
    assert "/export/scores.parquet" in fetched and "/export/score_records.parquet" in fetched
    assert (
        "/export/checkpoints.parquet" not in fetched
        and "/export/leaderboard.parquet" not in fetched
    )


def test_without_manifest_or_etag_the_hash_dedupes(serve, export_dir: Path) -> None:
    (export_dir / "export" / "manifest.json").unlink()
    server = serve(export_dir)
    server.etags = False
    url = f"{server.url}/export"
    assert _count(url) == 4965
    n_blobs = len(list((cache_root() / "blobs").iterdir()))
    assert _count(url) == 4965
    assert len(list((cache_root() / "blobs").iterdir())) == n_blobs


def test_etag_without_manifest_answers_304(serve, export_dir: Path) -> None:
    (export_dir / "export" / "manifest.json").unlink()
    server = serve(export_dir)
    url = f"{server.url}/export"
    assert _count(url) == 4965
    server.requests.clear()
    assert _count(url) == 4965
    assert server.downloads() == []
    assert ("GET", "/export/scores.parquet", 304) in server.requests


def test_closed_port_says_connection_refused(closed_port: int, cli) -> None:
    url = f"http://127.0.0.1:{closed_port}/export/"
    with pytest.raises(CatalogUnreachableError, match="connection refused") as err:
        open_catalog(url)
    assert err.value.reason == "connection refused"
    result = cli("sql", "SELECT 1", "--catalog", url)
    assert result.code == 1
    assert "connection refused" in result.err and "httpfs" not in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_offline_uses_the_cached_copy_with_a_warning(
    serve, export_dir: Path, monkeypatch: pytest.MonkeyPatch, cli
) -> None:
    server = serve(export_dir)
    url = f"{server.url}/export"
    assert _count(url) == 4965
    server.__exit__()  # the server goes away
    with pytest.warns(UserWarning, match=r"connection refused.*using the copy .* fetched at"):
        assert _count(url) == 4965
    shown = cli("sql", "SELECT count(*) AS n FROM scores", "--catalog", url, "-f", "json")
    assert shown.code == 0 and shown.json() == [{"n": 4965}]
    assert shown.err.startswith("warning: cannot reach ") and len(shown.err.splitlines()) == 1
    monkeypatch.setenv("VVSHUB_OFFLINE", "1")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _count(url) == 4965
    with pytest.raises(CatalogUnreachableError, match="VVSHUB_OFFLINE"):
        open_catalog(url.replace("/export", "/other"))


def test_remote_catalog_sql_is_sandboxed(serve, export_dir: Path) -> None:
    from vvshub.errors import QueryError

    server = serve(export_dir)
    with open_catalog(f"{server.url}/export") as cat, pytest.raises(QueryError):
        cat.query("SELECT * FROM read_text('/etc/passwd')")


def test_not_an_export_and_bad_scheme(serve, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    server = serve(tmp_path)
    with pytest.raises(CatalogError, match="not a vvshub Parquet export"):
        open_catalog(f"{server.url}/empty")
    with pytest.raises(CatalogError, match="unsupported catalog URL scheme 's3'"):
        open_catalog("s3://bucket/export")


def test_corrupt_download_is_refused(serve, export_dir: Path) -> None:
    (export_dir / "export" / "models.parquet").write_bytes(b"not what the manifest says")
    server = serve(export_dir)
    with pytest.raises(CatalogError, match="does not match its manifest"):
        open_catalog(f"{server.url}/export")


def test_remote_duckdb_file_is_fetched_into_the_cache(
    serve, reference_catalog: Path, tmp_path: Path
) -> None:
    site = tmp_path / "dbsite"
    site.mkdir()
    shutil.copyfile(reference_catalog, site / "catalog.duckdb")
    server = serve(site)
    with open_catalog(f"{server.url}/catalog.duckdb") as cat:
        assert cat.fetchall("SELECT count(*) FROM models")[0][0] == 993
        assert cat.location == f"{server.url}/catalog.duckdb"


@pytest.mark.slow
def test_hf_dataset_catalog(serve, export_dir: Path, tmp_path: Path) -> None:
    """``hf://datasets/ORG/NAME`` through huggingface_hub, against a loopback stand-in of the Hub."""
    (export_dir / "export" / "fits.parquet").unlink()  # an optional table the repo lacks
    server = serve(export_dir / "export")
    env = {
        **os.environ,
        "HF_ENDPOINT": server.url,
        "HF_HUB_DISABLE_XET": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "VVSHUB_HOME": str(tmp_path / "home"),
    }
    query = ["sql", "SELECT count(*) AS n FROM scores", "-f", "json"]
    run = subprocess.run(
        [*VVSHUB, *query, "--catalog", "hf://datasets/vvshub/catalog"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert '"n": 4965' in run.stdout
    assert any(
        p.startswith("/datasets/vvshub/catalog/resolve/main/scores.parquet")
        for p in server.downloads()
    )
    assert (tmp_path / "home" / "cache" / "catalogs" / "huggingface").is_dir()
    # the Hub goes away: the cached copy answers, and says so unless VVSHUB_OFFLINE asked for it
    server.__exit__()
    script = (
        "import json, warnings; from vvshub.catalog import open_catalog\n"
        "with warnings.catch_warnings(record=True) as seen:\n"
        "    warnings.simplefilter('always')\n"
        "    try:\n"
        "        with open_catalog('hf://datasets/vvshub/{name}') as cat:\n"
        "            n = cat.fetchall('SELECT count(*) FROM scores')[0][0]\n"
        "            assert 'fits' not in cat.tables() and 'models' in cat.tables()\n"
        "    except Exception as exc:\n"
        "        n = f'{{type(exc).__name__}}: {{exc}}'\n"
        "print(json.dumps({{'n': n, 'warnings': [str(w.message) for w in seen]}}))\n"
    )

    def offline_open(name: str, **extra: str) -> dict:
        run = subprocess.run(
            [sys.executable, "-c", script.format(name=name)],
            capture_output=True,
            text=True,
            env={**env, **extra},
            timeout=120,
        )
        assert run.returncode == 0, run.stderr
        return json.loads(run.stdout.strip().splitlines()[-1])

    down = offline_open("catalog")
    assert down["n"] == 4965
    assert any("cannot reach the Hub" in w and "connection refused" in w for w in down["warnings"])
    quiet = offline_open("catalog", VVSHUB_OFFLINE="1")
    assert quiet == {"n": 4965, "warnings": []}
    missing = offline_open("other")
    assert (
        missing["n"].startswith("CatalogUnreachableError") and "connection refused" in missing["n"]
    )
    assert not any("using the cached copy" in w for w in missing["warnings"])
