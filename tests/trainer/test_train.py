"""vvshub train end to end on the CPU: JSON contract, catalog records, files, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from vvshub.trainer import make_config, train

from .conftest import make_zip

_CONTRACT = (
    "model_id", "n_params", "macs", "total_flops", "n_samples", "samples_per_class", "seed",
    "manifest_sha256", "acc", "checkpoint",
)  # fmt: skip


def _tiny_args(zip_path: Path, *extra: str) -> list[str]:
    return [
        "train", "resnet18", "--width", "0.0625", "--dataset", str(zip_path),
        "--samples-per-class", "4", "--epochs", "2", "--batch-size", "6",
        "--image-size", "16", "--no-push", "--json", *extra,
    ]  # fmt: skip


def _catalog(home: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(home / "catalog.duckdb"), read_only=True)


def test_resnet18_w025_on_10_cifar_images_per_class(cifar10_zip, cli, vvshub_home):
    """The issue's Done-means command (val limited to 20 images per class to stay fast)."""
    result = cli(
        "train", "resnet18", "--width", "0.25", "--dataset", str(cifar10_zip),
        "--samples-per-class", "10", "--epochs", "1", "--image-size", "32", "--seed", "0",
        "--val-samples-per-class", "20", "--no-push", "--json",
    )  # fmt: skip
    assert result.code == 0, result.err
    out = result.json()
    assert set(_CONTRACT) <= set(out)
    assert out["model_id"] == "resnet18_w0.25_d10_cifar10"
    assert out["n_samples"] == 100 and out["samples_per_class"] == 10 and out["seed"] == 0
    # the study's conventions: the 1000-class model, one 224x224 image, 3 x flops x seen
    from vvshub import zoo

    c = zoo.count("resnet18_w0.25")
    assert (out["n_params"], out["macs"]) == (c.n_params, c.macs)
    assert out["total_flops"] == 3 * 2 * c.macs * 100
    assert 0.0 <= out["acc"] <= 1.0
    assert len(out["epochs"]) == 1 and out["epochs"][0]["acc"] == out["acc"]
    run_dir = Path(out["run_dir"])
    assert Path(out["checkpoint"]) == run_dir / "model.safetensors"
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["sha256"] == out["manifest_sha256"]
    import hashlib

    text = (run_dir / "manifest.txt").read_bytes()
    assert hashlib.sha256(text).hexdigest() == out["manifest_sha256"]
    assert text.decode().splitlines() == sorted(i for v in manifest["images"].values() for i in v)
    assert {len(v) for v in manifest["images"].values()} == {10}
    with _catalog(vvshub_home) as con:
        row = con.execute(
            "SELECT arch, arch_family, dataset, samples_per_class, n_samples, n_epochs, "
            "n_samples_seen, n_params, macs, total_flops, acc, seed FROM models WHERE short_id = ?",
            [out["model_id"]],
        ).fetchone()
        assert row == (
            "resnet18_w0.25", "ResNetFlex", "cifar10", 10, 100, 1, 100, c.n_params,
            c.macs, out["total_flops"], out["acc"], 0,
        )  # fmt: skip
        run = con.execute(
            "SELECT run_id, manifest_sha256, status, device FROM training_runs"
        ).fetchall()
        assert run == [(out["run_id"], out["manifest_sha256"], "finished", "cpu")]
        epochs = con.execute("SELECT epoch, acc FROM training_epochs").fetchall()
        assert epochs == [(1, out["acc"])]
        ckpt = con.execute("SELECT model_id, epoch, sha256 FROM checkpoints").fetchall()
        assert ckpt[0][:2] == ("resnet18_w0.25_cifar10_10_seed-0", 1) and len(ckpt[0][2]) == 64


def test_a_fresh_home_with_the_same_seed_gives_the_same_manifest(
    tiny_zip, cli, tmp_path, monkeypatch
):
    first = cli(*_tiny_args(tiny_zip, "--epochs", "1"))
    assert first.code == 0, first.err
    monkeypatch.setenv("VVSHUB_HOME", str(tmp_path / "other-home"))
    second = cli(*_tiny_args(tiny_zip, "--epochs", "1"))
    assert second.code == 0, second.err
    a, b = first.json(), second.json()
    assert a["manifest_sha256"] == b["manifest_sha256"]
    assert Path(a["run_dir"]).parent != Path(b["run_dir"]).parent
    ma = json.loads((Path(a["run_dir"]) / "manifest.json").read_text())
    mb = json.loads((Path(b["run_dir"]) / "manifest.json").read_text())
    assert ma == mb
    other_seed = cli(*_tiny_args(tiny_zip, "--epochs", "1", "--seed", "1"))
    assert other_seed.json()["manifest_sha256"] != a["manifest_sha256"]


def test_model_id_carries_width_data_and_seed(tiny_zip, tmp_path):
    cfg = make_config(
        "resnet18_w0.5_d4_tiny_s3", dataset=str(tiny_zip), image_size=16, overrides={"epochs": 1}
    )
    assert (cfg.arch, cfg.samples_per_class, cfg.seed, cfg.dataset_name) == (
        "resnet18_w0.5", 4, 3, "tiny",
    )  # fmt: skip
    assert cfg.model_id == "resnet18_w0.5_d4_tiny_s3"
    from vvshub.errors import TrainingError

    with pytest.raises(TrainingError, match="says 4 images per class but --samples-per-class is 9"):
        make_config("resnet18_w0.5_d4_tiny", dataset=str(tiny_zip), samples_per_class=9)


def test_dry_run_prints_the_recipe_and_trains_nothing(tiny_zip, cli, vvshub_home):
    result = cli(
        "train", "convnextflex-l-2", "--dataset", str(tiny_zip), "-d", "3", "--dry-run",
        "--set", "weight_decay=0.1", "--json",
    )  # fmt: skip
    assert result.code == 0, result.err
    out = result.json()
    assert out["recipe"]["name"] == "convnext"
    assert out["recipe"]["optimizer"] == "adamw"
    assert out["recipe"]["weight_decay"] == 0.1
    assert out["model_id"] == "convnext_tiny_w0.21_d3_tiny"  # the short id spells the width
    assert not (vvshub_home / "runs").exists()
    bad = cli("train", "resnet18", "--dataset", str(tiny_zip), "-d", "3", "--set", "lrr=1")
    assert bad.code == 1 and "unknown recipe field(s) 'lrr'" in bad.err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dataset", "/no/such/data.zip", "-d", "3"], "'/no/such/data.zip' not found"),
        (["-d", "20"], "class 'cat' has only 12 usable images but --samples-per-class is 20"),
        (["--width", "0", "-d", "3"], "width multiplier must be a positive number"),
        (["--depth", "1-1", "-d", "3"], "resnet18 has 4 stages, so the depth needs 4 numbers"),
        (["--depth", "0-0-0-0", "-d", "3"], "has no blocks at all"),
        (["-d", "3", "--corrupt", "maybe"], "corrupt must be 'skip' or 'error'"),
        (["-d", "3", "--val-samples-per-class", "5"], "val split's class 'cat' has only 3 usable"),
    ],
)
def test_bad_input_is_one_clear_line_and_leaves_nothing(tiny_zip, cli, vvshub_home, args, message):
    if "--dataset" not in args:
        args = ["--dataset", str(tiny_zip), *args]
    result = cli("train", "resnet18", "--image-size", "16", "--epochs", "1", "--no-push", *args)
    assert result.code == 1
    assert message in result.err, result.err
    assert "Traceback" not in result.err
    assert not (vvshub_home / "runs").exists() or not any((vvshub_home / "runs").iterdir())
    assert not (vvshub_home / "catalog.duckdb").exists()


def test_corrupt_images_skip_or_refuse(tmp_path, cli):
    bad = ("train/cat/0000.png", "train/cat/0001.png", "train/cat/0002.png")
    z = make_zip(tmp_path / "c.zip", {"cat": 6, "dog": 6}, corrupt=bad)
    ok = cli(*_tiny_args(z, "--epochs", "1", "-d", "3"))
    assert ok.code == 0, ok.err
    manifest = json.loads((Path(ok.json()["run_dir"]) / "manifest.json").read_text())
    assert len(manifest["images"]["cat"]) == 3
    assert set(manifest["skipped"]) <= set(bad) and manifest["skipped"]
    refused = cli(*_tiny_args(z, "--epochs", "1", "-d", "3", "--corrupt", "error", "--seed", "1"))
    assert refused.code == 1
    assert "cannot be decoded" in refused.err
    short = cli(*_tiny_args(z, "--epochs", "1", "-d", "4", "--seed", "2"))
    assert short.code == 1
    assert "class 'cat' has only 3 usable images (3 more could not be decoded)" in short.err


def test_out_of_memory_hints_at_the_batch_size(tiny_zip, monkeypatch):
    import torch

    from vvshub.errors import TrainingOutOfMemoryError
    from vvshub.trainer import _loop

    def boom(self, epoch):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(_loop.Loop, "train_epoch", boom)
    cfg = make_config(
        "resnet18", width=0.0625, dataset=str(tiny_zip), samples_per_class=4, image_size=16,
        overrides={"epochs": 1, "batch_size": 12},
    )  # fmt: skip
    with pytest.raises(TrainingOutOfMemoryError, match="--batch-size 6") as info:
        train(cfg, push=False)
    assert info.value.batch_size == 12


def test_keep_epochs_and_finished_runs_return_their_result(tiny_zip, vvshub_home):
    cfg = make_config(
        "resnet18", width=0.0625, dataset=str(tiny_zip), samples_per_class=4, image_size=16,
        overrides={"epochs": 2, "batch_size": 6}, keep_epochs=True,
    )  # fmt: skip
    first = train(cfg, push=False)
    run_dir = Path(first.run_dir)
    assert sorted(p.name for p in (run_dir / "epochs").iterdir()) == [
        "ep1.safetensors", "ep2.safetensors",
    ]  # fmt: skip
    from safetensors.torch import load_file

    last, kept = (
        load_file(run_dir / "model.safetensors"),
        load_file(run_dir / "epochs/ep2.safetensors"),
    )
    assert all(last[k].equal(kept[k]) for k in last)
    assert not all(
        last[k].equal(v) for k, v in load_file(run_dir / "epochs/ep1.safetensors").items()
    )
    again = train(cfg, resume=True, push=False)
    assert again == first


def test_catalog_key_is_the_study_id_where_the_study_grammar_can_say_it():
    from vvshub.trainer._record import catalog_model_id

    assert catalog_model_id("resnet18_w0.125_d10_cifar10") == (
        "resnetflexfilters-f-1-16-20-19_cifar10_10_seed-0"
    )
    assert catalog_model_id("resnet18_d10_cifar10_s2") == "resnet18_cifar10_10_seed-2"
    # a continuous width: the study grammar spells it with the short arch name, and reads it back
    assert catalog_model_id("resnet18_w0.25_d10_cifar10") == "resnet18_w0.25_cifar10_10_seed-0"
    from vvshub.ids import parse

    assert parse("resnet18_w0.25_cifar10_10_seed-0") == parse("resnet18_w0.25_d10_cifar10")


@pytest.mark.slow
def test_accuracy_rises_with_data_at_three_widths(cifar10_zip):
    """The study's data-scaling effect in miniature: 10 vs 100 CIFAR-10 images per class."""
    accs = {}
    for width in (0.0625, 0.125, 0.25):
        for d in (10, 100):
            cfg = make_config(
                "resnet18", width=width, dataset=str(cifar10_zip), samples_per_class=d,
                image_size=32, overrides={"epochs": 5, "batch_size": 64},
                val_samples_per_class=50,
            )  # fmt: skip
            accs[width, d] = train(cfg, push=False, record=False).acc
    for width in (0.0625, 0.125, 0.25):
        assert accs[width, 100] > accs[width, 10] + 0.05, accs


@pytest.mark.slow
def test_workers_and_lazy_decoding_do_not_change_the_result(tiny_zip, tmp_path):
    """Augmentation is seeded per image: a worker process, or images decoded per item instead
    of kept in memory, train the same weights."""
    from safetensors.torch import load_file

    weights = []
    for workers, cache_gb in ((0, 4.0), (1, 4.0), (0, 0.0)):
        cfg = make_config(
            "resnet18", width=0.0625, dataset=str(tiny_zip), samples_per_class=4, image_size=16,
            overrides={"epochs": 1, "batch_size": 6}, num_workers=workers, cache_gb=cache_gb,
            deterministic=True,
        )  # fmt: skip
        result = train(cfg, push=False, record=False, run_dir=tmp_path / f"w{workers}-{cache_gb}")
        weights.append(load_file(Path(result.run_dir) / "model.safetensors"))
    for other in weights[1:]:
        assert all(weights[0][k].equal(other[k]) for k in weights[0])
