"""The hub: publish and pull zoo models as safetensors repos with model cards.

The embedded default is a local hub, ``$VVSHUB_HOME/hub``: one git repository
per model in the Hugging Face layout (weights as git-lfs objects, revisions
tagged ``ep{N}``, ``main`` at the benchmarked epoch), which ``vvshub hub serve``
exposes over the Hugging Face HTTP API. ``hf://ORG`` names a Hugging Face hub.

Example:
    >>> import timm, vvshub
    >>> m = timm.create_model("resnet18", num_classes=10)
    >>> vvshub.push(m, "resnet18_d10_cifar10")  # doctest: +SKIP
    >>> vvshub.pull("resnet18_d10_cifar10")  # doctest: +SKIP
"""

from vvshub.hub._api import (
    PushResult,
    RepoInfo,
    download,
    list_repos,
    pull,
    push,
    read_card,
    refresh_cards,
    repo_info,
)
from vvshub.hub._load import PullInfo
from vvshub.hub._naming import RepoRef, parse_repo_id, repo_for

__all__ = [
    "PullInfo",
    "PushResult",
    "RepoInfo",
    "RepoRef",
    "download",
    "list_repos",
    "parse_repo_id",
    "pull",
    "push",
    "read_card",
    "refresh_cards",
    "repo_for",
    "repo_info",
]
