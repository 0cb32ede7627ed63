"""``train()``: a run from its config to a checkpoint, a catalog record and a hub push."""

from __future__ import annotations

import json
import logging
import shutil
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from vvshub.constants import COUNT_CONVENTION, vvshub_home
from vvshub.errors import ResumeError, SubsetError
from vvshub.trainer import _checkpoint as ckpt
from vvshub.trainer._config import TrainConfig
from vvshub.trainer._record import file_sha256
from vvshub.trainer._subset import manifest_text

__all__ = ["TrainResult", "run_dir_for", "runs_root", "train"]

logger = logging.getLogger(__name__)


def runs_root() -> Path:
    """``$VVSHUB_HOME/runs``: one folder per run."""
    return vvshub_home() / "runs"


def run_dir_for(config: TrainConfig) -> Path:
    """The run folder of ``config`` (``$VVSHUB_HOME/runs/{run_id}``)."""
    return runs_root() / config.run_id


@dataclass(frozen=True, kw_only=True)
class TrainResult:
    """What a finished run reports (``vvshub train --json``).

    Attributes:
        model_id: the trained model's short id.
        run_id: ``{model_id}-{config_hash}``.
        arch: canonical architecture name.
        dataset: the data set's short name.
        samples_per_class: d (0 = full).
        seed: the run seed.
        n_classes: classes of the data set.
        n_samples: training images.
        n_epochs: epochs trained.
        n_samples_seen: ``n_samples * n_epochs``.
        batch_size: the global batch actually used (the recipe's, or all images when fewer).
        n_params: parameters of the 1000-class model (the study's convention).
        macs: MACs of one 224x224 image in train mode (the study's convention).
        flops: ``2 * macs``.
        total_flops: ``3 * flops * n_samples_seen``.
        train_macs: MACs of one training image as actually trained (this data set's classes,
            ``image_size``).
        count_convention: the counting convention's name.
        acc: top-1 on the val split after the last epoch.
        manifest_sha256: sha256 of the sorted training image ids.
        checkpoint: where the weights went (hub repo when pushed, else the run folder's file).
        checkpoint_sha256: sha256 of the final safetensors file.
        checkpoint_bytes: its size.
        run_dir: the run folder.
        hub_repo: the hub repo, when pushed.
        device: where it trained.
        world_size: processes.
        wall_time_s: total training time (across resumes).
        epochs: per-epoch ``epoch, acc, loss, lr, n_samples_seen, wall_time_s, images_per_s``.
        config: the :class:`TrainConfig` as a dict.
    """

    model_id: str
    run_id: str
    arch: str
    dataset: str
    samples_per_class: int
    seed: int
    n_classes: int
    n_samples: int
    n_epochs: int
    n_samples_seen: int
    batch_size: int
    n_params: int
    macs: int
    flops: int
    total_flops: float
    train_macs: int
    count_convention: str
    acc: float
    manifest_sha256: str
    checkpoint: str
    checkpoint_sha256: str
    checkpoint_bytes: int
    run_dir: str
    hub_repo: str | None = None
    device: str = "cpu"
    world_size: int = 1
    wall_time_s: float = 0.0
    started_at: str | None = None
    finished_at: str | None = None
    epochs: tuple[dict[str, Any], ...] = ()
    config: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (the JSON contract of ``vvshub train --json``)."""
        data = asdict(self)
        data["epochs"] = [dict(e) for e in self.epochs]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainResult:
        """Inverse of :meth:`to_dict`."""
        data = dict(data)
        data["epochs"] = tuple(data.get("epochs", ()))
        return cls(**data)


def _check_run_dir(run_dir: Path, config: TrainConfig, *, resume: bool, overwrite: bool) -> None:
    """Refuse a folder that holds another configuration, or checkpoints without --resume."""
    if overwrite and run_dir.exists():
        shutil.rmtree(run_dir)
        return
    stored = run_dir / ckpt.CONFIG_FILE
    if not stored.exists():
        return
    try:
        previous = json.loads(stored.read_text()).get("config_hash")
    except (OSError, ValueError):
        previous = None
    if previous != config.config_hash:
        raise ResumeError(
            f"run folder {str(run_dir)!r} holds a different configuration "
            f"({previous!r}, not {config.config_hash!r}); pass --overwrite to start over there"
        )
    if (run_dir / ckpt.RESULT_FILE).exists() and not resume:
        raise ResumeError(
            f"run {config.run_id!r} already finished ({str(run_dir)!r}); --resume prints its "
            "result, --overwrite trains it again"
        )
    if (run_dir / ckpt.RESUME_FILE).exists() and not resume:
        raise ResumeError(
            f"run {config.run_id!r} already has checkpoints in {str(run_dir)!r}; continue it "
            "with --resume, or start over with --overwrite"
        )


def train(
    config: TrainConfig,
    *,
    resume: bool = False,
    overwrite: bool = False,
    run_dir: str | Path | None = None,
    catalog: str | Path | None = None,
    push: bool = True,
    push_epochs: bool = False,
    record: bool = True,
) -> TrainResult:
    """Train one model, checkpoint every epoch, record it in the catalog and push it to the hub.

    Args:
        config: the run (see :func:`~vvshub.trainer.make_config`).
        resume: continue from the last complete epoch in the run folder; a finished run
            returns its stored result.
        overwrite: delete whatever the run folder holds first.
        run_dir: the run folder (default ``$VVSHUB_HOME/runs/{run_id}``).
        catalog: catalog file (default ``$VVSHUB_HOME/catalog.duckdb``).
        push: push the finished model to the hub (``vvshub.push``).
        push_epochs: also push every kept epoch as an ``ep{N}`` revision (needs
            ``config.keep_epochs``).
        record: write the run to the catalog (a sweep's workers leave that to the driver).

    Returns:
        The result; also written to ``result.json`` in the run folder (rank 0 only).

    Raises:
        DatasetNotFoundError, DatasetError, SubsetError, CorruptImageError: bad data.
        ResumeError: nothing to resume, or the folder belongs to another configuration.
        TrainingOutOfMemoryError: the batch does not fit; the message suggests a smaller one.
        PublishError: the model trained and is in the catalog, but the hub push failed.

    Example:
        >>> from vvshub.trainer import make_config, train
        >>> cfg = make_config("resnet18", width=0.25, dataset="cifar10_jpg.zip",  # doctest: +SKIP
        ...                   samples_per_class=10, image_size=32, overrides={"epochs": 1})
        >>> train(cfg).acc  # doctest: +SKIP
        0.1
    """
    import torch

    from vvshub.trainer._ddp import dist_context
    from vvshub.trainer._loop import resolve_device

    run_dir = Path(run_dir) if run_dir is not None else run_dir_for(config)
    result_file = run_dir / ckpt.RESULT_FILE
    if resume and result_file.exists() and not overwrite:
        stored = TrainResult.from_dict(json.loads(result_file.read_text()))
        if TrainConfig.from_dict(stored.config).config_hash == config.config_hash:
            return stored
    device = resolve_device(config.device)
    dist = dist_context(device.type)
    if dist.distributed and config.device == "auto" and device.type == "cuda":
        device = resolve_device(config.device, dist.local_rank)
    if dist.is_main:
        _check_run_dir(run_dir, config, resume=resume, overwrite=overwrite)
    dist.barrier()
    resume_file = run_dir / ckpt.RESUME_FILE
    if resume and not resume_file.exists():
        if not (run_dir / ckpt.CONFIG_FILE).exists():
            raise ResumeError(
                f"nothing to resume for {config.run_id!r}: {str(run_dir)!r} holds no run; "
                "start it without --resume"
            )
        resume = False  # the run started but finished no epoch: start it again

    # Kernel settings are process-wide: set them for this run and put them back afterwards.
    before = (
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
        torch.backends.cudnn.benchmark,
    )
    if config.deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False
    elif device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    try:
        return _train(config, run_dir, device, dist, resume, catalog, push, push_epochs, record)
    finally:
        torch.use_deterministic_algorithms(before[0], warn_only=before[1])
        torch.backends.cudnn.benchmark = before[2]


def _train(
    config: TrainConfig,
    run_dir: Path,
    device: Any,
    dist: Any,
    resume: bool,
    catalog: str | Path | None,
    push: bool,
    push_epochs: bool,
    record: bool,
) -> TrainResult:
    import torch

    from vvshub import zoo
    from vvshub.trainer._augment import eval_pipeline, train_pipeline
    from vvshub.trainer._data import open_source
    from vvshub.trainer._images import ImageSet, labelled, load_split
    from vvshub.trainer._loop import Loop

    resume_file = run_dir / ckpt.RESUME_FILE
    result_file = run_dir / ckpt.RESULT_FILE
    source = open_source(config.dataset, name=config.dataset_name)
    manifest, images = load_split(
        source,
        "train",
        config.samples_per_class,
        seed=config.seed,
        corrupt=config.corrupt,
        cache_gb=config.cache_gb,
    )
    try:
        val_manifest, val_images = load_split(
            source,
            "val",
            config.val_samples_per_class,
            seed=config.seed,
            corrupt="skip",
            cache_gb=config.cache_gb,
        )
    except SubsetError as exc:
        raise SubsetError(
            f"the val split's class {exc.class_name!r} has only {exc.available} usable images "
            f"but --val-samples-per-class is {exc.requested}; use {exc.available} or 0 (all)",
            path=exc.path,
            class_name=exc.class_name,
            available=exc.available,
            requested=exc.requested,
        ) from None
    if manifest.skipped:
        logger.warning(
            "skipped %d unreadable training image(s) (listed in the manifest)",
            len(manifest.skipped),
        )
    num_classes = len(source.classes)
    recipe = config.recipe
    train_set = ImageSet(
        source,
        labelled(manifest, source.classes),
        train_pipeline(recipe, config.image_size),
        seed=config.seed,
        images=images,
        corrupt=config.corrupt,
    )
    val_set = ImageSet(
        source,
        labelled(val_manifest, source.classes),
        eval_pipeline(recipe, config.image_size),
        seed=config.seed,
        images=val_images,
    )

    torch.manual_seed(config.seed)
    model = build_model(config, num_classes)
    counts = zoo.count(config.arch)  # the study's convention: 1000 classes, 224 x 224
    train_macs = zoo.count(model, config.image_size).macs
    loop = Loop(
        config, model, train_set, val_set, num_classes=num_classes, device=device, dist=dist
    )

    history: list[dict[str, Any]] = []
    start_epoch, wall_before = 0, 0.0
    started_at = datetime.now(UTC)
    if resume:
        state = ckpt.load_resume(resume_file)
        if state.extra.get("config_hash") != config.config_hash:
            raise ResumeError(
                f"resume file {str(resume_file)!r} belongs to another configuration; "
                "pass --overwrite to start over"
            )
        if state.extra.get("manifest_sha256") != manifest.sha256:
            raise ResumeError(
                f"the training images changed since {config.run_id!r} started (manifest "
                f"{state.extra.get('manifest_sha256')!r}, now {manifest.sha256!r}); "
                "pass --overwrite to start over"
            )
        loop.restore(state)
        start_epoch, history = state.epoch, list(state.history)
        wall_before = float(state.extra.get("wall_time_s", 0.0))
        started_at = datetime.fromisoformat(state.extra.get("started_at", started_at.isoformat()))
        logger.info("resuming %s after epoch %d", config.run_id, start_epoch)

    if dist.is_main:
        run_dir.mkdir(parents=True, exist_ok=True)
        manifest.save(run_dir / ckpt.MANIFEST_FILE)
        ckpt.atomic_write_text(run_dir / "manifest.txt", manifest_text(manifest.image_ids))
        stored = {**config.to_dict(), "config_hash": config.config_hash, "run_id": config.run_id}
        ckpt.atomic_write_text(run_dir / ckpt.CONFIG_FILE, json.dumps(stored, indent=1) + "\n")

    from vvshub._progress import track

    t0 = time.perf_counter()
    end_epoch = recipe.epochs
    for epoch in track(
        range(start_epoch, end_epoch),
        description=f"training {config.model_id}",
        total=end_epoch - start_epoch,
    ):
        stats = loop.run_epoch(epoch, started=t0 - wall_before)
        history.append(asdict(stats))
        logger.info(
            "epoch %d/%d: loss %.4f, top-1 %.4f, %.0f images/s",
            stats.epoch,
            recipe.epochs,
            stats.loss,
            stats.acc,
            stats.images_per_s,
        )
        if dist.is_main:
            _save_epoch(loop, config, run_dir, stats, history, manifest.sha256, started_at)
        dist.barrier()
    wall = wall_before + (time.perf_counter() - t0)
    weights_file = run_dir / ckpt.WEIGHTS_FILE
    n_samples = manifest.n_samples
    n_seen = n_samples * recipe.epochs
    result = TrainResult(
        model_id=config.model_id,
        run_id=config.run_id,
        arch=config.arch,
        dataset=config.dataset_name,
        samples_per_class=config.samples_per_class,
        seed=config.seed,
        n_classes=num_classes,
        n_samples=n_samples,
        n_epochs=recipe.epochs,
        n_samples_seen=n_seen,
        batch_size=loop.global_batch,
        n_params=counts.n_params,
        macs=counts.macs,
        flops=counts.flops,
        total_flops=zoo.train_flops(counts.flops, n_seen),
        train_macs=train_macs,
        count_convention=COUNT_CONVENTION,
        acc=history[-1]["acc"] if history else float("nan"),
        manifest_sha256=manifest.sha256,
        checkpoint=str(weights_file),
        checkpoint_sha256=file_sha256(weights_file) if dist.is_main else "",
        checkpoint_bytes=weights_file.stat().st_size if dist.is_main else 0,
        run_dir=str(run_dir),
        device=str(device),
        world_size=dist.world_size,
        wall_time_s=wall,
        started_at=started_at.isoformat(),
        finished_at=datetime.now(UTC).isoformat(),
        epochs=tuple(history),
        config=config.to_dict(),
    )
    if not dist.is_main:
        return result
    from vvshub.trainer._record import publish, record_result

    if record:
        record_result(result, catalog=catalog)
    if push:
        result = publish(result, loop.eval_model, push_epochs=push_epochs, catalog=catalog)
    ckpt.atomic_write_text(result_file, json.dumps(result.to_dict(), indent=1) + "\n")
    return result


def build_model(config: TrainConfig, num_classes: int) -> Any:
    """The zoo model for ``config``: its classes, drop path and (for ViTs) input size."""
    from vvshub import zoo

    kwargs: dict[str, Any] = {}
    family = zoo.recipe(config.arch).family
    if config.recipe.drop_path > 0 and family.startswith(("ConvNeXt", "ViT")):
        kwargs["drop_path_rate"] = config.recipe.drop_path
    if family.startswith("ViT"):
        kwargs["img_size"] = config.image_size
    return zoo.build(config.arch, num_classes=num_classes, **kwargs)


def _save_epoch(
    loop: Any,
    config: TrainConfig,
    run_dir: Path,
    stats: Any,
    history: list[dict[str, Any]],
    manifest_sha256: str,
    started_at: datetime,
) -> None:
    """Weights first, then the resume file: a kill in between leaves the previous epoch resumable."""
    meta = {
        "model_id": config.model_id,
        "arch": config.arch,
        "epoch": str(stats.epoch),
        "manifest_sha256": manifest_sha256,
        "config_hash": config.config_hash,
    }
    weights = loop.eval_model.state_dict()
    ckpt.save_weights(weights, run_dir / ckpt.WEIGHTS_FILE, metadata=meta)
    if config.keep_epochs:
        ckpt.save_weights(
            weights, run_dir / "epochs" / f"ep{stats.epoch}.safetensors", metadata=meta
        )
    state = ckpt.ResumeState(
        epoch=stats.epoch,
        model=loop.module.state_dict(),
        ema=loop.ema.state_dict() if loop.ema is not None else None,
        optimizer=loop.optimizer.state_dict(),
        scheduler=loop.scheduler.state_dict(),
        rng=loop.rng_state(),
        history=history,
        extra={
            "config_hash": config.config_hash,
            "manifest_sha256": manifest_sha256,
            "wall_time_s": stats.wall_time_s,
            "started_at": started_at.isoformat(),
        },
    )
    ckpt.save_resume(state, run_dir / ckpt.RESUME_FILE)
