"""vvshub's PLS, ceiling and i2n against brainscore-vision 2.4.2 on the same data, seeds and splits.

brainscore-vision runs in its own lean environment (``make oracle`` builds ``.oracle-venv``;
``make test`` builds it when missing and points ``VVSHUB_ORACLE_PYTHON`` at it), so the core's
dependencies stay untouched. Outside make, these tests skip (saying why) when that
environment is missing.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from vvshub.scorer import Trials, i2n_score, split_half_ceiling, stratified_shuffle_split
from vvshub.scorer._metrics import cross_validated_regression

REPO = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("oracle") / "run_brainscore.py"


def _oracle_python() -> Path:
    env = os.environ.get("VVSHUB_ORACLE_PYTHON")
    path = Path(env) if env else REPO / ".oracle-venv" / "bin" / "python"
    if not path.exists():
        if os.environ.get("MAKELEVEL"):  # under make the oracle env is a prerequisite
            pytest.fail(f"oracle python {path} missing although make should have built it")
        pytest.skip(f"brainscore oracle environment not found at {path}; run `make oracle`")
    return path


def _run_oracle(tmp_path: Path, **arrays) -> dict:
    npz = tmp_path / "input.npz"
    np.savez(npz, **arrays)
    env = {**os.environ, "BS_INSTALL_DEPENDENCIES": "no", "PYTHONPATH": ""}
    proc = subprocess.run(
        [str(_oracle_python()), str(SCRIPT), str(npz)],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_pls_and_ceiling_agree_with_brainscore(tmp_path):
    rng = np.random.default_rng(7)
    n_obj, per_obj, n_neuroids, n_reps = 8, 30, 24, 6
    n = n_obj * per_obj
    ids = np.array([f"s{i:04d}" for i in range(n)])  # already in stimulus_id order
    objects = np.array([f"o{i % n_obj}" for i in range(n)])
    features = rng.normal(size=(n, 400))  # wider than the training set: row-space reduction
    signal = features[:, :30] @ rng.normal(size=(30, n_neuroids)) / 5
    trials = np.concatenate([signal + rng.normal(size=signal.shape) for _ in range(n_reps)])
    rep = np.repeat(np.arange(n_reps), n)
    trial_ids = np.tile(ids, n_reps)
    responses = np.stack([trials[rep == r] for r in range(n_reps)]).mean(0)
    oracle = _run_oracle(
        tmp_path,
        features=features,
        responses=responses,
        stimulus_ids=ids,
        object_names=objects,
        trials=trials,
        trial_stimulus_ids=trial_ids,
        repetition=rep,
    )
    splits = stratified_shuffle_split(objects, n_splits=10, train_size=0.9, seed=1)
    ours = cross_validated_regression(features, responses, splits)
    assert ours.raw == pytest.approx(oracle["pls"], abs=1e-3)
    assert ours.error == pytest.approx(oracle["pls_error"], abs=1e-3)
    ceiling = split_half_ceiling(trials, np.tile(np.arange(n), n_reps), rep)
    assert ceiling.ceiling == pytest.approx(oracle["ceiling"], abs=1e-3)


@pytest.mark.slow
def test_i2n_agrees_with_brainscore(tmp_path):
    rng = np.random.default_rng(3)
    n_obj, per_obj, trials_per_pair = 6, 8, 8
    objects = np.array([f"obj{i}" for i in range(n_obj)])
    truth = np.repeat(np.arange(n_obj), per_obj)
    n_img = len(truth)
    image_ids = np.array([f"img{i:03d}" for i in range(n_img)])
    logits = rng.normal(size=(n_img, n_obj)) + 1.5 * np.eye(n_obj)[truth]
    human = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    stim, dist, choice = [], [], []
    for i in range(n_img):
        for d in range(n_obj):
            if d != truth[i]:
                wrong = rng.random(trials_per_pair) < human[i, d] / (
                    human[i, d] + human[i, truth[i]]
                )
                stim += [i] * trials_per_pair
                dist += [d] * trials_per_pair
                choice += np.where(wrong, d, truth[i]).tolist()
    stim_a, dist_a, choice_a = np.array(stim), np.array(dist), np.array(choice)
    model_logits = logits + rng.normal(scale=1.0, size=logits.shape)
    probs = np.exp(model_logits) / np.exp(model_logits).sum(1, keepdims=True)
    oracle = _run_oracle(
        tmp_path,
        probabilities=probs,
        objects=objects,
        image_ids=image_ids,
        beh_stimulus=stim_a,
        beh_truth=truth[stim_a],
        beh_distractor=dist_a,
        beh_choice=choice_a,
    )
    ours = i2n_score(
        probs,
        Trials(stimulus=stim_a, truth=truth[stim_a], distractor=dist_a, choice=choice_a),
        truth,
    )
    assert ours.raw == pytest.approx(oracle["i2n_raw"], abs=1e-3)
    assert ours.ceiling == pytest.approx(oracle["i2n_ceiling"], abs=1e-3)
    assert ours.ceiled == pytest.approx(oracle["i2n_ceiled"], abs=1e-3)
