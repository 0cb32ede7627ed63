"""Read-only summaries of a catalog: what a report or ``vvshub doctor`` shows about it.

The SQL lives here, beside the schema it reads, as named constants; values are bound.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vvshub.catalog._records import REGIONS

if TYPE_CHECKING:
    import pandas as pd

    from vvshub.catalog._connection import Catalog

__all__ = ["TRAINED_SAMPLES_NEURAL", "CatalogSummary", "summarise", "trained_models"]

#: The mini zoo's data-scaling selection for ``vvshub.laws.fit_sql``: one row per model that
#: vvshub trained and scored, samples seen D against its neural alignment (mean of V1, V2, V4,
#: IT), ordered by model id so its resamples are reproducible.
TRAINED_SAMPLES_NEURAL = """
SELECT any_value(s.n_samples_seen) AS x, avg(s.score) AS score
FROM scores s
WHERE s.region IN ('V1', 'V2', 'V4', 'IT')
  AND s.model_id IN (SELECT model_id FROM training_runs WHERE status = 'finished')
GROUP BY s.model_id
ORDER BY s.model_id
"""

_COUNT = 'SELECT count(*) FROM "{}"'
_SCHEMA = "SELECT value FROM meta WHERE key = 'schema_version'"
_BY_SOURCE = """
SELECT source, count(*) AS models, count(DISTINCT arch) AS architectures,
       min(n_params) AS min_params, max(n_params) AS max_params, max(total_flops) AS max_flops
FROM models GROUP BY source ORDER BY models DESC, source
"""
_BY_REGION = """
SELECT region, count(*) AS scores, count(DISTINCT model_id) AS models,
       avg(score) AS mean_score, max(score) AS best_score
FROM scores GROUP BY region
ORDER BY array_position(?, region), region
"""
_BY_FAMILY = """
SELECT arch_family AS family, count(*) AS models, min(n_params) AS min_params,
       max(n_params) AS max_params
FROM models WHERE source = 'reference' AND arch_family IS NOT NULL
GROUP BY 1 ORDER BY models DESC, family
"""
#: Models that vvshub trained (they have a training run), with their mean alignment.
_TRAINED = """
WITH runs AS (
    SELECT model_id, any_value(manifest_sha256) AS manifest_sha256, max(wall_time_s) AS wall_time_s,
           any_value(device) AS device
    FROM training_runs WHERE status = 'finished' GROUP BY model_id
),
s AS (
    SELECT model_id,
           avg(score) FILTER (WHERE region IN ('V1', 'V2', 'V4', 'IT')) AS neural,
           avg(score) FILTER (WHERE region = 'Behavioral') AS behavior,
           count(*) AS n_scores, any_value(suite) AS suite
    FROM scores GROUP BY model_id
)
SELECT m.model_id, m.short_id, m.arch, m.width, m.dataset, m.samples_per_class, m.n_samples,
       m.n_epochs, m.n_samples_seen, m.n_params, m.flops, m.total_flops, m.seed, m.acc,
       m.hub_repo, runs.wall_time_s, runs.device, s.neural, s.behavior, s.n_scores, s.suite
FROM models m JOIN runs USING (model_id) LEFT JOIN s USING (model_id)
ORDER BY m.arch, m.width, m.samples_per_class, m.seed
"""


@dataclass(frozen=True)
class CatalogSummary:
    """What a catalog holds, in a few tables.

    Attributes:
        location: where the catalog was read from.
        schema_version: ``meta.schema_version``.
        rows: row count per table.
        by_source: models per source (``reference``, ``vvshub`` ...).
        by_region: score count, models and mean score per region.
        by_family: the study's models per architecture family.
        snapshot_of: set when the file was locked and its read snapshot was read.
    """

    location: str | None
    schema_version: str | None
    rows: dict[str, int] = field(default_factory=dict)
    by_source: pd.DataFrame | None = None
    by_region: pd.DataFrame | None = None
    by_family: pd.DataFrame | None = None
    snapshot_of: str | None = None

    def to_dict(self) -> dict[str, Any]:
        def records(df: Any) -> list[dict[str, Any]]:
            return [] if df is None else df.to_dict(orient="records")

        return {
            "location": self.location,
            "schema_version": self.schema_version,
            "rows": dict(self.rows),
            "by_source": records(self.by_source),
            "by_region": records(self.by_region),
            "by_family": records(self.by_family),
            "snapshot_of": self.snapshot_of,
        }


def summarise(cat: Catalog) -> CatalogSummary:
    """Row counts and the summary tables of an open catalog.

    Example:
        >>> with open_catalog() as cat:  # doctest: +SKIP
        ...     summarise(cat).rows["models"]
        993
    """
    tables = cat.tables()
    rows = {t: int(cat.fetchall(_COUNT.format(t))[0][0]) for t in tables}
    version = cat.fetchall(_SCHEMA)[0][0] if "meta" in tables else None
    has = {"models", "scores"} <= set(tables)
    return CatalogSummary(
        location=cat.location,
        schema_version=version,
        rows=rows,
        by_source=cat.query(_BY_SOURCE) if has else None,
        by_region=cat.query(_BY_REGION, [list(REGIONS)]) if has else None,
        by_family=cat.query(_BY_FAMILY) if has else None,
        snapshot_of=cat.snapshot_of,
    )


def trained_models(cat: Catalog) -> pd.DataFrame:
    """The models vvshub trained, one row each, with accuracy and mean neural/behavioural score.

    Columns: ``model_id, short_id, arch, width, dataset, samples_per_class, n_samples,
    n_epochs, n_samples_seen, n_params, flops, total_flops, seed, acc, hub_repo,
    wall_time_s, device, neural, behavior, n_scores, suite``.
    """
    if "training_runs" not in cat.tables():
        import pandas as pd

        return pd.DataFrame()
    return cat.query(_TRAINED)
