"""``vvshub catalog …`` and ``vvshub sql``: build, publish and query the catalog."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vvshub.cli._common import (
    CatalogOpt,
    JsonOpt,
    console,
    print_fields,
    print_json,
    print_text,
    write_frame,
)

catalog_app = typer.Typer(help="Build and publish the catalog.", no_args_is_help=True)


@catalog_app.command("import-reference")
def import_reference_cmd(
    source: Annotated[
        str | None,
        typer.Argument(
            help="Folder with the study's five files, or a URL: a flat folder over HTTP "
            "(URL/benchmark_scores.csv …) or the study repository's scaling_primate_vvs folder "
            "(URL/artifacts/benchmark_scores.csv …). Default: the study's public repository.",
            show_default=False,
        ),
    ] = None,
    catalog: Annotated[
        Path | None,
        typer.Option(
            "--catalog", help="Catalog file to write (default $VVSHUB_HOME/catalog.duckdb)."
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Validate the files and say what would change; write nothing."
        ),
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Import the reference study's 993 models, scores and checkpoints (idempotent).

    The five files are benchmark_scores.csv, model_checkpoints.csv, benchmark_scores_ckpts.csv,
    benchmark_scores_brainscore.csv and commitments.json. From a URL they are read either side
    by side (URL/NAME) or in the study repository's layout (URL/artifacts/NAME for the CSVs,
    URL/brainscore/artifacts/commitments.json), whichever URL/benchmark_scores.csv answers.
    """
    import warnings

    from rich.text import Text

    from vvshub._format import format_number
    from vvshub.catalog import import_reference

    with warnings.catch_warnings():
        # the removal warning is shown below, from the summary
        warnings.filterwarnings("ignore", message="this import removes")
        summary = import_reference(source, catalog=catalog, dry_run=dry_run)
    if json_out:
        print_json(summary.to_dict())
        return
    if not summary.changed:
        console().print(
            Text.assemble(
                ("up to date", "green"),
                f": these reference files ({summary.import_id}) are already imported",
            )
        )
        return
    counts = ", ".join(f"{format_number(n)} {t}" for t, n in summary.rows.items())
    verb = "would import" if summary.dry_run else "imported"
    console().print(Text.assemble((verb, "green"), f" {summary.source}: {counts}"))
    if summary.removed:
        shown = ", ".join(summary.removed[:20])
        more = f" … and {len(summary.removed) - 20} more" if len(summary.removed) > 20 else ""
        console().print(
            Text.assemble(
                ("would remove" if summary.dry_run else "removed", "yellow"),
                f" {len(summary.removed)} model(s) these files no longer list: {shown}{more}",
            )
        )


@catalog_app.command("export")
def export_cmd(
    dest: Annotated[Path, typer.Argument(help="Output folder for the Parquet files.")],
    catalog: CatalogOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Export every table (and the scores view) as Parquet, one file per table."""
    from vvshub.catalog import export_catalog

    files = export_catalog(dest, catalog=catalog)
    if json_out:
        print_json([str(f) for f in files])
        return
    for f in files:
        print_text(str(f))


@catalog_app.command("info")
def info_cmd(catalog: CatalogOpt = None, json_out: JsonOpt = False) -> None:
    """Where the catalog is, its schema version, row counts and import provenance."""
    from vvshub.catalog import open_catalog, pending_spool

    with open_catalog(catalog, read_only=True) as cat:
        spooled = len(pending_spool(cat.snapshot_of or cat.location)) if cat.location else 0
        tables = cat.tables()
        counts = {t: cat.fetchall(f'SELECT count(*) FROM "{t}"')[0][0] for t in tables}
        version = (
            cat.fetchall("SELECT value FROM meta WHERE key = 'schema_version'")[0][0]
            if "meta" in tables
            else None
        )
        imports = (
            cat.query(
                "SELECT source, file, sha256, n_rows, imported_at FROM imports ORDER BY imported_at, file"
            )
            if "imports" in tables
            else None
        )
        info = {
            "location": cat.location,
            "schema_version": version,
            "rows": counts,
            "imports": [] if imports is None else imports.to_dict(orient="records"),
            "spool_pending": spooled,
            "snapshot_of": cat.snapshot_of,
        }
    if json_out:
        print_json(info)
        return
    print_fields(counts, title=f"{info['location']} (schema {version})")
    if info["snapshot_of"]:
        print_text(f"  read snapshot of {info['snapshot_of']}, which a writer holds", style="dim")
    if spooled:
        print_text(f"  spooled batches waiting: {spooled} (`vvshub catalog drain` applies them)")
    for imp in info["imports"]:
        print_text(
            f"  {imp['imported_at']} {imp['file']} sha256:{imp['sha256'][:12]}… from {imp['source']}",
            style="dim",
        )


@catalog_app.command("drain")
def drain_cmd(catalog: CatalogOpt = None, json_out: JsonOpt = False) -> None:
    """Apply record batches spooled while the catalog was locked (any writer also does)."""
    from vvshub.catalog import drain_spool, pending_spool, writable_path

    path = writable_path(catalog)
    applied = drain_spool(str(path))
    left = len(pending_spool(path))
    if json_out:
        print_json({"applied": applied, "pending": left})
        return
    print_text(f"applied {applied} spooled batch(es); {left} waiting")


def sql_cmd(
    query: Annotated[
        str, typer.Argument(help='SQL to run (read-only), e.g. "SELECT * FROM scores LIMIT 5".')
    ],
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            help="Output format: table, csv, json or parquet. Default: from the suffix of "
            "-o FILE (.csv, .json, .parquet), else table.",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to FILE instead of stdout.")
    ] = None,
    catalog: CatalogOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Run SQL on the catalog (--json: --format json). It may read the catalog's tables and
    views and nothing else: no files, no network, no extensions, no writes.
    """
    from vvshub.catalog import open_catalog

    if json_out:
        if fmt is not None and fmt.lower() not in ("table", "json"):
            raise typer.BadParameter(
                f"--json and --format {fmt} disagree; give one of them", param_hint="--json"
            )
        fmt = "json"
    elif fmt is None:
        fmt = _format_of(output)
    if fmt.lower() not in ("table", "csv", "json", "parquet"):
        raise typer.BadParameter(
            f"unknown format {fmt!r}; expected table, csv, json or parquet", param_hint="--format"
        )
    with open_catalog(catalog, read_only=True) as cat:
        df = cat.query(query)
    write_frame(df, fmt=fmt, output=output)


_SUFFIX_FORMATS = {".csv": "csv", ".json": "json", ".parquet": "parquet", ".pq": "parquet"}


def _format_of(output: Path | None) -> str:
    """The format that ``-o FILE`` asks for by its suffix (``table`` without a file)."""
    if output is None:
        return "table"
    fmt = _SUFFIX_FORMATS.get(output.suffix.lower())
    if fmt is None:
        raise typer.BadParameter(
            f"cannot tell the format of {str(output)!r} from its suffix; name a .csv, .json or "
            ".parquet file, or pass --format csv|json|parquet",
            param_hint="--output",
        )
    return fmt


def register(app: typer.Typer) -> None:
    """Add ``catalog`` and ``sql`` to the root app."""
    app.add_typer(catalog_app, name="catalog")
    app.command("sql")(sql_cmd)
