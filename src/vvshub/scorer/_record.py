"""Hand a score to the catalog, through its write API only.

One call writes the model, the benchmarks, the five scores (each with raw score,
ceiling and normalisation, so the catalog can re-normalise without rescoring) and the
whole layer x region matrix, in one transaction (or spooled when the catalog is busy).
Synthetic-suite records carry ``source = "vvshub-synthetic"``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vvshub.scorer._api import ScoreResult
    from vvshub.scorer._models import ResolvedModel
    from vvshub.scorer._synthetic import Suite

__all__ = ["record_result", "score_source"]


def score_source(synthetic: bool) -> str:
    """The ``source`` of score records: ``vvshub-synthetic`` for simulated data."""
    return "vvshub-synthetic" if synthetic else "vvshub"


def _ceiling(value: float) -> float | None:
    return float(value) if math.isfinite(value) and 0 < value <= 1 else None


def _corr(value: float) -> float | None:
    return float(min(max(value, -1.0), 1.0)) if math.isfinite(value) else None


def _model_record(resolved: ResolvedModel):
    from vvshub.catalog import ModelRecord

    counts: dict[str, Any] = {}
    if resolved.weights not in ("random", "pretrained", "given"):
        # a hub model: the trainer or the hub recorded its counts (of the 1000-class model, by
        # the study's convention); counting the pulled module would overwrite them
        return ModelRecord(
            model_id=resolved.model_id,
            arch=resolved.arch,
            arch_family=resolved.arch_family,
            is_pretrained=resolved.is_pretrained,
            is_random=resolved.is_random,
        )
    try:
        from vvshub.zoo import CONVENTION, count

        c = count(resolved.module)
        counts = {
            "n_params": c.n_params,
            "macs": c.macs,
            "flops": c.flops,
            "count_convention": CONVENTION,
        }
    except Exception:  # a module the counter cannot trace: leave the counts unknown
        counts = {"n_params": sum(p.numel() for p in resolved.module.parameters())}
    return ModelRecord(
        model_id=resolved.model_id,
        arch=resolved.arch,
        arch_family=resolved.arch_family,
        is_pretrained=resolved.is_pretrained,
        is_random=resolved.is_random,
        hub_repo=resolved.hub_repo,
        **counts,
    )


def record_result(
    result: ScoreResult,
    resolved: ResolvedModel,
    suite: Suite,
    *,
    catalog: str | Path | None = None,
) -> dict[str, Any]:
    """Write ``result`` to the catalog; returns the write summary."""
    from vvshub.catalog import BenchmarkRecord, LayerScoreRecord, ScoreRecord, record_scores
    from vvshub.scorer._api import CATALOG_REGION

    source = score_source(result.synthetic)
    benchmarks, scores = [], []
    for region, s in result.scores.items():
        bench = suite.benchmarks[region]
        behaviour = region == "behavior"
        benchmarks.append(
            BenchmarkRecord(
                benchmark=s.benchmark,
                region=CATALOG_REGION[region],
                source=bench.source,
                metric="i2n" if behaviour else bench.metric,
                version=bench.version,
                ceiling_method="split_half_i2n" if behaviour else "split_half_spearman_brown",
                normalisation=s.normalisation,
                suite=result.suite,
            )
        )
        scores.append(
            ScoreRecord(
                model_id=result.model,
                benchmark=s.benchmark,
                region=CATALOG_REGION[region],
                score=float(s.score),
                raw_score=_corr(s.raw),
                ceiling=_ceiling(s.ceiling),
                normalisation=s.normalisation,
                error=float(s.error) if math.isfinite(s.error) else None,
                layer=s.layer,
                suite=result.suite,
                benchmark_version=bench.version,
                scorer_version=result.scorer_version,
                source=source,
            )
        )
    layer_scores = [
        LayerScoreRecord(
            model_id=result.model,
            benchmark=cell.benchmark,
            layer=cell.layer,
            score=float(cell.score),
            raw_score=_corr(cell.raw),
            ceiling=_ceiling(cell.ceiling),
            split=cell.split,
            suite=result.suite,
            scorer_version=result.scorer_version,
            source=source,
        )
        for cell in result.layer_scores
    ]
    written = record_scores(
        scores,
        layer_scores=layer_scores,
        benchmarks=benchmarks,
        models=[_model_record(resolved)],
        catalog=catalog,
    )
    return written.to_dict() if hasattr(written, "to_dict") else dict(written)
