"""Fixtures of the hub tests: tiny zoo models and helpers to look inside the local hub."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

#: A 0.24M-parameter ResNet-18 of the study's width grid: small enough to push in milliseconds.
TINY_ARCH = "resnetflexfilters-f-1-16-20-19"


@pytest.fixture
def tiny_model():
    """A fresh seeded tiny zoo model with 10 classes (call it again for different weights)."""
    import torch

    from vvshub import zoo

    def make(seed: int = 0, arch: str = TINY_ARCH, num_classes: int = 10):
        torch.manual_seed(seed)
        return zoo.build(arch, num_classes=num_classes).eval()

    return make


@pytest.fixture
def batch():
    import torch

    return torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(0))


@pytest.fixture
def lfs_object(vvshub_home: Path):
    """``lfs_object(repo_id, revision="main")``: the LFS object of a local repo's weights."""
    from vvshub.hub._local import LocalHub
    from vvshub.hub._naming import parse_repo_id

    def find(repo_id: str, revision: str = "main") -> Path:
        hub = LocalHub(vvshub_home / "hub")
        ref = parse_repo_id(repo_id)
        return hub.repo(ref).lfs_path(hub.resolve(ref, revision).sha256)

    return find


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def free_port():
    """``free_port()``: a TCP port on 127.0.0.1 that nothing listens on right now."""
    return _free_port
