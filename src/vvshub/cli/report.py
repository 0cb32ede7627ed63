"""``vvshub report`` and ``vvshub doctor``: a page to look at, and a health check."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vvshub.cli._common import CatalogOpt, JsonOpt, print_json


def report_cmd(
    output: Annotated[
        Path, typer.Option("--output", "-o", help="The HTML file to write.")
    ] = Path("report.html"),
    paper: Annotated[
        bool, typer.Option("--paper/--no-paper", help="Include the paper's laws, refitted.")
    ] = True,
    catalog: CatalogOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Write one self-contained HTML report: catalog tables, the paper's laws, the mini zoo, cards."""
    from vvshub.report import build_report, local_cards, mini_zoo_law

    law = mini_zoo_law(catalog=catalog)
    result = build_report(
        output, catalog=catalog, cards=local_cards(), zoo_law=law, paper=paper
    )
    if json_out:
        print_json(result.to_dict())
        return
    typer.echo(str(result.path.resolve()))


def doctor_cmd(json_out: JsonOpt = False) -> None:
    """Versions, devices, the home folder, catalog, spool and hub status, each problem with its fix."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from vvshub.doctor import run_checks, worst

    checks = run_checks()
    if json_out:
        print_json({"status": worst(checks), "checks": [c.to_dict() for c in checks]})
    else:
        styles = {"ok": "green", "warn": "yellow", "fail": "bold red"}
        table = Table(show_header=True, header_style="bold")
        for col in ("check", "status", "found", "fix"):
            table.add_column(col, overflow="fold")
        for c in checks:
            table.add_row(
                Text(c.name), Text(c.status, style=styles[c.status]), Text(c.detail), Text(c.fix)
            )
        Console().print(table)
    if worst(checks) == "fail":
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``report`` and ``doctor`` to the root app."""
    app.command("report")(report_cmd)
    app.command("doctor")(doctor_cmd)
