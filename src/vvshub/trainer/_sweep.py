"""Sweeps: a grid of runs (arch x width x depth x samples_per_class x seed x dataset) on Ray.

A grid file is YAML. The six axes take one value or a list; every other key is a fixed
setting of every run (a :class:`~vvshub.trainer.TrainConfig` field, or a recipe field to
override), plus ``resources`` for Ray::

    arch: resnet18
    width: [0.125, 0.25]
    samples_per_class: [10, 100]
    seed: [0, 1]
    dataset: ../shared/data/cifar10/cifar10_jpg.zip
    epochs: 2
    image_size: 32
    resources: {num_cpus: 1, num_gpus: 0}

Each run has a folder named by its run id, so a sweep started again skips the runs that
finished (re-recording them, which is idempotent) and resumes the ones that stopped
after a complete epoch. Workers train and push; the driver alone writes the catalog, so
every run's records arrive however many finish at once.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from vvshub.errors import TrainingError

__all__ = ["SweepRun", "expand_grid", "load_grid", "run_sweep"]

logger = logging.getLogger(__name__)

AXES = ("arch", "width", "depth", "samples_per_class", "seed", "dataset")
_CONFIG_KEYS = {
    "recipe",
    "image_size",
    "dataset_name",
    "val_samples_per_class",
    "corrupt",
    "device",
    "deterministic",
    "num_workers",
    "cache_gb",
    "keep_epochs",
}
Status = Literal["new", "partial", "finished", "queued", "running", "done", "skipped", "failed"]


@dataclass
class SweepRun:
    """One run of a sweep and where it stands.

    Attributes:
        config: the run's config.
        status: ``new``/``partial``/``finished`` before the sweep; then ``queued``,
            ``running``, ``done``, ``skipped`` (finished earlier) or ``failed``.
        acc: top-1 once done.
        wall_time_s: training time once done.
        error: one line, for failed runs.
    """

    config: Any
    status: Status = "new"
    acc: float | None = None
    wall_time_s: float | None = None
    error: str | None = None
    result: dict[str, Any] | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (``vvshub sweep --json``)."""
        return {
            "run_id": self.config.run_id,
            "model_id": self.config.model_id,
            "status": self.status,
            "acc": self.acc,
            "wall_time_s": self.wall_time_s,
            "error": self.error,
        }


def load_grid(path: str | Path) -> dict[str, Any]:
    """Read a grid file (YAML mapping): one grid, or ``grids:`` a list of grids.

    Keys beside ``grids`` apply to every grid in the list (a sub-grid's own keys win).

    Raises:
        TrainingError: not a file, not YAML, or not a mapping.
    """
    import yaml

    path = Path(path)
    if not path.is_file():
        raise TrainingError(f"grid file {str(path)!r} not found; see the README for an example")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise TrainingError(f"grid file {str(path)!r} is not valid YAML: {exc}") from None
    if not isinstance(data, Mapping):
        raise TrainingError(
            f"grid file {str(path)!r} must be a mapping of keys such as arch, width, "
            "samples_per_class, seed, dataset"
        )
    base = path.parent

    def resolve_data(grid: Mapping[str, Any]) -> dict[str, Any]:
        datasets = grid.get("dataset")
        if datasets is None:
            return dict(grid)
        items = datasets if isinstance(datasets, list) else [datasets]
        resolved = [  # relative data paths are relative to the grid file
            d if str(d).startswith("hf:") or Path(d).is_absolute() else str((base / d).resolve())
            for d in items
        ]
        return {**grid, "dataset": resolved}

    data = resolve_data(data)
    if "grids" in data:
        subs = data["grids"]
        if not isinstance(subs, list) or not all(isinstance(g, Mapping) for g in subs):
            raise TrainingError(f"grid file {str(path)!r}: 'grids' must be a list of grids")
        data["grids"] = [resolve_data(g) for g in subs]
    return data


def expand_grid(grid: Mapping[str, Any]) -> list[Any]:
    """Every :class:`TrainConfig` of a grid, in axis order, duplicates dropped.

    A grid with ``grids`` expands each of them (with the keys beside ``grids``) and joins
    the runs in order.

    Raises:
        TrainingError: a missing axis (arch, samples_per_class, dataset) or an unknown key.
        UnknownArchitectureError, VariantError: a bad architecture or variant in the grid.

    Example:
        >>> cfgs = expand_grid({"arch": "resnet18", "width": [0.25, 0.5],
        ...                     "samples_per_class": 10, "dataset": "cifar10_jpg.zip"})
        >>> [c.model_id for c in cfgs]
        ['resnet18_w0.25_d10_cifar10', 'resnet18_w0.5_d10_cifar10']
    """
    from vvshub.trainer._config import make_config
    from vvshub.trainer._recipes import Recipe

    if "grids" in grid:  # a list of grids (runs that are no product): their union, in order
        shared = {k: v for k, v in grid.items() if k != "grids"}
        out, seen = [], set()
        for sub in grid["grids"]:
            for cfg in expand_grid({**shared, **sub}):
                if cfg.run_id not in seen:
                    seen.add(cfg.run_id)
                    out.append(cfg)
        return out
    for axis in ("arch", "samples_per_class", "dataset"):
        if grid.get(axis) in (None, []):
            raise TrainingError(f"the grid needs {axis!r} (one value or a list)")
    recipe_fields = {f.name for f in dataclasses.fields(Recipe)}
    fixed = {k: v for k, v in grid.items() if k not in AXES and k != "resources"}
    unknown = sorted(set(fixed) - _CONFIG_KEYS - recipe_fields - {"set"})
    if unknown:
        raise TrainingError(
            f"unknown grid key(s) {', '.join(map(repr, unknown))}; axes: {', '.join(AXES)}; "
            f"settings: {', '.join(sorted(_CONFIG_KEYS | recipe_fields))}"
        )
    overrides = {k: v for k, v in fixed.items() if k in recipe_fields and k != "name"}
    overrides.update(fixed.get("set") or {})
    options = {k: v for k, v in fixed.items() if k in _CONFIG_KEYS}
    recipe = options.pop("recipe", "auto")
    dataset_name = options.pop("dataset_name", None)
    image_size = options.pop("image_size", None)

    def values(axis: str) -> list[Any]:
        v = grid.get(axis)
        return v if isinstance(v, list) else [v]

    configs, seen = [], set()
    for arch, width, depth, spc, seed, dataset in itertools.product(*(values(a) for a in AXES)):
        if isinstance(depth, str):
            depth = tuple(int(d) for d in depth.split("-"))
        cfg = make_config(
            str(arch),
            dataset=str(dataset),
            width=width,
            depth=depth,
            samples_per_class=spc,
            seed=seed,
            recipe=recipe,
            dataset_name=dataset_name,
            image_size=image_size,
            overrides=overrides,
            **options,
        )
        if cfg.run_id not in seen:
            seen.add(cfg.run_id)
            configs.append(cfg)
    return configs


def _state(config: Any) -> Status:
    from vvshub.trainer._checkpoint import RESULT_FILE, RESUME_FILE
    from vvshub.trainer._run import run_dir_for

    run_dir = run_dir_for(config)
    if (run_dir / RESULT_FILE).exists():
        return "finished"
    if (run_dir / RESUME_FILE).exists():
        return "partial"
    return "new"


def _train_remote(config_dict: dict[str, Any], home: str, push: bool, resume: bool) -> dict:
    """What a Ray worker runs: one training run, no catalog write (the driver records)."""
    os.environ["VVSHUB_HOME"] = home
    os.environ.setdefault("VVSHUB_NO_PROGRESS", "1")
    from vvshub.errors import VvsHubError
    from vvshub.trainer._config import TrainConfig
    from vvshub.trainer._run import train

    config = TrainConfig.from_dict(config_dict)
    try:
        result = train(config, resume=resume, push=push, record=False)
    except VvsHubError as exc:
        return {"error": f"{type(exc).__name__}: {exc}".splitlines()[0]}
    except Exception as exc:  # a failed run must not take the sweep down
        return {"error": f"{type(exc).__name__}: {exc}".splitlines()[0]}
    return {"result": result.to_dict()}


def run_sweep(
    grid: Mapping[str, Any],
    *,
    ray_address: str | None = None,
    num_cpus: int | None = None,
    push: bool = True,
    catalog: str | Path | None = None,
    on_update: Callable[[list[SweepRun]], None] | None = None,
) -> list[SweepRun]:
    """Run every run of a grid on Ray; skip finished ones, resume partial ones.

    Args:
        grid: the grid (see :func:`load_grid`).
        ray_address: a Ray cluster (``ray://host:10001`` or ``auto``); ``None`` starts
            Ray on this machine.
        num_cpus: CPUs for a local Ray (default: all).
        push: push each finished model to the hub.
        catalog: the catalog the driver records into.
        on_update: called with the runs whenever one changes status (a live table).

    Returns:
        The runs with their final status.
    """
    import ray

    from vvshub.constants import vvshub_home
    from vvshub.trainer._record import record_result
    from vvshub.trainer._run import TrainResult

    configs = expand_grid(grid)
    runs = [SweepRun(config=c, status=_state(c)) for c in configs]
    resources = dict(grid.get("resources") or {"num_cpus": 1})

    def update() -> None:
        if on_update is not None:
            on_update(runs)

    home = str(vvshub_home())
    for run in runs:  # finished earlier: record again (idempotent) so the catalog has them
        if run.status == "finished":
            import json

            from vvshub.trainer._run import run_dir_for

            data = json.loads((run_dir_for(run.config) / "result.json").read_text())
            result = TrainResult.from_dict(data)
            record_result(result, catalog=catalog)
            run.status, run.acc, run.wall_time_s = "skipped", result.acc, result.wall_time_s
    todo = [r for r in runs if r.status in ("new", "partial")]
    update()
    if not todo:
        return runs
    started_here = False
    if not ray.is_initialized():
        init: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
        if ray_address:
            init["address"] = ray_address
        else:
            init["num_cpus"] = num_cpus
            init["object_store_memory"] = 100_000_000
        ray.init(**init)
        started_here = True
    try:
        remote = ray.remote(**resources)(_train_remote)
        pending = {}
        for run in todo:
            resume = run.status == "partial"
            ref = remote.remote(run.config.to_dict(), home, push, resume)
            pending[ref] = run
            run.status = "queued"
        update()
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1, timeout=1.0)
            for ref in done:
                run = pending.pop(ref)
                try:
                    out = ray.get(ref)
                except Exception as exc:  # the worker died (OOM killer, node lost)
                    out = {"error": f"{type(exc).__name__}: {exc}".splitlines()[0]}
                if "error" in out:
                    run.status, run.error = "failed", out["error"]
                else:
                    result = TrainResult.from_dict(out["result"])
                    record_result(result, catalog=catalog)
                    run.status, run.acc = "done", result.acc
                    run.wall_time_s, run.result = result.wall_time_s, out["result"]
                update()
    finally:
        if started_here:
            ray.shutdown()
    return runs
