"""``vvshub.score``: alignment of a model with V1, V2, V4, IT and behaviour."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from vvshub.errors import BenchmarkNotFoundError, ScoreOptionError
from vvshub.scorer import _cache
from vvshub.scorer._activations import (
    EXTRACTOR_VERSION,
    FULL_FEATURE_BUDGET,
    PRE_LOGITS,
    Preprocessing,
    candidate_layers,
    extract,
    layer_sizes,
    preprocessing_for,
)
from vvshub.scorer._behavior import i2n_score, logistic_readout
from vvshub.scorer._commit import FeatureBank, LayerScore, RegionScore, SelectOn, commit_region
from vvshub.scorer._data import BehaviorBenchmark, NeuralBenchmark, StimulusSet
from vvshub.scorer._metrics import NORMALISATIONS
from vvshub.scorer._models import ResolvedModel, resolve_model
from vvshub.scorer._projection import SparseRandomProjection
from vvshub.scorer._synthetic import Suite, synthetic_suite

if TYPE_CHECKING:
    from torch import nn

__all__ = [
    "REGIONS",
    "SCORER_VERSION",
    "ScoreResult",
    "list_layers",
    "load_suite",
    "score",
]

logger = logging.getLogger(__name__)

#: Version of the scoring procedure (bump when a metric, split or default changes).
SCORER_VERSION = "1"
#: Benchmarks ``score`` knows, in report order.
REGIONS: tuple[str, ...] = ("V1", "V2", "V4", "IT", "behavior")
#: The catalog's name for each.
CATALOG_REGION = {"V1": "V1", "V2": "V2", "V4": "V4", "IT": "IT", "behavior": "Behavioral"}
#: Full features above this many per layer are kept as a sparse random projection.
MAX_KEPT_FEATURES = 10_000


@dataclass(frozen=True)
class ScoreResult:
    """What :func:`score` returns (and ``vvshub score --json`` prints).

    Attributes:
        model: catalog id of the scored weights.
        arch: architecture.
        suite: ``synthetic``, ``brainio:DIR``.
        synthetic: whether the benchmark data are simulated (then the scores measure the
            pipeline, not the brain).
        scores: region (``V1`` … ``behavior``) -> :class:`RegionScore`.
        layer_scores: every (layer, region) cell of the commitment matrix.
        normalisation: of the neural scores (behaviour: ``ratio_sqrt_ceiling``).
        select_on: ``same`` or ``heldout``.
        preprocessing: how images became tensors.
        weights: ``random``, ``pretrained``, a hub id, or ``given``.
        weights_sha256: sha256 of the weights (the activation cache key).
        scorer_version: recorded with every score.
        seconds: wall time per stage.
        recorded: catalog write summary, or None when not recorded.
    """

    model: str
    arch: str
    suite: str
    synthetic: bool
    scores: dict[str, RegionScore]
    layer_scores: tuple[LayerScore, ...] = field(repr=False)
    normalisation: str
    select_on: str
    preprocessing: Preprocessing
    weights: str
    weights_sha256: str
    scorer_version: str
    seconds: dict[str, float] = field(default_factory=dict)
    recorded: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract: ``model``, ``suite``, ``scores`` (each ``score``, ``raw``,
        ``ceiling``, ``layer``, …), plus the layer matrix and provenance."""
        return {
            "model": self.model,
            "arch": self.arch,
            "suite": self.suite,
            "synthetic": self.synthetic,
            "note": (
                "synthetic suite: simulated responses; these scores measure the pipeline, not the brain"
                if self.synthetic
                else None
            ),
            "scores": {k: v.to_dict() for k, v in self.scores.items()},
            "normalisation": self.normalisation,
            "select_on": self.select_on,
            "preprocessing": self.preprocessing.to_dict(),
            "weights": self.weights,
            "weights_sha256": self.weights_sha256,
            "scorer_version": self.scorer_version,
            "layer_scores": [s.to_dict() for s in self.layer_scores],
            "seconds": self.seconds,
            "recorded": self.recorded,
        }


def load_suite(suite: str | Suite, *, regions: Sequence[str] = REGIONS, seed: int = 0) -> Suite:
    """A benchmark suite by name: ``synthetic``, ``brainio`` or ``brainio:DIR``."""
    if isinstance(suite, Suite):
        return suite
    if suite == "synthetic":
        return synthetic_suite(seed=seed, regions=tuple(regions))
    if suite == "brainio" or suite.startswith("brainio:"):
        from vvshub.scorer._brainio import brainio_suite

        folder = suite.partition(":")[2] or None
        return brainio_suite(Path(folder) if folder else None, regions=tuple(regions))
    if suite == "brainscore" or suite.startswith("brainscore:"):
        # Brain-Score's benchmarks are objects that run the model themselves, not data
        raise BenchmarkNotFoundError(
            f"suite {suite!r} runs through brainscore-vision, not vvshub.score(); use "
            "vvshub.scorer.score_brainscore_suite() or `vvshub score MODEL --suite brainscore`"
        )
    raise BenchmarkNotFoundError(
        f"unknown suite {suite!r}; expected synthetic, brainio, brainio:DIR, brainscore or "
        "brainscore:ID[,ID...]"
    )


def _parse_regions(benchmarks: Sequence[str] | str | None) -> list[str]:
    if benchmarks is None:
        return list(REGIONS)
    if isinstance(benchmarks, str):
        benchmarks = [b for b in benchmarks.split(",") if b.strip()]
    out = []
    aliases = {"behaviour": "behavior", "behavioral": "behavior", "it": "IT"}
    for b in benchmarks:
        name = b.strip()
        name = aliases.get(
            name.lower(), name.upper() if name.lower() in ("v1", "v2", "v4") else name
        )
        if name not in REGIONS:
            raise BenchmarkNotFoundError(
                f"unknown benchmark {b!r}; expected some of {', '.join(REGIONS)}"
            )
        out.append(name)
    return out


def list_layers(model_or_id: Any, *, weights: str = "random") -> list[str]:
    """Candidate layers of a model (plus ``pre_logits``, the behavioural readout).

    Example:
        >>> list_layers("timm/resnet18")[:2]
        ['layer1.0', 'layer1.1']
    """
    resolved = resolve_model(model_or_id, weights=weights)
    return [*candidate_layers(resolved.module), PRE_LOGITS]


class _Features:
    """Features of one model on stimulus sets, through the activation cache."""

    def __init__(
        self,
        resolved: ResolvedModel,
        preprocessing: Preprocessing,
        *,
        device: str | None,
        batch_size: int,
        seed: int,
        use_cache: bool,
    ) -> None:
        self.resolved = resolved
        self.pre = preprocessing
        self.device = device
        self.batch_size = batch_size
        self.seed = seed
        self.use_cache = use_cache
        self.sha = _cache.weights_sha256(resolved.module)

    def get(self, stimuli: StimulusSet, layers: Sequence[str]) -> dict[str, tuple[np.ndarray, str]]:
        sizes = layer_sizes(
            self.resolved.module, [x for x in layers if x != PRE_LOGITS], preprocessing=self.pre
        )
        specs: dict[str, str] = {}
        projections: dict[str, SparseRandomProjection] = {}
        for layer in layers:
            p = sizes.get(layer, 0)
            if p and len(stimuli) * p * 4 > FULL_FEATURE_BUDGET and p > MAX_KEPT_FEATURES:
                proj = SparseRandomProjection(p, MAX_KEPT_FEATURES, seed=self.seed)
                projections[layer] = proj
                specs[layer] = proj.spec
            else:
                specs[layer] = "full"
        keys = {
            layer: _cache.cache_key(
                weights=self.sha,
                preprocessing=self.pre.key(),
                stimuli=stimuli.content_hash,
                layer=layer,
                features=specs[layer],
                extractor=EXTRACTOR_VERSION,
            )
            for layer in layers
        }
        out: dict[str, tuple[np.ndarray, str]] = {}
        missing = []
        for layer in layers:
            hit = _cache.get(keys[layer]) if self.use_cache else None
            if hit is not None:
                out[layer] = (hit, specs[layer])
            else:
                missing.append(layer)
        if missing:
            feats = extract(
                self.resolved.module,
                stimuli,
                missing,
                preprocessing=self.pre,
                batch_size=self.batch_size,
                device=self.device,
                project={k: v for k, v in projections.items() if k in missing},
                progress=f"activations {stimuli.name}",
            )
            for layer in missing:
                if self.use_cache:
                    _cache.put(
                        keys[layer],
                        feats[layer],
                        {
                            "model": self.resolved.model_id,
                            "layer": layer,
                            "stimuli": stimuli.name,
                            "features": specs[layer],
                            "weights_sha256": self.sha,
                            "preprocessing": self.pre.key(),
                        },
                    )
                out[layer] = (feats[layer], specs[layer])
        return out


def _score_behavior(
    bench: BehaviorBenchmark, features: _Features, device: str | None
) -> RegionScore:
    fit = features.get(bench.fit_stimuli, [PRE_LOGITS])[PRE_LOGITS][0]
    test = features.get(bench.test_stimuli, [PRE_LOGITS])[PRE_LOGITS][0]
    probs = logistic_readout(
        fit, bench.fit_labels, test, c=1e-3, n_classes=len(bench.objects), device=device
    )
    result = i2n_score(probs, bench.trials, bench.truth)
    return RegionScore(
        region="behavior",
        benchmark=bench.identifier,
        score=float(min(max(result.ceiled, 0.0), 1.0)) if np.isfinite(result.ceiled) else 0.0,
        raw=result.raw,
        ceiling=result.ceiling,
        layer=PRE_LOGITS,
        error=float(np.std(result.per_split_raw / np.sqrt(result.per_split_ceiling))),
        normalisation="ratio_sqrt_ceiling",
        features="full",
        n_stimuli=len(bench.test_stimuli),
        synthetic=bench.synthetic,
    )


#: Regressions from model features to neural responses.
REGRESSIONS = ("pls", "ridge")


def _with_regression(suite: Suite, regression: str) -> Suite:
    """The suite with its neural benchmarks mapped by ``regression``, each under its own id."""
    benchmarks = {}
    for region, bench in suite.benchmarks.items():
        if isinstance(bench, NeuralBenchmark):
            base = bench.identifier.removesuffix(f"-{bench.metric}")
            bench = replace(bench, identifier=f"{base}-{regression}", metric=regression)
        benchmarks[region] = bench
    return replace(suite, benchmarks=benchmarks)


def score(
    model_or_id: nn.Module | str,
    *,
    benchmarks: Sequence[str] | str | None = None,
    suite: str | Suite = "synthetic",
    weights: str = "pretrained",
    revision: str | None = None,
    normalisation: str = "ratio_squared",
    select_on: SelectOn = "same",
    regression: str = "pls",
    layers: Sequence[str] | None = None,
    device: str | None = None,
    batch_size: int = 32,
    projection_dim: int = 1000,
    seed: int = 0,
    model_id: str | None = None,
    record: bool = True,
    catalog: str | Path | None = None,
    use_cache: bool = True,
) -> ScoreResult:
    """Score a model's alignment with V1, V2, V4, IT and object-recognition behaviour.

    Args:
        model_or_id: an ``nn.Module``, ``timm/NAME``, a zoo id, or a hub id.
        benchmarks: some of ``V1, V2, V4, IT, behavior`` (default: all five).
        suite: ``synthetic`` (simulated responses to CIFAR-10 photographs: measures the
            pipeline, not the brain), ``brainio`` / ``brainio:DIR`` (Brain-Score's own files),
            or a :class:`Suite`.
        weights: ``random``, ``pretrained`` or a hub id (see :func:`resolve_model`).
        revision: hub revision for hub weights.
        normalisation: of the neural scores: ``ratio_squared`` ((r/c)^2, the study's),
            ``squared_over_ceiling`` (r^2/c, Brain-Score 2.4.2's), ``ratio``, ``raw``.
        select_on: ``same`` (choose and report each region's layer on the same images, as
            the study did) or ``heldout`` (choose on one half, report the other).
        regression: the neural benchmarks' mapping: ``pls`` (25 components, Brain-Score's) or
            ``ridge`` (per-neuroid penalty by exact leave-one-out; torch, GPU-capable). A ridge
            benchmark is stored under its own id (``...-ridge``).
        layers: candidate layers (default: the model's blocks, see ``--list-layers``).
        device: ``cuda``/``cpu`` (default: CUDA when present).
        batch_size: images per forward pass.
        projection_dim: dimensions of the sparse random projection used to rank layers.
        seed: seed of random weights and projections.
        model_id: catalog id for the scored weights (default: derived from the name).
        record: write the scores, the layer matrix, the benchmarks and the model to the catalog.
        catalog: catalog file (default ``$VVSHUB_HOME/catalog.duckdb``).
        use_cache: read and write the activation cache (a crashed run resumes from it).

    Returns:
        A :class:`ScoreResult`.

    Example:
        >>> res = vvshub.score("timm/resnet18", weights="random", suite="synthetic")  # doctest: +SKIP
        >>> res.scores["IT"].layer  # doctest: +SKIP
        'layer3.1'
    """
    if normalisation not in NORMALISATIONS:
        raise ScoreOptionError(
            f"unknown normalisation {normalisation!r}; expected one of {', '.join(NORMALISATIONS)}"
        )
    if select_on not in ("same", "heldout"):
        raise ScoreOptionError(f"unknown select_on {select_on!r}; expected same or heldout")
    if regression not in REGRESSIONS:
        raise ScoreOptionError(
            f"unknown regression {regression!r}; expected one of {', '.join(REGRESSIONS)}"
        )
    regions = _parse_regions(benchmarks)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    resolved = resolve_model(
        model_or_id, weights=weights, revision=revision, seed=seed, model_id=model_id
    )
    pre = preprocessing_for(resolved.module, pretrained=resolved.is_pretrained)
    candidates = list(layers) if layers else candidate_layers(resolved.module)
    timings["model"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    the_suite = load_suite(suite, regions=regions, seed=seed)
    suite_name = suite if isinstance(suite, str) else the_suite.name
    missing = [r for r in regions if r not in the_suite.benchmarks]
    if missing:
        raise BenchmarkNotFoundError(
            f"suite {suite_name!r} has no {', '.join(missing)} benchmark; it has "
            f"{', '.join(the_suite.benchmarks) or 'none'}"
        )
    if regression != "pls":
        the_suite = _with_regression(the_suite, regression)
    timings["suite"] = time.perf_counter() - t0
    features = _Features(
        resolved, pre, device=device, batch_size=batch_size, seed=seed, use_cache=use_cache
    )
    scores: dict[str, RegionScore] = {}
    layer_scores: list[LayerScore] = []
    t0 = time.perf_counter()
    banks: dict[str, FeatureBank] = {}
    for region in regions:
        bench = the_suite.benchmarks[region]
        if isinstance(bench, NeuralBenchmark):
            key = bench.stimuli.content_hash
            if key not in banks:
                banks[key] = FeatureBank(
                    features.get(bench.stimuli, candidates),
                    projection_dim=projection_dim,
                    seed=seed,
                )
    timings["activations"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    for region in regions:
        bench = the_suite.benchmarks[region]
        if isinstance(bench, NeuralBenchmark):
            result, cells = commit_region(
                bench,
                banks[bench.stimuli.content_hash],
                normalisation=normalisation,
                select_on=select_on,
                seed=seed,
            )
            scores[region] = result
            layer_scores.extend(cells)
        else:
            scores[region] = _score_behavior(bench, features, device)
    timings["metrics"] = time.perf_counter() - t0
    scorer_version = (
        f"vvshub-{SCORER_VERSION}+{normalisation}"
        + ("+heldout" if select_on == "heldout" else "")
        + ("" if regression == "pls" else f"+{regression}")
    )
    result = ScoreResult(
        model=resolved.model_id,
        arch=resolved.arch,
        suite=suite_name,
        synthetic=the_suite.synthetic,
        scores=scores,
        layer_scores=tuple(layer_scores),
        normalisation=normalisation,
        select_on=select_on,
        preprocessing=pre,
        weights=resolved.weights,
        weights_sha256=features.sha,
        scorer_version=scorer_version,
        seconds={k: round(v, 2) for k, v in timings.items()},
    )
    if record:
        from vvshub.scorer._record import record_result

        summary = record_result(result, resolved, the_suite, catalog=catalog)
        result = ScoreResult(**{**result.__dict__, "recorded": summary})
    return result
