"""Import the reference study's published artifacts into the catalog.

Gokce & Schrimpf (ICML 2025) publish their results as loose CSV/JSON files.
The import validates every file before touching the catalog, writes all tables
in one transaction (a failure leaves the catalog as it was), records the
sha256 of each file, and is idempotent: files already imported change nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
import shutil
import tempfile
import urllib.error
import urllib.request
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from vvshub import ids
from vvshub.catalog import _csv
from vvshub.catalog._connection import Catalog, open_catalog
from vvshub.constants import COUNT_CONVENTION, REFERENCE_URL
from vvshub.errors import CatalogError, ImportDataError, ModelIdError
from vvshub.study import BEHAVIORAL

log = logging.getLogger(__name__)

SOURCE = "reference"
#: Scorer version of the study's published scores (Brain-Score before the r²/c change).
REFERENCE_SCORER = "gokce-schrimpf-2025"

#: File name -> path under the study repository's ``scaling_primate_vvs`` folder.
REFERENCE_FILES = {
    "benchmark_scores.csv": "artifacts/benchmark_scores.csv",
    "model_checkpoints.csv": "artifacts/model_checkpoints.csv",
    "benchmark_scores_ckpts.csv": "artifacts/benchmark_scores_ckpts.csv",
    "benchmark_scores_brainscore.csv": "artifacts/benchmark_scores_brainscore.csv",
    "commitments.json": "brainscore/artifacts/commitments.json",
}

#: What the study's five benchmarks are (DESIGN.md section 4, NOTES.md section 3).
_BENCHMARK_FACTS = {
    "FreemanZiemba2013": ("pls", "internal_consistency: split-half, Spearman-Brown"),
    "MajajHong2015": ("pls", "internal_consistency: split-half, Spearman-Brown"),
    "Rajalingham2018": ("i2n", "split-half i2n of human trials"),
}
_BENCHMARK_RE = re.compile(
    r"^(?:[a-z]+\.)?(?P<source>[A-Za-z]+\d{4})(?P<subset>public|private)?\.?"
)

# Each number's domain: scores are correlations divided by a ceiling (the study's run from
# -0.08 to 0.63), accuracies fractions, counts and seeds non-negative. Anything else (7.5, 1e999)
# is a broken file and is refused with its line, like a malformed number.
_SCORE = _csv.within(_csv.opt_float, low=-1.0, high=1.0)
_ACC = _csv.within(_csv.opt_float, low=0.0, high=1.0)
_COUNT = _csv.within(_csv.opt_int, low=0)
_AMOUNT = _csv.within(_csv.opt_float, low=0.0)
_REQ_COUNT = _csv.within(_csv.req_int, low=0)

_SCORE_COLUMNS: dict[str, _csv.Converter] = {
    "model_id": str,
    "benchmark_name": str,
    "region": str,
    "arch": str,
    "arch_family": _csv.opt_str,
    "dataset": _csv.opt_str,
    "n_params": _COUNT,
    "macs": _AMOUNT,
    "flops": _AMOUNT,
    "n_samples": _COUNT,
    "samples_per_class": _REQ_COUNT,
    "n_epochs": _COUNT,
    "n_samples_seen": _COUNT,
    "total_flops": _AMOUNT,
    "score": _SCORE,  # empty for six random-init EfficientNet V2 scores never computed
    "seed": _REQ_COUNT,
    "acc": _ACC,
    "checkpoint_url": _csv.opt_str,
    "is_pretrained": _csv.boolean,
    "is_random": _csv.boolean,
    "is_ssl": _csv.boolean,
    "ssl_method": _csv.opt_str,
    "is_ablation": _csv.boolean,
    "is_open_clip": _csv.boolean,
    "is_adv": _csv.boolean,
    "adv_method": _csv.opt_str,
}
_MODEL_FIELDS = [c for c in _SCORE_COLUMNS if c not in ("benchmark_name", "region", "score")]

_CHECKPOINT_COLUMNS: dict[str, _csv.Converter] = {
    "model_id": str,
    "epoch": _REQ_COUNT,
    "checkpoint_path": str,
    "arch": _csv.opt_str,
    "arch_family": _csv.opt_str,
    "is_latest": _csv.boolean,
    "checkpoint_url": str,
}

_EPOCH_COLUMNS: dict[str, _csv.Converter] = {
    "model_id": str,
    "benchmark_name": str,
    "region": str,
    "ckpt": _REQ_COUNT,
    "flops": _AMOUNT,
    "n_samples_seen": _COUNT,
    "score": _csv.within(_csv.req_float, low=-1.0, high=1.0),
    "acc": _ACC,
    "checkpoint_url": _csv.opt_str,
}


@dataclass(frozen=True)
class ImportSummary:
    """What an import did.

    Attributes:
        source: the folder or URL imported.
        import_id: hash of the imported files' hashes.
        changed: ``False`` when these exact files were already imported.
        rows: rows per table written (empty when unchanged).
        files: sha256 per file name.
        removed: ids of the models an earlier import brought in that these files no longer
            list; the import deletes them (with their scores), and warns before it commits.
        dry_run: nothing was written; ``rows`` and ``removed`` say what the import would do.
    """

    source: str
    import_id: str
    changed: bool
    rows: dict[str, int] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)
    dry_run: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (for ``--json``)."""
        return asdict(self)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _download(url: str, dest: Path) -> None:
    from vvshub._progress import track
    from vvshub.catalog._remote import network_reason

    tmp = dest.with_name(dest.name + ".part")
    try:
        with urllib.request.urlopen(url, timeout=60) as response, tmp.open("wb") as out:
            size = int(response.headers.get("Content-Length") or 0)
            chunks = iter(lambda: response.read(1 << 16), b"")
            total = (size >> 16) + 1 if size else None
            for chunk in track(chunks, description=f"download {dest.name}", total=total):
                out.write(chunk)
    except urllib.error.HTTPError as exc:
        tmp.unlink(missing_ok=True)
        raise CatalogError(f"cannot download {url}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        tmp.unlink(missing_ok=True)
        raise CatalogError(f"cannot download {url}: {network_reason(exc)}") from None
    tmp.replace(dest)


def _url_exists(url: str) -> bool:
    """Whether ``url`` answers (a HEAD request); ``False`` only for HTTP 404."""
    from vvshub.catalog._remote import network_reason

    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=60):
            return True
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return False
        raise CatalogError(f"cannot download {url}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise CatalogError(f"cannot download {url}: {network_reason(exc)}") from None


def fetch_reference(source: str, workdir: Path) -> Path:
    """Download the reference files from ``source`` (a URL prefix) into ``workdir``.

    Two layouts are understood, tried in this order:

    - flat: the five files side by side, ``URL/benchmark_scores.csv`` … ``URL/commitments.json``
      (a folder like ``../shared/data/reference`` served over HTTP);
    - the study repository's: ``URL/artifacts/benchmark_scores.csv`` …
      ``URL/brainscore/artifacts/commitments.json`` (:data:`REFERENCE_FILES`), with ``URL`` the
      repository's ``scaling_primate_vvs`` folder (the default, :data:`REFERENCE_URL`).
    """
    base = source.rstrip("/")
    first = next(iter(REFERENCE_FILES))
    flat = _url_exists(f"{base}/{first}")
    if not flat and not _url_exists(f"{base}/{REFERENCE_FILES[first]}"):
        raise CatalogError(
            f"no reference files at {base}: neither {base}/{first} (a flat folder) nor "
            f"{base}/{REFERENCE_FILES[first]} (the study repository's scaling_primate_vvs "
            "folder) exists; see `vvshub catalog import-reference --help`"
        )
    for name, rel in REFERENCE_FILES.items():
        _download(f"{base}/{name if flat else rel}", workdir / name)
    return workdir


def _benchmark_row(name: str, region: str) -> dict[str, Any]:
    m = _BENCHMARK_RE.match(name)
    source = m["source"] if m else name
    metric, ceiling = _BENCHMARK_FACTS.get(source, (name.rsplit("-", 1)[-1], "unknown"))
    subset = (m["subset"] if m else None) or "public"
    return {
        "benchmark": name,
        "region": region,
        "source": source,
        "metric": metric,
        "version": subset,
        "ceiling_method": ceiling,
        # the study's scores predate Brain-Score's r^2/c normalisation (NOTES.md section 3)
        "normalisation": "ratio_squared" if metric == "pls" else "ratio_sqrt_ceiling",
    }


def _commitment_rows(path: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ImportDataError(
            f"{path.name}:{exc.lineno}: malformed JSON: {exc.msg}", path=str(path), line=exc.lineno
        ) from None
    rows = []
    try:
        for arch_key, trainings in data.items():
            for training, seeds in trainings.items():
                for seed_key, entry in seeds.items():
                    seed = int(seed_key.removeprefix("seed-"))
                    layers = dict(entry["region2layer"])
                    if entry.get("behavioral_readout_layer"):
                        layers[BEHAVIORAL] = entry["behavioral_readout_layer"]
                    for region, layer in layers.items():
                        rows.append(
                            {
                                "arch_key": arch_key,
                                "training": training,
                                "seed": seed,
                                "region": region,
                                "layer": layer,
                                "source": SOURCE,
                            }
                        )
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise ImportDataError(
            f"{path.name}: unexpected structure ({type(exc).__name__}: {exc}); expected "
            "{arch: {training: {seed-k: {region2layer: {...}}}}}",
            path=str(path),
        ) from None
    return rows


def _commitment_key(mid: ids.ModelId, row: dict[str, Any]) -> tuple[str, str, int] | None:
    """Where the study's commitments file keeps the layers of this model, if anywhere."""
    if mid.style in ("timm", "timm_readout"):
        return (row["model_id"], "unknown_pretrained", 0)
    if mid.style == "openclip":
        return (row["model_id"], "laion_pretrained", 0)
    if mid.samples_per_class != 0 or mid.regime == "random":
        return None
    arch = mid.arch.lower()
    if mid.ssl_method:
        return (f"{mid.ssl_method}_{arch}", f"{mid.dataset}_full", mid.seed)
    if mid.adv_method:
        return (arch, "adv_full", mid.seed)
    if mid.regime == "pretrained":
        return (arch, "imagenet_pretrained", mid.seed)
    return (arch, f"{mid.dataset}_full", mid.seed)


def _build_frames(folder: Path, now: dt.datetime) -> dict[str, Any]:
    """Read and validate every file; return one DataFrame per table. Touches no catalog."""
    import pandas as pd

    for name in REFERENCE_FILES:
        if not (folder / name).is_file():
            raise ImportDataError(
                f"{folder} has no {name}; expected the study's files: {', '.join(REFERENCE_FILES)}",
                path=str(folder / name),
            )
    _, score_rows = _csv.read_csv(folder / "benchmark_scores.csv", columns=_SCORE_COLUMNS)
    _, ckpt_rows = _csv.read_csv(folder / "model_checkpoints.csv", columns=_CHECKPOINT_COLUMNS)
    _, epoch_rows = _csv.read_csv(folder / "benchmark_scores_ckpts.csv", columns=_EPOCH_COLUMNS)
    _, board_rows = _csv.read_csv(folder / "benchmark_scores_brainscore.csv", required=["model_id"])
    commitments = _commitment_rows(folder / "commitments.json")
    layer_of = {
        (c["arch_key"].lower(), c["training"], c["seed"], c["region"]): c["layer"]
        for c in commitments
    }

    models: dict[str, dict[str, Any]] = {}
    benchmarks: dict[str, dict[str, Any]] = {}
    records = []
    for line, row in enumerate(score_rows, start=2):
        model_id = row["model_id"]
        model = {k: row[k] for k in _MODEL_FIELDS}
        known = models.get(model_id)
        if known is None:
            try:
                mid = ids.parse(model_id)
            except ModelIdError as exc:
                raise ImportDataError(f"benchmark_scores.csv:{line}: {exc}", line=line) from None
            model["_mid"] = mid
            models[model_id] = model
        else:
            diff = [k for k in _MODEL_FIELDS if known[k] != model[k]]
            if diff:
                raise ImportDataError(
                    f"benchmark_scores.csv:{line}: {model_id} disagrees with its earlier rows on "
                    f"{', '.join(diff)}",
                    line=line,
                )
        bench = benchmarks.setdefault(
            row["benchmark_name"], _benchmark_row(row["benchmark_name"], row["region"])
        )
        if bench["region"] != row["region"]:
            raise ImportDataError(
                f"benchmark_scores.csv:{line}: benchmark {row['benchmark_name']} in two regions",
                line=line,
            )
        key = _commitment_key(models[model_id]["_mid"], row)
        layer = layer_of.get((key[0].lower(), key[1], key[2], row["region"])) if key else None
        records.append(
            {
                "model_id": model_id,
                "benchmark": row["benchmark_name"],
                "score": row["score"],
                "raw_score": None,
                "ceiling": None,
                "layer": layer,
                "scorer_version": REFERENCE_SCORER,
                "source": SOURCE,
                "recorded_at": now,
            }
        )

    model_rows = []
    for model_id, m in models.items():
        mid = m.pop("_mid")
        m["model_id"] = model_id
        m["short_id"] = mid.short_id()
        m["count_convention"] = COUNT_CONVENTION if m["macs"] is not None else None
        m["source"] = SOURCE
        m["added_at"] = now
        model_rows.append(m)

    checkpoints = [
        {
            "model_id": r["model_id"],
            "epoch": r["epoch"],
            "path": r["checkpoint_path"],
            "url": r["checkpoint_url"],
            "arch": r["arch"],
            "arch_family": r["arch_family"],
            "is_benchmarked": r["is_latest"],
            "source": SOURCE,
        }
        for r in ckpt_rows
    ]
    epochs = []
    for r in epoch_rows:
        # the per-epoch file omits the x3 backward factor, does not double SimCLR's two views,
        # and links .pth where the files are .pt; the model's own row has the convention right
        known = models.get(r["model_id"])
        flops = known["flops"] if known is not None and known["flops"] is not None else r["flops"]
        seen = r["n_samples_seen"]
        url = r["checkpoint_url"]
        if url and url.endswith(".pth"):
            url = url[: -len(".pth")] + ".pt"
        epochs.append(
            {
                "model_id": r["model_id"],
                "benchmark": r["benchmark_name"],
                "region": r["region"],
                "epoch": r["ckpt"],
                "n_samples_seen": seen,
                "total_flops": 3.0 * flops * seen
                if flops is not None and seen is not None
                else None,
                "score": r["score"],
                "acc": r["acc"],
                "checkpoint_url": url,
                "source": SOURCE,
            }
        )
    _check_unique(checkpoints, ("model_id", "epoch"), "model_checkpoints.csv")
    _check_unique(epochs, ("model_id", "benchmark", "epoch"), "benchmark_scores_ckpts.csv")
    return {
        "models": pd.DataFrame(model_rows),
        "benchmarks": pd.DataFrame(list(benchmarks.values())),
        "score_records": pd.DataFrame(records),
        "checkpoints": pd.DataFrame(checkpoints),
        "epoch_scores": pd.DataFrame(epochs),
        "commitments": pd.DataFrame(commitments).drop_duplicates(
            ["arch_key", "training", "seed", "region"]
        ),
        "leaderboard": pd.DataFrame(board_rows),
    }


def _removed_models(cat: Catalog, models: Any) -> list[str]:
    """Models an earlier reference import brought in that ``models`` no longer lists."""
    rows = cat.fetchall(
        "SELECT model_id FROM models WHERE source = ? AND NOT list_contains(?, model_id) "
        "ORDER BY model_id",
        [SOURCE, list(models["model_id"])],
    )
    return [r[0] for r in rows]


def _removal_message(removed: list[str]) -> str:
    shown = ", ".join(removed[:10]) + (
        f" … and {len(removed) - 10} more" if len(removed) > 10 else ""
    )
    return (
        f"this import removes {len(removed)} model(s) that the new reference files no longer "
        f"list, with their scores: {shown}"
    )


def _check_unique(rows: list[dict[str, Any]], key: tuple[str, ...], name: str) -> None:
    seen: dict[tuple[Any, ...], int] = {}
    for line, row in enumerate(rows, start=2):
        k = tuple(row[c] for c in key)
        if k in seen:
            raise ImportDataError(
                f"{name}:{line}: duplicate {key} = {k} (first at line {seen[k]})", line=line
            )
        seen[k] = line


def _write(cat: Catalog, frames: dict[str, Any]) -> dict[str, int]:
    con = cat.con
    counts = {}
    for table in ("score_records", "epoch_scores", "checkpoints", "commitments"):
        cat.execute(f"DELETE FROM {table} WHERE source = ?", [SOURCE])
    for table in (
        "models",
        "benchmarks",
        "checkpoints",
        "score_records",
        "epoch_scores",
        "commitments",
    ):
        frame = frames[table]
        con.register("_vvshub_import", frame)
        try:
            if table == "models":  # a model dropped from a newer release of the files goes too
                cat.execute(
                    "DELETE FROM models WHERE source = ? AND model_id NOT IN "
                    "(SELECT model_id FROM _vvshub_import)",
                    [SOURCE],
                )
            verb = "INSERT OR REPLACE" if table in ("models", "benchmarks") else "INSERT"
            cat.execute(f"{verb} INTO {table} BY NAME SELECT * FROM _vvshub_import")
        finally:
            con.unregister("_vvshub_import")
        counts[table] = len(frame)
    # the leaderboard is kept exactly as published: its own 155 columns
    con.register("_vvshub_import", frames["leaderboard"])
    try:
        cat.execute("CREATE OR REPLACE TABLE leaderboard AS SELECT * FROM _vvshub_import")
    finally:
        con.unregister("_vvshub_import")
    counts["leaderboard"] = len(frames["leaderboard"])
    return counts


def import_reference(
    source: str | Path | None = None,
    *,
    catalog: str | Path | None = None,
    dry_run: bool = False,
) -> ImportSummary:
    """Import the reference study's artifacts into a catalog.

    Args:
        source: a folder holding the study's files, or a URL prefix of its repository's
            ``scaling_primate_vvs`` folder; default: the public repository.
        catalog: the catalog file; default ``$VVSHUB_HOME/catalog.duckdb``.
        dry_run: validate the files and report what would change (rows, models removed)
            without writing anything.

    Returns:
        What was imported; ``changed`` is ``False`` when these files were already in.

    Warns:
        UserWarning: before it commits, when the import removes models that an earlier
            import brought in and these files no longer list (how many, and which).

    Raises:
        ImportDataError: a file is missing, malformed or truncated (the catalog is untouched).
        CatalogLockedError: another process is writing the catalog.

    Example:
        >>> import_reference("../shared/data/reference").rows["models"]  # doctest: +SKIP
        993
    """
    src = str(source) if source is not None else REFERENCE_URL
    scratch: Path | None = None
    try:
        if re.match(r"^[a-z]+://", src):
            scratch = Path(tempfile.mkdtemp(prefix="vvshub-reference-"))
            folder = fetch_reference(src, scratch)
        else:
            folder = Path(src).expanduser()
            if not folder.is_dir():
                raise ImportDataError(f"no such folder: {folder}", path=str(folder))
        hashes = {
            name: _sha256(folder / name) for name in REFERENCE_FILES if (folder / name).is_file()
        }
        import_id = hashlib.sha256(json.dumps(sorted(hashes.items())).encode()).hexdigest()[:16]
        # validate everything before the catalog is opened, so bad input never touches it
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        frames = _build_frames(folder, now)
        with open_catalog(catalog, read_only=False) as cat:
            done = cat.fetchall("SELECT count(*) FROM imports WHERE import_id = ?", [import_id])[0][
                0
            ]
            if done:
                log.info("reference files %s already imported", import_id)
                return ImportSummary(src, import_id, changed=False, files=hashes, dry_run=dry_run)
            removed = _removed_models(cat, frames["models"])
            if dry_run:
                counts = {t: len(f) for t, f in frames.items()}
                return ImportSummary(
                    src, import_id, True, counts, hashes, removed=removed, dry_run=True
                )
            with cat.transaction():
                if removed:
                    warnings.warn(_removal_message(removed), stacklevel=2)
                counts = _write(cat, frames)
                for name, digest in hashes.items():
                    rows = counts.get(_TABLE_OF_FILE[name], 0)
                    cat.execute(
                        "INSERT OR REPLACE INTO imports VALUES (?, ?, ?, ?, ?, ?)",
                        [import_id, src, name, digest, rows, now],
                    )
        return ImportSummary(src, import_id, True, counts, hashes, removed=removed)
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


_TABLE_OF_FILE = {
    "benchmark_scores.csv": "score_records",
    "model_checkpoints.csv": "checkpoints",
    "benchmark_scores_ckpts.csv": "epoch_scores",
    "benchmark_scores_brainscore.csv": "leaderboard",
    "commitments.json": "commitments",
}
