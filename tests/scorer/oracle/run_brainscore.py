"""Run brainscore-vision 2.4.2's own metrics on arrays from an .npz file; print JSON.

Executed by the oracle tests with the lean oracle environment's python (``make oracle``),
never imported by vvshub. Usage: ``python run_brainscore.py INPUT.npz``.
"""

from __future__ import annotations

import json
import os
import sys
import time

os.environ.setdefault("BS_INSTALL_DEPENDENCIES", "no")

import numpy as np


def main(path: str) -> None:
    from brainscore_core.supported_data_standards.brainio.assemblies import (
        BehavioralAssembly,
        NeuroidAssembly,
    )
    from brainscore_vision import load_ceiling, load_metric

    d = np.load(path, allow_pickle=False)
    out: dict = {}
    if "features" in d:
        ids = [str(s) for s in d["stimulus_ids"]]
        objects = [str(o) for o in d["object_names"]]
        source = NeuroidAssembly(
            d["features"],
            coords={
                "stimulus_id": ("presentation", ids),
                "object_name": ("presentation", objects),
                "neuroid_id": ("neuroid", [f"f{i}" for i in range(d["features"].shape[1])]),
                "layer": ("neuroid", ["layer"] * d["features"].shape[1]),
            },
            dims=["presentation", "neuroid"],
        )
        target = NeuroidAssembly(
            d["responses"],
            coords={
                "stimulus_id": ("presentation", ids),
                "object_name": ("presentation", objects),
                "neuroid_id": ("neuroid", [f"n{i}" for i in range(d["responses"].shape[1])]),
                "region": ("neuroid", ["IT"] * d["responses"].shape[1]),
            },
            dims=["presentation", "neuroid"],
        )
        metric = load_metric("pls", crossvalidation_kwargs=dict(stratification_coord="object_name"))
        t0, c0 = time.perf_counter(), time.process_time()
        score = metric(source, target)
        out["pls_seconds"] = time.perf_counter() - t0
        out["pls_cpu_seconds"] = time.process_time() - c0
        out["pls"] = float(score.values)
        out["pls_error"] = float(score.attrs["error"])
    if "trials" in d:
        trial_ids = [str(s) for s in d["trial_stimulus_ids"]]
        assembly = NeuroidAssembly(
            d["trials"],
            coords={
                "stimulus_id": ("presentation", trial_ids),
                "repetition": ("presentation", d["repetition"].tolist()),
                "neuroid_id": ("neuroid", [f"n{i}" for i in range(d["trials"].shape[1])]),
                "region": ("neuroid", ["IT"] * d["trials"].shape[1]),
            },
            dims=["presentation", "neuroid"],
        )
        t0, c0 = time.perf_counter(), time.process_time()
        ceiling = load_ceiling("internal_consistency")(assembly)
        out["ceiling_seconds"] = time.perf_counter() - t0
        out["ceiling_cpu_seconds"] = time.process_time() - c0
        out["ceiling"] = float(ceiling.values)
    if "probabilities" in d:
        objects = [str(o) for o in d["objects"]]
        img_ids = [str(s) for s in d["image_ids"]]
        probs = BehavioralAssembly(
            d["probabilities"],
            coords={
                "stimulus_id": ("presentation", img_ids),
                "image_index": ("presentation", list(range(len(img_ids)))),
                "choice": ("choice", objects),
            },
            dims=["presentation", "choice"],
        )
        t = d["beh_stimulus"]
        truth = [objects[i] for i in d["beh_truth"]]
        target = BehavioralAssembly(
            [objects[i] for i in d["beh_choice"]],
            coords={
                "stimulus_id": ("presentation", [img_ids[i] for i in t]),
                "sample_obj": ("presentation", truth),
                "truth": ("presentation", truth),
                "dist_obj": ("presentation", [objects[i] for i in d["beh_distractor"]]),
            },
            dims=["presentation"],
        )
        metric = load_metric("i2n")
        t0 = time.perf_counter()
        score = metric(probs, target)
        out["i2n_seconds"] = time.perf_counter() - t0
        ceiling = metric.ceiling(target)
        raw = score.raw.values if hasattr(score, "raw") else score.attrs["raw"].values
        c_raw = ceiling.raw.values if hasattr(ceiling, "raw") else ceiling.attrs["raw"].values
        out["i2n_raw"] = float(score.values)
        out["i2n_ceiling"] = float(ceiling.values)
        out["i2n_ceiled"] = float(np.mean(np.asarray(raw) / np.sqrt(np.asarray(c_raw))))
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
