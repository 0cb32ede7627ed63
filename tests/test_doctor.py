"""``vvshub doctor``: every finding has a status, and every problem a fix."""

from __future__ import annotations

from pathlib import Path

from vvshub.doctor import run_checks, worst


def _by_name(checks):
    return {c.name: c for c in checks}


def test_a_fresh_home_is_told_how_to_start(vvshub_home: Path) -> None:
    checks = _by_name(run_checks())
    assert checks["catalog"].status == "warn"
    assert checks["catalog"].fix == "vvshub catalog import-reference"
    assert checks["home"].status == "warn" and str(vvshub_home) in checks["home"].detail
    for c in checks.values():
        assert c.status in ("ok", "warn", "fail")
        assert (c.status == "ok") or c.fix, c  # a problem always comes with its fix


def test_catalog_status_and_spool(reference_catalog: Path, cli) -> None:
    from vvshub.catalog import ModelRecord
    from vvshub.catalog._spool import spool_batch

    checks = _by_name(run_checks())
    assert checks["catalog"].status == "ok"
    assert "schema 2, 993 models" in checks["catalog"].detail
    assert checks["spool"].status == "ok"
    spool_batch(reference_catalog, [ModelRecord(model_id="m", arch="resnet18")])
    out = cli("doctor", "--json").json()
    spool = next(c for c in out["checks"] if c["name"] == "spool")
    assert spool == {
        "name": "spool",
        "status": "warn",
        "detail": "1 record batch(es) waiting",
        "fix": "vvshub catalog drain",
    }
    assert out["status"] in ("warn", "fail")


def test_a_broken_catalog_fails_with_a_fix(vvshub_home: Path, cli) -> None:
    vvshub_home.mkdir(parents=True)
    (vvshub_home / "catalog.duckdb").write_bytes(b"not a database")
    checks = _by_name(run_checks())
    assert checks["catalog"].status == "fail" and checks["catalog"].fix
    assert worst(list(checks.values())) == "fail"
    res = cli("doctor")
    assert res.code == 1 and "catalog" in res.out
