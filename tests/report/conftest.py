"""A catalog holding the study and a small mini zoo that vvshub 'trained' and scored."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

WIDTHS = (0.25, 0.5, 1.0)
SPC = (10, 30, 100)
REGIONS = ("V1", "V2", "V4", "IT", "Behavioral")


def mini_zoo_records():
    from vvshub.catalog import (
        BenchmarkRecord,
        EpochMetrics,
        ModelRecord,
        ScoreRecord,
        TrainingRunRecord,
    )

    benches = [
        BenchmarkRecord(
            benchmark=f"vvshub.synthetic.{r}",
            region=r,
            source="synthetic",
            metric="i2n" if r == "Behavioral" else "pls",
            version="1",
            ceiling_method="split-half",
            normalisation="ratio_squared",
            suite="synthetic",
        )
        for r in REGIONS
    ]
    models, runs, scores = [], [], []
    for w in WIDTHS:
        for d in SPC:
            mid = f"resnet18_w{w:g}_d{d}_cifar10"
            seen = d * 10 * 4
            flops = 2 * 3.5e7 * w * w
            models.append(
                ModelRecord(
                    model_id=mid,
                    arch=f"resnet18_w{w:g}",
                    samples_per_class=d,
                    dataset="cifar10",
                    width=w,
                    n_samples=d * 10,
                    n_epochs=4,
                    n_samples_seen=seen,
                    n_params=int(11e6 * w * w),
                    flops=flops,
                    total_flops=3 * flops * seen,
                    acc=0.1 + 0.05 * w + 0.002 * d,
                    hub_repo=f"vvshub/{mid}",
                )
            )
            sha = hashlib.sha256(mid.encode()).hexdigest()
            runs.append(
                TrainingRunRecord(
                    run_id=f"run-{mid}",
                    model_id=mid,
                    config={"epochs": 4},
                    manifest_sha256=sha,
                    device="cpu",
                    wall_time_s=3.0,
                    epochs=(EpochMetrics(epoch=1, acc=0.1),),
                )
            )
            for r in REGIONS:
                s = 0.45 - 0.2 * (seen / 400 * (1 + w) / 2) ** -0.3
                scores.append(
                    ScoreRecord(
                        model_id=mid,
                        benchmark=f"vvshub.synthetic.{r}",
                        region=r,
                        score=max(0.0, s),
                        raw_score=0.5,
                        ceiling=0.8,
                        normalisation="ratio_squared",
                        suite="synthetic",
                        layer="layer3",
                        scorer_version="test",
                    )
                )
    return benches, models, runs, scores


@pytest.fixture
def zoo_catalog(reference_catalog: Path) -> Path:
    from vvshub.catalog import write_records

    benches, models, runs, scores = mini_zoo_records()
    write_records([*benches, *models, *runs, *scores], catalog=reference_catalog)
    return reference_catalog
