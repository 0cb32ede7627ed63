"""The spool: batches of records waiting for the catalog's write lock.

A writer that cannot get the lock writes its batch as one JSON file, atomically
(a temporary name, then a rename), to the spool folder: ``$VVSHUB_HOME/spool/``
for the default catalog, ``<catalog>.spool/`` beside any other. Whoever next holds
the lock drains the folder: each file is applied in its own transaction together
with a row in ``spool_applied`` (its id), and only then deleted. A file whose id is
already in ``spool_applied`` (the process died between commit and delete) is deleted
without being applied again, so a spooled batch lands exactly once. A file that
cannot be read is moved to ``failed/`` beside it, with a warning, never half-applied.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vvshub.catalog._records import Record, record_from_dict
from vvshub.constants import catalog_path, vvshub_home
from vvshub.errors import RecordError

if TYPE_CHECKING:
    from vvshub.catalog._connection import Catalog

log = logging.getLogger(__name__)

_FORMAT = "vvshub-spool/1"
_INSERT_APPLIED = "INSERT INTO spool_applied VALUES (?, ?, ?, ?)"
_IS_APPLIED = "SELECT count(*) FROM spool_applied WHERE spool_id = ?"


def spool_dir(catalog: str | Path) -> Path:
    """The spool folder of the catalog file ``catalog``."""
    path = Path(catalog).expanduser().resolve()
    if path == catalog_path().expanduser().resolve():
        return vvshub_home().expanduser() / "spool"
    return path.with_name(path.name + ".spool")


def spool_batch(catalog: str | Path, records: Sequence[Record]) -> Path:
    """Write ``records`` as one spool file, atomically; return its path."""
    folder = spool_dir(catalog)
    folder.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    spool_id = f"{now:%Y%m%dT%H%M%S%f}-{os.getpid()}-{uuid.uuid4().hex[:12]}"
    payload = {
        "format": _FORMAT,
        "spool_id": spool_id,
        "created_at": now.isoformat(),
        "pid": os.getpid(),
        "records": [{"kind": r.kind, **r.to_dict()} for r in records],
    }
    tmp = folder / f".{spool_id}.tmp"
    final = folder / f"{spool_id}.json"
    with open(tmp, "w") as fh:
        json.dump(payload, fh, allow_nan=False)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, final)
    return final


def pending(catalog: str | Path) -> list[Path]:
    """Spool files waiting to be applied, oldest first."""
    folder = spool_dir(catalog)
    if not folder.is_dir():
        return []
    return sorted(folder.glob("*.json"))


def _read(path: Path) -> tuple[str, dt.datetime | None, list[Record]]:
    data: dict[str, Any] = json.loads(path.read_text())
    if data.get("format") != _FORMAT:
        raise RecordError(f"not a vvshub spool file (format {data.get('format')!r})")
    created = data.get("created_at")
    records = [record_from_dict(r) for r in data["records"]]
    return str(data["spool_id"]), dt.datetime.fromisoformat(created) if created else None, records


def drain(cat: Catalog) -> int:
    """Apply every pending spool file to the open read-write catalog ``cat``.

    Returns:
        The number of batches applied now (not counting ones found already applied).
    """
    from vvshub.catalog._write import apply_records

    if cat.read_only or cat.location is None:
        return 0
    applied = 0
    for path in pending(cat.location):
        try:
            spool_id, created, records = _read(path)
        except FileNotFoundError:  # another writer drained it meanwhile
            continue
        except (ValueError, KeyError, TypeError) as exc:
            failed = path.parent / "failed"
            failed.mkdir(exist_ok=True)
            os.replace(path, failed / path.name)
            log.warning("unreadable spool file moved to %s: %s", failed / path.name, exc)
            continue
        if cat.fetchall(_IS_APPLIED, [spool_id])[0][0]:
            path.unlink(missing_ok=True)
            continue
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        with cat.transaction():
            apply_records(cat, records)
            cat.execute(_INSERT_APPLIED, [spool_id, len(records), created, now])
        path.unlink(missing_ok=True)
        applied += 1
        log.info("applied spooled batch %s (%d records)", spool_id, len(records))
    return applied
