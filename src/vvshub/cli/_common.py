"""Options shared by several commands, output rendering, and the error table."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

if TYPE_CHECKING:
    import pandas as pd

CatalogOpt = Annotated[
    str | None,
    typer.Option(
        "--catalog",
        help="Catalog to read: a .duckdb file, a Parquet export folder or URL. "
        "Default: $VVSHUB_HOME/catalog.duckdb.",
        show_default=False,
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _hint(exc: BaseException) -> str:
    """The next step to suggest for an exception, from one table."""
    from vvshub import errors

    hints: list[tuple[type[BaseException], str]] = [
        (errors.CatalogLockedError, "wait for the other process to finish, then retry"),
        (errors.ModelNotFoundError, "list models with `vvshub models ls`"),
        (errors.UnknownArchitectureError, "list architectures with `vvshub zoo ls`"),
    ]
    for cls, hint in hints:
        if isinstance(exc, cls):
            return hint
    return ""


def exit_with_error(exc: BaseException | str, *, code: int = 1) -> NoReturn:
    """Print one line for ``exc`` on stderr and exit; a traceback only with ``VVSHUB_DEBUG=1``."""
    from rich.console import Console

    from vvshub.constants import debug_enabled
    from vvshub.errors import VvsHubError

    console = Console(stderr=True, highlight=False, soft_wrap=True)
    if isinstance(exc, str):
        console.print(f"[bold red]error:[/] {exc}")
        raise SystemExit(code)
    if debug_enabled():
        raise exc
    if isinstance(exc, VvsHubError):
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        hint = _hint(exc)
    elif isinstance(exc, (FileNotFoundError, PermissionError, IsADirectoryError)):
        message, hint = str(exc), ""
    else:
        message = f"{type(exc).__name__}: {exc}".splitlines()[0]
        hint = "this is a bug in vvshub; rerun with VVSHUB_DEBUG=1 for the traceback"
    console.print(f"[bold red]error:[/] {message}", markup=True)
    if hint:
        console.print(f"[dim]hint: {hint}[/]")
    raise SystemExit(code)


def to_jsonable(value: Any) -> Any:
    """Convert numpy/pandas scalars, timestamps and containers to plain JSON types."""
    import math

    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return to_jsonable(value.tolist())
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        # JSON has no NaN or Infinity: NaN is null, ±inf the strings "inf" / "-inf"
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if value is not None and type(value).__name__ in {"NAType", "NaTType"}:
        return None
    return value


def print_json(obj: Any) -> None:
    """Print ``obj`` as indented JSON on stdout."""
    sys.stdout.write(json.dumps(to_jsonable(obj), indent=2, allow_nan=False) + "\n")


def print_frame(df: pd.DataFrame, *, title: str | None = None, max_rows: int = 200) -> None:
    """Render a DataFrame as a rich table (numbers right-aligned, long tables truncated)."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title=title, show_lines=False, header_style="bold")
    numeric = {c for c in df.columns if df[c].dtype.kind in "iuf"}
    for col in df.columns:
        table.add_column(
            str(col),
            justify="right" if col in numeric else "left",
            overflow="fold",
            min_width=len(str(col)) if col in numeric else None,
        )
    for row in df.head(max_rows).itertuples(index=False):
        table.add_row(*(_cell(v) for v in row))
    console.print(table)
    if len(df) > max_rows:
        console.print(f"[dim]… {len(df) - max_rows} more rows (use --format csv or -o FILE)[/]")


_SI = ((1e9, "G"), (1e6, "M"))


def _cell(value: Any) -> str:
    """A table cell: counts as 11.69M / 1.827G, compute as 1.404e+18 (exact values via csv/json)."""
    if value is None:
        return ""
    if isinstance(value, bool) or (
        not isinstance(value, (int, float)) and not hasattr(value, "dtype")
    ):
        return str(value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if number != number:
        return ""
    if abs(number) >= 1e12:
        return f"{number:.4g}"
    for scale, suffix in _SI:
        if abs(number) >= scale:
            return f"{number / scale:.4g}{suffix}"
    if number.is_integer():
        return f"{number:,.0f}"
    if abs(number) < 1e-3:
        return f"{number:.3g}"
    return f"{number:.4f}".rstrip("0").rstrip(".")


def write_frame(df: pd.DataFrame, *, fmt: str, output: Path | None) -> None:
    """Write a DataFrame as table, csv, json (array of objects) or parquet."""
    fmt = fmt.lower()
    if fmt == "table":
        if output is not None:
            raise typer.BadParameter(
                "--format table prints to the terminal; use csv, json or parquet with -o"
            )
        print_frame(df)
        return
    if fmt == "csv":
        text = df.to_csv(index=False)
    elif fmt == "json":
        records = df.to_dict(orient="records")
        text = json.dumps(to_jsonable(records), indent=2, allow_nan=False) + "\n"
    elif fmt == "parquet":
        if output is None:
            raise typer.BadParameter("--format parquet needs -o FILE")
        _atomic_write_parquet(df, output)
        return
    else:
        raise typer.BadParameter(
            f"unknown format {fmt!r}; expected one of table, csv, json, parquet"
        )
    if output is None:
        sys.stdout.write(text)
    else:
        tmp = output.with_name(output.name + ".part")
        tmp.write_text(text)
        tmp.replace(output)


def _atomic_write_parquet(df: pd.DataFrame, output: Path) -> None:
    tmp = output.with_name(output.name + ".part")
    df.to_parquet(tmp, index=False)
    tmp.replace(output)
