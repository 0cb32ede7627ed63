"""The hub's commands: thin wrappers, --json everywhere, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

import vvshub


@pytest.fixture
def published(tiny_model):
    model = tiny_model(0)
    vvshub.push(model, "resnet18_w0.125_d10_cifar10", epoch=1, benchmarked=False)
    vvshub.push(model, "resnet18_w0.125_d10_cifar10", epoch=2)
    return model


def test_pull_json_reports_the_verified_revision(cli, published):
    res = cli("pull", "resnet18_w0.125_d10_cifar10", "--revision", "ep1", "--json")
    assert res.code == 0, res.err
    out = res.json()
    assert out["repo_id"] == "vvshub/resnet18_w0.125_d10_cifar10"
    assert out["revision"] == "ep1" and len(out["sha256"]) == 64
    assert out["architecture"] == "resnet_flex" and out["num_classes"] == 10


def test_pull_to_dir_then_push_the_folder(cli, published, tmp_path, batch):
    res = cli("pull", "resnet18_w0.125_d10_cifar10", "--to", str(tmp_path / "d"), "--json")
    assert res.code == 0, res.err
    assert {p.name for p in (tmp_path / "d").iterdir()} == {
        "README.md",
        "config.json",
        "model.safetensors",
    }
    res = cli("push", str(tmp_path / "d"), "--model-id", "resnet18_w0.125_d10_cifar10_s3", "--json")
    assert res.code == 0, res.err
    assert res.json()["repo_id"] == "vvshub/resnet18_w0.125_d10_cifar10_s3"
    assert torch.equal(vvshub.pull("resnet18_w0.125_d10_cifar10_s3")(batch), published(batch))


def test_hub_ls_and_info_json(cli, published):
    res = cli("hub", "ls", "--json")
    assert res.code == 0, res.err
    (repo,) = res.json()
    assert repo["repo_id"] == "vvshub/resnet18_w0.125_d10_cifar10"
    assert set(repo["revisions"]) == {"main", "ep1", "ep2"}
    res = cli("hub", "info", "resnetflexfilters-f-1-16-20-19_cifar10_10_seed-0", "--json")
    assert res.code == 0, res.err
    info = res.json()
    assert info["revisions"]["main"] == info["revisions"]["ep2"] == info["commit"]
    assert info["config"]["vvshub"]["epoch"] == 2
    assert (
        cli("hub", "ls").code == 0 and cli("hub", "info", "resnet18_w0.125_d10_cifar10").code == 0
    )


def test_unpublished_model_is_one_line_error(cli, published):
    res = cli("pull", "resnet18_w0.125_d30_cifar10")
    assert res.code == 1
    first = res.err.strip().splitlines()[0]
    assert "resnet18_w0.125_d30_cifar10" in first and "closest published" in first
    assert "vvshub train resnet18 --width 0.125 --samples-per-class 30" in res.err
    assert "Traceback" not in res.err


def test_bad_repo_id_is_one_line_error(cli):
    res = cli("pull", "../../etc/passwd")
    assert res.code == 1 and "Traceback" not in res.err
    assert "invalid" in res.err


def test_refresh_cards_json(cli, published):
    res = cli("hub", "refresh-cards", "--json")
    assert res.code == 0, res.err
    (row,) = res.json()
    assert row["noop"]  # no new scores: the card is unchanged, no commit


def test_convert_reference_json(cli, tmp_path, tiny_model):
    from vvshub import zoo

    torch.manual_seed(0)
    sd = zoo.build("resnetflexfilters-f-1-16-20-19").state_dict()
    path = tmp_path / "ep7.pt"
    torch.save({"state": {"model": {f"module.{k}": v for k, v in sd.items()}}}, path)
    res = cli(
        "hub",
        "convert-reference",
        str(path),
        "--model-id",
        "resnetflexfilters-f-1-16-20-19_imagenet_full_seed-0",
        "--json",
    )
    assert res.code == 0, res.err
    out = res.json()
    assert out["epoch"] == 7 and out["weights_key"] == "state.model"
    assert out["push"]["repo_id"] == "vvshub/resnet18_w0.125_dfull"
    assert out["push"]["revision"] == "ep7"


def test_publish_reference_reports_failures_with_exit_code(
    cli, reference_catalog, monkeypatch, free_port
):
    monkeypatch.setenv("VVSHUB_CHECKPOINT_MIRROR", f"http://127.0.0.1:{free_port()}")
    res = cli(
        "hub",
        "publish-reference",
        "--where",
        "c.model_id = 'resnetflexfilters-f-1-16-20-19_imagenet_full_seed-0'",
        "--attempts",
        "1",
        "--json",
    )
    assert res.code == 1
    out = json.loads(res.out)
    assert out["done"] == 0 and out["failed"] == 1
    assert "download" in out["failures"][0]["error"]


def test_cli_module_imports_nothing_heavy():
    import subprocess
    import sys

    code = (
        "import sys, vvshub.cli.hub; "
        "print(sorted(m for m in ('torch', 'timm', 'duckdb', 'huggingface_hub') if m in sys.modules))"
    )
    src = Path(__file__).resolve().parents[2] / "src"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin"},
    )
    assert out.stdout.strip() == "[]", out.stderr
