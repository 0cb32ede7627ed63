"""The one place that opens DuckDB, and the translation of its errors into vvshub's.

A catalog is a DuckDB file (``$VVSHUB_HOME/catalog.duckdb`` by default) or a
Parquet export (a folder or URL holding one ``<table>.parquet`` per table),
which opens read-only as views in an in-memory database. One process writes a
DuckDB file at a time; many may read.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vvshub.constants import catalog_path
from vvshub.errors import CatalogError, CatalogLockedError, QueryError

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

    def tables(self) -> list[str]:
        """Names of the tables and views in the catalog."""
        rows = self.fetchall(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY 1"
        )
        return [r[0] for r in rows]

    def close(self) -> None:
        """Close the connection (idempotent)."""
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
        return f"Catalog({self.location!r}, {mode})"


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
    import duckdb

    from vvshub.catalog._schema import ensure_schema, schema_version

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
    try:
        con = duckdb.connect(str(path), read_only=read_only, config=_config(sandbox=read_only))
    except Exception as exc:
        raise translate(exc, path=str(path)) from None
    catalog = Catalog(con, location=str(path), read_only=read_only)
    if not read_only:
        try:
            ensure_schema(con)
        except CatalogError:
            catalog.close()
            raise
        except Exception as exc:
            catalog.close()
            raise translate(exc, path=str(path)) from None
    elif schema_version(con) is None:
        catalog.close()
        raise CatalogError(f"{path} is a DuckDB file but not a vvshub catalog (no schema version)")
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

    catalog = open_catalog(fetch_file(url), read_only=True)
    catalog.location = url
    return catalog
