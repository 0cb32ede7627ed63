"""The catalog's schema: tables, the public ``scores`` view, and versioning.

Table and column names are a public contract (users write SQL against them);
the README documents every column. Bump ``SCHEMA_VERSION`` whenever the DDL
changes, and teach ``ensure_schema`` to migrate catalogs of the older version.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

SCHEMA_VERSION = 2

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
    "layer_scores",
    "training_runs",
    "training_epochs",
    "spool_applied",
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
        added_at          TIMESTAMP NOT NULL,
        width             DOUBLE,
        depth             VARCHAR,
        hub_repo          VARCHAR,
        manifest_sha256   VARCHAR,
        updated_at        TIMESTAMP
    )""",
    """
    CREATE TABLE IF NOT EXISTS checkpoints (
        model_id        VARCHAR NOT NULL,
        epoch           INTEGER NOT NULL,
        path            VARCHAR,
        url             VARCHAR,
        arch            VARCHAR,
        arch_family     VARCHAR,
        is_benchmarked  BOOLEAN NOT NULL,
        source          VARCHAR NOT NULL,
        sha256          VARCHAR,
        size_bytes      BIGINT,
        hub_repo        VARCHAR,
        revision        VARCHAR,
        recorded_at     TIMESTAMP,
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
        normalisation   VARCHAR NOT NULL,
        suite           VARCHAR
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
        normalisation   VARCHAR,
        error           DOUBLE,
        suite           VARCHAR,
        benchmark_version VARCHAR,
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
    # schema 2: the model side (scorer, trainer) and the spool
    """
    CREATE TABLE IF NOT EXISTS layer_scores (
        model_id        VARCHAR NOT NULL,
        benchmark       VARCHAR NOT NULL,
        layer           VARCHAR NOT NULL,
        split           VARCHAR NOT NULL,
        score           DOUBLE,
        raw_score       DOUBLE,
        ceiling         DOUBLE,
        suite           VARCHAR,
        scorer_version  VARCHAR NOT NULL,
        source          VARCHAR NOT NULL,
        recorded_at     TIMESTAMP NOT NULL,
        PRIMARY KEY (model_id, benchmark, layer, split, source, scorer_version)
    )""",
    """
    CREATE TABLE IF NOT EXISTS training_runs (
        run_id          VARCHAR PRIMARY KEY,
        model_id        VARCHAR NOT NULL,
        config          JSON NOT NULL,
        manifest_sha256 VARCHAR,
        status          VARCHAR NOT NULL,
        device          VARCHAR,
        wall_time_s     DOUBLE,
        started_at      TIMESTAMP,
        finished_at     TIMESTAMP,
        recorded_at     TIMESTAMP NOT NULL,
        vvshub_version  VARCHAR
    )""",
    """
    CREATE TABLE IF NOT EXISTS training_epochs (
        run_id          VARCHAR NOT NULL,
        epoch           INTEGER NOT NULL,
        acc             DOUBLE,
        loss            DOUBLE,
        n_samples_seen  BIGINT,
        wall_time_s     DOUBLE,
        lr              DOUBLE,
        PRIMARY KEY (run_id, epoch)
    )""",
    """
    CREATE TABLE IF NOT EXISTS spool_applied (
        spool_id        VARCHAR PRIMARY KEY,
        n_records       BIGINT NOT NULL,
        created_at      TIMESTAMP,
        applied_at      TIMESTAMP NOT NULL
    )""",
]

#: Schema 1 -> 2, in one transaction: new columns for the model side's records (hub
#: locations and hashes, re-normalisable scores, width/depth), checkpoint paths optional
#: (a hub checkpoint has no study URL), and the study's normalisation names spelled as the
#: write API spells them. New tables come from ``_DDL`` (CREATE ... IF NOT EXISTS).
_MIGRATE_1_TO_2 = [
    "ALTER TABLE models ADD COLUMN width DOUBLE",
    "ALTER TABLE models ADD COLUMN depth VARCHAR",
    "ALTER TABLE models ADD COLUMN hub_repo VARCHAR",
    "ALTER TABLE models ADD COLUMN manifest_sha256 VARCHAR",
    "ALTER TABLE models ADD COLUMN updated_at TIMESTAMP",
    "ALTER TABLE checkpoints ALTER COLUMN path DROP NOT NULL",
    "ALTER TABLE checkpoints ALTER COLUMN url DROP NOT NULL",
    "ALTER TABLE checkpoints ADD COLUMN sha256 VARCHAR",
    "ALTER TABLE checkpoints ADD COLUMN size_bytes BIGINT",
    "ALTER TABLE checkpoints ADD COLUMN hub_repo VARCHAR",
    "ALTER TABLE checkpoints ADD COLUMN revision VARCHAR",
    "ALTER TABLE checkpoints ADD COLUMN recorded_at TIMESTAMP",
    "ALTER TABLE benchmarks ADD COLUMN suite VARCHAR",
    "ALTER TABLE score_records ADD COLUMN normalisation VARCHAR",
    "ALTER TABLE score_records ADD COLUMN error DOUBLE",
    "ALTER TABLE score_records ADD COLUMN suite VARCHAR",
    "ALTER TABLE score_records ADD COLUMN benchmark_version VARCHAR",
    "UPDATE benchmarks SET normalisation = 'ratio_squared' WHERE normalisation = '(r/c)^2'",
    "UPDATE benchmarks SET normalisation = 'ratio_sqrt_ceiling' WHERE normalisation = 'r/sqrt(c)'",
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
    m.ssl_method, m.adv_method, r.source, r.scorer_version,
    coalesce(r.benchmark_version, b.version) AS benchmark_version,
    coalesce(r.normalisation, b.normalisation) AS normalisation,
    coalesce(r.suite, b.suite) AS suite, r.error AS score_error, m.hub_repo
FROM latest r
JOIN models m USING (model_id)
JOIN benchmarks b USING (benchmark)
"""

_CREATE_LEADERBOARD_EMPTY = """
CREATE TABLE IF NOT EXISTS leaderboard (model_id VARCHAR)
"""


def ensure_schema(con: duckdb.DuckDBPyConnection) -> int | None:
    """Create or migrate the schema to ``SCHEMA_VERSION``, all in one transaction.

    The version is read before anything is touched: a catalog written by a newer
    vvshub is refused unchanged. An older one is migrated in place; a failure
    rolls back to the old file as it was.

    Returns:
        The version migrated from (0 for a new, empty file), or ``None`` when the
        schema was already current.

    Raises:
        SchemaVersionError: the catalog is newer than this vvshub.
    """
    from vvshub.errors import SchemaVersionError

    found = schema_version(con)
    if found is not None and found > SCHEMA_VERSION:
        raise SchemaVersionError(
            f"catalog schema version {found} is newer than this vvshub understands "
            f"({SCHEMA_VERSION}); upgrade vvshub (pip install -U vvshub) to open it",
            found=found,
            supported=SCHEMA_VERSION,
        )
    if found == SCHEMA_VERSION:
        return None
    con.execute("BEGIN TRANSACTION")
    try:
        if found == 1:
            for statement in _MIGRATE_1_TO_2:
                con.execute(statement)
        for ddl in _DDL:
            con.execute(ddl)
        con.execute(_CREATE_LEADERBOARD_EMPTY)
        con.execute(SCORES_VIEW)
        con.execute(
            "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)]
        )
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
    return found or 0


def schema_version(con: duckdb.DuckDBPyConnection) -> int | None:
    """The schema version recorded in a catalog, or ``None`` for an empty file."""
    try:
        row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except Exception:
        return None
    return int(row[0]) if row else None
