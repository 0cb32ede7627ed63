"""``vvshub models ls|show``: browse the catalog's models."""

from __future__ import annotations

from typing import Annotated

import typer

from vvshub.cli._common import (
    CatalogOpt,
    JsonOpt,
    print_fields,
    print_frame,
    print_json,
    print_text,
)

models_app = typer.Typer(help="Browse the catalog's models.", no_args_is_help=True)


@models_app.command("ls")
def ls_cmd(
    arch: Annotated[str | None, typer.Option(help="Only this architecture, e.g. resnet18.")] = None,
    dataset: Annotated[
        str | None, typer.Option(help="Only this training set, e.g. ecoset.")
    ] = None,
    family: Annotated[str | None, typer.Option(help="Only this family, e.g. ConvNeXt.")] = None,
    where: Annotated[
        str | None,
        typer.Option(
            help='Extra SQL condition on models columns (alias m), e.g. "m.n_params > 1e7".'
        ),
    ] = None,
    catalog: CatalogOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """List models with their mean neural and behavioural alignment."""
    from vvshub.catalog import list_models, open_catalog, suggest_filters

    with open_catalog(catalog, read_only=True) as cat:
        df = list_models(cat, arch=arch, dataset=dataset, family=family, where=where)
        if df.empty:
            filters = {"arch": arch, "dataset": dataset, "family": family}
            _say_why_empty(filters, suggest_filters(cat, **filters))
    if json_out:
        print_json(df.to_dict(orient="records"))
        return
    # the terminal gets the columns that fit; --json has them all
    columns = [
        "model_id",
        "samples_per_class",
        "seed",
        "n_params",
        "total_flops",
        "neural",
        "behavior",
    ]
    print_frame(df[columns].rename(columns={"samples_per_class": "spc"}), title=f"{len(df)} models")


_FILTER_COLUMN = {"arch": "arch", "dataset": "dataset", "family": "arch_family"}


def _say_why_empty(filters: dict[str, str | None], suggestions: dict[str, list[str]]) -> None:
    """On stderr: which filter matches no model, and the closest values the catalog has."""
    from rich.console import Console
    from rich.text import Text

    console = Console(stderr=True, highlight=False, soft_wrap=True)
    if not suggestions:
        console.print(Text("no model matches these filters together; drop one to see more"))
    for name, close in suggestions.items():
        if close:
            hint = f"closest: {', '.join(close)}"
        else:
            column = _FILTER_COLUMN[name]
            hint = f'list them with `vvshub sql "SELECT DISTINCT {column} FROM models"`'
        console.print(Text(f"no model has --{name} {filters[name]!r}; {hint}"))


@models_app.command("show")
def show_cmd(
    model_id: Annotated[
        str, typer.Argument(help="Any spelling: study id, short id (resnet18_dfull) …")
    ],
    catalog: CatalogOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Metadata, scores, checkpoints and aliases of one model."""
    from vvshub.catalog import model_detail, open_catalog

    with open_catalog(catalog, read_only=True) as cat:
        detail = model_detail(cat, model_id)
    if json_out:
        print_json(detail)
        return
    _render_detail(detail)


def _render_detail(detail: dict) -> None:
    import pandas as pd

    print_text(f"{detail['model_id']}  aliases: {', '.join(detail['aliases'])}", style="bold")
    model = detail["model"]
    if model:
        keys = [
            "arch",
            "arch_family",
            "dataset",
            "samples_per_class",
            "seed",
            "n_params",
            "macs",
            "total_flops",
            "n_samples_seen",
            "acc",
            "count_convention",
            "source",
        ]
        print_fields({k: model.get(k) for k in keys})
    else:
        print_text("  no metadata: known only from its published checkpoints", style="dim")
    if detail["scores"]:
        print_frame(
            pd.DataFrame(detail["scores"])[
                ["region", "score", "layer", "benchmark", "scorer_version"]
            ],
            title="scores",
        )
    ckpts = detail["checkpoints"]
    if ckpts:
        bench = [c["epoch"] for c in ckpts if c["is_benchmarked"]]
        print_text(
            f"  {len(ckpts)} checkpoints, epochs {ckpts[0]['epoch']}–{ckpts[-1]['epoch']}"
            + (f", benchmarked epoch {bench[0]}" if bench else "")
        )


def register(app: typer.Typer) -> None:
    """Add ``models`` to the root app."""
    app.add_typer(models_app, name="models")
