"""Torch datasets over a manifest: decoded once and kept in memory when small, else read lazily.

Small subsets (the study's 1-300 images per class) are decoded once into uint8 arrays,
so loading is never the bottleneck; a subset whose decoded pixels exceed
``TrainConfig.cache_gb`` is read and decoded per item (use DataLoader workers then).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from vvshub.errors import CorruptImageError
from vvshub.trainer._augment import seed_pipeline
from vvshub.trainer._subset import CorruptPolicy, Manifest, draw_subset

if TYPE_CHECKING:
    import numpy as np

    from vvshub.trainer._data import DataSource

__all__ = ["ImageSet", "labelled", "load_split"]

logger = logging.getLogger(__name__)

try:  # a plain base class when torch is missing keeps this module importable
    from torch.utils.data import Dataset as _Dataset
except ImportError:  # pragma: no cover
    _Dataset = object  # type: ignore[assignment,misc]


class ImageSet(_Dataset):  # type: ignore[misc]
    """Labelled images of one split, augmented per item with a seeded pipeline.

    Items are ``(image, label)``: image a float32 tensor (3, H, W), label an int.

    Args:
        source: where lazily read images come from.
        items: ``(image_id, label)`` pairs.
        pipeline: an albumentations ``Compose`` ending in ``Normalize``.
        seed: mixed with the epoch and the item index into the pipeline's seed.
        images: the decoded images, aligned with ``items`` (``None``: read lazily).
        corrupt: policy for unreadable images met lazily (``skip``: the next item stands in).
    """

    def __init__(
        self,
        source: DataSource,
        items: Sequence[tuple[str, int]],
        pipeline: Any,
        *,
        seed: int,
        images: Sequence[np.ndarray] | None = None,
        corrupt: CorruptPolicy = "skip",
    ) -> None:
        self.source = source
        self.items = list(items)
        self.pipeline = pipeline
        self.seed = seed
        self.images = images
        self.corrupt = corrupt
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Augmentations of epoch ``epoch`` (call before iterating; workers see it too)."""
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.items)

    @property
    def labels(self) -> list[int]:
        """The label of every item."""
        return [label for _, label in self.items]

    def _image(self, index: int) -> np.ndarray:
        if self.images is not None:
            return self.images[index]
        for offset in range(len(self.items)):
            image_id = self.items[(index + offset) % len(self.items)][0]
            try:
                return self.source.load(image_id)
            except CorruptImageError:
                if self.corrupt == "error":
                    raise
                logger.warning("skipping unreadable image %s", image_id)
        raise CorruptImageError(f"no readable image in {self.source.spec!r}", path=self.source.spec)

    def __getitem__(self, index: int) -> tuple[Any, int]:
        import torch

        seed_pipeline(self.pipeline, self.seed, self.epoch, index)
        out = self.pipeline(image=self._image(index))["image"]
        return torch.from_numpy(out).permute(2, 0, 1), self.items[index][1]


def labelled(manifest: Manifest, classes: Sequence[str]) -> list[tuple[str, int]]:
    """``(image_id, label)`` pairs of a manifest, labels by position in ``classes`` (the train
    split's class order, which a val split missing some classes must still follow)."""
    index = {c: i for i, c in enumerate(classes)}
    return [
        (image_id, index[c])
        for c, group in zip(manifest.classes, manifest.images, strict=True)
        for image_id in group
    ]


def load_split(
    source: DataSource,
    split: str,
    samples_per_class: int,
    *,
    seed: int,
    corrupt: CorruptPolicy,
    cache_gb: float,
) -> tuple[Manifest, list[np.ndarray] | None]:
    """Draw the subset of ``split`` and decode it into memory when it fits.

    Args:
        source: the data set.
        split: ``train`` or ``val``.
        samples_per_class: d (0: every image).
        seed: subset seed.
        corrupt: ``skip`` or ``error`` for unreadable images.
        cache_gb: decode into memory when the estimated decoded size is at most this.

    Returns:
        The manifest and the decoded images in manifest order (``None`` when read lazily;
        unreadable images are then only found, and skipped, when first read).
    """
    ids_by_class = source.ids_by_class(split)
    classes = [c for c in source.classes if c in ids_by_class] if split != "train" else None
    n_total = sum(
        min(len(v), samples_per_class) if samples_per_class else len(v)
        for v in ids_by_class.values()
    )
    cache = _fits(source, ids_by_class, n_total, cache_gb)
    decoded: dict[str, np.ndarray] = {}

    def usable(image_id: str) -> bool:
        decoded[image_id] = source.load(image_id)
        return True

    if cache:
        logger.info("decoding %d %s images into memory", n_total, split)
    manifest = draw_subset(
        ids_by_class,
        samples_per_class,
        seed=seed,
        classes=classes if classes is not None else source.classes,
        dataset=source.fingerprint(),
        dataset_name=source.name,
        usable=usable if cache else None,
        corrupt=corrupt,
    )
    if not cache:
        return manifest, None
    return manifest, [decoded[i] for i in manifest.image_ids]


def _fits(source: DataSource, ids_by_class: dict[str, list[str]], n: int, cache_gb: float) -> bool:
    if cache_gb <= 0 or n == 0:
        return False
    sample = next(iter(ids_by_class.values()))[:4]
    sizes = []
    for image_id in sample:
        try:
            sizes.append(source.load(image_id).nbytes)
        except CorruptImageError:
            continue
    per_image = max(sizes) if sizes else 3 * 256 * 256
    return per_image * n <= cache_gb * 2**30
