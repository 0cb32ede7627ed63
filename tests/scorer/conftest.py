"""Fixtures of the scorer's tests: a tiny network, brainio-format benchmarks on disk, CIFAR-10."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]


def _cifar_zip() -> Path:
    env = os.environ.get("VVSHUB_CIFAR10_ZIP")
    if env:
        return Path(env)
    for root in (REPO.parent / "shared", Path("/work/shared")):
        path = root / "data" / "cifar10" / "cifar10_jpg.zip"
        if path.exists():
            return path
    return REPO.parent / "shared" / "data" / "cifar10" / "cifar10_jpg.zip"


@pytest.fixture
def cifar_zip(monkeypatch: pytest.MonkeyPatch) -> Path:
    """The CIFAR-10 JPEG zip (../shared/data/cifar10), exported as VVSHUB_CIFAR10_ZIP."""
    path = _cifar_zip()
    if not path.exists():
        pytest.fail(f"CIFAR-10 zip not found at {path}; set VVSHUB_CIFAR10_ZIP")
    monkeypatch.setenv("VVSHUB_CIFAR10_ZIP", str(path))
    return path


def make_tiny_net(seed: int = 0):
    """Three numbered conv blocks and a linear classifier: candidate layers blocks.0-2."""
    import torch
    from torch import nn

    class Block(nn.Module):
        def __init__(self, cin: int, cout: int) -> None:
            super().__init__()
            self.conv = nn.Conv2d(cin, cout, 3, stride=2, padding=1)
            self.act = nn.ReLU()
            self.pool = nn.AdaptiveAvgPool2d(4)

        def forward(self, x):
            return self.act(self.conv(x))

    class Tiny(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.stem = nn.Conv2d(3, 4, 7, stride=8, padding=3)
            self.blocks = nn.Sequential(Block(4, 8), Block(8, 12), Block(12, 16))
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(16, 5)

        def forward(self, x):
            x = self.blocks(self.stem(x))
            return self.fc(self.pool(x).flatten(1))

    torch.manual_seed(seed)
    return Tiny().eval()


@pytest.fixture
def tiny_net():
    return make_tiny_net()


def png_bytes(rng: np.random.Generator, size: int = 32) -> bytes:
    from PIL import Image

    # Smooth random images: low-frequency noise upsampled, so conv features vary a lot.
    small = rng.integers(0, 256, size=(4, 4, 3), dtype=np.uint8)
    img = Image.fromarray(small).resize((size, size), Image.BILINEAR)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def write_brainio(
    root: Path,
    *,
    model,
    layer: str,
    region: str = "IT",
    n_stimuli: int = 80,
    n_objects: int = 8,
    n_neuroids: int = 30,
    n_reps: int = 4,
    noise: float = 0.3,
    seed: int = 0,
    drop_file: str | None = None,
) -> dict:
    """Write a MajajHong2015-layout benchmark whose responses are a linear map of ``layer``.

    Files land where Brain-Score 2.4.2 keeps them: ``root/<sha1>/assy_dicarlo_MajajHong2015_public.nc``,
    ``root/<sha1>/stimulus_hvm-public.csv`` and ``.zip``.
    """
    import pandas as pd
    import xarray as xr

    from vvshub.scorer import StimulusSet, extract
    from vvshub.scorer._brainio import ASSEMBLIES

    spec = ASSEMBLIES["MajajHong2015"]
    rng = np.random.default_rng(seed)
    ids = [f"img{i:03d}" for i in range(n_stimuli)]
    blobs = [png_bytes(rng) for _ in ids]
    objects = [f"obj{i % n_objects}" for i in range(n_stimuli)]
    stimuli = StimulusSet(name="t", stimulus_ids=tuple(ids), load=lambda i: blobs[i])
    feats = extract(model, stimuli, [layer])[layer].astype(np.float64)
    feats = (feats - feats.mean(0)) / (feats.std(0) + 1e-6)
    signal = feats @ rng.normal(size=(feats.shape[1], n_neuroids))
    signal = (signal - signal.mean(0)) / signal.std(0)
    other = rng.normal(size=(n_stimuli, 5))  # neuroids of another region, ignored
    pres_ids, reps, rows = [], [], []
    for r in range(n_reps):
        for i in range(n_stimuli):
            pres_ids.append(ids[i])
            reps.append(r)
            rows.append(
                np.concatenate([signal[i], other[i]]) + noise * rng.normal(size=n_neuroids + 5)
            )
    data = np.asarray(rows)[:, :, None]
    da = xr.DataArray(
        data,
        dims=("presentation", "neuroid", "time_bin"),
        coords={
            "stimulus_id": ("presentation", pres_ids),
            "repetition": ("presentation", reps),
            "object_name": ("presentation", [objects[ids.index(s)] for s in pres_ids]),
            "neuroid_id": ("neuroid", [f"n{j}" for j in range(n_neuroids + 5)]),
            "region": ("neuroid", [region] * n_neuroids + ["V4"] * 5),
            "time_bin_start": ("time_bin", [70]),
            "time_bin_end": ("time_bin", [170]),
        },
        attrs={"synthetic": "true"},
    )
    files = {}
    folder = root / spec.sha1
    folder.mkdir(parents=True, exist_ok=True)
    files["nc"] = folder / spec.filename
    da.to_netcdf(files["nc"])
    sfolder = root / spec.stimuli.csv_sha1
    sfolder.mkdir(parents=True, exist_ok=True)
    files["csv"] = sfolder / spec.stimuli.csv_name
    pd.DataFrame(
        {"stimulus_id": ids, "filename": [f"{s}.png" for s in ids], "object_name": objects}
    ).to_csv(files["csv"], index=False)
    zfolder = root / spec.stimuli.zip_sha1
    zfolder.mkdir(parents=True, exist_ok=True)
    files["zip"] = zfolder / spec.stimuli.zip_name
    with zipfile.ZipFile(files["zip"], "w") as zf:
        for s, b in zip(ids, blobs, strict=True):
            zf.writestr(f"{s}.png", b)
    if drop_file:
        files[drop_file].unlink()
    return files
