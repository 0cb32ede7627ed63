"""The one place that opens DuckDB, and the translation of its errors into vvshub's.

A catalog is a DuckDB file (``$VVSHUB_HOME/catalog.duckdb`` by default) or a
Parquet export (a folder or URL holding one ``<table>.parquet`` per table; a URL is
fetched into a local cache first, ``_remote``), which opens read-only as tables copied
into a scratch database. Every read-only connection is sandboxed (``_SANDBOX``).

Concurrency. DuckDB lets one process hold a file read-write, and then no other
process may open it at all. vvshub keeps write sessions short (the write verbs
open, write one transaction and close) and, whenever a write session that changed
something closes, it first applies the spool (``_spool``) and then publishes a
read snapshot beside the file (``catalog.duckdb.snapshot``: a checkpointed copy,
renamed into place atomically). A reader that finds the file locked opens the
snapshot instead: it sees every write session that had finished when the current
one began, never a partial one.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vvshub.catalog._schema import SCHEMA_VERSION, schema_version
from vvshub.constants import catalog_path
from vvshub.errors import CatalogError, CatalogLockedError, QueryError, SchemaVersionError

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

log = logging.getLogger(__name__)

_URL_RE = re.compile(r"^[a-z][a-z0-9+]*://", re.IGNORECASE)
_LOCK_PID_RE = re.compile(r"\(PID (\d+)\)")


def _sql_string(value: str) -> str:
    """A SQL string literal for ``value`` (DDL such as CREATE VIEW cannot take bound parameters)."""
    return "'" + value.replace("'", "''") + "'"


def one_line(exc: BaseException) -> str:
    """DuckDB's message without its caret diagram, on one line."""
    lines = []
    for line in str(exc).splitlines():
        if line.startswith("LINE ") or not line.strip():
            break
        lines.append(line.strip())
    return " ".join(lines) or type(exc).__name__


def translate(exc: Exception, *, path: str | None = None) -> CatalogError:
    """Map a DuckDB exception to the vvshub error a user should see."""
    import duckdb

    message = one_line(exc)
    if isinstance(exc, duckdb.IOException) and "lock" in message.lower():
        m = _LOCK_PID_RE.search(message)
        pid = int(m.group(1)) if m else None
        who = f"pid {pid}" if pid else "pid unknown"
        return CatalogLockedError(
            f"catalog is locked by another vvshub process ({who}): {path}", path=path, pid=pid
        )
    if isinstance(exc, duckdb.ConnectionException) and "different configuration" in message:
        return CatalogLockedError(
            f"catalog {path} is already open in this process with another mode (read-only vs "
            "read-write); close the other connection first",
            path=path,
        )
    if "read-only mode" in message:
        return QueryError(f"catalog is read-only: {message}")
    if isinstance(exc, (duckdb.ParserException, duckdb.BinderException, duckdb.CatalogException)):
        return QueryError(message)
    if isinstance(exc, duckdb.Error):
        return QueryError(message)
    return CatalogError(message)


class Catalog:
    """An open catalog: a DuckDB connection with vvshub's conventions.

    Use :func:`open_catalog` to get one; close it (or use ``with``) when done.

    Attributes:
        location: the file, folder or URL it was opened from (``None`` for in-memory).
        read_only: whether writes are refused.
        con: the underlying DuckDB connection, for advanced use.

    Example:
        >>> with open_catalog(read_only=True) as cat:  # doctest: +SKIP
        ...     cat.query("SELECT count(*) AS n FROM scores")
    """

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        *,
        location: str | None,
        read_only: bool,
        cleanup: Callable[[], None] | None = None,
    ) -> None:
        self.con = con
        self.location = location
        self.read_only = read_only
        self._cleanup = cleanup
        self._written = False
        #: when this is a read snapshot (the file was locked by a writer): the file it copies.
        self.snapshot_of: str | None = None

    def query(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> pd.DataFrame:
        """Run ``sql`` with bound ``params`` and return the result as a DataFrame.

        Raises:
            QueryError: bad SQL, an unknown table or column, or a write on a read-only catalog.
        """
        try:
            return self.con.execute(sql, params).df()
        except Exception as exc:
            raise translate(exc, path=self.location) from None

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> Catalog:
        """Run a statement (with bound ``params``) for its effect."""
        try:
            self.con.execute(sql, params)
        except Exception as exc:
            raise translate(exc, path=self.location) from None
        return self

    def fetchall(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        """Run ``sql`` and return its rows as tuples."""
        try:
            return self.con.execute(sql, params).fetchall()
        except Exception as exc:
            raise translate(exc, path=self.location) from None

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Catalog]:
        """All statements inside commit together, or none does."""
        if self.read_only:
            raise QueryError(f"catalog {self.location} is open read-only; cannot write")
        self.execute("BEGIN TRANSACTION")
        try:
            yield self
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        else:
            self.execute("COMMIT")
            self._written = True

    def mark_written(self) -> None:
        """Note that this session changed the catalog (so closing publishes a snapshot)."""
        self._written = True

    def write(self, records: Any) -> dict[str, int]:
        """Upsert typed records (``ModelRecord``, ``ScoreRecord`` ...) in one transaction.

        For a catalog already open read-write; :func:`vvshub.catalog.write_records` opens,
        waits for the lock or spools by itself.

        Returns:
            Rows written per table.
        """
        from vvshub.catalog._write import apply_records

        with self.transaction():
            return apply_records(self, records)

    def drain_spool(self) -> int:
        """Apply the batches other writers spooled while the catalog was locked."""
        from vvshub.catalog._spool import drain

        if self.read_only:
            return 0
        return drain(self)

    def tables(self) -> list[str]:
        """Names of the tables and views in the catalog."""
        rows = self.fetchall(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY 1"
        )
        return [r[0] for r in rows]

    def close(self) -> None:
        """Close the connection (idempotent).

        A read-write session first applies pending spool files and, when anything was
        written, publishes the read snapshot.
        """
        if not self.read_only and self.location is not None and self._cleanup is None:
            try:
                if self.drain_spool():
                    self._written = True
                if self._written:
                    _publish_snapshot(self)
            except Exception as exc:  # never lose the close itself over a snapshot
                log.warning("could not publish the read snapshot of %s: %s", self.location, exc)
            self._written = False
        with contextlib.suppress(Exception):
            self.con.close()
        if self._cleanup is not None:
            self._cleanup()
            self._cleanup = None

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        mode = "read-only" if self.read_only else "read-write"
        if self.snapshot_of:
            mode += ", snapshot"
        return f"Catalog({self.location!r}, {mode})"


def snapshot_path(path: str | Path) -> Path:
    """Where the read snapshot of the catalog file ``path`` lives."""
    p = Path(path)
    return p.with_name(p.name + ".snapshot")


def _publish_snapshot(cat: Catalog) -> None:
    """Checkpoint, then copy the file beside itself and rename the copy into place.

    Runs while this process still holds the write lock, so no other writer can change
    the file during the copy; the rename makes the new snapshot appear whole.
    """
    import shutil

    assert cat.location is not None  # only called on file catalogs
    cat.execute("CHECKPOINT")
    src = Path(cat.location)
    dest = snapshot_path(src)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    try:
        shutil.copyfile(src, tmp)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def writable_path(location: str | Path | None) -> Path:
    """The catalog file that a write to ``location`` goes to.

    Raises:
        CatalogError: ``location`` is a Parquet export or a URL (read-only catalogs).
    """
    loc = str(location) if location is not None else str(catalog_path())
    if _URL_RE.match(loc):
        raise CatalogError(f"a remote catalog is read-only: {loc}; write to a local .duckdb file")
    path = Path(loc).expanduser()
    if path.is_dir():
        raise CatalogError(
            f"{path} is a Parquet export, which is read-only; write to a .duckdb catalog"
        )
    return path


#: What a read-only connection may do: read the catalog and nothing else. User SQL (``vvshub
#: sql``, laws queries, ``models ls --where``) runs on such a connection, so it must not read or
#: write files (``COPY … TO``, ``read_csv('/etc/passwd')``, ``ATTACH``), reach the network, or
#: install and load extensions; the lock stops SQL from turning any of this back on.
_SANDBOX = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
    "lock_configuration": True,
}


def _config(*, sandbox: bool = False) -> dict[str, Any]:
    """DuckDB settings for every connection; ``sandbox`` adds :data:`_SANDBOX` (read-only opens)."""
    # No implicit magic: a bare name in SQL never resolves to a Python variable.
    config: dict[str, Any] = {"python_enable_replacements": False}
    if sandbox:
        config.update(_SANDBOX)
    return config


def open_catalog(location: str | Path | None = None, *, read_only: bool = True) -> Catalog:
    """Open a catalog.

    Args:
        location: a ``.duckdb`` file, a Parquet export folder or URL; ``None`` for
            ``$VVSHUB_HOME/catalog.duckdb``.
        read_only: refuse writes. A read-write open creates the file and schema when missing.

    Raises:
        CatalogError: the catalog does not exist (read-only) or cannot be opened.
        CatalogLockedError: another process is writing it.

    Example:
        >>> with open_catalog(read_only=False) as cat:  # doctest: +SKIP
        ...     cat.tables()
    """
    loc = str(location) if location is not None else str(catalog_path())
    if _URL_RE.match(loc) and not loc.endswith(".duckdb"):
        return _open_parquet_export(loc, remote=True)
    path = Path(loc).expanduser()
    if path.is_dir():
        return _open_parquet_export(str(path), remote=False)
    if _URL_RE.match(loc):
        if not read_only:
            raise CatalogError(f"a remote catalog is read-only: {loc}")
        return _attach_remote(loc)
    if read_only and not path.exists():
        raise CatalogError(
            f"no catalog at {path}; create one with `vvshub catalog import-reference`, "
            "or point --catalog / VVSHUB_HOME at an existing one"
        )
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
        return _open_file(path, read_only=False)
    try:
        catalog = _open_file(path, read_only=True)
    except CatalogLockedError as exc:
        return _open_snapshot(path, exc)
    found = schema_version(catalog.con)
    if found is not None and found < SCHEMA_VERSION:
        # an older catalog is migrated on first use, when nobody is writing it
        catalog.close()
        try:
            _open_file(path, read_only=False).close()
        except CatalogLockedError:
            log.warning(
                "catalog %s has schema %d and is locked; reading it unmigrated", path, found
            )
        catalog = _open_file(path, read_only=True)
    return catalog


def _open_file(path: Path, *, read_only: bool) -> Catalog:
    """Connect to a catalog file; read-write also creates or migrates the schema."""
    import duckdb

    from vvshub.catalog._schema import ensure_schema

    try:
        con = duckdb.connect(str(path), read_only=read_only, config=_config(sandbox=read_only))
    except Exception as exc:
        raise translate(exc, path=str(path)) from None
    catalog = Catalog(con, location=str(path), read_only=read_only)
    if read_only:
        if schema_version(con) is None:
            catalog.close()
            raise CatalogError(
                f"{path} is a DuckDB file but not a vvshub catalog (no schema version)"
            )
        found = schema_version(con)
        if found is not None and found > SCHEMA_VERSION:
            catalog.close()
            raise SchemaVersionError(
                f"catalog schema version {found} is newer than this vvshub understands "
                f"({SCHEMA_VERSION}); upgrade vvshub (pip install -U vvshub) to open it",
                found=found,
                supported=SCHEMA_VERSION,
            )
        return catalog
    try:
        migrated = ensure_schema(con)
    except CatalogError:
        catalog.close()
        raise
    except Exception as exc:
        catalog.close()
        raise translate(exc, path=str(path)) from None
    if migrated is not None:
        catalog.mark_written()
        if migrated > 0:
            log.warning(
                "migrated catalog %s from schema version %d to %d", path, migrated, SCHEMA_VERSION
            )
    return catalog


def _open_snapshot(path: Path, locked: CatalogLockedError) -> Catalog:
    """Open the read snapshot of a catalog that a writer holds; re-raise when there is none."""
    import duckdb

    snap = snapshot_path(path)
    if not snap.exists():
        raise locked
    try:
        con = duckdb.connect(str(snap), read_only=True, config=_config(sandbox=True))
    except Exception as exc:
        raise translate(exc, path=str(snap)) from None
    catalog = Catalog(con, location=str(snap), read_only=True)
    catalog.snapshot_of = str(path)
    log.info("%s; reading its snapshot %s", locked, snap)
    return catalog


def _open_parquet_export(base: str, *, remote: bool) -> Catalog:
    """Open a Parquet export read-only.

    A remote export is first fetched into the local cache (``vvshub.catalog._remote``).
    The Parquet files are copied into tables of a scratch DuckDB file, which is then
    reopened read-only and sandboxed (:data:`_SANDBOX`): user SQL can neither alter the
    tables nor reach the Parquet files (views over them would need the files allowed,
    and an allowed file can be overwritten by ``COPY … TO``).
    """
    import shutil
    import tempfile

    import duckdb

    from vvshub.catalog._schema import TABLES, VIEWS

    base = base.rstrip("/")
    if remote:
        from vvshub.catalog._remote import fetch_export

        files = fetch_export(base)
    else:
        folder = Path(base).resolve()
        files = {n: folder / f"{n}.parquet" for n in (*TABLES, *VIEWS)}
        files = {n: f for n, f in files.items() if f.is_file()}
    if "scores" not in files:
        raise CatalogError(f"{base} is not a vvshub Parquet export (no scores.parquet)")
    scratch = Path(tempfile.mkdtemp(prefix="vvshub-export-"))
    db = scratch / "export.duckdb"

    def cleanup() -> None:
        shutil.rmtree(scratch, ignore_errors=True)

    con = duckdb.connect(str(db), config=_config())
    try:
        for name, file in files.items():
            source = _sql_string(str(file))
            try:
                con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM read_parquet({source})')
            except Exception as exc:
                raise CatalogError(
                    f"cannot read {name}.parquet of {base}: {one_line(exc)}"
                ) from None
        con.close()
        con = duckdb.connect(str(db), read_only=True, config=_config(sandbox=True))
    except BaseException:
        con.close()
        cleanup()
        raise
    return Catalog(con, location=base, read_only=True, cleanup=cleanup)


def _attach_remote(url: str) -> Catalog:
    """Open a remote ``.duckdb`` file: fetched into the local cache, then opened read-only."""
    from vvshub.catalog._remote import fetch_file

    # opened as it is: a cached blob is never migrated or written
    catalog = _open_file(fetch_file(url), read_only=True)
    catalog.location = url
    return catalog
