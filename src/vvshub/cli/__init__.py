"""The ``vvshub`` command line: thin typer commands over the library."""

from vvshub.cli._app import app, main

__all__ = ["app", "main"]
