"""Read Rajalingham2018-layout files with brainscore-vision 2.4.2's own loaders and score them.

Executed by ``tests/scorer/test_brainio_behavior.py`` with the lean oracle environment's
python (``make oracle``), never imported by vvshub. The files are read the way
``load_assembly_from_s3`` / ``load_stimulus_set_from_s3`` read them once downloaded (their
sha1 check is the only step left out: these files are not the published ones); the
benchmark is Brain-Score's own ``Rajalingham2018-i2n`` class (or its public variant) with
those data in place of S3's, and the candidate is Brain-Score's ``ProbabilitiesMapping``
classifier on the features given. Prints one JSON line.

Usage: ``python run_brainscore_behavior.py ACCESS FEATURES.npz NC TEST_CSV TEST_ZIP FIT_CSV
FIT_ZIP`` (ACCESS: ``private`` or ``public``).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import zipfile

os.environ.setdefault("BS_INSTALL_DEPENDENCIES", "no")
os.environ.setdefault("RESULTCACHING_DISABLE", "1")

import numpy as np


def _stimulus_set(csv_path: str, zip_path: str, identifier: str, workdir: str):
    from brainscore_core.supported_data_standards.brainio.stimuli import (
        StimulusSet,
        StimulusSetLoader,
    )

    folder = os.path.join(workdir, identifier)
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(folder)
    stimuli = StimulusSetLoader(cls=StimulusSet, csv_path=csv_path, stimuli_directory=folder).load()
    stimuli.identifier = identifier
    return stimuli


def _behavior_module():
    """brainscore_vision's ``brain_transformation/behavior.py``, loaded on its own: its
    package imports the activation extractors (torch, cv2), which the lean env lacks."""
    import importlib.util

    import brainscore_vision

    path = os.path.join(
        os.path.dirname(brainscore_vision.__file__),
        "model_helpers",
        "brain_transformation",
        "behavior.py",
    )
    spec = importlib.util.spec_from_file_location("brainscore_behavior", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(access, npz, nc, test_csv, test_zip, fit_csv, fit_zip) -> None:
    from brainscore_core.supported_data_standards.brainio.assemblies import (
        BehavioralAssembly,
        NeuroidAssembly,
        StimulusMergeAssemblyLoader,
    )
    from brainscore_vision import load_metric
    from brainscore_vision.benchmarks.rajalingham2018.benchmarks.benchmark import (
        _DicarloRajalingham2018,
    )
    from brainscore_vision.model_interface import BrainModel

    ProbabilitiesMapping = _behavior_module().ProbabilitiesMapping

    workdir = tempfile.mkdtemp()
    fitting = _stimulus_set(fit_csv, fit_zip, "objectome.public", workdir)
    if access == "private":
        test_stimuli = _stimulus_set(test_csv, test_zip, "objectome.private", workdir)
    else:
        test_stimuli = fitting
    # what load_assembly_from_s3(..., cls=BehavioralAssembly, stimulus_set_loader=...) does
    assembly = StimulusMergeAssemblyLoader(
        cls=BehavioralAssembly,
        file_path=nc,
        stimulus_set_identifier=test_stimuli.identifier,
        stimulus_set=test_stimuli,
    ).load()
    assembly.attrs["identifier"] = f"dicarlo.Rajalingham2018.{access}"
    # what the benchmark's load_assembly adds
    assembly["correct"] = assembly["choice"] == assembly["sample_obj"]

    metric = load_metric("i2n")
    benchmark = _DicarloRajalingham2018.__new__(_DicarloRajalingham2018)
    benchmark._metric = metric
    benchmark._fitting_stimuli = fitting
    benchmark._assembly = assembly
    benchmark._visual_degrees = 8
    benchmark._number_of_trials = 2
    skipna = access == "public"  # the public benchmark's ceiling skips NaN cells
    super(_DicarloRajalingham2018, benchmark).__init__(
        identifier="Rajalingham2018-i2n",
        version=2,
        ceiling_func=lambda: metric.ceiling(assembly, skipna=skipna),
        parent="behavior",
    )

    d = np.load(npz, allow_pickle=False)
    bank = {}
    for part in ("fit", "test"):
        for sid, row in zip(d[f"{part}_ids"], d[f"{part}_features"], strict=True):
            bank[str(sid)] = row

    class Precomputed(BrainModel):
        """Brain-Score's probabilities readout on features computed by vvshub."""

        def __init__(self) -> None:
            self.classifier = ProbabilitiesMapping.ProbabilitiesClassifier()

        def visual_degrees(self) -> int:
            return 8  # the benchmark's own: images are used as they are

        def _features(self, stimuli):
            ids = [str(s) for s in stimuli["stimulus_id"].values]
            feats = np.stack([bank[s] for s in ids])
            coords = {
                "stimulus_id": ("presentation", ids),
                "neuroid_id": ("neuroid", [f"f{i}" for i in range(feats.shape[1])]),
            }
            if "image_label" in stimuli.columns:
                coords["image_label"] = ("presentation", list(stimuli["image_label"].values))
            return NeuroidAssembly(feats, coords=coords, dims=["presentation", "neuroid"])

        def start_task(self, task, fitting_stimuli):
            features = self._features(fitting_stimuli)
            self.classifier.fit(features, features["image_label"])

        def look_at(self, stimuli, number_of_trials=1):
            return self.classifier.predict_proba(self._features(stimuli))

    score = benchmark(Precomputed())
    ceiling = score.attrs["ceiling"]
    raw = score.attrs["raw"]
    image_ids, first = np.unique(assembly["stimulus_id"].values, return_index=True)
    out = {
        "n_trials": len(assembly),
        "stimulus_ids": [str(s) for s in image_ids],
        "images_in_stimulus_set": bool(set(image_ids) <= set(test_stimuli["stimulus_id"])),
        "objects": sorted({str(c) for c in np.asarray(assembly.values)}),
        "truth": [str(t) for t in assembly["truth"].values[first]],
        "n_fitting": len(fitting),
        "fitting_labels": [str(x) for x in fitting["image_label"].values],
        "score": float(score.values),
        "error": float(score.attrs["error"].values),
        "raw": float(raw.values),
        "ceiling": float(ceiling.values),
    }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main(*sys.argv[1:8])
