"""``vvshub hub serve``: olah serves the local hub to huggingface_hub, timm and vvshub's hf:// source.

huggingface_hub reads HF_ENDPOINT / HF_HUB_OFFLINE / HF_HUB_CACHE at import, so every
client runs in a subprocess with its own environment.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import vvshub
from vvshub.hub._serve import serve

REPO = Path(__file__).resolve().parents[2]
NAME = "test_resnet_d10_cifar10"
REPO_ID = f"vvshub/{NAME}"

_CLIENT = """
import hashlib, json, sys
import huggingface_hub as hf
import safetensors.torch as st
import timm

def digest(sd):
    h = hashlib.sha256()
    for k in sorted(sd):
        h.update(k.encode()); h.update(sd[k].detach().contiguous().numpy().tobytes())
    return h.hexdigest()

repo, out = sys.argv[1], {}
path = hf.hf_hub_download(repo, "model.safetensors", revision="ep1")
out["hf_ep1"] = digest(st.load_file(path))
out["hf_main"] = digest(st.load_file(hf.hf_hub_download(repo, "model.safetensors")))
out["timm_ep1"] = digest(timm.create_model(f"hf-hub:{repo}@ep1", pretrained=True).state_dict())
out["timm_main"] = digest(timm.create_model(f"hf-hub:{repo}", pretrained=True).state_dict())
if sys.argv[2] == "vvshub":
    import vvshub
    out["vvshub_ep1"] = digest(vvshub.pull(repo, "ep1", source="hf://vvshub").state_dict())
print(json.dumps(out))
"""


def _digest(model: torch.nn.Module) -> str:
    h = hashlib.sha256()
    sd = model.state_dict()
    for k in sorted(sd):
        h.update(k.encode())
        h.update(sd[k].detach().contiguous().numpy().tobytes())
    return h.hexdigest()


def _client(env: dict[str, str], *, with_vvshub: bool) -> dict[str, str]:
    out = subprocess.run(
        [sys.executable, "-c", _CLIENT, REPO_ID, "vvshub" if with_vvshub else "plain"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_olah_serves_identical_weights_then_the_cache_works_offline(tmp_path, vvshub_home):
    import timm

    torch.manual_seed(1)
    ep1 = timm.create_model("test_resnet", num_classes=10)
    torch.manual_seed(2)
    ep2 = timm.create_model("test_resnet", num_classes=10)
    vvshub.push(ep1, NAME, epoch=1, benchmarked=False, record=False)
    vvshub.push(ep2, NAME, epoch=2, record=False)
    want = {
        "ep1": _digest(vvshub.pull(NAME, "ep1")),
        "main": _digest(vvshub.pull(NAME)),
    }
    assert want["ep1"] == _digest(ep1) and want["main"] == _digest(ep2)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")} | {
        "HF_HUB_CACHE": str(tmp_path / "hf-cache"),
        "HF_HUB_DISABLE_XET": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "PYTHONPATH": str(REPO / "src"),
        "VVSHUB_HOME": str(tmp_path / "client-home"),  # the client has its own, empty, home
    }
    with serve() as server:
        assert server.url.startswith("http://127.0.0.1:")
        online = _client(env | {"HF_ENDPOINT": server.url}, with_vvshub=True)
    assert server.process.poll() is not None  # stopped
    assert online["hf_ep1"] == online["timm_ep1"] == online["vvshub_ep1"] == want["ep1"]
    assert online["hf_main"] == online["timm_main"] == want["main"]
    # the server is gone: the same calls succeed from the caches alone
    offline = _client(env | {"HF_ENDPOINT": server.url, "HF_HUB_OFFLINE": "1"}, with_vvshub=True)
    assert offline == online
