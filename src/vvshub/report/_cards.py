"""Model cards from the local hub, for the report."""

from __future__ import annotations

from pathlib import Path

from vvshub.report._html import Card

__all__ = ["local_cards"]


def local_cards(*, org: str | None = None) -> list[Card]:
    """The card of every repo in the local hub (``main``, or the newest ``ep{N}`` tag).

    Each links to its repository folder in the local hub.

    Example:
        >>> [c.model_id for c in local_cards()]  # doctest: +SKIP
        ['vvshub/resnet18_w0.5_d30_cifar10']
    """
    from vvshub.hub import list_repos, read_card

    cards = []
    for info in list_repos(org=org):
        if info.commit is None:
            continue
        text = read_card(info.repo_id, revision=None if "main" in info.revisions else _tag(info))
        cards.append(
            Card(model_id=info.repo_id, markdown=text, repo_url=Path(info.location).as_uri())
        )
    return cards


def _tag(info) -> str | None:
    tags = [n for n in info.revisions if n.startswith("ep") and n[2:].isdigit()]
    return max(tags, key=lambda n: int(n[2:])) if tags else None
