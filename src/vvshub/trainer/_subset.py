"""Seeded, nested per-class subsets and the manifest that records them.

The study drew its subsets from a global RNG and never saved them; vvshub draws them
from a generator of their own and writes the exact list of image ids down.

How a subset is drawn: each class's image ids are sorted, then shuffled by a PCG64
generator seeded with ``(seed, sha256(class name))``. That order does not depend on
global RNG state, on ``d``, or on the other classes; the subset for ``d`` is the first
``d`` usable images of it. So a subset for ``d`` is a prefix of the one for any larger
``d`` with the same seed (data scaling is nested), and the same seed and the same data
give the same manifest on any machine.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from vvshub.errors import CorruptImageError, DatasetError, SubsetError

__all__ = ["Manifest", "class_order", "draw_subset", "manifest_sha256"]

CorruptPolicy = Literal["skip", "error"]
MANIFEST_VERSION = 1


def _class_seed(seed: int, class_name: str) -> list[int]:
    digest = hashlib.sha256(class_name.encode("utf-8")).digest()
    return [int(seed), int.from_bytes(digest[:8], "little")]


def class_order(ids: Sequence[str], *, seed: int, class_name: str) -> list[str]:
    """One class's image ids in the seeded order subsets are taken from.

    Args:
        ids: the class's image ids (any order; they are sorted first).
        seed: the subset seed.
        class_name: the class (mixed into the generator's seed).

    Returns:
        The ids, permuted; a subset of d images is a prefix of this list.

    Example:
        >>> class_order(["a", "b", "c"], seed=0, class_name="x") == class_order(
        ...     ["c", "a", "b"], seed=0, class_name="x")
        True
    """
    import numpy as np

    ordered = sorted(ids)
    rng = np.random.Generator(
        np.random.PCG64(np.random.SeedSequence(_class_seed(seed, class_name)))
    )
    return [ordered[i] for i in rng.permutation(len(ordered))]


def manifest_sha256(image_ids: Sequence[str]) -> str:
    """sha256 of the sorted image ids as a text file: one id per line, UTF-8, ``\\n`` after each.

    That file is what the hub publishes beside the weights (``data_manifest.txt``), so
    ``sha256sum data_manifest.txt`` reproduces this value.

    Example:
        >>> manifest_sha256(["b", "a"]) == manifest_sha256(["a", "b"])
        True
    """
    return hashlib.sha256(manifest_text(image_ids).encode("utf-8")).hexdigest()


def manifest_text(image_ids: Sequence[str]) -> str:
    """The sorted image ids, one per line (the text :func:`manifest_sha256` hashes)."""
    return "".join(f"{i}\n" for i in sorted(image_ids))


@dataclass(frozen=True, kw_only=True)
class Manifest:
    """The exact training images of a run.

    Attributes:
        dataset: the data set spec the images came from.
        dataset_name: its short name in model ids.
        samples_per_class: images per class (0: every image).
        seed: the subset seed.
        classes: class names in label order.
        images: per class (in label order), the chosen ids in draw order.
        skipped: ids passed over because they could not be decoded (``--corrupt skip``).
        sha256: :func:`manifest_sha256` of every chosen id.
    """

    dataset: str
    dataset_name: str
    samples_per_class: int
    seed: int
    classes: tuple[str, ...]
    images: tuple[tuple[str, ...], ...]
    skipped: tuple[str, ...] = ()
    sha256: str = field(default="")

    def __post_init__(self) -> None:
        if len(self.images) != len(self.classes):
            raise DatasetError(
                f"manifest lists {len(self.images)} image groups for {len(self.classes)} classes"
            )
        digest = manifest_sha256(self.image_ids)
        if self.sha256 and self.sha256 != digest:
            raise DatasetError(
                f"manifest sha256 {self.sha256!r} does not match its images ({digest!r}); "
                "the file was edited or truncated"
            )
        object.__setattr__(self, "sha256", digest)

    @property
    def image_ids(self) -> list[str]:
        """Every chosen id, class by class."""
        return [i for group in self.images for i in group]

    @property
    def n_samples(self) -> int:
        """Number of training images."""
        return sum(len(g) for g in self.images)

    def labelled(self) -> list[tuple[str, int]]:
        """``(image_id, label)`` pairs, class by class."""
        return [(i, label) for label, group in enumerate(self.images) for i in group]

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (the manifest file)."""
        return {
            "version": MANIFEST_VERSION,
            "dataset": self.dataset,
            "dataset_name": self.dataset_name,
            "samples_per_class": self.samples_per_class,
            "seed": self.seed,
            "n_samples": self.n_samples,
            "sha256": self.sha256,
            "classes": list(self.classes),
            "images": {c: list(g) for c, g in zip(self.classes, self.images, strict=True)},
            "skipped": list(self.skipped),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Manifest:
        """Inverse of :meth:`to_dict` (checks the sha256)."""
        classes = tuple(data["classes"])
        return cls(
            dataset=data["dataset"],
            dataset_name=data["dataset_name"],
            samples_per_class=int(data["samples_per_class"]),
            seed=int(data["seed"]),
            classes=classes,
            images=tuple(tuple(data["images"][c]) for c in classes),
            skipped=tuple(data.get("skipped", ())),
            sha256=data.get("sha256", ""),
        )

    def save(self, path: str | Path) -> Path:
        """Write the manifest as JSON, atomically."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(self.to_dict(), indent=1) + "\n")
        os.replace(tmp, path)
        return path

    @classmethod
    def load(cls, path: str | Path) -> Manifest:
        """Read a manifest written by :meth:`save`."""
        return cls.from_dict(json.loads(Path(path).read_text()))


def draw_subset(
    ids_by_class: Mapping[str, Sequence[str]],
    samples_per_class: int,
    *,
    seed: int,
    classes: Sequence[str] | None = None,
    dataset: str = "",
    dataset_name: str = "",
    usable: Callable[[str], bool] | None = None,
    corrupt: CorruptPolicy = "skip",
) -> Manifest:
    """Draw ``samples_per_class`` images of every class, seeded and nested.

    Args:
        ids_by_class: image ids of the train split by class name.
        samples_per_class: d, or 0 for every image.
        seed: subset seed (independent of global RNG state).
        classes: class names in label order (default: sorted keys of ``ids_by_class``).
        dataset: the data set spec, recorded in the manifest.
        dataset_name: the data set's short name.
        usable: called on each candidate in draw order; a ``CorruptImageError`` it raises
            marks the image unreadable (then skipped under ``corrupt="skip"``, re-raised under
            ``"error"``). ``None`` takes every id as usable.
        corrupt: ``skip`` (pass over unreadable images, count them in ``skipped``, and take the
            next one in the seeded order, so every class still gets d) or ``error``.

    Raises:
        SubsetError: a class has fewer than d usable images; the message names it and its count.
        CorruptImageError: an unreadable image under ``corrupt="error"``.

    Example:
        >>> ids = {"cat": [f"cat/{i}" for i in range(5)], "dog": [f"dog/{i}" for i in range(5)]}
        >>> small = draw_subset(ids, 2, seed=0)
        >>> large = draw_subset(ids, 4, seed=0)
        >>> all(l[:2] == s for s, l in zip(small.images, large.images))
        True
    """
    if corrupt not in ("skip", "error"):
        raise DatasetError(f"corrupt policy must be 'skip' or 'error', got {corrupt!r}")
    if not isinstance(samples_per_class, int) or samples_per_class < 0:
        raise SubsetError(
            f"samples per class must be a positive integer (or 0 / 'full' for every image), "
            f"got {samples_per_class!r}",
            path=dataset,
        )
    classes = tuple(classes) if classes is not None else tuple(sorted(ids_by_class))
    missing = [c for c in classes if not ids_by_class.get(c)]
    if missing:
        raise SubsetError(
            f"class {missing[0]!r} has 0 images in the train split of {dataset or 'the data set'}",
            path=dataset,
            class_name=missing[0],
            available=0,
            requested=samples_per_class,
        )
    images: list[tuple[str, ...]] = []
    skipped: list[str] = []
    for name in classes:
        ids = ids_by_class[name]
        d = samples_per_class or len(ids)
        if samples_per_class and len(ids) < samples_per_class:
            _short(name, len(ids), samples_per_class, dataset)
        chosen: list[str] = []
        for image_id in class_order(ids, seed=seed, class_name=name):
            if len(chosen) == d:
                break
            if usable is not None:
                try:
                    usable(image_id)
                except CorruptImageError:
                    if corrupt == "error":
                        raise
                    skipped.append(image_id)
                    continue
            chosen.append(image_id)
        if samples_per_class and len(chosen) < samples_per_class:
            _short(name, len(chosen), samples_per_class, dataset, corrupt=len(ids) - len(chosen))
        images.append(tuple(chosen))
    return Manifest(
        dataset=dataset,
        dataset_name=dataset_name,
        samples_per_class=samples_per_class,
        seed=int(seed),
        classes=classes,
        images=tuple(images),
        skipped=tuple(skipped),
    )


def _short(name: str, have: int, want: int, dataset: str, *, corrupt: int = 0) -> None:
    why = f" ({corrupt} more could not be decoded)" if corrupt else ""
    raise SubsetError(
        f"class {name!r} has only {have} usable image{'s' if have != 1 else ''}{why} but "
        f"--samples-per-class is {want}; use --samples-per-class {have} or less, or add images",
        path=dataset,
        class_name=name,
        available=have,
        requested=want,
    )
