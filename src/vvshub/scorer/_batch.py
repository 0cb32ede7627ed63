"""``score-batch``: many models on Ray, with shared stimuli, splits and projections; resumable.

The suite is built once by the driver and handed to every worker (``ray.put``); splits
and projections depend only on seeds, so every model is scored on the same images,
splits and projection matrices. Each worker records its own scores through the catalog's
write API, which waits for the single DuckDB writer and otherwise spools (nothing is
lost when many workers finish at once); the driver drains the spool at the end. A state
file under ``$VVSHUB_HOME/batches`` remembers finished entries, so a rerun skips them.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from vvshub.constants import vvshub_home
from vvshub.errors import BenchmarkDataError

__all__ = ["batch_models", "score_batch"]

_ENV = (
    "PYTHONPATH",
    "VVSHUB_HOME",
    "VVSHUB_CIFAR10_ZIP",
    "BRAINIO_HOME",
    "HF_HUB_OFFLINE",
    "HF_ENDPOINT",
)


def batch_models(
    *,
    manifest: str | Path | None = None,
    where: str | None = None,
    catalog: str | Path | None = None,
) -> list[str]:
    """Entries to score: lines of a manifest file (``#`` comments), or catalog models matching
    a SQL condition on the ``models`` table (read-only)."""
    if (manifest is None) == (where is None):
        raise BenchmarkDataError("give a MANIFEST file or --where SQL (one of the two)")
    if manifest is not None:
        path = Path(manifest)
        if not path.is_file():
            raise FileNotFoundError(f"manifest {str(path)!r} not found")
        lines = [ln.split("#", 1)[0].strip() for ln in path.read_text().splitlines()]
        return [ln for ln in lines if ln]
    from vvshub.catalog import open_catalog

    with open_catalog(catalog, read_only=True) as cat:
        df = cat.query(f"SELECT model_id FROM models WHERE {where} ORDER BY model_id")
    return [str(m) for m in df["model_id"]]


def _state_path(options: dict[str, Any]) -> Path:
    digest = hashlib.sha256(json.dumps(options, sort_keys=True).encode()).hexdigest()[:16]
    return vvshub_home() / "batches" / f"{digest}.jsonl"


def _done(path: Path) -> dict[str, dict]:
    done: dict[str, dict] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                entry = json.loads(line)
            except ValueError:  # a line cut by a crash
                continue
            if entry.get("status") == "ok":
                done[entry["entry"]] = entry
    return done


def _score_one(entry: str, suite: Any, options: dict[str, Any], catalog: str | None) -> dict:
    import vvshub

    try:
        res = vvshub.score(entry, suite=suite, catalog=catalog, **options)
    except Exception as exc:  # reported per entry; the batch goes on
        return {"entry": entry, "status": "error", "error": f"{type(exc).__name__}: {exc}"}
    return {
        "entry": entry,
        "status": "ok",
        "model_id": res.model,
        "scores": {k: round(v.score, 4) for k, v in res.scores.items()},
        "spooled": (res.recorded or {}).get("spooled"),
    }


def score_batch(
    models: Sequence[str],
    *,
    suite: str = "synthetic",
    benchmarks: str | Sequence[str] = "V1,V2,V4,IT,behavior",
    weights: str = "pretrained",
    normalisation: str = "ratio_squared",
    select_on: str = "same",
    workers: int = 1,
    ray_address: str | None = None,
    catalog: str | Path | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Score ``models`` on Ray (local with ``workers`` CPUs, or a cluster at ``ray_address``).

    Returns:
        ``{"models": [per entry: entry, status, model_id, scores | error], "skipped": n,
        "drained": n, "state": path}``.
    """
    import ray

    from vvshub.scorer._api import _parse_regions, load_suite

    regions = _parse_regions(benchmarks)
    options = {
        "benchmarks": regions,
        "weights": weights,
        "normalisation": normalisation,
        "select_on": select_on,
        "seed": seed,
    }
    state = _state_path({**options, "suite": suite, "catalog": str(catalog)})
    done = _done(state)
    todo = [m for m in models if m not in done]
    results: list[dict] = [dict(done[m], resumed=True) for m in models if m in done]
    drained = 0
    if todo:
        the_suite = load_suite(suite, regions=regions, seed=seed)
        env = {k: os.environ[k] for k in _ENV if k in os.environ}
        env["VVSHUB_NO_PROGRESS"] = "1"
        started = False
        if not ray.is_initialized():
            if ray_address:
                ray.init(address=ray_address, runtime_env={"env_vars": env})
            else:
                ray.init(
                    num_cpus=max(1, workers),
                    include_dashboard=False,
                    object_store_memory=100_000_000,
                    runtime_env={"env_vars": env},
                )
            started = True
        try:
            remote = ray.remote(num_cpus=1)(_score_one)
            suite_ref = ray.put(the_suite)
            pending = [
                remote.remote(m, suite_ref, options, str(catalog) if catalog else None)
                for m in todo
            ]
            state.parent.mkdir(parents=True, exist_ok=True)
            from vvshub._progress import track

            with open(state, "a") as fh:
                for _ in track(range(len(pending)), description="score-batch"):
                    ready, pending = ray.wait(pending, num_returns=1)
                    out = ray.get(ready[0])
                    fh.write(json.dumps(out) + "\n")
                    fh.flush()
                    os.fsync(fh.fileno())
                    results.append(out)
        finally:
            if started:
                ray.shutdown()
        from vvshub.catalog import drain_spool

        drained = drain_spool(str(catalog) if catalog else None)
    order = {m: i for i, m in enumerate(models)}
    results.sort(key=lambda r: order.get(r["entry"], 0))
    return {
        "models": results,
        "skipped": len(models) - len(todo),
        "drained": drained,
        "state": str(state),
    }
