"""The scorer: Brain-Score-style alignment of any timm, zoo or hub model with V1, V2, V4, IT
and object-recognition behaviour, with its own fast metrics.

Three benchmark sources: Brain-Score's own data files read directly (``brainio``), the
``brainscore-vision`` package as an optional extra, and a ``synthetic`` suite of
simulated responses to real photographs (it measures the pipeline, not the brain).

Importing this package does not import torch; the verbs do.

Example:
    >>> import vvshub
    >>> res = vvshub.score("timm/resnet18", weights="random", suite="synthetic")  # doctest: +SKIP
    >>> {k: round(v.score, 3) for k, v in res.scores.items()}  # doctest: +SKIP
"""

from __future__ import annotations

from vvshub.scorer._activations import PRE_LOGITS, Preprocessing, candidate_layers, extract
from vvshub.scorer._api import REGIONS, SCORER_VERSION, ScoreResult, list_layers, load_suite, score
from vvshub.scorer._behavior import I2nResult, Trials, i2n_score, logistic_readout
from vvshub.scorer._brainscore import (
    BRAINSCORE_BENCHMARKS,
    BrainScoreModel,
    BrainScoreResult,
    BrainScoreSuiteResult,
    brain_model,
    committed_layers,
    score_brainscore_suite,
    score_on_brainscore,
)
from vvshub.scorer._cache import CacheEntry
from vvshub.scorer._cache import gc as cache_gc
from vvshub.scorer._cache import list_entries as cache_entries
from vvshub.scorer._commit import LayerScore, RegionScore
from vvshub.scorer._data import BehaviorBenchmark, NeuralBenchmark, StimulusSet
from vvshub.scorer._metrics import (
    NORMALISATIONS,
    CeilingResult,
    RegressionResult,
    cross_validated_regression,
    normalise,
    pls_predict,
    ridge_predict,
    split_half_ceiling,
)
from vvshub.scorer._projection import SparseRandomProjection
from vvshub.scorer._splits import shuffle_split, stratified_shuffle_split
from vvshub.scorer._synthetic import Suite, synthetic_suite

__all__ = [
    "BRAINSCORE_BENCHMARKS",
    "NORMALISATIONS",
    "PRE_LOGITS",
    "REGIONS",
    "SCORER_VERSION",
    "BehaviorBenchmark",
    "BrainScoreModel",
    "BrainScoreResult",
    "BrainScoreSuiteResult",
    "CacheEntry",
    "CeilingResult",
    "I2nResult",
    "LayerScore",
    "NeuralBenchmark",
    "Preprocessing",
    "RegionScore",
    "RegressionResult",
    "ScoreResult",
    "SparseRandomProjection",
    "StimulusSet",
    "Suite",
    "Trials",
    "brain_model",
    "cache_entries",
    "cache_gc",
    "candidate_layers",
    "committed_layers",
    "cross_validated_regression",
    "extract",
    "i2n_score",
    "list_layers",
    "load_suite",
    "logistic_readout",
    "normalise",
    "pls_predict",
    "ridge_predict",
    "score",
    "score_brainscore_suite",
    "score_on_brainscore",
    "shuffle_split",
    "split_half_ceiling",
    "stratified_shuffle_split",
    "synthetic_suite",
]
