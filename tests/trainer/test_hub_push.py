"""The finished model reaches the hub (runs once vvshub.hub is part of the build)."""

from __future__ import annotations

import pytest


def test_train_pushes_model_manifest_and_epoch_tags(tiny_zip, cli, vvshub_home):
    pytest.importorskip("vvshub.hub", reason="the hub package is not merged into this build")
    import hashlib
    from pathlib import Path

    from safetensors.torch import load_file

    result = cli(
        "train", "resnet18", "--width", "0.25", "--dataset", str(tiny_zip),
        "--samples-per-class", "4", "--epochs", "2", "--batch-size", "6", "--image-size", "16",
        "--keep-epochs", "--push-epochs", "--json",
    )  # fmt: skip
    assert result.code == 0, result.err
    out = result.json()
    assert out["hub_repo"] == "vvshub/resnet18_w0.25_d4_tiny"
    import vvshub

    model = vvshub.pull(out["model_id"])
    trained = load_file(Path(out["run_dir"]) / "model.safetensors")
    pulled = model.state_dict()
    assert all(trained[k].equal(pulled[k]) for k in trained)
    first = vvshub.pull(out["model_id"], revision="ep1").state_dict()
    assert not all(trained[k].equal(first[k]) for k in trained)
    text = (Path(out["run_dir"]) / "manifest.txt").read_bytes()
    assert hashlib.sha256(text).hexdigest() == out["manifest_sha256"]
