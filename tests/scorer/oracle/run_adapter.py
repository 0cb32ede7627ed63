"""Run brainscore-vision 2.4.2's own benchmark objects on a vvshub model; print JSON.

Executed by tests/scorer/test_brainscore_adapter.py with the oracle environment's python
(``make oracle-adapter``: brainscore-vision, torch, timm), vvshub coming from the checkout
through PYTHONPATH. Nothing is downloaded: the benchmarks are Brain-Score's classes built
from local data (a NeuralBenchmark and Rajalingham2018's i2n benchmark), with photographs
replaced by smooth random images and responses simulated from one layer of the model.

Usage: ``python run_adapter.py WORKDIR`` (WORKDIR: an empty folder for images, caches and
the catalog ``catalog.duckdb``).
"""

from __future__ import annotations

import io
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("BS_INSTALL_DEPENDENCIES", "no")

import numpy as np

MODEL = "timm/test_resnet"
GENERATING_LAYER = "layer3.0"
OTHER_LAYER = "layer1.0"
#: Small inputs keep the layers small (768 and 2,048 features), so Brain-Score's PLS is quick.
SIZE = 32


def _images(folder: Path, ids: list[str], rng: np.random.Generator) -> dict[str, Path]:
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for sid in ids:
        # smooth random images: low-frequency noise upsampled, so conv features vary a lot
        small = rng.integers(0, 256, size=(4, 4, 3), dtype=np.uint8)
        img = Image.fromarray(small).resize((64, 64), Image.BILINEAR)
        buf = io.BytesIO()
        img.save(buf, format="PNG")
        paths[sid] = folder / f"{sid}.png"
        paths[sid].write_bytes(buf.getvalue())
    return paths


def _stimulus_set(columns: dict, paths: dict[str, Path], identifier: str):
    from brainscore_core.supported_data_standards.brainio.stimuli import StimulusSet

    stimuli = StimulusSet(columns)
    stimuli.stimulus_paths = {sid: str(p) for sid, p in paths.items()}
    stimuli.identifier = identifier
    return stimuli


def _features(paths: dict[str, Path], layer: str) -> np.ndarray:
    """vvshub's features of the images at ``layer``, as the adapter extracts them."""
    from vvshub.scorer import StimulusSet, extract
    from vvshub.scorer._models import resolve_model

    ids = list(paths)
    vs = StimulusSet(name="x", stimulus_ids=tuple(ids), load=lambda i: paths[ids[i]].read_bytes())
    module = resolve_model(MODEL, weights="random").module
    return extract(module, vs, [layer], preprocessing=_pre())[layer].astype(np.float64)


def _pre():
    from vvshub.scorer import Preprocessing

    return Preprocessing(resize=SIZE, crop=SIZE)


def neural(work: Path, out: dict) -> None:
    from brainscore_core.supported_data_standards.brainio.assemblies import NeuroidAssembly
    from brainscore_vision import load_ceiling, load_metric
    from brainscore_vision.benchmark_helpers.neural_common import (
        NeuralBenchmark,
        average_repetition,
    )

    from vvshub.scorer import (
        brain_model,
        cross_validated_regression,
        score_on_brainscore,
        split_half_ceiling,
        stratified_shuffle_split,
    )

    rng = np.random.default_rng(0)
    n_obj, per_obj, n_neuroids, n_reps = 8, 12, 20, 4
    ids = [f"img{i:03d}" for i in range(n_obj * per_obj)]  # already in stimulus_id order
    objects = [f"obj{i % n_obj}" for i in range(len(ids))]
    paths = _images(work / "neural", ids, rng)
    stimuli = _stimulus_set({"stimulus_id": ids, "object_name": objects}, paths, "vvshub-test")
    feats = _features(paths, GENERATING_LAYER)
    feats = (feats - feats.mean(0)) / (feats.std(0) + 1e-6)
    signal = feats @ rng.normal(size=(feats.shape[1], n_neuroids))
    signal = (signal - signal.mean(0)) / signal.std(0)
    trials = np.concatenate([signal + 0.8 * rng.normal(size=signal.shape) for _ in range(n_reps)])
    rep = np.repeat(np.arange(n_reps), len(ids))
    stim_index = np.tile(np.arange(len(ids)), n_reps)
    repeated = NeuroidAssembly(
        trials[:, :, None],
        coords={
            "stimulus_id": ("presentation", [ids[i] for i in stim_index]),
            "object_name": ("presentation", [objects[i] for i in stim_index]),
            "repetition": ("presentation", rep),
            "neuroid_id": ("neuroid", [f"n{j}" for j in range(n_neuroids)]),
            "region": ("neuroid", ["IT"] * n_neuroids),
            "time_bin_start": ("time_bin", [70]),
            "time_bin_end": ("time_bin", [170]),
        },
        dims=["presentation", "neuroid", "time_bin"],
    ).squeeze("time_bin")  # as Brain-Score's MajajHong2015 benchmark loads its assembly
    assembly = average_repetition(repeated)
    for a in (repeated, assembly):
        a.attrs["stimulus_set"] = stimuli
        a.attrs["stimulus_set_identifier"] = stimuli.identifier

    def benchmark():
        return NeuralBenchmark(
            identifier="vvshub-test.IT-pls",
            version=1,
            assembly=assembly,
            similarity_metric=load_metric(
                "pls", crossvalidation_kwargs={"stratification_coord": "object_name"}
            ),
            visual_degrees=8,
            number_of_trials=1,
            ceiling_func=lambda: load_ceiling("internal_consistency")(repeated),
            parent="IT",
        )

    catalog = work / "catalog.duckdb"
    t0 = time.perf_counter()
    model = brain_model(
        MODEL, weights="random", layers={"IT": GENERATING_LAYER}, preprocessing=_pre()
    )
    good = score_on_brainscore(model, benchmark(), catalog=catalog)
    out["neural_seconds"] = time.perf_counter() - t0
    other = brain_model(MODEL, weights="random", layers=f"IT={OTHER_LAYER}", preprocessing=_pre())
    bad = score_on_brainscore(other, benchmark(), record=False)
    out["neural"] = {"generating": good.to_dict(), "other": bad.to_dict()}
    # what the adapter returned to Brain-Score, seen from inside its benchmark
    other.start_recording("IT", [(70, 170)])
    seen = other.look_at(stimuli)
    out["assembly"] = {
        "dims": list(seen.dims),
        "shape": list(seen.shape),
        "presentation_coords": sorted(seen.indexes["presentation"].names),
        "region": sorted(set(seen["region"].values.tolist())),
        "time_bin_start": seen["time_bin_start"].values.tolist(),
    }
    # vvshub's own scorer on the same data, splits and seeds
    splits = stratified_shuffle_split(objects, n_splits=10, train_size=0.9, seed=1)
    mean = np.stack([trials[rep == r] for r in range(n_reps)]).mean(0)
    ours = cross_validated_regression(_features(paths, GENERATING_LAYER), mean, splits)
    out["vvshub"] = {
        "raw": ours.raw,
        "ceiling": split_half_ceiling(trials, stim_index, rep).ceiling,
    }


def behaviour(work: Path, out: dict) -> None:
    from brainscore_core.supported_data_standards.brainio.assemblies import BehavioralAssembly
    from brainscore_vision import load_metric
    from brainscore_vision.benchmarks import BenchmarkBase
    from brainscore_vision.benchmarks.rajalingham2018.benchmarks.benchmark import (
        _DicarloRajalingham2018,
    )

    from vvshub.scorer import (
        PRE_LOGITS,
        Trials,
        brain_model,
        i2n_score,
        logistic_readout,
        score_on_brainscore,
    )

    rng = np.random.default_rng(1)
    objects = [f"obj{i}" for i in range(6)]
    fit_ids = [f"fit{i:03d}" for i in range(6 * 10)]
    fit_labels = [objects[i % 6] for i in range(len(fit_ids))]
    test_ids = [f"test{i:03d}" for i in range(6 * 4)]
    truth = np.array([i % 6 for i in range(len(test_ids))])
    fit_paths = _images(work / "fit", fit_ids, rng)
    test_paths = _images(work / "test", test_ids, rng)
    fitting = _stimulus_set(
        {"stimulus_id": fit_ids, "image_label": fit_labels}, fit_paths, "vvshub-test-fit"
    )
    test = _stimulus_set(
        {"stimulus_id": test_ids, "image_label": [objects[t] for t in truth]},
        test_paths,
        "vvshub-test-i2n",
    )
    # primate-like trials: choices drawn from the model's own readout plus noise
    fit_feats, test_feats = _features(fit_paths, PRE_LOGITS), _features(test_paths, PRE_LOGITS)
    fit_index = np.array([objects.index(x) for x in fit_labels])
    probs = logistic_readout(fit_feats, fit_index, test_feats, c=1e-3, n_classes=6)
    logits = np.log(probs) + 0.5 * rng.normal(size=probs.shape)
    human = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    stim, dist, choice = [], [], []
    for i in range(len(test_ids)):
        for d in range(6):
            if d != truth[i]:
                p_wrong = human[i, d] / (human[i, d] + human[i, truth[i]])
                wrong = rng.random(10) < p_wrong
                stim += [i] * 10
                dist += [d] * 10
                choice += np.where(wrong, d, truth[i]).tolist()
    stim_a, dist_a, choice_a = np.array(stim), np.array(dist), np.array(choice)
    assembly = BehavioralAssembly(
        [objects[c] for c in choice_a],
        coords={
            "stimulus_id": ("presentation", [test_ids[i] for i in stim_a]),
            "sample_obj": ("presentation", [objects[t] for t in truth[stim_a]]),
            "truth": ("presentation", [objects[t] for t in truth[stim_a]]),
            "dist_obj": ("presentation", [objects[d] for d in dist_a]),
        },
        dims=["presentation"],
    )
    assembly.attrs["stimulus_set"] = test
    # Brain-Score's Rajalingham2018 benchmark class, its S3 loading in __init__ bypassed
    metric = load_metric("i2n")
    bench = _DicarloRajalingham2018.__new__(_DicarloRajalingham2018)
    bench._metric = metric
    bench._fitting_stimuli = fitting
    bench._assembly = assembly
    bench._visual_degrees = 8
    bench._number_of_trials = 2
    BenchmarkBase.__init__(
        bench,
        identifier="vvshub-test-i2n",
        version=1,
        ceiling_func=lambda: metric.ceiling(assembly),
        parent="behavior",
    )
    catalog = work / "catalog.duckdb"
    t0 = time.perf_counter()
    model = brain_model(MODEL, weights="random", preprocessing=_pre())
    res = score_on_brainscore(model, bench, catalog=catalog)
    out["behavior_seconds"] = time.perf_counter() - t0
    out["behavior"] = res.to_dict()
    ours = i2n_score(
        probs,
        Trials(stimulus=stim_a, truth=truth[stim_a], distractor=dist_a, choice=choice_a),
        truth,
    )
    out["vvshub_i2n"] = {"raw": ours.raw, "ceiling": ours.ceiling, "ceiled": ours.ceiled}


def errors(out: dict) -> None:
    from vvshub.errors import BenchmarkNotFoundError, BrainScoreTaskError
    from vvshub.scorer import brain_model, score_on_brainscore

    try:
        score_on_brainscore(MODEL, "NoSuchBenchmark.IT-pls", layers="IT=layer3.0", record=False)
    except BenchmarkNotFoundError as exc:
        out["unknown_benchmark_error"] = str(exc)
    bm = brain_model(MODEL, weights="random", layers="IT=layer3.0")
    try:
        bm.start_task("label", "imagenet")
    except BrainScoreTaskError as exc:
        out["label_task_error"] = str(exc)
    from vvshub.errors import BrainScoreError
    from vvshub.scorer import score_brainscore_suite

    try:  # a registered benchmark: this lean environment cannot load it (nor reach S3)
        score_brainscore_suite(MODEL, benchmarks="IT", layers="IT=layer3.0", weights="random")
    except BrainScoreError as exc:
        out["load_error"] = str(exc)
    from vvshub.errors import LayerNotFoundError

    try:  # V4 has no layer: said before anything is loaded
        score_brainscore_suite(MODEL, benchmarks="V4,IT", layers="IT=layer3.0", weights="random")
    except LayerNotFoundError as exc:
        out["missing_layer_error"] = str(exc)
    from brainscore_vision.model_interface import BrainModel

    out["is_brain_model"] = isinstance(bm, BrainModel)
    out["bs_install_dependencies"] = os.environ.get("BS_INSTALL_DEPENDENCIES")


def main(workdir: str) -> None:
    work = Path(workdir)
    os.environ["VVSHUB_HOME"] = str(work / "home")
    os.environ["RESULTCACHING_HOME"] = str(work / "result_caching")
    os.environ["BRAINSCORE_HOME"] = str(work / "brainscore")
    os.environ["VVSHUB_NO_PROGRESS"] = "1"
    out: dict = {}
    neural(work, out)
    behaviour(work, out)
    errors(out)
    print(json.dumps(out, default=str))


if __name__ == "__main__":
    main(sys.argv[1])
