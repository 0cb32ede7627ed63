"""What the hub reads from and writes to the catalog (writes only through ``vvshub.catalog``'s verbs)."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

from vvshub.errors import CatalogError, ModelNotFoundError
from vvshub.model_cards import CardScore

__all__ = ["card_scores", "published_ids", "record_publish", "reference_checkpoints"]

logger = logging.getLogger(__name__)

_SCORES = """
SELECT s.region, s.benchmark, s.score, s.raw_score, s.ceiling, s.layer,
       s.benchmark_version, b.normalisation, s.source
FROM scores s JOIN benchmarks b USING (benchmark)
WHERE s.model_id = ?
ORDER BY s.region, s.benchmark
"""

_CHECKPOINTS = """
SELECT c.model_id, c.epoch, c.url, c.arch, c.is_benchmarked
FROM checkpoints c
WHERE c.model_id = ?
ORDER BY c.epoch
"""


def _open(catalog: str | Path | None):
    from vvshub.catalog import open_catalog
    from vvshub.constants import catalog_path

    location = catalog if catalog is not None else catalog_path()
    if not Path(location).exists():
        return None
    return open_catalog(location, read_only=True)


def card_scores(model_id: str, *, catalog: str | Path | None = None) -> list[CardScore]:
    """The catalog's scores of ``model_id`` (any spelling), for its card; ``[]`` when none."""
    from vvshub.catalog import resolve_model

    try:
        cat = _open(catalog)
    except CatalogError as exc:
        warnings.warn(f"cannot read scores for the card of {model_id}: {exc}", stacklevel=3)
        return []
    if cat is None:
        return []
    with cat:
        try:
            catalog_id = resolve_model(cat, model_id)
        except ModelNotFoundError:
            return []
        df = cat.query(_SCORES, [catalog_id])
    out = []
    for row in df.itertuples(index=False):
        out.append(
            CardScore(
                region=row.region,
                benchmark=row.benchmark,
                score=float(row.score),
                raw_score=_opt(row.raw_score),
                ceiling=_opt(row.ceiling),
                layer=row.layer if isinstance(row.layer, str) else None,
                version=row.benchmark_version if isinstance(row.benchmark_version, str) else None,
                normalisation=row.normalisation if isinstance(row.normalisation, str) else None,
                source=row.source if isinstance(row.source, str) else None,
            )
        )
    return [s for s in out if s.score == s.score]


def _opt(value: Any) -> float | None:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return None if f != f else f


def published_ids(*, catalog: str | Path | None = None) -> list[str]:
    """Model ids the catalog knows (for "closest published" suggestions)."""
    try:
        cat = _open(catalog)
    except CatalogError:
        return []
    if cat is None:
        return []
    with cat:
        rows = cat.fetchall("SELECT model_id FROM models UNION SELECT short_id FROM models")
    return [r[0] for r in rows if r[0]]


def reference_checkpoints(
    model_id: str, *, catalog: str | Path | None = None
) -> list[dict[str, Any]]:
    """The study's checkpoint rows (url, epoch, benchmarked flag) of ``model_id``."""
    from vvshub.catalog import resolve_model

    cat = _open(catalog)
    if cat is None:
        return []
    with cat:
        try:
            catalog_id = resolve_model(cat, model_id)
        except ModelNotFoundError:
            return []
        df = cat.query(_CHECKPOINTS, [catalog_id])
    return df.to_dict(orient="records")


def record_publish(
    config: dict[str, Any],
    *,
    repo_id: str,
    revision: str,
    commit: str,
    sha256: str,
    size: int,
    epoch: int | None,
    benchmarked: bool,
    catalog: str | Path | None = None,
    source: str = "vvshub",
    model_row: bool = True,
) -> bool:
    """Record a published revision in the catalog (model row + checkpoint row).

    Uses ``vvshub.catalog.add_models`` / ``add_checkpoints``; a ``None`` field keeps what the
    catalog already stores, so a push with little metadata never wipes training metadata.

    Args:
        model_row: also upsert the model row (off for the study's models, whose rows the
            reference import owns).

    Returns:
        Whether the records were handed to the catalog.
    """
    try:
        from vvshub.catalog import CheckpointRecord, ModelRecord, write_records
    except ImportError:
        warnings.warn(
            "this vvshub has no catalog write API yet; the push was not recorded in the catalog",
            stacklevel=3,
        )
        return False
    from vvshub import ids

    meta = config.get("vvshub") or {}
    mid = ids.parse(meta["model_id"])
    model = ModelRecord(
        model_id=meta["model_id"],
        short_id=meta.get("short_id"),
        arch=meta["arch"],
        arch_family=meta.get("arch_family"),
        dataset=meta.get("dataset"),
        samples_per_class=meta.get("samples_per_class") or 0,
        seed=meta.get("seed") or 0,
        n_samples=meta.get("n_samples"),
        n_epochs=meta.get("n_epochs"),
        n_samples_seen=meta.get("n_samples_seen"),
        n_params=meta.get("n_params"),
        macs=meta.get("macs"),
        flops=meta.get("flops"),
        total_flops=meta.get("total_flops"),
        count_convention=meta.get("count_convention"),
        acc=meta.get("acc"),
        width=meta.get("width"),
        depth="-".join(map(str, meta["depth"])) if meta.get("depth") else None,
        hub_repo=repo_id,
        manifest_sha256=meta.get("manifest_sha256"),
        is_pretrained=mid.regime == "pretrained",
        is_random=mid.regime == "random",
        is_ssl=mid.ssl_method is not None,
        is_adv=mid.adv_method is not None,
        ssl_method=mid.ssl_method,
        adv_method=mid.adv_method,
        source=source,
    )
    checkpoint = CheckpointRecord(
        model_id=meta["model_id"],
        epoch=epoch if epoch is not None else (meta.get("n_epochs") or 0),
        sha256=sha256,
        size_bytes=size,
        hub_repo=repo_id,
        revision=revision,
        arch=meta["arch"],
        arch_family=meta.get("arch_family"),
        is_benchmarked=benchmarked,
        source=source,
    )
    write_records([model, checkpoint] if model_row else [checkpoint], catalog=catalog)
    logger.debug("recorded %s@%s (%s) in the catalog", repo_id, revision, commit[:12])
    return True
