"""One progress helper for every long loop (imports, bootstraps, training epochs)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

from vvshub.constants import progress_enabled

T = TypeVar("T")


def track(items: Iterable[T], *, description: str, total: int | None = None) -> Iterator[T]:
    """Iterate over ``items`` with a rich progress bar on stderr.

    The bar is hidden when ``VVSHUB_NO_PROGRESS=1`` or stderr is not a terminal.

    Example:
        >>> for _ in track(range(3), description="work"):
        ...     pass
    """
    import sys

    if not progress_enabled() or not sys.stderr.isatty():
        yield from items
        return
    from rich.console import Console
    from rich.progress import track as rich_track

    yield from rich_track(
        items, description=description, total=total, console=Console(stderr=True), transient=True
    )
