"""DDP: 2 gloo processes on the CPU train the same weights as 1 process with the same global batch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _train_args(zip_path: Path, run_dir: Path) -> list[str]:
    # 12 images in global batches of 5, 5, 2: ranks get 3+2, 3+2, 1+1 images, so the loss
    # scaling must weigh unequal shares right. ConvNeXt normalises with LayerNorm (per image), so no statistic depends on how the
    # batch is split; the cnn recipe has no mixup and no drop path (no per-rank randomness).
    return [
        "train", "convnext_tiny_w0.05_dp1-1-1-1", "--recipe", "cnn", "--dataset", str(zip_path),
        "--samples-per-class", "4", "--epochs", "2", "--batch-size", "5", "--image-size", "32",
        "--seed", "3", "--device", "cpu", "--no-push", "--run-dir", str(run_dir), "--json",
    ]  # fmt: skip


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO / "src") + os.pathsep + env.get("PYTHONPATH", "")
    env["OMP_NUM_THREADS"] = "1"
    env["MASTER_ADDR"] = "127.0.0.1"
    return env


@pytest.mark.slow
def test_two_gloo_processes_match_one(tiny_zip, tmp_path):
    from safetensors.torch import load_file

    one = subprocess.run(
        [sys.executable, "-m", "vvshub.cli", *_train_args(tiny_zip, tmp_path / "one")],
        env=_env(), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert one.returncode == 0, one.stderr
    two = subprocess.run(
        [
            sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
            "-m", "vvshub.cli", *_train_args(tiny_zip, tmp_path / "two"),
        ],
        env=_env(), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert two.returncode == 0, two.stderr
    r1, r2 = json.loads(one.stdout), json.loads(two.stdout)
    assert (r1["world_size"], r2["world_size"]) == (1, 2)
    assert r1["manifest_sha256"] == r2["manifest_sha256"]
    assert r1["batch_size"] == r2["batch_size"] == 5
    w1 = load_file(tmp_path / "one" / "model.safetensors")
    w2 = load_file(tmp_path / "two" / "model.safetensors")
    assert w1.keys() == w2.keys()
    for key in w1:
        assert w1[key].allclose(w2[key], rtol=1e-4, atol=1e-6), key
    losses = [e["loss"] for e in r1["epochs"]]
    assert losses[0] != losses[1]  # it trained
    assert r1["epochs"][-1]["loss"] == pytest.approx(r2["epochs"][-1]["loss"], rel=1e-4)
    assert r1["acc"] == r2["acc"]
