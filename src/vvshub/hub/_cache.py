"""The pull cache: ``$VVSHUB_HOME/cache/hub/ORG/NAME/<commit>/<sha256>/``.

An entry is keyed by repo, revision (as the commit it resolved to) and the
weights' sha256, so two models of one architecture, or two epochs of one model,
never share an entry. Entries are filled in a temporary folder and renamed into
place; the weights are re-hashed on every load, and a damaged entry is evicted
and fetched again.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

from vvshub.constants import vvshub_home
from vvshub.hub._naming import RepoRef

__all__ = ["Cache"]

_DONE = ".complete"


class Cache:
    """Verified copies of pulled revisions.

    Example:
        >>> Cache().entry(RepoRef("vvshub", "resnet18_d10"), "c0ffee", "ab12").parts[-2:]  # doctest: +SKIP
        ('c0ffee', 'ab12')
    """

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else vvshub_home() / "cache" / "hub"

    def entry(self, ref: RepoRef, commit: str, sha256: str) -> Path:
        return self.root / ref.org / ref.name / commit / sha256

    def lookup(self, ref: RepoRef, commit: str, sha256: str) -> Path | None:
        """The entry's folder when it was completely written, else ``None``."""
        folder = self.entry(ref, commit, sha256)
        return folder if (folder / _DONE).is_file() else None

    def fill(self, ref: RepoRef, commit: str, sha256: str, writer: Callable[[Path], None]) -> Path:
        """Create the entry with ``writer(tmp_folder)``; it appears only once complete."""
        folder = self.entry(ref, commit, sha256)
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = folder.parent / f".{sha256}.{uuid.uuid4().hex}.tmp"
        tmp.mkdir()
        try:
            writer(tmp)
            (tmp / _DONE).write_text("")
            try:
                os.rename(tmp, folder)
            except OSError:  # another process filled it first, or a stale incomplete entry
                if self.lookup(ref, commit, sha256) is None:
                    shutil.rmtree(folder, ignore_errors=True)
                    os.rename(tmp, folder)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        return folder

    def evict(self, ref: RepoRef, commit: str, sha256: str) -> None:
        shutil.rmtree(self.entry(ref, commit, sha256), ignore_errors=True)

    # -- what a remote revision resolved to, for offline use -----------------------------------
    def _ref_file(self, source: str, ref: RepoRef, revision: str) -> Path:
        safe = source.replace("://", "_").replace("/", "_").replace(":", "_")
        return self.root / ref.org / ref.name / "refs" / safe / f"{revision}.json"

    def remember(
        self, source: str, ref: RepoRef, revision: str, commit: str, sha256: str, size: int
    ) -> None:
        path = self._ref_file(source, ref, revision)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + f".{uuid.uuid4().hex}.part")
        tmp.write_text(json.dumps({"commit": commit, "sha256": sha256, "size": size}))
        os.replace(tmp, path)

    def recall(self, source: str, ref: RepoRef, revision: str) -> dict | None:
        path = self._ref_file(source, ref, revision)
        return json.loads(path.read_text()) if path.is_file() else None
