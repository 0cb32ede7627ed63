"""The catalog: a DuckDB database of models, checkpoints, benchmarks, scores and fits.

Reading is SQL (:func:`open_catalog`, ``Catalog.query``); writing goes through typed
records and a few verbs, the only way anything is written to a catalog.

Example:
    >>> from vvshub.catalog import open_catalog, import_reference
    >>> import_reference("../shared/data/reference")  # doctest: +SKIP
    >>> with open_catalog() as cat:  # doctest: +SKIP
    ...     cat.query("SELECT region, avg(score) FROM scores GROUP BY 1")
"""

from vvshub.catalog._connection import Catalog, open_catalog, snapshot_path, writable_path
from vvshub.catalog._export import export_catalog
from vvshub.catalog._models import list_models, model_detail, resolve_model, suggest_filters
from vvshub.catalog._records import (
    NORMALISATIONS,
    REGIONS,
    BenchmarkRecord,
    CheckpointRecord,
    EpochMetrics,
    FitRecord,
    LayerScoreRecord,
    ModelRecord,
    Record,
    ScoreRecord,
    TrainingRunRecord,
    record_from_dict,
)
from vvshub.catalog._reference import ImportSummary, import_reference
from vvshub.catalog._schema import SCHEMA_VERSION, TABLES, VIEWS
from vvshub.catalog._spool import pending as pending_spool
from vvshub.catalog._spool import spool_dir
from vvshub.catalog._summary import (
    TRAINED_SAMPLES_NEURAL,
    CatalogSummary,
    summarise,
    trained_models,
)
from vvshub.catalog._write import (
    WriteResult,
    add_benchmarks,
    add_checkpoints,
    add_models,
    record_scores,
    record_training_run,
    save_fits,
    write_records,
)

__all__ = [
    "NORMALISATIONS",
    "REGIONS",
    "SCHEMA_VERSION",
    "TABLES",
    "TRAINED_SAMPLES_NEURAL",
    "VIEWS",
    "BenchmarkRecord",
    "Catalog",
    "CatalogSummary",
    "CheckpointRecord",
    "EpochMetrics",
    "FitRecord",
    "ImportSummary",
    "LayerScoreRecord",
    "ModelRecord",
    "Record",
    "ScoreRecord",
    "TrainingRunRecord",
    "WriteResult",
    "add_benchmarks",
    "add_checkpoints",
    "add_models",
    "drain_spool",
    "export_catalog",
    "import_reference",
    "list_models",
    "model_detail",
    "open_catalog",
    "pending_spool",
    "record_from_dict",
    "record_scores",
    "record_training_run",
    "resolve_model",
    "save_fits",
    "snapshot_path",
    "spool_dir",
    "suggest_filters",
    "summarise",
    "trained_models",
    "writable_path",
    "write_records",
]


def drain_spool(catalog: str | None = None) -> int:
    """Apply spooled batches now (they are applied by any writer anyway).

    Returns:
        The number of batches applied.

    Raises:
        CatalogLockedError: another process is writing; they will be applied when it closes.

    Example:
        >>> drain_spool()  # doctest: +SKIP
        0
    """
    with open_catalog(catalog, read_only=False) as cat:
        return cat.drain_spool()
