"""Layer-to-region commitment: score every candidate layer, keep the best.

Ranking uses a seeded sparse random projection of each layer (1,000 dimensions by
default), which keeps ranking cheap for layers with hundreds of thousands of units; the
committed layer is then scored on its kept features (full, unless a layer is too large
to hold, see :mod:`vvshub.scorer._activations`). With ``select_on="heldout"`` the layer
is chosen on one half of the images (stratified, seeded) and reported on the other half;
the study chose and reported on the same images (``select_on="same"``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from vvshub.errors import BenchmarkDataError
from vvshub.scorer._data import NeuralBenchmark
from vvshub.scorer._metrics import (
    cross_validated_regression,
    normalise,
    reduce_features,
    split_half_ceiling,
)
from vvshub.scorer._projection import SparseRandomProjection
from vvshub.scorer._splits import shuffle_split, stratified_shuffle_split

__all__ = ["FeatureBank", "LayerScore", "RegionScore", "SelectOn", "commit_region"]

SelectOn = Literal["same", "heldout"]


@dataclass(frozen=True)
class LayerScore:
    """One cell of the layer x region matrix.

    Attributes:
        region, benchmark, layer: which cell.
        raw: cross-validated predictivity (on the ranking features).
        ceiling: the benchmark's ceiling on the same images.
        score: normalised score.
        split: ``all`` (selection and report on the same images), ``select`` or ``report``.
        features: how the layer was represented (``srp-1000-seed0``, ``full``).
    """

    region: str
    benchmark: str
    layer: str
    raw: float
    ceiling: float
    score: float
    split: str
    features: str

    def to_dict(self) -> dict:
        """Plain-dict form."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class RegionScore:
    """The committed score of one region (or behaviour).

    Attributes:
        region: ``V1``, ``V2``, ``V4``, ``IT`` or ``behavior``.
        benchmark: benchmark id.
        score: normalised score in [0, 1].
        raw: unceiled score.
        ceiling: ceiling.
        layer: committed layer (readout layer for behaviour).
        error: standard error over cross-validation splits.
        normalisation: how ``score`` was made from ``raw`` and ``ceiling``.
        features: how the committed layer was represented.
        n_stimuli: images the reported score is computed on.
        synthetic: whether the benchmark data are simulated.
    """

    region: str
    benchmark: str
    score: float
    raw: float
    ceiling: float
    layer: str
    error: float
    normalisation: str
    features: str
    n_stimuli: int
    synthetic: bool

    def to_dict(self) -> dict:
        """Plain-dict form (``vvshub score --json``'s entries)."""
        return dict(self.__dict__)


class FeatureBank:
    """A model's kept features on one stimulus set, with memoised ranking projections and
    row-space reductions (shared by every region scored on the same images)."""

    def __init__(
        self, kept: dict[str, tuple[np.ndarray, str]], *, projection_dim: int = 1000, seed: int = 0
    ) -> None:
        self.kept = kept
        self.projection_dim = projection_dim
        self.seed = seed
        self._ranking: dict[str, tuple[np.ndarray, str]] = {}
        self._reduced: dict[tuple[str, bytes], np.ndarray] = {}

    @property
    def layers(self) -> list[str]:
        return list(self.kept)

    def ranking(self, layer: str) -> tuple[np.ndarray, str]:
        """Features used to rank ``layer`` (n, <= projection_dim) and how they were made."""
        if layer not in self._ranking:
            feats, spec = self.kept[layer]
            if feats.shape[1] > self.projection_dim:
                proj = SparseRandomProjection(feats.shape[1], self.projection_dim, seed=self.seed)
                self._ranking[layer] = (proj.apply_numpy(feats), proj.spec)
            else:
                self._ranking[layer] = (feats, spec)
        return self._ranking[layer]

    def reduced(self, layer: str, idx: np.ndarray) -> np.ndarray:
        """Kept features of the images ``idx``, reduced to their row space."""
        key = (layer, np.asarray(idx).tobytes())
        if key not in self._reduced:
            self._reduced[key] = reduce_features(self.kept[layer][0][idx])
        return self._reduced[key]


def _splits(bench: NeuralBenchmark, seed: int):
    n = len(bench.stimuli)
    try:
        if bench.stratify is not None:
            return stratified_shuffle_split(bench.stratify, n_splits=10, train_size=0.9, seed=seed)
        return shuffle_split(n, n_splits=10, train_size=0.9, seed=seed)
    except ValueError as exc:
        raise BenchmarkDataError(
            f"{bench.identifier} on {n} stimuli cannot be cross-validated: {exc}"
        ) from None


def commit_region(
    bench: NeuralBenchmark,
    bank: FeatureBank,
    *,
    normalisation: str = "ratio_squared",
    select_on: SelectOn = "same",
    seed: int = 0,
    cv_seed: int = 1,
) -> tuple[RegionScore, list[LayerScore]]:
    """Rank ``kept`` layers on ``bench``, commit the best, score it.

    Args:
        bench: the region's benchmark.
        bank: the model's features of ``bench.stimuli``.
        normalisation: see :func:`vvshub.scorer._metrics.normalise`.
        select_on: ``same`` or ``heldout``.
        seed: seed of the held-out halving.
        cv_seed: seed of the cross-validation splits (Brain-Score: 1).

    Returns:
        The committed :class:`RegionScore` and every :class:`LayerScore`.
    """
    if select_on == "heldout":
        labels = bench.stratify or tuple("x" for _ in range(len(bench.stimuli)))
        try:
            select_idx, report_idx = stratified_shuffle_split(
                labels, n_splits=1, train_size=0.5, seed=seed
            )[0]
        except ValueError as exc:
            raise BenchmarkDataError(
                f"{bench.identifier}: cannot halve {len(labels)} stimuli for held-out selection: {exc}"
            ) from None
        select_idx, report_idx = np.sort(select_idx), np.sort(report_idx)
        select_bench = bench.subset(select_idx, "select")
        report_bench = bench.subset(report_idx, "report")
        split_name = "select"
    elif select_on == "same":
        select_idx = report_idx = np.arange(len(bench.stimuli))
        select_bench = report_bench = bench
        split_name = "all"
    else:
        raise ValueError(f"unknown select_on {select_on!r}; expected same or heldout")

    def ceiling_of(b: NeuralBenchmark) -> float:
        return split_half_ceiling(b.trials, b.stimulus_index, b.repetition).ceiling

    select_ceiling = ceiling_of(select_bench)
    splits = _splits(select_bench, cv_seed)
    layer_scores: list[LayerScore] = []
    for layer in bank.layers:
        feats, spec = bank.ranking(layer)
        raw = cross_validated_regression(
            feats[select_idx], select_bench.responses, splits, method=bench.metric
        ).raw
        layer_scores.append(
            LayerScore(
                region=bench.region,
                benchmark=bench.identifier,
                layer=layer,
                raw=raw,
                ceiling=select_ceiling,
                score=normalise(raw, select_ceiling, normalisation),
                split=split_name,
                features=spec,
            )
        )
    order = bank.layers
    best = max(layer_scores, key=lambda s: (s.raw, -order.index(s.layer)))
    spec = bank.kept[best.layer][1]
    report_splits = _splits(report_bench, cv_seed)
    result = cross_validated_regression(
        bank.reduced(best.layer, report_idx),
        report_bench.responses,
        report_splits,
        method=bench.metric,
    )
    ceiling = ceiling_of(report_bench) if select_on == "heldout" else select_ceiling
    score = normalise(result.raw, ceiling, normalisation)
    if select_on == "heldout":
        layer_scores.append(
            LayerScore(
                region=bench.region,
                benchmark=bench.identifier,
                layer=best.layer,
                raw=result.raw,
                ceiling=ceiling,
                score=score,
                split="report",
                features=spec,
            )
        )
    region = RegionScore(
        region=bench.region,
        benchmark=bench.identifier,
        score=score,
        raw=result.raw,
        ceiling=ceiling,
        layer=best.layer,
        error=result.error,
        normalisation=normalisation,
        features=spec,
        n_stimuli=len(report_idx),
        synthetic=bench.synthetic,
    )
    return region, layer_scores
