"""Publish a catalog as Parquet: one file per table, plus the ``scores`` view."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from vvshub.catalog._connection import _sql_string, open_catalog
from vvshub.catalog._schema import TABLES, VIEWS


def export_catalog(dest: str | Path, *, catalog: str | Path | None = None) -> list[Path]:
    """Write every table and the ``scores`` view of a catalog as Parquet files in ``dest``.

    The files are readable by DuckDB (``read_parquet``), pandas and Hugging Face
    ``datasets``, and ``open_catalog(dest)`` (or ``--catalog DEST``) reads them back.
    Files appear in ``dest`` only once all of them are written.

    Args:
        dest: output folder (created if missing).
        catalog: the catalog to export; default ``$VVSHUB_HOME/catalog.duckdb``.

    Returns:
        The files written, in table order.

    Example:
        >>> export_catalog("catalog-parquet")  # doctest: +SKIP
        [PosixPath('catalog-parquet/meta.parquet'), ...]
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".export-", dir=dest))
    written = []
    try:
        with open_catalog(catalog, read_only=True) as cat:
            present = set(cat.tables())
            for name in (*TABLES, *VIEWS):
                if name not in present:
                    continue
                out = staging / f"{name}.parquet"
                cat.execute(
                    f"COPY (SELECT * FROM {name}) TO {_sql_string(str(out))} (FORMAT parquet)"
                )
                written.append(out)
        final = []
        for out in written:
            target = dest / out.name
            out.replace(target)
            final.append(target)
        return final
    finally:
        shutil.rmtree(staging, ignore_errors=True)
