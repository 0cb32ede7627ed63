"""Remote catalogs, offline-first: fetch a published catalog into a content-addressed cache.

A URL catalog (``http(s)://HOST/…/export/``, the folder ``vvshub catalog export`` writes) or a
Hugging Face dataset (``hf://datasets/ORG/NAME``) is fetched file by file into
``$VVSHUB_HOME/cache/catalogs/`` and opened from there; DuckDB itself never touches the network
and needs no extension. A file already in the cache is not downloaded again: an export's
``manifest.json`` names each file's sha256, and without one the server's ``ETag`` (or
``Last-Modified``) answers a conditional request. When the server cannot be reached, the copy
fetched last is used, with a warning that says how old it is; ``VVSHUB_OFFLINE=1`` skips the
network altogether.

Cache layout (under ``$VVSHUB_HOME/cache/catalogs/``)::

    blobs/<sha256>                 the bytes of one file, named by their hash
    refs/<sha256 of url>.json      what a URL returned last: url, etag, last_modified, sha256
    snapshots/<sha256 of url>.json the files of one catalog at its last fetch: {table: sha256}
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import re
import socket
import tempfile
import urllib.error
import urllib.request
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vvshub.constants import offline_enabled, vvshub_home
from vvshub.errors import CatalogError, CatalogUnreachableError

log = logging.getLogger(__name__)

#: Name of the file listing an export's files with their sha256 (written by ``export_catalog``).
MANIFEST = "manifest.json"
#: Tables an export must have to be a catalog.
REQUIRED = ("scores",)
_TIMEOUT_S = 30
OFFLINE_REASON = "VVSHUB_OFFLINE is set"
_HF_RE = re.compile(
    r"^hf://datasets/(?P<repo>[^/@]+/[^/@]+)(?:@(?P<revision>[^/]+))?(?:/(?P<path>.*))?$"
)


class _Unreachable(Exception):
    """The network failed (not an HTTP answer): the caller may fall back to the cache."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason


def cache_root() -> Path:
    """Where remote catalogs are cached: ``$VVSHUB_HOME/cache/catalogs``."""
    return vvshub_home() / "cache" / "catalogs"


def _key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle, indent=1)
    os.replace(tmp, path)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def network_reason(exc: BaseException) -> str:
    """A network failure in a few words ("connection refused", "timed out")."""
    reason: Any = getattr(exc, "reason", exc)
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, TimeoutError | socket.timeout):
        return "timed out"
    if isinstance(reason, socket.gaierror):
        return f"unknown host ({reason.strerror})"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror.lower()
    return str(reason)


@dataclass
class _Cache:
    """The cache under ``root`` (see the module docstring for its layout)."""

    root: Path

    def blob(self, sha: str) -> Path:
        return self.root / "blobs" / sha

    def has(self, sha: str) -> bool:
        return self.blob(sha).is_file()

    def ref(self, url: str) -> dict[str, Any] | None:
        ref = _read_json(self.root / "refs" / f"{_key(url)}.json")
        return ref if ref and self.has(ref.get("sha256", "")) else None

    def snapshot(self, location: str) -> dict[str, Any] | None:
        snap = _read_json(self.root / "snapshots" / f"{_key(location)}.json")
        if not snap or not all(self.has(sha) for sha in snap.get("files", {}).values()):
            return None
        return snap

    def save_snapshot(self, location: str, files: dict[str, str]) -> None:
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        _write_json_atomic(
            self.root / "snapshots" / f"{_key(location)}.json",
            {"location": location, "files": files, "fetched_at": now},
        )

    def fetch(self, url: str, *, optional: bool = False, sha256: str | None = None) -> str | None:
        """Bring ``url`` into the cache and return its sha256 (``None``: optional and absent).

        With ``sha256`` known (from a manifest) a blob already cached is used without a
        request, and a download that hashes to anything else is refused. Otherwise the
        request is conditional on the ETag / Last-Modified the URL returned last.

        Raises:
            _Unreachable: the network failed.
            CatalogError: an HTTP error, or a download that does not match its sha256.
        """
        if sha256 is not None and self.has(sha256):
            return sha256
        ref = self.ref(url)
        request = urllib.request.Request(url)
        if ref is not None and sha256 in (None, ref["sha256"]):
            if ref.get("etag"):
                request.add_header("If-None-Match", ref["etag"])
            if ref.get("last_modified"):
                request.add_header("If-Modified-Since", ref["last_modified"])
        try:
            response = urllib.request.urlopen(request, timeout=_TIMEOUT_S)
        except urllib.error.HTTPError as exc:
            if exc.code == 304 and ref is not None:
                log.debug("%s unchanged (304), cached as %s", url, ref["sha256"])
                return ref["sha256"]
            if exc.code == 404 and optional:
                return None
            raise CatalogError(f"cannot fetch {url}: HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise _Unreachable(url, network_reason(exc)) from None
        with response:
            got = self._store(response, url)
            headers = response.headers
        if sha256 is not None and got != sha256:
            raise CatalogError(
                f"{url} does not match its manifest: sha256 {got[:12]}…, expected {sha256[:12]}…; "
                "the export changed while it was fetched or is corrupt: fetch again"
            )
        _write_json_atomic(
            self.root / "refs" / f"{_key(url)}.json",
            {
                "url": url,
                "etag": headers.get("ETag"),
                "last_modified": headers.get("Last-Modified"),
                "sha256": got,
            },
        )
        return got

    def fetch_required(self, url: str, *, sha256: str | None = None) -> str:
        """:meth:`fetch` for a file that must exist (HTTP 404 is an error)."""
        sha = self.fetch(url, sha256=sha256)
        if sha is None:  # fetch returns None only when optional
            raise CatalogError(f"cannot fetch {url}: not found")
        return sha

    def _store(self, response: Any, url: str) -> str:
        from vvshub._progress import track

        blobs = self.root / "blobs"
        blobs.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".download-", dir=blobs)
        digest = hashlib.sha256()
        size = int(response.headers.get("Content-Length") or 0)
        try:
            with os.fdopen(fd, "wb") as out:
                chunks = iter(lambda: response.read(1 << 16), b"")
                name = url.rsplit("/", 1)[-1]
                total = (size >> 16) + 1 if size else None
                for chunk in track(chunks, description=f"fetch {name}", total=total):
                    digest.update(chunk)
                    out.write(chunk)
            sha = digest.hexdigest()
            os.replace(tmp, blobs / sha)
        except (urllib.error.URLError, OSError) as exc:
            Path(tmp).unlink(missing_ok=True)
            raise _Unreachable(url, network_reason(exc)) from None
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return sha


def _tables() -> tuple[str, ...]:
    from vvshub.catalog._schema import TABLES, VIEWS

    return (*TABLES, *VIEWS)


def fetch_export(location: str) -> dict[str, Path]:
    """Fetch a remote Parquet export into the cache; return ``{table: local Parquet file}``.

    Args:
        location: ``http(s)://…/DIR`` (the folder ``vvshub catalog export`` wrote, served as is)
            or ``hf://datasets/ORG/NAME[@REVISION][/DIR]``.

    Raises:
        CatalogUnreachableError: the server cannot be reached and nothing is cached.
        CatalogError: an HTTP error, a corrupt download, or no ``scores.parquet``.

    Example:
        >>> fetch_export("http://127.0.0.1:8000/export")["scores"]  # doctest: +SKIP
        PosixPath('~/.cache/vvshub/cache/catalogs/blobs/3f2a…')
    """
    if location.startswith("hf://"):
        return _fetch_hf(location)
    if not re.match(r"^https?://", location, re.IGNORECASE):
        scheme = location.split("://", 1)[0]
        raise CatalogError(
            f"unsupported catalog URL scheme {scheme!r} in {location}; use http(s)://HOST/DIR "
            "(a folder written by `vvshub catalog export`) or hf://datasets/ORG/NAME"
        )
    base = location.rstrip("/")
    cache = _Cache(cache_root())
    if offline_enabled():
        return _from_snapshot(cache, base, None)
    try:
        files = _fetch_http_export(cache, base)
    except _Unreachable as exc:
        return _from_snapshot(cache, base, exc)
    cache.save_snapshot(base, files)
    return {table: cache.blob(sha) for table, sha in files.items()}


def _fetch_http_export(cache: _Cache, base: str) -> dict[str, str]:
    manifest_sha = cache.fetch(f"{base}/{MANIFEST}", optional=True)
    files: dict[str, str] = {}
    if manifest_sha is not None:
        manifest = _read_json(cache.blob(manifest_sha)) or {}
        listed = manifest.get("files")
        if not isinstance(listed, dict):
            raise CatalogError(f"{base}/{MANIFEST} is not a vvshub export manifest (no 'files')")
        known = set(_tables())
        for name, entry in listed.items():
            table = name.removesuffix(".parquet")
            if table not in known or not isinstance(entry, dict):
                log.debug("%s lists %s, not a catalog table: skipped", MANIFEST, name)
                continue
            files[table] = cache.fetch_required(f"{base}/{name}", sha256=entry.get("sha256"))
    else:
        for table in _tables():
            sha = cache.fetch(f"{base}/{table}.parquet", optional=True)
            if sha is not None:
                files[table] = sha
    missing = [t for t in REQUIRED if t not in files]
    if missing:
        raise CatalogError(
            f"{base} is not a vvshub Parquet export (no {missing[0]}.parquet there); publish "
            "one with `vvshub catalog export DIR` and serve DIR"
        )
    return files


def _from_snapshot(cache: _Cache, location: str, failure: _Unreachable | None) -> dict[str, Path]:
    snap = cache.snapshot(location)
    if snap is None:
        if failure is None:
            raise CatalogUnreachableError(
                f"VVSHUB_OFFLINE is set and {location} is not in the cache; fetch it once "
                "online (unset VVSHUB_OFFLINE)",
                url=location,
                reason="offline",
            )
        raise CatalogUnreachableError(
            f"cannot reach {failure.url}: {failure.reason}; and no copy of {location} is "
            "cached: check the URL and that the server is up",
            url=failure.url,
            reason=failure.reason,
        )
    if failure is not None:
        warnings.warn(
            f"cannot reach {failure.url} ({failure.reason}); using the copy of {location} "
            f"fetched at {snap['fetched_at']}",
            stacklevel=3,
        )
    else:
        log.info("offline: %s from the copy fetched at %s", location, snap["fetched_at"])
    return {table: cache.blob(sha) for table, sha in snap["files"].items()}


def fetch_file(location: str) -> Path:
    """Fetch one remote file (a ``.duckdb`` catalog) into the cache; return the local path.

    Raises:
        CatalogUnreachableError: the server cannot be reached and nothing is cached.
        CatalogError: an HTTP error.
    """
    if location.startswith("hf://"):
        m = _HF_RE.match(location)
        if not m or not m["path"]:
            raise CatalogError(f"expected hf://datasets/ORG/NAME[@REVISION]/FILE, got {location}")
        repo, path, revision = m["repo"], m["path"], m["revision"]
        offline = _hf_offline(repo, path, revision=revision)
        local = _hf_download(repo, path, revision=revision, location=location, offline=offline)
        _warn_cached(location, offline)
        return local
    cache = _Cache(cache_root())
    if offline_enabled():
        ref = cache.ref(location)
        if ref is None:
            raise CatalogUnreachableError(
                f"VVSHUB_OFFLINE is set and {location} is not in the cache",
                url=location,
                reason="offline",
            )
        return cache.blob(ref["sha256"])
    try:
        sha = cache.fetch_required(location)
    except _Unreachable as exc:
        ref = cache.ref(location)
        if ref is None:
            raise CatalogUnreachableError(
                f"cannot reach {exc.url}: {exc.reason}; and no copy is cached",
                url=exc.url,
                reason=exc.reason,
            ) from None
        warnings.warn(
            f"cannot reach {location} ({exc.reason}); using the cached copy", stacklevel=2
        )
        sha = ref["sha256"]
    return cache.blob(sha)


def _hub_unreachable(repo: str, filename: str, *, revision: str | None) -> str | None:
    """Why the Hub cannot be reached for ``filename`` (``None`` when it answers at all).

    huggingface_hub falls back to its cache without a word when the network fails; asking
    first lets vvshub say so (a stale copy is never used silently).
    """
    from huggingface_hub import get_hf_file_metadata, hf_hub_url
    from huggingface_hub.errors import EntryNotFoundError, HfHubHTTPError

    try:
        get_hf_file_metadata(hf_hub_url(repo, filename, repo_type="dataset", revision=revision))
    except (HfHubHTTPError, EntryNotFoundError):
        return None  # an HTTP answer (404, 401 …): reachable; the download reports it
    except Exception as exc:  # httpx's transport errors are not a stable public type
        transport = type(exc).__name__.endswith(("ConnectError", "Timeout", "NetworkError"))
        if not (transport or isinstance(exc, OSError)):
            raise
        text = str(exc.__cause__ or exc)
        return "connection refused" if "refused" in text.lower() else text
    return None


def _hf_offline(repo: str, filename: str, *, revision: str | None) -> str | None:
    """``None`` to go online; else why the cache alone must answer."""
    if offline_enabled():
        return OFFLINE_REASON
    return _hub_unreachable(repo, filename, revision=revision)


def _warn_cached(location: str, offline: str | None) -> None:
    """Say that a cached copy stood in for an unreachable Hub (not news under VVSHUB_OFFLINE)."""
    if offline is not None and offline != OFFLINE_REASON:
        warnings.warn(
            f"cannot reach the Hub for {location} ({offline}); using the cached copy", stacklevel=4
        )


def _hf_download(
    repo: str, filename: str, *, revision: str | None, location: str, offline: str | None
) -> Path:
    """``hf_hub_download`` of one file of a dataset repo; ``offline``: the cache alone, and why."""
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import (
        EntryNotFoundError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    try:
        return Path(
            hf_hub_download(
                repo,
                filename,
                repo_type="dataset",
                revision=revision,
                cache_dir=cache_root() / "huggingface",
                local_files_only=offline is not None,
            )
        )
    except LocalEntryNotFoundError as exc:  # a subclass of EntryNotFoundError: first
        cause = exc.__cause__ or exc.__context__
        reason = offline or (network_reason(cause) if cause is not None else "offline")
        raise CatalogUnreachableError(
            f"cannot reach the Hub for {location} ({reason}), and {filename} is not cached",
            url=location,
            reason=reason,
        ) from None
    except EntryNotFoundError:
        raise
    except RevisionNotFoundError:
        raise CatalogError(f"dataset {repo} has no revision {revision!r} ({location})") from None
    except RepositoryNotFoundError:
        raise CatalogError(
            f"no dataset {repo} on the Hub (or it is private: log in with `hf auth login`)"
        ) from None


def _known_missing(repo: str, filename: str, revision: str | None) -> bool:
    """Whether the Hub cache recorded that ``filename`` does not exist in ``repo``."""
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(
        repo,
        filename,
        cache_dir=cache_root() / "huggingface",
        revision=revision,
        repo_type="dataset",
    )
    # a path: cached; None: unknown; anything else is the "cached as missing" sentinel
    return found is not None and not isinstance(found, str)


def _fetch_hf(location: str) -> dict[str, Path]:
    from huggingface_hub.errors import EntryNotFoundError

    m = _HF_RE.match(location.rstrip("/"))
    if not m:
        raise CatalogError(
            f"expected hf://datasets/ORG/NAME[@REVISION][/DIR], got {location} "
            "(catalogs on the Hub are dataset repositories)"
        )
    prefix = f"{m['path'].strip('/')}/" if m["path"] else ""
    repo, revision = m["repo"], m["revision"]
    offline = _hf_offline(repo, f"{prefix}scores.parquet", revision=revision)
    files: dict[str, Path] = {}
    for table in _tables():
        try:
            files[table] = _hf_download(
                repo,
                f"{prefix}{table}.parquet",
                revision=revision,
                location=location,
                offline=offline,
            )
        except CatalogUnreachableError:
            # offline, an optional table the Hub said it does not have is simply absent
            if table in REQUIRED or not _known_missing(repo, f"{prefix}{table}.parquet", revision):
                raise
        except EntryNotFoundError:
            if table in REQUIRED:
                raise CatalogError(
                    f"{location} is not a vvshub Parquet export (no {prefix}{table}.parquet)"
                ) from None
    _warn_cached(location, offline)
    return files
