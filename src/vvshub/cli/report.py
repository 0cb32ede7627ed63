"""``vvshub report`` and ``vvshub doctor``: a page to look at, and a health check."""

from __future__ import annotations

import typer

from vvshub.cli._common import JsonOpt, print_json


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
    """Add ``doctor`` to the root app."""
    app.command("doctor")(doctor_cmd)
