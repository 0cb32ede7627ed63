"""The synthetic suite: real photographs, simulated responses. It measures the pipeline, not the brain.

Stimuli are CIFAR-10 test (and, for the readout, training) photographs with their
object labels. Responses come from a fixed, seeded hidden network of four convolutional
stages: V1 reads the first stage, V2 the second, V4 the third, IT the fourth, each
through a fixed random linear map, plus Gaussian repetition noise of a known
reliability. Behaviour: a readout of the hidden IT stage trained on labelled images
gives choice probabilities, from which two-alternative trials are drawn. Everything is
labelled ``synthetic``: benchmark ids, sources, CLI output.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vvshub.constants import CIFAR10_ENV as CIFAR_ENV
from vvshub.constants import cifar10_zip as constants_cifar10_zip
from vvshub.errors import BenchmarkFileNotFoundError
from vvshub.scorer._behavior import Trials, logistic_readout
from vvshub.scorer._data import BehaviorBenchmark, NeuralBenchmark, StimulusSet

__all__ = ["SYNTHETIC_VERSION", "Suite", "cifar10_zip", "synthetic_suite"]

#: Bumped whenever the simulation changes (recorded as the benchmarks' version).
SYNTHETIC_VERSION = "synthetic-v1"

_CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)


@dataclass(frozen=True)
class Suite:
    """A set of benchmarks scored together.

    Attributes:
        name: ``synthetic``, ``brainio``.
        benchmarks: region (``V1``, ``V2``, ``V4``, ``IT``, ``behavior``) -> benchmark.
        synthetic: whether the data are simulated.
    """

    name: str
    benchmarks: dict
    synthetic: bool = False


def cifar10_zip() -> Path:
    """The CIFAR-10 JPEG zip the synthetic suite's stimuli come from (see
    :func:`vvshub.constants.cifar10_zip`)."""
    return constants_cifar10_zip()


def _read_members(path: str, members: tuple[str, ...]) -> list[bytes]:
    key = (path, os.stat(path).st_mtime_ns)
    if key not in _ZIPS:  # the central directory of 60,000 entries is slow to parse
        _ZIPS.clear()
        _ZIPS[key] = zipfile.ZipFile(path)
    zf = _ZIPS[key]
    return [zf.read(m) for m in members]


_ZIPS: dict = {}


def _stimulus_set(path: Path, split: str, per_class: int, offset: int, name: str) -> StimulusSet:
    if not path.exists():
        raise BenchmarkFileNotFoundError(
            f"CIFAR-10 images not found at {str(path)!r}; set {CIFAR_ENV} to cifar10_jpg.zip",
            path=str(path),
        )
    members = [
        f"{split}/{c}/{i:04d}.jpg" for c in _CLASSES for i in range(offset, offset + per_class)
    ]
    blobs = _read_members(str(path), tuple(members))
    labels = tuple(m.split("/")[1] for m in members)
    return StimulusSet(
        name=name,
        stimulus_ids=tuple(f"cifar10-{m.removesuffix('.jpg').replace('/', '-')}" for m in members),
        load=lambda i, _b=blobs: _b[i],
        labels=labels,
    )


def _hidden_network(seed: int):
    import torch
    from torch import nn

    gen = torch.Generator().manual_seed(seed)
    widths = (3, 16, 32, 64, 128)
    stages = []
    for i in range(4):
        conv = nn.Conv2d(
            widths[i], widths[i + 1], 5 if i == 0 else 3, stride=2, padding=2 if i == 0 else 1
        )
        with torch.no_grad():
            fan_in = conv.weight[0].numel()
            conv.weight.copy_(torch.randn(conv.weight.shape, generator=gen) * (2.0 / fan_in) ** 0.5)
            conv.bias.zero_()
        stages.append(nn.Sequential(conv, nn.ReLU()))
    return nn.ModuleList(stages).eval()


def _hidden_features(stimuli: StimulusSet, seed: int) -> list[np.ndarray]:
    """Per stage, features of every image (pooled so each stage has a few hundred units)."""
    import torch
    import torch.nn.functional as F

    from vvshub.scorer._activations import decode_image

    net = _hidden_network(seed)
    images = []
    for i in range(len(stimuli)):
        img = decode_image(stimuli.load(i), stimuli.stimulus_ids[i]).resize((64, 64))
        images.append(np.asarray(img, dtype=np.float32) / 255.0)
    x = torch.as_tensor(np.stack(images)).permute(0, 3, 1, 2)
    x = (x - x.mean(dim=(0, 2, 3), keepdim=True)) / x.std(dim=(0, 2, 3), keepdim=True)
    feats = []
    pools = (8, 4, 2, 1)
    with torch.no_grad():
        for stage, pool in zip(net, pools, strict=True):
            x = stage(x)
            feats.append(F.adaptive_avg_pool2d(x, pool).flatten(1).numpy().astype(np.float64))
    return feats


def _standardise(a: np.ndarray) -> np.ndarray:
    sd = a.std(0)
    sd[sd == 0] = 1.0
    return (a - a.mean(0)) / sd


def synthetic_suite(
    *,
    seed: int = 0,
    n_per_class: int = 20,
    n_neuroids: int = 50,
    n_repetitions: int = 8,
    noise: float = 1.5,
    n_fit_per_class: int = 20,
    n_test_per_class: int = 10,
    trials_per_pair: int = 20,
    regions: tuple[str, ...] = ("V1", "V2", "V4", "IT", "behavior"),
) -> Suite:
    """Build the synthetic benchmarks (a few seconds; nothing is downloaded).

    Args:
        seed: seed of the hidden network, readouts and noise.
        n_per_class: neural stimuli per CIFAR-10 class (200 images by default).
        n_neuroids: simulated neuroids per region.
        n_repetitions: presentations of each image.
        noise: standard deviation of the repetition noise (signal variance is 1).
        n_fit_per_class: labelled readout images per class (CIFAR-10 training split).
        n_test_per_class: behavioural test images per class.
        trials_per_pair: simulated trials per (image, distractor).
        regions: which benchmarks to build.

    Example:
        >>> suite = synthetic_suite(n_per_class=4, regions=("IT",))  # doctest: +SKIP
        >>> suite.benchmarks["IT"].trials.shape  # doctest: +SKIP
        (320, 50)
    """
    path = cifar10_zip()
    rng = np.random.default_rng(seed)
    benchmarks: dict = {}
    neural = [r for r in regions if r != "behavior"]
    if neural:
        stimuli = _stimulus_set(path, "test", n_per_class, 0, "synthetic-cifar10-neural")
        feats = _hidden_features(stimuli, seed)
        stage_of = {"V1": 0, "V2": 1, "V4": 2, "IT": 3}
        for region in neural:
            f = _standardise(feats[stage_of[region]])
            readout = rng.normal(size=(f.shape[1], n_neuroids)) / np.sqrt(f.shape[1])
            signal = _standardise(f @ readout)
            n = len(stimuli)
            trials = np.concatenate(
                [signal + noise * rng.normal(size=signal.shape) for _ in range(n_repetitions)]
            )
            benchmarks[region] = NeuralBenchmark(
                identifier=f"vvshub.synthetic.{region}-pls",
                region=region,
                source="synthetic",
                version=SYNTHETIC_VERSION,
                stimuli=stimuli,
                trials=trials,
                stimulus_index=np.tile(np.arange(n), n_repetitions),
                repetition=np.repeat(np.arange(n_repetitions), n),
                stratify=stimuli.labels,
                synthetic=True,
            )
    if "behavior" in regions:
        fit = _stimulus_set(path, "train", n_fit_per_class, 0, "synthetic-cifar10-fit")
        test = _stimulus_set(path, "test", n_test_per_class, 500, "synthetic-cifar10-behavior")
        objects = _CLASSES
        fit_it = _hidden_features(fit, seed)[3]
        test_it = _hidden_features(test, seed)[3]
        lookup = {o: i for i, o in enumerate(objects)}
        probs = logistic_readout(
            fit_it, np.array([lookup[label] for label in fit.labels or ()]), test_it, c=1e-2
        )
        truth = np.array([lookup[label] for label in test.labels or ()])
        stim, dist, choice = [], [], []
        for i in range(len(test)):
            for d in range(len(objects)):
                if d == truth[i]:
                    continue
                p_wrong = probs[i, d] / (probs[i, d] + probs[i, truth[i]])
                wrong = rng.random(trials_per_pair) < p_wrong
                stim += [i] * trials_per_pair
                dist += [d] * trials_per_pair
                choice += np.where(wrong, d, truth[i]).tolist()
        stim_arr = np.array(stim)
        benchmarks["behavior"] = BehaviorBenchmark(
            identifier="vvshub.synthetic.behavior-i2n",
            source="synthetic",
            version=SYNTHETIC_VERSION,
            fit_stimuli=fit,
            test_stimuli=test,
            objects=objects,
            truth=truth,
            trials=Trials(
                stimulus=stim_arr,
                truth=truth[stim_arr],
                distractor=np.array(dist),
                choice=np.array(choice),
            ),
            synthetic=True,
        )
    return Suite(name="synthetic", benchmarks=benchmarks, synthetic=True)
