"""A content-addressed activation cache under ``$VVSHUB_HOME/activations``.

An entry is keyed on everything that determines the features: the weights' sha256,
the preprocessing, the stimulus set's content hash, the layer, how the features were
kept (``full`` or a projection spec) and the extractor version. Nothing stale can be
returned for changed weights (Brain-Score keys its cache on the model's name). Entries
are written to a temporary file and renamed, so a crash leaves no half-written entry,
and a rerun resumes from the entries already there.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from vvshub.constants import vvshub_home

if TYPE_CHECKING:
    from torch import nn

__all__ = [
    "CacheEntry",
    "cache_dir",
    "cache_key",
    "gc",
    "get",
    "list_entries",
    "put",
    "weights_sha256",
]


def cache_dir() -> Path:
    """``$VVSHUB_HOME/activations``."""
    return vvshub_home() / "activations"


def weights_sha256(model: nn.Module) -> str:
    """sha256 over the model's parameter and buffer names, shapes, dtypes and bytes."""
    h = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        t = tensor.detach().cpu().contiguous()
        h.update(f"{name}:{tuple(t.shape)}:{t.dtype}\n".encode())
        h.update(t.view(-1).view(dtype=__import__("torch").uint8).numpy().tobytes())
    return h.hexdigest()


def cache_key(**parts: str) -> str:
    """sha256 of the sorted ``name=value`` parts."""
    text = "\n".join(f"{k}={parts[k]}" for k in sorted(parts))
    return hashlib.sha256(text.encode()).hexdigest()


def _paths(key: str) -> tuple[Path, Path]:
    folder = cache_dir() / key[:2]
    return folder / f"{key}.npy", folder / f"{key}.json"


def get(key: str) -> np.ndarray | None:
    """The cached array for ``key``, or None."""
    data, meta = _paths(key)
    if not (data.exists() and meta.exists()):
        return None
    try:
        return np.load(data, allow_pickle=False)
    except (OSError, ValueError):  # a damaged entry is recomputed
        return None


def put(key: str, array: np.ndarray, meta: dict[str, Any]) -> None:
    """Store ``array`` under ``key`` with its metadata (atomically)."""
    data, meta_path = _paths(key)
    data.parent.mkdir(parents=True, exist_ok=True)
    tmp = data.with_name(f"{data.name}.{os.getpid()}.part")
    with open(tmp, "wb") as fh:
        np.save(fh, np.ascontiguousarray(array), allow_pickle=False)
    os.replace(tmp, data)
    info = {
        **meta,
        "key": key,
        "shape": list(array.shape),
        "bytes": int(data.stat().st_size),
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    tmp_meta = meta_path.with_name(f"{meta_path.name}.{os.getpid()}.part")
    tmp_meta.write_text(json.dumps(info, indent=1))
    os.replace(tmp_meta, meta_path)


@dataclass(frozen=True)
class CacheEntry:
    """One cached array: its key, what it holds, its size and age."""

    key: str
    model: str
    layer: str
    stimuli: str
    features: str
    shape: tuple[int, ...]
    bytes: int
    created_at: str

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (``vvshub cache ls --json``)."""
        return {**self.__dict__, "shape": list(self.shape)}


def list_entries() -> list[CacheEntry]:
    """Every entry in the cache, oldest first."""
    entries = []
    root = cache_dir()
    if not root.exists():
        return []
    for meta_path in root.glob("*/*.json"):
        try:
            info = json.loads(meta_path.read_text())
        except (OSError, ValueError):
            continue
        entries.append(
            CacheEntry(
                key=info.get("key", meta_path.stem),
                model=str(info.get("model", "")),
                layer=str(info.get("layer", "")),
                stimuli=str(info.get("stimuli", "")),
                features=str(info.get("features", "")),
                shape=tuple(info.get("shape", ())),
                bytes=int(info.get("bytes", 0)),
                created_at=str(info.get("created_at", "")),
            )
        )
    return sorted(entries, key=lambda e: e.created_at)


def gc(
    *, max_bytes: int | None = None, older_than_days: float | None = None, everything: bool = False
) -> list[CacheEntry]:
    """Remove entries: all, those older than a number of days, then the oldest until the cache
    fits ``max_bytes``. Returns what was removed."""
    entries = list_entries()
    removed: list[CacheEntry] = []
    now = dt.datetime.now(dt.UTC)
    keep = []
    for e in entries:
        age_days = None
        with contextlib.suppress(ValueError):  # an entry without a readable date is kept
            age_days = (now - dt.datetime.fromisoformat(e.created_at)).total_seconds() / 86400
        if everything or (
            older_than_days is not None and age_days is not None and age_days > older_than_days
        ):
            removed.append(e)
        else:
            keep.append(e)
    if max_bytes is not None:
        total = sum(e.bytes for e in keep)
        while keep and total > max_bytes:
            e = keep.pop(0)
            total -= e.bytes
            removed.append(e)
    for e in removed:
        for path in _paths(e.key):
            path.unlink(missing_ok=True)
    if everything and cache_dir().exists():
        shutil.rmtree(cache_dir(), ignore_errors=True)
    return removed
