"""``vvshub score``, ``vvshub score-batch`` and ``vvshub cache ls|gc``: thin over ``vvshub.scorer``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vvshub.cli._common import CatalogOpt, JsonOpt, print_frame, print_json, print_text

_NORMALISATIONS = ("ratio_squared", "squared_over_ceiling", "ratio", "raw")
_SELECT_ON = ("same", "heldout")

cache_app = typer.Typer(
    help="The activation cache ($VVSHUB_HOME/activations).", no_args_is_help=True
)


def _choice(value: str, options: tuple[str, ...], option: str) -> str:
    if value not in options:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(options)}", param_hint=option)
    return value


def score_cmd(
    model: Annotated[
        str,
        typer.Argument(
            help="timm/NAME (a timm architecture), a zoo id (resnet18_w0.5_d30) or a hub id."
        ),
    ],
    benchmarks: Annotated[
        str, typer.Option(help="Comma-separated: V1, V2, V4, IT, behavior.")
    ] = "V1,V2,V4,IT,behavior",
    suite: Annotated[
        str,
        typer.Option(
            help="synthetic (simulated responses: measures the pipeline, not the brain), "
            "brainio (Brain-Score's files in $BRAINIO_HOME or ~/.brainio), brainio:DIR, or "
            "brainscore[:ID,...] (Brain-Score's own benchmarks through brainscore-vision: the "
            "brainscore extra, network for its S3 data)."
        ),
    ] = "synthetic",
    weights: Annotated[
        str, typer.Option(help="random, pretrained, or a hub id to load into the architecture.")
    ] = "pretrained",
    revision: Annotated[
        str | None, typer.Option(help="Hub revision (ep10, a tag or commit).")
    ] = None,
    normalisation: Annotated[
        str,
        typer.Option(
            help="ratio_squared ((r/c)^2, the study's), squared_over_ceiling (r^2/c, "
            "Brain-Score 2.4.2), ratio or raw."
        ),
    ] = "ratio_squared",
    select_on: Annotated[
        str,
        typer.Option(
            help="same: choose each region's layer on the reported images (the study); heldout: choose on one half, report the other."
        ),
    ] = "same",
    regression: Annotated[
        str,
        typer.Option(
            help="pls (25 components, Brain-Score's) or ridge (per-neuroid penalty by exact "
            "leave-one-out, torch); a ridge benchmark is stored under its own id (...-ridge)."
        ),
    ] = "pls",
    layers: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated candidate layers (default: the model's blocks); with "
            "--suite brainscore a region -> layer map, IT=layer3.1,V4=layer2.1 (default: the "
            "layers a prior vvshub score committed)."
        ),
    ] = None,
    device: Annotated[
        str | None, typer.Option(help="cuda or cpu (default: CUDA when present).")
    ] = None,
    batch_size: Annotated[int, typer.Option(help="Images per forward pass.")] = 32,
    seed: Annotated[int, typer.Option(help="Seed of random weights and projections.")] = 0,
    model_id: Annotated[str | None, typer.Option(help="Catalog id for the scored weights.")] = None,
    list_layers: Annotated[
        bool, typer.Option("--list-layers", help="List the candidate layers and exit.")
    ] = False,
    no_record: Annotated[
        bool, typer.Option("--no-record", help="Do not write to the catalog.")
    ] = False,
    catalog: CatalogOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Score a model's alignment with V1, V2, V4, IT and behaviour; record it in the catalog."""
    from vvshub import scorer

    if list_layers:
        # The layers are the architecture's: no need to fetch trained weights to list them.
        names = scorer.list_layers(model, weights="random" if weights == "pretrained" else weights)
        if json_out:
            print_json({"model": model, "layers": names})
        else:
            for name in names:
                print_text(name)
        return
    _choice(normalisation, _NORMALISATIONS, "--normalisation")
    _choice(select_on, _SELECT_ON, "--select-on")
    _choice(regression, ("pls", "ridge"), "--regression")
    if suite == "brainscore" or suite.startswith("brainscore:"):
        if normalisation != "ratio_squared" or select_on != "same" or regression != "pls":
            raise typer.BadParameter(
                "Brain-Score's benchmarks choose their own normalisation, regression and images; "
                "drop --normalisation, --regression and --select-on",
                param_hint="--suite brainscore",
            )
        bs_result = scorer.score_brainscore_suite(
            model,
            suite=suite,
            benchmarks=benchmarks,
            layers=layers,
            weights=weights,
            revision=revision,
            seed=seed,
            model_id=model_id,
            device=device,
            batch_size=batch_size,
            record=not no_record,
            catalog=catalog,
        )
        _render_brainscore(bs_result, json_out=json_out, recorded=not no_record)
        return
    result = scorer.score(
        model,
        benchmarks=benchmarks,
        suite=suite,
        weights=weights,
        revision=revision,
        normalisation=normalisation,
        select_on=select_on,  # type: ignore[arg-type]
        regression=regression,
        layers=[x.strip() for x in layers.split(",") if x.strip()] if layers else None,
        device=device,
        batch_size=batch_size,
        seed=seed,
        model_id=model_id,
        record=not no_record,
        catalog=catalog,
    )
    if json_out:
        print_json(result.to_dict())
        return
    _print_scores(result.scores, "region", title=f"{result.model} on the {result.suite} suite")
    if result.synthetic:
        print_text(synthetic_caption(result.suite), style="yellow")
    if result.recorded is not None:
        print_text(
            f"recorded in the catalog ({result.normalisation}, {result.scorer_version})",
            style="dim",
        )


def synthetic_caption(suite: str) -> str:
    """The line under a table of scores on simulated responses.

    Example:
        >>> synthetic_caption("brainio:/data")
        'synthetic data: the benchmark files hold simulated responses; these scores measure the pipeline, not the brain'
    """
    source = (
        "synthetic suite: simulated responses to CIFAR-10 photographs"
        if suite == "synthetic"
        else "synthetic data: the benchmark files hold simulated responses"
    )
    return f"{source}; these scores measure the pipeline, not the brain"


def _print_scores(scores, key_name: str, *, title: str) -> None:
    """One row per score: its key, score, raw value, ceiling, committed layer and benchmark."""
    import pandas as pd

    fields = ("score", "raw", "ceiling", "layer", "benchmark")
    rows = [{key_name: key, **{f: getattr(s, f) for f in fields}} for key, s in scores.items()]
    print_frame(pd.DataFrame(rows), title=title)


def _render_brainscore(result, *, json_out: bool, recorded: bool) -> None:
    if json_out:
        print_json(result.to_dict())
        return
    _print_scores(result.scores, "key", title=f"{result.model} on Brain-Score ({result.suite})")
    if recorded:
        print_text("recorded in the catalog (source brainscore-vision)", style="dim")


def score_batch_cmd(
    manifest: Annotated[
        Path | None,
        typer.Argument(help="A text file with one model per line (timm/NAME, zoo id or hub id)."),
    ] = None,
    where: Annotated[
        str | None,
        typer.Option(
            help="SQL over the catalog's models table selecting model_id, e.g. \"arch = 'resnet18'\"."
        ),
    ] = None,
    suite: Annotated[str, typer.Option(help="synthetic, brainio or brainio:DIR.")] = "synthetic",
    benchmarks: Annotated[
        str, typer.Option(help="Comma-separated benchmarks.")
    ] = "V1,V2,V4,IT,behavior",
    weights: Annotated[str, typer.Option(help="random or pretrained (per model).")] = "pretrained",
    normalisation: Annotated[str, typer.Option(help="As for vvshub score.")] = "ratio_squared",
    select_on: Annotated[str, typer.Option(help="same or heldout.")] = "same",
    workers: Annotated[int, typer.Option(help="Local Ray workers.")] = 1,
    ray_address: Annotated[
        str | None, typer.Option(help="Connect to this Ray cluster instead.")
    ] = None,
    catalog: CatalogOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Score many models with shared stimuli, splits and projections, on Ray; resumable."""
    from vvshub.scorer._batch import batch_models, score_batch

    _choice(normalisation, _NORMALISATIONS, "--normalisation")
    _choice(select_on, _SELECT_ON, "--select-on")
    models = batch_models(manifest=manifest, where=where, catalog=catalog)
    summary = score_batch(
        models,
        suite=suite,
        benchmarks=benchmarks,
        weights=weights,
        normalisation=normalisation,
        select_on=select_on,
        workers=workers,
        ray_address=ray_address,
        catalog=catalog,
    )
    if json_out:
        print_json(summary)
        return
    import pandas as pd

    print_frame(pd.DataFrame(summary["models"]), title=f"score-batch: {len(models)} models")


@cache_app.command("ls")
def cache_ls(json_out: JsonOpt = False) -> None:
    """List cached activations: model, layer, stimuli, shape, size."""
    from vvshub.scorer import cache_entries

    entries = [e.to_dict() for e in cache_entries()]
    if json_out:
        print_json(entries)
        return
    import pandas as pd

    cols = ["key", "model", "layer", "stimuli", "features", "bytes", "created_at"]
    df = pd.DataFrame(entries, columns=cols)
    df["key"] = df["key"].str[:12]
    print_frame(
        df, title=f"{len(entries)} cached arrays, {sum(e['bytes'] for e in entries):,} bytes"
    )


@cache_app.command("gc")
def cache_gc(
    max_bytes: Annotated[
        int | None, typer.Option(help="Remove the oldest entries until the cache fits.")
    ] = None,
    older_than_days: Annotated[
        float | None, typer.Option(help="Remove entries older than this.")
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Remove everything.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Remove cached activations (by age, by total size, or all)."""
    from vvshub.scorer import cache_gc as gc

    if max_bytes is None and older_than_days is None and not all_:
        raise typer.BadParameter("say what to remove: --max-bytes N, --older-than-days D or --all")
    removed = gc(max_bytes=max_bytes, older_than_days=older_than_days, everything=all_)
    out = {"removed": len(removed), "bytes": sum(e.bytes for e in removed)}
    if json_out:
        print_json(out)
    else:
        print_text(f"removed {out['removed']} cached arrays ({out['bytes']:,} bytes)")


def register(app: typer.Typer) -> None:
    """Attach ``vvshub score``, ``vvshub score-batch`` and ``vvshub cache``."""
    app.command("score")(score_cmd)
    app.command("score-batch")(score_batch_cmd)
    app.add_typer(cache_app, name="cache")
