"""Checkpoints are atomic and a run killed with SIGKILL mid-epoch resumes bitwise."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

#: Runs the CLI in a fresh interpreter; with a marker path, epoch 2 announces itself after a
#: few images and then stalls, so the test can kill it in the middle of that epoch.
_SCRIPT = """
import sys, time
marker = sys.argv[1]
if marker != "-":
    from vvshub.trainer import _images
    original = _images.ImageSet.__getitem__
    calls = {"n": 0}
    def slow(self, index):
        if self.epoch == 1 and self.images is not None and len(self.items) > 20:
            calls["n"] += 1
            if calls["n"] == 10:
                open(marker, "w").write("mid-epoch 2")
                time.sleep(120)
        return original(self, index)
    _images.ImageSet.__getitem__ = slow
from vvshub.cli import main
main(sys.argv[2:])
"""


def _args(zip_path: Path, run_dir: Path, *extra: str) -> list[str]:
    return [
        "train", "resnet18", "--width", "0.0625", "--dataset", str(zip_path),
        "--samples-per-class", "10", "--epochs", "3", "--batch-size", "4",
        "--image-size", "16", "--seed", "5", "--deterministic", "--no-push",
        "--run-dir", str(run_dir), "--json", *extra,
    ]  # fmt: skip


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO / "src") + os.pathsep + env.get("PYTHONPATH", "")
    env["OMP_NUM_THREADS"] = "1"
    env["MKL_NUM_THREADS"] = "1"
    return env


def _run(marker: str, args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", _SCRIPT, marker, *args],
        env=_env(), capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def _weights(path: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(path))


@pytest.mark.slow
def test_kill_9_mid_epoch_then_resume_is_bitwise_identical(tiny_zip, tmp_path):
    reference = _run("-", _args(tiny_zip, tmp_path / "ref"))
    assert reference.returncode == 0, reference.stderr

    run_dir = tmp_path / "killed"
    marker = tmp_path / "marker"
    proc = subprocess.Popen(
        [sys.executable, "-c", _SCRIPT, str(marker), *_args(tiny_zip, run_dir)],
        env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 240
    while not marker.exists():
        assert proc.poll() is None, proc.communicate()[1]
        assert time.monotonic() < deadline, "the run never reached epoch 2"
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    # Epoch 1 is complete on disk; nothing of epoch 2 is, and no temporary file is left.
    from vvshub.trainer._checkpoint import load_resume

    assert load_resume(run_dir / "resume.safetensors").epoch == 1
    assert not (run_dir / "result.json").exists()
    assert not list(run_dir.glob(".*.tmp"))

    # Without --resume the folder is refused rather than silently overwritten.
    refused = _run("-", _args(tiny_zip, run_dir))
    assert refused.returncode == 1
    assert "--resume" in refused.stderr

    resumed = _run("-", _args(tiny_zip, run_dir, "--resume"))
    assert resumed.returncode == 0, resumed.stderr
    a, b = _weights(tmp_path / "ref" / "model.safetensors"), _weights(run_dir / "model.safetensors")
    assert a.keys() == b.keys()
    for key in a:
        assert a[key].dtype == b[key].dtype
        assert a[key].numpy().tobytes() == b[key].numpy().tobytes(), key
    ref_json, res_json = json.loads(reference.stdout), json.loads(resumed.stdout)
    assert [e["acc"] for e in ref_json["epochs"]] == [e["acc"] for e in res_json["epochs"]]
    assert [e["loss"] for e in ref_json["epochs"]] == [e["loss"] for e in res_json["epochs"]]
    assert ref_json["manifest_sha256"] == res_json["manifest_sha256"]


def test_resume_without_a_run_is_refused(tiny_zip, tmp_path, cli):
    result = cli(*_args(tiny_zip, tmp_path / "none", "--resume"))
    assert result.code == 1
    assert "nothing to resume" in result.err


@pytest.mark.parametrize("name", ["sgd", "adamw", "lamb"])
def test_resume_file_round_trips_every_optimiser(tmp_path, name):
    """Save after 3 steps, load into fresh objects, step on: identical to never stopping."""
    import torch

    from vvshub.trainer import RECIPES
    from vvshub.trainer._checkpoint import ResumeState, load_resume, save_resume
    from vvshub.trainer._loop import _optimizer

    recipe = RECIPES["cnn"].override(optimizer=name)

    def fresh():
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.LayerNorm(3))
        opt = _optimizer(model, recipe)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0 / (1 + s))
        return model, opt, sched

    def step(model, opt, sched, k):
        g = torch.Generator().manual_seed(k)
        loss = model(torch.randn(5, 4, generator=g)).square().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()

    model, opt, sched = fresh()
    for k in range(3):
        step(model, opt, sched, k)
    state = ResumeState(
        epoch=3, model=model.state_dict(), optimizer=opt.state_dict(),
        scheduler=sched.state_dict(), rng={"torch": torch.get_rng_state()}, history=[],
    )  # fmt: skip
    save_resume(state, tmp_path / "resume.safetensors")
    for k in range(3, 6):
        step(model, opt, sched, k)

    loaded = load_resume(tmp_path / "resume.safetensors")
    model2, opt2, sched2 = fresh()
    model2.load_state_dict(loaded.model)
    opt2.load_state_dict(loaded.optimizer)
    sched2.load_state_dict(loaded.scheduler)
    for k in range(3, 6):
        step(model2, opt2, sched2, k)
    for a, b in zip(model.state_dict().values(), model2.state_dict().values(), strict=True):
        assert a.equal(b)
