"""Many writers, one DuckDB file: no record lost or doubled, and readers keep reading."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import vvshub
from vvshub.catalog import (
    BenchmarkRecord,
    ModelRecord,
    ScoreRecord,
    drain_spool,
    open_catalog,
    pending_spool,
    record_scores,
    snapshot_path,
    spool_dir,
)
from vvshub.errors import CatalogLockedError

SRC = str(Path(vvshub.__file__).resolve().parents[1])
N_WRITERS = 8
PER_WRITER = 5

WRITER = """
import sys
from vvshub.catalog import BenchmarkRecord, ModelRecord, ScoreRecord, record_scores
w, n = int(sys.argv[1]), int(sys.argv[2])
bench = BenchmarkRecord(benchmark="test.IT", region="IT", source="test", metric="pls",
                        version="1", ceiling_method="split-half", normalisation="ratio_squared")
models = [ModelRecord(model_id=f"w{w}_m{i}", arch="resnet18") for i in range(n)]
scores = [ScoreRecord(model_id=f"w{w}_m{i}", benchmark="test.IT", region="IT",
                      score=(w * n + i) / 100, scorer_version="t") for i in range(n)]
result = record_scores(scores, benchmarks=[bench], models=models)
print("spooled" if result.spooled else "applied", flush=True)
"""


@pytest.fixture(autouse=True)
def _short_lock_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    """Writers in these tests give up on the lock after half a second, then spool."""
    monkeypatch.setenv("VVSHUB_LOCK_WAIT", "0.5")


def _env(**extra: str) -> dict[str, str]:
    path = os.pathsep.join([SRC, os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path, **extra}


def _seed(path: Path) -> None:
    """A catalog with one model and score, written once (so its read snapshot exists)."""
    bench = BenchmarkRecord(
        benchmark="test.IT",
        region="IT",
        source="test",
        metric="pls",
        version="1",
        ceiling_method="split-half",
        normalisation="ratio_squared",
    )
    record_scores(
        [ScoreRecord(model_id="seed", benchmark="test.IT", region="IT", score=0.5,
                     scorer_version="t")],
        benchmarks=[bench],
        models=[ModelRecord(model_id="seed", arch="resnet18")],
        catalog=path,
    )  # fmt: skip


@pytest.mark.slow
def test_eight_writers_and_a_reader_while_another_process_holds_the_lock(
    vvshub_home: Path, catalog_lock
) -> None:
    path = vvshub_home / "catalog.duckdb"
    _seed(path)
    assert snapshot_path(path).exists()
    with catalog_lock(path):
        writers = [
            subprocess.Popen(
                [sys.executable, "-c", WRITER, str(w), str(PER_WRITER)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=_env(VVSHUB_LOCK_WAIT="0.5"),
            )
            for w in range(N_WRITERS)
        ]
        reads = 0
        while any(p.poll() is None for p in writers) or reads < 3:
            with open_catalog(path) as cat:  # the live file is locked: the snapshot serves
                assert cat.snapshot_of == str(path)
                assert cat.fetchall("SELECT count(*) FROM scores")[0][0] == 1
            reads += 1
        outputs = [p.communicate(timeout=60) for p in writers]
        assert [p.returncode for p in writers] == [0] * N_WRITERS, outputs
        assert [out.strip() for out, _ in outputs] == ["spooled"] * N_WRITERS
        assert all("spooled to" in err for _, err in outputs)  # said, not silent
        assert len(pending_spool(path)) == N_WRITERS
        # a reader in another process (the CLI) works too, from the snapshot
        run = subprocess.run(
            [sys.executable, "-m", "vvshub.cli._app", "sql", "SELECT count(*) AS n FROM scores",
             "--format", "json"],
            capture_output=True, text=True, env=_env(), timeout=120,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr
        assert json.loads(run.stdout) == [{"n": 1}]
    # the holder closed, applying the spool on its way out
    assert pending_spool(path) == []
    with open_catalog(path) as cat:
        assert cat.snapshot_of is None
        rows = cat.fetchall("SELECT model_id, score FROM scores WHERE model_id <> 'seed'")
        applied = cat.fetchall("SELECT count(*), sum(n_records) FROM spool_applied")[0]
    assert len(rows) == N_WRITERS * PER_WRITER == len({m for m, _ in rows})
    assert sorted(round(s * 100) for _, s in rows) == list(range(N_WRITERS * PER_WRITER))
    assert applied == (N_WRITERS, N_WRITERS * (2 * PER_WRITER + 1))


def test_a_spooled_batch_is_never_applied_twice(vvshub_home: Path, catalog_lock) -> None:
    path = vvshub_home / "catalog.duckdb"
    _seed(path)
    score = ScoreRecord(
        model_id="seed", benchmark="test.IT", region="IT", score=0.75, scorer_version="t2"
    )
    with catalog_lock(path):
        result = record_scores([score], catalog=path)
        assert result.spooled is not None
        keep = Path(result.spooled).read_bytes()
    assert pending_spool(path) == []
    # a writer that died between commit and delete leaves the file behind: it must not re-apply
    Path(result.spooled).write_bytes(keep)
    with open_catalog(path, read_only=False) as cat:
        cat.execute("UPDATE score_records SET score = 0.1 WHERE scorer_version = 't2'")
    assert pending_spool(path) == []
    with open_catalog(path) as cat:
        assert cat.fetchall("SELECT score FROM score_records WHERE scorer_version = 't2'") == [
            (0.1,)
        ]
        assert cat.fetchall("SELECT count(*) FROM spool_applied")[0][0] == 1


def test_an_unreadable_spool_file_is_set_aside(vvshub_home: Path, caplog) -> None:
    path = vvshub_home / "catalog.duckdb"
    _seed(path)
    folder = spool_dir(path)
    assert folder == vvshub_home / "spool"
    folder.mkdir(exist_ok=True)
    (folder / "20260101T000000-1-bad.json").write_text('{"format": "vvshub-spool/1", "rec')
    bad_record = {
        "format": "vvshub-spool/1",
        "spool_id": "x",
        "records": [{"kind": "score", "model_id": "seed", "benchmark": "test.IT",
                     "region": "V3", "score": 0.2, "scorer_version": "t"}],
    }  # fmt: skip
    (folder / "20260101T000001-1-badrecord.json").write_text(json.dumps(bad_record))
    assert drain_spool(str(path)) == 0
    assert sorted(p.name for p in (folder / "failed").iterdir()) == [
        "20260101T000000-1-bad.json",
        "20260101T000001-1-badrecord.json",
    ]
    assert "unreadable spool file" in caplog.text
    with open_catalog(path) as cat:
        assert cat.fetchall("SELECT count(*) FROM score_records")[0][0] == 1


def test_a_writer_waits_for_a_short_lock_instead_of_spooling(
    vvshub_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VVSHUB_LOCK_WAIT", "10")
    path = vvshub_home / "catalog.duckdb"
    _seed(path)
    code = (
        "import time; from vvshub.catalog import open_catalog; "
        f"c = open_catalog({str(path)!r}, read_only=False); print('ready', flush=True); "
        "time.sleep(1.0); c.close()"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=_env()
    )
    assert holder.stdout.readline().strip() == "ready"
    started = time.monotonic()
    score = ScoreRecord(
        model_id="seed", benchmark="test.IT", region="IT", score=0.9, scorer_version="t3"
    )
    result = record_scores([score], catalog=path)
    holder.wait(timeout=30)
    assert result.spooled is None and result.applied == {"score_records": 1}
    assert time.monotonic() - started < 10
    assert not spool_dir(path).exists() or pending_spool(path) == []


def test_a_locked_catalog_without_a_snapshot_says_who_holds_it(
    vvshub_home: Path, catalog_lock
) -> None:
    path = vvshub_home / "catalog.duckdb"
    _seed(path)
    snapshot_path(path).unlink()
    with catalog_lock(path) as holder, pytest.raises(CatalogLockedError) as err:
        open_catalog(path)
    assert err.value.pid == holder.pid


def test_a_catalog_elsewhere_spools_beside_itself(tmp_path: Path, catalog_lock) -> None:
    path = tmp_path / "lab" / "zoo.duckdb"
    _seed(path)
    with catalog_lock(path):
        score = ScoreRecord(
            model_id="seed", benchmark="test.IT", region="IT", score=0.2, scorer_version="t4"
        )
        result = record_scores([score], catalog=path)
    assert Path(result.spooled).parent == tmp_path / "lab" / "zoo.duckdb.spool"
    shutil.rmtree(tmp_path / "lab")


def test_info_counts_the_spool_and_drain_applies_it(cli, vvshub_home: Path) -> None:
    from vvshub.catalog._spool import spool_batch

    path = vvshub_home / "catalog.duckdb"
    _seed(path)
    score = ScoreRecord(
        model_id="seed", benchmark="test.IT", region="IT", score=0.3, scorer_version="t5"
    )
    spool_batch(path, [score])
    info = cli("catalog", "info", "--json").json()
    assert (info["spool_pending"], info["schema_version"]) == (1, "2")
    assert cli("catalog", "drain", "--json").json() == {"applied": 1, "pending": 0}
    assert cli("catalog", "info", "--json").json()["rows"]["score_records"] == 2
