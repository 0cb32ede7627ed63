"""Repo ids: ``ORG/NAME``, validated before they touch a path or a URL.

A repo is named after the model's short id where the short grammar can say it
(``resnet18_d10_cifar10``), else its study id (``dino_resnet18_imagenet_full_seed-0``).
Every spelling of an id therefore lands on the same repo.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from vvshub import ids
from vvshub.constants import vvshub_org
from vvshub.errors import RepoIdError

__all__ = ["RepoRef", "parse_repo_id", "repo_for"]

# The Hugging Face Hub's rules for a repo or namespace name: letters, digits, '-', '_', '.';
# no leading/trailing '-' or '.', no '--' or '..' (the HF cache uses '--' as its separator), at
# most 96 characters. They also rule out path traversal ('..', '/', '\\', NUL) by construction.
_PART = re.compile(r"^(?![-.])(?!.*(--|\.\.))[A-Za-z0-9_.\-]{1,96}(?<![-.])$")
_RULE = "letters, digits, '-', '_' and '.', no '--' or '..', not starting or ending with '-' or '.'"


@dataclass(frozen=True)
class RepoRef:
    """A validated repo id.

    Attributes:
        org: the namespace (``VVSHUB_ORG``, default ``vvshub``).
        name: the repo name (a model id in its short spelling where one exists).

    Example:
        >>> RepoRef("vvshub", "resnet18_d10_cifar10").repo_id
        'vvshub/resnet18_d10_cifar10'
    """

    org: str
    name: str

    def __post_init__(self) -> None:
        for label, part in (("organisation", self.org), ("repo name", self.name)):
            if not isinstance(part, str) or not _PART.match(part) or part.endswith(".git"):
                raise RepoIdError(
                    f"invalid {label} {part!r} in repo id {self.org}/{self.name!s}: use {_RULE}",
                    repo_id=f"{self.org}/{self.name}",
                )

    @property
    def repo_id(self) -> str:
        """``ORG/NAME``."""
        return f"{self.org}/{self.name}"

    def __str__(self) -> str:
        return self.repo_id


def parse_repo_id(text: str) -> RepoRef:
    """Validate an explicit ``ORG/NAME`` repo id.

    Raises:
        RepoIdError: not exactly one ``/``, or a part with characters outside the allowed set.

    Example:
        >>> parse_repo_id("vvshub/resnet18_w0.5_d30").name
        'resnet18_w0.5_d30'
    """
    if not isinstance(text, str) or text.count("/") != 1:
        raise RepoIdError(
            f"invalid repo id {text!r}: expected ORG/NAME, e.g. 'vvshub/resnet18_w0.5_d30'",
            repo_id=str(text),
        )
    org, name = text.split("/")
    return RepoRef(org, name)


def model_name(mid: ids.ModelId) -> str:
    """The repo name of a parsed model id: its short spelling, else its study spelling."""
    return mid.short_id() or mid.study_id()


def repo_for(model_id: str, *, org: str | None = None) -> tuple[RepoRef, ids.ModelId]:
    """The repo that holds ``model_id`` (any spelling), and the parsed id.

    ``ORG/NAME`` is also accepted; NAME must then be a model id too.

    Raises:
        ModelIdError: the name parses in no id grammar.
        RepoIdError: the resulting repo id breaks the naming rules.

    Example:
        >>> repo_for("resnet18_imagenet_30_seed-0")[0].repo_id
        'vvshub/resnet18_d30'
    """
    text = model_id.strip() if isinstance(model_id, str) else model_id
    if isinstance(text, str) and "/" in text:
        explicit = parse_repo_id(text)
        org, text = explicit.org, explicit.name
    if not isinstance(text, str) or any(c in text for c in "\\\x00") or text in (".", ".."):
        raise RepoIdError(f"invalid model id {model_id!r}: {_RULE}", repo_id=str(model_id))
    mid = ids.parse(text)
    return RepoRef(org or vvshub_org(), model_name(mid)), mid
