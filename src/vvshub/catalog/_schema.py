"""The catalog's schema: tables, the public ``scores`` view, and versioning.

Table and column names are a public contract (users write SQL against them);
the README documents every column. Bump ``SCHEMA_VERSION`` whenever the DDL
changes, and teach ``ensure_schema`` to migrate catalogs of the older version.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

SCHEMA_VERSION = 1

#: Tables in dependency order (export and the Parquet reader walk this list).
TABLES = (
    "meta",
    "imports",
    "models",
    "checkpoints",
    "benchmarks",
    "score_records",
    "epoch_scores",
    "commitments",
    "leaderboard",
    "fits",
)
#: Views that a Parquet export also materialises, so pandas/HF datasets can read them.
VIEWS = ("scores",)

_DDL = [
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

#: The public view: one row per (model, benchmark), the latest record of each.
SCORES_VIEW = """
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

_CREATE_LEADERBOARD_EMPTY = """
CREATE TABLE IF NOT EXISTS leaderboard (model_id VARCHAR)
"""


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create missing tables and views and record the schema version (idempotent)."""
    from vvshub.errors import CatalogError

    for ddl in _DDL:
        con.execute(ddl)
    con.execute(_CREATE_LEADERBOARD_EMPTY)
    con.execute(SCORES_VIEW)
    row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    if row is None:
        con.execute("INSERT INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])
    elif int(row[0]) > SCHEMA_VERSION:
        raise CatalogError(
            f"catalog schema version {row[0]} is newer than this vvshub understands "
            f"({SCHEMA_VERSION}); upgrade vvshub"
        )


def schema_version(con: duckdb.DuckDBPyConnection) -> int | None:
    """The schema version recorded in a catalog, or ``None`` for an empty file."""
    try:
        row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except Exception:
        return None
    return int(row[0]) if row else None
