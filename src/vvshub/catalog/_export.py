"""Publish a catalog as Parquet: one file per table, plus the ``scores`` view and a manifest."""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from pathlib import Path

from vvshub.catalog._connection import open_catalog
from vvshub.catalog._remote import MANIFEST
from vvshub.catalog._schema import TABLES, VIEWS


def export_catalog(dest: str | Path, *, catalog: str | Path | None = None) -> list[Path]:
    """Write every table and the ``scores`` view of a catalog as Parquet files in ``dest``.

    The files are readable by DuckDB (``read_parquet``), pandas and Hugging Face
    ``datasets``, and ``open_catalog(dest)`` (or ``--catalog DEST``) reads them back,
    from a folder or served over HTTP. ``manifest.json`` lists each file's sha256, size
    and row count, so a remote reader downloads only the files it has not cached.
    Files appear in ``dest`` only once all of them are written.

    Args:
        dest: output folder (created if missing).
        catalog: the catalog to export; default ``$VVSHUB_HOME/catalog.duckdb``.

    Returns:
        The Parquet files written, in table order (``manifest.json`` is written beside them).

    Example:
        >>> export_catalog("catalog-parquet")  # doctest: +SKIP
        [PosixPath('catalog-parquet/meta.parquet'), ...]
    """
    import pyarrow.parquet as pq

    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".export-", dir=dest))
    written = []
    manifest: dict[str, dict[str, object]] = {}
    try:
        # the catalog opens sandboxed (no file access from SQL), so the rows come out as
        # Arrow and pyarrow writes the files
        with open_catalog(catalog, read_only=True) as cat:
            present = set(cat.tables())
            version = cat.fetchall("SELECT value FROM meta WHERE key = 'schema_version'")
            for name in (*TABLES, *VIEWS):
                if name not in present:
                    continue
                table = cat.con.sql(f'SELECT * FROM "{name}"').to_arrow_table()
                out = staging / f"{name}.parquet"
                pq.write_table(table, out)
                manifest[out.name] = {
                    "sha256": _sha256(out),
                    "size": out.stat().st_size,
                    "rows": table.num_rows,
                }
                written.append(out)
        (staging / MANIFEST).write_text(
            json.dumps(
                {
                    "format": "vvshub-catalog-export",
                    "schema_version": version[0][0] if version else None,
                    "files": manifest,
                },
                indent=1,
            )
            + "\n"
        )
        final = []
        for out in written:
            target = dest / out.name
            out.replace(target)
            final.append(target)
        # the manifest last: a reader never sees one that names files not yet in place
        (staging / MANIFEST).replace(dest / MANIFEST)
        return final
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
