"""One repo of the local hub: a git repository in the Hugging Face layout.

Large files are git-lfs objects: the commit holds a pointer blob, the bytes sit
under ``.git/lfs/objects/aa/bb/<sha256>`` (where ``git lfs`` and olah look for
them). Commits are written with git's plumbing (hash-object, mktree,
commit-tree) and published by one compare-and-swap of a ref (``update-ref NEW
OLD``), so a push that dies half-way leaves unreachable objects, never a
half-published ``main``.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

from vvshub.errors import HubError, IntegrityError

__all__ = ["LfsPointer", "LocalRepo", "lfs_pointer", "parse_lfs_pointer", "sha256_file"]

_POINTER = re.compile(
    rb"^version https://git-lfs\.github\.com/spec/v1\noid sha256:([0-9a-f]{64})\nsize (\d+)\n$"
)
_REVISION = re.compile(r"^(?![-./])(?!.*\.\.)[A-Za-z0-9._\-/]{1,200}$")
_ENV = {
    "GIT_AUTHOR_NAME": "vvshub",
    "GIT_AUTHOR_EMAIL": "vvshub@localhost",
    "GIT_COMMITTER_NAME": "vvshub",
    "GIT_COMMITTER_EMAIL": "vvshub@localhost",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_TERMINAL_PROMPT": "0",
}
#: Files stored as LFS objects: the weights always, anything else from this size on.
LFS_THRESHOLD = 1 << 20
_CHUNK = 1 << 22


@dataclass(frozen=True)
class LfsPointer:
    """What a git-lfs pointer blob says: the object's sha256 and size."""

    oid: str
    size: int


def lfs_pointer(oid: str, size: int) -> bytes:
    """The pointer blob git-lfs (and the Hugging Face Hub) commit in place of a large file."""
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize {size}\n".encode()


def parse_lfs_pointer(blob: bytes) -> LfsPointer | None:
    """The pointer in ``blob``, or ``None`` when the blob is an ordinary file."""
    m = _POINTER.match(blob) if len(blob) < 512 else None
    return LfsPointer(m[1].decode(), int(m[2])) if m else None


def sha256_file(path: Path) -> tuple[str, int]:
    """sha256 (hex) and size of a file, read in 4 MiB chunks."""
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def check_revision(revision: str) -> str:
    """A branch, tag or commit name safe to hand to git (no options, no ranges, no traversal)."""
    if not isinstance(revision, str) or not _REVISION.match(revision):
        raise HubError(
            f"invalid revision {revision!r}: expected a branch, a tag such as 'ep10', or a commit"
        )
    return revision


class LocalRepo:
    """A git repository of the local hub at ``path`` (``HUB/models/ORG/NAME``).

    Example:
        >>> repo = LocalRepo(Path("hub/models/vvshub/resnet18_d10"))  # doctest: +SKIP
        >>> repo.resolve("ep1")  # doctest: +SKIP
        '3f2c…'
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    # -- plumbing ------------------------------------------------------------------------------
    @property
    def git_dir(self) -> Path:
        return self.path / ".git"

    def _git(self, *args: str, input: bytes | None = None, check: bool = True) -> bytes:
        env = {**os.environ, **_ENV, "GIT_DIR": str(self.git_dir)}
        proc = subprocess.run(
            ["git", *args], input=input, capture_output=True, env=env, check=False
        )
        if check and proc.returncode != 0:
            err = proc.stderr.decode(errors="replace").strip().splitlines()
            raise HubError(
                f"git {args[0]} failed in {self.path}: {err[-1] if err else proc.returncode}"
            )
        return proc.stdout

    def exists(self) -> bool:
        """Whether a git repository is here."""
        return (self.git_dir / "HEAD").is_file()

    def create(self) -> None:
        """Create the repository atomically (built aside, then renamed into place).

        Two processes creating the same repo at once both succeed: the loser uses the winner's.
        """
        if self.exists():
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        staging = self.path.parent / f".{self.path.name}.{uuid.uuid4().hex}.tmp"
        subprocess.run(
            ["git", "init", "-q", "-b", "main", str(staging)],
            check=True,
            capture_output=True,
            env={**os.environ, **_ENV},
        )
        (staging / ".git" / "lfs" / "objects").mkdir(parents=True)
        try:
            os.rename(staging, self.path)
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)
            if not self.exists():
                raise

    # -- reading -------------------------------------------------------------------------------
    def resolve(self, revision: str) -> str | None:
        """The commit a branch, tag or (abbreviated) commit names, or ``None``."""
        check_revision(revision)
        out = self._git("rev-parse", "--verify", "-q", f"{revision}^{{commit}}", check=False)
        text = out.decode().strip()
        return text or None

    def files(self, commit: str) -> dict[str, str]:
        """Top-level files of ``commit``: name -> blob id."""
        out = self._git("ls-tree", "-z", commit)
        result: dict[str, str] = {}
        for entry in out.split(b"\0"):
            if not entry:
                continue
            meta, name = entry.split(b"\t", 1)
            _mode, kind, sha = meta.split()
            if kind == b"blob":
                result[name.decode()] = sha.decode()
        return result

    def read_blob(self, blob: str) -> bytes:
        return self._git("cat-file", "blob", blob)

    def read(self, commit: str, name: str) -> bytes | None:
        """Bytes of the file ``name`` at ``commit`` (an LFS pointer for large files)."""
        blob = self.files(commit).get(name)
        return None if blob is None else self.read_blob(blob)

    def refs(self) -> dict[str, str]:
        """Every branch and tag: ``refs/heads/main`` / ``refs/tags/ep1`` -> commit."""
        out = self._git("for-each-ref", "--format=%(refname) %(objectname)")
        return dict(line.split(" ", 1) for line in out.decode().splitlines() if line)

    def lfs_path(self, oid: str) -> Path:
        return self.git_dir / "lfs" / "objects" / oid[:2] / oid[2:4] / oid

    # -- writing -------------------------------------------------------------------------------
    def store_lfs(
        self, source: Path, oid: str | None = None, size: int | None = None
    ) -> LfsPointer:
        """Copy ``source`` into the LFS store, hashing it on the way; return its pointer.

        The object is written to a temporary file and renamed to its sha256, so the store
        never holds a partial object under a real id. With ``oid`` given, a file whose bytes
        hash otherwise is refused.
        """
        objects = self.git_dir / "lfs" / "objects"
        objects.mkdir(parents=True, exist_ok=True)
        tmp = objects / f".{uuid.uuid4().hex}.part"
        h = hashlib.sha256()
        written = 0
        try:
            with open(source, "rb") as src, open(tmp, "wb") as out:
                while chunk := src.read(_CHUNK):
                    h.update(chunk)
                    out.write(chunk)
                    written += len(chunk)
            digest = h.hexdigest()
            if (oid is not None and digest != oid) or (size is not None and written != size):
                raise IntegrityError(
                    f"{source} does not hash to {oid} ({digest}, {written} bytes); not stored",
                    path=str(source),
                    expected=oid,
                    actual=digest,
                )
            dest = self.lfs_path(digest)
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, dest)
        finally:
            tmp.unlink(missing_ok=True)
        return LfsPointer(digest, written)

    def write_tree(self, blobs: dict[str, bytes]) -> str:
        """Write ``blobs`` (name -> bytes, already pointers for LFS files) as one flat tree."""
        import tempfile

        names = sorted(blobs)
        with tempfile.TemporaryDirectory(dir=self.git_dir) as tmp:
            paths = []
            for i, name in enumerate(names):
                path = Path(tmp) / str(i)
                path.write_bytes(blobs[name])
                paths.append(str(path))
            out = self._git("hash-object", "-w", "--stdin-paths", input="\n".join(paths).encode())
        shas = out.decode().split()
        lines = [f"100644 blob {sha}\t{name}" for sha, name in zip(shas, names, strict=True)]
        return self._git("mktree", input=("\n".join(lines) + "\n").encode()).decode().strip()

    def tree_of(self, commit: str) -> str:
        return self._git("rev-parse", f"{commit}^{{tree}}").decode().strip()

    def commit_tree(self, tree: str, message: str, parent: str | None) -> str:
        args = ["commit-tree", tree, "-m", message]
        if parent:
            args += ["-p", parent]
        return self._git(*args).decode().strip()

    def set_ref(self, ref: str, new: str, old: str | None) -> bool:
        """Point ``ref`` at ``new`` iff it still holds ``old`` (``None``: iff it does not exist)."""
        expected = old if old is not None else "0" * 40
        out = subprocess.run(
            ["git", "update-ref", ref, new, expected],
            capture_output=True,
            env={**os.environ, **_ENV, "GIT_DIR": str(self.git_dir)},
            check=False,
        )
        return out.returncode == 0

    def force_ref(self, ref: str, new: str) -> None:
        self._git("update-ref", ref, new)
