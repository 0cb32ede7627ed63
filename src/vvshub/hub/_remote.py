"""The Hugging Face Hub as a remote (``hf://ORG``), through huggingface_hub.

The endpoint is huggingface_hub's (``HF_ENDPOINT``, read when it is imported);
the token is ``HF_TOKEN``. A pull resolves the revision to a commit and the
weights' sha256 (the LFS object id), downloads, and checks the bytes against
it: ``hf_hub_download`` checks sizes only. A push is one commit (all files),
then the ``ep{N}`` tag, and adds the repo to its family's Collection.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vvshub.errors import HubError, IntegrityError
from vvshub.hub._cache import Cache
from vvshub.hub._format import CONFIG_FILE, WEIGHTS_FILE
from vvshub.hub._git import sha256_file
from vvshub.hub._http import retry, status_of
from vvshub.hub._local import Resolved
from vvshub.hub._naming import RepoRef

if TYPE_CHECKING:
    from vvshub.hub._api import PushResult

__all__ = ["RemoteSource", "push_folder"]

logger = logging.getLogger(__name__)

#: The Hub's limits we stay under: files per commit and a pause between commits of one
#: process (the Hub rate-limits commits per repo and per hour).
MAX_FILES_PER_COMMIT = 100


def _endpoint() -> str:
    from huggingface_hub import constants

    return constants.ENDPOINT.rstrip("/")


def _offline() -> bool:
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE)


def _missing(exc: BaseException) -> bool:
    from huggingface_hub.errors import (
        EntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    return isinstance(exc, (RepositoryNotFoundError, RevisionNotFoundError, EntryNotFoundError))


class RemoteSource:
    """Pull from ``hf://ORG`` at the current endpoint."""

    def __init__(self, org: str) -> None:
        from huggingface_hub import HfApi

        self.org = org
        self.endpoint = _endpoint()
        self.key = f"hf://{org} at {self.endpoint}"
        self.api = HfApi(endpoint=self.endpoint)
        self.cache = Cache()

    def resolve(self, ref: RepoRef, revision: str | None) -> Resolved | None:
        rev = revision or "main"
        if _offline():
            known = self.cache.recall(self.endpoint, ref, rev)
            if known is None:
                raise HubError(
                    f"HF_HUB_OFFLINE is set and {ref.repo_id}@{rev} was never pulled from "
                    f"{self.endpoint}; pull it once online"
                )
            return Resolved(known["commit"], known["sha256"], known["size"], ())
        url = f"{self.endpoint}/api/models/{ref.repo_id}/revision/{rev}"
        try:
            info = retry(
                lambda: self.api.model_info(ref.repo_id, revision=rev),
                what=f"resolve {ref.repo_id}@{rev}",
                url=url,
            )
            paths = retry(
                lambda: self.api.get_paths_info(
                    ref.repo_id, [WEIGHTS_FILE], revision=info.sha, expand=True
                ),
                what=f"list {ref.repo_id}@{rev}",
                url=url,
            )
        except HubError as exc:
            if exc.__cause__ is not None and _missing(exc.__cause__):
                return None
            if getattr(exc, "status", None) == 404:
                return None
            raise
        lfs = paths[0].lfs if paths else None
        if lfs is None:
            raise IntegrityError(
                f"{ref.repo_id}@{rev} at {self.endpoint} has no LFS record for {WEIGHTS_FILE}; "
                "cannot verify its weights, so they are not loaded"
            )
        sha = lfs.sha256 if hasattr(lfs, "sha256") else lfs["sha256"]
        size = lfs.size if hasattr(lfs, "size") else lfs["size"]
        self.cache.remember(self.endpoint, ref, rev, info.sha, sha, size)
        return Resolved(info.sha, sha, size, ())

    def export(self, ref: RepoRef, resolved: Resolved, dest: Path) -> None:
        from huggingface_hub import hf_hub_download

        try:
            names = retry(
                lambda: self.api.list_repo_files(ref.repo_id, revision=resolved.commit),
                what=f"list files of {ref.repo_id}",
            )
        except HubError:
            names = [CONFIG_FILE, WEIGHTS_FILE, "README.md"]
        for name in names:
            if name.startswith("."):
                continue
            retry(
                lambda name=name: hf_hub_download(
                    ref.repo_id,
                    name,
                    revision=resolved.commit,
                    local_dir=dest,
                    endpoint=self.endpoint,
                ),
                what=f"download {ref.repo_id}/{name}",
            )
        digest, _ = sha256_file(dest / WEIGHTS_FILE)
        if digest != resolved.sha256:
            raise IntegrityError(
                f"{WEIGHTS_FILE} of {ref.repo_id}@{resolved.commit[:12]} from {self.endpoint} "
                f"fails its sha256 check (expected {resolved.sha256}, got {digest}); not loaded",
                path=str(dest / WEIGHTS_FILE),
                expected=resolved.sha256,
                actual=digest,
            )


def push_folder(
    ref: RepoRef,
    folder: Path,
    *,
    message: str,
    tag: str | None,
    set_main: bool,
    family: str | None = None,
) -> PushResult:
    """Publish ``folder`` to ``hf://ref.org`` as one commit (then tag it ``tag``).

    With ``set_main=False`` the commit goes to a temporary branch made from ``main``, is
    tagged, and the branch is deleted: ``main`` never sees it.
    """
    from huggingface_hub import CommitOperationAdd, HfApi

    from vvshub.hub._api import PushResult

    endpoint = _endpoint()
    api = HfApi(endpoint=endpoint)
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    if len(files) > MAX_FILES_PER_COMMIT:
        raise HubError(f"{len(files)} files exceed one commit's limit ({MAX_FILES_PER_COMMIT})")
    retry(
        lambda: api.create_repo(ref.repo_id, repo_type="model", exist_ok=True),
        what=f"create {ref.repo_id}",
    )
    ops = [CommitOperationAdd(path_in_repo=p.name, path_or_fileobj=str(p)) for p in files]
    branch = "main"
    if not set_main:
        branch = f"vvshub-staging-{tag or 'push'}"
        retry(
            lambda: api.create_branch(ref.repo_id, branch=branch, exist_ok=True),
            what=f"branch {ref.repo_id}@{branch}",
        )
    info = retry(
        lambda: api.create_commit(
            ref.repo_id, operations=ops, commit_message=message, revision=branch
        ),
        what=f"commit to {ref.repo_id}",
    )
    commit = info.oid
    if tag:
        try:
            retry(
                lambda: api.delete_tag(ref.repo_id, tag=tag),
                what=f"move tag {tag}",
                attempts=2,
            )
        except HubError as exc:
            if status_of(exc) not in (404, None) and not _missing(exc.__cause__ or exc):
                raise
        retry(
            lambda: api.create_tag(ref.repo_id, tag=tag, revision=commit),
            what=f"tag {ref.repo_id}@{tag}",
        )
    if not set_main:
        retry(lambda: api.delete_branch(ref.repo_id, branch=branch), what=f"delete {branch}")
    sha, size = sha256_file(folder / WEIGHTS_FILE)
    if family:
        try:
            _add_to_collection(api, ref, family)
        except HubError as exc:  # the model is published; only its listing failed
            import warnings

            warnings.warn(
                f"{ref.repo_id} is published but was not added to its {family} collection: {exc}",
                stacklevel=3,
            )
    return PushResult(
        repo_id=ref.repo_id,
        revision=tag or "main",
        commit=commit,
        sha256=sha,
        size_bytes=size,
        destination=f"hf://{ref.org}",
        location=f"{endpoint}/{ref.repo_id}",
        main=set_main,
        noop=False,
    )


def _add_to_collection(api: Any, ref: RepoRef, family: str) -> None:
    """Add the repo to the org's Collection of its family (created on first use)."""
    title = f"vvshub {family}"
    collection = retry(
        lambda: api.create_collection(
            title=title,
            namespace=ref.org,
            description=f"{family} models of the vvshub zoo (primate ventral visual stream)",
            exists_ok=True,
        ),
        what=f"collection {title}",
    )
    retry(
        lambda: api.add_collection_item(
            collection.slug, item_id=ref.repo_id, item_type="model", exists_ok=True
        ),
        what=f"add {ref.repo_id} to {title}",
    )
