"""Behaviour (Rajalingham2018 i2n) read from Brain-Score's file layout without brainscore.

A synthetic benchmark is written in Brain-Score 2.4.2's exact format (a one-dimensional
NetCDF BehavioralAssembly of trials, stimulus-set CSVs with ``image_id``/``image_label``
and zips of ``<image_id>.png``, in ``<sha1>/`` folders), then read, scored, broken in
each way the reader refuses, and handed to brainscore-vision's own loaders and metric.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pytest

from vvshub.errors import BenchmarkDataError, BenchmarkFileNotFoundError, StimulusDecodeError

ORACLE_SCRIPT = Path(__file__).with_name("oracle") / "run_brainscore_behavior.py"
# read at import: the autouse VVSHUB_HOME fixture clears VVSHUB_* variables before each test
ORACLE_PYTHON = os.environ.get("VVSHUB_ORACLE_PYTHON")


def _png(base: np.ndarray, rng: np.random.Generator) -> bytes:
    from PIL import Image

    # an object's images share a low-frequency pattern; each adds its own variation
    grid = np.clip(base + rng.normal(scale=40, size=base.shape), 0, 255).astype(np.uint8)
    img = Image.fromarray(grid).resize((32, 32), Image.BILINEAR)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def _write_stimuli(root: Path, spec, ids, objects, blobs) -> dict[str, Path]:
    import pandas as pd

    paths = {
        "csv": root / spec.csv_sha1 / spec.csv_name,
        "zip": root / spec.zip_sha1 / spec.zip_name,
    }
    for p in paths.values():
        p.parent.mkdir(parents=True, exist_ok=True)
    # the objectome sets' columns: image_id (no stimulus_id), the object twice, the file name
    pd.DataFrame(
        {
            "image_id": ids,
            "image_sample_obj": objects,
            "image_label": objects,
            "filename": [f"{i}.png" for i in ids],
        }
    ).to_csv(paths["csv"], index=False)
    with zipfile.ZipFile(paths["zip"], "w") as zf:
        for i, b in zip(ids, blobs, strict=True):
            zf.writestr(f"{i}.png", b)
    return paths


def write_brainio_behavior(
    root: Path,
    *,
    access: str = "private",
    model=None,
    n_objects: int = 4,
    test_per_object: int = 6,
    fit_per_object: int = 8,
    trials_per_pair: int = 12,
    seed: int = 0,
) -> dict:
    """Write a Rajalingham2018-layout benchmark where Brain-Score 2.4.2 keeps it.

    ``access="private"``: ``assy_dicarlo_Rajalingham2018_private.nc`` on the
    ``objectome.private`` images, readout on ``objectome.public``; ``"public"``: the
    public assembly, whose trials are on every readout image (``test_per_object`` unused).
    With ``model``, the trials are drawn from ``model``'s readout probabilities (so its i2n
    pattern is the trials'); otherwise from a random ground truth.

    Returns:
        paths (``nc``, ``test_csv``, ``test_zip``, ``fit_csv``, ``fit_zip``) and the arrays
        written (``test_ids``, ``objects``, ``truth``, ``stimulus``, ``distractor``, ``choice``).
    """
    import xarray as xr

    from vvshub.scorer import PRE_LOGITS, StimulusSet, extract, logistic_readout
    from vvshub.scorer._brainio import BEHAVIOR_ASSEMBLIES

    spec = {s.version: s for s in BEHAVIOR_ASSEMBLIES}[access]
    rng = np.random.default_rng(seed)
    objects = [f"obj_{k}" for k in range(n_objects)]
    bases = [rng.integers(0, 256, size=(4, 4, 3)).astype(float) for _ in objects]

    def images(tag: str, per_object: int):
        ids, labels, blobs = [], [], []
        for k, obj in enumerate(objects):
            for j in range(per_object):
                ids.append(hashlib.sha1(f"{tag}{seed}-{k}-{j}".encode()).hexdigest())
                labels.append(obj)
                blobs.append(_png(bases[k], rng))
        return ids, labels, blobs

    fit_ids, fit_labels, fit_blobs = images("fit", fit_per_object)
    if access == "private":
        test_ids, test_labels, test_blobs = images("test", test_per_object)
    else:  # the public benchmark's trials are on every one of the readout's images
        test_ids, test_labels, test_blobs = fit_ids, fit_labels, fit_blobs
    truth = np.array([objects.index(o) for o in test_labels])
    if model is not None:

        def features(ids, blobs):
            s = StimulusSet(name="w", stimulus_ids=tuple(ids), load=lambda i: blobs[i])
            return extract(model, s, [PRE_LOGITS])[PRE_LOGITS]

        probs = logistic_readout(
            features(fit_ids, fit_blobs),
            np.array([objects.index(o) for o in fit_labels]),
            features(test_ids, test_blobs),
            n_classes=n_objects,
        )
        # C = 1e-3 makes the readout's probabilities nearly uniform; sharpening keeps each
        # image's odds in order (so the model's i2n pattern) while giving the trials signal
        logp = np.log(probs)
        logp = 2.0 * (logp - logp.mean(1, keepdims=True)) / logp.std()
        probs = np.exp(logp) / np.exp(logp).sum(1, keepdims=True)
    else:
        logits = rng.normal(size=(len(test_ids), n_objects)) + 1.5 * np.eye(n_objects)[truth]
        probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    stim, dist, choice = [], [], []
    for i in range(len(test_ids)):
        for d in range(n_objects):
            if d == truth[i]:
                continue
            p_wrong = probs[i, d] / (probs[i, d] + probs[i, truth[i]])
            wrong = rng.random(trials_per_pair) < p_wrong
            stim += [i] * trials_per_pair
            dist += [d] * trials_per_pair
            choice += np.where(wrong, d, truth[i]).tolist()
    order = rng.permutation(len(stim))  # trials in no particular order, as in the real file
    stim, dist, choice = (np.asarray(a)[order] for a in (stim, dist, choice))
    names = np.array(objects, dtype=object)
    da = xr.DataArray(
        names[choice],
        dims=("presentation",),
        coords={
            "image_id": ("presentation", np.array(test_ids, dtype=object)[stim]),
            "sample_obj": ("presentation", names[truth[stim]]),
            "truth": ("presentation", names[truth[stim]]),
            "dist_obj": ("presentation", names[dist]),
            "choice": ("presentation", names[choice]),
            "enough_human_data": ("presentation", np.ones(len(stim), dtype=bool)),
        },
        attrs={"synthetic": "true"},
    )
    nc = root / spec.sha1 / spec.filename
    nc.parent.mkdir(parents=True, exist_ok=True)
    da.to_netcdf(nc)
    fit_paths = _write_stimuli(root, spec.fitting, fit_ids, fit_labels, fit_blobs)
    if access == "private":
        test_paths = _write_stimuli(root, spec.stimuli, test_ids, test_labels, test_blobs)
    else:
        test_paths = fit_paths
    return {
        "nc": nc,
        "test_csv": test_paths["csv"],
        "test_zip": test_paths["zip"],
        "fit_csv": fit_paths["csv"],
        "fit_zip": fit_paths["zip"],
        "test_ids": test_ids,
        "fit_ids": fit_ids,
        "objects": objects,
        "truth": truth,
        "stimulus": stim,
        "distractor": dist,
        "choice": choice,
    }


def _rewrite_nc(path: Path, change) -> None:
    import xarray as xr

    da = xr.open_dataarray(path).load()
    da.close()
    da = change(da)
    path.unlink()
    da.to_netcdf(path)


def _suite(root: Path):
    from vvshub.scorer._brainio import brainio_suite

    return brainio_suite(root, regions=("behavior",))


def test_reads_trials_images_and_labels_from_the_files(tmp_path):
    from vvshub.scorer import i2n_score

    root = tmp_path / "brainio"
    w = write_brainio_behavior(root, n_objects=5, test_per_object=3, fit_per_object=4)
    suite = _suite(root)
    bench = suite.benchmarks["behavior"]
    assert bench.identifier == "Rajalingham2018-i2n" and bench.region == "Behavioral"
    assert bench.version.startswith("local-") and bench.synthetic and suite.synthetic
    assert bench.objects == tuple(w["objects"])
    # counts come from the files: 5 objects x 3 test images x 4 distractors x 12 trials
    assert len(bench.test_stimuli) == 15 and len(bench.fit_stimuli) == 20
    assert len(bench.trials) == 15 * 4 * 12
    # test images in stimulus_id order; every trial still points at the image it was on
    assert list(bench.test_stimuli.stimulus_ids) == sorted(w["test_ids"])
    ids = np.array(bench.test_stimuli.stimulus_ids)[bench.trials.stimulus]
    assert (ids == np.array(w["test_ids"])[w["stimulus"]]).all()
    assert (bench.trials.choice == w["choice"]).all()
    assert (bench.trials.distractor == w["distractor"]).all()
    assert (bench.trials.truth == w["truth"][w["stimulus"]]).all()
    by_id = dict(zip(w["test_ids"], w["truth"], strict=True))
    assert [by_id[s] for s in bench.test_stimuli.stimulus_ids] == bench.truth.tolist()
    # the readout's images are the fitting CSV's rows, in its order, with its image_label
    assert list(bench.fit_stimuli.stimulus_ids) == w["fit_ids"]
    assert bench.fit_labels.tolist() == [k for k in range(5) for _ in range(4)]
    with zipfile.ZipFile(w["test_zip"]) as zf:
        first = bench.test_stimuli.stimulus_ids[0]
        assert bench.test_stimuli.load(0) == zf.read(f"{first}.png")
    ceiling = i2n_score(None, bench.trials, bench.truth).ceiling
    assert 0.3 < ceiling <= 1  # the trials were drawn from one ground truth


def test_public_assembly_when_the_study_one_is_absent(tmp_path, monkeypatch):
    from vvshub.scorer._brainio import brainio_suite

    root = tmp_path / "brainio"
    write_brainio_behavior(root, access="public", n_objects=3, fit_per_object=3)
    monkeypatch.setenv("BRAINIO_HOME", str(root))
    bench = brainio_suite(regions=("behavior",)).benchmarks["behavior"]  # DIR from $BRAINIO_HOME
    assert bench.identifier == "Rajalingham2018public-i2n" and bench.version.startswith("local-")
    assert sorted(bench.test_stimuli.stimulus_ids) == sorted(bench.fit_stimuli.stimulus_ids)
    assert len(bench.trials) == 9 * 2 * 12
    write_brainio_behavior(root, access="private", n_objects=3, test_per_object=2)
    assert _suite(root).benchmarks["behavior"].identifier == "Rajalingham2018-i2n"


def test_brainio_suite_scores_behaviour(tmp_path, tiny_net):
    import vvshub

    from .conftest import make_tiny_net

    root = tmp_path / "brainio"
    write_brainio_behavior(root, model=tiny_net, n_objects=4, trials_per_pair=20)
    res = vvshub.score(tiny_net, suite=f"brainio:{root}", benchmarks="behavior", record=False)
    beh = res.scores["behavior"]
    assert beh.benchmark == "Rajalingham2018-i2n" and beh.layer == "pre_logits"
    assert beh.n_stimuli == 24 and res.synthetic
    # the trials were drawn from (a sharpened) readout of this very model: measured 0.68
    assert 0.3 < beh.ceiling <= 1
    assert beh.score > 0.5
    # another network, same trials: same ceiling, no alignment (measured raw -0.15)
    other = vvshub.score(
        make_tiny_net(seed=5), suite=f"brainio:{root}", benchmarks="behavior", record=False
    ).scores["behavior"]
    assert other.ceiling == pytest.approx(beh.ceiling)
    assert other.raw < beh.raw - 0.3


@pytest.mark.parametrize("drop", ["nc", "test_csv", "test_zip", "fit_csv", "fit_zip"])
def test_missing_file_names_where_brainscore_keeps_it(tmp_path, drop):
    from vvshub.scorer._brainio import BEHAVIOR_ASSEMBLIES

    root = tmp_path / "brainio"
    w = write_brainio_behavior(root, n_objects=3, test_per_object=2, fit_per_object=2)
    w[drop].unlink()
    with pytest.raises(BenchmarkFileNotFoundError) as exc:
        _suite(root)
    if drop == "nc":  # neither assembly: both named, the study's first
        private, public = BEHAVIOR_ASSEMBLIES
        assert exc.value.path == str(root / private.sha1 / private.filename)
        assert str(root / public.sha1 / public.filename) in str(exc.value)
        assert "Rajalingham2018public-i2n" in str(exc.value)
    else:
        assert exc.value.path == str(w[drop])
        assert str(w[drop]) in str(exc.value)


def test_assembly_files_that_are_not_behaviour_are_refused(tmp_path):
    root = tmp_path / "brainio"
    w = write_brainio_behavior(root, n_objects=3, test_per_object=2, fit_per_object=2)
    w["nc"].write_bytes(b"not a netcdf file")
    with pytest.raises(BenchmarkDataError, match="not a readable NetCDF assembly"):
        _suite(root)
    w = write_brainio_behavior(root, n_objects=3, test_per_object=2, fit_per_object=2)
    _rewrite_nc(w["nc"], lambda da: da.expand_dims(neuroid=1))
    with pytest.raises(BenchmarkDataError, match="expected one dimension, presentation"):
        _suite(root)


def _rename_image(da):
    ids = da.image_id.values.astype(object)
    ids[ids == ids[0]] = "zzz-not-in-csv"
    return da.assign_coords(image_id=("presentation", ids))


def _blank(coord: str, at: int = 7):
    def change(da):
        if coord == "values":
            values = da.values.astype(object)
            values[at] = np.nan
            return da.copy(data=values)
        values = da[coord].values.astype(object)
        values[at] = np.nan
        return da.assign_coords({coord: ("presentation", values)})

    return change


def _set(coord: str, value: str, at: int = 3):
    def change(da):
        values = da[coord].values.astype(object)
        values[at] = value
        return da.assign_coords({coord: ("presentation", values)})

    return change


def _wrong_choice(da):
    values = da.values.astype(object)
    offered = (da.sample_obj.values[3], da.dist_obj.values[3])
    values[3] = next(o for o in ("obj_0", "obj_1", "obj_2") if o not in offered)
    return da.copy(data=values)


def _two_truths(da):
    first = da.image_id.values[0]
    rows = np.flatnonzero(da.image_id.values == first)
    shown = da.sample_obj.values[rows[0]]
    other = next(o for o in ("obj_0", "obj_1", "obj_2") if o != shown)
    truth = da.sample_obj.values.astype(object)
    truth[rows[-1]] = other
    dist = da.dist_obj.values.astype(object)
    dist[rows[-1]] = shown  # still a valid trial on its own: other vs shown
    choice = da.values.astype(object)
    choice[rows[-1]] = other
    return da.copy(data=choice).assign_coords(
        sample_obj=("presentation", truth),
        truth=("presentation", truth),
        dist_obj=("presentation", dist),
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_rename_image, r"stimulus ids do not match: 1 of .*'zzz-not-in-csv'"),
        (_blank("dist_obj"), r"1 of 288 trials have no 'dist_obj' .*NaN or empty.*trial 7"),
        (_blank("values"), r"have no choice \(the assembly's values\) \(NaN or empty"),
        (_blank("image_id", 0), r"1 of 288 trials have no image id"),
        (lambda da: da.drop_vars("dist_obj"), r"no 'dist_obj' coordinate on presentation"),
        (
            lambda da: da.drop_vars(["image_id"]),
            r"no 'stimulus_id' or 'image_id' coordinate .* its coordinates: ",
        ),
        (lambda da: da.drop_vars(["sample_obj", "truth"]), r"no 'sample_obj' or 'truth'"),
        (_set("truth", "obj_9"), r"trial 3 has sample_obj .* but truth 'obj_9'"),
        (_wrong_choice, r"trial 3 chose .* which was neither its sample"),
        (_two_truths, r"image .* each image shows one object"),
    ],
)
def test_bad_trials_are_refused_with_reasons(tmp_path, change, message):
    root = tmp_path / "brainio"
    w = write_brainio_behavior(root, n_objects=3, test_per_object=4, fit_per_object=2)
    _rewrite_nc(w["nc"], change)
    with pytest.raises(BenchmarkDataError, match=message) as exc:
        _suite(root)
    assert "\n" not in str(exc.value)


def test_readout_labels_must_cover_the_objects(tmp_path):
    import pandas as pd

    root = tmp_path / "brainio"
    w = write_brainio_behavior(root, n_objects=3, test_per_object=2, fit_per_object=2)
    table = pd.read_csv(w["fit_csv"])
    table[table.image_label != "obj_2"].to_csv(w["fit_csv"], index=False)
    with pytest.raises(BenchmarkDataError, match=r"object 'obj_2' .* has trials but no readout"):
        _suite(root)
    table.assign(image_label=["obj_7", *table.image_label[1:]]).to_csv(w["fit_csv"], index=False)
    with pytest.raises(BenchmarkDataError, match=r"readout label 'obj_7' is not one of"):
        _suite(root)
    table.assign(image_label=[np.nan, *table.image_label[1:]]).to_csv(w["fit_csv"], index=False)
    with pytest.raises(BenchmarkDataError, match=r"1 image\(s\) have no 'image_label'"):
        _suite(root)
    table.drop(columns="image_label").to_csv(w["fit_csv"], index=False)
    with pytest.raises(BenchmarkDataError, match=r"has no 'image_label' column; columns: image_id"):
        _suite(root)


def test_undecodable_test_image_names_the_stimulus(tmp_path, tiny_net):
    import vvshub

    root = tmp_path / "brainio"
    w = write_brainio_behavior(root, n_objects=3, test_per_object=2, fit_per_object=2)
    with zipfile.ZipFile(w["test_zip"]) as zf:
        blobs = {n: zf.read(n) for n in zf.namelist()}
    bad = w["test_ids"][4]
    blobs[f"{bad}.png"] = b"this is not a png"
    with zipfile.ZipFile(w["test_zip"], "w") as zf:
        for n, b in blobs.items():
            zf.writestr(n, b)
    with pytest.raises(StimulusDecodeError, match=repr(bad)) as exc:
        vvshub.score(tiny_net, suite=f"brainio:{root}", benchmarks="behavior", record=False)
    assert exc.value.stimulus_id == bad


def _oracle_python() -> Path:
    path = (
        Path(ORACLE_PYTHON)
        if ORACLE_PYTHON
        else Path(__file__).resolve().parents[2] / ".oracle-venv/bin/python"
    )
    if not path.exists():
        if os.environ.get("MAKELEVEL"):  # under make the oracle env is a prerequisite
            pytest.fail(f"oracle python {path} missing although make should have built it")
        pytest.skip(f"brainscore oracle environment not found at {path}; run `make oracle`")
    return path


@pytest.mark.slow
@pytest.mark.parametrize("access", ["private", "public"])
def test_brainscore_reads_the_files_and_scores_them_as_vvshub_does(tmp_path, tiny_net, access):
    """brainscore-vision's loaders read the files written here, and its benchmark (readout,
    I2n metric, ceiling, per-split ceiling) gives vvshub's numbers on the same features."""
    import vvshub
    from vvshub.scorer import PRE_LOGITS, extract

    root = tmp_path / "brainio"
    w = write_brainio_behavior(
        root, access=access, model=tiny_net, n_objects=4, test_per_object=5, trials_per_pair=8
    )
    bench = _suite(root).benchmarks["behavior"]
    fit = extract(tiny_net, bench.fit_stimuli, [PRE_LOGITS])[PRE_LOGITS]
    test = extract(tiny_net, bench.test_stimuli, [PRE_LOGITS])[PRE_LOGITS]
    npz = tmp_path / "features.npz"
    np.savez(
        npz,
        fit_ids=np.array(bench.fit_stimuli.stimulus_ids),
        fit_features=fit,
        test_ids=np.array(bench.test_stimuli.stimulus_ids),
        test_features=test,
    )
    env = {
        **os.environ,
        "BS_INSTALL_DEPENDENCIES": "no",
        "PYTHONPATH": "",
        "RESULTCACHING_DISABLE": "1",
        "RESULTCACHING_HOME": str(tmp_path / "result_caching"),
    }
    args = [str(_oracle_python()), str(ORACLE_SCRIPT), access, str(npz)]
    args += [str(w[k]) for k in ("nc", "test_csv", "test_zip", "fit_csv", "fit_zip")]
    proc = subprocess.run(args, capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    oracle = json.loads(proc.stdout.strip().splitlines()[-1])
    # Brain-Score's loaders see the trials, images and labels vvshub reads
    assert oracle["n_trials"] == len(bench.trials)
    assert oracle["stimulus_ids"] == list(bench.test_stimuli.stimulus_ids)
    assert oracle["images_in_stimulus_set"]
    assert oracle["objects"] == list(bench.objects)
    assert oracle["truth"] == [bench.objects[t] for t in bench.truth]
    assert oracle["n_fitting"] == len(bench.fit_stimuli)
    assert oracle["fitting_labels"] == list(bench.fit_stimuli.labels)
    # and score them as vvshub does
    res = vvshub.score(tiny_net, suite=f"brainio:{root}", benchmarks="behavior", record=False)
    beh = res.scores["behavior"]
    assert beh.raw == pytest.approx(oracle["raw"], abs=1e-3)
    assert beh.ceiling == pytest.approx(oracle["ceiling"], abs=1e-3)
    assert beh.score == pytest.approx(min(oracle["score"], 1.0), abs=1e-3)
    assert beh.error == pytest.approx(oracle["error"], abs=1e-3)
