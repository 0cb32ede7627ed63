"""The study's zoo: convert Composer checkpoints, publish them in bulk from a loopback server."""

from __future__ import annotations

import http.server
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest
import torch

import vvshub
from vvshub.errors import CheckpointError, UnsafeCheckpointError
from vvshub.hub._reference import STUDY_CHECKPOINT_BASE, convert_reference, publish_reference

FLEX = "resnetflexfilters-f-1-16-20-19_imagenet_full_seed-0"
CONVNEXT = "convnextflex-l-3_imagenet_full_seed-0"
DEIT = "deitflex-l-3_imagenet_full_seed-0"
ECOSET = "resnetflexfilters-f-1-16-20-19_ecoset_full_seed-0"


def composer(model_sd: dict, *, ema_sd: dict | None = None) -> dict:
    """A checkpoint in the study's Composer layout (DDP's ``module.`` prefix, optimizer state)."""
    state = {
        "model": {f"module.{k}": v.clone() for k, v in model_sd.items()},
        "optimizers": {"SGD": {"state": {0: {"momentum_buffer": torch.zeros(3)}}, "lr": 0.1}},
        "timestamp": {"epoch": 100, "batch": 250},
        "run_name": "study",
    }
    if ema_sd is not None:
        state["model_ema_state_dict"] = {f"module.{k}": v.clone() for k, v in ema_sd.items()}
    return {"state": state, "rng": [{"torch": torch.get_rng_state()}]}


def _perturbed(sd: dict) -> dict:
    return {k: (v + 0.5 if v.is_floating_point() else v) for k, v in sd.items()}


def study_checkpoint(
    model_id: str, arch: str, num_classes: int, seed: int = 0
) -> tuple[dict, dict]:
    """(checkpoint, the state dict of the weights the study evaluated), in the study's layout."""
    from torchvision.models.convnext import CNBlockConfig, ConvNeXt

    from vvshub import zoo

    torch.manual_seed(seed)
    if arch.startswith("convnextflex"):
        dims, depths = zoo.recipe(arch).model_args["dims"], [3, 3, 9, 3]
        setting = [
            CNBlockConfig(dims[i], dims[i + 1] if i < 3 else None, depths[i]) for i in range(4)
        ]
        evaluated = ConvNeXt(setting, num_classes=num_classes).state_dict()
        return composer(_perturbed(evaluated), ema_sd=evaluated), evaluated
    evaluated = zoo.build(arch, num_classes=num_classes).state_dict()
    if arch.startswith("deitflex"):
        return composer(_perturbed(evaluated), ema_sd=evaluated), evaluated
    return composer(evaluated), evaluated


class StudyServer:
    """Serves files under the study's URL paths on 127.0.0.1; can fail some requests first."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.fail: dict[str, list[int]] = {}  # path -> statuses to answer before succeeding
        self.requests: list[str] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append(self.path)
                queue = server.fail.get(self.path)
                if queue:
                    status = queue.pop(0)
                    self.send_response(status)
                    if status == 429:
                        self.send_header("Retry-After", "0")
                    self.end_headers()
                    return
                file = server.root / self.path.lstrip("/")
                if not file.is_file():
                    self.send_response(404)
                    self.end_headers()
                    return
                data = file.read_bytes()
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def put(self, url: str, checkpoint: dict) -> str:
        path = urlparse(url).path
        dest = self.root / path.lstrip("/")
        dest.parent.mkdir(parents=True, exist_ok=True)
        torch.save(checkpoint, dest)
        return path

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def study(tmp_path, monkeypatch, reference_catalog):
    server = StudyServer(tmp_path / "bucket")
    monkeypatch.setenv("VVSHUB_CHECKPOINT_MIRROR", server.url)
    yield server
    server.stop()


def _rows(catalog: Path, where: str) -> list[dict]:
    from vvshub.catalog import open_catalog

    with open_catalog(catalog) as cat:
        return cat.query(
            f"SELECT model_id, epoch, url, arch, is_benchmarked FROM checkpoints WHERE {where} "
            "ORDER BY model_id, epoch"
        ).to_dict(orient="records")


def _logits(model: torch.nn.Module) -> torch.Tensor:
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        return model.eval()(x)


@pytest.mark.slow
def test_convert_resnet18_logits_equal_the_study_module(tmp_path):
    import torchvision

    torch.manual_seed(0)
    source = torchvision.models.resnet18(num_classes=1000).eval()
    path = tmp_path / "ep100.pt"
    torch.save(composer(source.state_dict()), path)
    result = convert_reference(path, model_id="resnet18_imagenet_1_seed-0", record=False)
    assert result["weights_key"] == "state.model"
    assert result["logits_checked"] and result["max_abs_diff"] < 1e-5
    assert result["epoch"] == 100 and result["push"]["repo_id"] == "vvshub/resnet18_d1"
    pulled = vvshub.pull("resnet18_imagenet_1_seed-0", "ep100")
    assert torch.allclose(_logits(pulled), _logits(source), atol=1e-5)


def test_convert_convnext_uses_ema_weights_and_matches_torchvision(tmp_path):
    checkpoint, evaluated = study_checkpoint(CONVNEXT, "convnextflex-l-3", 1000)
    path = tmp_path / "ep300.pt"
    torch.save(checkpoint, path)
    result = convert_reference(path, model_id=CONVNEXT, out=tmp_path / "repo", record=False)
    assert result["weights_key"] == "state.model_ema_state_dict"
    assert result["logits_checked"] and result["max_abs_diff"] < 1e-4
    from safetensors.torch import load_file

    from vvshub import zoo

    got = load_file(tmp_path / "repo" / "model.safetensors")
    want = zoo.from_study_state_dict("convnextflex-l-3", evaluated)  # EMA, not state.model
    assert got.keys() == want.keys()
    assert all(torch.equal(got[k], want[k]) for k in want)


def test_pickled_objects_are_refused(tmp_path):
    import argparse

    path = tmp_path / "ep1.pt"  # any class outside torch's allow-list needs full unpickling
    torch.save({"state": {"model": {}}, "hparams": argparse.Namespace(lr=0.1)}, path)
    with pytest.raises(UnsafeCheckpointError, match=r"weights_only=True"):
        convert_reference(path, model_id="resnet18_imagenet_1_seed-0", record=False)


def test_not_the_study_layout_is_refused(tmp_path):
    path = tmp_path / "ep1.pt"
    torch.save({"weights": torch.zeros(1)}, path)
    with pytest.raises(CheckpointError, match="Composer layout"):
        convert_reference(path, model_id="resnet18_imagenet_1_seed-0", record=False)


@pytest.mark.slow
def test_publish_reference_converts_a_handful_and_rerun_does_nothing(study, reference_catalog):
    rows = _rows(
        reference_catalog,
        f"model_id IN ('{CONVNEXT}', '{DEIT}', '{ECOSET}') AND is_benchmarked",
    ) + _rows(reference_catalog, f"model_id = '{FLEX}' AND (epoch <= 2 OR is_benchmarked)")
    assert len(rows) == 6
    expected = {}
    for row in rows:
        assert row["url"].startswith(STUDY_CHECKPOINT_BASE + "/checkpoints/")
        classes = 565 if "_ecoset_" in row["model_id"] else 1000
        ckpt, evaluated = study_checkpoint(row["model_id"], row["arch"], classes, row["epoch"])
        study.put(row["url"], ckpt)
        expected[(row["model_id"], row["epoch"])] = evaluated
    # transient failures are retried: a 503, then a 429 with Retry-After
    study.fail[urlparse(rows[0]["url"]).path] = [503, 429]
    where = (
        f"(c.model_id IN ('{CONVNEXT}', '{DEIT}', '{ECOSET}') AND c.is_benchmarked) "
        f"OR (c.model_id = '{FLEX}' AND (c.epoch <= 2 OR c.is_benchmarked))"
    )
    summary = publish_reference(where=where, epochs="all", workers=2)
    assert summary.failed == [], summary.failed
    assert sorted(summary.done) == sorted(expected)
    assert study.requests.count(urlparse(rows[0]["url"]).path) == 3

    # the published weights are the evaluated ones (EMA for ConvNeXt/DeiT), renamed to timm
    from vvshub import zoo

    for (model_id, epoch), evaluated in expected.items():
        pulled = vvshub.pull(model_id, f"ep{epoch}")
        arch = pulled.vvshub_config["vvshub"]["arch"]
        want = zoo.from_study_state_dict(arch, evaluated)
        got = pulled.state_dict()
        assert all(torch.equal(got[k], want[k]) for k in want), model_id
    flex = vvshub.pull(FLEX)  # main is the benchmarked epoch
    assert flex.hub_info.commit == vvshub.pull(FLEX, "ep100").hub_info.commit
    assert vvshub.pull(ECOSET).num_classes == 565
    assert vvshub.pull(FLEX).vvshub_config["vvshub"]["n_epochs"] == 100  # from the catalog

    from vvshub.catalog import open_catalog

    with open_catalog(reference_catalog) as cat:
        recorded = cat.query(
            f"SELECT model_id, epoch, sha256, hub_repo, revision FROM checkpoints "
            f"WHERE model_id = '{FLEX}' AND sha256 IS NOT NULL ORDER BY epoch"
        )
    assert recorded["epoch"].tolist() == [1, 2, 100]
    assert recorded["revision"].tolist() == ["ep1", "ep2", "ep100"]
    assert set(recorded["hub_repo"]) == {"vvshub/resnet18_w0.125_dfull"}
    assert recorded["sha256"].iloc[-1] == flex.hub_info.sha256

    n_requests = len(study.requests)
    again = publish_reference(where=where, epochs="all", workers=2)
    assert again.done == [] and again.failed == []
    assert sorted(again.skipped) == sorted(expected)
    assert len(study.requests) == n_requests  # nothing downloaded


def test_publish_reference_reports_failures_and_retries_them(study, reference_catalog):
    (row,) = _rows(reference_catalog, f"model_id = '{FLEX}' AND is_benchmarked")
    where = f"c.model_id = '{FLEX}'"
    first = publish_reference(where=where)
    assert first.done == [] and len(first.failed) == 1
    assert "HTTP 404" in first.failed[0][2]
    ckpt, _ = study_checkpoint(FLEX, row["arch"], 1000)
    study.put(row["url"], ckpt)
    second = publish_reference(where=where)
    assert second.done == [(FLEX, row["epoch"])] and second.failed == []


def test_pull_of_a_study_model_converts_it_on_demand(study, reference_catalog):
    (row,) = _rows(reference_catalog, f"model_id = '{FLEX}' AND is_benchmarked")
    ckpt, evaluated = study_checkpoint(FLEX, row["arch"], 1000, seed=5)
    study.put(row["url"], ckpt)
    model = vvshub.pull("resnet18_w0.125_dfull")  # the short spelling of FLEX
    assert model.hub_info.repo_id == "vvshub/resnet18_w0.125_dfull"
    assert all(torch.equal(model.state_dict()[k], v) for k, v in evaluated.items())
