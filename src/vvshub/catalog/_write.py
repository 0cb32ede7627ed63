"""The catalog's write API: typed records in, one transaction out, nothing lost when busy.

The hub, the scorer, the trainer and the laws write only through these verbs. A
batch of records (any mix of kinds) is validated when the records are built, then
applied in one transaction. DuckDB lets one process write a file at a time: a
writer that finds the catalog locked waits a bounded, logged while
(``VVSHUB_LOCK_WAIT`` seconds, default 10) and then spools its batch atomically to
the spool folder (see ``_spool``), which the next writer applies. Upserts are
idempotent: the same record written twice is one row, and a spooled batch is
applied exactly once.

Example:
    >>> from vvshub.catalog import ModelRecord, add_models
    >>> add_models([ModelRecord(model_id="resnet18_d10_cifar10", arch="resnet18",
    ...                         samples_per_class=10, dataset="cifar10")])  # doctest: +SKIP
    WriteResult(applied={'models': 1}, spooled=None, drained=0)
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import random
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vvshub.catalog._records import (
    BenchmarkRecord,
    CheckpointRecord,
    FitRecord,
    LayerScoreRecord,
    ModelRecord,
    Record,
    ScoreRecord,
    TrainingRunRecord,
)
from vvshub.errors import CatalogLockedError, RecordError

if TYPE_CHECKING:
    from vvshub.catalog._connection import Catalog

log = logging.getLogger(__name__)

__all__ = [
    "WriteResult",
    "add_benchmarks",
    "add_checkpoints",
    "add_models",
    "apply_records",
    "record_scores",
    "record_training_run",
    "save_fits",
    "write_records",
]

#: Seconds a writer waits for the lock before spooling (``VVSHUB_LOCK_WAIT``).
LOCK_WAIT_ENV = "VVSHUB_LOCK_WAIT"
_DEFAULT_LOCK_WAIT = 10.0


@dataclass(frozen=True)
class WriteResult:
    """What a write did.

    Attributes:
        applied: rows upserted per table (empty when the batch was spooled).
        spooled: the spool file holding the batch, when the catalog was busy.
        drained: spooled batches from earlier writers applied along the way.
    """

    applied: dict[str, int] = field(default_factory=dict)
    spooled: str | None = None
    drained: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"applied": dict(self.applied), "spooled": self.spooled, "drained": self.drained}


# --- SQL: one named statement per table, values always bound -----------------------------

_MODEL_COLUMNS = (
    "model_id", "short_id", "arch", "arch_family", "dataset", "samples_per_class", "n_samples",
    "n_epochs", "n_samples_seen", "n_params", "macs", "flops", "total_flops", "count_convention",
    "seed", "acc", "is_pretrained", "is_random", "is_ssl", "is_adv", "is_ablation",
    "is_open_clip", "ssl_method", "adv_method", "checkpoint_url", "source", "width", "depth",
    "hub_repo", "manifest_sha256",
)  # fmt: skip
_CHECKPOINT_COLUMNS = (
    "model_id", "epoch", "path", "url", "arch", "arch_family", "is_benchmarked", "source",
    "sha256", "size_bytes", "hub_repo", "revision",
)  # fmt: skip
_BENCHMARK_COLUMNS = (
    "benchmark", "region", "source", "metric", "version", "ceiling_method", "normalisation",
    "suite",
)  # fmt: skip
_SCORE_COLUMNS = (
    "model_id", "benchmark", "score", "raw_score", "ceiling", "layer", "scorer_version",
    "source", "normalisation", "error", "suite", "benchmark_version",
)  # fmt: skip
_LAYER_COLUMNS = (
    "model_id", "benchmark", "layer", "split", "score", "raw_score", "ceiling", "suite",
    "scorer_version", "source",
)  # fmt: skip
_RUN_COLUMNS = (
    "run_id", "model_id", "config", "manifest_sha256", "status", "device", "wall_time_s",
    "started_at", "finished_at", "vvshub_version",
)  # fmt: skip
_EPOCH_COLUMNS = ("run_id", "epoch", "acc", "loss", "n_samples_seen", "wall_time_s", "lr")
_FIT_COLUMNS = (
    "fit_id", "query", "data_hash", "form", "options", "params", "objective", "n_rows",
    "n_bootstrap", "bootstrap_params", "vvshub_version",
)  # fmt: skip

# Flags and keys are always written; other columns keep the stored value when the record's is NULL.
_ALWAYS = {"model_id", "epoch", "arch", "source", "is_benchmarked"}
_ALWAYS |= {"is_pretrained", "is_random", "is_ssl", "is_adv", "is_ablation", "is_open_clip"}


def _insert(
    table: str,
    columns: Sequence[str],
    key: Sequence[str],
    *,
    merge: bool,
    stamp: str,
    created: str | None = None,
) -> str:
    """``INSERT ... ON CONFLICT (key) DO UPDATE``; with ``merge``, NULLs keep stored values.

    The statement takes the record's ``columns``, then the time for ``stamp`` (updated on
    every write) and, when given, for ``created`` (set on the first write only).
    """
    names = [*columns, stamp, *([created] if created else [])]
    sets = []
    for c in columns:
        if c in key:
            continue
        if merge and c not in _ALWAYS:
            sets.append(f"{c} = coalesce(excluded.{c}, {table}.{c})")
        else:
            sets.append(f"{c} = excluded.{c}")
    sets.append(f"{stamp} = excluded.{stamp}")
    marks = ", ".join("?" for _ in names)
    return (
        f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks}) "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {', '.join(sets)}"
    )


_UPSERT_MODEL = _insert(
    "models", _MODEL_COLUMNS, ("model_id",), merge=True, stamp="updated_at", created="added_at"
)
#: Whether a model row exists (a new row needs its NOT NULL samples_per_class and seed).
_MODEL_EXISTS = "SELECT count(*) FROM models WHERE model_id = ?"
_UPSERT_CHECKPOINT = _insert(
    "checkpoints", _CHECKPOINT_COLUMNS, ("model_id", "epoch"), merge=True, stamp="recorded_at"
)
_UPSERT_BENCHMARK = (
    f"INSERT OR REPLACE INTO benchmarks ({', '.join(_BENCHMARK_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in _BENCHMARK_COLUMNS)})"
)
_UPSERT_SCORE = _insert(
    "score_records",
    _SCORE_COLUMNS,
    ("model_id", "benchmark", "source", "scorer_version"),
    merge=False,
    stamp="recorded_at",
)
_UPSERT_LAYER = _insert(
    "layer_scores",
    _LAYER_COLUMNS,
    ("model_id", "benchmark", "layer", "split", "source", "scorer_version"),
    merge=False,
    stamp="recorded_at",
)
_UPSERT_RUN = _insert("training_runs", _RUN_COLUMNS, ("run_id",), merge=False, stamp="recorded_at")
_DELETE_RUN_EPOCHS = "DELETE FROM training_epochs WHERE run_id = ?"
_INSERT_EPOCH = (
    f"INSERT INTO training_epochs ({', '.join(_EPOCH_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in _EPOCH_COLUMNS)})"
)
_UPSERT_FIT = _insert("fits", _FIT_COLUMNS, ("fit_id",), merge=False, stamp="created_at")
_KNOWN_BENCHMARKS = "SELECT benchmark, region FROM benchmarks WHERE benchmark IN ({})"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _version() -> str:
    from importlib.metadata import version

    return version("vvshub")


def _row(record: Any, columns: Sequence[str]) -> list[Any]:
    return [getattr(record, c) for c in columns]


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


def _dedupe(records: Iterable[Record]) -> list[Record]:
    """Last record wins per key, so one batch never updates a row twice."""
    keyed: dict[tuple[Any, ...], Record] = {}
    for r in records:
        if isinstance(r, ModelRecord):
            key: tuple[Any, ...] = ("model", r.model_id)
        elif isinstance(r, CheckpointRecord):
            key = ("checkpoint", r.model_id, r.epoch)
        elif isinstance(r, BenchmarkRecord):
            key = ("benchmark", r.benchmark)
        elif isinstance(r, ScoreRecord):
            key = ("score", r.model_id, r.benchmark, r.source, r.scorer_version)
        elif isinstance(r, LayerScoreRecord):
            key = ("layer", r.model_id, r.benchmark, r.layer, r.split, r.source, r.scorer_version)
        elif isinstance(r, TrainingRunRecord):
            key = ("run", r.run_id)
        elif isinstance(r, FitRecord):
            key = ("fit", r.fit_id)
        else:
            raise RecordError(
                f"not a catalog record: {type(r).__name__}; build ModelRecord, ScoreRecord, ... "
                "from vvshub.catalog"
            )
        keyed.pop(key, None)  # re-insert so the order follows the last occurrence
        keyed[key] = r
    return list(keyed.values())


def _check_regions(cat: Catalog, records: list[Record]) -> None:
    """A score's region must be its benchmark's (from this batch or the catalog)."""
    regions = {r.benchmark: r.region for r in records if isinstance(r, BenchmarkRecord)}
    scores = [r for r in records if isinstance(r, ScoreRecord)]
    missing = sorted({s.benchmark for s in scores} - set(regions))
    if missing:
        marks = ", ".join("?" for _ in missing)
        regions.update(dict(cat.fetchall(_KNOWN_BENCHMARKS.format(marks), missing)))
    for s in scores:
        known = regions.get(s.benchmark)
        if known is not None and known != s.region:
            raise RecordError(
                f"ScoreRecord.region: {s.region!r} for {s.model_id} on {s.benchmark}, whose "
                f"region is {known!r}",
                record="ScoreRecord",
                field="region",
            )


def apply_records(cat: Catalog, records: Iterable[Record]) -> dict[str, int]:
    """Upsert ``records`` on an open read-write catalog, inside the caller's transaction.

    Models and benchmarks go first, so a batch may hold a model and its scores.

    Returns:
        Rows written per table.
    """
    batch = _dedupe(records)
    _check_regions(cat, batch)
    now = _now()
    counts: dict[str, int] = {}

    def bump(table: str, n: int = 1) -> None:
        counts[table] = counts.get(table, 0) + n

    order = (ModelRecord, BenchmarkRecord, CheckpointRecord, TrainingRunRecord)
    order += (ScoreRecord, LayerScoreRecord, FitRecord)
    for kind in order:
        for r in (x for x in batch if isinstance(x, kind)):
            if isinstance(r, ModelRecord):
                values = _row(r, _MODEL_COLUMNS)
                if not cat.fetchall(_MODEL_EXISTS, [r.model_id])[0][0]:
                    for col in ("samples_per_class", "seed"):  # 0 = full data / seed 0
                        i = _MODEL_COLUMNS.index(col)
                        values[i] = 0 if values[i] is None else values[i]
                cat.execute(_UPSERT_MODEL, [*values, now, now])
                bump("models")
            elif isinstance(r, BenchmarkRecord):
                cat.execute(_UPSERT_BENCHMARK, _row(r, _BENCHMARK_COLUMNS))
                bump("benchmarks")
            elif isinstance(r, CheckpointRecord):
                cat.execute(_UPSERT_CHECKPOINT, [*_row(r, _CHECKPOINT_COLUMNS), now])
                bump("checkpoints")
            elif isinstance(r, TrainingRunRecord):
                values = _row(r, _RUN_COLUMNS[:-1])
                values[2] = _json(r.config)
                cat.execute(_UPSERT_RUN, [*values, _version(), now])
                cat.execute(_DELETE_RUN_EPOCHS, [r.run_id])
                for e in r.epochs:
                    cat.execute(_INSERT_EPOCH, [r.run_id, *_row(e, _EPOCH_COLUMNS[1:])])
                bump("training_runs")
                bump("training_epochs", len(r.epochs))
            elif isinstance(r, ScoreRecord):
                stamp = r.recorded_at or now
                cat.execute(_UPSERT_SCORE, [*_row(r, _SCORE_COLUMNS), stamp])
                bump("score_records")
            elif isinstance(r, LayerScoreRecord):
                cat.execute(_UPSERT_LAYER, [*_row(r, _LAYER_COLUMNS), now])
                bump("layer_scores")
            elif isinstance(r, FitRecord):
                values = [
                    r.fit_id,
                    r.query,
                    r.data_hash,
                    r.form,
                    _json(r.options),
                    _json(r.params),
                    r.objective,
                    r.n_rows,
                    r.n_bootstrap,
                    _json(r.bootstrap),
                    r.vvshub_version or _version(),
                    now,
                ]
                cat.execute(_UPSERT_FIT, values)
                bump("fits")
    cat.mark_written()
    return counts


def _lock_wait() -> float:
    try:
        return max(0.0, float(os.environ.get(LOCK_WAIT_ENV, _DEFAULT_LOCK_WAIT)))
    except ValueError:
        return _DEFAULT_LOCK_WAIT


def write_records(
    records: Iterable[Record], *, catalog: str | Path | None = None, wait: float | None = None
) -> WriteResult:
    """Write a batch of records in one transaction; spool it if the catalog stays locked.

    Args:
        records: any mix of :class:`ModelRecord`, :class:`CheckpointRecord`,
            :class:`BenchmarkRecord`, :class:`ScoreRecord`, :class:`LayerScoreRecord`,
            :class:`TrainingRunRecord` and :class:`FitRecord`.
        catalog: a ``.duckdb`` file; default ``$VVSHUB_HOME/catalog.duckdb`` (created if missing).
        wait: seconds to wait for the write lock before spooling; default
            ``VVSHUB_LOCK_WAIT`` (10).

    Returns:
        What was applied, or where the batch was spooled.

    Raises:
        RecordError: a record is invalid (nothing is written).
        CatalogError: the catalog is read-only (a Parquet export or URL) or damaged.

    Example:
        >>> write_records([ModelRecord(model_id="m1", arch="resnet18")])  # doctest: +SKIP
        WriteResult(applied={'models': 1}, spooled=None, drained=0)
    """
    from vvshub.catalog._connection import open_catalog, writable_path
    from vvshub.catalog._spool import spool_batch

    batch = _dedupe(records)
    if not batch:
        return WriteResult()
    path = writable_path(catalog)
    budget = _lock_wait() if wait is None else max(0.0, wait)
    deadline = time.monotonic() + budget
    delay = 0.05
    announced = False
    while True:
        try:
            cat = open_catalog(path, read_only=False)
        except CatalogLockedError as exc:
            if time.monotonic() + delay > deadline:
                where = spool_batch(path, batch)
                log.warning(
                    "%s; %d record(s) spooled to %s (the next writer applies them, or run "
                    "`vvshub catalog drain`)",
                    exc,
                    len(batch),
                    where,
                )
                return WriteResult(spooled=str(where))
            if not announced:
                log.warning("%s; retrying for up to %.0f s", exc, budget)
                announced = True
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 1.0)
            continue
        try:
            with cat.transaction():
                counts = apply_records(cat, batch)
            drained = cat.drain_spool()
        finally:
            cat.close()
        return WriteResult(applied=counts, drained=drained)


def add_models(records: Iterable[ModelRecord], *, catalog: str | Path | None = None) -> WriteResult:
    """Add or update models (``None`` fields keep stored values).

    Example:
        >>> add_models([ModelRecord(model_id="m1", arch="resnet18")])  # doctest: +SKIP
    """
    return write_records(_only(records, ModelRecord), catalog=catalog)


def add_checkpoints(
    records: Iterable[CheckpointRecord], *, catalog: str | Path | None = None
) -> WriteResult:
    """Add or update checkpoints (sha256, size, hub repo and revision).

    Example:
        >>> add_checkpoints([CheckpointRecord(model_id="m1", epoch=1)])  # doctest: +SKIP
    """
    return write_records(_only(records, CheckpointRecord), catalog=catalog)


def add_benchmarks(
    records: Iterable[BenchmarkRecord], *, catalog: str | Path | None = None
) -> WriteResult:
    """Add or replace benchmark definitions."""
    return write_records(_only(records, BenchmarkRecord), catalog=catalog)


def record_scores(
    scores: Iterable[ScoreRecord],
    *,
    layer_scores: Iterable[LayerScoreRecord] = (),
    benchmarks: Iterable[BenchmarkRecord] = (),
    models: Iterable[ModelRecord] = (),
    catalog: str | Path | None = None,
) -> WriteResult:
    """Record a scoring run: scores, the layer x benchmark matrix, and what they refer to.

    Everything lands in one transaction (or one spool file).

    Example:
        >>> record_scores([score], layer_scores=matrix, benchmarks=[bench],
        ...               models=[model])  # doctest: +SKIP
    """
    batch: list[Record] = [*_only(models, ModelRecord), *_only(benchmarks, BenchmarkRecord)]
    batch += [*_only(scores, ScoreRecord), *_only(layer_scores, LayerScoreRecord)]
    return write_records(batch, catalog=catalog)


def record_training_run(
    run: TrainingRunRecord,
    *,
    model: ModelRecord | None = None,
    checkpoints: Iterable[CheckpointRecord] = (),
    catalog: str | Path | None = None,
) -> WriteResult:
    """Record a training run with its model and checkpoints, in one transaction.

    Example:
        >>> record_training_run(run, model=model, checkpoints=ckpts)  # doctest: +SKIP
    """
    batch: list[Record] = [*_only([run], TrainingRunRecord)]
    if model is not None:
        batch += _only([model], ModelRecord)
    batch += _only(checkpoints, CheckpointRecord)
    return write_records(batch, catalog=catalog)


def save_fits(
    records: Iterable[FitRecord], *, catalog: str | Path | None = None, wait: float | None = None
) -> WriteResult:
    """Store scaling-law fits in the ``fits`` table."""
    return write_records(_only(records, FitRecord), catalog=catalog, wait=wait)


def _only(records: Iterable[Any], kind: type) -> list[Any]:
    out = list(records)
    for r in out:
        if not isinstance(r, kind):
            raise RecordError(
                f"expected {kind.__name__}, got {type(r).__name__}", record=kind.__name__
            )
    return out
