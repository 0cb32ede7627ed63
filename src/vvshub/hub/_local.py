"""The local hub: ``$VVSHUB_HOME/hub/models/ORG/NAME``, one git repository per model.

This is the layout olah serves as an offline mirror (``mirrors-path = [HUB]``),
so ``vvshub hub serve`` needs no export step.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from vvshub.constants import vvshub_home
from vvshub.errors import HubError, IntegrityError
from vvshub.hub._format import WEIGHTS_FILE
from vvshub.hub._git import LFS_THRESHOLD, LocalRepo, lfs_pointer, parse_lfs_pointer
from vvshub.hub._naming import RepoRef

__all__ = ["LocalHub", "Published", "Resolved", "hub_root"]

logger = logging.getLogger(__name__)

_GITATTRIBUTES = "*.safetensors filter=lfs diff=lfs merge=lfs -text\n"


def hub_root() -> Path:
    """``$VVSHUB_HOME/hub``."""
    return vvshub_home() / "hub"


@dataclass(frozen=True)
class Resolved:
    """A revision of a repo, resolved: its commit and the weights' expected sha256 and size."""

    commit: str
    sha256: str
    size: int
    files: tuple[str, ...]


@dataclass(frozen=True)
class Published:
    """What one publish did: the commit, whether it was already there, and the weights' hash."""

    commit: str
    sha256: str
    size: int
    noop: bool


class LocalHub:
    """The folder of git repositories that is vvshub's embedded hub.

    Example:
        >>> hub = LocalHub()  # doctest: +SKIP
        >>> [r.repo_id for r in hub.list()]  # doctest: +SKIP
        ['vvshub/resnet18_d10_cifar10']
    """

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else hub_root()

    def repo(self, ref: RepoRef) -> LocalRepo:
        return LocalRepo(self.root / "models" / ref.org / ref.name)

    def list(self) -> list[RepoRef]:
        """Every repo with a ``main`` branch or a tag, sorted."""
        models = self.root / "models"
        out: list[RepoRef] = []
        if not models.is_dir():
            return out
        for org in sorted(p for p in models.iterdir() if p.is_dir()):
            for name in sorted(p for p in org.iterdir() if p.is_dir()):
                if name.name.startswith(".") or not (name / ".git" / "HEAD").is_file():
                    continue
                out.append(RepoRef(org.name, name.name))
        return out

    # -- publishing ----------------------------------------------------------------------------
    def publish(
        self,
        ref: RepoRef,
        folder: Path,
        *,
        message: str,
        tag: str | None = None,
        set_main: bool = True,
    ) -> Published:
        """Commit every file of ``folder`` as one revision of ``ref``.

        LFS objects and git objects are written first; the revision becomes visible only by
        moving refs (the tag, then ``main`` by compare-and-swap), so a crash at any point
        leaves the previous ``main`` intact. Re-publishing identical files is a no-op.

        Raises:
            HubError: git failed, or ``main`` kept moving under concurrent pushes.
        """
        repo = self.repo(ref)
        repo.create()
        blobs: dict[str, bytes] = {".gitattributes": _GITATTRIBUTES.encode()}
        weights: tuple[str, int] | None = None
        for path in sorted(p for p in folder.iterdir() if p.is_file()):
            if path.name.startswith("."):
                continue
            size = path.stat().st_size
            if path.name.endswith(".safetensors") or size >= LFS_THRESHOLD:
                pointer = repo.store_lfs(path)
                blobs[path.name] = lfs_pointer(pointer.oid, pointer.size)
                if path.name == WEIGHTS_FILE:
                    weights = (pointer.oid, pointer.size)
            else:
                blobs[path.name] = path.read_bytes()
        if weights is None:
            raise HubError(f"{folder} has no {WEIGHTS_FILE}; nothing to publish")
        extra = sorted(n for n in blobs if not n.endswith(".safetensors") and _is_lfs(blobs[n]))
        if extra:
            blobs[".gitattributes"] += "".join(
                f"{n} filter=lfs diff=lfs merge=lfs -text\n" for n in extra
            ).encode()
        tree = repo.write_tree(blobs)
        for _attempt in range(8):
            parent = repo.resolve("main")
            old_tag = repo.resolve(tag) if tag else None
            reusable = [c for c in (old_tag, parent) if c is not None and repo.tree_of(c) == tree]
            commit = reusable[0] if reusable else repo.commit_tree(tree, message, parent)
            noop = (
                bool(reusable)
                and (tag is None or old_tag == commit)
                and (not set_main or parent == commit)
            )
            if tag and old_tag != commit:
                repo.force_ref(f"refs/tags/{tag}", commit)
            if not set_main or parent == commit:
                return Published(commit, weights[0], weights[1], noop)
            if repo.set_ref("refs/heads/main", commit, parent):
                return Published(commit, weights[0], weights[1], False)
            logger.debug("main of %s moved during the push; retrying", ref)
        raise HubError(f"could not publish {ref}: main kept changing under concurrent pushes")

    # -- reading -------------------------------------------------------------------------------
    def resolve(self, ref: RepoRef, revision: str | None) -> Resolved | None:
        """The commit and weights hash of ``revision`` (default ``main``), or ``None``."""
        repo = self.repo(ref)
        if not repo.exists():
            return None
        commit = repo.resolve(revision or "main")
        if commit is None:
            return None
        files = repo.files(commit)
        blob = files.get(WEIGHTS_FILE)
        pointer = parse_lfs_pointer(repo.read_blob(blob)) if blob else None
        if pointer is None:
            raise IntegrityError(
                f"{ref}@{revision or 'main'} has no LFS pointer for {WEIGHTS_FILE}; "
                "the repo is damaged: push the model again",
                path=str(repo.path),
            )
        return Resolved(commit, pointer.oid, pointer.size, tuple(sorted(files)))

    def revisions(self, ref: RepoRef) -> dict[str, str]:
        """Branches and tags of a repo: ``main`` / ``ep10`` -> commit."""
        refs = self.repo(ref).refs()
        return {name.split("/", 2)[2]: sha for name, sha in refs.items()}

    def read_text(self, ref: RepoRef, commit: str, name: str) -> str | None:
        data = self.repo(ref).read(commit, name)
        return None if data is None else data.decode()

    def export(self, ref: RepoRef, resolved: Resolved, dest: Path) -> None:
        """Write the files of one revision into ``dest``, verifying every LFS object's sha256.

        Raises:
            IntegrityError: an LFS object is missing, truncated or tampered; nothing is loaded.
        """
        import hashlib

        repo = self.repo(ref)
        files = repo.files(resolved.commit)
        for name, blob in files.items():
            if name.startswith("."):
                continue
            data = repo.read_blob(blob)
            pointer = parse_lfs_pointer(data)
            if pointer is None:
                (dest / name).write_bytes(data)
                continue
            source = repo.lfs_path(pointer.oid)
            if not source.is_file():
                raise IntegrityError(
                    f"{ref}@{resolved.commit[:12]}: the LFS object of {name} is missing "
                    f"({source}); push the model again",
                    path=str(source),
                    expected=pointer.oid,
                )
            h = hashlib.sha256()
            with open(source, "rb") as src, open(dest / name, "wb") as out:
                while chunk := src.read(1 << 22):
                    h.update(chunk)
                    out.write(chunk)
            if h.hexdigest() != pointer.oid:
                (dest / name).unlink()
                raise IntegrityError(
                    f"the stored {name} of {ref}@{resolved.commit[:12]} fails its sha256 check "
                    f"(expected {pointer.oid}, got {h.hexdigest()}): it is tampered or truncated "
                    "and was not loaded; push the model again",
                    path=str(source),
                    expected=pointer.oid,
                    actual=h.hexdigest(),
                )


def _is_lfs(blob: bytes) -> bool:
    return parse_lfs_pointer(blob) is not None
