"""The study's facts in vvshub.study, checked against the study's published files and numpy."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from vvshub import study
from vvshub.errors import VariantError


@pytest.fixture(scope="module")
def rows(reference_dir: Path) -> list[dict[str, str]]:
    with (reference_dir / "benchmark_scores.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


def _numpy_widths(key: str, k: int) -> tuple[int, ...]:
    """DESIGN.md section 4's formulas, written with numpy as the study wrote them."""
    if key == "f":
        return tuple(
            int(x) for x in (np.array([128, 128, 256, 512, 1024]) / 16 ** (k / 19)).astype(int)
        )
    if key == "wr":
        d = np.geomspace(1, 2, 4)[k]
        return tuple(int(x) for x in np.round(np.array([64, 64, 128, 256, 512]) * 4 / d / 8) * 8)
    d = np.geomspace(1, 8, 5)[k + 1]
    if key == "convnext":
        return tuple(int(x) for x in np.round(np.array([96, 192, 384, 768]) / d / 8) * 8)
    return (int(np.round(384 / d / 6) * 6),)


@pytest.mark.parametrize(
    ("key", "k"), [(key, k) for key, s in study.SCHEMES.items() for k in s.indices]
)
def test_pure_python_widths_equal_the_numpy_formulas(key: str, k: int) -> None:
    assert study.study_widths(key, k) == _numpy_widths(key, k)


def test_scheme_widths_at_known_points() -> None:
    assert study.study_widths("f", 0) == (128, 128, 256, 512, 1024)
    assert study.study_widths("wr", 2) == (
        160,
        160,
        320,
        648,
        1288,
    )  # 2048 / 2**(2/3) = 1290.2 -> 161 * 8
    assert study.scheme_width("f", 0) == 2.0
    assert study.scheme_width("deit", 3) == pytest.approx(1 / 8)
    with pytest.raises(VariantError, match=r"0-3"):
        study.study_widths("convnext", 4)
    with pytest.raises(VariantError, match=r"expected one of f, wr, convnext, deit"):
        study.study_widths("g", 0)


def test_benchmark_ids_and_regions_are_the_references(rows) -> None:
    published = {(r["benchmark_name"], r["region"]) for r in rows}
    assert published == {(b, r) for r, b in study.BENCHMARKS.items()}
    assert tuple(study.BENCHMARKS) == study.REGIONS
    assert study.REGIONS[-1] == study.BEHAVIORAL and study.REGIONS[:4] == study.NEURAL_REGIONS


def test_dataset_sizes_are_the_references(rows) -> None:
    full: dict[str, set[int]] = defaultdict(set)
    per_class: dict[str, set[int]] = defaultdict(set)  # n_samples / samples_per_class
    for r in rows:
        if r["is_pretrained"] == "True" or r["is_random"] == "True" or not r["n_samples"]:
            continue
        n = int(float(r["n_samples"]))
        if r["samples_per_class"] == "0":
            full[r["dataset"]].add(n)
        else:
            spc = int(r["samples_per_class"])
            per_class[r["dataset"]].add(n // spc if n % spc == 0 else -1)
    checked = 0
    for name, ds in study.DATASETS.items():
        if name == "cifar10":  # vvshub's test bed, not in the study's files
            assert (ds.n_classes, ds.n_images) == (10, 50_000)
            continue
        assert full[name] == {ds.n_images}, name
        if per_class[name]:  # the sets the study subsampled
            assert per_class[name] == {ds.n_classes}, name
            checked += 1
    assert checked == 7
    assert (study.DATASETS["imagenet"].n_classes, study.DATASETS["ecoset"].n_classes) == (
        1000,
        565,
    )
    assert set(study.SAMPLE_DATASETS) <= set(full)


def test_grid_is_the_references(rows) -> None:
    grid = [
        r
        for r in rows
        if r["arch"] in study.GRID_ARCHS
        and r["dataset"] in study.GRID_DATASETS
        and all(r[f] == "False" for f in ("is_pretrained", "is_random", "is_ssl", "is_adv"))
        and r["is_ablation"] == "False"
    ]
    assert {int(r["samples_per_class"]) for r in grid} == set(study.SAMPLES_PER_CLASS)
    assert {int(r["seed"]) for r in grid} == set(study.SEEDS)
    seeded = {int(r["samples_per_class"]) for r in grid if r["seed"] != "0"}
    assert seeded == set(study.SEEDED_SAMPLES_PER_CLASS)
    families = {r["arch"]: r["arch_family"] for r in grid}
    assert families == dict(study.ARCH_FAMILIES)


def test_scaled_architectures_and_families_are_the_references(rows) -> None:
    family_of = {r["arch"]: r["arch_family"] for r in rows}
    names = study.study_arch_names()
    assert set(names) <= set(family_of)
    published = {
        a for a in family_of if a.startswith(("resnetflexfilters", "convnextflex", "deitflex"))
    }
    assert set(names) == published
    for name in names:
        assert study.base_family(family_of[name]) != family_of[name]  # a Flex family
        assert family_of[name] in study.FLEX_FAMILIES


def test_zoo_and_ids_read_the_same_facts() -> None:
    from vvshub import ids, zoo
    from vvshub.zoo._registry import BASES

    assert list(BASES) == list(study.GRID_ARCHS)
    assert zoo.list_archs() == list(study.ALL_ARCHS)
    for key, scheme in study.SCHEMES.items():
        for k in scheme.trained:
            spec = ids.parse_arch(scheme.name(k))
            assert spec.width == study.scheme_width(key, k) and spec.base == scheme.base
