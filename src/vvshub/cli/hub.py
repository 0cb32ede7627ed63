"""``vvshub pull|push`` and ``vvshub hub ls|info|serve|refresh-cards|convert-reference|publish-reference``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from vvshub.cli._common import CatalogOpt, JsonOpt, print_frame, print_json

hub_app = typer.Typer(
    help="The hub: safetensors repos with model cards (local by default, hf://ORG remote).",
    no_args_is_help=True,
)

FromOpt = Annotated[
    str | None,
    typer.Option(
        "--from",
        help="Where to pull from: local (the local hub) or hf://ORG (a Hugging Face hub at "
        "HF_ENDPOINT). Default: the local hub, then the study's checkpoint on demand.",
        show_default=False,
    ),
]
ToOpt = Annotated[
    str | None,
    typer.Option("--to", help="Where to publish: local (default) or hf://ORG.", show_default=False),
]


def _kv(rows: list[tuple[str, Any]], *, title: str | None = None) -> None:
    import pandas as pd

    print_frame(pd.DataFrame(rows, columns=["field", "value"]).astype({"value": str}), title=title)


def pull_cmd(
    model_id: Annotated[
        str, typer.Argument(help="Any spelling: resnet18_w0.5_d30, a study id, or ORG/NAME.")
    ],
    revision: Annotated[
        str | None, typer.Option(help="main (the benchmarked epoch), a tag such as ep10, a commit.")
    ] = None,
    to: Annotated[
        Path | None,
        typer.Option("--to", help="Save the verified files (weights, config, card) in DIR."),
    ] = None,
    source: FromOpt = None,
    catalog: CatalogOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Check a model's sha256, then load it (or save it with --to)."""
    from vvshub.hub import download, pull

    if to is not None:
        info = download(model_id, revision, to=to, source=source, catalog=catalog)
        out = info.to_dict()
    else:
        model = pull(model_id, revision, source=source, catalog=catalog)
        meta = model.vvshub_config.get("vvshub") or {}
        out = model.hub_info.to_dict() | {
            "architecture": model.vvshub_config.get("architecture"),
            "num_classes": model.vvshub_config.get("num_classes"),
            "n_params": sum(p.numel() for p in model.parameters()),
            "model_id": meta.get("model_id"),
        }
    if json_out:
        print_json(out)
        return
    _kv(list(out.items()), title="saved" if to is not None else "pulled (sha256 verified)")


def push_cmd(
    path_or_model: Annotated[
        str,
        typer.Argument(
            help="A repo folder (model.safetensors + config.json), or a model id of the local "
            "hub to publish elsewhere with --to."
        ),
    ],
    model_id: Annotated[
        str | None,
        typer.Option("--model-id", help="Publish under this id (default: the folder's config)."),
    ] = None,
    epoch: Annotated[int | None, typer.Option(help="Tag the revision ep{N}.")] = None,
    no_main: Annotated[
        bool, typer.Option("--no-main", help="Publish the tag only; leave main where it is.")
    ] = False,
    to: ToOpt = None,
    catalog: CatalogOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Publish a repo folder, or copy a local hub model to another hub (--to hf://ORG)."""
    import json
    import shutil
    import tempfile

    from vvshub.errors import CheckpointError
    from vvshub.hub import download, push, repo_info

    path = Path(path_or_model)
    results = []
    if path.exists():
        if model_id is None:
            config_file = path / "config.json"
            try:
                block = json.loads(config_file.read_text()).get("vvshub") or {}
            except (OSError, ValueError):
                block = {}
            model_id = block.get("short_id") or block.get("model_id")
            if model_id is None:
                raise CheckpointError(f"{path} does not say which model it is; pass --model-id ID")
        results.append(
            push(path, model_id, epoch=epoch, benchmarked=not no_main, to=to, catalog=catalog)
        )
    else:
        info = repo_info(path_or_model)
        main = info.revisions.get("main")
        tags = sorted(
            (int(t[2:]), t) for t in info.revisions if t.startswith("ep") and t[2:].isdigit()
        )
        plan = [(n, t, info.revisions[t] == main) for n, t in tags] or [(None, "main", True)]
        for n, tag, is_main in plan:
            folder = Path(tempfile.mkdtemp())
            try:
                download(info.repo_id, tag, to=folder, source="local")
                results.append(
                    push(
                        folder,
                        model_id or path_or_model,
                        epoch=n,
                        benchmarked=is_main and not no_main,
                        to=to,
                        catalog=catalog,
                    )
                )
            finally:
                shutil.rmtree(folder, ignore_errors=True)
    rows = [r.to_dict() for r in results]
    if json_out:
        print_json(rows if len(rows) > 1 else rows[0])
        return
    import pandas as pd

    print_frame(pd.DataFrame(rows)[["repo_id", "revision", "commit", "main", "noop", "location"]])


@hub_app.command("ls")
def ls_cmd(
    org: Annotated[str | None, typer.Option(help="Only this organisation.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """List the local hub's repos with their revisions."""
    from vvshub.hub import list_repos

    repos = list_repos(org=org)
    rows = []
    for r in repos:
        meta = r.config.get("vvshub") or {}
        rows.append(
            {
                "repo_id": r.repo_id,
                "arch": meta.get("arch"),
                "dataset": meta.get("dataset"),
                "samples_per_class": meta.get("samples_per_class"),
                "n_params": meta.get("n_params"),
                "revisions": " ".join(sorted(r.revisions, key=_rev_key)),
                "size_bytes": r.size_bytes,
            }
        )
    if json_out:
        print_json([r.to_dict() for r in repos])
        return
    import pandas as pd

    columns = ["repo_id", "arch", "dataset", "samples_per_class", "n_params", "revisions"]
    print_frame(pd.DataFrame(rows, columns=columns), title=f"{len(rows)} repos")


def _rev_key(name: str) -> tuple[int, int | str]:
    if name == "main":
        return (0, 0)
    if name.startswith("ep") and name[2:].isdigit():
        return (1, int(name[2:]))
    return (2, name)


@hub_app.command("info")
def info_cmd(
    model_id: Annotated[str, typer.Argument(help="Any spelling of the id, or ORG/NAME.")],
    revision: Annotated[str | None, typer.Option(help="Revision (default main).")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Revisions, weights hash and scaling metadata of one local repo."""
    from vvshub.hub import repo_info

    info = repo_info(model_id, revision=revision)
    if json_out:
        print_json(info.to_dict())
        return
    meta = info.config.get("vvshub") or {}
    rows: list[tuple[str, Any]] = [
        ("repo_id", info.repo_id),
        ("location", info.location),
        ("commit", info.commit),
        ("sha256", info.sha256),
        ("size_bytes", info.size_bytes),
        ("revisions", " ".join(sorted(info.revisions, key=_rev_key))),
        ("architecture", info.config.get("architecture")),
        ("num_classes", info.config.get("num_classes")),
    ]
    rows += [(k, v) for k, v in meta.items() if k != "training_config"]
    _kv(rows, title=info.repo_id)


@hub_app.command("serve")
def serve_cmd(
    port: Annotated[int | None, typer.Option(help="TCP port (default: a free one).")] = None,
    host: Annotated[
        str, typer.Option(help="Interface to bind; loopback unless you mean to share it.")
    ] = "127.0.0.1",
) -> None:
    """Serve the local hub over the Hugging Face HTTP API (olah, offline) until Ctrl-C."""
    import sys

    from vvshub.hub._serve import serve

    server = serve(port=port, host=host)
    sys.stderr.write(
        f"serving {server.url}  (export HF_ENDPOINT={server.url}; HF_HUB_DISABLE_XET=1)\n"
        'then: timm.create_model("hf-hub:ORG/NAME", pretrained=True)  Ctrl-C stops\n'
    )
    try:
        server.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


@hub_app.command("refresh-cards")
def refresh_cards_cmd(
    model_ids: Annotated[
        list[str] | None, typer.Argument(help="Repos to refresh (default: all).")
    ] = None,
    catalog: CatalogOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Re-render model cards with the catalog's current scores (unchanged cards: no commit)."""
    from vvshub.hub import refresh_cards

    results = refresh_cards(model_ids or None, catalog=catalog)
    rows = [r.to_dict() for r in results]
    if json_out:
        print_json(rows)
        return
    changed = sum(not r.noop for r in results)
    typer.echo(f"{changed} of {len(results)} cards re-rendered")


@hub_app.command("convert-reference")
def convert_reference_cmd(
    checkpoint: Annotated[Path, typer.Argument(help="A Composer checkpoint of the study (.pt).")],
    model_id: Annotated[str, typer.Option("--model-id", help="The model's id (any spelling).")],
    arch: Annotated[str | None, typer.Option(help="Architecture (default: from the id).")] = None,
    epoch: Annotated[
        int | None, typer.Option(help="Epoch (default: from a file name epN.pt).")
    ] = None,
    no_main: Annotated[
        bool, typer.Option("--no-main", help="Tag only; main stays on the benchmarked epoch.")
    ] = False,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the repo folder here instead of pushing.")
    ] = None,
    to: ToOpt = None,
    catalog: CatalogOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Convert one study checkpoint (read with weights_only=True) into a vvshub repo."""
    from vvshub.hub._reference import convert_reference

    result = convert_reference(
        checkpoint,
        model_id=model_id,
        arch=arch,
        epoch=epoch,
        benchmarked=not no_main,
        out=out,
        to=to,
        catalog=catalog,
    )
    if json_out:
        print_json(result)
        return
    flat = {k: v for k, v in result.items() if k != "push"} | {
        f"push.{k}": v for k, v in (result.get("push") or {}).items()
    }
    _kv(list(flat.items()), title="converted")


@hub_app.command("publish-reference")
def publish_reference_cmd(
    to: ToOpt = None,
    where: Annotated[
        str | None,
        typer.Option(
            help="SQL condition on checkpoints (c.) and models (m.), e.g. \"m.arch_family = 'ResNet'\"."
        ),
    ] = None,
    epochs: Annotated[
        str, typer.Option(help="benchmarked (one per model, becomes main) or all.")
    ] = "benchmarked",
    workers: Annotated[int, typer.Option(help="Parallel downloads and conversions.")] = 2,
    mirror: Annotated[
        str | None,
        typer.Option(help="Base URL serving the study's paths (default: its S3 bucket)."),
    ] = None,
    limit: Annotated[int | None, typer.Option(help="At most this many checkpoints.")] = None,
    attempts: Annotated[
        int, typer.Option(help="Tries per download; 429/5xx back off exponentially.")
    ] = 5,
    catalog: CatalogOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Download, convert, card and publish the study's checkpoints; a re-run resumes."""
    from vvshub.hub._reference import publish_reference

    summary = publish_reference(
        to=to,
        where=where,
        epochs=epochs,  # type: ignore[arg-type]
        workers=workers,
        mirror=mirror,
        catalog=catalog,
        limit=limit,
        attempts=attempts,
    )
    out = summary.to_dict()
    if json_out:
        print_json(out)
    else:
        typer.echo(f"done {out['done']}, skipped {out['skipped']}, failed {out['failed']}")
        for f in out["failures"]:
            typer.echo(f"  failed {f['model_id']} ep{f['epoch']}: {f['error']}", err=True)
    if summary.failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Attach ``vvshub pull``, ``vvshub push`` and ``vvshub hub`` to the root app."""
    app.command("pull")(pull_cmd)
    app.command("push")(push_cmd)
    app.add_typer(hub_app, name="hub")
