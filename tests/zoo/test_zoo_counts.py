"""The study's trained grid: every architecture's n_params and MACs against the published CSV."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from vvshub import zoo

_FLAGS = ("is_pretrained", "is_random", "is_ssl", "is_adv", "is_ablation")


def _grid(reference_dir: Path) -> dict[str, tuple[int, int, float]]:
    """arch -> (n_params, macs, flops) of the non-pretrained/random/SSL/adversarial/ablation rows."""
    rows: dict[str, tuple[int, int, float]] = {}
    with (reference_dir / "benchmark_scores.csv").open(newline="") as f:
        for row in csv.DictReader(f):
            if any(row[flag] == "True" for flag in _FLAGS) or not row["n_params"]:
                continue
            value = (int(float(row["n_params"])), int(float(row["macs"])), float(row["flops"]))
            previous = rows.setdefault(row["arch"], value)
            assert previous == value, f"{row['arch']}: inconsistent counts in the CSV"
    return rows


@pytest.fixture(scope="module")
def grid(reference_dir: Path) -> dict[str, tuple[int, int, float]]:
    return _grid(reference_dir)


def _archs() -> list[str]:
    # Collection-time twin of the ``reference_dir`` fixture (which fails loudly when it is missing).
    repo = Path(__file__).resolve().parents[2]
    reference = Path(
        os.environ.get("VVSHUB_REFERENCE_DIR", repo.parent / "shared" / "data" / "reference")
    )
    return sorted(_grid(reference)) if (reference / "benchmark_scores.csv").exists() else []


def test_grid_has_sixty_architectures(grid):
    assert len(grid) == 60
    assert set(grid) == set(zoo.list_archs())


@pytest.mark.parametrize("arch", _archs())
def test_counts_equal_the_study(arch, grid):
    n_params, macs, flops = grid[arch]
    c = zoo.count(arch)
    assert c.n_params == n_params
    assert c.macs == macs  # exact; the issue allows 0.5 %
    assert c.flops == 2 * c.macs == flops
    assert c.convention == zoo.CONVENTION


def test_count_of_a_real_model_equals_the_meta_count():
    model = zoo.build("resnetflexfilters-f-1-16-20-19")
    model.train()
    before = [t.clone() for t in model.buffers()]
    assert zoo.count(model, 224) == zoo.count("resnetflexfilters-f-1-16-20-19")
    assert model.training  # mode restored
    # batch-norm statistics untouched
    assert all(a.equal(b) for a, b in zip(before, model.buffers(), strict=True))


def test_macs_scale_with_image_area():
    small, large = zoo.count("resnet18", 112), zoo.count("resnet18", 224)
    assert small.n_params == large.n_params
    assert 3.5 < large.macs / small.macs < 4.5
    assert small.image_size == 112


def test_efficientnets_count_at_torchvision_resolutions():
    # The study's EfficientNet-B1/B2 MACs are those of 240 and 288 pixel inputs.
    assert zoo.arch_info("efficientnet_b1").input_size == 240
    assert zoo.arch_info("efficientnet_b2").input_size == 288
    assert zoo.count("efficientnet_b2", 224).macs < zoo.count("efficientnet_b2").macs


def test_train_flops():
    assert zoo.train_flops(10.0, 7) == 210.0
    assert zoo.train_flops(10.0, 7, method="simclr") == 420.0
    assert zoo.train_flops(10.0, 7, method="adversarial") == 420.0
    with pytest.raises(ValueError, match="method"):
        zoo.train_flops(10.0, 7, method="byol")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        zoo.train_flops(-1.0, 7)


def test_train_flops_matches_the_csv(reference_dir: Path):
    # total_flops = 3 * flops * n_samples_seen for supervised rows of the grid.
    with (reference_dir / "benchmark_scores.csv").open(newline="") as f:
        rows = [
            r
            for r in csv.DictReader(f)
            if r["arch"] == "resnet18" and r["is_pretrained"] == "False"
        ]
    checked = 0
    for r in rows:
        if (
            r["total_flops"]
            and r["is_ssl"] == "False"
            and r["is_adv"] == "False"
            and r["is_random"] == "False"
        ):
            expected = float(r["total_flops"])
            got = zoo.train_flops(float(r["flops"]), float(r["n_samples_seen"]))
            assert got == pytest.approx(expected, rel=1e-12)
            checked += 1
    assert checked > 10
