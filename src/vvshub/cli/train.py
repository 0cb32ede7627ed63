"""``vvshub train`` and ``vvshub sweep``: grow the zoo the controlled way."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from vvshub.cli._common import CatalogOpt, JsonOpt, print_fields, print_json

_RESULT_ROWS = (
    "model_id",
    "acc",
    "n_params",
    "macs",
    "total_flops",
    "n_samples",
    "samples_per_class",
    "seed",
    "batch_size",
    "manifest_sha256",
    "wall_time_s",
    "device",
    "checkpoint",
)


def _log_to_stderr() -> None:
    import logging

    from rich.console import Console
    from rich.logging import RichHandler

    logger = logging.getLogger("vvshub.trainer")
    if not any(isinstance(h, RichHandler) for h in logger.handlers):
        handler = RichHandler(console=Console(stderr=True), show_path=False, markup=False)
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)


def _parse_depth(text: str | None) -> tuple[int, ...] | None:
    if text is None:
        return None
    try:
        return tuple(int(d) for d in text.split("-"))
    except ValueError:
        raise typer.BadParameter(
            f"--depth takes block counts joined by '-', e.g. 1-2-2-1; got {text!r}"
        ) from None


def _parse_sets(items: list[str] | None) -> dict[str, Any]:
    import json

    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise typer.BadParameter(
                f"--set takes FIELD=VALUE (e.g. weight_decay=5e-4), got {item!r}"
            )
        try:
            out[key.strip()] = json.loads(value)
        except ValueError:
            out[key.strip()] = value
    return out


def train_cmd(
    arch: Annotated[
        str,
        typer.Argument(
            help="Architecture (resnet18, convnextflex-l-2, deit_small ...) or a model id "
            "(resnet18_w0.5_d30_cifar10) that carries width, images per class, data set and seed.",
            show_default=False,
        ),
    ],
    dataset: Annotated[
        str,
        typer.Option(
            "--dataset",
            help="Folder with train/ and val/, a .zip of class folders, or hf:NAME.",
            show_default=False,
        ),
    ],
    width: Annotated[float | None, typer.Option(help="Width multiplier.")] = None,
    depth: Annotated[str | None, typer.Option(help="Blocks per stage, e.g. 1-2-2-1.")] = None,
    samples_per_class: Annotated[
        str | None,
        typer.Option("--samples-per-class", "-d", help="Images per class, or 'full'."),
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="Seed of subset, init, order (default 0).")
    ] = None,
    epochs: Annotated[int | None, typer.Option(help="Override the recipe's epochs.")] = None,
    recipe: Annotated[
        str, typer.Option(help="cnn, convnext, deit, or auto (by architecture family).")
    ] = "auto",
    batch_size: Annotated[int | None, typer.Option(help="Override the global batch size.")] = None,
    lr: Annotated[float | None, typer.Option(help="Override the peak learning rate.")] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override any recipe field: FIELD=VALUE (repeatable)."),
    ] = None,
    image_size: Annotated[
        int | None, typer.Option(help="Training crop side (default: the architecture's).")
    ] = None,
    dataset_name: Annotated[
        str | None, typer.Option(help="Data set name in the model id (default: from --dataset).")
    ] = None,
    val_samples_per_class: Annotated[
        int, typer.Option(help="Evaluate on this many val images per class (0: all).")
    ] = 0,
    corrupt: Annotated[
        str, typer.Option(help="Unreadable training images: skip (counted) or error.")
    ] = "skip",
    device: Annotated[str, typer.Option(help="auto, cpu, cuda, cuda:N.")] = "auto",
    workers: Annotated[int, typer.Option(help="DataLoader worker processes.")] = 0,
    deterministic: Annotated[
        bool, typer.Option(help="Deterministic kernels (bitwise-reproducible on CPU).")
    ] = False,
    keep_epochs: Annotated[
        bool, typer.Option(help="Keep every epoch's weights (ep{N} revisions).")
    ] = False,
    push: Annotated[bool, typer.Option(help="Push the finished model to the hub.")] = True,
    push_epochs: Annotated[
        bool, typer.Option(help="Also push each kept epoch as revision ep{N}.")
    ] = False,
    resume: Annotated[bool, typer.Option(help="Continue from the last complete epoch.")] = False,
    overwrite: Annotated[bool, typer.Option(help="Start over in an existing run folder.")] = False,
    run_dir: Annotated[
        Path | None, typer.Option(help="Run folder (default $VVSHUB_HOME/runs/RUN_ID).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the resolved config and recipe; train nothing.")
    ] = False,
    catalog: CatalogOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Train a zoo model on exactly D images per class with the study's recipe.

    Checkpoints every epoch (resumable with --resume), records the run in the catalog and
    pushes the model to the hub. Under torchrun it trains on every process (DDP).
    """
    from vvshub.trainer import make_config, train

    overrides = {**_parse_sets(set_), "epochs": epochs, "batch_size": batch_size, "lr": lr}
    config = make_config(
        arch,
        dataset=dataset,
        width=width,
        depth=_parse_depth(depth),
        samples_per_class=samples_per_class,
        seed=seed,
        recipe=recipe,
        dataset_name=dataset_name,
        image_size=image_size,
        overrides=overrides,
        val_samples_per_class=val_samples_per_class,
        corrupt=corrupt,
        device=device,
        num_workers=workers,
        deterministic=deterministic,
        keep_epochs=keep_epochs or push_epochs,
    )
    if dry_run:
        data = {
            "model_id": config.model_id,
            "run_id": config.run_id,
            "config_hash": config.config_hash,
            **config.to_dict(),
        }
        if json_out:
            print_json(data)
        else:
            recipe_rows = data.pop("recipe")
            print_fields(data, title=f"vvshub train {config.model_id} (dry run)")
            print_fields(recipe_rows, title=f"recipe {recipe_rows['name']}")
        return
    _log_to_stderr()
    result = train(
        config,
        resume=resume,
        overwrite=overwrite,
        run_dir=run_dir,
        catalog=catalog,
        push=push,
        push_epochs=push_epochs,
    )
    import os

    if int(os.environ.get("RANK", "0")) != 0:
        return  # under torchrun, rank 0 reports
    if json_out:
        print_json(result.to_dict())
    else:
        data = result.to_dict()
        print_fields({k: data[k] for k in _RESULT_ROWS}, title=f"trained {result.model_id}")


def _sweep_table(runs: list) -> Any:
    from rich.table import Table
    from rich.text import Text

    from vvshub._format import format_number

    styles = {"done": "green", "skipped": "dim", "failed": "red", "queued": "yellow"}
    counts: dict[str, int] = {}
    for run in runs:
        counts[run.status] = counts.get(run.status, 0) + 1
    title = ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
    table = Table(title=f"sweep: {len(runs)} runs ({title})", header_style="bold")
    for col in ("model_id", "status", "acc", "wall s", "error"):
        table.add_column(col, justify="right" if col in ("acc", "wall s") else "left")
    for run in runs:
        d = run.to_dict()
        table.add_row(
            Text(d["model_id"]),
            Text(d["status"], style=styles.get(d["status"], "")),
            format_number(d["acc"]),
            format_number(round(d["wall_time_s"], 1) if d["wall_time_s"] is not None else None),
            Text(d["error"] or "", style="red"),
        )
    return table


def sweep_cmd(
    grid_file: Annotated[
        Path,
        typer.Argument(help="YAML grid: arch, width, depth, samples_per_class, seed, dataset."),
    ],
    ray_address: Annotated[
        str | None,
        typer.Option(help="Ray cluster address (default: start Ray on this machine)."),
    ] = None,
    num_cpus: Annotated[
        int | None, typer.Option(help="CPUs for the local Ray (default: all).")
    ] = None,
    push: Annotated[bool, typer.Option(help="Push each finished model to the hub.")] = True,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List the runs and their state; train nothing.")
    ] = False,
    catalog: CatalogOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Train every run of a grid on Ray, skipping finished runs and resuming stopped ones."""
    from vvshub.trainer import expand_grid, load_grid, run_sweep

    grid = load_grid(grid_file)
    if dry_run:
        from vvshub.trainer._sweep import SweepRun, _state

        runs = [SweepRun(config=c, status=_state(c)) for c in expand_grid(grid)]
        if json_out:
            print_json([r.to_dict() for r in runs])
        else:
            from rich.console import Console

            Console().print(_sweep_table(runs))
        return
    if json_out:
        runs = run_sweep(
            grid, ray_address=ray_address, num_cpus=num_cpus, push=push, catalog=catalog
        )
    else:
        from rich.console import Console
        from rich.live import Live

        console = Console(stderr=True)
        with Live(console=console, refresh_per_second=2, transient=False) as live:
            runs = run_sweep(
                grid,
                ray_address=ray_address,
                num_cpus=num_cpus,
                push=push,
                catalog=catalog,
                on_update=lambda rs: live.update(_sweep_table(rs)),
            )
    if json_out:
        print_json([r.to_dict() for r in runs])
    failed = [r for r in runs if r.status == "failed"]
    if failed:
        from vvshub.errors import TrainingError

        raise TrainingError(
            f"{len(failed)} of {len(runs)} runs failed (first: {failed[0].config.model_id}: "
            f"{failed[0].error}); run the sweep again to retry them"
        )


def register(app: typer.Typer) -> None:
    """Attach ``vvshub train`` (and ``vvshub sweep``) to the root app."""
    app.command("train")(train_cmd)
    app.command("sweep")(sweep_cmd)
