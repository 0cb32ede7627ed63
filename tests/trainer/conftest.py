"""Fixtures for the trainer: tiny image data sets built on the fly, and the CIFAR-10 zip."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _cifar_default() -> Path:
    local = REPO.parent / "shared" / "data" / "cifar10" / "cifar10_jpg.zip"
    return local if local.exists() else Path("/work/shared/data/cifar10/cifar10_jpg.zip")


#: The CIFAR-10 zip, read in place (never copied into the repo).
CIFAR10_ZIP = Path(os.environ.get("VVSHUB_CIFAR10_ZIP", str(_cifar_default())))


@pytest.fixture(autouse=True)
def _one_thread():
    """Two cores shared by many processes: one torch thread is several times faster here."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def cifar10_zip() -> Path:
    if not CIFAR10_ZIP.exists():
        pytest.fail(f"CIFAR-10 zip not found at {CIFAR10_ZIP}; set VVSHUB_CIFAR10_ZIP")
    return CIFAR10_ZIP


def image_bytes(label: int, index: int = 0, size: int = 12, fmt: str = "PNG") -> bytes:
    """A small deterministic RGB image: a colour set by ``label``, noise set by ``index``."""
    import numpy as np
    from PIL import Image

    base = np.random.default_rng(label).integers(0, 255, size=3)
    noise = np.random.default_rng([label, index]).integers(-20, 20, size=(size, size, 3))
    pixels = np.clip(base + noise, 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format=fmt)
    return buf.getvalue()


def make_zip(
    path: Path,
    counts: dict[str, int],
    *,
    val_per_class: int = 3,
    val_name: str = "val",
    corrupt: tuple[str, ...] = (),
    size: int = 12,
) -> Path:
    """A zip of ``train/<class>/<i>.png`` and ``{val_name}/<class>/<i>.png``.

    Class ``k`` images are tinted by class so a model can learn them. Members named in
    ``corrupt`` hold garbage bytes.
    """
    with zipfile.ZipFile(path, "w") as zf:
        for k, (name, n) in enumerate(sorted(counts.items())):
            for split, m in (("train", n), (val_name, val_per_class)):
                for i in range(m):
                    member = f"{split}/{name}/{i:04d}.png"
                    data = b"not an image" if member in corrupt else image_bytes(k, i, size)
                    zf.writestr(member, data)
    return path


@pytest.fixture
def tiny_zip(tmp_path: Path) -> Path:
    """Three classes of 12 train / 3 val images, 12x12 PNG."""
    return make_zip(tmp_path / "tiny.zip", {"cat": 12, "dog": 12, "fox": 12})
