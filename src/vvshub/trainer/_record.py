"""A finished run's way out: its records into the catalog, its checkpoint onto the hub.

The trainer writes the catalog only through ``vvshub.catalog``'s write API (typed records,
one transaction, spooled when the catalog is locked), and publishes only through
``vvshub.push``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vvshub.errors import PublishError

if TYPE_CHECKING:
    from torch import nn

    from vvshub.trainer._run import TrainResult

__all__ = ["file_sha256", "publish", "record_result"]

logger = logging.getLogger(__name__)


def file_sha256(path: Path) -> str:
    """sha256 of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def catalog_model_id(short_id: str) -> str:
    """The catalog key of a trained model: its study-grammar id, as the reference rows and the
    hub write it (``resnetflexfilters-f-1-16-20-19_cifar10_10_seed-0``,
    ``resnet18_w0.25_cifar10_10_seed-0``), or the short id should the study grammar not read
    it back. ``short_id`` is stored beside it, so either spelling finds the model."""
    from vvshub.errors import ModelIdError
    from vvshub.ids import parse

    mid = parse(short_id)
    study = mid.study_id()
    try:
        return study if parse(study) == mid else short_id
    except ModelIdError:
        return short_id


def model_record(result: TrainResult, *, hub_repo: str | None = None) -> Any:
    """The catalog's :class:`~vvshub.catalog.ModelRecord` of a finished run."""
    from vvshub import zoo
    from vvshub.catalog import ModelRecord

    r = zoo.recipe(result.arch)
    return ModelRecord(
        model_id=catalog_model_id(result.model_id),
        short_id=result.model_id,
        arch=result.arch,
        arch_family=r.family,
        dataset=result.dataset,
        samples_per_class=result.samples_per_class,
        seed=result.seed,
        n_samples=result.n_samples,
        n_epochs=result.n_epochs,
        n_samples_seen=result.n_samples_seen,
        n_params=result.n_params,
        macs=result.macs,
        flops=result.flops,
        total_flops=result.total_flops,
        count_convention=result.count_convention,
        acc=result.acc,
        width=r.width,
        depth="-".join(map(str, r.depth)) if r.depth is not None else None,
        manifest_sha256=result.manifest_sha256,
        hub_repo=hub_repo,
        source="vvshub",
    )


def record_result(result: TrainResult, *, catalog: str | Path | None = None) -> None:
    """Write the run, the model and its final checkpoint to the catalog (one transaction).

    Idempotent: recording a result twice leaves one row of each.
    """
    from vvshub import zoo
    from vvshub.catalog import (
        CheckpointRecord,
        EpochMetrics,
        TrainingRunRecord,
        record_training_run,
    )

    model_id = catalog_model_id(result.model_id)
    run = TrainingRunRecord(
        run_id=result.run_id,
        model_id=model_id,
        config=result.config,
        manifest_sha256=result.manifest_sha256,
        status="finished",
        device=result.device if result.world_size == 1 else f"{result.device} x{result.world_size}",
        wall_time_s=result.wall_time_s,
        started_at=datetime.fromisoformat(result.started_at) if result.started_at else None,
        finished_at=datetime.fromisoformat(result.finished_at) if result.finished_at else None,
        epochs=tuple(
            EpochMetrics(
                epoch=e["epoch"],
                acc=e["acc"],
                loss=e["loss"],
                n_samples_seen=e["n_samples_seen"],
                wall_time_s=e["wall_time_s"],
                lr=e["lr"],
            )
            for e in result.epochs
        ),
    )
    checkpoint = CheckpointRecord(
        model_id=model_id,
        epoch=result.n_epochs,
        sha256=result.checkpoint_sha256,
        size_bytes=result.checkpoint_bytes,
        hub_repo=result.hub_repo,
        path=str(Path(result.run_dir) / "model.safetensors"),
        arch=result.arch,
        arch_family=zoo.recipe(result.arch).family,
        source="vvshub",
    )
    record_training_run(run, model=model_record(result), checkpoints=[checkpoint], catalog=catalog)


def publish(
    result: TrainResult,
    model: nn.Module,
    *,
    push_epochs: bool = False,
    catalog: str | Path | None = None,
) -> TrainResult:
    """Push the finished model, its manifest and card data to the hub; return the result with
    ``checkpoint`` and ``hub_repo`` pointing there.

    Raises:
        PublishError: the hub is not available in this installation or the push failed; the
            checkpoint stays in the run folder and the catalog already holds the run.
    """
    try:
        import vvshub.hub as hub
    except ImportError:
        raise PublishError(
            f"cannot push {result.model_id!r}: this vvshub has no hub (vvshub.hub is not "
            f"installed); the trained checkpoint is at {result.checkpoint!r} and the run is in "
            "the catalog; rerun with --no-push, or push it once the hub is available"
        ) from None
    run_dir = Path(result.run_dir)
    metadata = {
        "n_samples": result.n_samples,
        "n_epochs": result.n_epochs,
        "n_samples_seen": result.n_samples_seen,
        "acc": result.acc,
        "manifest_sha256": result.manifest_sha256,
        "training_config": result.config,
    }
    try:
        info = hub.push(
            model,
            result.model_id,
            epoch=result.n_epochs,
            benchmarked=True,
            metadata=metadata,
            manifest=run_dir / "manifest.txt",
            catalog=catalog,
        )
        if push_epochs:
            _push_epochs(hub, model, result, metadata, run_dir, catalog)
    except Exception as exc:
        raise PublishError(
            f"pushing {result.model_id!r} to the hub failed ({exc}); the checkpoint is at "
            f"{result.checkpoint!r} and the run is in the catalog"
        ) from exc
    return dataclasses.replace(result, checkpoint=info.location, hub_repo=info.repo_id)


def _push_epochs(
    hub: Any, model: nn.Module, result: TrainResult, metadata: dict, run_dir: Path, catalog: Any
) -> None:
    """Every kept epoch before the last as tag ``ep{N}`` (``main`` stays on the last)."""
    import copy

    from safetensors.torch import load_file

    accs = {e["epoch"]: e["acc"] for e in result.epochs}
    for path in sorted((run_dir / "epochs").glob("ep*.safetensors")):
        epoch = int(path.stem[2:])
        if epoch == result.n_epochs:
            continue
        snapshot = copy.deepcopy(model)
        snapshot.load_state_dict(load_file(str(path)))
        hub.push(
            snapshot,
            result.model_id,
            epoch=epoch,
            benchmarked=False,
            metadata={**metadata, "acc": accs.get(epoch)},
            manifest=run_dir / "manifest.txt",
            catalog=catalog,
        )
