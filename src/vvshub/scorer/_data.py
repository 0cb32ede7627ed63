"""Benchmarks as data: a stimulus set, an assembly, a metric and a ceiling.

Whatever their source (Brain-Score's files, the synthetic suite), benchmarks reach the
scorer in these shapes, validated on construction so that bad data fails with a clear
:class:`~vvshub.errors.BenchmarkDataError` before any model runs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from vvshub.errors import BenchmarkDataError
from vvshub.scorer._behavior import Trials

__all__ = ["BehaviorBenchmark", "NeuralBenchmark", "StimulusSet"]


@dataclass(frozen=True, eq=False)
class StimulusSet:
    """Images with ids, read lazily.

    Attributes:
        name: identifier (``MajajHong2015``, ``synthetic-cifar10``).
        stimulus_ids: one id per image, unique.
        load: ``load(i)`` returns the encoded bytes (JPEG/PNG) of image ``i``.
        labels: an object/category label per image (stratification, readout training), or None.
        content_hash: sha256 identifying the images (part of the activation cache key).
    """

    name: str
    stimulus_ids: tuple[str, ...]
    load: Callable[[int], bytes] = field(repr=False)
    labels: tuple[str, ...] | None = None
    content_hash: str = ""

    def __post_init__(self) -> None:
        if len(set(self.stimulus_ids)) != len(self.stimulus_ids):
            seen: set[str] = set()
            dup = next(s for s in self.stimulus_ids if s in seen or seen.add(s))
            raise BenchmarkDataError(f"{self.name}: stimulus id {dup!r} appears more than once")
        if self.labels is not None and len(self.labels) != len(self.stimulus_ids):
            raise BenchmarkDataError(
                f"{self.name}: {len(self.labels)} labels for {len(self.stimulus_ids)} stimuli"
            )
        if not self.content_hash:
            h = hashlib.sha256()
            for i, sid in enumerate(self.stimulus_ids):
                h.update(sid.encode() + b"\0")
                h.update(hashlib.sha256(self.load(i)).digest())
            object.__setattr__(self, "content_hash", h.hexdigest())

    def __len__(self) -> int:
        return len(self.stimulus_ids)

    def subset(self, idx: Sequence[int] | np.ndarray, name: str | None = None) -> StimulusSet:
        """The images at ``idx``, in that order."""
        idx = [int(i) for i in idx]
        h = hashlib.sha256((self.content_hash + ",".join(map(str, idx))).encode()).hexdigest()
        return StimulusSet(
            name=name or self.name,
            stimulus_ids=tuple(self.stimulus_ids[i] for i in idx),
            load=lambda j, _idx=idx, _load=self.load: _load(_idx[j]),
            labels=tuple(self.labels[i] for i in idx) if self.labels is not None else None,
            content_hash=h,
        )


@dataclass(frozen=True, eq=False)
class NeuralBenchmark:
    """Repeated neural responses to a stimulus set, for one region.

    Attributes:
        identifier: benchmark id stored in the catalog (``MajajHong2015.IT-pls``).
        region: ``V1``, ``V2``, ``V4`` or ``IT``.
        source: the data set (``MajajHong2015``, ``synthetic``).
        version: data version (``public``, ``synthetic-v1``).
        stimuli: the images, in the order of the response rows.
        trials: responses per presentation, shape (n_presentations, n_neuroids).
        stimulus_index: image of each presentation, shape (n_presentations,).
        repetition: repetition label of each presentation, shape (n_presentations,).
        stratify: the label splits are balanced on, one per image (``object_name``), or None.
        synthetic: whether the responses are simulated.
        metric: ``pls`` or ``ridge``.
    """

    identifier: str
    region: str
    source: str
    version: str
    stimuli: StimulusSet
    trials: np.ndarray = field(repr=False)
    stimulus_index: np.ndarray = field(repr=False)
    repetition: np.ndarray = field(repr=False)
    stratify: tuple[str, ...] | None = None
    synthetic: bool = False
    metric: str = "pls"

    def __post_init__(self) -> None:
        trials = np.asarray(self.trials, dtype=np.float64)
        if trials.ndim != 2:
            raise BenchmarkDataError(
                f"{self.identifier}: responses must be presentations x neuroids, got shape {trials.shape}"
            )
        if not np.isfinite(trials).all():
            bad = int((~np.isfinite(trials)).any(axis=0).sum())
            raise BenchmarkDataError(
                f"{self.identifier}: {bad} neuroid(s) have NaN or infinite responses; drop "
                "those neuroids or presentations first"
            )
        idx = np.asarray(self.stimulus_index)
        if len(idx) != len(trials) or len(np.asarray(self.repetition)) != len(trials):
            raise BenchmarkDataError(
                f"{self.identifier}: {len(trials)} presentations but {len(idx)} stimulus "
                f"indices and {len(np.asarray(self.repetition))} repetition labels"
            )
        missing = np.setdiff1d(np.arange(len(self.stimuli)), idx)
        if len(missing):
            raise BenchmarkDataError(
                f"{self.identifier}: stimulus {self.stimuli.stimulus_ids[missing[0]]!r} (and "
                f"{len(missing) - 1} more) has no responses"
            )
        counts = np.bincount(idx, minlength=len(self.stimuli))
        if len(np.unique(self.repetition)) < 2 or counts.min() < 2:
            raise BenchmarkDataError(
                f"{self.identifier}: a split-half ceiling needs at least 2 repetitions of every "
                f"stimulus; found {len(np.unique(self.repetition))} repetition label(s) and as few "
                f"as {counts.min()} presentation(s) of one stimulus"
            )
        object.__setattr__(self, "trials", trials)

    @property
    def responses(self) -> np.ndarray:
        """Mean response per stimulus over repetitions, shape (n_stimuli, n_neuroids)."""
        sums = np.zeros((len(self.stimuli), self.trials.shape[1]))
        np.add.at(sums, self.stimulus_index, self.trials)
        return sums / np.bincount(self.stimulus_index, minlength=len(self.stimuli))[:, None]

    def subset(self, idx: np.ndarray, suffix: str) -> NeuralBenchmark:
        """The benchmark restricted to the images at ``idx`` (for held-out layer selection)."""
        idx = np.asarray(idx)
        remap = np.full(len(self.stimuli), -1)
        remap[idx] = np.arange(len(idx))
        keep = remap[self.stimulus_index] >= 0
        return NeuralBenchmark(
            identifier=self.identifier,
            region=self.region,
            source=self.source,
            version=self.version,
            stimuli=self.stimuli.subset(idx, name=f"{self.stimuli.name}-{suffix}"),
            trials=self.trials[keep],
            stimulus_index=remap[self.stimulus_index[keep]],
            repetition=np.asarray(self.repetition)[keep],
            stratify=tuple(self.stratify[i] for i in idx) if self.stratify else None,
            synthetic=self.synthetic,
            metric=self.metric,
        )


@dataclass(frozen=True, eq=False)
class BehaviorBenchmark:
    """Object-recognition behaviour (Rajalingham2018-style i2n).

    Attributes:
        identifier: benchmark id (``Rajalingham2018.i2n``).
        source: data set.
        version: data version.
        fit_stimuli: labelled images the readout is trained on (labels: object names).
        test_stimuli: the images the primates saw.
        objects: object names; ``truth`` and the trials index into them.
        truth: object index of each test image, shape (n_test,).
        trials: the primates' trials on the test images.
        synthetic: whether the trials are simulated.
    """

    identifier: str
    source: str
    version: str
    fit_stimuli: StimulusSet
    test_stimuli: StimulusSet
    objects: tuple[str, ...]
    truth: np.ndarray = field(repr=False)
    trials: Trials = field(repr=False)
    synthetic: bool = False
    region: str = "Behavioral"

    def __post_init__(self) -> None:
        if self.fit_stimuli.labels is None:
            raise BenchmarkDataError(f"{self.identifier}: the readout's images have no labels")
        unknown = sorted(set(self.fit_stimuli.labels) - set(self.objects))
        if unknown:
            raise BenchmarkDataError(
                f"{self.identifier}: readout label {unknown[0]!r} is not one of the objects "
                f"{', '.join(self.objects)}"
            )
        if len(self.truth) != len(self.test_stimuli):
            raise BenchmarkDataError(
                f"{self.identifier}: {len(self.truth)} truths for {len(self.test_stimuli)} images"
            )
        if len(self.trials) < 4:
            raise BenchmarkDataError(f"{self.identifier}: too few trials ({len(self.trials)})")

    @property
    def fit_labels(self) -> np.ndarray:
        """Object index of each readout image, shape (n_fit,)."""
        lookup = {o: i for i, o in enumerate(self.objects)}
        return np.array([lookup[label] for label in self.fit_stimuli.labels or ()])
