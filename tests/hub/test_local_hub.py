"""The local hub: repo format, revisions, the verified cache, tampering, ids and atomic publish."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import vvshub
from vvshub.errors import (
    CheckpointError,
    IntegrityError,
    ModelIdError,
    NotPublishedError,
    RepoIdError,
)
from vvshub.hub import download, list_repos, repo_info
from vvshub.hub._local import LocalHub
from vvshub.hub._naming import RepoRef, parse_repo_id, repo_for

REPO = Path(__file__).resolve().parents[2]


def _git(path: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(path), *args], capture_output=True, text=True, check=True
    ).stdout


def _same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_push_pull_round_trip_gives_identical_logits(tiny_model, batch, vvshub_home):
    model = tiny_model(0)
    result = vvshub.push(model, "resnet18_w0.125_d10_cifar10", record=False)
    assert result.repo_id == "vvshub/resnet18_w0.125_d10_cifar10"
    pulled = vvshub.pull("resnet18_w0.125_d10_cifar10")
    assert not pulled.training
    assert torch.equal(model(batch), pulled(batch))
    assert pulled.hub_info.sha256 == result.sha256
    assert pulled.hub_info.commit == result.commit
    assert pulled.vvshub_config["vvshub"]["arch"] == "resnetflexfilters-f-1-16-20-19"
    assert "brain-alignment" in pulled.vvshub_card


def test_repo_layout_is_hf_git_with_lfs_pointers(tiny_model, vvshub_home):
    result = vvshub.push(tiny_model(0), "resnet18_w0.125_d10_cifar10", record=False)
    repo = vvshub_home / "hub" / "models" / "vvshub" / "resnet18_w0.125_d10_cifar10"
    assert Path(result.location) == repo
    files = set(_git(repo, "ls-tree", "--name-only", "main").split())
    assert files == {".gitattributes", "README.md", "config.json", "model.safetensors"}
    pointer = _git(repo, "show", "main:model.safetensors")
    assert pointer == (
        "version https://git-lfs.github.com/spec/v1\n"
        f"oid sha256:{result.sha256}\nsize {result.size_bytes}\n"
    )
    obj = repo / ".git" / "lfs" / "objects" / result.sha256[:2] / result.sha256[2:4] / result.sha256
    assert obj.stat().st_size == result.size_bytes
    # git-lfs itself accepts the repo: its pointer check passes and the object is found
    out = subprocess.run(
        ["git", "-C", str(repo), "lfs", "ls-files", "--long", "main"],
        capture_output=True,
        text=True,
    )
    if out.returncode == 0:
        assert result.sha256 in out.stdout
    assert "*.safetensors filter=lfs" in _git(repo, "show", "main:.gitattributes")


def test_config_json_is_timm_readable_with_vvshub_block(tiny_model, vvshub_home, tmp_path):
    import timm

    model = tiny_model(0)
    vvshub.push(
        model,
        "resnet18_w0.125_d10_cifar10",
        metadata={"n_epochs": 30, "acc": 0.31, "training_config": {"lr": 0.1}},
        manifest=["img_003", "img_001", "img_002"],
        record=False,
    )
    info = download("resnet18_w0.125_d10_cifar10", to=tmp_path / "out")
    out = Path(info.path)
    config = json.loads((out / "config.json").read_text())
    assert config["architecture"] == "resnet_flex"
    assert config["num_classes"] == 10
    assert config["model_args"]["channels"] == [8, 16, 32, 64]
    assert config["pretrained_cfg"]["input_size"] == [3, 224, 224]
    assert config["pretrained_cfg"]["mean"] == [0.485, 0.456, 0.406]
    assert config["pretrained_cfg"]["license"] == "other"  # not timm's default tag's licence
    block = config["vvshub"]
    assert block["samples_per_class"] == 10 and block["dataset"] == "cifar10"
    assert block["n_samples"] == 100 and block["n_samples_seen"] == 3000
    assert block["total_flops"] == 3 * block["flops"] * 3000
    assert block["n_params"] == 241712  # the study's 1000-class count (DESIGN.md section 4)
    assert block["training_config"] == {"lr": 0.1}
    manifest = (out / "data_manifest.txt").read_bytes()
    assert manifest == b"img_001\nimg_002\nimg_003\n"
    import hashlib

    assert block["manifest_sha256"] == hashlib.sha256(manifest).hexdigest()
    # plain timm rebuilds it from the folder (local-dir:) with identical weights
    loaded = timm.create_model(f"local-dir:{out}", pretrained=True)
    assert _same_weights(loaded, model)


def test_model_id_spellings_name_one_repo(tiny_model, batch):
    model = tiny_model(3)
    vvshub.push(model, "resnetflexfilters-f-1-16-20-19_cifar10_10_seed-0", record=False)
    for spelling in (
        "resnet18_w0.125_d10_cifar10",
        "vvshub/resnet18_w0.125_d10_cifar10",
        " resnetflexfilters-f-1-16-20-19_cifar10_10 ",
    ):
        assert torch.equal(vvshub.pull(spelling)(batch), model(batch))


def test_epochs_are_tags_and_main_is_the_benchmarked_one(tiny_model, batch):
    m1, m2 = tiny_model(1), tiny_model(2)
    r1 = vvshub.push(m1, "resnet18_w0.125_d10_cifar10", epoch=1, benchmarked=False, record=False)
    assert r1.revision == "ep1" and not r1.main
    with pytest.raises(NotPublishedError):  # only a tag: main does not exist yet
        vvshub.pull("resnet18_w0.125_d10_cifar10")
    r2 = vvshub.push(m2, "resnet18_w0.125_d10_cifar10", epoch=2, record=False)
    info = repo_info("resnet18_w0.125_d10_cifar10")
    assert info.revisions["main"] == info.revisions["ep2"] == r2.commit
    assert info.revisions["ep1"] == r1.commit
    assert torch.equal(vvshub.pull("resnet18_w0.125_d10_cifar10", "ep1")(batch), m1(batch))
    assert torch.equal(vvshub.pull("resnet18_w0.125_d10_cifar10")(batch), m2(batch))
    assert torch.equal(vvshub.pull("resnet18_w0.125_d10_cifar10", "ep2")(batch), m2(batch))
    with pytest.raises(NotPublishedError, match="revisions: ep1, ep2, main"):
        vvshub.pull("resnet18_w0.125_d10_cifar10", "ep7")


def test_repush_of_identical_model_is_a_noop(tiny_model):
    model = tiny_model(0)
    first = vvshub.push(model, "resnet18_w0.125_d10_cifar10", epoch=3, record=False)
    again = vvshub.push(model, "resnet18_w0.125_d10_cifar10", epoch=3, record=False)
    assert not first.noop and again.noop and again.commit == first.commit


def test_cache_key_separates_models_of_one_architecture(tiny_model, batch, vvshub_home):
    a, b = tiny_model(1), tiny_model(2)
    vvshub.push(a, "resnet18_w0.125_d10_cifar10", record=False)
    vvshub.push(b, "resnet18_w0.125_d30_cifar10", record=False)
    pa = vvshub.pull("resnet18_w0.125_d10_cifar10")
    pb = vvshub.pull("resnet18_w0.125_d30_cifar10")
    assert pa.hub_info.path != pb.hub_info.path
    assert torch.equal(pa(batch), a(batch)) and torch.equal(pb(batch), b(batch))
    assert not torch.equal(pa(batch), pb(batch))
    # the cache path carries repo, commit and sha256
    for p in (pa, pb):
        parts = Path(p.hub_info.path).parts
        assert parts[-2:] == (p.hub_info.commit, p.hub_info.sha256)
        assert parts[-3] == p.hub_info.repo_id.split("/")[1]
    # pulled again (from cache) they still differ
    assert torch.equal(vvshub.pull("resnet18_w0.125_d10_cifar10")(batch), a(batch))


@pytest.mark.parametrize("damage", ["flip", "truncate"])
def test_damaged_hub_weights_are_refused(tiny_model, lfs_object, damage):
    vvshub.push(tiny_model(0), "resnet18_w0.125_d10_cifar10", record=False)
    obj = lfs_object("vvshub/resnet18_w0.125_d10_cifar10")
    data = bytearray(obj.read_bytes())
    if damage == "flip":
        data[len(data) // 2] ^= 0x01
    else:
        data = data[: len(data) - 100]
    obj.write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match="sha256") as err:
        vvshub.pull("resnet18_w0.125_d10_cifar10")
    assert err.value.expected != err.value.actual


def test_damaged_cache_copy_is_fetched_again(tiny_model, batch, lfs_object):
    model = tiny_model(0)
    vvshub.push(model, "resnet18_w0.125_d10_cifar10", record=False)
    first = vvshub.pull("resnet18_w0.125_d10_cifar10")
    cached = Path(first.hub_info.path) / "model.safetensors"
    data = bytearray(cached.read_bytes())
    data[-10] ^= 0xFF
    cached.write_bytes(bytes(data))
    again = vvshub.pull("resnet18_w0.125_d10_cifar10")
    assert torch.equal(again(batch), model(batch))
    # hub copy damaged too: nothing good is left, so it fails loudly
    cached.write_bytes(bytes(data))
    obj = lfs_object("vvshub/resnet18_w0.125_d10_cifar10")
    obj.write_bytes(bytes(data))
    with pytest.raises(IntegrityError):
        vvshub.pull("resnet18_w0.125_d10_cifar10")


@pytest.mark.parametrize(
    "bad",
    [
        "../etc/passwd",
        "vvshub/../../x",
        "a/b/c",
        "vvshub/resnet18_d10/..",
        "..",
        "vvshub/-resnet18_d10",
        "org--x/resnet18_d10",
        "vvshub/resnet18_d10\x00",
        "vvshub\\resnet18_d10",
    ],
)
def test_bad_repo_ids_are_refused(bad):
    with pytest.raises((RepoIdError, ModelIdError)):
        repo_for(bad)


def test_repo_id_rules():
    assert parse_repo_id("lab/resnet18_w0.5_d30") == RepoRef("lab", "resnet18_w0.5_d30")
    with pytest.raises(RepoIdError, match="invalid repo name"):
        RepoRef("vvshub", "x..y")
    with pytest.raises(RepoIdError):
        RepoRef("vvshub", "name.git")
    # the study spelling maps to the short spelling, the study one where there is no short one
    assert repo_for("resnet18_imagenet_30_seed-0")[0].name == "resnet18_d30"
    assert repo_for("dino_resnet18_imagenet_full_seed-0")[0].name == (
        "dino_resnet18_imagenet_full_seed-0"
    )


def test_interrupted_publish_leaves_main_intact(tiny_model, batch, monkeypatch):
    old, new = tiny_model(1), tiny_model(2)
    vvshub.push(old, "resnet18_w0.125_d10_cifar10", record=False)
    from vvshub.hub import _git

    def crash(self, ref, new_commit, old_commit):
        raise KeyboardInterrupt("killed before main moved")

    with monkeypatch.context() as patch, pytest.raises(KeyboardInterrupt):
        patch.setattr(_git.LocalRepo, "set_ref", crash)
        vvshub.push(new, "resnet18_w0.125_d10_cifar10", record=False)
    assert torch.equal(vvshub.pull("resnet18_w0.125_d10_cifar10")(batch), old(batch))
    vvshub.push(new, "resnet18_w0.125_d10_cifar10", record=False)
    assert torch.equal(vvshub.pull("resnet18_w0.125_d10_cifar10")(batch), new(batch))


def test_crash_while_writing_weights_publishes_nothing(tiny_model, monkeypatch, vvshub_home):
    from vvshub.hub import _git

    def crash(self, *a, **k):
        raise OSError("disk full")

    with monkeypatch.context() as patch, pytest.raises(OSError):
        patch.setattr(_git.LocalRepo, "store_lfs", crash)
        vvshub.push(tiny_model(0), "resnet18_w0.125_d10_cifar10", record=False)
    assert LocalHub().resolve(RepoRef("vvshub", "resnet18_w0.125_d10_cifar10"), None) is None
    assert list((vvshub_home / "tmp").iterdir()) == []  # staging folders are cleaned up


def test_unpublished_model_names_closest_ids_and_train_command(tiny_model):
    vvshub.push(tiny_model(0), "resnet18_w0.125_d10_cifar10", record=False)
    with pytest.raises(NotPublishedError) as err:
        vvshub.pull("resnet18_w0.125_d30_cifar10")
    message = str(err.value)
    assert "resnet18_w0.125_d10_cifar10" in err.value.suggestions
    assert "resnet18_w0.125_d10_cifar10" in message
    assert err.value.train_command == (
        "vvshub train resnet18 --width 0.125 --samples-per-class 30 --dataset cifar10"
    )
    assert err.value.train_command in message
    assert isinstance(err.value, LookupError)


def test_push_a_folder_and_refuse_pickles(tiny_model, batch, tmp_path):
    model = tiny_model(0)
    vvshub.push(model, "resnet18_w0.125_d10_cifar10", record=False)
    download("resnet18_w0.125_d10_cifar10", to=tmp_path / "copy")
    result = vvshub.push(tmp_path / "copy", "resnet18_w0.125_d10_cifar10_s1", record=False)
    assert result.repo_id == "vvshub/resnet18_w0.125_d10_cifar10_s1"
    pulled = vvshub.pull("resnet18_w0.125_d10_cifar10_s1")
    assert torch.equal(pulled(batch), model(batch))
    assert pulled.vvshub_config["vvshub"]["seed"] == 1  # the id it is pushed under wins
    assert pulled.vvshub_config["vvshub"]["model_id"] == (
        "resnetflexfilters-f-1-16-20-19_cifar10_10_seed-1"
    )
    pickle = tmp_path / "ckpt.pt"
    torch.save(model.state_dict(), pickle)
    with pytest.raises(CheckpointError, match="never unpickles"):
        vvshub.push(pickle, "resnet18_w0.125_d10_cifar10")


def test_list_and_info(tiny_model):
    vvshub.push(tiny_model(0), "resnet18_w0.125_d10_cifar10", epoch=5, record=False)
    repos = list_repos()
    assert [r.repo_id for r in repos] == ["vvshub/resnet18_w0.125_d10_cifar10"]
    assert set(repos[0].revisions) == {"main", "ep5"}
    assert repos[0].config["vvshub"]["epoch"] == 5


def test_org_from_environment(tiny_model, monkeypatch):
    monkeypatch.setenv("VVSHUB_ORG", "mylab")
    result = vvshub.push(tiny_model(0), "resnet18_w0.125_d10_cifar10", record=False)
    assert result.repo_id == "mylab/resnet18_w0.125_d10_cifar10"
    assert vvshub.pull("resnet18_w0.125_d10_cifar10").hub_info.repo_id == result.repo_id


@pytest.mark.slow
def test_done_means_one_liner_on_a_fresh_home(tmp_path):
    code = (
        "import vvshub, timm; m = timm.create_model('resnet18', num_classes=10); "
        "vvshub.push(m, 'resnet18_d10_cifar10'); print(vvshub.pull('resnet18_d10_cifar10'))"
    )
    env = {**os.environ, "VVSHUB_HOME": str(tmp_path / "fresh"), "PYTHONPATH": str(REPO / "src")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("ResNet(")


def test_push_records_model_and_checkpoint_in_the_catalog(tiny_model, vvshub_home):
    from vvshub.catalog import open_catalog

    result = vvshub.push(
        tiny_model(0), "resnet18_w0.125_d10_cifar10", epoch=4, metadata={"n_epochs": 4}
    )
    assert result.recorded
    with open_catalog(vvshub_home / "catalog.duckdb") as cat:
        model = cat.query("SELECT * FROM models").to_dict(orient="records")
        ckpt = cat.query("SELECT * FROM checkpoints").to_dict(orient="records")
    assert model[0]["model_id"] == "resnetflexfilters-f-1-16-20-19_cifar10_10_seed-0"
    assert model[0]["short_id"] == "resnet18_w0.125_d10_cifar10"
    assert model[0]["hub_repo"] == "vvshub/resnet18_w0.125_d10_cifar10"
    assert model[0]["n_params"] == 241712 and model[0]["n_epochs"] == 4
    assert ckpt[0]["sha256"] == result.sha256 and ckpt[0]["revision"] == "ep4"
    assert ckpt[0]["size_bytes"] == result.size_bytes and ckpt[0]["is_benchmarked"]
