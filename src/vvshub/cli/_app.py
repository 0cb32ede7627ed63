"""The typer app and the entry point that turns exceptions into one-line errors.

Each command module exposes ``register(app)``; heavy imports (torch, timm,
duckdb, numpy) stay inside command bodies so ``vvshub --help`` is instant.
"""

from __future__ import annotations

import importlib
import sys

import typer

from vvshub.cli._common import exit_with_error

app = typer.Typer(
    name="vvshub",
    help="Hub for controlled model zoos of the primate ventral visual stream.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="rich",
)

# Command modules, in the order their commands appear in --help.
_REGISTRARS = (
    "vvshub.cli.catalog",
    "vvshub.cli.models",
    "vvshub.cli.laws",
    "vvshub.cli.laws_suggest",
    "vvshub.cli.zoo",
    "vvshub.cli.train",
    "vvshub.cli.hub",
    "vvshub.cli.report",
    "vvshub.cli.score",
)

for _name in _REGISTRARS:
    importlib.import_module(_name).register(app)


def _print_version(value: bool) -> None:
    # eager, so `vvshub --version` answers before typer asks for a command
    if value:
        from importlib.metadata import version as _v

        typer.echo(_v("vvshub"))
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False,
        "--version",
        help="Print the version and exit.",
        is_eager=True,
        callback=_print_version,
    ),
) -> None:
    """vvshub: checkpoints, scores, a SQL catalog and scaling laws for VVS model zoos."""


def _show_warning(
    message: Warning | str, category: type[Warning], *args: object, **kw: object
) -> None:
    """A warning as one ``warning: …`` line on stderr (not Python's file:line and source)."""
    from rich.console import Console
    from rich.text import Text

    Console(stderr=True, highlight=False, soft_wrap=True).print(Text(f"warning: {message}"))


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; a vvshub error becomes one styled line and exit code 1."""
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            app(args=argv, standalone_mode=True)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        exit_with_error("interrupted", code=130)
    except Exception as exc:  # mapped to one line by exit_with_error
        exit_with_error(exc)


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
