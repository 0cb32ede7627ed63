"""Options shared by several commands, output rendering, and the error table.

Every command renders through these helpers, so output reads the same everywhere:
numbers through :func:`vvshub._format.format_number`, tables through :func:`print_frame`,
key/value summaries through :func:`print_fields`, lines through :func:`print_text`, errors
through :func:`exit_with_error`. Text from users or data never reaches rich as markup: the
helpers hand rich ``Text`` objects (or escaped strings), so ``[/]`` or ``[bold]`` in a query
result, a path or an error message prints as typed.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from vvshub._format import format_number

if TYPE_CHECKING:
    import pandas as pd
    from rich.console import Console

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
        (errors.NotPublishedError, "list published models with `vvshub hub ls`"),
        (errors.ModelNotFoundError, "list models with `vvshub models ls`"),
        (errors.UnknownArchitectureError, "list architectures with `vvshub zoo ls`"),
        (errors.LayerNotFoundError, "list layers with `vvshub score MODEL --list-layers`"),
        (errors.WeightsUnavailableError, "score random weights with `--weights random`"),
    ]
    for cls, hint in hints:
        if isinstance(exc, cls):
            return hint
    return ""


def exit_with_error(exc: BaseException | str, *, code: int = 1) -> NoReturn:
    """Print one line for ``exc`` on stderr and exit; a traceback only with ``VVSHUB_DEBUG=1``."""
    from rich.text import Text

    from vvshub.constants import debug_enabled
    from vvshub.errors import VvsHubError

    err = console(stderr=True)
    if isinstance(exc, str):
        err.print(_error_line(exc))
        raise SystemExit(code)
    if debug_enabled():
        raise exc
    if isinstance(exc, VvsHubError):
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        hint = _hint(exc)
    elif isinstance(exc, OSError):  # a missing file, a full disk, a refused connection
        message, hint = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc), ""
    else:
        message = f"{type(exc).__name__}: {exc}".splitlines()[0]
        hint = "this is a bug in vvshub; rerun with VVSHUB_DEBUG=1 for the traceback"
    err.print(_error_line(message))
    if hint:
        err.print(Text(f"hint: {hint}", style="dim"))
    raise SystemExit(code)


def _error_line(message: str) -> Any:
    """``error: message`` as a rich Text: the message is printed as it is, never as markup."""
    from rich.text import Text

    return Text.assemble(("error:", "bold red"), " ", str(message))


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


def console(*, stderr: bool = False) -> Console:
    """The rich console every command prints through (no highlighting of data)."""
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=stderr)


def print_text(text: str, *, style: str | None = None, stderr: bool = False) -> None:
    """Print ``text`` as it is (never parsed as markup), optionally in one rich ``style``."""
    from rich.text import Text

    console(stderr=stderr).print(Text(str(text), style=style or ""))


def print_warning(message: str, *, kind: str = "warning") -> None:
    """One ``kind: message`` line on stderr (``message`` printed as it is)."""
    from rich.text import Text

    console(stderr=True).print(Text.assemble((f"{kind}:", "bold yellow"), " ", str(message)))


def print_fields(
    fields: Mapping[str, Any], *, title: str | None = None, missing: str = "—"
) -> None:
    """A key/value summary: one ``key  value`` line per field, numbers written as in tables."""
    from rich.text import Text

    out = console()
    if title is not None:
        out.print(Text(str(title), style="bold"))
    width = max((len(str(k)) for k in fields), default=0) + 2
    for key, value in fields.items():
        out.print(Text(f"  {key!s:<{width}}{format_number(value, missing=missing)}"))


def print_frame(df: pd.DataFrame, *, title: str | None = None, max_rows: int = 200) -> None:
    """Render a DataFrame as a rich table (numbers right-aligned, long tables truncated).

    Cells, headers and the title are printed literally; numbers go through
    :func:`~vvshub._format.format_number` (exact values: ``--json`` or ``--format csv``).
    """
    from rich.table import Table
    from rich.text import Text

    out = console()
    table = Table(
        title=Text(str(title)) if title is not None else None, show_lines=False, header_style="bold"
    )
    numeric = {c for c in df.columns if df[c].dtype.kind in "iuf"}
    for col in df.columns:
        table.add_column(
            Text(str(col)),
            justify="right" if col in numeric else "left",
            overflow="fold",
            min_width=len(str(col)) if col in numeric else None,
        )
    for row in df.head(max_rows).itertuples(index=False):
        table.add_row(*(Text(format_number(v)) for v in row))
    out.print(table)
    if len(df) > max_rows:
        out.print(
            Text(f"… {len(df) - max_rows} more rows (use --format csv or -o FILE)", style="dim")
        )


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
