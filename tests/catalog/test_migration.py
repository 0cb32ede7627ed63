"""Schema version 2: a real version-1 catalog migrates in place, a newer one is refused."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import duckdb
import pytest

from vvshub.catalog import SCHEMA_VERSION, ModelRecord, _schema, add_models, open_catalog
from vvshub.errors import SchemaVersionError

# The schema of vvshub 0.1 (catalog schema version 1), frozen here as it shipped.
V1_DDL = [
    """
    CREATE TABLE IF NOT EXISTS meta (
        key   VARCHAR PRIMARY KEY,
        value VARCHAR NOT NULL
    )""",
    """
    CREATE TABLE IF NOT EXISTS imports (
        import_id   VARCHAR NOT NULL,
        source      VARCHAR NOT NULL,
        file        VARCHAR NOT NULL,
        sha256      VARCHAR NOT NULL,
        n_rows      BIGINT NOT NULL,
        imported_at TIMESTAMP NOT NULL,
        PRIMARY KEY (import_id, file)
    )""",
    """
    CREATE TABLE IF NOT EXISTS models (
        model_id          VARCHAR PRIMARY KEY,
        short_id          VARCHAR,
        arch              VARCHAR NOT NULL,
        arch_family       VARCHAR,
        dataset           VARCHAR,
        samples_per_class BIGINT NOT NULL,
        n_samples         BIGINT,
        n_epochs          BIGINT,
        n_samples_seen    BIGINT,
        n_params          BIGINT,
        macs              DOUBLE,
        flops             DOUBLE,
        total_flops       DOUBLE,
        count_convention  VARCHAR,
        seed              INTEGER NOT NULL,
        acc               DOUBLE,
        is_pretrained     BOOLEAN NOT NULL,
        is_random         BOOLEAN NOT NULL,
        is_ssl            BOOLEAN NOT NULL,
        is_adv            BOOLEAN NOT NULL,
        is_ablation       BOOLEAN NOT NULL,
        is_open_clip      BOOLEAN NOT NULL,
        ssl_method        VARCHAR,
        adv_method        VARCHAR,
        checkpoint_url    VARCHAR,
        source            VARCHAR NOT NULL,
        added_at          TIMESTAMP NOT NULL
    )""",
    """
    CREATE TABLE IF NOT EXISTS checkpoints (
        model_id        VARCHAR NOT NULL,
        epoch           INTEGER NOT NULL,
        path            VARCHAR NOT NULL,
        url             VARCHAR NOT NULL,
        arch            VARCHAR,
        arch_family     VARCHAR,
        is_benchmarked  BOOLEAN NOT NULL,
        source          VARCHAR NOT NULL,
        PRIMARY KEY (model_id, epoch)
    )""",
    """
    CREATE TABLE IF NOT EXISTS benchmarks (
        benchmark       VARCHAR PRIMARY KEY,
        region          VARCHAR NOT NULL,
        source          VARCHAR NOT NULL,
        metric          VARCHAR NOT NULL,
        version         VARCHAR NOT NULL,
        ceiling_method  VARCHAR NOT NULL,
        normalisation   VARCHAR NOT NULL
    )""",
    """
    CREATE TABLE IF NOT EXISTS score_records (
        model_id        VARCHAR NOT NULL,
        benchmark       VARCHAR NOT NULL,
        score           DOUBLE,
        raw_score       DOUBLE,
        ceiling         DOUBLE,
        layer           VARCHAR,
        scorer_version  VARCHAR NOT NULL,
        source          VARCHAR NOT NULL,
        recorded_at     TIMESTAMP NOT NULL,
        PRIMARY KEY (model_id, benchmark, source, scorer_version)
    )""",
    """
    CREATE TABLE IF NOT EXISTS epoch_scores (
        model_id        VARCHAR NOT NULL,
        benchmark       VARCHAR NOT NULL,
        region          VARCHAR NOT NULL,
        epoch           INTEGER NOT NULL,
        n_samples_seen  BIGINT,
        total_flops     DOUBLE,
        score           DOUBLE NOT NULL,
        acc             DOUBLE,
        checkpoint_url  VARCHAR,
        source          VARCHAR NOT NULL,
        PRIMARY KEY (model_id, benchmark, epoch)
    )""",
    """
    CREATE TABLE IF NOT EXISTS commitments (
        arch_key        VARCHAR NOT NULL,
        training        VARCHAR NOT NULL,
        seed            INTEGER NOT NULL,
        region          VARCHAR NOT NULL,
        layer           VARCHAR NOT NULL,
        source          VARCHAR NOT NULL,
        PRIMARY KEY (arch_key, training, seed, region)
    )""",
    # The Brain-Score leaderboard rows are kept as published (wide, 155 columns);
    # the importer creates the table from the file's own header.
    """
    CREATE TABLE IF NOT EXISTS fits (
        fit_id           VARCHAR PRIMARY KEY,
        query            VARCHAR NOT NULL,
        data_hash        VARCHAR NOT NULL,
        form             VARCHAR NOT NULL,
        options          JSON,
        params           JSON NOT NULL,
        objective        DOUBLE,
        n_rows           BIGINT NOT NULL,
        n_bootstrap      INTEGER NOT NULL,
        bootstrap_params JSON,
        created_at       TIMESTAMP NOT NULL,
        vvshub_version   VARCHAR
    )""",
]

V1_SCORES_VIEW = """
CREATE OR REPLACE VIEW scores AS
WITH latest AS (
    SELECT *
    FROM score_records
    QUALIFY row_number() OVER (PARTITION BY model_id, benchmark ORDER BY recorded_at DESC, source) = 1
)
SELECT
    m.model_id, m.short_id, m.arch, m.arch_family, m.dataset, m.samples_per_class,
    m.n_samples, m.n_epochs, m.n_samples_seen, m.n_params, m.macs, m.flops, m.total_flops,
    m.seed, m.acc,
    b.region, r.benchmark, r.score, r.raw_score, r.ceiling, r.layer,
    m.is_pretrained, m.is_random, m.is_ssl, m.is_adv, m.is_ablation, m.is_open_clip,
    m.ssl_method, m.adv_method, r.source, r.scorer_version, b.version AS benchmark_version
FROM latest r
JOIN models m USING (model_id)
JOIN benchmarks b USING (benchmark)
"""

V1_ROWS = [
    "INSERT INTO meta VALUES ('schema_version', '1')",
    "INSERT INTO models VALUES ('resnet18_imagenet_full', 'resnet18_dfull', 'resnet18', 'ResNet', "
    "'imagenet', 0, 1281167, 100, 128116700, 11689512, 1826516992, 3653033984, 1.404e18, "
    "'gokce2025-fvcore-train', 0, 0.69, false, false, false, false, false, false, NULL, NULL, "
    "'https://x/resnet18.pt', 'reference', TIMESTAMP '2026-01-01 00:00:00')",
    "INSERT INTO models VALUES ('alexnet_imagenet_10_seed-0', NULL, 'alexnet', 'AlexNet', "
    "'imagenet', 10, 10000, 100, 1000000, 61100840, 714197696, 1428395392, 4.28e15, NULL, 0, "
    "0.05, false, false, false, false, false, false, NULL, NULL, NULL, 'reference', "
    "TIMESTAMP '2026-01-01 00:00:00')",
    "INSERT INTO checkpoints VALUES ('resnet18_imagenet_full', 100, 'r18/ep100.pt', "
    "'https://x/r18/ep100.pt', 'resnet18', 'ResNet', true, 'reference')",
    "INSERT INTO benchmarks VALUES ('MajajHong2015public.IT-pls', 'IT', 'MajajHong2015', 'pls', "
    "'public', 'internal_consistency', '(r/c)^2')",
    "INSERT INTO benchmarks VALUES ('Rajalingham2018public-i2n', 'Behavioral', 'Rajalingham2018', "
    "'i2n', 'public', 'split_half', 'r/sqrt(c)')",
    "INSERT INTO score_records VALUES ('resnet18_imagenet_full', 'MajajHong2015public.IT-pls', "
    "0.51, NULL, NULL, 'layer4.0.relu', 'gokce-schrimpf-2025', 'reference', "
    "TIMESTAMP '2026-01-01 00:00:00')",
    "INSERT INTO score_records VALUES ('resnet18_imagenet_full', 'Rajalingham2018public-i2n', "
    "NULL, NULL, NULL, NULL, 'gokce-schrimpf-2025', 'reference', TIMESTAMP '2026-01-01 00:00:00')",
    "INSERT INTO score_records VALUES ('alexnet_imagenet_10_seed-0', 'MajajHong2015public.IT-pls', "
    "0.33, NULL, NULL, NULL, 'gokce-schrimpf-2025', 'reference', TIMESTAMP '2026-01-01 00:00:00')",
    "INSERT INTO epoch_scores VALUES ('resnet18_imagenet_full', 'MajajHong2015public.IT-pls', "
    "'IT', 5, 6405835, 7.0e16, 0.4, 0.3, 'https://x/r18/ep5.pt', 'reference')",
    "INSERT INTO commitments VALUES ('resnet18', 'imagenet', 0, 'IT', 'layer4.0.relu', 'reference')",
    """INSERT INTO fits VALUES ('f1', 'SELECT 1', 'h', 'power', '{}', '{"E": 0.5}', 0.1, 3, 0, """
    "NULL, TIMESTAMP '2026-01-01 00:00:00', '0.1.0')",
    "INSERT INTO imports VALUES ('i1', 'ref', 'benchmark_scores.csv', 'abc', 3, "
    "TIMESTAMP '2026-01-01 00:00:00')",
]
TABLES_V1 = (
    "meta", "imports", "models", "checkpoints", "benchmarks", "score_records", "epoch_scores",
    "commitments", "leaderboard", "fits",
)  # fmt: skip


def _make_v1(path: Path) -> None:
    con = duckdb.connect(str(path))
    for ddl in V1_DDL:
        con.execute(ddl)
    con.execute("CREATE TABLE leaderboard (model_id VARCHAR, average_vision DOUBLE)")
    con.execute("INSERT INTO leaderboard VALUES ('alexnet', 0.3)")
    con.execute(V1_SCORES_VIEW)
    for row in V1_ROWS:
        con.execute(row)
    con.close()


def _dump(path: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {
            t: sorted(con.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in TABLES_V1
        }
    finally:
        con.close()


def test_version_1_migrates_in_place_without_losing_a_row(tmp_path: Path, caplog) -> None:
    path = tmp_path / "catalog.duckdb"
    _make_v1(path)
    con = duckdb.connect(str(path), read_only=True)
    v1_columns = {t: [r[0] for r in con.execute(f"DESCRIBE {t}").fetchall()] for t in TABLES_V1}
    before = {
        t: sorted(con.execute(f"SELECT * FROM {t}").fetchall(), key=repr)
        for t in TABLES_V1
        if t != "meta"
    }
    v1_scores = con.execute("SELECT * FROM scores ORDER BY model_id, benchmark").df()
    con.close()

    with caplog.at_level(logging.WARNING, logger="vvshub.catalog"):
        open_catalog(path, read_only=False).close()
    assert [r.getMessage() for r in caplog.records if "migrated" in r.getMessage()] == [
        f"migrated catalog {path} from schema version 1 to {SCHEMA_VERSION}"
    ]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="vvshub.catalog"):
        open_catalog(path, read_only=False).close()  # says so once: nothing to migrate now
    assert not [r for r in caplog.records if "migrated" in r.getMessage()]

    with open_catalog(path) as cat:
        assert cat.fetchall("SELECT value FROM meta WHERE key = 'schema_version'") == [("2",)]
        for t, rows in before.items():
            cols = ", ".join(v1_columns[t])
            after = sorted(cat.fetchall(f"SELECT {cols} FROM {t}"), key=repr)
            if t == "benchmarks":  # the one rewrite: normalisation names of the write API
                rows = [
                    (
                        *r[:-1],
                        {"(r/c)^2": "ratio_squared", "r/sqrt(c)": "ratio_sqrt_ceiling"}[r[-1]],
                    )
                    for r in rows
                ]
            assert after == sorted(rows, key=repr), t
        scores = cat.query("SELECT * FROM scores ORDER BY model_id, benchmark")
        new_tables = set(cat.tables())
    # every v1 column of the view is still there, with the same values
    assert list(v1_scores.columns) == list(scores.columns[: len(v1_scores.columns)])
    assert scores[v1_scores.columns].astype(str).equals(v1_scores.astype(str))
    assert scores["normalisation"].tolist() == [
        "ratio_squared",  # alexnet, IT
        "ratio_squared",  # resnet18, IT
        "ratio_sqrt_ceiling",  # resnet18, behaviour
    ]
    assert {"layer_scores", "training_runs", "training_epochs", "spool_applied"} <= new_tables
    # and the migrated file takes the model side's records
    record = ModelRecord(model_id="resnet18_imagenet_full", arch="resnet18", hub_repo="vvshub/r")
    add_models([record], catalog=path)
    with open_catalog(path) as cat:
        assert cat.fetchall("SELECT n_params, hub_repo FROM models WHERE arch = 'resnet18'") == [
            (11689512, "vvshub/r")
        ]


def test_a_read_only_open_migrates_an_old_catalog_first(tmp_path: Path) -> None:
    path = tmp_path / "catalog.duckdb"
    _make_v1(path)
    with open_catalog(path) as cat:
        assert cat.fetchall("SELECT value FROM meta WHERE key = 'schema_version'") == [("2",)]
        assert "normalisation" in cat.query("SELECT * FROM scores").columns


def test_a_failed_migration_leaves_the_version_1_file_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "catalog.duckdb"
    _make_v1(path)
    before = _dump(path)
    broken = [*_schema._MIGRATE_1_TO_2, "ALTER TABLE no_such_table ADD COLUMN x INTEGER"]
    monkeypatch.setattr(_schema, "_MIGRATE_1_TO_2", broken)
    with pytest.raises(Exception, match="no_such_table"):
        open_catalog(path, read_only=False)
    assert _dump(path) == before
    con = duckdb.connect(str(path), read_only=True)
    assert con.execute("SELECT value FROM meta").fetchall() == [("1",)]
    assert "hub_repo" not in [r[0] for r in con.execute("DESCRIBE models").fetchall()]
    con.close()


@pytest.mark.parametrize("read_only", [True, False])
def test_a_newer_catalog_is_refused_and_left_untouched(tmp_path: Path, read_only: bool) -> None:
    path = tmp_path / "catalog.duckdb"
    open_catalog(path, read_only=False).close()
    con = duckdb.connect(str(path))
    con.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    con.close()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(SchemaVersionError) as err:
        open_catalog(path, read_only=read_only)
    assert "schema version 99 is newer than this vvshub understands (2)" in str(err.value)
    assert "upgrade vvshub" in str(err.value)
    assert (err.value.found, err.value.supported) == (99, SCHEMA_VERSION)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
