"""Subsets: seeded, nested, independent of global RNG; manifests that check themselves."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vvshub.errors import CorruptImageError, DatasetError, SubsetError
from vvshub.trainer import Manifest, draw_subset, manifest_sha256


def _ids(n_classes: int = 4, n: int = 30) -> dict[str, list[str]]:
    return {f"c{k}": [f"train/c{k}/{i:04d}.jpg" for i in range(n)] for k in range(n_classes)}


def test_same_seed_same_manifest_whatever_the_global_rng():
    import torch

    random.seed(1)
    np.random.seed(1)
    torch.manual_seed(1)
    a = draw_subset(_ids(), 7, seed=3)
    random.seed(99)
    np.random.seed(99)
    torch.manual_seed(99)
    np.random.random(1000)
    b = draw_subset(_ids(), 7, seed=3)
    assert a == b
    assert a.sha256 == b.sha256


def test_listing_order_does_not_matter():
    ids = _ids()
    shuffled = {c: list(reversed(v)) for c, v in reversed(list(ids.items()))}
    assert draw_subset(ids, 5, seed=0).images == draw_subset(shuffled, 5, seed=0).images


def test_seeds_differ_and_draws_are_without_replacement():
    a = draw_subset(_ids(), 10, seed=0)
    b = draw_subset(_ids(), 10, seed=1)
    assert a.sha256 != b.sha256
    for group in a.images:
        assert len(group) == len(set(group)) == 10
    assert a.n_samples == 40


def test_manifest_sha_is_sha256_of_the_sorted_ids():
    import hashlib

    m = draw_subset(_ids(), 3, seed=0)
    expected = hashlib.sha256(("\n".join(sorted(m.image_ids)) + "\n").encode()).hexdigest()
    assert m.sha256 == expected == manifest_sha256(list(reversed(m.image_ids)))


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    small=st.integers(1, 20),
    extra=st.integers(0, 20),
    sizes=st.lists(st.integers(40, 60), min_size=1, max_size=5),
)
def test_subsets_are_nested(seed, small, extra, sizes):
    ids = {f"k{j}": [f"k{j}/{i}" for i in range(n)] for j, n in enumerate(sizes)}
    a = draw_subset(ids, small, seed=seed)
    b = draw_subset(ids, small + extra, seed=seed)
    for ga, gb in zip(a.images, b.images, strict=True):
        assert gb[: len(ga)] == ga


def test_full_data_takes_every_image():
    m = draw_subset(_ids(n=9), 0, seed=0)
    assert sorted(m.image_ids) == sorted(i for v in _ids(n=9).values() for i in v)


def test_a_short_class_is_named_with_its_count():
    ids = _ids()
    ids["c2"] = ids["c2"][:4]
    with pytest.raises(SubsetError, match=r"class 'c2' has only 4 usable images") as info:
        draw_subset(ids, 5, seed=0)
    assert (info.value.class_name, info.value.available, info.value.requested) == ("c2", 4, 5)


def test_corrupt_images_are_skipped_counted_and_replaced():
    bad = set(draw_subset(_ids(), 3, seed=0).images[1][:2])

    def usable(image_id: str) -> bool:
        if image_id in bad:
            raise CorruptImageError(f"bad {image_id}", image_id=image_id)
        return True

    m = draw_subset(_ids(), 3, seed=0, usable=usable)
    assert set(m.skipped) == bad
    assert all(len(g) == 3 for g in m.images)
    assert not bad & set(m.image_ids)
    # nested still: the good ones of the clean draw come first
    clean = draw_subset(_ids(), 5, seed=0)
    assert m.images[1] == tuple(i for i in clean.images[1] if i not in bad)[:3]
    with pytest.raises(CorruptImageError):
        draw_subset(_ids(), 3, seed=0, usable=usable, corrupt="error")


def test_too_many_corrupt_images_make_the_class_short():
    ids = _ids(n=5)

    def usable(image_id: str) -> bool:
        if image_id.startswith("train/c0/") and not image_id.endswith("0000.jpg"):
            raise CorruptImageError("bad")
        return True

    with pytest.raises(SubsetError, match=r"'c0' has only 1 usable image \(4 more could not"):
        draw_subset(ids, 2, seed=0, usable=usable)


def test_manifest_round_trips_and_refuses_tampering(tmp_path):
    m = draw_subset(_ids(), 4, seed=2, dataset="x.zip", dataset_name="x")
    path = m.save(tmp_path / "manifest.json")
    assert Manifest.load(path) == m
    data = m.to_dict()
    data["images"]["c0"] = data["images"]["c0"][:-1]
    with pytest.raises(DatasetError, match="does not match"):
        Manifest.from_dict(data)


def test_bad_samples_per_class():
    with pytest.raises(SubsetError, match="positive integer"):
        draw_subset(_ids(), -1, seed=0)
